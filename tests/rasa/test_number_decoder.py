"""The number turn's decoder (speech.number_decoder): only the tokens a spoken number is
written with, and of its hypotheses the first that is a whole number. Real models, in the Rasa
environment where the speech service runs."""

from __future__ import annotations

import numpy as np
import pytest

from channels.voice_turns import number_heard
from speech.asr import _NUMBER_PROMPTS, _as_read, _number_said
from speech.audio import decode, wav_bytes
from speech.config import SpeechSettings
from speech.number_decoder import (
    NumberDecoder,
    most_probable,
    number_characters_only,
    number_reading,
    whole_number,
)
from speech.service import load_engines
from speech.spoken_text import for_speaking
from speech.trust import SegmentSignals, prompt_digits_repeated


@pytest.fixture(scope="module")
def engines():
    return load_engines(SpeechSettings())


@pytest.fixture(scope="module")
def decoder(engines):
    return NumberDecoder(engines.recognizer._model)


def _spoken(engines, text: str, language: str):
    """The recording, the same on every run: Piper samples noise on every call (its English
    differs call to call, and "double five one" was heard right on some renderings and not
    others), so the English voice speaks here without that noise."""
    voice = engines.voices[language]
    piper = getattr(voice, "_voice", None)
    if piper is None:
        samples = voice.synthesize(for_speaking(text, language), 1.0)
    else:
        from piper import SynthesisConfig

        steady = SynthesisConfig(length_scale=1.0, noise_scale=0.0, noise_w_scale=0.0)
        samples = np.concatenate([chunk.audio_float_array for chunk in piper.synthesize(
            for_speaking(text, language), syn_config=steady)])
    return decode(wav_bytes(samples, voice.sample_rate), max_seconds=60)


def _ids(engines, text: str) -> set[int]:
    return set(engines.recognizer._model.hf_tokenizer.encode(text, add_special_tokens=False).ids)


@pytest.mark.parametrize(("language", "words"), [
    ("zh", "雅"), ("zh", "小米"), ("zh", "社保医保"), ("zh", "再见"),
    ("en", " Xiaomi"), ("en", " GeoV"), ("en", " Thanks for watching"), ("en", " I"),
])
def test_words_that_are_no_part_of_a_number_cannot_be_written(engines, decoder, language,
                                                               words):
    assert _ids(engines, words) & set(decoder.suppressed(language)), words


@pytest.mark.parametrize(("language", "said"), [
    ("zh", "G O V，二零二六，幺二六，五五幺"), ("zh", "申请号是GOV二〇二六两千"),
    ("en", " gov, twenty twenty-six, double oh one, nought"), ("en", " T 2026 1123"),
    ("en", " My ticket number is"),
])
def test_everything_a_number_is_said_with_can_be_written(engines, decoder, language, said):
    assert not _ids(engines, said) & set(decoder.suppressed(language)), said


def test_the_decoder_emits_only_allowed_tokens(engines, decoder):
    """Speech that is no number at all: every hypothesis is made of allowed tokens only."""
    samples = _spoken(engines, "我想问一下怎么办理居住证", "zh")
    suppressed = set(decoder.suppressed("zh"))
    hypotheses = decoder.candidates(samples, "zh", _NUMBER_PROMPTS["zh"], 5, 40)
    assert len(hypotheses) == 5
    for hypothesis in hypotheses:
        assert hypothesis.tokens and not set(hypothesis.tokens) & suppressed, hypothesis
        assert "居住证" not in hypothesis.signals.text


@pytest.mark.parametrize(("language", "said", "number"), [
    ("zh", "申请号是GOV-2026-045354", "GOV-2026-045354"),
    ("en", "gov, twenty twenty-six, one two six, five five one", "GOV-2026-126551"),
])
def test_a_number_said_aloud_decodes_to_the_number(engines, language, said, number):
    heard = engines.recognizer.transcribe(_spoken(engines, said, language), language,
                                          expect="number")
    assert number_heard(heard.text, "reference_number") == number, heard


@pytest.mark.parametrize(("language", "said", "word"), [
    ("zh", "我没有申请号，不知道。", "没有"), ("en", "I don't have the number.", "have"),
])
def test_words_said_in_a_number_turn_are_still_heard_as_words(engines, language, said, word):
    """No whole number in them: the number decoder's guesses are not taken."""
    heard = engines.recognizer.transcribe(_spoken(engines, said, language), language,
                                          expect="number")
    assert word in heard.text.lower(), heard
    assert not whole_number(heard.text)


