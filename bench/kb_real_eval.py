"""The knowledge base on real data (docs/benchmarks.md; `make bench-kb-real`).

Reads `../shared/data/real/` (bench/real_data.py); every part whose file is absent prints
"not present, skipped". Prints aggregates only.

1. Real FAQ, answers only: a city's FAQ (`taipei_faq.jsonl`, Traditional Chinese) imported
   without its questions (title: the department; text: answer and keywords); the official
   questions are the queries. R@1, R@5, the share answered and right; a seeded REMOVED share
   of the FAQs is left out of the index, and their questions must be declined; the average
   precision of declining them (threshold-free: the decision's quality apart from where its
   threshold sits).
2. Real FAQ, questions as content: English FAQ entries (`covid_faq_en.jsonl`) imported with
   their questions (as `kb import-faq` does); the queries are the other question of each
   paraphrase pair (`covid_question_pairs_en.jsonl`, similar=1). Same measures.
3. Real long messages (`tipdm_labelled.jsonl`: letters to a city's message board, not used
   by the answerability fit) against the sample knowledge base: the share answered.
   `--show-answered` prints the answered ones to the terminal for hand-checking (never
   stored); the docs keep only the counts.
4. Scale: both FAQ sets plus renumbered copies up to SCALE_DOCS documents, imported through
   the real `import_faq` path from a JSONL file: import time, query p50/p99, peak memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.kb_eval import decline_quality
from bench.real_data import load_real, message_text, sample
from knowledge_base.config import KnowledgeBaseSettings
from knowledge_base.embedding import load_embedder
from knowledge_base.search import Searcher
from knowledge_base.service import KnowledgeBase

REMOVED, SEED = 0.2, 20261206
SCALE_DOCS = 2000


def faq_rows(rows: list[dict], with_questions: bool) -> list[dict]:
    """FAQ rows as `import_faq` reads them; without questions the title is the department."""
    out = []
    for n, row in enumerate(rows):
        entry = {"id": str(row.get("data_id") or f"faq-{n}"), "answer": row["answer"],
                 "department": row.get("dept") or row.get("source") or "FAQ",
                 "keywords": row.get("keyword", ""), "date": row.get("post_date", ""),
                 "question": row["question"]}
        if not with_questions:
            entry["question"] = entry["department"]
        out.append(entry)
    return out


def import_rows(kb: KnowledgeBase, rows: list[dict], folder: Path) -> float:
    path = folder / "faq.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    started = time.perf_counter()
    kb.import_faq(path)
    return time.perf_counter() - started


def drop_questions(kb: KnowledgeBase) -> None:
    """Answers only: the documents' own questions (here: the department name) removed."""
    for stored in kb.store.list():
        metadata = {**stored.metadata.to_mapping(), "questions": []}
        kb.store.put(stored.path.name, stored.path.read_bytes(), metadata, replace=True)
    kb.reindex()


def measure(searcher: Searcher, queries: list[tuple[str, set[str] | None]], language: str,
            label: str, department_of: dict[str, str] | None = None) -> None:
    """queries: (text, gold document ids, or None when its FAQ was removed). With
    `department_of` (document id → department): of the questions whose own FAQ is not first,
    the share answered first by another FAQ of the same department (a sibling)."""
    ranks, right, declined_removed, removed = [], 0, 0, 0
    misses, siblings = 0, 0
    confidences = []
    for text, gold in queries:
        answer = searcher.answer(text, language, limit=5)
        confidences.append(answer.confidence)
        if gold is None:
            removed += 1
            declined_removed += not answer.answered
            continue
        rank = next((n for n, hit in enumerate(answer.hits, 1) if hit.doc_id in gold), None)
        ranks.append(rank)
        if department_of is not None and rank != 1 and answer.best is not None:
            misses += 1
            siblings += department_of.get(answer.best.doc_id) in {department_of.get(g)
                                                                  for g in gold}
        right += answer.answered and rank == 1
    n = len(ranks)
    r1 = sum(r == 1 for r in ranks) / n
    r5 = sum(r is not None and r <= 5 for r in ranks) / n
    mrr = sum(1 / r for r in ranks if r) / n
    print(f"{label}: {n} questions of indexed FAQs: R@1 {r1:.3f}  R@5 {r5:.3f}  MRR {mrr:.3f}  "
          f"answered and right {right / n:.3f}")
    print(f"{' ' * len(label)}  {removed} questions of removed FAQs: declined "
          f"{declined_removed / removed:.3f}; "
          f"{decline_quality(np.array(confidences), np.array([g is None for _, g in queries]))}")
    if misses:
        print(f"{' ' * len(label)}  own FAQ not first for {misses}: first is another FAQ of the "
              f"same department for {siblings / misses:.3f}")


def split(items: list, seed: int) -> tuple[set, set]:
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * REMOVED)
    return set(shuffled[cut:]), set(shuffled[:cut])


