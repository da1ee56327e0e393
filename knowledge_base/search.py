"""Answering a question from the current index version.

Dense retrieval (cosine of sentence embeddings) finds the answer across languages; BM25 adds
evidence from exact terms. Each language's candidates are retrieved separately, so a crowd of
same-language near-misses cannot push every passage of the other language out of the
candidate list.

Fusion (`rank_documents`), per language, because keywords can only ever match text in the
question's own language (a Chinese question shares no words with the English passage that
answers it):
- within the question's language, the question's words re-rank: a passage gains
  LEXICAL_WEIGHT times its term coverage — the idf-weighted share of the question's distinct
  terms it contains (`LexicalIndex.coverage`; BM25 only chooses which passages are looked at).
  Chosen on the training questions (knowledge_base/data/answerability_train.yml): coverage
  against the earlier bonus (up to 0.10 for BM25 relative to the best passage's, only within
  0.08 of the language's best cosine), weight 0.4 without a margin the best there
  (docs/benchmarks.md).
  A document's own questions do not lend it their coverage: once every sample guide carried
  questions in both languages, the words of a question's pattern ("在哪里办", "要多少钱") that a
  stored question shared with the citizen's drew the citizen's question to a guide about
  something else (身份证在哪里办 to the foreigners' residence-permit guide, whose "外国人在哪里办
  居留许可？" covers 在哪里 and 办). Without it: training questions R@1 0.900 → 0.904, real FAQ
  questions as content unchanged (docs/benchmarks.md "Questions in the sample");
- between languages, meaning alone decides: the r-th document of a language takes that
  language's r-th best cosine as its score, so re-ranking inside one language never moves a
  passage of the other language up or down. The other language stays in cosine order.
- of the two halves of a zh/en document pair, the half in the question's language takes the
  better of the two places (the citizen is answered in their language).
Measured on the training questions (knowledge_base/data/answerability_train.yml, README
"Measured"): adding the bonus to every passage and ranking all languages together gained
same-language top-1 answers but lost cross-lingual ones; this design keeps the cross-lingual
ranks of dense retrieval and the same-language gains. (A bonus for every passage in the
question's language cost cross-lingual top-1 answers on the evaluation set and was removed:
the pair rule above only ever swaps the two halves of one document.) Expired and superseded
documents are never returned.

Across languages, cosines are first put on one scale (`language_shift`): USE-m scores any
passage in the question's own language higher than one in the other, so half of that gap
for this question (LANGUAGE_SHIFT_WEIGHT, chosen on the answerability training questions:
half gained top-1 answers across languages and lost none within one; the whole gap lost
same-language ones) is added to the other language's cosines.

Which passage of a found document is quoted: the section the question asks for (how to
apply → the steps, what to bring → the materials, cost → the fees, ...; `LoadedIndex.quote`,
knowledge_base/aspects.py). The decision to answer and the ranking are made before, on the
passages that found the documents.

Questions as content: a document's own questions (`Metadata.questions`, FAQ imports, questions
staff linked) are indexed beside its passages. A citizen's question close to one of them lifts
the document: every passage of it is ranked by the better of its own cosine and that
question's (`Hit.match`), and of those the passage closest to the citizen's question is the
answer (for a one-answer FAQ, the answer). A question's cosine counts QUESTION_OFFSET less:
question–question cosines run higher than question–passage ones, and without the offset a
document with one stored question drew every question of the same pattern to itself.
Within the question's language a stored question is also set back by how much more of its
topic words (its words less those of what it asks for, weighted by how few documents' questions
use them) the citizen's question lacks than the best stored question's (QUESTION_TOPIC_WEIGHT):
the topic, not the shape of the question, should pick the guide.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.limits import bounded
from bot.text import detect_language
from common.domain_words import restore_domain_words
from knowledge_base.answerability import (
    HITS_NEEDED,
    LANGUAGE_SUFFIXES,
    MODEL_FILE,
    AnswerabilityModel,
    features,
    topic_of,
)
from knowledge_base.aspects import (
    ANSWERED_BY,
    LIST_LINE,
    STEPS,
    about_replacement,
    asks_options,
    asks_replacement,
    question_aspect,
    shows,
    tells_replacement,
)
from knowledge_base.chunking import QUESTION, split_sentences
from knowledge_base.config import KnowledgeBaseSettings
from knowledge_base.documents import Metadata
from knowledge_base.embedding import Embedder, load_embedder
from knowledge_base.index import INDEX_FORMAT, current_version, version_dir
from knowledge_base.lexical import (
    LexicalIndex,
    QuestionTopics,
    passage_terms,
    spelled_by,
    tokenize,
    topic_words,
)
from knowledge_base.spelling import SpellingRepair, index_words

logger = logging.getLogger(__name__)
DENSE_CANDIDATES = 50
MODES = ("hybrid", "dense", "lexical")  # dense-only and lexical-only exist for the benchmark
LEXICAL_WEIGHT = 0.4
# Between the sections of one found document (`LoadedIndex.quote`): the share of the question's
# terms a section has, on top of its cosine (chosen with the section precision work).
SECTION_TERMS_WEIGHT = 0.10
LANGUAGE_SHIFT_WEIGHT = 0.5
# Within the question's language, on top of LEXICAL_WEIGHT: the share of the question's terms in
# the passage's document title (`Hit.title`). A passage that names the key term in passing
# ties with the guide about it on coverage (出生证明 in the household guide's newborn section
# and in 出生医学证明…办理指南); the title breaks the tie. Small: it reorders near-ties, and
# cannot lift a passage far from the question by meaning. On the training questions 0.05 and
# 0.1 rank alike; 0.1 lost one evaluation question's top-1 answer, 0.05 none
# (docs/benchmarks.md "Knowledge base").
TITLE_WEIGHT = 0.05
# Within the question's language, on top of LEXICAL_WEIGHT: the share of the question's terms in
# the first sentence of the passage's document (`Hit.lead`, `LexicalIndex.lead_coverage`), for a
# document without questions of its own (`LoadedIndex._lead`). An FAQ answer opens by restating
# what it is about; of sibling FAQs of one department that share the question's terms, the one
# whose answer opens with them is usually the one asked about. Where the FAQ's questions were
# imported they say it better: counting the lead as well cost the English FAQ 3 of 200 top-1
# answers (R@1 0.620 -> 0.605).
# Small, like TITLE_WEIGHT: a guide's opening sentence also carries generic words ("every
# year", "apply"), and at 0.2–0.3 those drew one to three written questions to the wrong guide;
# 0.15 changed none there nor on the training questions (docs/benchmarks.md "Knowledge base on
# real data").
LEAD_WEIGHT = 0.15
# Within the question's language, on top of LEXICAL_WEIGHT: the BM25 score over Han character
# pairs of the passage's whole document, relative to the best document's (`Hit.pairs`,
# `LexicalIndex.pair_scores`). Pairs match whatever jieba's cuts (出生证明 and 出生医学证明 share
# 出生 and 证明), and a document's score counts its questions, headings and every passage. At
# 0.1 / 0.2 / 0.3 / 0.4: real FAQ answers only R@1 0.578 / 0.583 / 0.584 / 0.583 (0: 0.564), R@5
# 0.811 / 0.823 / 0.823 / 0.820 (0.800); written set R@1 0.943 / 0.951 / 0.951 / 0.951 (0.936);
# the sample with the real FAQ in one index 0.917 / 0.917 / 0.920 at 0.1–0.3 (0.905). 0.2, the
# smallest weight at both plateaus (docs/benchmarks.md "Character pairs, again"). At 0.4, before
# the sample's guides carried questions, pairs cost the written set three top-1 answers there.
PAIRS_WEIGHT = 0.2
# Taken off a stored question's cosine before it competes with passages (`Hit.question`): USE-m
# scores two questions of the same pattern ("身份证丢了怎么办", "房产证丢了怎么补办") far higher
# than a question and the passage that answers it, so one question staff linked to the ID-card
# guide drew the property-certificate question to it, and 27 % of the right answers on the
# training questions went wrong once half of the failed ones were linked (bench/kb_eval.py
# --staff-loop). Chosen there: 0.2 keeps 97 % of them right; on real FAQ questions as content
# R@1 0.640 -> 0.635 (docs/benchmarks.md "Staff loop").
QUESTION_OFFSET = 0.2
# Taken off a stored question's cosine, in the question's own language, times how much more of
# its topic words the citizen's question lacks than the best stored question's
# (`LoadedIndex._missing_topics`, `QuestionTopics.missing`). A question of the same shape on
# another topic ("How long does it take to get a passport?") drew "How long does it take to get
# a residence permit?" to the passport guide. Chosen on the training questions: 0.1 / 0.2 / 0.3
# / 0.5 gave R@1 0.904 / 0.904 / 0.907 / lower (0: 0.904); measured once on the written set and
# the real FAQs (docs/benchmarks.md "Knowledge base", topic over shape).
QUESTION_TOPIC_WEIGHT = 0.3
# How much more likely to answer (answerability probability) the search for "previous question +
# follow-up" must be than the follow-up's own search to be used: chosen on half of
# bench/data/kb_followups.yml, reported on the other (README "Knowledge base", follow-ups).
# Re-chosen with the length-independent classifier: 0.00–0.05 kept every topic switch there and
# answered the most follow-ups (0.15 had been chosen with the earlier classifier).
CONTEXT_MARGIN = 0.05
# A follow-up naming nothing few guides hold (`LoadedIndex.names_a_service`: no topic word held
# by at most NAMING_TOPICS topics or NAMING_SHARE of them) takes the contextual result whenever
# that answers: its own best match was found by words every procedure shares.
NAMING_TOPICS, NAMING_SHARE = 2, 0.05
LEANING_MARGIN = -1.0
# A question's word names a section of its own (`LoadedIndex._section_naming`) when at most this
# many other sections of the document mention it.
NAMED_ELSEWHERE = 2
# ... and when few guides use it (at most this share of the topics): "hospital", "申请" and
# "外地" are said in many guides and in many of their sections.
CASE_WORD_SHARE = 0.10
# A section cut into several passages is quoted whole up to this many characters
# (`LoadedIndex._whole_section`): one passage of it can leave out half of a list.
WHOLE_SECTION_CHARS = 700


# A document's title words and, per top-level section: its passages, its headings' words, its
# text's words (`LoadedIndex._outline`).
Outline = tuple[set[str], list[tuple[list[int], set[str], set[str]]]]


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    headings: tuple[str, ...]
    text: str
    language: str
    score: float
    dense: float
    lexical: float
    metadata: Metadata
    question: float = 0.0  # cosine of the document's closest own question (0: none), shifted
    calibration: float = 0.0  # the language shift for this passage's cosine (`language_shift`)
    coverage: float = 0.0  # idf-weighted share of the question's terms it has (LexicalIndex)
    title: float = 0.0  # the same share in its document's title (`LexicalIndex.title_coverage`)
    lead: float = 0.0  # the same share in its document's first sentence (`lead_coverage`)
    pairs: float = 0.0  # its document's character-pair BM25, relative to the best (`pair_scores`)
    # The weighted share of the question's topic words its document has in the question's
    # language (`LoadedIndex.topic_share`); None where that cannot be told.
    topic: float | None = None

    @property
    def match(self) -> float:
        """How well the question matches: the passage, or one of its document's questions,
        on the scale of the question's own language (`language_shift`)."""
        return max(self.dense + self.calibration, self.question)

    @property
    def similarity(self) -> float:
        """The meaning match alone, a cosine (keyword bonuses also reward passages that merely
        share words with the question). Not a probability: whether to answer at all is
        `Searcher.answer`'s call, whose `Answer.confidence` is one."""
        return self.match

    @property
    def section(self) -> str:
        return " › ".join(self.headings[1:]) or self.headings[0]


