"""Preparing the state a fresh install needs: database schema, demo case data and the sample
knowledge base, the department router of the shipped examples."""

from __future__ import annotations

from common.settings import Settings
from stack.environments import run


def ensure_data(settings: Settings) -> None:
    """Idempotent: migrations run to head; the department catalogue is refreshed and demo
    applications generated only into an empty table; the sample KB is loaded only into an
    empty store, and the index is rebuilt only when missing, stale or built with another model;
    the router of the shipped examples is trained only when they (or its code) changed."""
    python = str(settings.app_venv / "bin" / "python")
    env = settings.process_env()
    run([python, "-m", "storage.migrate"], env=env)
    run([python, "-m", "storage.seed"], env=env)
    run([python, "-m", "knowledge_base", "seed"], env=env)
    run([python, "-m", "routing", "prepare"], env=env)
