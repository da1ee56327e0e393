"""Can the voice channel trust what it heard? Real human recordings on both pages, hallucinations,
read-backs, and fairness between two callers (docs/benchmarks.md "Voice").

Part of `make bench-voice` (bench/voice.py calls `measure` with its running speech service);
alone, `python bench/voice_trust.py` starts just the speech service and measures:

1. every real recording in ../shared/data/real/speech/ (manifest.jsonl; "not present, skipped"
   when missing) sent with each page language, zh and en, as the page does;
2. the project's own voices saying a few citizen questions, on each page;
3. two callers: a ~3 s question alone, then the same question sent 0.3 s after a 60 s
   recording; the difference is the other caller's extra wait.

Per set x speech language x page language: CER (zh) / WER (en), exact matches, transcripts that
are hallucinated or prompt-like (stock subtitle phrases, the decoder's context, loops) and how
many of those would have been acted on (quality "ok": must be 0), the share of turns read back
first (quality "check") or refused as unclear, and p50 / p95 / max seconds. The real recordings
never leave ../shared: only aggregates are printed and written (var/bench/voice_trust.json).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import secrets
import signal
import sys
import time
import wave
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.settings import PROJECT_ROOT
from speech.scoring import error_rate
from speech.trust import is_repetitive, is_stock_phrase, prompt_overlap

REAL_SPEECH = PROJECT_ROOT / ".." / "shared" / "data" / "real" / "speech"
OUTPUT = PROJECT_ROOT / "var" / "bench" / "voice_trust.json"
PAGES = ("zh", "en")
# Context sentences the recogniser was given in earlier versions (they leaked) and now.
KNOWN_PROMPTS = {"zh": "以下是普通话的政务服务对话。您好，请问有什么可以帮您？以下是普通话的句子。",
                 "en": "Please say the number digit by digit. My application number is"}
OWN_VOICE_QUESTIONS = {
    "zh": ["我想查询我的申请进度。", "公积金可以提取吗？", "退休以后养老金什么时候发？",
           "怎么办理居住证？", "你好。"],
    "en": ["How do I apply for the elderly care subsidy?", "Where can I renew my passport?",
           "I want to check the status of my application.", "Hello."],
}
FAIRNESS_QUESTION = ("en", "How do I renew my identity card?")
TARGETS = {"zh_cer": 0.18, "en_wer": 0.08, "wrong_page_gap": 0.05, "turn_seconds": 3.0,
           "extra_wait": 1.0}


def hallucinated(text: str, language: str) -> bool:
    """Text a citizen did not say: stock subtitle phrases, the decoder's context, loops."""
    return bool(text) and (is_stock_phrase(text) or is_repetitive(text, language)
                           or any(prompt_overlap(text, prompt, language)
                                  for prompt in KNOWN_PROMPTS.values()))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _transcribe(speech_url: str, audio: bytes, page: str) -> dict:
    from bench.voice import transcribe

    return transcribe(speech_url, audio, page, None)


def _scored(set_name: str, language: str, page: str, reference: str, heard: dict) -> dict:
    text = heard.get("text") or ""
    quality = heard.get("quality") if heard["error"] is None else heard["error"]
    return {"set": set_name, "language": language, "page": page,
            "error_rate": round(error_rate(reference, text, language), 4),
            "heard_language": heard.get("language"), "quality": quality,
            "hallucinated": hallucinated(text, language),
            "acted_on": heard["error"] is None and heard.get("quality") == "ok",
            "seconds": round(heard["wall_seconds"], 3),
            "audio_seconds": heard.get("audio_seconds")}


def measure_real(speech_url: str) -> list[dict] | None:
    """Every real recording on both pages; None when the folder is not there."""
    manifest = REAL_SPEECH / "manifest.jsonl"
    if not manifest.is_file():
        print(f"[bench-voice] real recordings: {REAL_SPEECH} not present, skipped", flush=True)
        return None
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    results = []
    for row in rows:
        audio = (REAL_SPEECH / row["file"]).read_bytes()
        for page in PAGES:
            results.append(_scored("real", row["language"], page, row["reference"],
                                   _transcribe(speech_url, audio, page)))
    print(f"[bench-voice] real recordings: {len(rows)} x {len(PAGES)} pages", flush=True)
    return results