@dataclass(frozen=True)
class Answer:
    """The ranked passages for a question and whether the best one should be given."""

    hits: list[Hit]
    confidence: float  # probability the best passage answers, or its cosine (method "dense")
    threshold: float
    method: str  # "answerability" (fitted classifier) or "dense" (cosine threshold)
    used_context: bool = False  # found by the previous question + this one (a follow-up)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    @property
    def answered(self) -> bool:
        return self.best is not None and self.confidence >= self.threshold


class LoadedIndex:
    """One immutable index version in memory."""

    def __init__(self, folder: Path) -> None:
        import faiss

        self.folder = folder
        self.version = int(folder.name)
        self.manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if self.manifest.get("format") != INDEX_FORMAT:
            raise RuntimeError(f"index version {self.version} has an old format: run `kb reindex`")
        with open(folder / "chunks.jsonl", encoding="utf-8") as rows:
            self.chunks = [json.loads(line) for line in rows]
        self.index = faiss.read_index(str(folder / "index.faiss"))
        self.documents = {
            doc_id: Metadata.from_mapping(raw) for doc_id, raw in self.manifest["documents"].items()
        }
        self.position_of = {chunk["id"]: position for position, chunk in enumerate(self.chunks)}
        self.passages_of: dict[str, list[int]] = defaultdict(list)
        for position, chunk in enumerate(self.chunks):
            if chunk.get("kind") != QUESTION:
                self.passages_of[chunk["doc_id"]].append(position)
        self.topics = QuestionTopics({i: (c["doc_id"], c["text"])
                                      for i, c in enumerate(self.chunks)
                                      if c.get("kind") == QUESTION})
        self.lexical = LexicalIndex([" ".join(c["headings"]) + " " + c["text"]
                                     for c in self.chunks],
                                    [c["headings"][0] if c["headings"] else ""
                                     for c in self.chunks],
                                    [self._lead(c["doc_id"]) for c in self.chunks],
                                    [c["doc_id"] for c in self.chunks])
        # Per chunk: its topic (a zh/en document pair is one) and (topic, language) group, for
        # `topic_share`.
        topics: dict[str, int] = {}
        groups: dict[tuple[str, str], int] = {}
        self.chunk_topic = np.array([topics.setdefault(topic_of(c["doc_id"]), len(topics))
                                     for c in self.chunks], dtype=np.int64)
        self.chunk_group = np.array([groups.setdefault((topic_of(c["doc_id"]), c["language"]),
                                                       len(groups)) for c in self.chunks],
                                    dtype=np.int64)
        self.groups = groups
        self.ranges = {lang: tuple(r) for lang, r in self.manifest["language_ranges"].items()}
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        self.vectors = vectors  # memory-mapped: a found document's passages, scored at once
        self.language_means = {lang: np.asarray(vectors[start:end].mean(axis=0), np.float32)
                               for lang, (start, end) in self.ranges.items() if end > start}
        self._replacing: dict[str, bool] = {}  # topic → `tells_replacement`
        self._outlines: dict[str, Outline | None] = {}  # document → `_outline`

    def tells_replacement(self, doc_id: str) -> bool:
        """Whether the document (or its other-language twin) says anything about replacing
        something lost, stolen or damaged (`aspects.tells_replacement`); looked at on first
        need, per topic, and remembered."""
        topic = topic_of(doc_id)
        if topic not in self._replacing:
            halves = dict.fromkeys((doc_id, *(topic + suffix for suffix in LANGUAGE_SUFFIXES)))
            self._replacing[topic] = any(self._tells_replacement_at(i) for half in halves
                                         for i in self.passages_of.get(half, ()))
        return self._replacing[topic]

    @cached_property
    def spelling(self) -> SpellingRepair:
        """Mistyped English words put back against this version's own words (on first use)."""
        return SpellingRepair(index_words(self.lexical.terms()))

    def _lead(self, doc_id: str) -> str:
        """The first sentence of a document's first passage: what it is about, where it has no
        questions of its own to say so (none when it has: they count through `Hit.question`)."""
        metadata = self.documents.get(doc_id)
        passages = self.passages_of.get(doc_id) if metadata and not metadata.questions else None
        sentences = split_sentences(self.chunks[passages[0]]["text"]) if passages else []
        return sentences[0] if sentences else ""

    def _dense_candidates(self, vector: np.ndarray, k: int) -> dict[int, float]:
        import faiss

        query = vector.reshape(1, -1).astype(np.float32)
        found: dict[int, float] = {}
        for start, end in self.ranges.values():
            selector = faiss.IDSelectorRange(start, end)
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=96)
                      if isinstance(self.index, faiss.IndexHNSW)
                      else faiss.SearchParameters(sel=selector))
            scores, ids = self.index.search(query, min(k, end - start), params=params)
            found.update({int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True)
                          if i >= 0})
        return found

    def search(self, vector: np.ndarray, query: str, language: str | None, limit: int,
               today: dt.date, mode: str = "hybrid") -> list[Hit]:
        if not self.chunks:
            return []
        k = min(DENSE_CANDIDATES, len(self.chunks))
        candidates = {} if mode == "lexical" else self._dense_candidates(vector, k)
        lexical = self.lexical.scores(query) if mode != "dense" else np.zeros(len(self.chunks))
        coverage = (self.lexical.coverage(query) if mode == "hybrid"
                    else np.zeros(len(self.chunks)))
        titled = (self.lexical.title_coverage(query) if mode == "hybrid"
                  else np.zeros(len(self.chunks)))
        led = (self.lexical.lead_coverage(query) if mode == "hybrid"
               else np.zeros(len(self.chunks)))
        pairs = (self.lexical.pair_scores(query) if mode == "hybrid"
                 else np.zeros(len(self.chunks)))
        top_lexical = float(lexical.max()) if lexical.size else 0.0
        if top_lexical > 0:
            for i in np.argsort(-lexical)[:k]:
                if lexical[i] > 0 and int(i) not in candidates:
                    candidates[int(i)] = 0.0 if mode == "lexical" else float(
                        np.dot(self.index.reconstruct(int(i)), vector.ravel())
                    )
        shift = language_shift(vector, self.language_means, language)
        words = set(topic_words(query)) if mode == "hybrid" else set()
        # A document's own questions: their best cosine and BM25 score count for its passages
        # (not their term coverage: see the module docstring).
        questions: dict[str, float] = {}
        question_terms: dict[str, float] = defaultdict(float)
        asked = {i for i in candidates if self.chunks[i].get("kind") == QUESTION}
        missing = self._missing_topics(asked, words, language)
        for i in asked:
            dense = candidates.pop(i)
            doc_id = self.chunks[i]["doc_id"]
            question_terms[doc_id] = max(question_terms[doc_id], float(lexical[i]))
            if mode != "lexical":
                dense += (shift.get(self.chunks[i]["language"], 0.0) - QUESTION_OFFSET
                          - QUESTION_TOPIC_WEIGHT * missing.get(i, 0.0))
                questions[doc_id] = max(questions.get(doc_id, dense), dense)
        for doc_id in {*questions, *question_terms}:  # found by a question: its best passages
            positions = np.array([i for i in self.passages_of.get(doc_id, ())
                                  if i not in candidates], dtype=np.int64)
            if positions.size == 0:
                continue
            dense = np.asarray(self.vectors[positions], dtype=np.float32) @ vector.ravel()
            if mode == "lexical":
                chosen = positions
            else:
                chosen = self._contenders(positions, dense, questions.get(doc_id, 0.0),
                                          question_terms.get(doc_id, 0.0), lexical, top_lexical,
                                          coverage, titled, led, pairs, shift, language,
                                          mode)
            candidates.update({int(i): float(dense[positions == i][0]) for i in chosen})
        passages = []
        for i, dense in candidates.items():
            chunk = self.chunks[i]
            metadata = self.documents.get(chunk["doc_id"])
            if metadata is None or not metadata.is_current(today):
                continue
            passages.append(Hit(chunk["id"], chunk["doc_id"], tuple(chunk["headings"]),
                                chunk["text"], chunk["language"], dense, dense,
                                max(float(lexical[i]), question_terms.get(chunk["doc_id"], 0.0))
                                / top_lexical if top_lexical else 0.0,
                                metadata, questions.get(chunk["doc_id"], 0.0),
                                shift.get(chunk["language"], 0.0),
                                float(coverage[i]),
                                float(titled[i]), float(led[i]), float(pairs[i])))
        ranked = rank_documents(passages, language, mode)[:limit]
        if mode != "hybrid":
            return ranked
        shares = self.topic_share(query, language, [hit.doc_id for hit in ranked])
        return [replace(hit, topic=share) for hit, share in zip(ranked, shares, strict=True)]

    def topic_share(self, query: str, language: str | None,
                    doc_ids: list[str]) -> list[float | None]:
        """For each document, the weighted share of the question's topic words (its terms less
        the cues of what it asks for, `lexical.topic_words`) that the document's topic holds in
        the question's language: its passages, headings and stored questions, or those of its
        other-language twin (a zh/en pair is one topic). A word weighs by how few topics hold it
        (a word every guide uses is not what the question is about; a word no guide holds
        weighs most; the share is of at least one word held by a single topic, so a question of
        common words alone cannot reach 1). None where the topic has no text in the question's
        language (an English guide without a Chinese twin or Chinese questions, for a Chinese
        question) or the question has no topic words: the words cannot tell, and the classifier
        counts nothing.

        A question on a topic next to a guide ("新生儿医保", "work permit", "renew … over 70")
        finds the guide by its generic words; what it is about is not there."""
        words = set(topic_words(query)) if language else set()
        wanted = [self.groups.get((topic_of(doc_id), language)) for doc_id in doc_ids]
        if not words or not any(g is not None for g in wanted):
            return [None] * len(doc_ids)
        count = int(self.chunk_topic.max()) + 1  # topics in the index

        def weight(n: int) -> float:  # of a word n topics hold (BM25's idf, over topics)
            return math.log(1.0 + (count - n + 0.5) / (n + 0.5))

        weights, holders = [], []
        for word in words:
            chunks = self.lexical.containing(word)
            weights.append(weight(len(np.unique(self.chunk_topic[chunks]))))
            holders.append(set(self.chunk_group[chunks].tolist()))
        # At least one distinctive word's weight: a question left with only words many guides
        # use (多久能拿到 → 拿到) names no topic, and a guide holding them is little evidence.
        total = max(sum(weights), weight(1))
        return [None if group is None else
                sum(w for w, held in zip(weights, holders, strict=True) if group in held) / total
                for group in wanted]

    def names_a_service(self, query: str) -> bool:
        """Whether a question names what a guide is about: a word few topics hold (房产证,
        vaccines) or one a title holds (身份证, which many guides also list as a material),
        as a new question does. "审批要多久", "外地人可以办吗" and "how much per month?" name
        only what many guides share: as a follow-up they lean on the question before, and a
        guide that shares their generic words (审批 → the minimum living allowance's
        procedure) is not what they ask about."""
        return bool(self.chunks) and any(
            1 <= self._topics_holding(word) <= self._few_topics(NAMING_SHARE)
            or self.lexical.in_a_title(word) for word in topic_words(query))

    def _topics_holding(self, word: str) -> int:
        return len(np.unique(self.chunk_topic[self.lexical.containing(word)]))

    def _few_topics(self, share: float) -> float:
        """At most this many topics hold a word that few hold (at least NAMING_TOPICS)."""
        return max(NAMING_TOPICS, share * (int(self.chunk_topic.max()) + 1))

    def _missing_topics(self, asked: set[int], words: set[str],
                        language: str | None) -> dict[int, float]:
        """For the stored questions found in the question's language, how much more of their
        topic words the citizen's question lacks than the best of them does
        (`QuestionTopics.missing`). Relative, so it only reorders stored questions: where none
        shares the topic's words (a slang or misspelt topic), none is set back against passages."""
        own = [i for i in asked if self.chunks[i]["language"] == language]
        if not words or not own:
            return {}
        missing = {i: self.topics.missing(i, words) for i in own}
        least = min(missing.values())
        return {i: share - least for i, share in missing.items()}

    def _contenders(self, positions: np.ndarray, dense: np.ndarray, question: float,
                    question_terms: float, lexical: np.ndarray, top_lexical: float,
                    coverage: np.ndarray, titled: np.ndarray, led: np.ndarray,
                    pairs: np.ndarray, shift: dict[str, float],
                    language: str | None, mode: str) -> set[int]:
        """Of the passages of a document found by one of its questions, the only ones that can
        matter to `rank_documents`: the one it would pick as the document's best (same score
        and tie-break) and the one with the highest cosine (the document's place between
        languages). Scoring every passage of every such document as a Hit made a query ~75 %
        slower once each sample guide carried questions (profiled: 41 ms against 23 without
        questions; 27 ms this way, docs/benchmarks.md "Questions in the sample"); the
        written set ranks identically."""
        chunk_language = self.chunks[int(positions[0])]["language"]
        match = np.maximum(dense + shift.get(chunk_language, 0.0), question)  # `Hit.match`
        words = (np.maximum(lexical[positions], question_terms) / top_lexical if top_lexical
                 else np.zeros(len(positions)))  # `Hit.lexical`
        score = match
        if mode == "hybrid" and (language is None or chunk_language == language):
            score = (match + LEXICAL_WEIGHT * coverage[positions]
                     + TITLE_WEIGHT * titled[positions] + LEAD_WEIGHT * led[positions]
                     + PAIRS_WEIGHT * pairs[positions])
        best = np.lexsort((-(dense + words), -score))[0]  # the first of equals, as there
        return {int(positions[best]), int(positions[int(np.argmax(dense))])}

    def quote(self, hit: Hit, aspect: str | None, vector: np.ndarray, terms: set[str],
              replacement: bool = False, options: bool = False, keep_found: bool = True,
              situation: frozenset[str] = frozenset()) -> Hit:
        """Of the document `hit` found, the passage to quote.

        - With an aspect: one of a section that answers it (`knowledge_base.aspects.ANSWERED_BY`,
          best first: a section of the aspect itself before one that merely also tells it,
          such as the steps for "where"); of them, the hit's own (unless not `keep_found`:
          a follow-up's document was found by the earlier question), else the closest to the
          question by meaning plus SECTION_TERMS_WEIGHT for the share of its `terms` the
          section has. A question about something lost or stolen (`replacement`) asking what to
          do takes a section headed for replacing it ("挂失补领流程", "Lost passports") first;
          either, or "what can I do", without another aspect asks for the steps.
        - Without one: the hit's own section.
        - A question naming a case the guide treats in a section of its own (`situation`, its
          topic words: 离婚 in a marriage guide whose section "离婚登记简要说明" alone names it,
          and whose title does not): that section, whatever the aspect; quoting another
          case's materials or steps misleads.
        - "What can I do?" (`options`) answered by a sub-section: the parent section, all of its
          sub-sections from the first, as a list (negotiate, mediate, sue).

        Only the quote changes: the hit keeps the scores of the passage that found the
        document, which rank it and decide whether to answer at all (the aspect chooses
        within a document, never between documents)."""
        if aspect is None and (replacement or options):
            aspect = STEPS
        passages = self.passages_of.get(hit.doc_id, ())
        own = self.position_of[hit.chunk_id]
        chosen = own
        query = vector.ravel()

        def closeness(i: int) -> float:
            chunk = self.chunks[i]
            words = set(passage_terms(" ".join(chunk["headings"]) + " " + chunk["text"]))
            shared = len(terms & words) / len(terms) if terms else 0.0
            return float(np.dot(self.index.reconstruct(i), query)) + SECTION_TERMS_WEIGHT * shared

        named = self._section_naming(hit.doc_id, situation) if situation else []
        tiers = ANSWERED_BY.get(aspect, ((aspect,),)) if aspect and not named else ()
        if named:
            chosen = own if keep_found and own in named else max(named, key=closeness)
        for answering in tiers:
            fitting = [i for i in passages
                       if set(answering) & set(self.chunks[i].get("aspects", ()))]
            if replacement and STEPS in answering:
                # A section headed for it; else one of these, then any passage, that tells of
                # it in passing ("首次申领及补换卡均免收工本费" for a lost social-security card)
                fitting = ([i for i in passages if about_replacement(self.chunks[i]["headings"])]
                           or [i for i in fitting if self._tells_replacement_at(i)]
                           or [i for i in passages if self._tells_replacement_at(i)]
                           or fitting)
            if fitting:
                chosen = own if keep_found and own in fitting else max(fitting, key=closeness)
                break
        else:
            # A follow-up, and no section headed for what it asks ("fee?" after an inspection
            # question, in a guide that tells the fee inside "On-site inspection"): the
            # passage found by the earlier question answered that one; a passage whose
            # sentences carry the aspect answers this one. (A question on its own keeps the
            # passage its own words found.)
            if tiers and not keep_found:
                showing = [i for i in passages if shows(aspect, self.chunks[i]["text"])]
                if showing:
                    chosen = max(showing, key=closeness)
        chunk = self.chunks[chosen]
        if options and aspect == STEPS and len(chunk["headings"]) > 2:
            return self._parent_quote(hit, chosen)
        text = self._whole_section(chosen) or chunk["text"]
        if chosen == own and text == hit.text:
            return hit
        return replace(hit, chunk_id=chunk["id"], headings=tuple(chunk["headings"]), text=text)

    def _section_naming(self, doc_id: str, words: frozenset[str]) -> list[int]:
        """The passages of the one top-level section whose headings name one of `words`,
        a word few guides use (CASE_WORD_SHARE), which the title does not name and at most
        NAMED_ELSEWHERE other sections mention at all: the section about that case
        ("离婚登记简要说明" for 离婚 in a marriage guide); else none. A word most sections use
        ("permit" in a residence-permit guide) names no case."""
        outline = self._outline(doc_id)
        if outline is None:
            return []
        title, sections = outline
        few = self._few_topics(CASE_WORD_SHARE)
        # the rarest word first: it says most precisely which case is asked about
        candidates = sorted((n, word) for word in words if not spelled_by(word, title)
                            and (n := self._topics_holding(word)) <= few)
        for _, word in candidates:
            naming = [n for n, (_, heads, _) in enumerate(sections) if spelled_by(word, heads)]
            if len(naming) != 1:
                continue
            elsewhere = sum(1 for n, (_, _, said) in enumerate(sections)
                            if n != naming[0] and spelled_by(word, said))
            if elsewhere <= NAMED_ELSEWHERE:
                return sections[naming[0]][0]
        return []

    def _outline(self, doc_id: str) -> Outline | None:
        """A document's title words and, per top-level section, its passages, its headings'
        words and its text's words; worked out on first need and remembered."""
        if doc_id not in self._outlines:
            passages = self.passages_of.get(doc_id, ())
            grouped: dict[str, list[int]] = defaultdict(list)
            for i in passages:
                headings = self.chunks[i]["headings"]
                if len(headings) > 1:
                    grouped[headings[1]].append(i)
            self._outlines[doc_id] = None if not passages else (
                set(passage_terms(self.chunks[passages[0]]["headings"][0])),
                [(members,
                  set(passage_terms(" ".join(
                      {h for i in members for h in self.chunks[i]["headings"][1:]}))),
                  set(passage_terms(" ".join(self.chunks[i]["text"] for i in members))))
                 for members in grouped.values()])
        return self._outlines[doc_id]

    def _tells_replacement_at(self, position: int) -> bool:
        chunk = self.chunks[position]
        return tells_replacement(chunk["headings"], chunk["text"])

    def _whole_section(self, position: int) -> str | None:
        """The whole section of passage `position` when it was cut into several passages and is
        short enough to quote (WHOLE_SECTION_CHARS), the sentence the passages share once: "What
        subsidies can disabled people get?" quoted the passage that found it, the second of two
        subsidies, and the first was missing from the answer. None when the passage is the
        whole section, or the section is too long."""
        chunk = self.chunks[position]
        parts = [self.chunks[i]["text"] for i in self.passages_of.get(chunk["doc_id"], ())
                 if self.chunks[i]["headings"] == chunk["headings"]]
        if len(parts) < 2:
            return None
        text, last = parts[0], split_sentences(parts[0])[-1]
        for part in parts[1:]:
            # A passage repeats the sentence before it (`chunking.chunk_document`), with the
            # separator that followed it in the document; one that does not begins a paragraph.
            sentences = split_sentences(part)
            if last == sentences[0] and part.startswith(last):
                text += part[len(last):]
            else:
                text += "\n" + part
            if len(text) > WHOLE_SECTION_CHARS:
                return None
            last = sentences[-1]
        return text

    def _siblings(self, position: int) -> list[int]:
        """The passages under the same parent heading as `position`'s, in document order."""
        chunk = self.chunks[position]
        parent = chunk["headings"][:-1]
        return [i for i in self.passages_of.get(chunk["doc_id"], ())
                if self.chunks[i]["headings"][:-1] == parent
                and len(self.chunks[i]["headings"]) == len(chunk["headings"])]

    def _parent_quote(self, hit: Hit, position: int) -> Hit:
        """The parent section of sub-section `position`, all its sub-sections as one list: each
        sub-section's heading, then its text ("1. 协商：首先与出租人协商…")."""
        siblings = self._siblings(position)
        language = self.chunks[position]["language"]
        separator = "：" if language == "zh" else ": "
        lines: list[str] = []
        last_heading = None
        for i in siblings:
            chunk = self.chunks[i]
            heading = chunk["headings"][-1]
            if heading == last_heading:  # a long sub-section split into several passages
                lines[-1] += ("" if language == "zh" else " ") + chunk["text"]
                continue
            marker = "" if LIST_LINE.match(heading) else "• "
            lines.append(f"{marker}{heading}{separator}{chunk['text']}")
            last_heading = heading
        first = self.chunks[siblings[0]]
        return replace(hit, chunk_id=first["id"], headings=tuple(first["headings"][:-1]),
                       text="\n".join(lines))


