"""One Whisper encoder pass per voice turn, through faster-whisper internals pinned to 1.2.1.

Why: a turn used to run the encoder (most of Whisper base's time on a CPU) at least twice:
`WhisperModel.detect_language` encodes the first 30 s to pick Mandarin or English, then
`WhisperModel.transcribe` computes the features again and encodes the same window again, and
the number turn's decoder a third time. faster-whisper 1.2.1 has no public way to hand one
encoder output to both, but its `transcribe` is a thin shell around `generate_segments(features,
tokenizer, options, log_progress, encoder_output)`, which reuses a given encoder output for the
first 30-s window; CTranslate2's `Whisper.detect_language` reads the language from an encoder
output. So a turn here filters silence once (Silero VAD, as `vad_filter=True`), computes the
features once, encodes the first window once, reads the language from it and decodes from it.
Later windows of a recording over 30 s are encoded by `generate_segments` itself, as before.

Decoding options are `transcribe`'s own defaults overridden by the caller's keywords, read from
its signature, so both paths decode alike. Everything internal is used here only; when the
installed faster-whisper is not the pinned version or lacks these internals, `available` is
False and speech.asr takes the public path (detect_language, then transcribe).
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

PINNED_VERSION = "1.2.1"  # pyproject.toml pins faster-whisper to it


@dataclass(frozen=True)
class Encoded:
    """One recording's features and its first window's encoder output (None: no audio)."""

    features: np.ndarray
    encoder_output: Any  # ctranslate2.StorageView | None

    @property
    def empty(self) -> bool:
        return self.encoder_output is None


def available(model: Any) -> bool:
    """Can `model` (a faster_whisper.WhisperModel) be driven one encoder pass per turn?"""
    try:
        import faster_whisper
        from faster_whisper.transcribe import TranscriptionOptions  # noqa: F401
        from faster_whisper.vad import collect_chunks, get_speech_timestamps  # noqa: F401
    except ImportError:
        return False
    generate = getattr(model, "generate_segments", None)
    return (faster_whisper.__version__ == PINNED_VERSION and generate is not None
            and "encoder_output" in inspect.signature(generate).parameters
            and hasattr(model, "encode") and hasattr(model.model, "detect_language")
            and model.model.is_multilingual)


class OnePass:
    def __init__(self, model: Any) -> None:  # a faster_whisper.WhisperModel
        self._model = model

    def speech_only(self, samples: np.ndarray) -> np.ndarray:
        """The recording without its silences, as `transcribe(vad_filter=True)` keeps it."""
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        chunks, _ = collect_chunks(samples, get_speech_timestamps(samples, VadOptions()))
        return np.concatenate(chunks, axis=0)

    def encode(self, samples: np.ndarray) -> Encoded:
        """Features of `samples` and the encoder output of their first window, padded exactly
        as `generate_segments` pads it."""
        from faster_whisper.audio import pad_or_trim

        extractor = self._model.feature_extractor
        features = extractor(samples)
        content_frames = features.shape[-1] - 1
        if content_frames <= 0:
            return Encoded(features, None)
        window = pad_or_trim(features[:, : min(extractor.nb_max_frames, content_frames)])
        return Encoded(features, self._model.encode(window))

    def language_probabilities(self, encoded: Encoded) -> dict[str, float]:
        """Every language's probability, as `WhisperModel.detect_language` reports them."""
        return {token[2:-2]: probability for token, probability
                in self._model.model.detect_language(encoded.encoder_output)[0]}

    def decode(self, encoded: Encoded, language: str, **options: Any) -> Iterable[Any]:
        """Segments, as `transcribe(audio, language=language, **options)` would give them
        (options other than VAD), decoded from `encoded`."""
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

        if encoded.empty:
            return []
        chosen = {**_transcribe_defaults(), **options}
        tokenizer = Tokenizer(self._model.hf_tokenizer, True, task=chosen["task"],
                              language=language)
        temperature = chosen["temperature"]
        suppress = chosen["suppress_tokens"]
        named = {field.name: chosen[field.name]
                 for field in dataclasses.fields(TranscriptionOptions)
                 if field.name not in ("temperatures", "suppress_tokens")}
        settings = TranscriptionOptions(
            **named,
            temperatures=list(temperature) if isinstance(temperature, (list, tuple))
            else [temperature],
            suppress_tokens=get_suppressed_tokens(tokenizer, list(suppress)) if suppress
            else suppress)
        return self._model.generate_segments(encoded.features, tokenizer, settings, False,
                                             encoded.encoder_output)


def _transcribe_defaults() -> dict[str, Any]:
    from faster_whisper import WhisperModel

    return {name: parameter.default for name, parameter
            in inspect.signature(WhisperModel.transcribe).parameters.items()
            if parameter.default is not inspect.Parameter.empty}
