"""How far a transcript can be trusted, from the signals the decoder gives with every segment.

Whisper invents text: its own context sentence comes back as the "transcript", silence becomes
"谢谢观看" or "Thanks for watching", a wrong language loops ("让你解释" four times). Each such
segment is dropped or flagged here, and the whole transcript gets a verdict the voice channel
acts on: "ok" (act on it), "check" (read it back and wait for yes/no), "unusable" (ask the
citizen to say it again, with a person offered). Pure functions: no model needed to test them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import pairwise
from typing import Iterable

from speech.spoken_text import from_speech

# Sentences recognisers are known to produce from silence, music or noise (subtitle credits of
# their training data), and context sentences that earlier versions of this service gave the
# decoder: said by a citizen to a government assistant, none of them would make sense.
STOCK_PHRASES = (
    "请不吝点赞", "订阅转发", "打赏支持", "明镜与点点", "谢谢观看", "感谢观看", "谢谢大家观看",
    "字幕由", "字幕提供", "中文字幕", "优优独播剧场", "请问有什么可以帮您", "以下是普通话",
    "政务服务对话", "thank you for watching", "thanks for watching", "please subscribe",
    "subtitles by", "like and subscribe", "see you in the next video",
)
# Whisper's own thresholds for a segment that is really silence, and for a looping decode.
NO_SPEECH_PROB, SILENT_LOGPROB = 0.6, -1.0
MAX_COMPRESSION_RATIO = 2.4
# A run of this many characters (Chinese) or words (Latin script) shared with the prompt is the
# prompt leaking, not the citizen quoting it.
PROMPT_OVERLAP = {"zh": 5, "en": 3}


@dataclass(frozen=True)
class SegmentSignals:
    """What faster-whisper reports for one decoded segment."""

    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    tokens: int = 0  # text tokens decoded (avg_logprob is per token, end of text included)

    @property
    def log_probability(self) -> float:
        """The decoder's log-probability of the whole segment, end of text included."""
        return self.avg_logprob * (self.tokens + 1)


@dataclass(frozen=True)
class Verdict:
    text: str
    quality: str  # "ok" | "check" | "unusable"
    confidence: float  # exp(mean token log-probability) of the segments kept, 0..1
    flags: tuple[str, ...] = field(default=())


def _bare(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def _units(text: str, language: str) -> list[str]:
    """Characters for Chinese (spaces ignored), words otherwise."""
    bare = _bare(text)
    return list(bare.replace(" ", "")) if language == "zh" else bare.split()


# Digits, numerals and single letters: what a citizen says when asked for a number, and what a
# number prompt shows as an example; a match on them alone is not a leak.
_NUMBER_UNIT = re.compile(r"^(?:\d+|[a-z]|[零〇一二两幺三四五六七八九十]|zero|one|two|three"
                          r"|four|five|six|seven|eight|nine|oh)$")


def _worded(text: str, language: str) -> list[str]:
    return [unit for unit in _units(text, language) if not _NUMBER_UNIT.match(unit)]


def prompt_overlap(text: str, prompt: str | None, language: str) -> bool:
    """Does `text` repeat a run of the decoder's prompt long enough to be a leak?"""
    if not prompt:
        return False
    said, given = _worded(text, language), _worded(prompt, language)
    if not said or not given:
        return False
    match = SequenceMatcher(None, said, given, autojunk=False).find_longest_match(
        0, len(said), 0, len(given))
    return match.size >= PROMPT_OVERLAP.get(language, 3)


def prompt_digits_repeated(text: str, prompt: str) -> bool:
    """Are the digits of `text` a run of the prompt's example digits (a leak, not a number
    said)? The digit-only twin of `prompt_overlap`, which leaves numbers out on purpose."""
    def digits(said: str) -> str:
        return "".join(char for char in from_speech(said) if char.isdigit())
    return digits(text) in digits(prompt)


def is_stock_phrase(text: str) -> bool:
    joined = _bare(text).replace(" ", "")
    return any(phrase.replace(" ", "") in joined for phrase in STOCK_PHRASES)


_REPEATED_RUN = re.compile(r"(\D{2,12}?)(?:[\s,，、。.]*\1){2,}")


def collapse_repeats(text: str) -> str:
    """A phrase said three or more times in a row once: "让你解释让你解释让你解释" → "让你解释".
    Digits are left alone ("000" is a number, not a loop)."""
    return _REPEATED_RUN.sub(r"\1", text)


def is_repetitive(text: str, language: str) -> bool:
    """A decoding loop: a phrase three times in a row, or few distinct pairs of units in a
    longer transcript ("社保、医保、社保、医保、社保")."""
    if collapse_repeats(text) != text:
        return True
    units = [unit for unit in _units(text, language) if not unit.isdigit()]
    pairs = list(pairwise(units))
    return len(pairs) >= (10 if language == "zh" else 8) and len(set(pairs)) / len(pairs) < 0.6


def judge(segments: Iterable[SegmentSignals], language: str, prompt: str | None,
          confirm_below: float, unusable_below: float) -> Verdict:
    """The transcript worth keeping and how far to trust it. `confirm_below` and
    `unusable_below` are confidences (0..1) under which the transcript is read back, or
    refused."""
    kept: list[SegmentSignals] = []
    flags: list[str] = []
    for segment in segments:
        if not segment.text.strip():
            continue
        if segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < SILENT_LOGPROB:
            flags.append("no_speech")
        elif prompt_overlap(segment.text, prompt, language):
            flags.append("prompt_like")
        elif is_stock_phrase(segment.text):
            flags.append("stock_phrase")
        else:
            kept.append(segment)
    text = "".join(segment.text for segment in kept).strip()
    if not kept or not _units(text, language):
        return Verdict("", "unusable", 0.0, tuple(dict.fromkeys(flags)))
    weights = [max(len(_units(segment.text, language)), 1) for segment in kept]
    mean_logprob = sum(w * s.avg_logprob for w, s in zip(weights, kept, strict=True)) / sum(weights)
    confidence = math.exp(mean_logprob)
    if any(s.compression_ratio > MAX_COMPRESSION_RATIO for s in kept) \
            or is_repetitive(text, language):
        flags.append("repetition")
        text = collapse_repeats(text)
    flags = list(dict.fromkeys(flags))
    if confidence < unusable_below or ("repetition" in flags and confidence < confirm_below):
        quality = "unusable"
    elif confidence < confirm_below or set(flags) - {"no_speech"}:
        quality = "check"
    else:
        quality = "ok"
    return Verdict(text, quality, round(confidence, 3), tuple(flags))
