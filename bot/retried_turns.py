"""A turn is handled once, even when a balancer sends it twice.

In production mode a balancer (services/balancer.py, or HAProxy) re-sends a turn to the next
Rasa instance when its instance drops the connection unanswered. If that instance was killed
after it had handled the turn and stored the conversation, handling it again is wrong: a
status form that already took the verification digits would meet them a second time and
answer them as a policy question (one conversation in 443 was lost that way in `make
bench-faults` through HAProxy).

The balancer gives every request an id, the same on each attempt (common/request_ids.py).
Here it becomes the turn's message id (with the turn's number within the request: one
Socket.IO polling request may carry several messages), and a turn whose message id is already
in the conversation is answered with the replies stored after it (in the conversation's
script, `bot.scripts`, as the first attempt's were), without running NLU or any action. The
check runs under the conversation's lock, so a re-sent turn waits for the first attempt if
that one is still going.

When the balancer itself dies mid-turn, or a phone loses its connection, the answer is lost on
the way back and the citizen sends the same message again, as a new request. Then the same text
as their previous message, within GOV_RESENT_WITHIN_SECONDS of it, is answered with the
replies stored after it too, unless those replies wait for an answer (a form still asking,
buttons to press) or were the "service unavailable" apology: then the message is a new turn,
as it would be anyway.
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

from bot import scripts
from bot.resilience import APOLOGY
from common.logs import sender_hash
from common.registry import setting
from common.request_ids import HEADER, valid_request_id

logger = logging.getLogger(__name__)
RESENT_WITHIN_SECONDS: float = setting("GOV_RESENT_WITHIN_SECONDS")


@dataclass
class _Request:
    """The balancer's id of the HTTP request being served, and its turns counted (shared by
    the tasks the request starts, which get a copy of the context, not of this object)."""

    id: str
    turns: itertools.count = field(default_factory=lambda: itertools.count(1))

    def next_message_id(self) -> str:
        return f"{self.id}.{next(self.turns)}"


_current: ContextVar[_Request | None] = ContextVar("balancer_request", default=None)


async def remember_request_id(request: Any) -> None:
    """Sanic request middleware: the balancer's id of this request, or None (set on every
    request, so that one served before on the same connection does not leak into it)."""
    request_id = valid_request_id(request.headers.get(HEADER))
    _current.set(_Request(request_id) if request_id else None)


def replies_after(events: list[Any], message_id: str) -> list[dict[str, Any]] | None:
    """The bot's messages that followed the turn `message_id`, None if no such turn."""
    for index, event in enumerate(events):
        if isinstance(event, UserUttered) and event.message_id == message_id:
            return _replies_following(events, index)
    return None


def _replies_following(events: list[Any], index: int) -> list[dict[str, Any]]:
    """The bot's messages after `events[index]`, up to the next user message."""
    replies = []
    for later in events[index + 1:]:
        if isinstance(later, UserUttered):
            break
        if isinstance(later, BotUttered):
            replies.append(later.message())
    return replies


def replies_to_a_resent_message(tracker: Any, text: str | None, apologies: set[str],
                                 now: float, within: float = RESENT_WITHIN_SECONDS
                                 ) -> list[dict[str, Any]] | None:
    """The replies to the citizen's previous message if `text` is that message sent again
    within `within` s, and those replies neither wait for an answer nor apologise; else None."""
    if not text or within <= 0 or tracker.active_loop_name:
        return None
    events = list(tracker.events)
    last = next((i for i in range(len(events) - 1, -1, -1)
                 if isinstance(events[i], UserUttered)), None)
    if last is None or events[last].text != text or now - events[last].timestamp > within:
        return None
    replies = _replies_following(events, last)
    if not replies or any(r.get("buttons") or r.get("text") in apologies for r in replies):
        return None
    return replies


def _apologies(domain: Any) -> set[str]:
    return {r.get("text") for r in domain.responses.get(APOLOGY, []) if r.get("text")}


def answered_once(original: Any) -> Any:
    """For `MessageProcessor.handle_message` (called under the conversation's lock)."""

    @functools.wraps(original)
    async def handle_message(self: Any, message: UserMessage) -> Any:
        request = _current.get()
        if request is not None:
            message.message_id = request.next_message_id()
        tracker = await self.tracker_store.retrieve(message.sender_id)
        if tracker is None:
            return await original(self, message)
        replies = replies_after(list(tracker.events), message.message_id) if request else None
        why = "sent again by the balancer"
        if replies is None:
            replies = replies_to_a_resent_message(tracker, message.text,
                                                  _apologies(self.domain), time.time())
            why = "sent again by the citizen"
        if replies is None:
            return await original(self, message)
        logger.warning("a turn %s had been answered already; its %d replies are sent again "
                       "from the conversation", why, len(replies),
                       extra={"sender": sender_hash(message.sender_id or "")})
        script = scripts.conversation_script(message.sender_id, tracker.events)
        for reply in replies:
            await message.output_channel.send_response(
                message.sender_id, scripts.message_in_script(reply, script))
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    return handle_message
