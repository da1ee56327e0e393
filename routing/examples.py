"""Training examples the city adds over time, kept masked in the state folder.

- `reassignments.jsonl`: a ticket staff moved to another department — the text with the
  department that really handles it. Appended by the staff workspace.
- `history.jsonl`: the imported history the active model was trained on (rewritten on each
  activated import).

Both are read by the next `python -m routing import` together with the shipped examples. Texts
are masked (`common.privacy.mask_personal_data`) before they are written.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from pathlib import Path

from common.privacy import mask_personal_data
from routing.config import RoutingSettings

REASSIGNMENTS = "reassignments.jsonl"
HISTORY = "history.jsonl"
MAX_TEXT_CHARS = 4000


def _path(name: str) -> Path:
    return RoutingSettings().examples_dir / name


def record_reassignment(text: str, department: str, previous: str, reference: str,
                        actor: str) -> None:
    """Store "this text belongs to `department`" (masked) for the next training."""
    path = _path(REASSIGNMENTS)
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {"text": mask_personal_data(text)[:MAX_TEXT_CHARS], "department": department,
           "previous": previous, "reference": reference, "by": actor,
           "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    with path.open("a", encoding="utf-8") as output:
        fcntl.flock(output, fcntl.LOCK_EX)  # staff may reassign from several pages at once
        output.write(json.dumps(row, ensure_ascii=False) + "\n")


def save_history(examples: list[tuple[str, str]]) -> None:
    path = _path(HISTORY)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as output:
        for text, department in examples:
            output.write(json.dumps({"text": mask_personal_data(text)[:MAX_TEXT_CHARS],
                                     "department": department}, ensure_ascii=False) + "\n")
    os.replace(temporary, path)


def load(name: str, departments: set[str] | None = None) -> list[tuple[str, str]]:
    """(text, department) pairs from one of the files; departments no longer in the
    catalogue are skipped."""
    path = _path(name)
    if not path.exists():
        return []
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash loses that one example only
        text, department = str(row.get("text") or ""), str(row.get("department") or "")
        if text and department and (departments is None or department in departments):
            examples.append((text, department))
    return examples


def reassignments(departments: set[str] | None = None) -> list[tuple[str, str]]:
    return load(REASSIGNMENTS, departments)
