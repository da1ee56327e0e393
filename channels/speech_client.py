"""The speech service (speech/) as the channels call it: recordings to text, text to MP3."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass

import aiohttp

from common.registry import setting
from speech.auth import token_headers

logger = logging.getLogger(__name__)
# What the service may say about a recording; anything else counts as "not audio".
AUDIO_ERRORS = {"empty", "silence", "not_audio", "too_long", "too_large", "unclear", "busy"}


@dataclass(frozen=True)
class Heard:
    """A recognised recording: `quality` "ok" (act on it) or "check" (read it back first);
    `language` is the one spoken, which may differ from the page's."""

    text: str
    language: str
    quality: str = "ok"
    flags: tuple[str, ...] = ()


class SpeechServiceError(RuntimeError):
    """The recording could not be turned into text; `key` says why (AUDIO_ERRORS or
    "unavailable")."""

    def __init__(self, key: str, language: str | None = None) -> None:
        super().__init__(key)
        self.key = key
        self.language = language  # the language spoken, when the service could tell


class SpeechClient:
    """The speech service's two calls. One HTTP session per channel (created lazily, inside
    the server's event loop)."""

    def __init__(self, base_url: str, timeout: float, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # The launcher gives every Rasa process the speech service's token (speech/auth.py).
        self.headers = token_headers(setting("GOV_SPEECH_TOKEN") or "" if token is None else token)
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout, headers=self.headers)
        return self._session

    async def transcribe(self, audio: bytes, language: str | None,
                         expect: str | None = None) -> tuple[str, str]:
        """(text, language) of a recording; `language` None lets the recogniser decide."""
        heard = await self.hear(audio, language, expect)
        return heard.text, heard.language

    async def hear(self, audio: bytes, language: str | None,
                   expect: str | None = None) -> Heard:
        """What a recording says and how far to trust it; `language` is the page's (a hint)."""
        params = {"language": language or "auto", **({"expect": expect} if expect else {})}
        try:
            async with self._client().post(f"{self.base_url}/v1/transcribe",
                                           params=params, data=audio) as reply:
                payload = await reply.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            logger.warning("speech service unreachable for transcription: %s", error)
            raise SpeechServiceError("unavailable") from error
        if reply.status != 200:
            payload = payload if isinstance(payload, dict) else {}
            key, spoken = payload.get("error"), payload.get("language")
            raise SpeechServiceError(key if key in AUDIO_ERRORS else "not_audio",
                                     spoken if spoken in ("zh", "en") else None)
        quality = payload.get("quality")
        return Heard(payload["text"], payload["language"],
                     quality if quality in ("ok", "check") else "check",
                     tuple(str(flag) for flag in payload.get("flags") or ()))

    async def synthesize(self, text: str, language: str) -> str | None:
        """A data: URL of the spoken text, or None (the page still shows the text)."""
        try:
            async with self._client().post(f"{self.base_url}/v1/synthesize",
                                           json={"text": text, "language": language,
                                                 "format": "mp3"}) as reply:
                if reply.status != 200:
                    return None
                audio = await reply.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("speech service unreachable for synthesis: %s", error)
            return None
        return "data:audio/mpeg;base64," + base64.b64encode(audio).decode("ascii")
