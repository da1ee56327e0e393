"""Bilingual conversations with the real Rasa server and action server over the REST channel."""

from __future__ import annotations

import pytest

from bot.text import detect_language
from helpers import response_texts
from helpers.chat import RestConversation, assert_reply


@pytest.mark.parametrize(
    ("message", "language"),
    [
        ("你好", "zh"),
        ("您好，在吗", "zh"),
        ("hello there", "en"),
        ("hi, good morning", "en"),
    ],
)
def test_greeting_is_answered_in_the_citizens_language(stack, message, language):
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts(message), "utter_greet", language)


def test_language_follows_each_message(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts("hello"), "utter_greet", "en")
    assert_reply(chat.texts("你是机器人吗"), "utter_iamabot", "zh")
    assert_reply(chat.texts("are you a real person?"), "utter_iamabot", "en")


def test_explicit_language_request_sticks_until_changed(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts("你好"), "utter_greet", "zh")
    assert_reply(chat.texts("请用英文回答"), "utter_language_switched", "en")
    assert_reply(chat.texts("你好"), "utter_greet", "en")
    assert_reply(chat.texts("please answer in Chinese"), "utter_language_switched", "zh")
    assert_reply(chat.texts("hello"), "utter_greet", "zh")


def test_short_ambiguous_message_keeps_the_conversation_language(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts("谢谢你"), "utter_you_are_welcome", "zh")
    assert_reply(chat.texts("ok"), "utter_go_ahead", "zh")


@pytest.mark.parametrize(
    ("message", "language"),
    [
        ("量子色动力学", "zh"),
        ("给我推荐几部好看的电影", "zh"),
        ("what's the best recipe for chocolate cake", "en"),
        ("who won the football match last night", "en"),
    ],
)
def test_off_topic_input_reaches_the_fallback(stack, message, language):
    chat = RestConversation(stack.settings.rasa_url)
    texts = chat.texts(message)
    expected = response_texts("utter_out_of_scope", language) + response_texts(
        "utter_default", language
    )
    assert any(text in expected for text in texts), texts


def test_form_can_be_cancelled(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts("查询办件进度"), "utter_ask_reference_number", "zh")
    assert_reply(chat.texts("算了不查了"), "utter_form_cancelled", "zh")
    assert_reply(chat.texts("你好"), "utter_greet", "zh")


@pytest.mark.parametrize("message", ["help", "帮助", "talk to a person", "转人工",
                                     "I want to make a complaint", "我要投诉"])
def test_every_reply_is_in_one_language(stack, message):
    chat = RestConversation(stack.settings.rasa_url)  # a handoff pauses: one conversation each
    expected = detect_language(message).language or "zh"
    texts = chat.texts(message)
    assert texts
    for text in texts:
        assert detect_language(text).language == expected, (message, text)


def test_stored_conversations_have_personal_data_masked(stack):
    import json
    import sqlite3

    chat = RestConversation(stack.settings.rasa_url)
    chat.texts("我的身份证号是110101199003071234，电话13912345678，公积金怎么提取")
    with sqlite3.connect(stack.settings.tracker_db) as db:
        stored = "\n".join(json.dumps(json.loads(row[0]), ensure_ascii=False) for row in db.execute(
            "select data from events where sender_id = ?", (chat.sender,)))
    assert "公积金怎么提取" in stored
    assert "110101199003071234" not in stored and "13912345678" not in stored
