"""The speech service: POST audio → text, POST text → WAV. One process per machine holds the
models; every Rasa instance's voice channel calls it over HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import AsyncIterator

from aiohttp import web

from speech.admission import Admission, Busy
from speech.asr import EXPECTATIONS, LANGUAGES, Decoding, Recognizer, WhisperRecognizer
from speech.audio import AudioError, decode, is_silent, mp3_bytes, wav_bytes
from speech.auth import require_token
from speech.config import SpeechSettings
from speech.models import whisper_base
from speech.spoken_text import for_speaking
from speech.tts import Voice, load_voices, speak

logger = logging.getLogger(__name__)
MAX_TEXT_CHARS = 1000
FORMATS = {"wav": (wav_bytes, "audio/wav"), "mp3": (mp3_bytes, "audio/mpeg")}


@dataclass
class Engines:
    recognizer: Recognizer
    voices: dict[str, Voice]


SETTINGS = web.AppKey("settings", SpeechSettings)
ENGINES = web.AppKey("engines", Engines)
ADMISSION = web.AppKey("admission", Admission)


def load_engines(settings: SpeechSettings) -> Engines:
    model_dir = settings.asr_model_dir or whisper_base(settings.cache_dir)
    decoding = Decoding(beam_size=settings.asr_beam_size,
                        tokens_per_second=settings.asr_tokens_per_second,
                        switch_probability=settings.asr_switch_probability,
                        min_switch_seconds=settings.asr_switch_min_seconds,
                        confirm_below=settings.asr_confirm_below,
                        unusable_below=settings.asr_unusable_below)
    return Engines(WhisperRecognizer(model_dir, settings.asr_threads, settings.asr_workers,
                                     decoding), load_voices(settings))


def _error(status: int, key: str, detail: str = "", **fields: object) -> web.Response:
    return web.json_response({"error": key, "detail": detail, **fields}, status=status)


async def transcribe(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    language = request.query.get("language")
    if language not in (*LANGUAGES, None, "", "auto"):
        return _error(400, "bad_language", "language must be zh, en or auto")
    expect = request.query.get("expect") or None
    if expect not in EXPECTATIONS:
        return _error(400, "bad_request", "expect must be number, answer or absent")
    try:
        data = await request.read()  # the whole body; client_max_size refuses more
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "too_large")
    try:
        samples = await asyncio.to_thread(decode, data, settings.max_seconds)
        if is_silent(samples):
            raise AudioError("silence")
    except AudioError as error:
        return _error(413 if error.key == "too_large" else 422, error.key, str(error))
    try:
        async with request.app[ADMISSION].turn():
            transcript = await asyncio.to_thread(
                request.app[ENGINES].recognizer.transcribe, samples, language or None, expect)
    except Busy:
        return _error(503, "busy", "every recogniser is in use; try again in a few seconds")
    logger.info("transcribed %.1f s of %s audio in %.2f s: %s %.2f %s",
                transcript.audio_seconds, transcript.language, transcript.processing_seconds,
                transcript.quality, transcript.confidence, ",".join(transcript.flags))
    if not transcript.text and not transcript.flags:
        return _error(422, "silence", "no speech recognised")
    if transcript.quality == "unusable":
        return _error(422, "unclear", "the speech could not be made out reliably",
                      language=transcript.language, flags=list(transcript.flags))
    return web.json_response({
        "text": transcript.text, "language": transcript.language,
        "page_language": transcript.page_language,
        "language_probability": transcript.language_probability,
        "quality": transcript.quality, "confidence": transcript.confidence,
        "flags": list(transcript.flags),
        "audio_seconds": round(transcript.audio_seconds, 2),
        "processing_seconds": round(transcript.processing_seconds, 3),
    })


async def synthesize(request: web.Request) -> web.Response:
    try:
        payload = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "bad_request", "expected JSON")
    if not isinstance(payload, dict):
        return _error(400, "bad_request", "expected a JSON object")
    text, language = payload.get("text"), payload.get("language")
    rate = payload.get("rate", request.app[SETTINGS].speech_rate)
    if language not in LANGUAGES or not isinstance(text, str) or not text.strip():
        return _error(400, "bad_request", "need text and language (zh or en)")
    if len(text) > MAX_TEXT_CHARS:
        return _error(413, "too_large", f"at most {MAX_TEXT_CHARS} characters")
    if not isinstance(rate, (int, float)) or not 0.5 <= rate <= 2.0:
        return _error(400, "bad_request", "rate must be between 0.5 and 2.0")
    if payload.get("format", "wav") not in FORMATS:
        return _error(400, "bad_request", "format must be wav or mp3")
    encode, content_type = FORMATS[payload.get("format", "wav")]
    samples, sample_rate = await asyncio.to_thread(
        speak, request.app[ENGINES].voices, for_speaking(text, language), language, rate)
    if samples.size == 0:
        return _error(422, "nothing_to_say", "the text has nothing speakable")
    body = await asyncio.to_thread(encode, samples, sample_rate)
    return web.Response(body=body, content_type=content_type)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(settings: SpeechSettings | None = None) -> web.Application:
    """The service; models load (in a worker thread) before it starts listening."""
    settings = settings or SpeechSettings()
    app = web.Application(client_max_size=settings.max_bytes + 1024,
                          middlewares=[require_token(settings.token)])
    app[SETTINGS] = settings
    app[ADMISSION] = Admission(settings.asr_workers, settings.asr_queue)

    async def engines(app: web.Application) -> AsyncIterator[None]:
        app[ENGINES] = await asyncio.to_thread(load_engines, settings)
        yield

    app.cleanup_ctx.append(engines)
    app.router.add_post("/v1/transcribe", transcribe)
    app.router.add_post("/v1/synthesize", synthesize)
    app.router.add_get("/healthz", healthz)
    return app
