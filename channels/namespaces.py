"""Which channel owns a conversation id: each channel writes only to its own conversations.

Rasa keys a conversation by its sender id alone, whatever channel the message came in on, so a
channel that took any id a client sends could write into (and, for channels that return
replies, read from) another channel's conversations. The ids each channel makes:

    telegram   telegram:<chat id>         channels/telegram.py (PREFIX)
    wechat     wechat:<openid>            channels/wechat.py
    voice      voice:<random>             issued with its key by channels/voice.py
    socketio   socketio:<random>          issued by the Socket.IO channel with its key
               (older pages' <uuid> / s-<base36> ids stay reserved too)

The REST channel, whose sender ids are whatever its client chooses, refuses all of these.
No Rasa imports, so any channel can use it.
"""

from __future__ import annotations

import re

NAMESPACES: dict[str, re.Pattern[str]] = {
    "telegram": re.compile(r"telegram:", re.IGNORECASE),
    "wechat": re.compile(r"wechat:", re.IGNORECASE),
    "voice": re.compile(r"voice[-:]", re.IGNORECASE),
    "socketio": re.compile(r"(?:socketio:|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                           r"[0-9a-f]{12}$|s-[0-9a-z]{12,}$)", re.IGNORECASE),
}


def owning_channel(sender_id: str) -> str | None:
    """The channel whose namespace `sender_id` is in, or None for an id no channel reserves."""
    stripped = sender_id.strip()
    return next((name for name, pattern in NAMESPACES.items() if pattern.match(stripped)), None)
