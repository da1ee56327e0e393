"""The number turn's own decoder: Whisper allowed to write only what a spoken reference number
can contain, and several of its best guesses, of which the first that is a whole number wins.

Asked for a number, Whisper base still writes words: 幺 comes back as 雅, "double eight" as
"1008", "twenty twenty-six" as "20206", one of two equal Mandarin digits is dropped. The
vocabulary of a number is small: digits, a few punctuation marks, the letters of the prefixes
(G O V, T), the Mandarin digits (零一二…十百千, 两, 幺, 〇) and the English number words, plus
the few words citizens put before a number ("申请号是", "my ticket number is"). Every other
token is suppressed for that decode (`suppress_tokens`, computed once per tokenizer and
language), and beam search returns several hypotheses (`num_hypotheses`): the first whose
digits make a whole reference or verification code is taken.

Byte-level BPE spells a Chinese character in one to three tokens, some of them single bytes
shared with other characters, so the vocabulary is the tokens the tokenizer itself uses for
the allowed text, plus every token whose text is made only of allowed characters. What comes
out may still hold a stray character; the whole-number test decides, and the channel reads the
number back before it is used, as for every number heard.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import cache
from itertools import combinations, product
from typing import Any

import numpy as np

from actions.references import parse_reference
from speech.spoken_text import spoken_groups
from speech.trust import SegmentSignals

DIGITS = "0123456789"
PUNCTUATION = " ,.-:、，。："
PREFIX_LETTERS = "GOVTgovt"
ZH_DIGIT_CHARS = "零〇一二两幺三四五六七八九十百千年"
EN_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred thousand and oh o nought double triple gov gee vee tee").split()
# What citizens say before the number itself: kept, so the decoder need not turn it into digits.
LEAD_IN = {"zh": ("申请号是", "工单号是", "我的", "号码是", "编号"),
           "en": ("my application number is", "my ticket number is", "it's", "it is",
                  "the number is", "reference")}
# Hypotheses beam search returns; the beam is at least as wide.
HYPOTHESES = 5
# Digits of a whole number: a verification code, an application number (year and six
# digits), a ticket reference (date and six digits).
_WHOLE_LENGTHS = (4, 10, 14)
_CODE_DIGITS = _WHOLE_LENGTHS[0]
# A tens numeral written for "twenty", "thirty"… alone or ending a year ("2020" for "twenty
# twenty"), then the unit said with it, written as a group of its own: "twenty-six" heard as
# "20, 6" or "2020 6" (Whisper writes pairs as numerals and splits them at random).
_TENS_GROUP = re.compile(r"(?:\d\d)?[2-9]0")
_UNIT_GROUP = re.compile(r"[1-9]")
# Digits the spoken prefix (G O V, T) can be heard as, left out before the number.
_PREFIX_DIGITS = 3
# Pair readings tried at most (each doubles the readings).
_MAX_PAIRS = 3


def _allowed_texts(language: str) -> list[str]:
    letters = [*PREFIX_LETTERS, "GOV", "Gov"]
    if language == "zh":
        # pairs too: BPE merges some neighbouring characters into one token
        return [*DIGITS, *PUNCTUATION, *letters, *ZH_DIGIT_CHARS, *LEAD_IN["zh"],
                *("".join(pair) for pair in product(ZH_DIGIT_CHARS, repeat=2))]
    words = [*EN_NUMBER_WORDS, *LEAD_IN["en"]]
    return [*DIGITS, *PUNCTUATION, *letters,
            *(variant for word in words for variant in (word, word.capitalize(), word.upper())),
            *(f"{tens}-{unit}" for tens, unit in product(EN_NUMBER_WORDS[20:28],
                                                         EN_NUMBER_WORDS[1:10]))]


def _allowed_characters(language: str) -> set[str]:
    base = set(DIGITS + PUNCTUATION + PREFIX_LETTERS)
    return base | set(ZH_DIGIT_CHARS) if language == "zh" else base


@cache
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet back to bytes (Whisper's tokenizer uses it)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    codes, extra = list(printable), 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes, strict=True)}


def token_bytes(hf_tokenizer: Any, token_id: int) -> bytes:
    """The bytes one token stands for."""
    decoder = _byte_decoder()
    return bytes(decoder[char] for char in hf_tokenizer.id_to_token(token_id)
                 if char in decoder)


def allowed_token_ids(hf_tokenizer: Any, text_tokens: int, language: str) -> frozenset[int]:
    """Ids (below `text_tokens`, the first special token) a number said in `language` is
    written with: those the tokenizer uses for the allowed texts (with and without a leading
    space), and those whose text is made only of allowed characters."""
    allowed: set[int] = set()
    for text in _allowed_texts(language):
        for variant in (text, " " + text):
            allowed.update(hf_tokenizer.encode(variant, add_special_tokens=False).ids)
    characters = _allowed_characters(language)
    for token_id in range(text_tokens):
        try:
            text = token_bytes(hf_tokenizer, token_id).decode("utf-8")
        except UnicodeDecodeError:
            continue
        if text and set(text) <= characters:
            allowed.add(token_id)
    return frozenset(token_id for token_id in allowed if token_id < text_tokens)


def number_characters_only(text: str, language: str) -> bool:
    """Is `text` written only with what a number said in `language` can hold? (Byte tokens
    shared between characters can still spell another character, or an invalid one.)"""
    words = "".join(LEAD_IN[language]) + ("".join(EN_NUMBER_WORDS) if language == "en" else "")
    allowed = _allowed_characters(language) | set(words) | set(words.upper()) | {"'"}
    return set(text) <= allowed


def _pair_readings(groups: list[str]) -> list[list[str]]:
    """The digit groups as heard, then with "20, 6" read as the pair "26": fewest pairs
    joined first (a digit said alone stays alone unless only the pair makes a number)."""
    points = [index for index in range(len(groups) - 1)
              if _TENS_GROUP.fullmatch(groups[index])
              and _UNIT_GROUP.fullmatch(groups[index + 1])][:_MAX_PAIRS]
    readings = []
    for size in range(len(points) + 1):
        for chosen in combinations(points, size):
            joined = list(groups)
            for index in reversed(chosen):
                joined[index:index + 2] = [groups[index][:-1] + groups[index + 1]]
            readings.append(joined)
    return readings


def _reference_in(groups: list[str]) -> str | None:
    """The reference the groups make together, from the first or, when the prefix was heard
    as digits ("12, 2025, 364, 032": "gov" as "twelve"; 七六八 for 吉欧维), after at most
    `_PREFIX_DIGITS` of them; always to the last group (a digit too many is not dropped)."""
    skipped = 0
    for start in range(len(groups)):
        joined = "".join(groups[start:])
        if skipped > _PREFIX_DIGITS or len(joined) < _WHOLE_LENGTHS[1]:
            return None
        found = parse_reference(joined) if len(joined) in _WHOLE_LENGTHS[1:] else None
        if found:
            return found
        skipped += len(groups[start])
    return None


def number_reading(text: str) -> str | None:
    """The whole number a form asks for that `text` holds, written canonically: four digits
    (a verification code) or a reference ("GOV-2026-045354"); None when no reading of its
    digit groups makes one. A reference must read as one: a year of this century, a real
    date."""
    heard = unicodedata.normalize("NFKC", spoken_groups(text))
    groups = re.findall(r"\d+", heard)
    if len("".join(groups)) == _CODE_DIGITS:
        return "".join(groups)
    for reading in _pair_readings(groups):
        found = _reference_in(reading)
        if found:
            return found
    return None


def most_probable(readings: list[tuple[str, float]]) -> str | None:
    """Of the numbers several hypotheses read as, with each hypothesis's log-probability, the
    one they make most probable together (the sum of their probabilities): beam search spreads
    one number over hypotheses written differently ("2020 6, 126, double 5 1", "12, 20, 26, 1,
    2, 6, double 5 1"), while a wrong one may be a single better-scored hypothesis. Ties: the
    first."""
    if not readings:
        return None
    top = max(log_probability for _, log_probability in readings)
    mass: dict[str, float] = {}
    for reading, log_probability in readings:
        mass[reading] = mass.get(reading, 0.0) + math.exp(log_probability - top)
    return max(mass, key=mass.__getitem__)


def whole_number(text: str) -> bool:
    """Do the digits heard in `text` make one whole number a form asks for?"""
    return number_reading(text) is not None


def _compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


@dataclass(frozen=True)
class Hypothesis:
    signals: SegmentSignals  # its text and the decoder's signals, as for any segment
    tokens: tuple[int, ...]


class NumberDecoder:
    """Decodes one short recording (at most one 30-s window) with the number vocabulary."""

    def __init__(self, model: Any) -> None:  # a faster_whisper.WhisperModel
        self._model = model
        self._suppressed: dict[str, list[int]] = {}

    def suppressed(self, language: str) -> list[int]:
        """Every text token a number cannot contain, and the task tokens; once per language."""
        if language not in self._suppressed:
            tokenizer = self._tokenizer(language)
            allowed = allowed_token_ids(self._model.hf_tokenizer, tokenizer.eot, language)
            self._suppressed[language] = sorted(
                {token_id for token_id in range(tokenizer.eot) if token_id not in allowed}
                | {tokenizer.transcribe, tokenizer.translate, tokenizer.sot,
                   tokenizer.sot_prev, tokenizer.sot_lm, tokenizer.no_speech})
        return self._suppressed[language]

    def _tokenizer(self, language: str) -> Any:
        from faster_whisper.tokenizer import Tokenizer

        return Tokenizer(self._model.hf_tokenizer, True, task="transcribe", language=language)

    def candidates(self, samples: np.ndarray, language: str, prompt: str | None,
                   beam_size: int, max_new_tokens: int,
                   encoder_output: Any = None) -> list[Hypothesis]:
        """The best hypotheses, best first, each with the decoder's signals. `encoder_output`:
        the recording's, when the turn has already encoded it (speech.one_pass)."""
        from faster_whisper.audio import pad_or_trim

        tokenizer = self._tokenizer(language)
        encoded = encoder_output
        if encoded is None:
            extractor = self._model.feature_extractor
            encoded = self._model.encode(
                pad_or_trim(extractor(samples)[:, : extractor.nb_max_frames]))
        previous = tokenizer.encode(" " + prompt.strip()) if prompt else []
        tokens = self._model.get_prompt(tokenizer, previous, without_timestamps=True)
        result = self._model.model.generate(
            encoded, [tokens], beam_size=max(beam_size, HYPOTHESES),
            num_hypotheses=HYPOTHESES, return_scores=True, return_no_speech_prob=True,
            suppress_blank=True, suppress_tokens=self.suppressed(language),
            max_length=len(tokens) + max_new_tokens)[0]
        found = []
        for ids, score in zip(result.sequences_ids, result.scores, strict=True):
            text = tokenizer.decode(ids).strip()
            # scores are length-normalised sums; as faster-whisper, per token with the end
            avg_logprob = score * len(ids) / (len(ids) + 1)
            found.append(Hypothesis(SegmentSignals(text, avg_logprob, result.no_speech_prob,
                                                   _compression_ratio(text), len(ids)),
                                    tuple(ids)))
        return found
