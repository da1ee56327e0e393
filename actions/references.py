"""Parsing the references and verification digits citizens type.

Application numbers: GOV-YYYY-NNNNNN. Ticket references: T-YYYYMMDD-NNNNNN. Citizens write
"gov 2024 001234", "ＧＯＶ－２０２４－００１２３４", "申请号是GOV2024001234", "t 20261123 004211" or
paste them with stray dashes; all of these mean the same reference.
"""

from __future__ import annotations

import re
import unicodedata

_SEP = r"[\s\-_.\u2010-\u2015\u2212]*"
_APPLICATION = re.compile(rf"(?<![a-z0-9])gov{_SEP}(\d{{4}}){_SEP}(\d{{6}})(?!\d)", re.IGNORECASE)
# The number without its prefix, as citizens say it aloud ("二零二四 零零一二三四"): a year
# of this century, then six digits, standing alone.
_BARE_APPLICATION = re.compile(r"(?<!\d)(20\d{2})[\s\-_.,，、]*(\d{6})(?!\d)")
# A ticket reference whose T was lost or misheard ("tee", "提"): a date, then six digits.
_BARE_TICKET = re.compile(r"(?<!\d)(20\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
                          r"[\s\-_.,，、]*(\d{6})(?!\d)")
_TICKET = re.compile(rf"(?<![a-z0-9])t{_SEP}(20\d{{6}}){_SEP}(\d{{6}})(?!\d)", re.IGNORECASE)
# Four digits (the last may be X, as on ID cards), possibly spaced out: "5 6 7 8", "尾号1234".
_DIGITS = re.compile(r"(?<![0-9a-z])((?:\d\s*){3}[\dx])(?![0-9a-z])", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"(?<!\d)(\d{10,17}[\dx])(?![0-9a-z])", re.IGNORECASE)


def _fold(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "")


def looks_like_a_number_attempt(text: str) -> bool:
    """True for "it is 12345" or "gov 2024": meant as a number, even if not a valid one."""
    folded = _fold(text)
    return sum(char.isdigit() for char in folded) >= 3 or "gov" in folded.lower()


def parse_application_number(text: str) -> str | None:
    """The canonical application number found in `text`, or None if there is none."""
    match = _APPLICATION.search(_fold(text))
    return f"GOV-{match.group(1)}-{match.group(2)}" if match else None


def parse_ticket_reference(text: str) -> str | None:
    match = _TICKET.search(_fold(text))
    return f"T-{match.group(1)}-{match.group(2)}" if match else None


def parse_reference(text: str) -> str | None:
    """An application number or a ticket reference, whichever the text holds. The prefix
    may be left unsaid or misheard: a bare "2024 001234" is an application number, a bare
    "20261123 004211" (a date, then six digits) a ticket reference."""
    found = parse_application_number(text) or parse_ticket_reference(text)
    if found:
        return found
    folded = _fold(text)
    bare = _BARE_APPLICATION.search(folded)
    if bare:
        return f"GOV-{bare.group(1)}-{bare.group(2)}"
    ticket = _BARE_TICKET.search(folded)
    return f"T-{ticket.group(1)}-{ticket.group(2)}" if ticket else None


def parse_verification_digits(text: str) -> str | None:
    """The last four digits of a phone or ID-card number.

    Accepts the four digits alone ("1234", "尾号 5 6 7 8", "后四位是12 34") or the whole number,
    of which only the last four are kept.
    """
    folded = _fold(text)
    whole = _LONG_NUMBER.search(folded)
    if whole:
        return whole.group(1)[-4:].upper()
    match = _DIGITS.search(folded)
    if match:
        return re.sub(r"\s", "", match.group(1)).upper()
    return None
