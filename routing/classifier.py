"""Department routing: multilingual sentence embeddings plus character n-grams, logistic regression.

The sentence encoder (the knowledge base's default, Universal Sentence Encoder multilingual)
carries meaning across Chinese and English; character n-grams over normalised text (Traditional
folded to Simplified) catch the concrete nouns ("路灯", "invoice") that decide between
neighbouring departments. Trained from routing/data/training.yml in about a second at start-up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.text import normalize
from knowledge_base.config import DEFAULT_MODEL
from knowledge_base.embedding import Embedder, load_embedder

TRAINING_DATA = Path(__file__).resolve().parent / "data" / "training.yml"
# Weight of the sentence embedding against the n-gram block (chosen on a split of the
# training data, not on the evaluation set).
EMBEDDING_WEIGHT = 2.0


@dataclass(frozen=True)
class Candidate:
    department: str
    confidence: float


def load_examples(path: Path = TRAINING_DATA) -> list[tuple[str, str]]:
    """(text, department) pairs from the training file, both languages."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(text, department)
            for department, languages in data["departments"].items()
            for texts in languages.values() for text in texts]


class DepartmentRouter:
    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder or load_embedder(DEFAULT_MODEL)
        self._ngrams = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=1,
                                       sublinear_tf=True)
        self._model = LogisticRegression(C=30.0, max_iter=3000)

    def _features(self, texts: list[str], fit: bool = False) -> csr_matrix:
        folded = [normalize(text) for text in texts]
        grams = self._ngrams.fit_transform(folded) if fit else self._ngrams.transform(folded)
        dense = self._embedder.encode(texts) * EMBEDDING_WEIGHT
        return hstack([grams, csr_matrix(dense)]).tocsr()

    def fit(self, examples: list[tuple[str, str]]) -> DepartmentRouter:
        texts, labels = zip(*examples, strict=True)
        self._model.fit(self._features(list(texts), fit=True), list(labels))
        return self

    def rank(self, text: str, top: int = 3) -> list[Candidate]:
        """The most likely departments, best first, with probabilities."""
        probabilities = self._model.predict_proba(self._features([text]))[0]
        order = np.argsort(-probabilities)[:top]
        return [Candidate(str(self._model.classes_[i]), float(probabilities[i])) for i in order]

    def predict(self, texts: list[str]) -> list[Candidate]:
        probabilities = self._model.predict_proba(self._features(texts))
        best = probabilities.argmax(axis=1)
        return [Candidate(str(self._model.classes_[i]), float(row[i]))
                for i, row in zip(best, probabilities, strict=True)]


_lock = threading.Lock()
_router: DepartmentRouter | None = None


def default_router() -> DepartmentRouter:
    """Trained once per process from the shipped training data (callers wait for it)."""
    global _router
    with _lock:
        if _router is None:
            _router = DepartmentRouter().fit(load_examples())
        return _router
