"""Answer or decline: how likely is it that the best passage found answers the question?

One cosine threshold could not tell "the knowledge base has no answer" from "the answer is
there but the encoder is unsure" (README "Knowledge base › Measured"): this encoder gives
near-miss passages and true answers overlapping scores. A small logistic regression over a
handful of signals from the search itself does the deciding instead:

- `dense`          cosine similarity of the best passage, or of its document's closest own
                   question when that is higher (`Hit.match`; what the old threshold looked at);
- `margin`         how far the best passage is ahead of the best passage of another topic
                   (the other-language half of a zh/en document pair does not count as
                   another topic);
- `spread`         how far it stands above the average of the next four documents — a question
                   nothing answers tends to find a flat crowd of loosely related passages;
- `same_language`  whether the passage is in the question's language;
- `coverage`       share of the question's terms (jieba / words, Traditional folded to
                   Simplified) that appear in the passage and its headings, whole or, for a
                   Chinese term, as smaller words that spell it (`lexical.spelled_by`);
- `lexical`        the passage's BM25 score relative to the best BM25 score of any passage;
- `topic`          the weighted share of the question's topic words (its words less those of
                   what it asks for) that the best document holds in the question's language,
                   in its passages, headings or stored questions (`LoadedIndex.topic_share`). A
                   question on a topic next to a guide (newborn medical insurance → the
                   hospital-bill guide, a work permit → the residence-permit guide) finds it by
                   generic words, with a confident cosine; its own topic is not there. Undefined
                   (NaN: counts nothing, as the training mean) where the document has no text
                   in the question's language, or the question no topic words.

None of them grows with the length of the message. (An earlier `query_terms`, the log of the
number of terms, did: with it a long letter to the city passed the threshold on length alone,
and ~99 % of real long messages were "answered".)

The coefficients are fitted by `bench/fit_answerability.py` on a mixture: its own training
questions (`knowledge_base/data/answerability_train.yml`, never the evaluation set), and, when
the real development data is present, real long messages as negatives and real FAQ
paraphrases (aggregate coefficients only; no real text is shipped). They are shipped in
`knowledge_base/data/answerability.json` together with the decision threshold chosen by
cross-validation on that training set, the embedding model the features were measured
with, and how they were produced. Prediction is numpy only. The scores are specific to the
embedding model: with another model (GOV_KB_MODEL) the file does not apply and the plain
dense threshold GOV_KB_MIN_SCORE decides, as before.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from knowledge_base.lexical import passage_terms, spelled_by, tokenize

if TYPE_CHECKING:
    from knowledge_base.search import Hit

MODEL_FILE = Path(__file__).resolve().parent / "data" / "answerability.json"
FEATURES = ("dense", "margin", "spread", "same_language", "coverage", "lexical", "topic")
# How many hits the features look at; searches for the decision ask for at least this many.
HITS_NEEDED = 5
LANGUAGE_SUFFIXES = ("-zh", "-en")


def topic_of(doc_id: str) -> str:
    """The halves of a zh/en document pair ("x-zh", "x-en") share a topic."""
    for suffix in LANGUAGE_SUFFIXES:
        if doc_id.endswith(suffix):
            return doc_id[: -len(suffix)]
    return doc_id


def features(query: str, language: str | None, hits: list[Hit]) -> dict[str, float]:
    """The signals for the best hit; `hits` is the ranked result list (at least HITS_NEEDED
    when the index holds that many documents)."""
    if not hits:
        return dict.fromkeys(FEATURES, 0.0)
    best = hits[0]
    others = [h.match for h in hits[1:HITS_NEEDED]]
    other_topics = [h.match for h in hits[1:] if topic_of(h.doc_id) != topic_of(best.doc_id)]
    terms = set(tokenize(query))
    passage = set(passage_terms(" ".join(best.headings) + " " + best.text))
    return {
        "dense": best.match,
        "margin": best.match - (max(other_topics) if other_topics else 0.0),
        "spread": best.match - (float(np.mean(others)) if others else 0.0),
        "same_language": 1.0 if language is None or best.language == language else 0.0,
        "coverage": (sum(spelled_by(term, passage) for term in terms) / len(terms)
                     if terms else 0.0),
        "lexical": best.lexical,
        "topic": math.nan if best.topic is None else best.topic,
    }


@dataclass(frozen=True)
class AnswerabilityModel:
    """Standardised features → logistic regression → probability the best passage answers."""

    embedding_model: str
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float

    @classmethod
    def from_mapping(cls, raw: dict) -> AnswerabilityModel:
        names = tuple(raw["features"])
        unknown = set(names) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown answerability features: {sorted(unknown)}")
        return cls(
            embedding_model=raw["embedding_model"], features=names,
            mean=np.asarray(raw["mean"], dtype=float), scale=np.asarray(raw["scale"], dtype=float),
            coef=np.asarray(raw["coef"], dtype=float), intercept=float(raw["intercept"]),
            threshold=float(raw["threshold"]),
        )

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerabilityModel:
        return cls.from_mapping(json.loads(Path(path).read_text(encoding="utf-8")))

    def probability(self, values: dict[str, float]) -> float:
        x = (np.array([values[name] for name in self.features]) - self.mean) / self.scale
        x = np.nan_to_num(x, nan=0.0)  # an undefined feature counts as its training mean
        z = float(x @ self.coef) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
