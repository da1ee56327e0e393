"""The Socket.IO channel (what the web chat page uses) with a real Socket.IO client."""

from __future__ import annotations

import asyncio

from helpers import response_texts
from helpers.socket_chat import Citizen


async def converse(url: str, messages: list[str]) -> list[list[dict]]:
    citizen = Citizen()
    await citizen.connect(url)
    try:
        replies = []
        for message in messages:
            seen = len(citizen.messages)
            await citizen.say(message)
            replies.append(citizen.messages[seen:])
        return replies
    finally:
        await citizen.close()


def test_socketio_conversation_in_both_languages(stack):
    replies = asyncio.run(
        converse(stack.settings.rasa_url, ["你好", "hello there", "我想查申请进度"])
    )
    texts = [[m.get("text") for m in batch] for batch in replies]
    assert set(texts[0]) & set(response_texts("utter_greet", "zh"))
    assert set(texts[1]) & set(response_texts("utter_greet", "en"))
    assert set(texts[2]) & set(response_texts("utter_ask_reference_number", "zh"))


def test_socketio_buttons_arrive_as_quick_replies(stack):
    replies = asyncio.run(converse(stack.settings.rasa_url, ["what can you do"]))
    buttons = [b for m in replies[0] for b in m.get("quick_replies", [])]
    assert {"payload": "/human_handoff"}.items() <= buttons[-1].items()
