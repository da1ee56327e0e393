"""The operator's active routing model: one file in the state folder, swapped atomically.

`python -m routing import` writes it; every process that routes (the action server, the batch
command) looks at the file's modification time and size on use and reloads when they change,
so a new model is picked up without a restart. The file holds plain arrays (`numpy.savez`,
loaded with `allow_pickle=False`): nothing in it can run code. A file that cannot be read
leaves the router that was in use in place.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from routing.classifier import DepartmentRouter
from routing.config import RoutingSettings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
# (path, mtime_ns, size) of the loaded file, and the router built from it.
_loaded: tuple[tuple[str, int, int], DepartmentRouter] | None = None


def write_model(router: DepartmentRouter, path: Path) -> Path:
    """The router's parameters to `path`, atomically: readers see the old file or the new
    one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".model-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as output:
            np.savez(output, **router.parameters())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def save_model(router: DepartmentRouter, report: dict, path: Path | None = None) -> Path:
    """Make the router the active one, with its report beside it (JSON)."""
    path = path or RoutingSettings().model_file
    path.parent.mkdir(parents=True, exist_ok=True)
    report_path = path.with_suffix(".json")
    report_path.with_suffix(".json.tmp").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(report_path.with_suffix(".json.tmp"), report_path)
    return write_model(router, path)


def load_model(path: Path, embedder=None) -> DepartmentRouter:
    with np.load(path, allow_pickle=False) as arrays:
        return DepartmentRouter.from_parameters(dict(arrays), embedder)


def model_report(path: Path | None = None) -> dict | None:
    """The report written with the active model (when, from what, how good), if any."""
    path = (path or RoutingSettings().model_file).with_suffix(".json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def active_router() -> DepartmentRouter | None:
    """The imported model, reloaded when its file changed; None when there is none."""
    global _loaded
    path = RoutingSettings().model_file
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if _loaded is not None and _loaded[0] == key:
            return _loaded[1]
        try:
            router = load_model(path)
        except Exception:  # a bad file must not take routing down
            logger.exception("routing model %s could not be loaded; keeping the previous one",
                             path)
            return _loaded[1] if _loaded is not None else None
        logger.info("routing model loaded from %s (%s)", path, router.description)
        _loaded = (key, router)
        return router

