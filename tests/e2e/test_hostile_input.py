"""Hostile and broken input on the public REST endpoint of the running Rasa server: clear
errors in the sender's language, no crash, and the service keeps answering everyone."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import response_texts
from helpers.chat import RestConversation, assert_reply


def post(stack, body: bytes) -> tuple[int, object]:
    request = urllib.request.Request(f"{stack.settings.rasa_url}/webhooks/rest/webhook",
                                     data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def message(sender: str, text: object, **extra: object) -> bytes:
    return json.dumps({"sender": sender, "message": text, **extra}).encode()


def nested(depth: int) -> bytes:
    """A body whose metadata is `depth` objects deep (written out: json.dumps would recurse)."""
    return (b'{"sender": "a", "message": "hi", "metadata": ' + b'{"a": ' * depth + b"{}"
            + b"}" * depth + b"}")


@pytest.mark.parametrize(("body", "status", "language"), [
    (message("a", "路灯坏了" * 600), 413, "zh"),
    (message("a", "help " * 500), 413, "en"),
    (b"x" * (70 * 1024), 413, None),
    (b'{"sender": "a", "message": "\xff\xfe bad utf-8"}', 400, None),
    (b"not json", 400, None),
    (b'["a", "list"]', 400, None),
    (message("a", {"text": "not a string"}), 400, None),
    (message("x" * 500, "hello"), 400, None),
    (nested(5000), 400, None),
    (nested(25), 400, None),
])
def test_malformed_requests_get_clear_errors(stack, body, status, language):
    code, reply = post(stack, body)
    assert code == status and reply["error"] and reply["message"]
    if language == "zh":
        assert "2000" in reply["message"] and "字" in reply["message"]
    if language == "en":
        assert "2,000 characters" in reply["message"]


def test_control_characters_and_unknown_fields_are_harmless(stack):
    sender = f"t-{uuid.uuid4().hex[:8]}"
    code, reply = post(stack, message(sender, "你\x00好\u200b\x1b[31m", colour="red",
                                      metadata={"x": [1, 2, {"y": None}]}))
    assert code == 200
    assert {m["text"] for m in reply} & set(response_texts("utter_greet", "zh"))


@pytest.mark.parametrize("text", ["", "   ", "\u3000\u200b\ufeff", "\n\t\x00"])
def test_a_message_with_nothing_to_read_is_asked_to_be_typed(stack, text):
    """Blank text used to crash the intent classifier (no tokens) into the "system
    unavailable" apology. Before the conversation has a language: both languages."""
    code, reply = post(stack, message(f"t-{uuid.uuid4().hex[:8]}", text))
    assert code == 200
    assert [m["text"] for m in reply] == [*response_texts("utter_empty_message", "zh"),
                                          *response_texts("utter_empty_message", "en")]


def test_a_blank_message_inside_a_form_leaves_the_form_waiting(stack):
    chat = RestConversation(stack.settings.rasa_url)
    chat.texts("I want to check my application")
    assert chat.texts(" ") == response_texts("utter_empty_message", "en")
    # the reference number is still what the conversation waits for
    assert_reply(chat.texts("GOV-2024-999999"), "utter_ask_verification_code", "en")


def test_a_flood_from_one_sender_is_slowed_and_nobody_else_is(stack):
    """All at once: each request waits for its turn, so one after another they would be paced
    by the bot itself (and, on a busy machine, stay within the refill of 1 a second)."""
    flooder = f"flood-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(30) as pool:
        replies = list(pool.map(lambda _: post(stack, message(flooder, "hello")), range(30)))
    codes = [code for code, _ in replies]
    assert codes.count(429) >= 5 and codes.count(200) >= 20
    assert {reply["message"] for code, reply in replies if code == 429} == {
        "You are sending messages too quickly; please wait a moment."}
    chat = RestConversation(stack.settings.rasa_url)
    assert set(chat.texts("你好")) & set(response_texts("utter_greet", "zh"))
