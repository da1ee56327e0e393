"""Speech recognition behind one small interface, so a bigger model can be dropped in.

Three rules keep the recogniser honest and quick:
- the spoken language is detected (Mandarin or English) and the page's language only breaks a
  near tie: told the wrong language, Whisper *translates* or loops, slowly. A word or two is
  too little for the detector (好的 is taken for English), so a short recording is decoded in
  both languages from the same encoder output and the decoder's more likely reading is kept;
- the decoder gets no context a citizen might say, and whatever it returns is judged segment
  by segment (speech.trust) before anyone acts on it;
- decoding is bounded: one temperature (no fallback loops) and a token budget in proportion to
  the audio's length.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Protocol

import numpy as np
import opencc

from common.domain_words import restore_domain_words
from speech.audio import SAMPLE_RATE, duration_seconds
from speech.number_decoder import (
    NumberDecoder,
    most_probable,
    number_characters_only,
    number_reading,
)
from speech.one_pass import Encoded, OnePass, available
from speech.spoken_text import from_speech
from speech.trust import SegmentSignals, Verdict, judge, prompt_digits_repeated

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
    # Shorter recordings are decoded in both languages (choose_reading): the detector cannot
    # tell a word or two apart ("好的" is taken for English).
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


@dataclass(frozen=True)
class Reading:
    """What one language's decoder heard in a recording, judged (speech.trust)."""

    language: str
    segments: list[SegmentSignals]
    verdict: Verdict
    encoded: Encoded | None = None

    def likelihood(self, share: float) -> float:
        """log P(language, text | audio): the detector's log share of the language plus the
        decoder's log-probability of every token it wrote. Not divided by the length: the two
        readings are of the same audio, and per token (a Chinese character is one to three
        tokens, an English word one or two) picked the wrong language more often on the
        project's own short recordings (docs/benchmarks.md "A word or two on either page")."""
        return math.log(max(share, 1e-6)) + sum(s.log_probability for s in self.segments)


# Under this, a recording is a word or two ("你好", "好的", "yes"). On the Mandarin page such a
# recording keeps the page's reading: on the dev set the likelihood rule sent 27 of 108 short
# Mandarin clips there to English read-backs ("好的" → "Hold on"), where the caller used to be
# asked to say it again — and most callers of the Mandarin page speak Mandarin. On the English
# page it never took an English clip away (117 of 117) and heard 44 of 108 Mandarin ones.
WORD_OR_TWO_SECONDS = 1.0
PAGES_KEEPING_A_WORD_OR_TWO = frozenset({"zh"})


def choose_reading(readings: dict[str, Reading], page: str,
                   shares: dict[str, float], seconds: float | None = None) -> Reading:
    """Of a short recording decoded in both languages, the more likely reading
    (Reading.likelihood); the page's when the other is refused by speech.trust (no speech, the
    prompt, a stock phrase, too unsure), so a leak or an empty decode never switches the page.
    No threshold: on the project's own short recordings, keeping the page's reading whenever it
    would be acted on ("ok") lost English heard as confident Chinese ("That's right" → 那是对的)
    and gained nothing (docs/benchmarks.md "A word or two on either page")."""
    kept = readings[page]
    other = next(reading for language, reading in readings.items() if language != page)
    if seconds is not None and seconds < WORD_OR_TWO_SECONDS \
            and page in PAGES_KEEPING_A_WORD_OR_TWO:
        return kept
    if other.verdict.quality != "unusable" \
            and other.likelihood(shares[other.language]) > kept.likelihood(shares[page]):
        return other
    return kept


def token_budget(audio_seconds: float, tokens_per_second: float) -> int:
    """New tokens allowed per 30-s window: enough for fast speech, far too few for a loop."""
    return math.ceil(min(audio_seconds, _WINDOW_SECONDS) * tokens_per_second) + 12


def _detect_from(encodings: dict[str, Encoded]) -> Encoded | None:
    """The encoding the language is read from: the whole recording's when it was needed."""
    encoded = encodings.get("whole", encodings.get("speech"))
    return None if encoded is None or encoded.empty else encoded


