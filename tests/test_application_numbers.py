from __future__ import annotations

import pytest

from actions.application_numbers import looks_like_a_number_attempt, parse_application_number


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