def taipei(settings0, embedder) -> None:
    rows = load_real("taipei_faq.jsonl")
    if rows is None:
        return
    rows = faq_rows(rows, with_questions=False)
    from knowledge_base.faq import parse_faq

    doc_ids = [e.doc_id for e in parse_faq(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode(), "jsonl")]
    kept, _ = split(doc_ids, SEED)
    with tempfile.TemporaryDirectory() as folder:
        settings = dataclasses.replace(settings0, home=Path(folder))
        kb = KnowledgeBase(settings, embedder)
        indexed = [r for r, d in zip(rows, doc_ids, strict=True) if d in kept]
        import_rows(kb, indexed, Path(folder))
        drop_questions(kb)
        originals = load_real("taipei_faq.jsonl")
        queries = [(o["question"], {d} if d in kept else None)
                   for o, d in zip(originals, doc_ids, strict=True)]
        measure(Searcher(settings, embedder), queries, "zh",
                f"real FAQ, answers only ({len(indexed)} of {len(rows)} FAQs indexed)",
                {d: r["department"] for r, d in zip(rows, doc_ids, strict=True)})


def covid(settings0, embedder) -> None:
    faqs, pairs = load_real("covid_faq_en.jsonl"), load_real("covid_question_pairs_en.jsonl")
    if faqs is None or pairs is None:
        return
    for n, row in enumerate(faqs):
        row["data_id"] = f"covid-{n}"
    rows = faq_rows(faqs, with_questions=True)
    by_question: dict[str, set[str]] = {}
    for row in rows:
        by_question.setdefault(" ".join(row["question"].split()), set()).add(
            "faq-" + row["id"])
    kept_questions, _ = split(sorted(by_question), SEED)
    with tempfile.TemporaryDirectory() as folder:
        settings = dataclasses.replace(settings0, home=Path(folder))
        kb = KnowledgeBase(settings, embedder)
        import_rows(kb, [r for r in rows if " ".join(r["question"].split()) in kept_questions],
                    Path(folder))
        queries = []
        for pair in pairs:
            if not pair["similar"]:
                continue
            first, second = (" ".join(pair[k].split()) for k in ("question_1", "question_2"))
            faq, query = (first, second) if first in by_question else (second, first)
            if faq not in by_question:
                continue
            queries.append((query, by_question[faq] if faq in kept_questions else None))
        measure(Searcher(settings, embedder), queries, "en",
                f"real FAQ, questions as content ({len(kept_questions)} of {len(by_question)} "
                f"FAQ questions indexed; paraphrases as queries)")


def long_messages(settings0, embedder, show: bool) -> None:
    rows = load_real("tipdm_labelled.jsonl")
    if rows is None:
        return
    with tempfile.TemporaryDirectory() as folder:
        settings = dataclasses.replace(settings0, home=Path(folder))
        KnowledgeBase(settings, embedder).seed_sample()
        searcher = Searcher(settings, embedder)
        answered = []
        for row in rows:
            text = message_text(row)
            answer = searcher.answer(text, "zh")
            if answer.answered:
                answered.append((text, answer.best))
    print(f"real long messages against the sample KB: {len(rows)} messages, answered "
          f"{len(answered)} ({len(answered) / len(rows):.3f})")
    if show:
        for text, best in answered:
            print(f"--- answered from {best.doc_id} › {best.section}\n{text[:300]}")


def scale(settings0, embedder) -> None:
    taipei_rows, covid_rows = load_real("taipei_faq.jsonl"), load_real("covid_faq_en.jsonl")
    if taipei_rows is None or covid_rows is None:
        return
    for n, row in enumerate(covid_rows):
        row["data_id"] = f"covid-{n}"
    rows = faq_rows(taipei_rows, True) + faq_rows(covid_rows, True)
    base, copy = list(rows), 0
    while len(rows) < SCALE_DOCS:
        copy += 1
        for row in base[: SCALE_DOCS - len(rows)]:
            rows.append({**row, "id": f"{row['id']}-copy{copy}",
                         "answer": f"{row['answer']}（{copy}）"})
    departments = len({r["department"] for r in rows})
    queries = [r["question"] for r in sample(base, 200, SEED)]
    with tempfile.TemporaryDirectory() as folder:
        settings = dataclasses.replace(settings0, home=Path(folder))
        kb = KnowledgeBase(settings, embedder)
        seconds = import_rows(kb, rows, Path(folder))
        searcher = Searcher(settings, embedder)
        searcher.refresh(force=True)
        chunks = len(searcher.refresh().chunks)
        for query in queries[:5]:
            searcher.answer(query)
        latencies = []
        for query in queries:
            started = time.perf_counter()
            searcher.answer(query)
            latencies.append((time.perf_counter() - started) * 1000)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scale: {len(rows)} FAQ documents from {departments} departments ({len(base)} real, "
          f"the rest renumbered copies), {chunks} indexed rows: import {seconds:.0f} s; "
          f"answer p50 {np.percentile(latencies, 50):.1f} ms, p99 "
          f"{np.percentile(latencies, 99):.1f} ms (1 thread); peak memory {rss:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["taipei", "covid", "long", "scale"], action="append")
    parser.add_argument("--show-answered", action="store_true",
                        help="print the answered long messages for hand-checking (terminal only)")
    args = parser.parse_args()

    import faiss

    faiss.omp_set_num_threads(1)
    settings0 = KnowledgeBaseSettings()
    embedder = load_embedder(settings0.model)
    parts = args.only or ["taipei", "covid", "long", "scale"]
    if "taipei" in parts:
        taipei(settings0, embedder)
    if "covid" in parts:
        covid(settings0, embedder)
    if "long" in parts:
        long_messages(settings0, embedder, args.show_answered)
    if "scale" in parts:
        scale(settings0, embedder)


if __name__ == "__main__":
    main()
