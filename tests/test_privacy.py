from __future__ import annotations

import pytest

from common.privacy import mask_personal_data, masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的身份证是110101199003071234", "我的身份证是[ID ****1234]"),
        ("ID 11010119900307123X please", "ID [ID ****123X] please"),
        ("电话13812345678", "电话[PHONE ****5678]"),
        ("call +86 138-1234-5678", "call [PHONE ****5678]"),
        ("座机 0571-87654321", "座机 [PHONE ****4321]"),
        ("mail me at li.wei@example.com", "mail me at [EMAIL]"),
        ("卡号 6222 0212 3456 7890 123", "卡号 [CARD ****0123]"),
        ("１３８１２３４５６７８", "[PHONE ****5678]"),
    ],
)
def test_masks_personal_data(text, expected):
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    ["GOV-2024-001234", "拨打12345热线", "fee is 200 yuan", "2024-03-01", "", "T-20241105-0032"],
)
def test_leaves_ordinary_text_alone(text):
    assert mask_personal_data(text) == text


def test_text_around_personal_data_is_kept_exactly():
    text = "您好，我的电话是１３８１２３４５６７８！ＧＯＶ号码稍后给您。"
    result = mask_personal_data(text)
    assert result == "您好，我的电话是[PHONE ****5678]！ＧＯＶ号码稍后给您。"
    assert mask_personal_data("您好，请问有什么可以帮您？") == "您好，请问有什么可以帮您？"


class Quoting:
    """An object whose text quotes what a citizen typed (an exception, a request)."""

    def __str__(self) -> str:
        return "failed for 13812345678"


def test_masked_walks_every_container_and_masks_objects_and_url_secrets():
    """The one walk shared by the logs and the stored conversations."""
    value = {"text": "电话13812345678", 7: ("110101199003071234", {"x"}),
             "url": "/webhook?token=s3cr3t&x=1", "error": Quoting(),
             "kept": [None, True, 3, 0.5]}
    assert masked(value) == {
        "text": "电话[PHONE ****5678]", "7": ["[ID ****1234]", ["x"]],
        "url": "/webhook?token=***&x=1", "error": "failed for [PHONE ****5678]",
        "kept": [None, True, 3, 0.5]}
