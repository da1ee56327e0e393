"""Train the Rasa model only when what it is trained from has changed.

The model file is named after a hash of the training inputs (config, domain, training data,
custom components), so an unchanged checkout reuses the model in a second instead of spending
minutes in `rasa train`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from common.settings import PROJECT_ROOT, Settings
from stack.environments import run

TRAINING_INPUTS = ("config.yml", "domain.yml", "bot", "requirements/rasa.lock")
# The load benchmark's stock comparison: `rasa init`'s pipeline and policies on the same data.
STOCK_CONFIG = "bench/stock/config.yml"
STOCK_INPUTS = (STOCK_CONFIG, "domain.yml", "bot/data", "requirements/rasa.lock")
IGNORED_SUFFIXES = (".pyc",)


def training_fingerprint(inputs: tuple[str, ...] = TRAINING_INPUTS) -> str:
    digest = hashlib.sha256()
    for name in inputs:
        root = PROJECT_ROOT / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.suffix in IGNORED_SUFFIXES or "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    return settings.models_dir / f"gov-assistant-{training_fingerprint()}.tar.gz"


def ensure_model(settings: Settings) -> Path:
    """The model for the current training data, training it first if it does not exist yet."""
    target = model_path(settings)
    if not target.is_file():
        print(f"[train] training data changed: training {target.name} ...", flush=True)
        _train(settings, "config.yml", target)
    return target


def ensure_stock_model(settings: Settings) -> Path:
    """The stock comparison model (models/stock/), trained once per data version: DIET, TED and
    UnexpecTED at 100 epochs each take 10-20 minutes on 2 cores."""
    target = (settings.models_dir / "stock"
              / f"stock-{training_fingerprint(STOCK_INPUTS)}.tar.gz")
    if not target.is_file():
        print(f"[train] training the stock configuration {target.name} (10-20 min) ...",
              flush=True)
        _train(settings, STOCK_CONFIG, target)
    return target


def _train(settings: Settings, config: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    run(
        [
            # `rasa train` without the warnings known not to apply (bot/expected_warnings.py)
            str(settings.rasa_venv / "bin" / "python"), "-m", "bot.rasa_cli", "train",
            "--config", config, "--domain", "domain.yml", "--data", "bot/data",
            "--out", str(target.parent), "--fixed-model-name", target.name[: -len(".tar.gz")],
        ],
        env=settings.process_env(),
    )