def language_shift(vector: np.ndarray, means: dict[str, np.ndarray],
                   language: str | None) -> dict[str, float]:
    """What to add to the cosines of each other language's passages to put them on the
    scale of the question's own language.

    USE-m scores a question higher against any passage in its own language than against
    passages in another: a Chinese question's cosine with unrelated Chinese passages averages
    about 0.08 more than with unrelated English ones. Compared raw, a same-language near miss
    beats the other-language document that answers (我的护照丢了怎么办 found a Chinese
    residence-permit guide above the English passport guide). The shift is that gap for this
    question: its mean cosine with all passages of its language minus its mean cosine with
    the other language's (the dot product with each language's mean vector)."""
    if language is None or language not in means:
        return {}
    query = vector.ravel()
    own = float(query @ means[language])
    return {lang: LANGUAGE_SHIFT_WEIGHT * (own - float(query @ mean))
            for lang, mean in means.items() if lang != language}


def rank_documents(passages: list[Hit], language: str | None, mode: str = "hybrid") -> list[Hit]:
    """One hit per document (its best passage), best first; see the module docstring.

    `passages` carry their cosine (`dense`) and term coverage (`coverage`); `language` is the
    question's (None: the words re-rank within every language, and no pair rule)."""
    if mode == "lexical":
        return _best_per_document([replace(p, score=p.lexical) for p in passages])
    if mode == "dense":
        return _best_per_document([replace(p, score=p.match) for p in passages])
    scored = []
    for p in passages:
        rewarded = language is None or p.language == language
        scored.append(replace(p, score=p.match + (LEXICAL_WEIGHT * p.coverage
                                                  + TITLE_WEIGHT * p.title
                                                  + LEAD_WEIGHT * p.lead
                                                  + PAIRS_WEIGHT * p.pairs if rewarded
                                                  else 0.0)))
    ranked = _best_per_document(scored)
    # Between languages by meaning: each language's documents, in their fused order, take that
    # language's cosines (each document's best passage) in descending order.
    document_dense: dict[str, float] = {}
    for p in passages:
        document_dense[p.doc_id] = max(document_dense.get(p.doc_id, p.match), p.match)
    by_language: dict[str, list[Hit]] = defaultdict(list)
    for hit in ranked:
        by_language[hit.language].append(hit)
    merged = []
    for hits in by_language.values():
        slots = sorted((document_dense[h.doc_id] for h in hits), reverse=True)
        merged += [replace(hit, score=slot) for hit, slot in zip(hits, slots, strict=True)]
    merged.sort(key=lambda h: (-h.score, h.language != language))
    return _prefer_own_half(merged, language)


