"""Masking personal data before anything is logged or stored.

Covers what citizens actually type into a government chat: mainland ID-card numbers (18 digits,
the last may be X), mobile numbers (11 digits starting 1[3-9], with or without +86 and
separators), landlines, e-mail addresses and bank-card numbers. Works on full-width digits too.
`masked` is the one walk over nested data that the logs (common/logs.py) and the stored
conversations (bot/tracker_store.py) share; it also hides secrets quoted in URLs.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_DIGITS_SEP = r"[\s\-]?"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ID", re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])"
                      r"(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")),
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("CARD", re.compile(r"(?<!\d)\d(?:[ \-]?\d){15,18}(?!\d)")),
    ("PHONE", re.compile(r"(?<!\d)(?:\+?86[\s\-]?)?1[3-9]\d" + _DIGITS_SEP + r"\d{4}"
                         + _DIGITS_SEP + r"\d{4}(?!\d)")),
    ("PHONE", re.compile(r"(?<!\d)0\d{2,3}[\s\-]\d{7,8}(?!\d)")),
]


def mask_personal_data(text: str) -> str:
    """Replace personal data with a placeholder that keeps the last 4 characters.

    "身份证110101199003071234" becomes "身份证[ID ****1234]" — enough for staff to match a
    case with the citizen, useless to anyone reading a log. Matching runs on a width-folded copy
    (full-width digits count), but everything outside the masked spans is returned exactly as
    written: "您好，" stays "您好，".
    """
    if not text:
        return text
    # One character for one character, so positions in `folded` are positions in `text`.
    folded = "".join(
        c if len(n := unicodedata.normalize("NFKC", c)) != 1 else n for c in text
    )
    original = text
    for label, pattern in _PATTERNS:
        kept, seen, last = [], [], 0
        for match in pattern.finditer(folded):
            placeholder = _placeholder(label, match.group(0))
            kept += [original[last:match.start()], placeholder]
            seen += [folded[last:match.start()], placeholder]
            last = match.end()
        original = "".join([*kept, original[last:]])
        folded = "".join([*seen, folded[last:]])
    return original


def _placeholder(label: str, value: str) -> str:
    tail = re.sub(r"[\s\-]", "", value)[-4:]
    return f"[{label} ****{tail}]" if label != "EMAIL" else "[EMAIL]"


# A secret in a URL's query (Rasa's API and the action server take theirs as `?token=`), e.g.
# in an access-log line or an error that quotes the URL.
_QUERY_SECRET = re.compile(r"((?:^|[?&;\s])(?:token|auth_token|secret)=)[^&\s\"']+", re.IGNORECASE)


def mask_sensitive(text: str) -> str:
    """Personal data masked and secrets in URLs replaced by `***`."""
    return _QUERY_SECRET.sub(r"\1***", mask_personal_data(text)) if text else text


def masked(value: Any) -> Any:
    """`value` with every string it contains passed through `mask_sensitive`.

    Anything that is not plain JSON-like data is masked as its text (an object's `str` may
    quote what a citizen typed); keys become strings and tuples/sets lists, as JSON has it.
    """
    if isinstance(value, str):
        return mask_sensitive(value)
    if isinstance(value, dict):
        return {str(key): masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [masked(item) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return mask_sensitive(str(value))
