"""The Socket.IO channel (what the web chat page uses) with a real Socket.IO client."""

from __future__ import annotations

import asyncio
import uuid

import socketio

from helpers import response_texts


async def converse(url: str, messages: list[str]) -> list[list[dict]]:
    client = socketio.AsyncClient(reconnection=False)
    inbox: asyncio.Queue = asyncio.Queue()
    confirmed = asyncio.Event()
    session_id = uuid.uuid4().hex
    client.on("bot_uttered", lambda data: inbox.put_nowait(data))
    client.on("session_confirm", lambda data: confirmed.set())
    await client.connect(url, socketio_path="/socket.io", wait_timeout=30)
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), 10)
        replies = []
        for message in messages:
            await client.emit("user_uttered", {"message": message, "session_id": session_id})
            batch = [await asyncio.wait_for(inbox.get(), 30)]
            await asyncio.sleep(0.5)  # a turn may carry several messages
            while not inbox.empty():
                batch.append(inbox.get_nowait())
            replies.append(batch)
        return replies
    finally:
        await client.disconnect()


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
