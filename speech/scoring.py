"""Word and character error rates, for the speech benchmark and the round-trip tests."""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"[^\w\s]|_", re.UNICODE)


def _units(text: str, language: str) -> list[str]:
    bare = _PUNCTUATION.sub(" ", text.lower())
    if language == "zh":  # characters, ignoring spaces
        return [char for char in bare if not char.isspace()]
    return bare.split()


def _edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def error_rate(reference: str, hypothesis: str, language: str) -> float:
    """Character error rate for Chinese, word error rate for English (edits / reference)."""
    ref, hyp = _units(reference, language), _units(hypothesis, language)
    return _edit_distance(ref, hyp) / max(len(ref), 1)