def _number_said(text: str, prompt: str) -> str | None:
    """The whole number `text` reads as (speech.number_decoder.number_reading), unless it is
    the number prompt's example digits leaking."""
    reading = number_reading(text)
    return None if reading is None or prompt_digits_repeated(reading, prompt) else reading


def _as_read(segments: list[SegmentSignals], text: str, reading: str) -> list[SegmentSignals]:
    """`segments` as heard when their digits, joined, are the number read; else one segment
    whose text is the number, with the decoder's signals of them all (the read-back then
    shows the citizen the number that will be used)."""
    def digits(said: str) -> str:
        return "".join(char for char in from_speech(said) if char.isdigit())

    if digits(text) == digits(reading):
        return segments
    tokens = sum(segment.tokens + 1 for segment in segments)
    return [SegmentSignals(
        reading, sum(s.avg_logprob * (s.tokens + 1) for s in segments) / tokens,
        min(s.no_speech_prob for s in segments), max(s.compression_ratio for s in segments),
        tokens - 1)]


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
        shares = self._shares(samples, encoded)
        chosen = choose_language(shares, page, self._decoding.switch_probability)
        return chosen, shares[chosen]

    def _shares(self, samples: np.ndarray, encoded: Encoded | None = None) -> dict[str, float]:
        """Mandarin's and English's shares of the two in the detector's probabilities; from
        `encoded`'s encoder output when given, else by encoding the first 30 s."""
        if encoded is not None and self._one_pass is not None:
            scores = self._one_pass.language_probabilities(encoded)
        else:
            _, _, probabilities = self._model.detect_language(
                samples[: int(_WINDOW_SECONDS * SAMPLE_RATE)])
            scores = dict(probabilities)
        total = sum(scores.get(language, 0.0) for language in LANGUAGES) or 1.0
        return {language: scores.get(language, 0.0) / total for language in LANGUAGES}

    def _options(self, samples: np.ndarray, prompt: str | None, beam: int) -> dict:
        return {"task": "transcribe", "beam_size": beam, "condition_on_previous_text": False,
                "initial_prompt": prompt, "temperature": 0.0,
                "max_new_tokens": token_budget(duration_seconds(samples),
                                               self._decoding.tokens_per_second)}

    @staticmethod
    def _signals(segments: Iterable) -> list[SegmentSignals]:
        return [SegmentSignals(segment.text, segment.avg_logprob, segment.no_speech_prob,
                               segment.compression_ratio, len(segment.tokens))
                for segment in segments]

    def _decoded(self, samples: np.ndarray, language: str, options: dict,
                 encodings: dict[str, Encoded]) -> tuple[list[SegmentSignals], Encoded | None]:
        """The segments heard in `language`: first from the speech alone (voice activity
        filtering drops silence Whisper would fill with invented words), then, when that leaves
        nothing (it can drop a whole short "Yes." on a phone line), from the whole recording.
        Also the encoding they came from (None on the public path, which encodes every time);
        `encodings` keeps "speech" and, once made, "whole", so a second language reuses them."""
        segments: list[SegmentSignals] = []
        if self._one_pass is None:
            for vad in (True, False):
                segments = self._signals(self._model.transcribe(
                    samples, language=language, vad_filter=vad, **options)[0])
                if any(segment.text.strip() for segment in segments):
                    break
            return segments, None
        segments = self._signals(self._one_pass.decode(encodings["speech"], language, **options))
        if any(segment.text.strip() for segment in segments):
            return segments, encodings["speech"]
        if "whole" not in encodings:
            encodings["whole"] = self._one_pass.encode(samples)
        return (self._signals(self._one_pass.decode(encodings["whole"], language, **options)),
                encodings["whole"])

    def _judged(self, segments: list[SegmentSignals], language: str, prompt: str | None,
                encoded: Encoded | None = None) -> Reading:
        """`segments` in Simplified characters (Mandarin) and speech.trust's verdict on them."""
        if language == "zh":
            segments = [dataclasses.replace(s, text=self._to_simplified.convert(s.text))
                        for s in segments]
        return Reading(language, segments, judge(segments, language, prompt,
                                                 self._decoding.confirm_below,
                                                 self._decoding.unusable_below), encoded)

    def _encodings(self, samples: np.ndarray) -> dict[str, Encoded]:
        """The speech's encoding, and the whole recording's when the speech is empty (none on
        the public path)."""
        encodings: dict[str, Encoded] = {}
        if self._one_pass is not None:
            encodings["speech"] = self._one_pass.encode(self._one_pass.speech_only(samples))
            if encodings["speech"].empty:
                encodings["whole"] = self._one_pass.encode(samples)
        return encodings

    def readings(self, samples: np.ndarray, prompts: dict[str, str | None], beam: int,
                 encodings: dict[str, Encoded] | None = None,
                 ) -> tuple[dict[str, float], dict[str, Reading]]:
        """The detector's shares and both languages' readings of `samples` (choose_reading
        picks one; bench/voice_short.py compares rules on them)."""
        encodings = self._encodings(samples) if encodings is None else encodings
        shares = self._shares(samples, _detect_from(encodings))
        readings = {}
        for language in LANGUAGES:
            segments, encoded = self._decoded(
                samples, language, self._options(samples, prompts[language], beam), encodings)
            readings[language] = self._judged(segments, language, prompts[language], encoded)
        return shares, readings

    def _heard(self, samples: np.ndarray, page: str | None, prompts: dict[str, str | None],
               beam: int) -> tuple[str, float, list[SegmentSignals], Encoded | None]:
        """Language, its share, the segments heard and the encoding they were decoded from.
        A recording under `min_switch_seconds` on a page with a language is decoded in both
        languages from the same encoder output (choose_reading), a longer one in the detected
        language (choose_language)."""
        encodings = self._encodings(samples)
        if page and duration_seconds(samples) < self._decoding.min_switch_seconds:
            shares, readings = self.readings(samples, prompts, beam, encodings)
            best = choose_reading(readings, page, shares, duration_seconds(samples))
            return best.language, shares[best.language], best.segments, best.encoded
        language, probability = self._language(samples, page, _detect_from(encodings))
        segments, encoded = self._decoded(
            samples, language, self._options(samples, prompts[language], beam), encodings)
        return language, probability, segments, encoded

    def _whole_number(self, samples: np.ndarray, language: str,
                      segments: list[SegmentSignals], beam: int,
                      encoded: Encoded | None = None) -> list[SegmentSignals]:
        """What was heard while a number is asked for: as decoded if it reads as a whole
        number, else the number that the decoder's hypotheses reading as one make most
        probable together (speech.number_decoder). When the number is only found by reading
        the groups heard ("20, 6" as 26, a prefix heard as digits left out), the number itself
        is the text.
        Nothing changes when no reading makes a number, or when the recording holds no speech:
        a citizen who answers "I don't have it" is heard as before, and silence is not turned
        into digits."""
        heard = self._to_simplified.convert("".join(segment.text for segment in segments))
        if not heard.strip() or duration_seconds(samples) > _WINDOW_SECONDS:
            return segments
        prompt = _NUMBER_PROMPTS[language]
        reading = _number_said(heard, prompt)
        if reading:
            return _as_read(segments, heard, reading)
        readings: list[tuple[str, float]] = []
        first_with: dict[str, tuple[SegmentSignals, str]] = {}
        for candidate in self._numbers.candidates(
                samples, language, prompt, beam,
                token_budget(duration_seconds(samples), self._decoding.tokens_per_second),
                None if encoded is None else encoded.encoder_output):
            text = self._to_simplified.convert(candidate.signals.text)
            reading = _number_said(text, prompt) if number_characters_only(text, language) \
                else None
            if reading:
                readings.append((reading, candidate.signals.log_probability))
                first_with.setdefault(reading, (candidate.signals, text))
        best = most_probable(readings)
        if best is None:
            return segments
        signals, text = first_with[best]
        return _as_read([signals], text, best)

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
        verdict = self._judged(segments, language, prompts[language]).verdict
        text = restore_domain_words(verdict.text) if language == "zh" else verdict.text
        return Transcript(from_speech(text), language, duration_seconds(samples),
                          time.perf_counter() - started, verdict.quality, verdict.confidence,
                          verdict.flags, page, round(probability, 3))
