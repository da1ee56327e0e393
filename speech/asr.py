"""Speech recognition behind one small interface, so a bigger model can be dropped in."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import opencc

from speech.audio import duration_seconds
from speech.spoken_text import from_speech

LANGUAGES = ("zh", "en")
# Whisper writes Chinese in either script, and mishears public-service words (营业执照 as
# 营业职账) and one-word answers, unless its context is a Simplified-Chinese service
# conversation: the prompt is that context in whole sentences (a list of terms invites Whisper
# to continue the list after the citizen has stopped speaking).
_PROMPTS = {
    "zh": "以下是普通话的政务服务对话。您好，请问有什么可以帮您？我想问一下营业执照和身份证怎么"
          "办理。社保、医保和公积金的问题也可以问我。好的。是的。不是。",
    "en": None,
}
# While a form asks for a reference or four digits: digits said one by one, written as words
# (which spoken_text turns into digits) rather than grouped at random.
_NUMBER_PROMPTS = {
    "zh": "以下是普通话的对话。请说出号码，一位一位地读。申请号是二零二四，零零一二三四。"
          "工单号是T，二零二六一一二三，零零四二一一。手机尾号是五六七八。",
    "en": "Please say the number digit by digit. My application number is G O V, 2 0 2 4, "
          "0 0 1 2 3 4. The last four digits are 5 6 7 8.",
}
EXPECTATIONS = (None, "number")

@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    audio_seconds: float
    processing_seconds: float


class Recognizer(Protocol):
    def transcribe(self, samples: np.ndarray, language: str | None,
                   expect: str | None = None) -> Transcript:
        """Text of 16 kHz mono `samples`; `language` "zh"/"en", or None to detect it;
        `expect` "number" when the citizen is answering a question about a number."""


class WhisperRecognizer:
    """faster-whisper (CTranslate2, int8 on CPU). The model is loaded once; calls are
    serialised because one call already uses every configured thread."""

    def __init__(self, model_dir: Path, threads: int = 2, beam_size: int = 1) -> None:
        from faster_whisper import WhisperModel

        self._model = WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                                   cpu_threads=threads)
        self._beam_size = beam_size
        self._lock = threading.Lock()
        self._to_simplified = opencc.OpenCC("t2s")

    def _detect(self, samples: np.ndarray) -> str:
        _, _, probabilities = self._model.detect_language(samples)
        scores = dict(probabilities)
        return max(LANGUAGES, key=lambda language: scores.get(language, 0.0))

    def transcribe(self, samples: np.ndarray, language: str | None,
                   expect: str | None = None) -> Transcript:
        started = time.perf_counter()
        prompts, beam = _PROMPTS, self._beam_size
        if expect == "number":  # short answers: a wider beam is cheap and avoids digit loops
            prompts, beam = _NUMBER_PROMPTS, max(beam, 5)
        with self._lock:
            language = language if language in LANGUAGES else self._detect(samples)
            text = ""
            # Voice-activity filtering drops silence Whisper would fill with invented words,
            # but can drop a whole short answer too ("Yes." on a phone line): then without.
            for vad in (True, False):
                segments, _ = self._model.transcribe(
                    samples, language=language, beam_size=beam, vad_filter=vad,
                    condition_on_previous_text=False, initial_prompt=prompts[language])
                text = "".join(segment.text for segment in segments).strip()
                if text:
                    break
        if language == "zh":
            text = self._to_simplified.convert(text)
        return Transcript(from_speech(text), language, duration_seconds(samples),
                          time.perf_counter() - started)
