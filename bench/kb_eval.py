"""Knowledge-base retrieval quality and speed (docs/benchmarks.md: `make bench-kb`).

Quality: builds the index from the shipped sample KB in a temporary folder and runs the
evaluation set (`bench/data/kb_eval.yml`): Recall@1, Recall@5 and MRR by group (zh, en,
cross-lingual, Traditional, typos, colloquial), no-answer precision/recall at the configured
threshold, and the same for dense-only and BM25-only retrieval. A threshold sweep shows where
"I don't know" starts costing real answers. "answer or decline" puts the old decision (cosine
>= GOV_KB_MIN_SCORE) next to the fitted answerability classifier the assistant uses
(knowledge_base/answerability.py; fitted by bench/fit_answerability.py on its own training
questions, never on this evaluation set), its threshold-free average precision of declining
and a sweep of its threshold, then, for each outcome of the classifier's decision, the mean of
each of its features (why it errs). "section quoted": of the answers from the right
document, the share quoting the section that answers (`gold_section`), by what the question
asks for (knowledge_base/aspects.py).

Speed: query latency p50/p99 at 1k and 50k chunks (synthetic copies of the sample chunks),
index build throughput, and resident memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge_base.answerability import FEATURES, HITS_NEEDED, features
from knowledge_base.aspects import question_aspect
from knowledge_base.config import KnowledgeBaseSettings
from knowledge_base.documents import Document, Section
from knowledge_base.embedding import load_embedder
from knowledge_base.index import build_version
from knowledge_base.search import CONTEXT_MARGIN, MODES, Searcher, choose, contextual_query
from knowledge_base.service import KnowledgeBase

EVAL_SET = Path(__file__).resolve().parent / "data" / "kb_eval.yml"
FOLLOWUP_SET = Path(__file__).resolve().parent / "data" / "kb_followups.yml"
FOLLOWUP_MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
STAFF_LOOP_SEEDS = (16, 17)


def load_eval(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]


def rank_of(hits, gold: str) -> int | None:
    for rank, hit in enumerate(hits, start=1):
        if hit.doc_id == gold:
            return rank
    return None


def groups_of(item: dict) -> list[str]:
    groups = ["all", item["language"]]
    groups += item.get("tags", [])
    return groups


def evaluate(searcher: Searcher, questions: list[dict], mode: str, threshold: float) -> None:
    stats: dict[str, list] = defaultdict(list)
    no_answer = {"tp": 0, "fp": 0, "fn": 0}
    for item in questions:
        hits = searcher.search(item["question"], language=item["language"], limit=5, mode=mode)
        gold = item.get("gold_doc")
        declined = not hits or hits[0].similarity < threshold
        if gold is None:
            no_answer["tp" if declined else "fn"] += 1
            continue
        if declined:
            no_answer["fp"] += 1
        rank = rank_of(hits, gold)
        for group in groups_of(item):
            stats[group].append(rank)
    print(f"\n[{mode}]  {'group':<14}{'n':>5}{'R@1':>8}{'R@5':>8}{'MRR':>8}")
    for group in sorted(stats, key=lambda g: (g != "all", g)):
        ranks = stats[group]
        r1 = sum(1 for r in ranks if r == 1) / len(ranks)
        r5 = sum(1 for r in ranks if r and r <= 5) / len(ranks)
        mrr = sum(1 / r for r in ranks if r) / len(ranks)
        print(f"        {group:<14}{len(ranks):>5}{r1:>8.3f}{r5:>8.3f}{mrr:>8.3f}")
    declined = no_answer["tp"] + no_answer["fp"]
    precision = no_answer["tp"] / declined if declined else 0.0
    recall = no_answer["tp"] / (no_answer["tp"] + no_answer["fn"]) or 0.0
    print(f"        no-answer @ {threshold:.2f}: precision {precision:.3f}  recall {recall:.3f}  "
          f"(declined {declined}, of which answerable {no_answer['fp']})")


def sweep(searcher: Searcher, questions: list[dict]) -> None:
    scored = []
    for item in questions:
        hits = searcher.search(item["question"], language=item["language"], limit=1)
        top = hits[0] if hits else None
        correct = top is not None and top.doc_id == item.get("gold_doc")
        scored.append((top.similarity if top else 0.0, item.get("gold_doc") is None, correct))
    print("\nthreshold sweep (hybrid): threshold  no-ans-prec  no-ans-rec  answered-correct")
    for threshold in np.arange(0.25, 0.601, 0.025):
        declined = [s for s in scored if s[0] < threshold]
        tp = sum(1 for s in declined if s[1])
        unanswerable = sum(1 for s in scored if s[1])
        answered = [s for s in scored if s[0] >= threshold]
        correct = sum(1 for s in answered if s[2]) / len(answered) if answered else 0.0
        print(f"  {threshold:.2f}  {tp / len(declined) if declined else 0:.3f}  "
              f"{tp / unanswerable if unanswerable else 0:.3f}  {correct:.3f}")


def decisions(searcher: Searcher, questions: list[dict]) -> None:
    """Old cosine threshold vs the answerability classifier, on the same hybrid results."""
    model = searcher.answerability
    rows, signals, confidences = [], [], []
    for item in questions:
        answer = searcher.answer(item["question"], item["language"], limit=1)
        best = answer.best
        confidences.append(answer.confidence)
        rows.append((item.get("gold_doc") is None,
                     best is not None and best.doc_id == item.get("gold_doc"),
                     best is None or best.similarity < searcher.settings.min_score,
                     not answer.answered, "cross" in item.get("tags", [])))
        if model is not None:
            hits = searcher.found(item["question"], item["language"], HITS_NEEDED)
            signals.append(features(item["question"], item["language"], hits))
    print("\nanswer or decline (hybrid):      no-ans-prec  no-ans-rec  declined  "
          "answerable-declined  answered-correct")
    labels = [f"cosine >= {searcher.settings.min_score:.2f} (old)"]
    if model is not None:
        threshold = (searcher.settings.min_confidence if searcher.settings.min_confidence
                     is not None else model.threshold)
        labels.append(f"answerability >= {threshold:.3f}")
    for column, label in enumerate(labels, start=2):
        declined = [r for r in rows if r[column]]
        answered = [r for r in rows if not r[column]]
        tp = sum(1 for r in declined if r[0])
        unanswerable = sum(1 for r in rows if r[0])
        precision = tp / len(declined) if declined else 0.0
        correct = sum(1 for r in answered if r[1]) / len(answered) if answered else 0.0
        print(f"  {label:<30}{precision:>11.3f}{tp / unanswerable:>12.3f}{len(declined):>10}"
              f"{len(declined) - tp:>21}{correct:>18.3f}")
    cross = [r for r in rows if r[4]]
    if cross:
        cells = "  ".join(f"{label.split(' (')[0]}: {sum(r[1] and not r[c] for r in cross)}"
                          for c, label in enumerate(labels, start=2))
        print(f"  cross-lingual questions ({len(cross)}), answered from the right document: "
              f"{cells}")
    if model is not None:
        unanswerable = np.array([r[0] for r in rows])
        print(f"  {decline_quality(np.array(confidences), unanswerable)}")
        classifier_sweep(np.array(confidences), unanswerable, np.array([r[1] for r in rows]))
    if signals:
        outcomes(rows, signals)


def decline_quality(confidence: np.ndarray, must_decline: np.ndarray) -> str:
    """The decision's quality apart from its threshold: the average precision of declining (the
    questions to decline ranked by lowest confidence). A change that only moves the operating
    point (more declined, and more of them wrongly) leaves it unchanged; the figures at the
    threshold cannot tell the two apart."""
    from sklearn.metrics import average_precision_score

    if not must_decline.any() or must_decline.all():
        return "average precision of declining: undefined (one class)"
    return (f"average precision of declining (threshold-free): "
            f"{average_precision_score(must_decline, -confidence):.3f} "
            f"(base rate {must_decline.mean():.3f})")


def classifier_sweep(confidence: np.ndarray, unanswerable: np.ndarray,
                     correct: np.ndarray) -> None:
    """What each probability threshold of the classifier would give: where the targets'
    precision, recall and answers right pull against each other."""
    print("  classifier threshold  no-ans-prec  no-ans-rec  answered-correct")
    for threshold in np.arange(0.40, 0.81, 0.05):
        declined = confidence < threshold
        answered = ~declined
        precision = unanswerable[declined].mean() if declined.any() else 0.0
        recall = unanswerable[declined].sum() / max(1, unanswerable.sum())
        right = correct[answered].mean() if answered.any() else 0.0
        print(f"  {threshold:>20.2f}{precision:>13.3f}{recall:>12.3f}{right:>18.3f}")


def outcomes(rows: list[tuple], signals: list[dict[str, float]]) -> None:
    """Why the classifier errs: the mean of each feature for each outcome of its decision. A
    feature that does not separate "unanswerable, answered" from "answered right" cannot help
    (an undefined one, NaN, is left out of its mean);
    an answerable question declined whose best document is wrong was no right answer lost."""
    groups = {"unanswerable, declined": lambda r: r[0] and r[3],
              "unanswerable, answered": lambda r: r[0] and not r[3],
              "answerable, answered right": lambda r: not r[0] and not r[3] and r[1],
              "answerable, answered wrong": lambda r: not r[0] and not r[3] and not r[1],
              "answerable, declined": lambda r: not r[0] and r[3]}
    wrong = sum(1 for r in rows if not r[0] and r[3] and not r[1])
    declined = sum(1 for r in rows if not r[0] and r[3])
    print(f"  answerable declined: {declined}, of which the best document was wrong: {wrong}")
    print(f"  feature means by outcome: {'':<13}" + "".join(f"{n[:9]:>10}" for n in FEATURES))
    for label, chosen in groups.items():
        picked = [v for r, v in zip(rows, signals, strict=True) if chosen(r)]
        cells = "".join(f"{np.nanmean([v[n] for v in picked]):>10.3f}" for n in FEATURES)
        print(f"  {label:<27}{len(picked):>4} {cells if picked else ''}")


def sections(searcher: Searcher, questions: list[dict]) -> None:
    """Whether the answer quotes the section that answers (`gold_section`, the last-level
    heading), when the right document is first; by what the question asks for
    (knowledge_base/aspects.py: steps, materials, fees, time, place, ...; "-": nothing)."""
    right: dict[str, list[bool]] = defaultdict(list)
    for item in questions:
        if not item.get("gold_doc") or not item.get("gold_section"):
            continue
        best = searcher.answer(item["question"], item["language"], limit=1).best
        if best is None or best.doc_id != item["gold_doc"]:
            continue
        hit = best.headings[-1].strip() == item["gold_section"].strip()
        for group in ("all", question_aspect(item["question"]) or "-"):
            right[group].append(hit)
    print("\nsection quoted (right document first): group   n   right section")
    for group in sorted(right, key=lambda g: (g != "all", g)):
        print(f"  {group:<14}{len(right[group]):>5}{np.mean(right[group]):>10.3f}")


def followups(searcher: Searcher, path: Path) -> None:
    """Follow-up questions with and without the previous question (Searcher.answer's
    `context`): the margin is chosen on the even-numbered pairs, reported on the odd ones."""
    pairs = yaml.safe_load(path.read_text(encoding="utf-8"))["pairs"]
    scored = []
    for item in pairs:
        alone = searcher.answer(item["question"], item["language"], limit=1)
        contextual = searcher.answer(contextual_query(item["previous"], item["question"]),
                                     item["language"], limit=1)
        shipped = searcher.answer(item["question"], item["language"], limit=1,
                                  context=item["previous"])
        scored.append((item, alone, contextual, shipped))

    def table(rows: list, margin: float | str | None
              ) -> dict[str, tuple[float, float, float, int]]:
        """kind → (top-1, answered and right, declined, n); margin None: standalone only;
        "shipped": `Searcher.answer` with the previous question as its context."""
        out = {}
        for kind in ("followup", "switch"):
            chosen = [(item, alone if margin is None else shipped if margin == "shipped"
                       else choose(alone, contextual, margin))
                      for item, alone, contextual, shipped in rows if item["kind"] == kind]
            n = len(chosen)
            top1 = sum(a.best is not None and a.best.doc_id == i["gold_doc"] for i, a in chosen)
            right = sum(a.answered and a.best.doc_id == i["gold_doc"] for i, a in chosen)
            declined = sum(not a.answered for _, a in chosen)
            out[kind] = (top1 / n, right / n, declined / n, n) if n else (0.0, 0.0, 0.0, 0)
        return out

    def show(label: str, result: dict) -> None:
        cells = "".join(f"{result[k][0]:>8.3f}{result[k][1]:>9.3f}{result[k][2]:>9.3f}"
                        for k in ("followup", "switch"))
        print(f"  {label:<26}{cells}")

    header = "".join(f"{h:>8}{'right':>9}{'declined':>9}" for h in ("top-1", "top-1"))
    dev, held_out = scored[0::2], scored[1::2]
    for name, rows in (("dev half (even pairs)", dev), ("held-out half (odd pairs)", held_out),
                       ("all pairs", scored)):
        first = table(rows, None)
        print(f"\nfollow-ups, {name}: {first['followup'][3]} follow-ups, "
              f"{first['switch'][3]} topic switches")
        print(f"  {'':<26}{'follow-ups':^26}{'topic switches':^26}")
        print(f"  {'':<26}{header}")
        show("standalone", first)
        for margin in FOLLOWUP_MARGINS:
            show(f"context, margin {margin:.2f}", table(rows, margin))
        show("as shipped (answer+context)", table(rows, "shipped"))
    # The choice on the dev half: most follow-ups answered right without answering fewer topic
    # switches right than standalone; ties go to the larger (more conservative) margin.
    base = table(dev, None)["switch"][1]
    allowed = [m for m in FOLLOWUP_MARGINS if table(dev, m)["switch"][1] >= base]
    best = max(allowed, key=lambda m: (table(dev, m)["followup"][1], m)) if allowed else None
    print(f"\nchosen on the dev half: margin {best}  (shipped CONTEXT_MARGIN {CONTEXT_MARGIN})")
    if best is not None:
        print("held-out half:")
        show("standalone", table(held_out, None))
        show(f"context, margin {best:.2f}", table(held_out, best))


def _answered_right(searcher: Searcher, item: dict) -> bool:
    answer = searcher.answer(item["question"], item["language"], limit=1)
    return answer.answered and answer.best.doc_id == item["gold_doc"]


def _declined(searcher: Searcher, item: dict) -> bool:
    return not searcher.answer(item["question"], item["language"], limit=1).answered


def staff_loop(settings0, embedder, questions: list[dict], seeds=STAFF_LOOP_SEEDS) -> None:
    """What the staff loop buys (issue #16, docs/staff.md "Unanswered questions"): the eval
    questions the assistant fails (declined, or answered from the wrong document), half of them
    (seeded) linked by "staff" to their document and published, as the staff workspace does
    (`Workflow.add_questions`, then `publish`); then the other half — never linked — is asked
    again, together with the questions answered right before (do they stay right?) and the
    unanswerable ones (are they still declined?). On a fresh sample KB per seed."""
    from knowledge_base.workflow import Workflow

    print("\nstaff loop: half of the failed questions linked to their document and published; "
          "measured on the rest")
    print(f"  {'seed':<6}{'failed':>7}{'linked':>7}{'docs':>6}   held-out failed answered right"
          f"   right before, still right   unanswerable declined")
    for seed in seeds:
        with tempfile.TemporaryDirectory() as folder:
            settings = dataclasses.replace(settings0, home=Path(folder))
            kb = KnowledgeBase(settings, embedder)
            kb.seed_sample()
            searcher = Searcher(settings, embedder)

            answerable = [q for q in questions if q.get("gold_doc")]
            unanswerable = [q for q in questions if not q.get("gold_doc")]
            before = {id(q): _answered_right(searcher, q) for q in answerable}
            declined_before = sum(_declined(searcher, q) for q in unanswerable)
            failed = [q for q in answerable if not before[id(q)]]
            random.Random(seed).shuffle(failed)
            linked, held_out = failed[: len(failed) // 2], failed[len(failed) // 2:]
            by_document: dict[str, list[str]] = defaultdict(list)
            for item in linked:
                by_document[item["gold_doc"]].append(item["question"])
            workflow = Workflow(kb)
            for doc_id, asked in by_document.items():
                workflow.add_questions(doc_id, asked)
                workflow.publish(doc_id, "bench", "staff-loop replay")
            searcher.refresh(force=True)
            fixed = sum(_answered_right(searcher, q) for q in held_out)
            kept = [q for q in answerable if before[id(q)]]
            still = sum(_answered_right(searcher, q) for q in kept)
            declined_after = sum(_declined(searcher, q) for q in unanswerable)
            print(f"  {seed:<6}{len(failed):>7}{len(linked):>7}{len(by_document):>6}"
                  f"   {fixed:>3} of {len(held_out):<3} ({fixed / len(held_out):.3f})"
                  f"{'':>12}{still:>3} of {len(kept):<3} ({still / len(kept):.3f})"
                  f"{'':>6}{declined_before:>3} → {declined_after:<3} of {len(unanswerable)}")


def synthetic_documents(base: list[Document], total_chunks: int, chunks_per_doc: int) -> list:
    """Copies of the sample documents, renumbered so every chunk is distinct text."""
    documents, made, copy = [], 0, 0
    while made < total_chunks:
        for doc in base:
            copy += 1
            meta = dataclasses.replace(doc.metadata, id=f"syn-{copy}", superseded_by=None,
                                       expires=None)
            sections = tuple(Section(s.headings, f"{s.text}（第{copy}号）") for s in doc.sections)
            documents.append(Document(meta, sections))
            made += chunks_per_doc
            if made >= total_chunks:
                break
    return documents


def speed(embedder, base: list[Document], sizes: list[int], queries: list[str]) -> None:
    from knowledge_base.chunking import chunk_document

    per_doc = max(1, round(sum(len(chunk_document(d)) for d in base) / len(base)))
    print("\nspeed: chunks   build chunks/s   query p50 ms   query p99 ms   (1 thread)")
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            settings = dataclasses.replace(KnowledgeBaseSettings(), home=Path(folder))
            documents = synthetic_documents(base, size, per_doc)
            report = build_version(settings, documents, embedder)
            searcher = Searcher(settings, embedder)
            searcher.refresh(force=True)
            for query in queries[:5]:
                searcher.search(query)
            latencies = []
            for query in queries * max(1, 200 // len(queries)):
                started = time.perf_counter()
                searcher.search(query)
                latencies.append((time.perf_counter() - started) * 1000)
            p50, p99 = np.percentile(latencies, 50), np.percentile(latencies, 99)
            print(f"       {report.chunks:>7}   {report.chunks / report.seconds:>12.0f}"
                  f"   {p50:>12.1f}   {p99:>12.1f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {rss:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-set", type=Path, default=EVAL_SET)
    parser.add_argument("--sizes", default="1000,50000", help="chunk counts for the speed test")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--followups", nargs="?", type=Path, const=FOLLOWUP_SET, default=None,
                        help="only the follow-up questions (default set "
                             "bench/data/kb_followups.yml): standalone against with context")
    parser.add_argument("--staff-loop", action="store_true",
                        help="only the staff loop: half of the failed questions linked to their "
                             "document and published, measured on the other half")
    args = parser.parse_args()

    import faiss

    faiss.omp_set_num_threads(1)
    settings0 = KnowledgeBaseSettings()
    embedder = load_embedder(settings0.model)
    questions = load_eval(args.eval_set)
    if args.staff_loop:
        staff_loop(settings0, embedder, questions)
        return
    with tempfile.TemporaryDirectory() as folder:
        settings = dataclasses.replace(settings0, home=Path(folder))
        kb = KnowledgeBase(settings, embedder)
        report = kb.seed_sample()
        print(f"sample KB: {report.documents} documents, {report.chunks} chunks; "
              f"model {embedder.name}; {len(questions)} questions")
        searcher = Searcher(settings, embedder)
        if args.followups:
            followups(searcher, args.followups)
            return
        for mode in MODES:
            evaluate(searcher, questions, mode, settings.min_score)
        sweep(searcher, questions)
        decisions(searcher, questions)
        sections(searcher, questions)
        base = kb.documents()
    if not args.skip_speed:
        sizes = [int(s) for s in args.sizes.split(",")]
        speed(embedder, base, sizes, [q["question"] for q in questions[:40]])


if __name__ == "__main__":
    main()
