"""How much text one turn may carry: one limit for every channel and every NLU component.

A ~900 KB Socket.IO message once kept Rasa busy for 16 minutes. Every channel refuses longer
messages before the bot sees them (`channels/limits.py`); the tokenizer, the sentence encoder
and the knowledge-base search also cut their input to this length, so a path that skips the
channels (Rasa's HTTP API, a future channel) still cannot hand them unbounded text.
GOV_MAX_MESSAGE_CHARS (default 2000, common/registry.py) is read here only.
"""

from __future__ import annotations

from common.registry import setting

MAX_MESSAGE_CHARS: int = setting("GOV_MAX_MESSAGE_CHARS")


def bounded(text: str) -> str:
    """`text` cut to the message limit (a no-op for anything a channel let through)."""
    return text[:MAX_MESSAGE_CHARS]
