"""Replies in the citizen's script (bot/scripts.py): which script a message and a conversation
are written in, and what of a reply is converted (real OpenCC, no Rasa)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from bot import scripts
from bot.text import SIMPLIFIED, TRADITIONAL, script_of
from channels.limits import refusal
from channels.rendering import as_plain_text
from common.settings import PROJECT_ROOT


@dataclass
class Event:
    """The two attributes of a Rasa event that the script is read from."""

    type_name: str
    text: str | None


def said(*texts: str) -> list[Event]:
    """A conversation: each citizen message answered by the bot."""
    return [event for text in texts for event in (Event("user", text), Event("bot", "好的"))]


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("我想查詢申請進度", TRADITIONAL),
        ("請問公積金怎麼提取", TRADITIONAL),
        ("裏面寫的是什麼", TRADITIONAL),  # Hong Kong forms
        ("身分證在哪裡辦", TRADITIONAL),  # Taiwan forms
        ("干擾", TRADITIONAL),  # 干 is Traditional too here
        ("我想查询申请进度", SIMPLIFIED),
        ("我着急，想知道后来怎样", SIMPLIFIED),
        ("几点开门", SIMPLIFIED),
        ("是", None),
        ("好的", None),
        ("台中", None),  # both scripts write it so
        ("1", None),
        ("GOV-2024-001234", None),
        ("/affirm", None),
        ("How do I renew my passport?", None),
        ("", None),
    ],
)
def test_the_script_a_message_is_written_in(text, script):
    assert script_of(text) == script


def test_the_latest_message_that_tells_decides_and_a_neutral_one_keeps_it():
    assert scripts.conversation_script("c1", said("我想查詢申請進度", "1", "是")) == TRADITIONAL
    assert scripts.conversation_script("c1", said("我想查詢申請進度", "谢谢你")) == SIMPLIFIED
    assert scripts.conversation_script("c1", said("谢谢你", "謝謝你", "ok")) == TRADITIONAL
    assert scripts.conversation_script("c1", said("hello", "是")) is None
    assert scripts.conversation_script("c1", []) is None


def test_a_spoken_conversation_stays_simplified():
    assert scripts.conversation_script("voice:abc123", said("我想查詢申請進度")) is None


def test_conversion_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(scripts, "CONVERSION", "off")
    assert scripts.conversation_script("c1", said("我想查詢申請進度")) is None
    assert scripts.in_script("申请进度", TRADITIONAL) == "申请进度"


def test_the_configured_forms_are_used(monkeypatch):
    assert scripts.in_script("为了说明里面的情况", TRADITIONAL) == "為了説明裏面的情況"
    monkeypatch.setattr(scripts, "CONVERSION", "s2tw")
    assert scripts.in_script("为了说明里面的情况", TRADITIONAL) == "為了說明裡面的情況"


def test_addresses_reference_numbers_and_english_are_kept():
    text = ("办理进度：已受理。详见 https://www.example.gov.cn/办事指南/说明，"
            "编号 GOV-2024-001234。Reply 1 to continue.")
    assert scripts.in_script(text, TRADITIONAL) == (
        "辦理進度：已受理。詳見 https://www.example.gov.cn/办事指南/说明，"
        "編號 GOV-2024-001234。Reply 1 to continue.")
    assert scripts.in_script(text, SIMPLIFIED) == text
    assert scripts.in_script(text, None) == text


def test_a_message_converts_its_text_and_titles_never_its_payloads():
    message = {"text": "这个回答对您有帮助吗？", "image": "https://x.example/图.png",
               "buttons": [{"title": "有帮助", "payload": "/feedback_helpful"},
                           {"title": "没帮助", "payload": '/choose{"department":"环保局"}'}],
               "custom": {"note": "内部数据"}}
    converted = scripts.message_in_script(message, TRADITIONAL)
    assert converted["text"] == "這個回答對您有幫助嗎？"
    assert [b["title"] for b in converted["buttons"]] == ["有幫助", "沒幫助"]
    assert [b["payload"] for b in converted["buttons"]] == \
        [b["payload"] for b in message["buttons"]]
    assert converted["image"] == message["image"] and converted["custom"] == message["custom"]
    assert message["text"] == "这个回答对您有帮助吗？"  # the stored event's message unchanged
    assert scripts.message_in_script(message, SIMPLIFIED) is message


def test_a_channels_refusal_is_in_the_script_of_the_refused_message():
    assert refusal("too_many", "請問這個證件怎麼辦") == "您發送得太快了，請稍等片刻再發。"
    assert refusal("too_many", "请问这个证件怎么办") == "您发送得太快了，请稍等片刻再发。"
    assert refusal("too_many", "hello there") == "You are sending messages too quickly; " \
                                                 "please wait a moment."


def test_a_plain_text_reply_labels_its_options_in_the_replys_script():
    buttons = [{"title": "有幫助", "payload": "/feedback_helpful"}]
    assert "您可以回覆：" in as_plain_text([{"text": "這個回答對您有幫助嗎？", "buttons": buttons}])
    assert "您可以回复：" in as_plain_text([{"text": "这个回答对您有帮助吗？", "buttons": buttons}])


@dataclass
class Said(Event):
    """A citizen message with the intent the NLU gave it."""

    intent: dict


def switch(text: str) -> Said:
    return Said("user", text, {"name": "switch_language"})


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("请用繁体字回复", TRADITIONAL),
        ("請用繁體中文回覆", TRADITIONAL),
        ("我看不懂繁体字", SIMPLIFIED),
        ("请用简体中文回答", SIMPLIFIED),
        ("請改用簡體", SIMPLIFIED),
        ("请用英文回答", None),
    ],
)
def test_a_script_asked_for_by_name(text, script):
    assert scripts.requested_script(switch(text)) == script


def test_an_explicit_request_wins_until_another_one():
    events = [*said("你好"), switch("请用繁体字回复"), *said("我想查询申请进度")]
    assert scripts.conversation_script("c1", events) == TRADITIONAL
    events += [switch("还是用简体吧"), *said("謝謝")]
    assert scripts.conversation_script("c1", events) == SIMPLIFIED
    # the words alone, outside a request to switch, are a question like any other
    assert scripts.conversation_script("c1", said("繁体字的证件怎么办")) == SIMPLIFIED


def test_an_unknown_conversion_is_refused_at_start():
    result = subprocess.run([sys.executable, "-c", "import bot.scripts"], cwd=PROJECT_ROOT,
                            env={**os.environ, "GOV_TRADITIONAL_REPLIES": "s2twp"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "GOV_TRADITIONAL_REPLIES must be one of" in result.stderr
