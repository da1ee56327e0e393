"""Language detection and normalisation shared by the NLU pipeline and the actions."""

from __future__ import annotations

import pytest

from bot.text import detect_language, normalize, to_simplified


@pytest.mark.parametrize(
    ("text", "language", "certain"),
    [
        ("怎么办理营业执照", "zh", True),
        ("公積金可以提取嗎", "zh", True),
        ("How do I apply for the elderly care subsidy?", "en", True),
        ("我想办business license", "zh", True),
        ("please answer in 中文", "en", True),
        ("ok 好的", "zh", True),
        ("ok", "en", False),
        ("好", "zh", False),
        ("GOV-2024-001234", None, False),
        ("12345", None, False),
        ("", None, False),
        ("👍👍", None, False),
        ("ＨＥＬＬＯ ｔｈｅｒｅ", "en", True),
    ],
)
def test_detect_language(text, language, certain):
    detection = detect_language(text)
    assert (detection.language, detection.certain) == (language, certain)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("請問護照怎麼辦理", "请问护照怎么办理"),
        ("ＧＯＶ－２０２４", "gov-2024"),
        ("Business LICENSE", "business license"),
        ("我要轉人工", "我要转人工"),
    ],
)
def test_normalize(raw, normalized):
    assert normalize(raw) == normalized


@pytest.mark.parametrize(
    "text", ["請問護照怎麼辦理…", "ﬁle 頭髮 İstanbul ＡＢＣ", "後台乾隆皇帝", "①②③ ㍻", ""]
)
def test_normalize_keeps_length_so_entity_offsets_stay_valid(text):
    assert len(normalize(text)) == len(text)


def test_to_simplified_leaves_non_chinese_text_alone():
    assert to_simplified("Hello, world") == "Hello, world"
