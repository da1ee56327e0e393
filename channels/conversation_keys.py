"""Conversation ids that only their holder can use: the server issues each page a conversation
id together with a key, and accepts the id back only with that key.

The key is an HMAC of the id under a key derived from the server key (`storage.secrets`), so
nothing is stored: every Rasa instance sharing GOV_SECRET_KEY (or its file) checks any page's
key, which is what production mode with several instances needs. Ids carry their channel's
prefix ("socketio:…", "voice:…"), and a key signs one channel's ids only, so an id from another
channel (a REST sender, a Telegram chat) is never accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cached_property

MAX_KEY_CHARS = 64


class ConversationKeys:
    def __init__(self, channel: str) -> None:
        self.prefix = f"{channel}:"
        self._purpose = f"conversation-key:{channel}"

    @cached_property
    def _secret(self) -> bytes:
        from storage.secrets import derived_key  # reads the key file on first use only

        return derived_key(self._purpose)

    def issue(self) -> tuple[str, str]:
        """A new conversation id (unguessable: 128 random bits) and its key."""
        conversation_id = self.prefix + secrets.token_hex(16)
        return conversation_id, self.key_for(conversation_id)

    def key_for(self, conversation_id: str) -> str:
        digest = hmac.new(self._secret, conversation_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def holds(self, conversation_id: object, key: object) -> bool:
        """Whether `key` proves the holder was issued `conversation_id` by this channel."""
        if not (isinstance(conversation_id, str) and isinstance(key, str)
                and conversation_id.startswith(self.prefix) and 0 < len(key) <= MAX_KEY_CHARS
                and len(conversation_id) <= 128):
            return False
        return hmac.compare_digest(self.key_for(conversation_id).encode(), key.encode())
