"""What the assistant does with real citizens' messages (docs/benchmarks.md: `make bench-real`).

Reads the real-language data from ../shared/data/real/ relative to the project root (never
copied into the repository; only aggregate figures are printed). Sections:

- `routing`: category-level routing on tipdm_labelled.jsonl (a provincial message board's
  messages, 7 first-level categories; mapping from the data's README), two ways:
  (a) the model trained on the shipped examples only;
  (b) 5-fold "with imported history": each fold's 4/5 goes through the importer's own reading,
      masking and mapping code (`routing.history`) and `routing.importer.train_router`, together
      with the shipped examples; the model is tested on the remaining 1/5.
  For each: accuracy, macro-F1, expected calibration error, the share routed without asking
  and its accuracy, the most frequent confusions (strict mapping; lenient accuracy beside it).
- `replies`: reserved for the first-reply measurement of the request flow (same data, through
  Rasa); a section is a function taking the data folder, registered in SECTIONS.

`python bench/real_eval.py [--only routing|shipped]` (`shipped`: (a) alone, with each
category's share right; a few minutes, against ~25 for both).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing.history import apply_mapping, read_history, read_mapping
from routing.importer import (
    Evaluation,
    Featurizer,
    base_examples,
    catalogue_departments,
    evaluate,
    folds,
    predict,
    routed_without_asking,
    train_router,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = PROJECT_ROOT.parent / "shared" / "data" / "real"
LABELLED = "tipdm_labelled.jsonl"
# The data README's category -> department table (strict), and the departments a lenient
# reading also accepts for a category.
CATEGORY_DEPARTMENT = {
    "劳动和社会保障": "human_resources_social_security",
    "城乡建设": "housing_urban_rural",
    "教育文体": "education",
    "卫生计生": "health",
    "交通运输": "transport",
    "商贸旅游": "commerce_tourism",
    "环境保护": "ecology_environment",
}
LENIENT = {"urban_management": "城乡建设", "natural_resources": "城乡建设",
           "housing_provident_fund": "城乡建设", "market_regulation": "商贸旅游"}
TARGETS = {"shipped accuracy": 0.80, "history accuracy": 0.88, "routed accuracy": 0.95,
           "ECE": 0.05}


def strict(department: str) -> str:
    return {d: c for c, d in CATEGORY_DEPARTMENT.items()}.get(department, f"({department})")


def lenient(department: str) -> str:
    return LENIENT.get(department) or strict(department)


def _print(title: str, evaluation: Evaluation, lenient_accuracy: float) -> None:
    print(f"\n{title}")
    print(f"  accuracy {evaluation.accuracy:.3f} (lenient {lenient_accuracy:.3f})  "
          f"macro-F1 {evaluation.macro_f1:.3f}  ECE {evaluation.ece:.3f}")
    print(f"  routed without asking {evaluation.routed_share:.0%}, right among them "
          f"{evaluation.routed_accuracy:.3f}")
    print("  most frequent confusions (category -> routed to):")
    for gold, routed, count in evaluation.confusions[:8]:
        print(f"    {count:>4}  {gold} -> {routed}")


def _labelled(data: Path) -> tuple[list[dict], list[str], list[str], dict] | None:
    """The labelled messages read as an operator's import reads them (subject + details
    joined, masked): rows, texts, gold departments, and the category mapping."""
    path = data / LABELLED
    if not path.exists():
        print(f"[routing] {path} not present, skipped")
        return None
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    print(f"[routing] {len(rows)} labelled real messages, 7 categories")
    with tempfile.TemporaryDirectory() as scratch:
        mapping_file = Path(scratch) / "mapping.yml"
        mapping_file.write_text(yaml.safe_dump(CATEGORY_DEPARTMENT, allow_unicode=True),
                                encoding="utf-8")
        mapping = read_mapping(mapping_file, catalogue_departments())
    everything = apply_mapping(read_history(path), mapping)
    assert len(everything) == len(rows), "every labelled message has a text and a category"
    return rows, [text for text, _ in everything], [d for _, d in everything], mapping


def shipped_section(data: Path, featurize: Featurizer | None = None) -> None:
    """(a) alone: the model trained on the shipped examples, with each category's share right
    (a few minutes; `--only shipped`)."""
    labelled = _labelled(data)
    if labelled is None:
        return
    _, texts, gold, _ = labelled
    featurize = featurize or Featurizer()
    started = time.perf_counter()
    shipped = train_router([], featurize, base_examples(), description="shipped examples")
    probabilities = predict(shipped, featurize, texts)
    print(f"(features and training: {time.perf_counter() - started:.0f} s; ask below "
          f"{shipped.threshold:.2f})")
    _report("(a) shipped model", shipped.departments, probabilities, gold,
            routed_without_asking(shipped, probabilities))
    pairs = [(strict(g), strict(shipped.departments[i]))
             for g, i in zip(gold, probabilities.argmax(axis=1), strict=True)]
    print("  right per category: " + ", ".join(
        f"{category} {sum(g == r == category for g, r in pairs)}"
        f"/{sum(g == category for g, _ in pairs)}" for category in CATEGORY_DEPARTMENT))


def routing_section(data: Path) -> None:
    labelled = _labelled(data)
    if labelled is None:
        return
    rows, texts, gold, mapping = labelled
    featurize = Featurizer()
    base = base_examples()
    shipped_section(data, featurize)
    with tempfile.TemporaryDirectory() as scratch:
        names = sorted(catalogue_departments())
        pooled = np.zeros((len(gold), len(names)))
        routed = np.zeros(len(gold), dtype=bool)
        labels = [CATEGORY_DEPARTMENT[row["category"]] for row in rows]
        for number, (train, held) in enumerate(folds(labels)):
            fold_file = Path(scratch) / f"fold{number}.jsonl"
            fold_file.write_text("".join(json.dumps(rows[i], ensure_ascii=False) + "\n"
                                         for i in train), encoding="utf-8")
            history = apply_mapping(read_history(fold_file), mapping)
            router = train_router(history, featurize, base)
            fold_probabilities = predict(router, featurize, [texts[i] for i in held])
            for column, name in enumerate(router.departments):
                pooled[held, names.index(name)] = fold_probabilities[:, column]
            routed[held] = routed_without_asking(router, fold_probabilities)
        _report("(b) 5-fold with imported history (4/5 + shipped examples, tested on 1/5)",
                names, pooled, gold, routed)


def _report(title: str, names: list[str], probabilities: np.ndarray, gold: list[str],
            routed: np.ndarray) -> None:
    evaluation = evaluate(names, probabilities, gold, routed, group=strict)
    relaxed = evaluate(names, probabilities, gold, routed, group=lenient)
    _print(title, evaluation, relaxed.accuracy)


# Each section takes the real-data folder and prints its own figures (or a "skipped" line).
SECTIONS: dict[str, Callable[[Path], None]] = {"routing": routing_section,
                                               "shipped": shipped_section}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append")
    parser.add_argument("--data", type=Path, default=REAL_DATA)
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"real data folder {args.data} not present, skipped")
        return
    for name in args.only or ["routing"]:  # routing runs the shipped part too
        SECTIONS[name](args.data)
    print("\ntargets: " + ", ".join(f"{k} {'<=' if k == 'ECE' else '>='} {v}"
                                   for k, v in TARGETS.items()))


if __name__ == "__main__":
    main()