@pytest.mark.parametrize(("text", "whole"), [
    ("GOV 2026 126551", True), ("2026。126。551。", True), ("T 20261123 004211", True),
    ("1234", True), ("二零二六幺二六五五幺", True), ("GOV, 20206126551", False),
    ("GOV 2026 1008 51 1", False), ("申请号是", False), ("1999 126551", False),
    ("T 20261399 004211", False),
])
def test_a_whole_number_is_one_a_form_asks_for(text, whole):
    assert whole_number(text) is whole


@pytest.mark.parametrize(("text", "number"), [
    # pairs Whisper wrote as a tens numeral and a unit apart ("twenty-six" as "20, 6")
    ("GOV, 20, 26, 045, 354.", "GOV-2026-045354"), ("G O V, 2020 6, 126, 551.", "GOV-2026-126551"),
    ("T, 20261009, 11, 20, 7, 80, 7", "T-20261009-112787"),
    # the prefix heard as digits before the number ("gov" as "twelve", 吉欧维 as 七六八)
    ("12, 20, 25, 3 6 4, 0 3 2.", "GOV-2025-364032"),
    ("七六八。二零二六。三零三。四二一。", "GOV-2026-303421"),
    ("10, 20, 20, 6, 0 4 5, 3 5 4.", "GOV-2026-045354"),
    # said as words, digit by digit, or as a year
    ("gov, twenty twenty-six, one two six, double five one", "GOV-2026-126551"),
    ("G O V two thousand and twenty five, three three five, oh oh three", "GOV-2025-335003"),
    ("尾号五六七八", "5678"),
    # no reading makes one: a digit too many or too few, digits said one by one, a year too
    # many digits before the number, a date that is none
    ("GOV 2026 1008 51 1", None), ("2 0 2 0 6, 3 0 3 4 2 1", None), ("2026, 12655", None),
    ("2019 2026 126551", None), ("T 20261399 004211", None), ("I don't have it", None),
])
def test_the_groups_heard_are_read_as_the_number_they_make(text, number):
    assert number_reading(text) == number


def test_of_the_hypotheses_the_number_they_make_most_probable_together_is_taken():
    # one better-scored wrong hypothesis against the same number written three ways
    assert most_probable([("GOV-2026-126251", -3.0), ("GOV-2026-126551", -3.4),
                          ("GOV-2026-126551", -3.6), ("GOV-2026-126551", -3.9)]) \
        == "GOV-2026-126551"
    # a much likelier one stays; ties go to the first; nothing read, nothing taken
    assert most_probable([("GOV-2026-126251", -1.0), ("GOV-2026-126551", -5.0),
                          ("GOV-2026-126551", -5.0)]) == "GOV-2026-126251"
    assert most_probable([("1234", -2.0), ("1243", -2.0)]) == "1234"
    assert most_probable([]) is None


def test_a_number_found_by_reading_its_groups_becomes_the_text_read_back():
    heard = [SegmentSignals("12, 20, 25, 3 6 4, ", -0.2, 0.01, 1.2, 9),
             SegmentSignals("0 3 2.", -0.4, 0.02, 1.1, 4)]
    text = "".join(segment.text for segment in heard)
    (read,) = _as_read(heard, text, _number_said(text, _NUMBER_PROMPTS["en"]))
    assert read.text == "GOV-2025-364032"
    # the decoder's log-probability of what was heard is kept (speech.trust judges it)
    assert read.log_probability == pytest.approx(sum(s.log_probability for s in heard))
    assert number_heard(read.text, "reference_number") == "GOV-2025-364032"
    plain = [SegmentSignals("GOV, 2026 126 551.", -0.1, 0.01, 1.0, 8)]
    assert _as_read(plain, plain[0].text, "GOV-2026-126551") == plain  # heard as it is
    assert _number_said("G O V 2 0 2 4, 0 0 1 2 3 4", _NUMBER_PROMPTS["en"]) is None  # leak


def test_the_prompts_example_digits_are_a_leak_not_a_number():
    assert prompt_digits_repeated("2024001122", _NUMBER_PROMPTS["zh"])
    assert prompt_digits_repeated("G O V 2024 001234", _NUMBER_PROMPTS["en"])
    assert not prompt_digits_repeated("GOV 2026 126551", _NUMBER_PROMPTS["zh"])


@pytest.mark.parametrize(("text", "language", "kept"), [
    ("申请号是G-O 2026045354", "zh", True), ("七十六。2026。126。556。", "zh", True),
    ("七楼笛。2026。1226。556。", "zh", False), ("20260900\ufffd", "zh", False),
    ("My application number is GOV, 2026045354.", "en", True), ("GOV, 2026045354 吧", "en", False),
])
def test_a_hypothesis_with_a_character_no_number_holds_is_not_taken(text, language, kept):
    assert number_characters_only(text, language) is kept
