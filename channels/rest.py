"""Rasa's REST channel behind a guard: whatever arrives, the citizen (or the attacker) gets a
clear answer and the bot sees only sane input.

Before a message reaches the bot: bodies over 64 KB → 413; anything but a UTF-8 JSON object
with a text `message` and a short `sender` → 400; nesting deeper than 20 levels → 400;
messages longer than GOV_MAX_MESSAGE_CHARS → 413; control characters are removed; a sender id
in another channel's namespace (`channels/namespaces.py`: `telegram:…`, `wechat:…`, the web chat
and voice pages' ids) → 403, so REST never writes into those conversations. Each sender may send
a burst of `burst` messages, then `per_minute` a minute (429 beyond); both limits are every
channel's (channels/limits.py). Refusals are JSON
`{"error": key, "message": text}` in the language of the message. Unknown fields are ignored.
The path stays /webhooks/rest/webhook.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.limits import SenderRateLimit, refusal
from channels.namespaces import owning_channel

MAX_BODY_BYTES = 64 * 1024
MAX_SENDER_CHARS = 128
MAX_DEPTH = 20


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(item, level + 1) for item in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(item, level + 1) for item in value), default=level + 1)
    return level


def clean_text(text: str) -> str:
    """Drop control and format characters (keeping line breaks and tabs)."""
    return "".join(char for char in text if char in "\n\t"
                   or unicodedata.category(char) not in ("Cc", "Cf", "Cs"))


class RestChannel(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return cls(SenderRateLimit.from_credentials(credentials))

    def __init__(self, limits: SenderRateLimit | None = None) -> None:
        self.limits = limits or SenderRateLimit()

    def _refuse(self, key: str, status: int, text: str = "") -> HTTPResponse:
        return response.json({"error": key, "message": refusal(key, text)}, status=status)

    def _guard(self, request: Request) -> HTTPResponse | None:
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return self._refuse("too_large", 413)
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return self._refuse("bad_request", 400)
        if not isinstance(payload, dict) or _depth(payload) > MAX_DEPTH:
            return self._refuse("bad_request", 400)
        message, sender = payload.get("message"), payload.get("sender", "default")
        if isinstance(sender, int) and not isinstance(sender, bool):
            sender = str(sender)
        if not isinstance(message, str) or not isinstance(sender, str) \
                or not 0 < len(sender) <= MAX_SENDER_CHARS:
            return self._refuse("bad_request", 400, message if isinstance(message, str) else "")
        sender = clean_text(sender)
        if owning_channel(sender) is not None:
            return self._refuse("foreign_sender", 403, message)
        refused = self.limits.check(sender, message)
        if refused:
            return self._refuse(refused, 413 if refused == "too_large" else 429, message)
        payload["message"], payload["sender"] = clean_text(message), sender
        metadata = payload.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            payload["metadata"] = None
        request.parsed_json = payload  # what RestInput reads from here on
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rest = super().blueprint(on_new_message)

        @rest.middleware("request")
        async def guard(request: Request) -> HTTPResponse | None:
            if request.method == "POST" and request.path.endswith("/webhook"):
                return self._guard(request)
            return None

        return rest
