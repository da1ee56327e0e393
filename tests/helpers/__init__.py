"""Test helpers: the project's domain responses, so tests never hard-code reply texts."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def domain() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def response_texts(name: str, language: str) -> list[str]:
    """The texts of response `name` for `language`, as written in domain.yml."""
    texts = []
    for variation in domain()["responses"][name]:
        conditions = variation.get("condition", [])
        if any(c["name"] == "language" and c["value"] == language for c in conditions):
            texts.append(variation["text"])
    assert texts, f"{name} has no {language} variation"
    return texts
