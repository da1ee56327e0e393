"""Routing settings: environment variables with documented defaults (README "Configuration")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from common.settings import default_state_dir, env, env_path


def _optional_float(name: str) -> float | None:
    value = env(name, "")
    return float(value) if value else None


@dataclass(frozen=True)
class RoutingSettings:
    # The operator's imported model; the running assistant switches to it when the file changes.
    model_file: Path = field(default_factory=lambda: env_path(
        "GOV_ROUTING_MODEL_FILE", str(default_state_dir() / "routing" / "active-model.npz")))
    # Staff reassignments and imported history kept (masked) for the next import.
    examples_dir: Path = field(default_factory=lambda: env_path(
        "GOV_ROUTING_EXAMPLES_DIR", str(default_state_dir() / "routing" / "examples")))
    # Below this confidence the citizen picks the department; unset = the calibrated threshold
    # at which routings made without asking are right `target_precision` of the time.
    min_confidence: float | None = field(
        default_factory=lambda: _optional_float("GOV_ROUTING_MIN_CONFIDENCE"))
    target_precision: float = field(
        default_factory=lambda: float(env("GOV_ROUTING_TARGET_PRECISION", "0.95")))
    # Largest history file `python -m routing import` reads, and most rows.
    max_import_mb: int = field(
        default_factory=lambda: int(env("GOV_ROUTING_MAX_IMPORT_MB", "50")))
    max_import_rows: int = field(
        default_factory=lambda: int(env("GOV_ROUTING_MAX_IMPORT_ROWS", "200000")))
