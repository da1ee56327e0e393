"""Training the router on a city's own records, measuring it, and activating it only if better.

`import_history` is what `python -m routing import` runs:
1. read and check the file and the mapping (`routing.history`; texts masked as they are read);
2. the shipped model (trained on the shipped examples and staff reassignments), a model of the
   city's own history and a stacker over both (`routing.city`); 5-fold cross-validation over
   the history gives held-out predictions that calibrate the final model (one temperature and
   the ask threshold) and give the report — accuracy, macro-F1, confusions,
   calibration error, the share routed without asking and its accuracy;
3. the first fold's held-out part also decides: if the model in use (the active import or the
   shipped one) routes it better than the new one would, the new model is refused;
4. otherwise the model trained on everything becomes the active one (`routing.models`).
`train_router` is also what `make bench-real` uses for its "with imported history" figures.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from knowledge_base.embedding import Embedder
from routing import examples as stored
from routing.city import CityModel, decision_scores, new_stacker, source_weights, stack_inputs
from routing.classifier import DepartmentRouter, expected_calibration_error, load_examples
from routing.config import RoutingSettings
from routing.history import ImportRefused, apply_mapping, read_history, read_mapping
from routing.models import save_model
from storage.seed import load_yaml

FOLDS = 5


def catalogue_departments() -> set[str]:
    return {row["id"] for row in load_yaml("departments.yml")["departments"]}


@dataclass
class Evaluation:
    """How a router did on labelled requests (gold departments)."""

    n: int
    accuracy: float
    macro_f1: float
    ece: float
    routed_share: float
    routed_accuracy: float
    confusions: list[tuple[str, str, int]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"n={self.n} accuracy {self.accuracy:.3f}  macro-F1 {self.macro_f1:.3f}  "
                f"ECE {self.ece:.3f}  routed without asking {self.routed_share:.0%} "
                f"(right {self.routed_accuracy:.3f})")


def evaluate(departments: list[str], probabilities: np.ndarray, gold: list[str],
             routed: np.ndarray, group=lambda department: department) -> Evaluation:
    """Figures for `probabilities` (rows = requests, columns = `departments`); `routed` says
    which requests went without asking; `group` maps departments to the level scored (e.g. a
    message board's categories)."""
    predicted = [group(departments[i]) for i in probabilities.argmax(axis=1)]
    truth = [group(g) for g in gold]
    correct = np.array([p == t for p, t in zip(predicted, truth, strict=True)])
    confusions = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
    return Evaluation(
        n=len(gold), accuracy=float(correct.mean()),
        macro_f1=float(f1_score(truth, predicted, average="macro", labels=sorted(set(truth)),
                                zero_division=0)),
        ece=expected_calibration_error(probabilities.max(axis=1), correct),
        routed_share=float(routed.mean()),
        routed_accuracy=float(correct[routed].mean()) if routed.any() else 1.0,
        confusions=[(t, p, n) for (t, p), n in confusions.most_common(10)],
    )


def routed_without_asking(router: DepartmentRouter, probabilities: np.ndarray) -> np.ndarray:
    return probabilities.max(axis=1) >= router.threshold


class Featurizer:
    """Features of each text computed once (the sentence encoder is the slow part), reused
    across folds and by the final training."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.router = DepartmentRouter(embedder)
        self._cache: dict[str, tuple[str, np.ndarray]] = {}
        self._general: dict[str, tuple[DepartmentRouter, np.ndarray]] = {}

    def __call__(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        new = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if new:
            grams, dense = self.router.ngram_texts(new), self.router.embed(new)
            self._cache.update({t: (g, d) for t, g, d in zip(new, grams, dense, strict=True)})
        rows = [self._cache[t] for t in texts]
        return [g for g, _ in rows], np.vstack([d for _, d in rows])

    def general_part(self, base: list[tuple[str, str]], grams: list[str],
                     dense: np.ndarray) -> tuple[DepartmentRouter, np.ndarray]:
        """A fresh router whose general part is fitted on `base` (features given), and that
        part's held-out scores on `base`; the fit is shared by calls with the same base
        (cross-validation folds, the final model) since it is the slow part."""
        key = hashlib.sha256(json.dumps(base, ensure_ascii=False).encode()).hexdigest()
        if key not in self._general:
            labels = [department for _, department in base]
            router = DepartmentRouter(self.router.embedder).fit_features(
                grams, dense, labels, calibrate=False)
            self._general[key] = (router, router.out_of_fold_scores(grams, dense, labels)[0])
        router, scores = self._general[key]
        return copy.copy(router), scores


def base_examples() -> list[tuple[str, str]]:
    """The shipped examples plus the staff's reassignments (departments still in the catalogue)."""
    return load_examples() + stored.reassignments(catalogue_departments())


@dataclass
class Trained:
    """A router trained with history, and its held-out view of that history."""

    router: DepartmentRouter
    # Calibrated probabilities of each history row from the fold that did not train on it.
    out_of_fold: np.ndarray
    first_fold: np.ndarray  # the history rows held out by the first fold


def train_with_history(history: list[tuple[str, str]], featurize: Featurizer,
                       base: list[tuple[str, str]] | None = None,
                       description: str = "imported history", count: int = FOLDS) -> Trained:
    """The shipped (general) model fitted on the base examples; with history, a city model
    fitted on the history and a stacker over both models' scores (`routing.city`).
    `count`-fold cross-validation over the history gives the stacker its city-model inputs
    and the held-out scores that calibrate the final model: the city's own records, not our
    written examples, decide what its confidence means."""
    base = base_examples() if base is None else base
    examples = base + history
    grams, dense = featurize([text for text, _ in examples])
    labels = [department for _, department in examples]
    router = DepartmentRouter(featurize.router.embedder)
    router.description = description
    if len(set(labels[len(base):])) < 2:  # no city model can be learnt from one department
        router.fit_features(grams, dense, labels, calibrate=not history)
        if not history:
            return Trained(router, np.zeros((0, 0)), np.zeros(0, dtype=int))
        return _calibrated_on_history(router, grams, dense, labels, len(base), count)
    size = len(base)
    # The general model never sees the history; on its own examples, held-out scores.
    router, general_base = featurize.general_part(base, grams[:size], dense[:size])
    router.description = description
    general = np.vstack([general_base, router.general_scores(grams[size:], dense[size:])])
    # The city model: cross-validated scores on the history, full-fit scores on the base.
    own = labels[size:]
    city_names = sorted(set(own))
    city_scores = np.zeros((len(examples), len(city_names)))
    splits = folds(own, count)
    for train, held in splits:
        fold = CityModel().fit([grams[size + i] for i in train], dense[size + train],
                               [own[i] for i in train])
        city_scores[size + held] = _columns(
            fold.scores([grams[size + i] for i in held], dense[size + held]),
            fold.classes, city_names)
    city = CityModel().fit(grams[size:], dense[size:], own)
    city_scores[:size] = _columns(city.scores(grams[:size], dense[:size]), city.classes,
                                  city_names)
    inputs, weights = stack_inputs(general, city_scores), source_weights(size, len(own))
    stacker = new_stacker().fit(inputs, labels, sample_weight=weights)
    router.attach_city(city, stacker)
    # The stacker's held-out scores on the history: calibration and the import's report.
    names = router.departments
    scores = np.full((len(own), len(names)), -1e3)
    for train, held in splits:
        keep = np.concatenate([np.arange(size), size + train])
        fold_stacker = new_stacker().fit(inputs[keep], [labels[i] for i in keep],
                                         sample_weight=weights[keep])
        held_scores = decision_scores(fold_stacker, inputs[size + held])
        for column, name in enumerate(fold_stacker.classes_):
            scores[held, names.index(str(name))] = held_scores[:, column]
    gold = np.array([names.index(label) for label in own])
    router.calibrate(scores, gold)
    return Trained(router, router.calibrated(scores), splits[0][1])


def _columns(scores: np.ndarray, have: list[str], want: list[str]) -> np.ndarray:
    """Scores rearranged to the `want` columns; a department the fold could not learn gets
    the row's lowest score."""
    out = np.repeat(scores.min(axis=1, keepdims=True), len(want), axis=1)
    for column, name in enumerate(have):
        out[:, want.index(name)] = scores[:, column]
    return out


def _calibrated_on_history(router: DepartmentRouter, grams: list[str], dense: np.ndarray,
                           labels: list[str], size: int, count: int) -> Trained:
    """A router fitted on base + history together (no city model), calibrated on
    `count`-fold held-out scores of the history."""
    names = router.departments
    own = np.arange(size, len(labels))
    scores = np.full((len(own), len(names)), -1e3)
    splits = folds(labels[size:], count)
    for train, held in splits:
        keep = np.concatenate([np.arange(size), own[train]])
        fold = DepartmentRouter(router.embedder).fit_features(
            [grams[i] for i in keep], dense[keep], [labels[i] for i in keep], calibrate=False)
        held_scores = fold.scores_from_features([grams[i] for i in own[held]], dense[own[held]])
        for column, name in enumerate(fold.departments):
            scores[held, names.index(name)] = held_scores[:, column]
    gold = np.array([names.index(label) for label in labels[size:]])
    router.calibrate(scores, gold)
    return Trained(router, router.calibrated(scores), splits[0][1])


def train_router(history: list[tuple[str, str]], featurize: Featurizer,
                 base: list[tuple[str, str]] | None = None,
                 description: str = "imported history") -> DepartmentRouter:
    """A calibrated router trained on the base examples plus the history."""
    return train_with_history(history, featurize, base, description).router


def predict(router: DepartmentRouter, featurize: Featurizer, texts: list[str]) -> np.ndarray:
    return router.probabilities_from_features(*featurize(texts))


def folds(labels: list[str], count: int = FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds (seeded); a department with fewer rows than folds is spread as it can."""
    counts = Counter(labels)
    usable = max(2, min(count, max(counts.values())))
    strata = [label if counts[label] >= usable else "_rare" for label in labels]
    if Counter(strata).most_common()[-1][1] < usable:
        strata = ["_all"] * len(labels)
    splitter = StratifiedKFold(n_splits=usable, shuffle=True, random_state=0)
    return list(splitter.split(np.zeros(len(labels)), strata))


@dataclass
class ImportResult:
    rows: int
    departments: dict[str, int]
    cross_validated: Evaluation
    held_out_new: float
    held_out_current: float
    current: str
    activated: bool
    model_file: str | None = None

    def report(self) -> dict:
        data = asdict(self)
        data["at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        return data


class ImportWorse(ImportRefused):
    """The new model routes the held-out part worse than the one in use: not activated."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__(
            f"not activated: on the held-out part the new model is right "
            f"{result.held_out_new:.3f}, the model in use ({result.current}) "
            f"{result.held_out_current:.3f}; the model in use stays",
            f"未启用：在留出部分上，新模型正确率 {result.held_out_new:.3f}，"
            f"当前模型（{result.current}）{result.held_out_current:.3f}；继续使用当前模型")
        self.result = result


def import_history(path: Path, mapping_path: Path, text_columns: list[str] | None = None,
                   category_column: str | None = None, activate: bool = True,
                   current: DepartmentRouter | None = None,
                   featurize: Featurizer | None = None) -> ImportResult:
    """Check, cross-validate, compare with the model in use and (if not worse) activate.
    Raises ImportRefused (bilingual) on bad input, ImportWorse when the new model is worse;
    in both cases nothing is written and the model in use stays."""
    from routing.classifier import default_router

    departments = catalogue_departments()
    mapping = read_mapping(mapping_path, departments)
    history = apply_mapping(read_history(path, text_columns, category_column), mapping)
    if len(history) < FOLDS * 2:
        raise ImportRefused(f"{path.name}: {len(history)} usable rows; at least {FOLDS * 2} "
                            f"are needed to measure a model",
                            f"{path.name}：可用记录 {len(history)} 条，"
                            f"至少需要 {FOLDS * 2} 条才能评估模型")
    featurize = featurize or Featurizer()
    current = current or default_router()
    labels = [department for _, department in history]
    trained = train_with_history(
        history, featurize, description=f"imported history ({path.name}, {len(history)} rows)")
    router, held = trained.router, trained.first_fold
    cross_validated = evaluate(router.departments, trained.out_of_fold, labels,
                               routed_without_asking(router, trained.out_of_fold))
    texts = [history[i][0] for i in held]
    result = ImportResult(
        rows=len(history), departments=dict(Counter(labels).most_common()),
        cross_validated=cross_validated,
        held_out_new=_accuracy(router, trained.out_of_fold[held], [labels[i] for i in held]),
        held_out_current=_accuracy(current, current.probabilities(texts),
                                   [labels[i] for i in held]),
        current=current.description, activated=False)
    if result.held_out_new < result.held_out_current:
        raise ImportWorse(result)
    if activate:
        result.model_file = str(RoutingSettings().model_file)
        result.activated = True
        stored.save_history(history)
        save_model(router, result.report())
    return result


def _accuracy(router: DepartmentRouter, probabilities: np.ndarray, gold: list[str]) -> float:
    names = router.departments
    return float(np.mean([names[i] == g for i, g in
                          zip(probabilities.argmax(axis=1), gold, strict=True)]))
