"""Speech recognition behind one small interface, so a bigger model can be dropped in.

Three rules keep the recogniser honest and quick:
- the spoken language is detected (Mandarin or English) and the page's language only breaks a
  near tie: told the wrong language, Whisper *translates* or loops, slowly;
- the decoder gets no context a citizen might say, and whatever it returns is judged segment
  by segment (speech.trust) before anyone acts on it;
- decoding is bounded: one temperature (no fallback loops) and a token budget in proportion to
  the audio's length.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Protocol

import numpy as np
import opencc

from speech.audio import SAMPLE_RATE, duration_seconds
from speech.domain_words import restore_domain_words
from speech.number_decoder import NumberDecoder, number_characters_only, whole_number
from speech.one_pass import Encoded, OnePass, available
from speech.spoken_text import from_speech
from speech.trust import SegmentSignals, judge, prompt_digits_repeated

LANGUAGES = ("zh", "en")
# Without a Chinese context Whisper writes Traditional characters half the time; a neutral
# sentence no citizen would say steers it to Simplified, and speech.trust drops any segment
# that repeats it. (A context of service phrases leaked into transcripts, and a citizen may say
# those phrases, so they could not be told apart.)
_PROMPTS = {"zh": "以下是普通话的句子。", "en": None}
# While a form asks for a number: digits written as numerals, one by one, some said twice
# running (一一, 五五: without them Whisper base often drops one of two equal Mandarin digits,
# bench/voice_numbers.py). The examples hold no words a citizen would say (speech.trust ignores
# digits and letters when looking for a leak).
_NUMBER_PROMPTS = {"zh": "号码：二零二四，零零一一二二。五五六八。",
                   "en": "Number: G O V, 2 0 2 4, 0 0 1 2 3 4. 5 6 7 8."}
# While the citizen answers "did I hear you right?": one-word answers, which Whisper otherwise
# hears as homophones (是的 → 施等). A leak of these words is caught by the channel, which
# takes a yes or no only when it was heard with confidence.
_ANSWER_PROMPTS = {"zh": "好的。是的。不是。", "en": None}
EXPECTATIONS = (None, "number", "answer")
# Whisper decodes at most 30 s per window; speech runs at under ~8 tokens a second.
_WINDOW_SECONDS = 30.0


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    audio_seconds: float
    processing_seconds: float
    quality: str = "ok"  # speech.trust: "ok" | "check" | "unusable"
    confidence: float = 1.0
    flags: tuple[str, ...] = field(default=())
    page_language: str | None = None
    language_probability: float = 1.0


@dataclass(frozen=True)
class Decoding:
    """Bounds and thresholds (speech.config.SpeechSettings)."""

    beam_size: int = 1
    tokens_per_second: float = 8.0
    switch_probability: float = 0.7
    # Shorter recordings keep the page's language: a word or two is too little to tell
    # ("好的" is taken for English), and a yes or no is no reason to switch.
    min_switch_seconds: float = 1.5
    confirm_below: float = 0.5
    unusable_below: float = 0.2


class Recognizer(Protocol):
    def transcribe(self, samples: np.ndarray, language: str | None,
                   expect: str | None = None) -> Transcript:
        """Text of 16 kHz mono `samples`; `language` the page's "zh"/"en" (a hint) or None;
        `expect` "number" when the citizen is answering a question about a number, "answer"
        when a yes or no is expected."""


def choose_language(probabilities: dict[str, float], page: str | None,
                    switch_probability: float) -> str:
    """Mandarin or English: the page's language unless the other is clearly what was spoken
    (its probability among the two at least `switch_probability`)."""
    total = sum(probabilities.get(language, 0.0) for language in LANGUAGES) or 1.0
    shares = {language: probabilities.get(language, 0.0) / total for language in LANGUAGES}
    best = max(LANGUAGES, key=shares.__getitem__)
    if page not in LANGUAGES or best == page:
        return best
    return best if shares[best] >= switch_probability else page


def token_budget(audio_seconds: float, tokens_per_second: float) -> int:
    """New tokens allowed per 30-s window: enough for fast speech, far too few for a loop."""
    return math.ceil(min(audio_seconds, _WINDOW_SECONDS) * tokens_per_second) + 12


class WhisperRecognizer:
    """faster-whisper (CTranslate2, int8 on CPU), loaded once. `workers` calls decode at the
    same time, each on `threads` threads, so one long recording does not hold up every other
    caller; the service queues the rest. With `threads` the number of cores, a recording
    decoded alone uses them all and two at once share them (docs/benchmarks.md "Voice")."""

    def __init__(self, model_dir: Path, threads: int = 2, workers: int = 1,
                 decoding: Decoding | None = None) -> None:
        from faster_whisper import WhisperModel

        self._model = WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                                   cpu_threads=max(1, threads), num_workers=max(1, workers))
        self._decoding = decoding or Decoding()
        self._to_simplified = opencc.OpenCC("t2s")
        self._numbers = NumberDecoder(self._model)
        self._one_pass = OnePass(self._model) if available(self._model) else None

    def _language(self, samples: np.ndarray, page: str | None,
                  encoded: Encoded | None = None) -> tuple[str, float]:
        """Mandarin or English (choose_language), and its share of the two; from `encoded`'s
        encoder output when given, else by encoding the first 30 s."""
        if page and duration_seconds(samples) < self._decoding.min_switch_seconds:
            return page, 1.0
        if encoded is not None and self._one_pass is not None:
            scores = self._one_pass.language_probabilities(encoded)
        else:
            _, _, probabilities = self._model.detect_language(
                samples[: int(_WINDOW_SECONDS * SAMPLE_RATE)])
            scores = dict(probabilities)
        chosen = choose_language(scores, page, self._decoding.switch_probability)
        total = sum(scores.get(language, 0.0) for language in LANGUAGES) or 1.0
        return chosen, scores.get(chosen, 0.0) / total

    def _options(self, samples: np.ndarray, prompt: str | None, beam: int) -> dict:
        return {"task": "transcribe", "beam_size": beam, "condition_on_previous_text": False,
                "initial_prompt": prompt, "temperature": 0.0,
                "max_new_tokens": token_budget(duration_seconds(samples),
                                               self._decoding.tokens_per_second)}

    @staticmethod
    def _signals(segments: Iterable) -> list[SegmentSignals]:
        return [SegmentSignals(segment.text, segment.avg_logprob, segment.no_speech_prob,
                               segment.compression_ratio) for segment in segments]

    def _heard(self, samples: np.ndarray, page: str | None, prompts: dict[str, str | None],
               beam: int) -> tuple[str, float, list[SegmentSignals], Encoded | None]:
        """Language, its share, and the segments heard: first from the speech alone (voice
        activity filtering drops silence Whisper would fill with invented words), then, when
        that leaves nothing (it can drop a whole short "Yes." on a phone line), from the whole
        recording. Also the encoding the segments were decoded from (None on the public path)."""
        if self._one_pass is None:  # the public path: every step encodes again
            language, probability = self._language(samples, page)
            segments: list[SegmentSignals] = []
            for vad in (True, False):
                segments = self._signals(self._model.transcribe(
                    samples, language=language, vad_filter=vad,
                    **self._options(samples, prompts[language], beam))[0])
                if any(segment.text.strip() for segment in segments):
                    break
            return language, probability, segments, None
        speech = self._one_pass.encode(self._one_pass.speech_only(samples))
        whole = self._one_pass.encode(samples) if speech.empty else None
        detect_from = whole if whole is not None else speech
        language, probability = self._language(samples, page,
                                               None if detect_from.empty else detect_from)
        options = self._options(samples, prompts[language], beam)
        segments = self._signals(self._one_pass.decode(speech, language, **options))
        if any(segment.text.strip() for segment in segments):
            return language, probability, segments, speech
        whole = whole if whole is not None else self._one_pass.encode(samples)
        return (language, probability,
                self._signals(self._one_pass.decode(whole, language, **options)), whole)

    def _whole_number(self, samples: np.ndarray, language: str,
                      segments: list[SegmentSignals], beam: int,
                      encoded: Encoded | None = None) -> list[SegmentSignals]:
        """What was heard while a number is asked for: as decoded if it is a whole number,
        else the first of the number decoder's hypotheses that is one (speech.number_decoder).
        Nothing changes when none is, or when the recording holds no speech: a citizen who
        answers "I don't have it" is heard as before, and silence is not turned into digits."""
        heard = "".join(segment.text for segment in segments)
        if not heard.strip() or whole_number(self._to_simplified.convert(heard)) \
                or duration_seconds(samples) > _WINDOW_SECONDS:
            return segments
        prompt = _NUMBER_PROMPTS[language]
        for candidate in self._numbers.candidates(
                samples, language, prompt, beam,
                token_budget(duration_seconds(samples), self._decoding.tokens_per_second),
                None if encoded is None else encoded.encoder_output):
            text = self._to_simplified.convert(candidate.signals.text)
            if whole_number(text) and number_characters_only(text, language) \
                    and not prompt_digits_repeated(text, prompt):
                return [candidate.signals]
        return segments

    def transcribe(self, samples: np.ndarray, language: str | None,
                   expect: str | None = None) -> Transcript:
        started = time.perf_counter()
        page = language if language in LANGUAGES else None
        prompts, beam = _PROMPTS, self._decoding.beam_size
        if expect == "number":  # short answers: a wider beam is cheap and avoids digit loops
            prompts, beam = _NUMBER_PROMPTS, max(beam, 5)
        elif expect == "answer":
            prompts, beam = _ANSWER_PROMPTS, max(beam, 5)
        language, probability, segments, encoded = self._heard(samples, page, prompts, beam)
        if expect == "number":
            segments = self._whole_number(samples, language, segments, beam, encoded)
        if language == "zh":
            segments = [SegmentSignals(self._to_simplified.convert(s.text), s.avg_logprob,
                                       s.no_speech_prob, s.compression_ratio) for s in segments]
        verdict = judge(segments, language, prompts[language], self._decoding.confirm_below,
                        self._decoding.unusable_below)
        text = restore_domain_words(verdict.text) if language == "zh" else verdict.text
        return Transcript(from_speech(text), language, duration_seconds(samples),
                          time.perf_counter() - started, verdict.quality, verdict.confidence,
                          verdict.flags, page, round(probability, 3))
