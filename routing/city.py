"""What a city's own records teach the router, and how that is combined with the shipped model.

The shipped model knows our catalogue from examples we wrote; a city's history knows its own
letters, its own words ("物业", "拆迁", "社保卡") and where its own dispatchers drew the lines
between departments. So an import adds two things beside the shipped model rather than
diluting the history among our examples:

- `CityModel`: a linear model trained on the history alone, on TF-IDF of character 1–3-grams
  and of words and word pairs (the project's jieba segmenter), plus the sentence embedding;
- a stacker: a small logistic regression over the scores of both models, learnt on held-out
  scores (the shipped model's cross-validated scores on its own examples, its plain scores on
  the history it never saw, the city model's cross-validated scores on the history), so it
  learns how far to trust each model and the city's boundaries between departments.

Hyperparameters are fixed here a priori (not tuned on any city's data): regularisation as in
the shipped model for the lexical models, weak for the stacker (few inputs, many rows), and the
two sources of stacker rows weighted equally in total.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.segmentation import segmenter

CITY_C = 30.0
STACK_C = 1.0
EMBEDDING_WEIGHT = 2.0


def words(text: str) -> list[str]:
    """Words of an already normalised text (jieba with the project's dictionary), without
    punctuation and spaces."""
    return [word for word in segmenter().lcut(text)
            if word.strip() and any(character.isalnum() for character in word)]


def _char_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)


def _word_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(tokenizer=words, token_pattern=None, lowercase=True,
                           ngram_range=(1, 2), sublinear_tf=True)


def decision_scores(model: LogisticRegression, features) -> np.ndarray:
    """One column per class, also when there are only two (sklearn returns one then)."""
    scores = model.decision_function(features)
    if scores.ndim == 1:
        scores = np.column_stack([-scores / 2, scores / 2])
    return scores


class CityModel:
    """Trained on a city's history only: its vocabulary and its own department boundaries."""

    def __init__(self) -> None:
        self._chars = _char_vectorizer()
        self._words = _word_vectorizer()
        self._model = LogisticRegression(C=CITY_C, max_iter=3000)

    @property
    def classes(self) -> list[str]:
        return [str(name) for name in self._model.classes_]

    def _features(self, grams: list[str], dense: np.ndarray, fit: bool = False) -> csr_matrix:
        if fit:
            blocks = [self._chars.fit_transform(grams), self._words.fit_transform(grams)]
        else:
            blocks = [self._chars.transform(grams), self._words.transform(grams)]
        return hstack([*blocks, csr_matrix(dense * EMBEDDING_WEIGHT)]).tocsr()

    def fit(self, grams: list[str], dense: np.ndarray, labels: list[str]) -> CityModel:
        self._model.fit(self._features(grams, dense, fit=True), labels)
        return self

    def scores(self, grams: list[str], dense: np.ndarray) -> np.ndarray:
        return decision_scores(self._model, self._features(grams, dense))

    def parameters(self) -> dict[str, np.ndarray]:
        arrays = {}
        for name, vectorizer in (("chars", self._chars), ("words", self._words)):
            vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
            arrays[f"city_{name}_vocabulary"] = np.asarray(vocabulary, dtype=str)
            arrays[f"city_{name}_idf"] = vectorizer.idf_
        return arrays | linear_parameters(self._model, "city_")

    @classmethod
    def from_parameters(cls, arrays: dict[str, np.ndarray]) -> CityModel:
        city = cls()
        for name, vectorizer in (("chars", city._chars), ("words", city._words)):
            vocabulary = arrays[f"city_{name}_vocabulary"]
            vectorizer.vocabulary_ = {str(term): i for i, term in enumerate(vocabulary)}
            vectorizer.idf_ = np.asarray(arrays[f"city_{name}_idf"], dtype=np.float64)
        restore_linear(city._model, arrays, "city_")
        return city


def new_stacker() -> LogisticRegression:
    return LogisticRegression(C=STACK_C, max_iter=3000)


def stack_inputs(general: np.ndarray, city: np.ndarray) -> np.ndarray:
    """The stacker's input: both models' scores side by side."""
    return np.hstack([general, city])


def source_weights(base_rows: int, history_rows: int) -> np.ndarray:
    """Sample weights giving our examples and the city's history the same total weight."""
    total = base_rows + history_rows
    return np.concatenate([np.full(base_rows, total / (2 * max(base_rows, 1))),
                           np.full(history_rows, total / (2 * max(history_rows, 1)))])


def linear_parameters(model: LogisticRegression, prefix: str) -> dict[str, np.ndarray]:
    return {f"{prefix}coef": model.coef_, f"{prefix}intercept": model.intercept_,
            f"{prefix}classes": np.asarray([str(c) for c in model.classes_], dtype=str)}


def restore_linear(model: LogisticRegression, arrays: dict[str, np.ndarray],
                   prefix: str) -> LogisticRegression:
    model.classes_ = np.asarray([str(c) for c in arrays[f"{prefix}classes"]], dtype=object)
    model.coef_ = np.asarray(arrays[f"{prefix}coef"], dtype=np.float64)
    model.intercept_ = np.asarray(arrays[f"{prefix}intercept"], dtype=np.float64)
    return model
