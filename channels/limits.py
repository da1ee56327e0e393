"""The same limits on every channel, checked before any NLU work: one message may be at most
GOV_MAX_MESSAGE_CHARS long (`bot.limits`), and each sender (a REST sender, a socket and its
session, a WeChat or Telegram user, a voice page) may send a burst of `burst` messages, then
`per_minute` a minute (GOV_SENDER_BURST / GOV_SENDER_MESSAGES_PER_MINUTE; the voice channel
has its own, GOV_VOICE_*). A refused message never reaches Rasa; the citizen is told why, in
the language (and script) of the message, the way their channel speaks (a JSON error, a bot
message, a passive WeChat reply, a Telegram message).

The counts are kept per Rasa process: with several instances a sender's allowance is per
instance it reaches (like the REST limit has always been).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Mapping

from bot import scripts
from bot.limits import MAX_MESSAGE_CHARS
from bot.text import detect_language

DEFAULT_BURST, DEFAULT_PER_MINUTE = 20, 60.0
REFUSALS = {
    "too_large": (f"消息太长了，请精简到 {MAX_MESSAGE_CHARS} 字以内再发送。",
                  f"That message is too long; please keep it under {MAX_MESSAGE_CHARS:,} "
                  "characters."),
    "bad_request": ("请求格式不正确。", "The request is malformed."),
    "too_many": ("您发送得太快了，请稍等片刻再发。", "You are sending messages too quickly; "
                 "please wait a moment."),
    "foreign_sender": ("这个会话编号属于其他渠道（微信、Telegram、语音或网页聊天），"
                       "不能通过此接口发送。请换一个会话编号。",
                       "This sender id belongs to another channel (WeChat, Telegram, voice or "
                       "the web chat) and cannot be used here; please choose another sender id."),
    "not_your_session": ("这个会话不属于当前连接，请刷新页面后再试。",
                         "This conversation does not belong to this connection; please reload "
                         "the page and try again."),
}


def refusal(key: str, text: str = "", language: str | None = None) -> str:
    """The explanation for refusal `key`, in `language`, else that of `text` (else Chinese);
    in Traditional characters when `text` is written in them (`bot.scripts`)."""
    if language not in ("zh", "en"):
        # A prefix is enough to tell the language, and keeps this cheap on huge input.
        language = detect_language(text[:MAX_MESSAGE_CHARS]).language or "zh"
    zh, en = REFUSALS[key]
    return scripts.like(zh, text[:MAX_MESSAGE_CHARS]) if language == "zh" else en


def too_long(text: str) -> bool:
    """Whether a message exceeds the limit every channel enforces."""
    return len(text) > MAX_MESSAGE_CHARS


class SenderRateLimit:
    """A token bucket per sender (the least recently seen senders are forgotten first)."""

    def __init__(self, burst: int = DEFAULT_BURST, per_minute: float = DEFAULT_PER_MINUTE,
                 max_senders: int = 100_000) -> None:
        self.burst, self.rate, self.max_senders = burst, per_minute / 60.0, max_senders
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> SenderRateLimit:
        """The `burst` and `per_minute` of a channel's credentials (stack/credentials.py)."""
        credentials = credentials or {}
        return cls(int(credentials.get("burst") or DEFAULT_BURST),
                   float(credentials.get("per_minute") or DEFAULT_PER_MINUTE))

    def allow(self, sender: str) -> bool:
        now = time.monotonic()
        tokens, last = self._buckets.pop(sender, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1
        self._buckets[sender] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > self.max_senders:
            self._buckets.popitem(last=False)
        return allowed

    def check(self, sender: str, text: str) -> str | None:
        """"too_large" or "too_many" if this message from `sender` must not reach the bot."""
        if too_long(text):
            return "too_large"
        return None if self.allow(sender) else "too_many"
