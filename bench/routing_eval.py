"""Department routing quality on held-out citizen requests (docs: `make bench-routing`).

Trains the router on the shipped examples (routing/data/training.yml and letters.yml),
classifies bench/data/routing_eval.yml (written separately, never trained on) and prints
accuracy and macro-F1 per language, the most frequent confusions, how often the assistant would
ask the citizen to choose (confidence below the calibrated threshold, or
GOV_ROUTING_MIN_CONFIDENCE when set) and how accurate the confident answers and the offered
buttons are, plus training and per-request time.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import yaml
from sklearn.metrics import accuracy_score, f1_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing.classifier import DepartmentRouter, load_examples

EVAL_SET = Path(__file__).resolve().parent / "data" / "routing_eval.yml"


def main() -> None:
    requests = yaml.safe_load(EVAL_SET.read_text(encoding="utf-8"))["requests"]
    examples = load_examples()
    started = time.perf_counter()
    router = DepartmentRouter().fit(examples)
    trained = time.perf_counter() - started
    threshold = round(router.threshold, 2)

    rankings, timings = [], []
    for request in requests:
        started = time.perf_counter()
        rankings.append(router.rank(request["text"], 3))
        timings.append(time.perf_counter() - started)
    gold = [request["department"] for request in requests]
    predicted = [ranking[0].department for ranking in rankings]
    confident = [not router.should_ask(ranking) for ranking in rankings]

    print(f"training examples: {len(examples)}; held-out requests: {len(requests)}; "
          f"training time {trained:.1f} s")
    print(f"{'group':8} {'n':>4} {'accuracy':>9} {'macro-F1':>9} {'top-3':>6}")
    for language in ("zh", "en", "all"):
        rows = [i for i, r in enumerate(requests) if language in ("all", r["language"])]
        g, p = [gold[i] for i in rows], [predicted[i] for i in rows]
        top3 = np.mean([gold[i] in [c.department for c in rankings[i]] for i in rows])
        print(f"{language:8} {len(rows):>4} {accuracy_score(g, p):>9.3f} "
              f"{f1_score(g, p, average='macro', zero_division=0):>9.3f} {top3:>6.3f}")

    sure = [i for i, ok in enumerate(confident) if ok]
    unsure = [i for i, ok in enumerate(confident) if not ok]
    offered = [gold[i] in [c.department for c in rankings[i]] for i in unsure]
    print(f"\nconfidence threshold {threshold}: routed directly {len(sure)} "
          f"({len(sure) / len(requests):.0%}), accuracy "
          f"{np.mean([gold[i] == predicted[i] for i in sure]):.3f}; "
          f"asked to choose {len(unsure)}, right department among the buttons "
          f"{np.mean(offered) if offered else 1.0:.3f}")
    end_to_end = np.mean([gold[i] == predicted[i] if confident[i] else
                          gold[i] in [c.department for c in rankings[i]]
                          for i in range(len(requests))])
    print(f"requests that end at the right department (citizen picks the right button): "
          f"{end_to_end:.3f}")

    print("\nmost frequent confusions (gold -> predicted):")
    confusions = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    for (g, p), n in confusions.most_common(12):
        print(f"  {n:>2}  {g} -> {p}")
    latency = np.array(timings) * 1000
    print(f"\nper request: p50 {np.percentile(latency, 50):.1f} ms, "
          f"p95 {np.percentile(latency, 95):.1f} ms, p99 {np.percentile(latency, 99):.1f} ms")


if __name__ == "__main__":
    main()
