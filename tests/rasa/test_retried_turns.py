"""bot/retried_turns.py without a server: which replies belong to a turn, and the balancer's
request id, taken per request and never from the one before on the same connection."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot import retried_turns


def test_replies_after_a_turn_are_the_bot_messages_until_the_next_turn():
    events = [UserUttered("hi", message_id="a.1"), ActionExecuted("utter_greet"),
              BotUttered("Hello!"), BotUttered("How can I help?"), ActionExecuted("action_listen"),
              UserUttered("bye", message_id="b.1"), BotUttered("Goodbye")]
    assert [r["text"] for r in retried_turns.replies_after(events, "a.1")] == \
        ["Hello!", "How can I help?"]
    assert [r["text"] for r in retried_turns.replies_after(events, "b.1")] == ["Goodbye"]
    assert retried_turns.replies_after(events, "c.1") is None


def test_the_request_id_is_the_current_requests_and_numbers_its_turns():
    async def serve(headers: dict) -> list[str | None]:
        await retried_turns.remember_request_id(SimpleNamespace(headers=headers))
        request = retried_turns._current.get()
        return [request.next_message_id(), request.next_message_id()] if request else [None]

    async def one_connection() -> list[list[str | None]]:  # requests served in one task
        return [await serve({"X-Request-ID": "0f3c2a9e-balancer"}), await serve({}),
                await serve({"X-Request-ID": "bad id; DROP"})]

    assert asyncio.run(one_connection()) == [
        ["0f3c2a9e-balancer.1", "0f3c2a9e-balancer.2"], [None], [None]]
