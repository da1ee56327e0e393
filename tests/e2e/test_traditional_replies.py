"""A citizen who writes Traditional Chinese is answered in Traditional characters, on every text
channel (bot/scripts.py), by the real Rasa server, action server and knowledge base: domain
responses with their buttons' titles, knowledge-base passages, and the channels' own refusals.
A message that tells nothing ("ok", a number) keeps the conversation's script; Simplified and
English are answered as before. What is expected is converted here with OpenCC itself, in the
configured forms (Hong Kong's by default; with the conversion switched off these tests fail,
as they should)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid

import opencc

from bot import scripts
from bot.text import TRADITIONAL, script_of
from fakes import telegram
from fakes.wechat import WeChatServer, text_xml
from helpers import response_texts
from helpers.chat import RestConversation, assert_reply
from helpers.socket_chat import Citizen
from helpers.voice import VoiceConversation
from storage.seed import demo_applicants

HELP_ZH = "请问你可以帮我做什么"
HELP_TRADITIONAL = "請問你可以幫我做什麼"


CONVERT = opencc.OpenCC("s2hk" if scripts.CONVERSION == "off" else scripts.CONVERSION).convert


def traditional(response: str) -> list[str]:
    """The Chinese texts of domain response `response`, as a Traditional reader gets them."""
    return [CONVERT(text) for text in response_texts(response, "zh")]


def converted_message(message: dict) -> dict:
    """A bot message as a Traditional reader gets it: text and button titles converted."""
    converted = {**message, "text": CONVERT(message["text"])}
    if "buttons" in message:
        converted["buttons"] = [{**button, "title": CONVERT(button["title"])}
                                for button in message["buttons"]]
    return converted


def test_a_traditional_question_is_answered_in_traditional_with_its_buttons(stack):
    chat = RestConversation(stack.settings.rasa_url)
    [reply] = chat.say(HELP_TRADITIONAL)
    assert reply["text"] in traditional("utter_help")
    assert [b["title"] for b in reply["buttons"]] == ["查詢申請進度", "轉人工"]
    assert [b["payload"] for b in reply["buttons"]] == \
        ["/check_application_status", "/human_handoff"]


def test_a_traditional_greeting_is_understood_and_answered_in_traditional(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert set(chat.texts("哈囉，請問有人在嗎")) & set(traditional("utter_greet"))


def test_a_knowledge_base_passage_is_answered_in_traditional(stack):
    """The same question in both scripts finds the same passage; the Traditional reader gets
    it converted, its source address and feedback payloads as they are."""
    def replies(question: str) -> list[dict]:
        messages = RestConversation(stack.settings.rasa_url).say(question)
        return [{k: v for k, v in m.items() if k != "recipient_id"} for m in messages]

    simplified, converted = replies("公积金可以提取吗？"), replies("公積金可以提取嗎？")
    assert any("来源：" in m.get("text", "") for m in simplified), simplified
    assert converted == [converted_message(m) for m in simplified]
    answer = next(m["text"] for m in converted if "來源：" in m.get("text", ""))
    source = next(line for line in answer.splitlines() if line.startswith("http"))
    assert source in next(m["text"] for m in simplified if "来源：" in m.get("text", ""))


def test_simplified_is_answered_in_simplified(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts(HELP_ZH), "utter_help", "zh")
    assert_reply(chat.texts("查询办件进度"), "utter_ask_reference_number", "zh")


def test_a_message_that_tells_nothing_keeps_the_conversations_script(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert set(chat.texts("謝謝你")) & set(traditional("utter_you_are_welcome"))
    assert set(chat.texts("ok")) & set(traditional("utter_go_ahead"))
    # the latest message that tells decides: back to Simplified
    assert_reply(chat.texts("谢谢你"), "utter_you_are_welcome", "zh")
    assert_reply(chat.texts("ok"), "utter_go_ahead", "zh")


def test_a_form_asks_in_traditional_and_reference_examples_stay_as_written(stack):
    chat = RestConversation(stack.settings.rasa_url)
    [asked] = chat.texts("我想查詢申請進度")
    assert asked in traditional("utter_ask_reference_number")
    assert "GOV-2024-001234" in asked and "T-20261123-004211" in asked


def test_english_is_unaffected(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert chat.texts(HELP_TRADITIONAL)[0] in traditional("utter_help")
    assert_reply(chat.texts("hello there"), "utter_greet", "en")


def test_a_channels_refusal_is_in_the_script_of_the_message(stack):
    body = json.dumps({"sender": uuid.uuid4().hex, "message": "請" * 2001}).encode()
    request = urllib.request.Request(f"{stack.settings.rasa_url}/webhooks/rest/webhook",
                                     data=body, headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=30)
        raise AssertionError("a message over the limit was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 413
        assert json.loads(error.read())["message"].startswith("消息太長了，請精簡到")


def test_the_web_chat_socket_answers_in_traditional(stack):
    async def converse() -> list[dict]:
        citizen = Citizen()
        await citizen.connect(stack.settings.rasa_url)
        try:
            await citizen.say(HELP_TRADITIONAL)
            return citizen.messages
        finally:
            await citizen.close()

    [reply] = asyncio.run(converse())
    assert reply["text"] in traditional("utter_help")
    assert [(b["title"], b["payload"]) for b in reply["quick_replies"]] == \
        [("查詢申請進度", "/check_application_status"), ("轉人工", "/human_handoff")]


def test_wechat_and_telegram_answer_in_traditional(stack):
    server, user = WeChatServer(stack.wechat_url, safe_mode=True), f"o{uuid.uuid4().hex[:27]}"
    reply = server.send(text_xml(user, HELP_TRADITIONAL)).content
    assert reply.startswith(traditional("utter_help")[0])
    assert "您可以回覆：" in reply and "· 查詢申請進度" in reply

    chat = 730000 + uuid.uuid4().int % 100000
    assert telegram.post_update(stack.telegram_url, telegram.text_update(chat, HELP_TRADITIONAL)) \
        == 200
    [message] = stack.telegram_api.messages_to(chat)
    assert message["text"] in traditional("utter_help")
    keyboard = message["reply_markup"]["inline_keyboard"]
    assert [(b["text"], b["callback_data"]) for row in keyboard for b in row] == \
        [("查詢申請進度", "/check_application_status"), ("轉人工", "/human_handoff")]


def test_a_script_asked_for_by_name_is_kept_for_simplified_messages(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts("你好"), "utter_greet", "zh")
    assert set(chat.texts("请用繁体字回复")) & set(traditional("utter_language_switched"))
    assert chat.texts(HELP_ZH)[0] in traditional("utter_help")


def test_the_voice_page_stays_simplified_for_its_speech(stack):
    voice = VoiceConversation(stack.settings.rasa_url, stack.settings.speech_url, "zh")
    status, reply = voice.send(text=HELP_TRADITIONAL)
    assert status == 200, reply
    assert reply["text"].startswith(response_texts("utter_help", "zh")[0])
    assert script_of(reply["spoken"]) != TRADITIONAL


def test_a_status_check_in_traditional_keeps_its_script_through_numbers_and_a_resent_turn(
        stack):
    """Numbers tell nothing: every question of the form, and the status, stay Traditional,
    the application number as written; a turn the balancer sends again gets the same
    Traditional replies; the conversation stores the replies as written (Simplified)."""
    person = demo_applicants(5)[2]
    chat = RestConversation(stack.settings.rasa_url)
    assert chat.texts("我想查詢申請進度", uuid.uuid4().hex)[0] in \
        traditional("utter_ask_reference_number")
    assert chat.texts(person.number, uuid.uuid4().hex)[0] in \
        traditional("utter_ask_verification_code")
    digits, resent = person.phone[-4:], uuid.uuid4().hex
    status = chat.texts(digits, resent)
    assert status[0].startswith(f"申請 {person.number}"), status
    assert chat.texts(digits, resent) == status
    url = f"{stack.settings.rasa_url}/conversations/{chat.sender}/tracker?token={stack.api_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        stored = [e["text"] for e in json.loads(response.read())["events"] if e["event"] == "bot"]
    assert any(text.startswith(f"申请 {person.number}") for text in stored)