def measure_own_voices(speech_url: str) -> list[dict]:
    """The project's own voices, each question on both pages."""
    from bench.voice import synthesize

    results = []
    for language, questions in OWN_VOICE_QUESTIONS.items():
        for question in questions:
            audio, _ = synthesize(speech_url, question, language, rate=1.0)
            for page in PAGES:
                results.append(_scored("own voices", language, page, question,
                                       _transcribe(speech_url, audio, page)))
    return results


def _concatenated_wav(audio: bytes, seconds: float) -> bytes:
    """`audio` (a WAV) repeated with half-second gaps to `seconds` long."""
    with wave.open(io.BytesIO(audio)) as source:
        rate = source.getframerate()
        pcm = np.frombuffer(source.readframes(source.getnframes()), "<i2")
    piece = np.concatenate([pcm, np.zeros(rate // 2, "<i2")])
    whole = np.tile(piece, int(np.ceil(seconds * rate / piece.size)))[: int(seconds * rate)]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(whole.tobytes())
    return buffer.getvalue()


def measure_fairness(speech_url: str, rounds: int = 3) -> dict:
    """The short question's time alone, and sent 0.3 s after a 60 s recording."""
    from bench.voice import synthesize

    language, question = FAIRNESS_QUESTION
    short, _ = synthesize(speech_url, question, language, rate=1.0)
    paragraph, _ = synthesize(speech_url, " ".join(OWN_VOICE_QUESTIONS["en"][:3]), language,
                              rate=1.0)
    long = _concatenated_wav(paragraph, 60)
    alone = [_transcribe(speech_url, short, language)["wall_seconds"] for _ in range(rounds)]
    beside, long_seconds = [], []
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for _ in range(rounds):
            first = pool.submit(_transcribe, speech_url, long, language)
            time.sleep(0.3)
            beside.append(_transcribe(speech_url, short, language)["wall_seconds"])
            long_seconds.append(first.result()["wall_seconds"])
    extra = float(np.median(beside) - np.median(alone))
    return {"short_alone_p50": round(float(np.median(alone)), 3),
            "short_beside_60s_p50": round(float(np.median(beside)), 3),
            "short_beside_60s_max": round(max(beside), 3),
            "long_60s_p50": round(float(np.median(long_seconds)), 3),
            "extra_wait_p50": round(extra, 3), "rounds": rounds}


def cell_table(results: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for result in results:
        groups[(result["set"], result["language"], result["page"])].append(result)
    rows = []
    for (set_name, language, page), group in groups.items():
        seconds = [r["seconds"] for r in group]
        rows.append({
            "set": set_name, "language": language, "page": page, "n": len(group),
            "metric": "CER" if language == "zh" else "WER",
            "error_rate": round(float(np.mean([r["error_rate"] for r in group])), 4),
            "exact": sum(r["error_rate"] == 0 for r in group),
            "heard_in_language_spoken": sum(r["heard_language"] == language for r in group),
            "hallucinated": sum(r["hallucinated"] for r in group),
            "hallucinated_acted_on": sum(r["hallucinated"] and r["acted_on"] for r in group),
            "read_back_share": round(sum(r["quality"] == "check" for r in group) / len(group), 3),
            "refused_share": round(sum(r["quality"] not in ("ok", "check") for r in group)
                                   / len(group), 3),
            "p50": round(percentile(seconds, 50), 2), "p95": round(percentile(seconds, 95), 2),
            "max": round(max(seconds), 2),
            "audio_seconds_max": max((r["audio_seconds"] or 0) for r in group),
        })
    return rows


def verdicts(rows: list[dict], fairness: dict | None) -> list[str]:
    """Each target, met or not."""
    lines = []
    by_cell = {(r["set"], r["language"], r["page"]): r for r in rows}
    for (set_name, language, page), row in by_cell.items():
        if set_name == "real" and language == page:
            limit = TARGETS["zh_cer" if language == "zh" else "en_wer"]
            met = "met" if row["error_rate"] <= limit else "NOT met"
            lines.append(f"real {language} {row['metric']} {row['error_rate']:.3f} "
                         f"(target <= {limit}): {met}")
        if language != page and (set_name, language, language) in by_cell:
            gap = row["error_rate"] - by_cell[(set_name, language, language)]["error_rate"]
            lines.append(f"{set_name} {language} on the {page} page: {row['metric']} "
                         f"{gap:+.3f} vs the right page (target within "
                         f"{TARGETS['wrong_page_gap']}): "
                         f"{'met' if gap <= TARGETS['wrong_page_gap'] else 'NOT met'}")
    acted = sum(r["hallucinated_acted_on"] for r in rows)
    lines.append(f"hallucinated or prompt-like transcripts acted on: {acted} (target 0): "
                 f"{'met' if acted == 0 else 'NOT met'}")
    slow = [r for r in rows if r["audio_seconds_max"] <= 10 and r["max"] > TARGETS["turn_seconds"]]
    lines.append(f"recognition on <= 10 s of audio: max "
                 f"{max((r['max'] for r in rows), default=0):.2f} s (target <= "
                 f"{TARGETS['turn_seconds']:.0f} s per turn): {'met' if not slow else 'NOT met'}")
    if fairness:
        extra = fairness["extra_wait_p50"]
        lines.append(f"other caller's extra wait beside a 60 s recording: {extra:.2f} s (target "
                     f"<= {TARGETS['extra_wait']:.0f} s): "
                     f"{'met' if extra <= TARGETS['extra_wait'] else 'NOT met'}")
    return lines


def print_trust(report: dict) -> None:
    print("\nrecognition by speech language and page language (seconds: HTTP round trip of "
          "POST /v1/transcribe)")
    print(f"{'set':<11}{'lang':<5}{'page':<5}{'n':>3}{'metric':>7}{'error':>7}{'exact':>6}"
          f"{'in lang':>8}{'halluc':>7}{'acted':>6}{'read back':>10}{'refused':>8}"
          f"{'p50':>6}{'p95':>6}{'max':>6}")
    for row in report["cells"]:
        print(f"{row['set']:<11}{row['language']:<5}{row['page']:<5}{row['n']:>3}"
              f"{row['metric']:>7}{row['error_rate']:>7.3f}{row['exact']:>6}"
              f"{row['heard_in_language_spoken']:>8}{row['hallucinated']:>7}"
              f"{row['hallucinated_acted_on']:>6}{row['read_back_share']:>10.2f}"
              f"{row['refused_share']:>8.2f}{row['p50']:>6.2f}{row['p95']:>6.2f}"
              f"{row['max']:>6.2f}")
    if report.get("fairness"):
        f = report["fairness"]
        print(f"\ntwo callers: a 3 s question alone {f['short_alone_p50']:.2f} s, sent 0.3 s "
              f"after a 60 s recording {f['short_beside_60s_p50']:.2f} s (max "
              f"{f['short_beside_60s_max']:.2f} s); the 60 s recording {f['long_60s_p50']:.2f} s"
              f"; extra wait {f['extra_wait_p50']:+.2f} s (median of {f['rounds']})")
    for line in report["verdicts"]:
        print("  " + line)


def measure(speech_url: str, fairness: bool = True) -> dict:
    """Everything above against a running speech service."""
    real = measure_real(speech_url) or []
    own = measure_own_voices(speech_url)
    fair = measure_fairness(speech_url) if fairness else None
    cells = cell_table(real + own)
    return {"real_present": bool(real), "cells": cells, "fairness": fair,
            "verdicts": verdicts(cells, fair)}


def main() -> None:
    from bench.voice import memory_mb, speech_service_alone, write_report

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-fairness", action="store_true", help="skip the two-caller test")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    extra = {"GOV_RASA_API_TOKEN": secrets.token_urlsafe(16)}
    with speech_service_alone("gov-bench-voice-trust-", extra) as (settings, service, _):
        report = measure(settings.speech_url, fairness=not args.no_fairness)
        report["speech_rss_mb"] = round(memory_mb(service)[0])
    write_report(report, OUTPUT, print_trust)

if __name__ == "__main__":
    main()
