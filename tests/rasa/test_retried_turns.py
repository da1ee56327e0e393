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


def _tracker(events, active_loop=None):
    return SimpleNamespace(events=events, active_loop_name=active_loop)


def test_the_same_message_again_soon_after_its_answer_gets_that_answer():
    """The answer was lost on the way (a dropped connection): the same text within the window
    gets it again, unless it waited for an answer, apologised, or the window has passed."""
    status = [UserUttered("hi", timestamp=90.0), BotUttered("Hello!"),
              UserUttered("1234", timestamp=100.0), ActionExecuted("action_report_status"),
              BotUttered("Application GOV-2025-000001: approved"),
              ActionExecuted("action_listen")]
    again = retried_turns.replies_to_a_resent_message
    assert [r["text"] for r in again(_tracker(status), "1234", set(), 110.0, 30.0)] == \
        ["Application GOV-2025-000001: approved"]
    assert again(_tracker(status), "1234", set(), 131.0, 30.0) is None  # too late
    assert again(_tracker(status), "1234", set(), 110.0, 0.0) is None  # turned off
    assert again(_tracker(status), "hi", set(), 110.0, 30.0) is None  # not the last message
    assert again(_tracker(status, "status_check_form"), "1234", set(), 110.0, 30.0) is None
    apologised = [*status[:3], BotUttered("Sorry, try again")]
    assert again(_tracker(apologised), "1234", {"Sorry, try again"}, 110.0, 30.0) is None
    asking = [*status[:3], BotUttered("Did that help?", data={"buttons": [{"title": "Yes"}]})]
    assert again(_tracker(asking), "1234", set(), 110.0, 30.0) is None
    assert again(_tracker(status[:3]), "1234", set(), 110.0, 30.0) is None  # no answer yet
    assert again(_tracker([]), "1234", set(), 110.0, 30.0) is None
