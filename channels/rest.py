"""Rasa's REST channel behind a guard: whatever arrives, the citizen (or the attacker) gets a
clear answer and the bot sees only sane input.

Before a message reaches the bot: bodies over 64 KB → 413; anything but a UTF-8 JSON object
with a text `message` and a short `sender` → 400; nesting deeper than 20 levels → 400;
messages longer than MAX_MESSAGE_CHARS → 413; control characters are removed; a sender id in
another channel's namespace (`channels/namespaces.py`: `telegram:…`, `wechat:…`, the web chat
and voice pages' ids) → 403, so REST never writes into those conversations. Each sender may
send a burst of `burst` messages, then `per_minute` a minute (429 beyond). Refusals are JSON
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

from bot.text import detect_language
from channels.namespaces import owning_channel
from channels.rate_limit import SenderRateLimit

MAX_BODY_BYTES = 64 * 1024
MAX_MESSAGE_CHARS = 2000
MAX_SENDER_CHARS = 128
MAX_DEPTH = 20
REFUSALS = {
    "too_large": ("消息太长了，请精简到 2000 字以内再发送。",
                  "That message is too long; please keep it under 2,000 characters."),
    "bad_request": ("请求格式不正确。", "The request is malformed."),
    "too_many": ("您发送得太快了，请稍等片刻再发。", "You are sending messages too quickly; "
                 "please wait a moment."),
    "foreign_sender": ("这个会话编号属于其他渠道（微信、Telegram、语音或网页聊天），"
                       "不能通过此接口发送。请换一个会话编号。",
                       "This sender id belongs to another channel (WeChat, Telegram, voice or "
                       "the web chat) and cannot be used here; please choose another sender id."),
}


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
        credentials = credentials or {}
        return cls(int(credentials.get("burst") or 20),
                   float(credentials.get("per_minute") or 60))

    def __init__(self, burst: int = 20, per_minute: float = 60) -> None:
        self.limits = SenderRateLimit(burst, per_minute)

    def _refuse(self, key: str, status: int, text: str = "") -> HTTPResponse:
        zh, en = REFUSALS[key]
        language = detect_language(text).language or "zh"
        return response.json({"error": key, "message": zh if language == "zh" else en},
                             status=status)

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
        if len(message) > MAX_MESSAGE_CHARS:
            return self._refuse("too_large", 413, message)
        sender = clean_text(sender)
        if owning_channel(sender) is not None:
            return self._refuse("foreign_sender", 403, message)
        if not self.limits.allow(sender):
            return self._refuse("too_many", 429, message)
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
