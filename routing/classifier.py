"""Department routing: multilingual sentence embeddings plus character n-grams, logistic
regression, with probabilities calibrated so that "0.9" means right nine times in ten.

The sentence encoder (the knowledge base's default, Universal Sentence Encoder multilingual)
carries meaning across Chinese and English; character n-grams over normalised text (Traditional
folded to Simplified) catch the concrete nouns ("路灯", "invoice") that decide between
neighbouring departments. Real messages are letters, so both see the text prepared by
`routing.text`: wrapping removed, the subject line weighted, long narratives read as their
subject plus first sentences (the encoder degrades on long text).

A city's imported records are also remembered (their n-gram vectors): the nearest records
vote beside the logistic regression, as a dispatcher recognises a problem already handled
(the same estate's noise, the same company's unpaid wages, the same bus line).

Calibration: a temperature on the model's scores, and an "ask" threshold, both from
out-of-fold predictions of the training data (cross-validation). The temperature comes from
folds that each hold out one topical cluster of every department ("topic-held-out"): real
messages are mostly about matters none of our examples describes, and a model tested only on
near-paraphrases of what it was trained on is made far too sure (on real letters: right
63% of the time, half of them at a confidence near 0.98 but right 79%). The ask threshold
is chosen on ordinary stratified folds so that the routings made without asking are right at least
`target_precision` of the time on messages like our examples — not just on those predictions
but, with the margin a sample of that size needs (a lower confidence bound on the precision),
on the next messages like them. (On topic-held-out folds no threshold reaches the target, and
the citizen would be asked every time.) The topic-held-out scores also fit a map of the top
confidence (slope and intercept in log-odds): on unfamiliar matters being right varies less
with the confidence than any temperature can express (real letters at 0.95 right ~80%, at
0.35 right ~40%). The map is monotone, so it changes which confidence the threshold is, not
which messages are asked. A city's imported records replace all three with its own (the map
is then the identity: its records are the traffic itself).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import csr_matrix, hstack
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from bot.text import normalize
from knowledge_base.config import DEFAULT_MODEL
from knowledge_base.embedding import Embedder, load_embedder
from routing.config import RoutingSettings
from routing.text import for_ngrams, segments

logger = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
TRAINING_DATA = DATA / "training.yml"
# Weight of the sentence embedding against the n-gram block.
EMBEDDING_WEIGHT = 1.5
REGULARISATION_C = 10.0
# N-grams kept: those in at least MIN_DF training texts, once there are MIN_DF_FROM of them.
MIN_DF = 2
MIN_DF_FROM = 100
CALIBRATION_FOLDS = 3
# Topic-held-out folds for the temperature: each department's examples are clustered (k-means
# on the sentence vectors) into this many topics, and fold k holds out one topic of every
# department. Used when every department has at least TOPIC_MIN_EXAMPLES examples; else the
# temperature comes from the stratified folds. 4-6 topics gave temperatures 0.89-0.97 on the
# shipped examples (stratified: 0.65).
TOPIC_FOLDS = 5
TOPIC_MIN_EXAMPLES = 20
# The subject line, when there is one, counts as this many sentences in the pooled embedding.
SUBJECT_WEIGHT = 2.0
# Remembered records (a city's history): the NEIGHBOURS most similar ones (cosine of the n-gram
# vectors) vote, each with weight exp((similarity - best) / NEIGHBOUR_SHARPNESS); the vote's log
# (plus NEIGHBOUR_FLOOR, so a department no neighbour names is not ruled out) is added to the
# model's scores with weight NEIGHBOUR_WEIGHT. At most MAX_REMEMBERED records are kept.
NEIGHBOURS = 10
NEIGHBOUR_SHARPNESS = 0.05
NEIGHBOUR_WEIGHT = 1.5
NEIGHBOUR_FLOOR = 0.02
MAX_REMEMBERED = 20000
# The ask threshold keeps a one-sided lower confidence bound (Wilson, this many standard
# errors) of the direct routings' precision at or above the target.
PRECISION_BOUND_Z = 1.28
# Regularisation of the confidence map's two parameters (effectively none: hundreds of points).
CONFIDENCE_MAP_C = 1e4
_TEMPERATURES = np.geomspace(0.25, 8.0, 121)


def shipped_files() -> list[Path]:
    """The shipped training files: the short requests, then the letter-style examples (long,
    narrative, with salutations, written like real messages) of every letters*.yml file."""
    return [TRAINING_DATA, *sorted(DATA.glob("letters*.yml"))]


@dataclass(frozen=True)
class Candidate:
    department: str
    confidence: float


@dataclass(frozen=True)
class Decision:
    """The likely departments, best first, and whether the citizen should be asked to pick."""

    candidates: list[Candidate]
    ask: bool

    @property
    def department(self) -> str:
        return self.candidates[0].department

    @property
    def confidence(self) -> float:
        return self.candidates[0].confidence


def load_examples(*paths: Path) -> list[tuple[str, str]]:
    """(text, department) pairs from the shipped training files, both languages."""
    examples = []
    for path in paths or shipped_files():
        if not path.exists():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        examples += [(text, department)
                     for department, languages in data["departments"].items()
                     for texts in languages.values() for text in texts]
    return examples


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, gold: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of held-out predictions."""
    best, best_loss = 1.0, np.inf
    for temperature in _TEMPERATURES:
        probabilities = _softmax(scores / temperature)
        loss = -np.mean(np.log(probabilities[np.arange(len(gold)), gold] + 1e-12))
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def _log_odds(probability: np.ndarray) -> np.ndarray:
    clipped = np.clip(probability, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def fit_confidence_map(probabilities: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) such that sigmoid(intercept + slope · log-odds(top probability)) is
    the chance the top department is right, fitted (maximum likelihood) on held-out
    predictions. A temperature can only make every confidence more or less extreme; on
    matters the model has not seen, being right varies less with the confidence than that
    (low ones are too low, high ones too high), which needs a slope below one and an
    intercept. Identity when the held-out predictions are all right or all wrong."""
    correct = probabilities.argmax(axis=1) == gold
    if correct.all() or not correct.any():
        return 0.0, 1.0
    model = LogisticRegression(C=CONFIDENCE_MAP_C, max_iter=1000).fit(
        _log_odds(probabilities.max(axis=1))[:, None], correct)
    slope = float(model.coef_[0, 0])
    # A slope at or below zero would rank the sure ones below the unsure ones: keep the
    # temperature's confidences.
    return (float(model.intercept_[0]), slope) if slope > 0 else (0.0, 1.0)


def with_top_confidence(scores: np.ndarray, confidence_map: tuple[float, float]) -> np.ndarray:
    """Probabilities whose top one is the mapped confidence: each row gets its own
    temperature (found by bisection on its log), so the order of the departments, and the
    ratios among the others, keep what the scores say."""
    probabilities = _softmax(scores)
    intercept, slope = confidence_map
    if (intercept, slope) == (0.0, 1.0) or scores.shape[1] < 2:
        return probabilities
    top = probabilities.max(axis=1)
    floor = 1.0 / scores.shape[1]
    wanted = 1 / (1 + np.exp(-(intercept + slope * _log_odds(top))))
    wanted = np.clip(wanted, floor + 1e-6, 1 - 1e-9)
    low = np.full(len(scores), np.log(1e-3))   # sharper: the top probability rises
    high = np.full(len(scores), np.log(1e3))   # flatter: it falls towards 1 / departments
    for _ in range(50):
        middle = (low + high) / 2
        reached = _softmax(scores / np.exp(middle)[:, None]).max(axis=1)
        sharper = reached < wanted
        high = np.where(sharper, middle, high)
        low = np.where(sharper, low, middle)
    return _softmax(scores / np.exp((low + high) / 2)[:, None])


def choose_ask_threshold(confidence: np.ndarray, correct: np.ndarray, precision: float,
                         z: float = PRECISION_BOUND_Z) -> float:
    """The lowest confidence at which the routings at or above it are right at least
    `precision` of the time (so as many requests as possible go without asking), judged by a
    lower confidence bound (Wilson, `z` standard errors) of their share right: a precision
    just reached on a few hundred held-out predictions would be missed about half the time
    on new messages; the bound keeps a margin that shrinks as the sample grows."""
    order = np.argsort(-confidence)
    count = np.arange(1, len(order) + 1)
    right = np.cumsum(correct[order]) / count
    if z > 0:
        spread = z * np.sqrt(right * (1 - right) / count + z * z / (4 * count * count))
        right = (right + z * z / (2 * count) - spread) / (1 + z * z / count)
    good = np.nonzero(right >= precision)[0]
    if len(good) == 0:
        return 1.0
    # The largest prefix that is precise enough; its last confidence is the threshold.
    return float(confidence[order][good[-1]])


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray,
                               bins: int = 10) -> float:
    """Mean |accuracy − confidence| over equal-width confidence bins, weighted by bin size."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


class DepartmentRouter:
    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder or load_embedder(DEFAULT_MODEL)
        self._ngrams = _vectorizer()
        self._model = LogisticRegression(C=REGULARISATION_C, max_iter=3000)
        self.temperature = 1.0
        # The top confidence's map (intercept, slope in log-odds) fitted on unfamiliar topics;
        # (0, 1) leaves it as the temperature made it.
        self.confidence_map = (0.0, 1.0)
        self.ask_below = 0.5
        # Remembered records: their n-gram vectors (rows) and department (column index).
        self._memory: csr_matrix | None = None
        self._memory_labels = np.zeros(0, dtype=np.int64)
        # Where the fitted model came from (shipped examples, an import), for reports.
        self.description = "shipped examples"

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    @property
    def departments(self) -> list[str]:
        return [str(name) for name in self._model.classes_]

    # --- features -------------------------------------------------------------------------

    def embed(self, texts: list[str]) -> np.ndarray:
        """One vector per message: the subject and the first sentences, each encoded on its
        own, pooled two ways side by side — the weighted mean (the subject counts more), and
        the element-wise maximum, which keeps what the one sentence stating the problem says
        even when the rest of a letter is narrative. The raw text when nothing is left after
        cleaning."""
        pieces, owners, weights = [], [], []
        for index, text in enumerate(texts):
            subject, body = segments(text)
            parts = ([(subject, SUBJECT_WEIGHT)] if subject else []) + [(s, 1.0) for s in body]
            for part, weight in parts or [(text or " ", 1.0)]:
                pieces.append(part)
                owners.append(index)
                weights.append(weight)
        vectors = self._embedder.encode(pieces)
        at = np.asarray(owners)
        mean = np.zeros((len(texts), vectors.shape[1]), np.float32)
        np.add.at(mean, at, vectors * np.asarray(weights, np.float32)[:, None])
        peak = np.full_like(mean, -np.inf)
        np.maximum.at(peak, at, vectors)
        # Each half unit length, the whole unit length: the n-gram balance stays the same.
        return np.hstack([_unit(mean), _unit(peak)]) / np.sqrt(2.0)

    @staticmethod
    def ngram_texts(texts: list[str]) -> list[str]:
        return [normalize(for_ngrams(text)) or normalize(text or "") for text in texts]

    def _ngram_vectors(self, grams: list[str], fit: bool = False) -> csr_matrix:
        if fit:  # a handful of examples (a test, a tiny import) keeps every n-gram
            self._ngrams.set_params(min_df=MIN_DF if len(grams) >= MIN_DF_FROM else 1)
        return self._ngrams.fit_transform(grams) if fit else self._ngrams.transform(grams)

    @staticmethod
    def _combine(sparse: csr_matrix, dense: np.ndarray) -> csr_matrix:
        return hstack([sparse, csr_matrix(dense * EMBEDDING_WEIGHT)]).tocsr()

    # --- training -------------------------------------------------------------------------

    def fit(self, examples: list[tuple[str, str]], calibrate: bool = True,
            target_precision: float | None = None) -> DepartmentRouter:
        texts, labels = (list(column) for column in zip(*examples, strict=True))
        grams, dense = self.ngram_texts(texts), self.embed(texts)
        return self.fit_features(grams, dense, labels, calibrate, target_precision)

    def fit_features(self, grams: list[str], dense: np.ndarray, labels: list[str],
                     calibrate: bool = True, target_precision: float | None = None,
                     calibrate_on: np.ndarray | None = None,
                     weights: np.ndarray | None = None,
                     remember: np.ndarray | None = None) -> DepartmentRouter:
        """Fit on prepared features (lets benchmarks and the importer embed only once).
        `calibrate_on` (a boolean mask) restricts the temperature and the ask threshold to
        the examples most like the traffic to route — a city's own records when imported:
        our written examples are easier than real messages and would make it overconfident.
        `weights` (one per example) count some examples more, e.g. a city's own records.
        `remember` (a boolean mask) marks the examples whose nearest ones vote on new
        messages: a city's own records."""
        sparse = self._ngram_vectors(grams, fit=True)
        self._model.fit(self._combine(sparse, dense), labels, sample_weight=weights)
        self._remember(sparse, labels, remember)
        if calibrate:
            scores, gold = self._out_of_fold_scores(grams, dense, labels, weights, remember)
            topics = _topic_folds(dense, gold)
            unfamiliar = None if topics is None else self._out_of_fold_scores(
                grams, dense, labels, weights, remember, topics)
            if calibrate_on is not None and calibrate_on.any():
                scores, gold = scores[calibrate_on], gold[calibrate_on]
                if unfamiliar is not None:
                    unfamiliar = (unfamiliar[0][calibrate_on], unfamiliar[1][calibrate_on])
            self.calibrate(scores, gold, target_precision, unfamiliar)
        return self

    def calibrate(self, scores: np.ndarray, gold: np.ndarray,
                  target_precision: float | None = None,
                  unfamiliar: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Temperature and ask threshold from held-out scores (columns in `departments`
        order) and the column index of each right department. `unfamiliar` (scores, gold),
        when given, are held-out scores on topics the model did not see: the temperature is
        fitted on them, the threshold still on `scores`; they also fit the confidence map
        (see `fit_confidence_map`)."""
        self.temperature = fit_temperature(*(unfamiliar or (scores, gold)))
        self.confidence_map = (0.0, 1.0) if unfamiliar is None else fit_confidence_map(
            _softmax(unfamiliar[0] / self.temperature), unfamiliar[1])
        probabilities = self.calibrated(scores)
        precision = target_precision or RoutingSettings().target_precision
        self.ask_below = choose_ask_threshold(
            probabilities.max(axis=1), probabilities.argmax(axis=1) == gold, precision)

    def _remember(self, sparse: csr_matrix, labels: list[str],
                  remember: np.ndarray | None) -> None:
        chosen = np.zeros(0, dtype=np.int64) if remember is None else np.flatnonzero(remember)
        if len(chosen) > MAX_REMEMBERED:
            chosen = np.sort(np.random.default_rng(0).choice(chosen, MAX_REMEMBERED,
                                                             replace=False))
        if len(chosen) == 0:
            self._memory, self._memory_labels = None, np.zeros(0, dtype=np.int64)
            return
        classes = list(self._model.classes_)
        self._memory = sparse[chosen].astype(np.float32)
        self._memory_labels = np.asarray([classes.index(labels[i]) for i in chosen])

    @property
    def remembered(self) -> int:
        return 0 if self._memory is None else self._memory.shape[0]

    def neighbour_vote(self, sparse: csr_matrix, batch: int = 512) -> np.ndarray:
        """Each message's share of votes per department (columns in `departments` order) among
        its NEIGHBOURS most similar remembered records."""
        classes = len(self._model.classes_)
        votes = np.zeros((sparse.shape[0], classes))
        if self._memory is None:
            return votes
        count = min(NEIGHBOURS, self._memory.shape[0])
        for start in range(0, sparse.shape[0], batch):
            similarity = (sparse[start:start + batch] @ self._memory.T).toarray()
            nearest = np.argpartition(-similarity, count - 1, axis=1)[:, :count]
            near = np.take_along_axis(similarity, nearest, axis=1)
            weight = np.exp((near - near.max(axis=1, keepdims=True)) / NEIGHBOUR_SHARPNESS)
            rows = np.arange(start, start + len(near))[:, None]
            np.add.at(votes, (np.broadcast_to(rows, nearest.shape),
                              self._memory_labels[nearest]), weight)
        return votes / np.maximum(votes.sum(axis=1, keepdims=True), 1e-12)

    def _scores_of(self, grams: list[str], dense: np.ndarray) -> np.ndarray:
        """The model's scores, plus the remembered records' vote when there are any."""
        sparse = self._ngram_vectors(grams)
        scores = self._scores(self._combine(sparse, dense))
        if self._memory is not None:
            scores = scores + NEIGHBOUR_WEIGHT * np.log(self.neighbour_vote(sparse)
                                                        + NEIGHBOUR_FLOOR)
        return scores

    def scores_from_features(self, grams: list[str], dense: np.ndarray) -> np.ndarray:
        """Uncalibrated scores (before the temperature)."""
        return self._scores_of(grams, dense)

    def calibrated(self, scores: np.ndarray) -> np.ndarray:
        return with_top_confidence(scores / self.temperature, self.confidence_map)

    def _out_of_fold_scores(self, grams: list[str], dense: np.ndarray, labels: list[str],
                            weights: np.ndarray | None = None,
                            remember: np.ndarray | None = None,
                            assigned: np.ndarray | None = None
                            ) -> tuple[np.ndarray, np.ndarray]:
        """Held-out scores of every example and its department's column. Folds stratified
        by department, or `assigned` (a fold number per example) when given."""
        classes = list(self._model.classes_)
        gold = np.asarray([classes.index(label) for label in labels])
        counts = np.bincount(gold, minlength=len(classes))
        folds = int(min(CALIBRATION_FOLDS, counts.min())) if counts.min() >= 2 else 0
        if assigned is None and folds < 2:
            return self._scores_of(grams, dense), gold
        # A department absent from a training fold cannot be predicted for its held-out part.
        scores = np.full((len(labels), len(classes)), -1e3)
        splits = ([(np.flatnonzero(assigned != k), np.flatnonzero(assigned == k))
                   for k in np.unique(assigned)] if assigned is not None else
                  StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(
                      np.zeros(len(labels)), gold))
        for train, held in splits:
            fold = DepartmentRouter(self._embedder)
            fold.fit_features([grams[i] for i in train], dense[train],
                              [labels[i] for i in train], calibrate=False,
                              weights=None if weights is None else weights[train],
                              remember=None if remember is None else remember[train])
            fold_scores = fold._scores_of([grams[i] for i in held], dense[held])
            for column, name in enumerate(fold.departments):
                scores[held, classes.index(name)] = fold_scores[:, column]
        return scores, gold

    def _scores(self, features: csr_matrix) -> np.ndarray:
        scores = self._model.decision_function(features)
        if scores.ndim == 1:  # two departments only: sklearn returns one column
            scores = np.column_stack([-scores / 2, scores / 2])
        return scores

    # --- use ------------------------------------------------------------------------------

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Calibrated probabilities, one row per text, columns in `departments` order."""
        return self.probabilities_from_features(self.ngram_texts(texts), self.embed(texts))

    def probabilities_from_features(self, grams: list[str], dense: np.ndarray) -> np.ndarray:
        return self.calibrated(self._scores_of(grams, dense))

    def rank(self, text: str, top: int = 3) -> list[Candidate]:
        """The most likely departments, best first, with calibrated probabilities."""
        return self.rank_many([text], top)[0]

    def rank_many(self, texts: list[str], top: int = 3) -> list[list[Candidate]]:
        return self.candidates_from(self.probabilities(texts), top) if texts else []

    def candidates_from(self, probabilities: np.ndarray, top: int = 3) -> list[list[Candidate]]:
        names = self.departments
        return [[Candidate(names[i], float(row[i])) for i in np.argsort(-row)[:top]]
                for row in probabilities]

    def predict(self, texts: list[str]) -> list[Candidate]:
        return [ranking[0] for ranking in self.rank_many(texts, 1)]

    @property
    def threshold(self) -> float:
        """The confidence below which the citizen is asked: GOV_ROUTING_MIN_CONFIDENCE when
        set, else the calibrated one."""
        setting = RoutingSettings().min_confidence
        return self.ask_below if setting is None else setting

    def should_ask(self, candidates: list[Candidate]) -> bool:
        """Ask the citizen to pick (or confirm) when the best department is not likely enough."""
        return not candidates or candidates[0].confidence < self.threshold

    def decide(self, text: str, top: int = 3) -> Decision:
        candidates = self.rank(text, top)
        return Decision(candidates, self.should_ask(candidates))

    # --- persistence ----------------------------------------------------------------------

    def parameters(self) -> dict[str, np.ndarray]:
        """Everything needed to rebuild the fitted router, as plain arrays (no pickles)."""
        vocabulary = sorted(self._ngrams.vocabulary_, key=self._ngrams.vocabulary_.get)
        memory = self._memory if self._memory is not None else csr_matrix(
            (0, len(vocabulary)), dtype=np.float32)
        return {
            "vocabulary": np.asarray(vocabulary, dtype=str),
            "idf": self._ngrams.idf_, "coef": self._model.coef_,
            "intercept": self._model.intercept_,
            "classes": np.asarray(self.departments, dtype=str),
            "temperature": np.asarray(self.temperature),
            "confidence_map": np.asarray(self.confidence_map, dtype=np.float64),
            "ask_below": np.asarray(self.ask_below),
            "embedder": np.asarray(self._embedder.name),
            "description": np.asarray(self.description),
            "memory_data": memory.data.astype(np.float32), "memory_indices": memory.indices,
            "memory_indptr": memory.indptr, "memory_labels": self._memory_labels,
        }

    @classmethod
    def from_parameters(cls, arrays: dict[str, np.ndarray],
                        embedder: Embedder | None = None) -> DepartmentRouter:
        router = cls(embedder)
        if str(arrays["embedder"]) != router._embedder.name:
            raise ValueError(f"model was trained with {arrays['embedder']}, "
                             f"not {router._embedder.name}")
        router._ngrams.vocabulary_ = {str(term): i for i, term in enumerate(arrays["vocabulary"])}
        router._ngrams.idf_ = np.asarray(arrays["idf"], dtype=np.float64)
        router._model.classes_ = np.asarray([str(c) for c in arrays["classes"]], dtype=object)
        router._model.coef_ = np.asarray(arrays["coef"], dtype=np.float64)
        router._model.intercept_ = np.asarray(arrays["intercept"], dtype=np.float64)
        router.temperature = float(arrays["temperature"])
        # Files written before the confidence map: the temperature alone.
        if "confidence_map" in arrays:
            intercept, slope = (float(v) for v in arrays["confidence_map"])
            router.confidence_map = (intercept, slope)
        router.ask_below = float(arrays["ask_below"])
        router.description = str(arrays["description"])
        # Files written before records were remembered have no memory: the model alone.
        if "memory_indptr" in arrays and len(arrays["memory_indptr"]) > 1:
            router._memory = csr_matrix(
                (np.asarray(arrays["memory_data"], dtype=np.float32),
                 arrays["memory_indices"], arrays["memory_indptr"]),
                shape=(len(arrays["memory_indptr"]) - 1, len(router._ngrams.vocabulary_)))
            router._memory_labels = np.asarray(arrays["memory_labels"], dtype=np.int64)
        return router


def _topic_folds(dense: np.ndarray, gold: np.ndarray) -> np.ndarray | None:
    """A fold number per example such that fold k holds out one topic (k-means cluster of the
    sentence vectors) of every department, so its held-out examples are on matters the fold's
    model never saw; None when a department has too few examples to cluster."""
    counts = np.bincount(gold)
    if len(counts) < 2 or counts[counts > 0].min() < TOPIC_MIN_EXAMPLES:
        return None
    assigned = np.zeros(len(gold), dtype=np.int64)
    order = np.random.default_rng(0)
    for department in np.unique(gold):
        members = np.flatnonzero(gold == department)
        topics = KMeans(TOPIC_FOLDS, n_init=4, random_state=0).fit_predict(dense[members])
        # Which topic goes to which fold is shuffled, so no fold holds every "first" topic.
        assigned[members] = order.permutation(TOPIC_FOLDS)[topics]
    return assigned


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _vectorizer() -> TfidfVectorizer:
    # An n-gram seen once in the whole training set cannot generalise; leaving those out makes
    # the vocabulary ~4x smaller (long letters bring many) and training ~3x faster.
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=MIN_DF,
                           sublinear_tf=True)


_lock = threading.Lock()
_shipped: DepartmentRouter | None = None


def shipped_router() -> DepartmentRouter:
    """Trained from the project's own examples (callers wait for it), once per process; the
    fitted parameters are cached in the state folder under a hash of the examples and the
    code, so a restart with unchanged data does not train again."""
    global _shipped
    with _lock:
        if _shipped is None:
            _shipped = _cached_or_trained()
        return _shipped


def _cached_or_trained() -> DepartmentRouter:
    from routing.models import load_model, write_model

    embedder = load_embedder(DEFAULT_MODEL)
    digest = hashlib.sha256(embedder.name.encode())
    for path in (*shipped_files(), Path(__file__), Path(__file__).with_name("text.py")):
        digest.update(path.read_bytes() if path.exists() else b"")
    cache = RoutingSettings().model_file.parent / f"shipped-{digest.hexdigest()[:16]}.npz"
    if cache.exists():
        try:
            return load_model(cache, embedder)
        except Exception:  # a damaged cache is rebuilt
            logger.warning("routing cache %s unreadable; training again", cache)
    router = DepartmentRouter(embedder).fit(load_examples())
    try:
        write_model(router, cache)
    except OSError:
        logger.warning("routing cache %s could not be written", cache)
    return router


def default_router() -> DepartmentRouter:
    """The router in use: the operator's imported model when one is active (picked up as soon
    as its file changes, no restart), else the one trained from the shipped examples."""
    from routing.models import active_router

    return active_router() or shipped_router()
