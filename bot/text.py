"""Text normalisation, language and script detection shared by the NLU pipeline and the actions.

Both sides must see a citizen's text the same way: full-width forms folded to ASCII, Traditional
characters folded to Simplified, case folded. Every transformation here keeps the text's length
so that character offsets (entity spans) computed on normalised text still point into the
original message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

SUPPORTED_LANGUAGES = ("zh", "en")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# An alphabetic word that is not glued to digits (so "GOV-2024-001234" is a code, not English).
_LATIN_WORD = re.compile(r"(?<![\w-])[a-z]+(?:'[a-z]+)?(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # imported lazily: loading its dictionaries costs ~50 ms

    return opencc.OpenCC("t2s")


def _fold_char(char: str) -> str:
    """Full-width to half-width and lower case, but only where it stays one character."""
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) != 1:
        folded = char
    lowered = folded.lower()
    return lowered if len(lowered) == 1 else folded


@lru_cache(maxsize=1)
def _s2hk():
    import opencc

    return opencc.OpenCC("s2hk")


def _same_length(convert, text: str) -> str:
    """`convert(text)`, phrase-aware, falling back per character where that changes the length
    (so that positions still correspond)."""
    converted = convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(piece if len(piece := convert(char)) == 1 else char for char in text)


def to_simplified(text: str) -> str:
    """Traditional to Simplified, phrase-aware, falling back per character to keep the length."""
    if not _HAN.search(text):
        return text
    return _same_length(_t2s().convert, text)


def normalize(text: str) -> str:
    """The canonical form used for matching: NFKC-folded, lower-cased, Simplified; same length."""
    return to_simplified("".join(_fold_char(char) for char in text))


@dataclass(frozen=True)
class Detection:
    """A language guess; `certain` is False when the text is too short to overrule context."""

    language: str | None
    certain: bool


def detect_language(text: str) -> Detection:
    """Guess whether a message is Chinese or English.

    Chinese words average about 1.5 characters, so Han characters are weighed against English
    words at that rate; a tie goes to Chinese, because mixed messages such as "我想办business
    license" are written by Chinese speakers. Application numbers and other codes do not count.
    """
    text = unicodedata.normalize("NFKC", text)
    han = len(_HAN.findall(text))
    words = len(_LATIN_WORD.findall(text))
    if han == 0 and words == 0:
        return Detection(None, False)
    if han / 1.5 >= words:
        return Detection("zh", han >= 2)
    return Detection("en", words >= 2)


SIMPLIFIED, TRADITIONAL = "simplified", "traditional"
# The names of the two scripts: group 1 Traditional (繁体, 正體, 繁中), group 2 Simplified.
SCRIPT_NAMES = re.compile(r"(繁[体體中文字]|正[体體])|(简[体體中]|簡[体體中])")


def script_of(text: str) -> str | None:
    """TRADITIONAL or SIMPLIFIED when the text's characters say which, else None.

    A character only Traditional is one that Traditional → Simplified changes; one only
    Simplified is one that the Simplified text, converted back with Hong Kong forms, writes
    otherwise (Hong Kong forms, because they keep 台 and 着, which both scripts write; and the
    text converted as a whole, so that 干扰 → 干擾 keeps 干). Whichever kind is more common
    decides; a tie (none of either, as in "是", "好的", "台中") tells nothing.
    """
    if text.isascii():  # English, numbers, payloads: the common case, answered at once
        return None
    han = "".join(_HAN.findall(text))
    if not han:
        return None
    simplified = _same_length(_t2s().convert, han)
    back = _same_length(_s2hk().convert, simplified)
    traditional_only = sum(own != plain for own, plain in zip(han, simplified, strict=True))
    simplified_only = sum(own == plain != other
                          for own, plain, other in zip(han, simplified, back, strict=True))
    if traditional_only > simplified_only:
        return TRADITIONAL
    if simplified_only > traditional_only:
        return SIMPLIFIED
    return None
