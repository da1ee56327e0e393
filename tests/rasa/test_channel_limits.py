"""The limits every channel shares (channels/limits.py) and the conversation keys that tie a
Socket.IO session or a voice conversation to the page it was issued to
(channels/conversation_keys.py)."""

from __future__ import annotations

import pytest

from bot.limits import MAX_MESSAGE_CHARS
from channels.conversation_keys import ConversationKeys
from channels.limits import SenderRateLimit, refusal, too_long


def test_the_limit_is_the_rest_channels_2000_characters():
    assert MAX_MESSAGE_CHARS == 2000
    assert not too_long("好" * 2000) and too_long("好" * 2001)


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("路灯坏了" * 600, None, "2000 字"),
    ("help " * 500, None, "2,000 characters"),
    ("", None, "2000 字"),  # nothing to tell the language by: Chinese
    ("x", "en", "2,000 characters"),
])
def test_refusals_speak_the_citizens_language(text, language, expected):
    assert expected in refusal("too_large", text, language)


def test_a_refusal_of_a_huge_message_looks_at_its_start_only():
    assert "wait a moment" in refusal("too_many", "please " * 2_000_000)


def test_rate_limit_checks_length_then_rate_per_sender():
    limits = SenderRateLimit(burst=3, per_minute=1)
    assert limits.check("a", "x" * (MAX_MESSAGE_CHARS + 1)) == "too_large"
    assert [limits.check("a", "hi") for _ in range(4)] == [None, None, None, "too_many"]
    assert limits.check("b", "hi") is None  # others are not slowed
    assert SenderRateLimit.from_credentials({"burst": 7, "per_minute": 30}).burst == 7


def test_an_issued_conversation_is_accepted_only_with_its_key():
    voice = ConversationKeys("voice")
    conversation, key = voice.issue()
    assert conversation.startswith("voice:") and voice.holds(conversation, key)
    other, other_key = voice.issue()
    assert other != conversation
    assert not voice.holds(conversation, other_key)  # another page's key
    assert not voice.holds(conversation, key[:-1] + ("A" if key[-1] != "A" else "B"))
    assert not voice.holds(conversation, "")
    assert not voice.holds(conversation, None)
    assert not voice.holds(conversation, "x" * 10_000)


def test_ids_and_keys_of_other_channels_are_never_accepted():
    voice, socket = ConversationKeys("voice"), ConversationKeys("socketio")
    session, session_key = socket.issue()
    assert not voice.holds(session, session_key)
    # the same random part under another prefix is another conversation
    assert not voice.holds("voice:" + session.split(":", 1)[1], session_key)
    for foreign in ("telegram:12345", "wechat:oABC", "rest-user", "voice-123"):
        assert not voice.holds(foreign, voice.key_for(foreign))


def test_keys_follow_the_server_key(tmp_path, monkeypatch):
    """Every instance sharing the server key accepts a key; another server key does not."""
    conversation, key = ConversationKeys("voice").issue()
    assert ConversationKeys("voice").holds(conversation, key)  # a second instance
    monkeypatch.setenv("GOV_SECRET_KEY", "another deployment's key")
    assert not ConversationKeys("voice").holds(conversation, key)
