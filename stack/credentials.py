"""Rasa's channel credentials, written at start-up from the environment.

Secrets for messaging apps never live in the repository: a channel is switched on by setting
its variables (README "Channels"), and the file Rasa reads is generated into the state folder
with owner-only permissions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from common.registry import setting
from common.settings import Settings

REST = "channels.rest.RestChannel"
WECHAT = "channels.wechat.WeChatInput"
TELEGRAM = "channels.telegram.TelegramChannel"
VOICE = "channels.voice.VoiceInput"
SOCKETIO = "channels.socketio.SocketIOChannel"


def channel_credentials(settings: Settings,
                        socketio_queue: dict[str, str] | None = None) -> dict[str, Any]:
    """`socketio_queue` ({"redis_url", "redis_channel"}; production mode) lets Socket.IO
    emits reach citizens connected to any Rasa instance (channels/socketio.py)."""
    # Every text channel's rate limit per sender (channels/limits.py).
    per_sender = {"burst": setting("GOV_SENDER_BURST"),
                  "per_minute": setting("GOV_SENDER_MESSAGES_PER_MINUTE")}
    credentials: dict[str, Any] = {
        REST: dict(per_sender),
        SOCKETIO: {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered",
                   "session_persistence": True, **per_sender, **(socketio_queue or {})},
        VOICE: {"speech_url": settings.speech_url,
                "max_bytes": setting("GOV_VOICE_MAX_BYTES"),
                "burst": setting("GOV_VOICE_BURST"),
                "per_minute": setting("GOV_VOICE_MESSAGES_PER_MINUTE")},
    }
    if setting("GOV_WECHAT_TOKEN"):
        credentials[WECHAT] = {
            "token": setting("GOV_WECHAT_TOKEN"),
            "app_id": setting("GOV_WECHAT_APP_ID") or "",
            "app_secret": setting("GOV_WECHAT_APP_SECRET") or "",
            "encoding_aes_key": setting("GOV_WECHAT_AES_KEY"),
            "api_base_url": setting("GOV_WECHAT_API_BASE"),
            "reply_seconds": setting("GOV_WECHAT_REPLY_SECONDS"),
            "speech_url": settings.speech_url,
            **per_sender,
        }
    if setting("GOV_TELEGRAM_TOKEN"):
        credentials[TELEGRAM] = {
            "access_token": setting("GOV_TELEGRAM_TOKEN"),
            "verify": setting("GOV_TELEGRAM_BOT_NAME") or "",
            "webhook_url": setting("GOV_TELEGRAM_WEBHOOK_URL") or "",
            "api_base_url": setting("GOV_TELEGRAM_API_BASE"),
            "secret_token": setting("GOV_TELEGRAM_SECRET"),
            "speech_url": settings.speech_url,
            **per_sender,
        }
    return credentials


def write_credentials(settings: Settings,
                      socketio_queue: dict[str, str] | None = None) -> Path:
    path = settings.state_dir / "credentials.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        yaml.safe_dump(channel_credentials(settings, socketio_queue), handle,
                       allow_unicode=True, sort_keys=False)
    return path
