from __future__ import annotations

import pytest

from actions.references import (
    looks_like_a_number_attempt,
    parse_application_number,
    parse_reference,
    parse_ticket_reference,
    parse_verification_digits,
)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("GOV-2024-001234", "GOV-2024-001234"),
        ("gov 2024 001234", "GOV-2024-001234"),
        ("ＧＯＶ－２０２４－００１２３４", "GOV-2024-001234"),
        ("我的申请号是gov2024001234，帮我查查", "GOV-2024-001234"),
        ("number: Gov—2023—104567.", "GOV-2023-104567"),
        ("GOV_2022_310455", "GOV-2022-310455"),
    ],
)
def test_parses_what_citizens_type(text, number):
    assert parse_application_number(text) == number


@pytest.mark.parametrize(
    "text",
    ["", "12345", "GOV-24-001234", "GOV-2024-0012345", "XGOV-2024-001234", "government 2024"],
)
def test_rejects_what_is_not_a_number(text):
    assert parse_application_number(text) is None


@pytest.mark.parametrize(
    ("text", "attempt"),
    [("it is 12345", True), ("gov", True), ("ＧＯＶ２０２４", True), ("算了不查了", False),
     ("what documents do I need", False), ("", False)],
)
def test_number_attempts(text, attempt):
    assert looks_like_a_number_attempt(text) is attempt


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("T-20261123-004211", "T-20261123-004211"),
        ("what happened to my ticket t 20261123 004211?", "T-20261123-004211"),
        ("工单号Ｔ－２０２６１１２３－００４２１１", "T-20261123-004211"),
        ("GOV-2024-001234", "GOV-2024-001234"),
        # said aloud without the prefix (the voice channel turns 二零二四… into digits)
        ("申请号是2024,001234", "GOV-2024-001234"),
        ("my number is 2024 001234", "GOV-2024-001234"),
        # a ticket whose T was lost or misheard ("tee", "提"): known by its date
        ("提 20261123 004211", "T-20261123-004211"),
        ("tee 20261123004211", "T-20261123-004211"),
    ],
)
def test_parses_ticket_references_and_either_kind(text, reference):
    assert parse_reference(text) == reference


@pytest.mark.parametrize("text", ["T-2026-004211", "AT-20261123-004211", "T-20261123-42"])
def test_rejects_broken_ticket_references(text):
    assert parse_ticket_reference(text) is None


@pytest.mark.parametrize(
    "text", ["13800138000", "1999 001234", "20240012345", "110101199003071234", "2024年",
             "20261323004211", "20261100004211"])  # no month 13, no day 0
def test_phone_and_id_numbers_are_not_references(text):
    assert parse_reference(text) is None


@pytest.mark.parametrize(
    ("text", "digits"),
    [("1234", "1234"), ("尾号 5 6 7 8", "5678"), ("后四位是１２３４", "1234"),
     ("my phone is 13812345678", "5678"), ("身份证后四位 123x", "123X"),
     ("110101199003071234", "1234"), ("it's 12 34", "1234")],
)
def test_verification_digits(text, digits):
    assert parse_verification_digits(text) == digits


@pytest.mark.parametrize("text", ["", "不知道", "12", "123456", "abcd"])
def test_no_verification_digits(text):
    assert parse_verification_digits(text) is None
