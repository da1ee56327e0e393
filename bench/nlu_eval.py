"""NLU accuracy on the held-out test set, per language.

Run in the Rasa environment (docs: `make bench-nlu`). Prints intent accuracy and macro-F1
per language (by `bot.text.detect_language` of each example) and how well out-of-scope input
reaches the fallback: a message counts as "fallback" when its intent is `out_of_scope` or the
FallbackClassifier's `nlu_fallback`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from bot.text import detect_language

FALLBACK_INTENTS = {"out_of_scope", "nlu_fallback"}
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def load_examples(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = []
    for block in data["nlu"]:
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append((_ANNOTATION.sub(r"\1", line[2:].strip()), block["intent"]))
    return examples


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    labels = {gold for gold, _ in pairs}
    scores = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores)


def fallback_scores(pairs: list[tuple[str, str]]) -> tuple[float, float]:
    predicted = [(g, p in FALLBACK_INTENTS) for g, p in pairs]
    tp = sum(1 for g, fb in predicted if fb and g == "out_of_scope")
    fp = sum(1 for g, fb in predicted if fb and g != "out_of_scope")
    fn = sum(1 for g, fb in predicted if not fb and g == "out_of_scope")
    return (tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0)


async def predict(model: Path, texts: list[str]) -> tuple[list[str], float]:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    started = time.perf_counter()
    intents = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intents.append(parsed["intent"]["name"])
    return intents, (time.perf_counter() - started) / max(len(texts), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--test-set", type=Path, default=Path("tests/data/nlu_holdout.yml"))
    parser.add_argument("--errors", action="store_true", help="list every misclassified example")
    args = parser.parse_args()

    examples = load_examples(args.test_set)
    predictions, seconds_per_message = asyncio.run(predict(args.model, [t for t, _ in examples]))
    by_language: dict[str, list[tuple[str, str]]] = defaultdict(list)
    errors = []
    for (text, gold), predicted in zip(examples, predictions, strict=True):
        language = detect_language(text).language or "en"
        by_language[language].append((gold, predicted))
        if gold != predicted:
            errors.append((language, gold, predicted, text))

    print(f"model: {args.model.name}   test set: {args.test_set} ({len(examples)} examples)")
    print(f"{'lang':<6}{'n':>5}{'accuracy':>10}{'macro-F1':>10}{'OOS prec':>10}{'OOS rec':>9}")
    for language in sorted(by_language):
        pairs = by_language[language]
        accuracy = sum(g == p for g, p in pairs) / len(pairs)
        precision, recall = fallback_scores(pairs)
        print(f"{language:<6}{len(pairs):>5}{accuracy:>10.3f}{macro_f1(pairs):>10.3f}"
              f"{precision:>10.3f}{recall:>9.3f}")
    all_pairs = [pair for pairs in by_language.values() for pair in pairs]
    precision, recall = fallback_scores(all_pairs)
    accuracy = sum(g == p for g, p in all_pairs) / len(all_pairs)
    print(f"{'all':<6}{len(all_pairs):>5}{accuracy:>10.3f}{macro_f1(all_pairs):>10.3f}"
          f"{precision:>10.3f}{recall:>9.3f}")
    print(f"parse time: {seconds_per_message * 1000:.1f} ms/message (in-process, sequential)")
    confusions = Counter((g, p) for _, g, p, _ in errors)
    print("top confusions (gold -> predicted):",
          ", ".join(f"{g}->{p} x{n}" for (g, p), n in confusions.most_common(8)))
    if args.errors:
        for language, gold, predicted, text in errors:
            print(f"  [{language}] {gold:>26} -> {predicted:<26} {text}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
