"""Property-based tests (hypothesis) for what parses and normalises citizens' input: whatever
they type, these never crash, and what they return keeps its promises."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from actions.references import (
    parse_application_number,
    parse_reference,
    parse_ticket_reference,
    parse_verification_digits,
)
from bot.text import detect_language, normalize
from common.privacy import mask_personal_data
from storage.office_hours import OfficeHours

SEPARATORS = st.sampled_from(["", " ", "-", "－", "—", "_", ".", "  "])
ANY_TEXT = st.text(max_size=300)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(year=st.integers(1990, 2099), serial=st.integers(0, 999999), first=SEPARATORS,
       second=SEPARATORS, wide=st.booleans(), upper=st.booleans(),
       before=st.sampled_from(["", "我的申请号是", "check ", "申請編號："]),
       after=st.sampled_from(["", "，谢谢", " please", "的进度"]))
def test_application_numbers_however_typed(year, serial, first, second, wide, upper,
                                           before, after):
    typed = f"{'GOV' if upper else 'gov'}{first}{year}{second}{serial:06d}"
    text = before + (fullwidth(typed) if wide else typed) + after
    assert parse_application_number(text) == f"GOV-{year}-{serial:06d}"
    assert parse_reference(text) == f"GOV-{year}-{serial:06d}"


@given(day=st.dates(), serial=st.integers(0, 999999), first=SEPARATORS, second=SEPARATORS)
def test_ticket_references_however_typed(day, serial, first, second):
    if day.year < 2000 or day.year > 2099:
        return
    text = f"工单 t{first}{day:%Y%m%d}{second}{serial:06d} 怎么样了"
    assert parse_ticket_reference(text) == f"T-{day:%Y%m%d}-{serial:06d}"


@given(ANY_TEXT)
def test_parsers_never_crash_and_return_canonical_forms(text):
    number, ticket = parse_application_number(text), parse_ticket_reference(text)
    assert number is None or re.fullmatch(r"GOV-\d{4}-\d{6}", number)
    assert ticket is None or re.fullmatch(r"T-20\d{6}-\d{6}", ticket)
    digits = parse_verification_digits(text)
    assert digits is None or re.fullmatch(r"[0-9]{3}[0-9X]", digits)


@given(ANY_TEXT)
def test_normalisation_keeps_length_and_is_stable(text):
    once = normalize(text)
    assert len(once) == len(text)  # offsets into the original stay valid for entities
    assert normalize(once) == once


@given(ANY_TEXT)
def test_language_detection_always_answers_something_sensible(text):
    detection = detect_language(text)
    assert detection.language in (None, "zh", "en")
    assert detection.language is not None or not detection.certain


PHONES = st.builds(lambda second, rest: f"1{second}{rest:09d}",
                   st.sampled_from("3456789"), st.integers(0, 10**9 - 1))
ID_CARDS = st.builds(
    lambda region, day, seq, check: f"{region}{day:%Y%m%d}{seq:03d}{check}",
    st.integers(110000, 659999),
    st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2025, 12, 31)),
    st.integers(0, 999), st.sampled_from("0123456789X"))


@settings(max_examples=200)
@given(phone=PHONES, id_card=ID_CARDS, before=ANY_TEXT.filter(lambda t: not t[-1:].isdigit()),
       middle=st.sampled_from(["，", " and ", "；身份证", ", ID "]),
       after=ANY_TEXT.filter(lambda t: not t[:1].isalnum()))
def test_personal_data_never_survives_masking(phone, id_card, before, middle, after):
    text = f"{before}电话{phone}{middle}{id_card}{after}"
    masked = mask_personal_data(text)
    assert phone not in masked and id_card not in masked
    assert mask_personal_data(masked) == masked


@given(ANY_TEXT)
def test_office_hours_refuse_garbage_clearly(spec):
    try:
        OfficeHours.parse(spec, "Asia/Shanghai")
    except ValueError:
        pass