def _best_per_document(passages: list[Hit]) -> list[Hit]:
    """Each document's best passage; between passages a question of theirs lifts equally, the
    one closest to the citizen's question."""
    best: dict[str, Hit] = {}
    for hit in passages:
        if hit.doc_id not in best or ((hit.score, hit.dense + hit.lexical)
                                      > (best[hit.doc_id].score,
                                         best[hit.doc_id].dense + best[hit.doc_id].lexical)):
            best[hit.doc_id] = hit
    return sorted(best.values(), key=lambda h: -h.score)


def _prefer_own_half(hits: list[Hit], language: str | None) -> list[Hit]:
    """Where the other-language half of a zh/en pair ranks above the half in the question's
    language, the two swap places (and scores); nothing else moves."""
    if language is None:
        return hits
    hits = list(hits)
    for n, hit in enumerate(list(hits)):  # the original order: a moved half moves only once
        if hit.language == language:
            continue
        for m in range(n + 1, len(hits)):
            own = hits[m]
            if (own.language == language and own.doc_id != hit.doc_id
                    and topic_of(own.doc_id) == topic_of(hit.doc_id)):
                hits[n], hits[m] = replace(own, score=hit.score), replace(hit, score=own.score)
                break
    return hits


class Searcher:
    """Serves searches from the current version and picks up newly published ones by itself.

    Loading happens on the calling thread; readers keep using the old version until the new
    one is fully loaded, then the reference is swapped, so a search never sees half a version.
    """

    def __init__(self, settings: KnowledgeBaseSettings | None = None,
                 embedder: Embedder | None = None) -> None:
        self.settings = settings or KnowledgeBaseSettings()
        self._embedder = embedder
        self._loaded: LoadedIndex | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._decider: AnswerabilityModel | bool | None = False  # False: not looked up yet

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model)
        return self._embedder

    def refresh(self, force: bool = False) -> LoadedIndex | None:
        now = time.monotonic()
        if not force and now - self._checked_at < self.settings.reload_interval:
            return self._loaded
        with self._lock:
            self._checked_at = now
            version = current_version(self.settings)
            if version is not None and (self._loaded is None or self._loaded.version != version):
                loaded = LoadedIndex(version_dir(self.settings, version))
                if loaded.manifest["model"] != self.embedder.name:
                    raise RuntimeError(
                        f"index version {version} was built with {loaded.manifest['model']}, "
                        f"but the configured model is {self.embedder.name}: run `kb reindex`"
                    )
                self._loaded = loaded
        return self._loaded

    @property
    def version(self) -> int | None:
        loaded = self.refresh()
        return loaded.version if loaded else None

    def search(self, query: str, language: str | None = None, limit: int = 5,
               today: dt.date | None = None, mode: str = "hybrid") -> list[Hit]:
        """The best documents for a question, each with the passage to quote."""
        query = self.prepared(query)
        return self._quoted(query, *self._found(query, language, limit, today, mode))

    def found(self, query: str, language: str | None = None, limit: int = 5,
              today: dt.date | None = None) -> list[Hit]:
        """The best documents, each with the passage that found it: what the decision to
        answer looks at (`answerability.features`; bench/fit_answerability.py fits on these)."""
        return self._found(self.prepared(query), language, limit, today)[2]

    def _found(self, query: str, language: str | None, limit: int, today: dt.date | None,
               mode: str = "hybrid") -> tuple[LoadedIndex | None, np.ndarray | None, list[Hit]]:
        """Search for a `prepared` query (encoding and BM25 work grow with the text)."""
        loaded = self.refresh()
        if loaded is None or not query.strip():
            return loaded, None, []
        language = language or detect_language(query).language
        vector = self.embedder.encode([query])[0]
        return loaded, vector, loaded.search(vector, query, language, limit,
                                             today or dt.date.today(), mode)

    def _quoted(self, query: str, loaded: LoadedIndex | None, vector: np.ndarray | None,
                hits: list[Hit], asked: str | None = None) -> list[Hit]:
        """Each hit's passage for what is asked: the aspect of `asked` (a follow-up's own
        words: "多久能拿到" after "…需要带什么材料" asks for time), else of the whole query.
        Both are `prepared` already.

        A follow-up that says what it asks ("利率是多少" after "公积金贷款最多贷多少") has
        its section chosen by its own words and meaning: the passage that found the document
        was found by the earlier question's, and quoting it repeated the earlier answer."""
        if loaded is None or vector is None:
            return hits
        own = asked or query
        follow_up_aspect = question_aspect(asked) if asked else None
        aspect = follow_up_aspect or question_aspect(query)
        terms = set(tokenize(query)) if aspect else set()
        if follow_up_aspect:
            vector = self.embedder.encode([asked])[0]
            terms = set(tokenize(asked))
        situation = frozenset(topic_words(own))
        return [loaded.quote(hit, aspect, vector, terms, replacement=asks_replacement(own),
                             options=asks_options(own), keep_found=not follow_up_aspect,
                             situation=situation)
                for hit in hits]

    def prepared(self, query: str) -> str:
        """What is searched (`prepared`), with mistyped English words put back against the
        current version's words (`knowledge_base.spelling`)."""
        query = prepared(query)
        loaded = self.refresh()
        return loaded.spelling.repair(query) if loaded is not None else query

    def names_a_topic(self, query: str) -> bool:
        """Whether a question names what it is about, beyond what it asks for ("要钱吗",
        "where do I apply?" name nothing; `lexical.topic_words`). Such a question is never
        answered on its own: only as a follow-up of an answered one."""
        return bool(topic_words(self.prepared(query)))

    @property
    def answerability(self) -> AnswerabilityModel | None:
        """The fitted classifier, when one is configured for the embedding model in use."""
        if self._decider is False:
            self._decider = self._load_answerability()
        return self._decider  # type: ignore[return-value]

    def _load_answerability(self) -> AnswerabilityModel | None:
        setting = self.settings.answerability.strip()
        if setting.lower() == "off":
            return None
        model = AnswerabilityModel.load(Path(setting) if setting else MODEL_FILE)
        if model.embedding_model != self.embedder.name:
            logger.warning("answerability model was fitted for %s, not %s: deciding by "
                           "GOV_KB_MIN_SCORE instead", model.embedding_model, self.embedder.name)
            return None
        return model

    def answer(self, query: str, language: str | None = None, limit: int = 3,
               today: dt.date | None = None, context: str | None = None) -> Answer:
        """Search, then decide whether the best passage answers the question.

        `context`: the conversation's previous answered question, for a follow-up ("可以吗",
        "what if she only has a residence permit?") that does not name its topic. The question
        is then also searched together with it, and that result is taken only when its
        probability of answering beats the question's own by CONTEXT_MARGIN (`choose`): a
        question about a new topic is answered on its own."""
        query = self.prepared(query)  # and so are the answerability features computed from it
        language = language or (detect_language(query).language if query.strip() else None)
        alone = self._decide(query, language, limit, today)
        # Only with the classifier: the margin was measured on its probability, not on cosines.
        if (not context or not context.strip() or not query.strip()
                or alone.method != "answerability"):
            return alone
        with_context = self._decide(self.prepared(contextual_query(context, query)),
                                    language, limit, today, asked=query)
        loaded = self.refresh()
        if loaded is not None and not loaded.names_a_service(query):
            return choose(alone, with_context, margin=LEANING_MARGIN)
        return choose(alone, with_context)

    def _decide(self, query: str, language: str | None, limit: int,
                today: dt.date | None, asked: str | None = None) -> Answer:
        # Whether to answer is decided on the passages that found the documents; the answer
        # quotes the section the question asks for (`LoadedIndex.quote`).
        loaded, vector, hits = self._found(query, language, max(limit, HITS_NEEDED), today)
        quoted = self._quoted(query, loaded, vector, hits[:limit], asked)
        model = self.answerability
        if model is None:
            confidence = hits[0].similarity if hits else 0.0
            threshold = self.settings.min_score
        else:
            threshold = (self.settings.min_confidence if self.settings.min_confidence
                         is not None else model.threshold)
            confidence = model.probability(features(query, language, hits)) if hits else 0.0
        if hits and not topic_words(query):
            # "要钱吗", "how long does it take?" with nothing before it: the question names no
            # service, and whichever passage mentions fees or times best is a guess.
            confidence = 0.0
        elif (hits and loaded is not None and asks_replacement(asked or query)
                and not loaded.tells_replacement(hits[0].doc_id)):
            # Something lost or stolen, and the document found never speaks of replacing
            # anything: it was found by the thing's name or the situation (医保卡丢了 → the
            # cross-region medical guide), and its steps are for something else.
            confidence = 0.0
        return Answer(quoted, confidence, threshold, "answerability" if model else "dense")


# Markup pasted or typed into a question ("<script>…</script> how do I get a residence
# permit"): its tags and script bodies are not words of the question.
_MARKUP = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|<[^<>]{1,200}>",
                     re.IGNORECASE | re.DOTALL)


def prepared(query: str) -> str:
    """What is searched: the question bounded in length, without markup, with public-service
    terms typed as homophones by a pinyin input method put back (居住正 → 居住证, 社宝卡 →
    社保卡)."""
    return restore_domain_words(_MARKUP.sub(" ", bounded(query)), typed=True)


def contextual_query(context: str, query: str) -> str:
    """What a follow-up is searched as: the previous question, then the new one."""
    return f"{context.strip()} {query.strip()}"


def choose(alone: Answer, with_context: Answer, margin: float | None = None) -> Answer:
    """The contextual result only when it is clearly more likely to answer than the question's
    own: its confidence at least `margin` (default CONTEXT_MARGIN) above, and it answers."""
    margin = CONTEXT_MARGIN if margin is None else margin
    if (with_context.best is not None and with_context.answered
            and with_context.confidence >= alone.confidence + margin):
        return replace(with_context, used_context=True)
    return alone
