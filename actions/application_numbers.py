"""Parsing application numbers the way citizens type them.

Canonical form: GOV-YYYY-NNNNNN. Citizens write "gov 2024 001234", "ＧＯＶ－２０２４－００１２３４",
"申请号是GOV2024001234" or paste it with stray dashes; all of these mean the same number.
"""

from __future__ import annotations

import re
import unicodedata

_NUMBER = re.compile(
    r"(?<![a-z0-9])gov[\s\-_.\u2010-\u2015\u2212]*(\d{4})[\s\-_.\u2010-\u2015\u2212]*(\d{6})(?!\d)",
    re.IGNORECASE,
)


def looks_like_a_number_attempt(text: str) -> bool:
    """True for "it is 12345" or "gov 2024": meant as a number, even if not a valid one."""
    folded = unicodedata.normalize("NFKC", text or "")
    return sum(char.isdigit() for char in folded) >= 3 or "gov" in folded.lower()


def parse_application_number(text: str) -> str | None:
    """The canonical application number found in `text`, or None if there is none."""
    folded = unicodedata.normalize("NFKC", text or "")
    match = _NUMBER.search(folded)
    if not match:
        return None
    year, serial = match.groups()
    return f"GOV-{year}-{serial}"
