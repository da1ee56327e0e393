"""Training the router on a city's own records, measuring it, and activating it only if better.

`import_history` is what `python -m routing import` runs:
1. read and check the file and the mapping (`routing.history`; texts masked as they are read);
2. 5-fold cross-validation over the history, each fold trained on the shipped examples, staff
   reassignments and the other 4/5 (which it also remembers: the nearest records vote, see
   `routing.classifier`): its held-out predictions calibrate the final model (one
   temperature and the ask threshold) and give the report — accuracy, macro-F1, confusions,
   calibration error, the share routed without asking and its accuracy;
3. the first fold's held-out part also decides: if the model in use (the active import or the
   shipped one) routes it better than the new one would, the new model is refused;
4. otherwise the model trained on everything becomes the active one (`routing.models`).
`train_router` is also what `make bench-real` uses for its "with imported history" figures.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from knowledge_base.embedding import Embedder
from routing import examples as stored
from routing.classifier import DepartmentRouter, expected_calibration_error, load_examples
from routing.config import RoutingSettings
from routing.history import ImportRefused, apply_mapping, read_history, read_mapping
from routing.models import save_model
from storage.seed import load_yaml

FOLDS = 5
# A city's own record counts this many times a written example: it is the traffic to route.
HISTORY_WEIGHT = 2.0


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

    def __call__(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        new = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if new:
            grams, dense = self.router.ngram_texts(new), self.router.embed(new)
            self._cache.update({t: (g, d) for t, g, d in zip(new, grams, dense, strict=True)})
        rows = [self._cache[t] for t in texts]
        return [g for g, _ in rows], np.vstack([d for _, d in rows])


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
    """Fit on the base examples plus the history. With history, `count`-fold cross-validation
    over it (each fold trained on all base examples and the other folds) gives the held-out
    scores that calibrate the final model: the city's own records, not our written
    examples, decide what its confidence means."""
    base = base_examples() if base is None else base
    examples = base + history
    grams, dense = featurize([text for text, _ in examples])
    labels = [department for _, department in examples]
    router = DepartmentRouter(featurize.router.embedder)
    router.description = description
    if not history:
        router.fit_features(grams, dense, labels)
        return Trained(router, np.zeros((0, 0)), np.zeros(0, dtype=int))
    weights = np.concatenate([np.ones(len(base)), np.full(len(history), HISTORY_WEIGHT)])
    # The city's records are remembered: the nearest ones vote on each new message.
    remember = np.arange(len(examples)) >= len(base)
    router.fit_features(grams, dense, labels, calibrate=False, weights=weights,
                        remember=remember)
    names = router.departments
    own = np.arange(len(base), len(examples))
    scores = np.full((len(history), len(names)), -1e3)
    first = np.zeros(0, dtype=int)
    for number, (train, held) in enumerate(folds(labels[len(base):], count)):
        keep = np.concatenate([np.arange(len(base)), own[train]])
        fold = DepartmentRouter(featurize.router.embedder).fit_features(
            [grams[i] for i in keep], dense[keep], [labels[i] for i in keep], calibrate=False,
            weights=weights[keep], remember=remember[keep])
        held_scores = fold.scores_from_features([grams[i] for i in own[held]], dense[own[held]])
        for column, name in enumerate(fold.departments):
            scores[held, names.index(name)] = held_scores[:, column]
        first = held if number == 0 else first
    gold = np.array([names.index(label) for label in labels[len(base):]])
    router.calibrate(scores, gold)
    return Trained(router, router.calibrated(scores), first)


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
