"""A turn a balancer sends again (its instance died after handling it) is answered from the
conversation, not handled twice (bot/retried_turns.py), with the real Rasa server, action
server and status form. A citizen who sends the same message again soon after (their answer
was lost when the balancer itself went) gets its answer again too; anything else is a new turn."""

from __future__ import annotations

import json
import urllib.request
import uuid

from helpers.chat import RestConversation, assert_reply
from storage.seed import demo_applicants


def user_texts(stack, sender: str) -> list[str]:
    url = (f"{stack.settings.rasa_url}/conversations/{sender}/tracker"
           f"?token={stack.api_token}")
    with urllib.request.urlopen(url, timeout=30) as response:
        events = json.loads(response.read())["events"]
    return [event.get("text") for event in events if event.get("event") == "user"]


def test_verification_digits_sent_twice_by_the_balancer_get_the_status_twice(stack):
    person = demo_applicants(5)[3]
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts("我想查一下申请进度", uuid.uuid4().hex), "utter_ask_reference_number",
                 "zh")
    assert_reply(chat.texts(person.number, uuid.uuid4().hex), "utter_ask_verification_code",
                 "zh")
    digits, resent = person.phone[-4:], uuid.uuid4().hex
    first = chat.texts(digits, resent)
    assert first and first[0].startswith(f"申请 {person.number}")
    assert chat.texts(digits, resent) == first  # the same request again: the same answer
    assert user_texts(stack, chat.sender) == ["我想查一下申请进度", person.number, digits]
    # said again by the citizen (a new request, no balancer): answered from the conversation too
    assert chat.texts(digits, uuid.uuid4().hex) == first
    assert chat.texts(digits) == first
    assert user_texts(stack, chat.sender) == ["我想查一下申请进度", person.number, digits]


def test_a_message_said_again_while_the_form_asks_is_a_new_turn(stack):
    """The reference said again where the digits are asked (its answer lost): the form asks
    for the digits again, without counting a failed check; then the look-up works."""
    person = demo_applicants(5)[2]
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts("I want to check my application"), "utter_ask_reference_number",
                 "en")
    for _ in range(4):  # more times than the failed checks allowed
        assert_reply(chat.texts(person.number), "utter_ask_verification_code", "en")
    assert chat.texts(person.phone[-4:])[0].startswith(f"Application {person.number}")
    assert user_texts(stack, chat.sender)[1:] == [person.number] * 4 + [person.phone[-4:]]


def test_a_different_message_is_a_new_turn(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts("hello"), "utter_greet", "en")
    assert_reply(chat.texts("hello"), "utter_greet", "en")
    assert_reply(chat.texts("hi"), "utter_greet", "en")
    assert user_texts(stack, chat.sender) == ["hello", "hi"]
