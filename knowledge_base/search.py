"""Answering a question from the current index version.

Dense retrieval (cosine of sentence embeddings) finds the answer across languages; BM25 adds
a bounded bonus for exact terms in the query's own language. Each language's candidates are
retrieved separately, so a crowd of same-language near-misses cannot push every passage of
the other language out of the candidate list. Measured here, fusing by rank let
same-language keyword matches push cross-lingual answers out, so the lexical score is only
ever a bonus of at most LEXICAL_WEIGHT (0.05: at 0.15 it cost cross-lingual and typo recall
on the evaluation set), and only for passages whose dense score is within
LEXICAL_MARGIN of the best one: keywords break near-ties, they never overrule meaning (an
English question whose answer is in a Chinese document shares no words with it). Expired and
superseded documents are never returned. (A bonus for passages in the query's language,
meant to prefer the matching half of a zh/en document pair, cost cross-lingual top-1 answers
on the evaluation set and was removed: the encoder already prefers its own language.)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.text import detect_language
from knowledge_base.answerability import (
    HITS_NEEDED,
    MODEL_FILE,
    AnswerabilityModel,
    features,
)
from knowledge_base.config import KnowledgeBaseSettings
from knowledge_base.documents import Metadata
from knowledge_base.embedding import Embedder, load_embedder
from knowledge_base.index import INDEX_FORMAT, current_version, version_dir
from knowledge_base.lexical import LexicalIndex

logger = logging.getLogger(__name__)
DENSE_CANDIDATES = 50
MODES = ("hybrid", "dense", "lexical")  # dense-only and lexical-only exist for the benchmark
LEXICAL_WEIGHT = 0.05
LEXICAL_MARGIN = 0.08


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

    @property
    def confidence(self) -> float:
        """The passage's meaning match alone (keyword bonuses also reward passages that merely
        share words with the question). Whether to answer at all is `Searcher.answer`'s call."""
        return self.dense

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
        self.lexical = LexicalIndex([" ".join(c["headings"]) + " " + c["text"]
                                     for c in self.chunks])
        self.documents = {
            doc_id: Metadata.from_mapping(raw) for doc_id, raw in self.manifest["documents"].items()
        }
        self.ranges = {lang: tuple(r) for lang, r in self.manifest["language_ranges"].items()}

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
        top_lexical = float(lexical.max()) if lexical.size else 0.0
        if top_lexical > 0:
            for i in np.argsort(-lexical)[:k]:
                if lexical[i] > 0 and int(i) not in candidates:
                    candidates[int(i)] = 0.0 if mode == "lexical" else float(
                        np.dot(self.index.reconstruct(int(i)), vector.ravel())
                    )
        best_dense = max(candidates.values(), default=0.0)
        best_per_doc: dict[str, Hit] = {}
        for i, dense in candidates.items():
            chunk = self.chunks[i]
            metadata = self.documents.get(chunk["doc_id"])
            if metadata is None or not metadata.is_current(today):
                continue
            if mode == "lexical":
                weight = 1.0
            elif dense >= best_dense - LEXICAL_MARGIN:
                weight = LEXICAL_WEIGHT
            else:
                weight = 0.0
            bonus = weight * (float(lexical[i]) / top_lexical if top_lexical else 0.0)
            hit = Hit(chunk["id"], chunk["doc_id"], tuple(chunk["headings"]), chunk["text"],
                      chunk["language"], dense + bonus, dense,
                      float(lexical[i]) / top_lexical if top_lexical else 0.0, metadata)
            if hit.doc_id not in best_per_doc or hit.score > best_per_doc[hit.doc_id].score:
                best_per_doc[hit.doc_id] = hit
        return sorted(best_per_doc.values(), key=lambda h: -h.score)[:limit]


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
        loaded = self.refresh()
        if loaded is None or not query.strip():
            return []
        language = language or detect_language(query).language
        vector = self.embedder.encode([query])[0]
        return loaded.search(vector, query, language, limit, today or dt.date.today(), mode)

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
               today: dt.date | None = None) -> Answer:
        """Search, then decide whether the best passage answers the question."""
        language = language or (detect_language(query).language if query.strip() else None)
        hits = self.search(query, language, max(limit, HITS_NEEDED), today)
        model = self.answerability
        if model is None:
            confidence = hits[0].confidence if hits else 0.0
            return Answer(hits[:limit], confidence, self.settings.min_score, "dense")
        threshold = (self.settings.min_confidence if self.settings.min_confidence is not None
                     else model.threshold)
        confidence = model.probability(features(query, language, hits)) if hits else 0.0
        return Answer(hits[:limit], confidence, threshold, "answerability")
