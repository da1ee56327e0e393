"""Routing settings, read through the settings registry (common/registry.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.registry import from_env


@dataclass(frozen=True)
class RoutingSettings:
    # The operator's imported model; the running assistant switches to it when the file changes.
    model_file: Path = from_env("GOV_ROUTING_MODEL_FILE")
    # Staff reassignments and imported history kept (masked) for the next import.
    examples_dir: Path = from_env("GOV_ROUTING_EXAMPLES_DIR")
    # Below this confidence the citizen picks the department; unset = the calibrated threshold
    # at which routings made without asking are right `target_precision` of the time.
    min_confidence: float | None = from_env("GOV_ROUTING_MIN_CONFIDENCE")
    target_precision: float = from_env("GOV_ROUTING_TARGET_PRECISION")
    # Largest history file `python -m routing import` reads, and most rows.
    max_import_mb: int = from_env("GOV_ROUTING_MAX_IMPORT_MB")
    max_import_rows: int = from_env("GOV_ROUTING_MAX_IMPORT_ROWS")
