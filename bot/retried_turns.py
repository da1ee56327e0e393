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
that one is still going. Without a balancer there is no id, and nothing changes.
"""

from __future__ import annotations

import functools
import itertools
import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

from bot import scripts
from common.logs import sender_hash
from common.request_ids import HEADER, valid_request_id

logger = logging.getLogger(__name__)


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
            replies = []
            for later in events[index + 1:]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    replies.append(later.message())
            return replies
    return None


def answered_once(original: Any) -> Any:
    """For `MessageProcessor.handle_message` (called under the conversation's lock)."""

    @functools.wraps(original)
    async def handle_message(self: Any, message: UserMessage) -> Any:
        request = _current.get()
        if request is None:
            return await original(self, message)
        message.message_id = request.next_message_id()
        tracker = await self.tracker_store.retrieve(message.sender_id)
        replies = replies_after(list(tracker.events), message.message_id) if tracker else None
        if replies is None:
            return await original(self, message)
        logger.warning("a turn sent again by the balancer had been handled already; its "
                       "%d replies are sent from the conversation", len(replies),
                       extra={"sender": sender_hash(message.sender_id or "")})
        script = scripts.conversation_script(message.sender_id, tracker.events)
        for reply in replies:
            await message.output_channel.send_response(
                message.sender_id, scripts.message_in_script(reply, script))
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    return handle_message
