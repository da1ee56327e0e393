"""The real development data (`../shared/data/real/`, README there): read to measure, never copied.

Benchmarks and the answerability fit read it from beside the project root; where it is absent
they print one "not present, skipped" line and carry on with the project's own data.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

REAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real"


def load_real(name: str) -> list[dict] | None:
    """The rows of `<REAL_DIR>/<name>`, or None (with a printed notice) when it is absent."""
    path = REAL_DIR / name
    if not path.is_file():
        print(f"real data {path} not present, skipped")
        return None
    with open(path, encoding="utf-8") as rows:
        return [json.loads(line) for line in rows if line.strip()]


def message_text(row: dict) -> str:
    """A message-board letter as a citizen sent it: the subject line, then the details."""
    return f"{row.get('subject', '').strip()}\n{row.get('details', '').strip()}".strip()


def sample(rows: list, size: int, seed: int) -> list:
    """A reproducible sample (the whole list when it is not larger than `size`)."""
    if len(rows) <= size:
        return list(rows)
    return random.Random(seed).sample(rows, size)
