"""Turning whatever a phone or browser recorded into 16 kHz mono samples, and samples into WAV.

Decoding uses PyAV (FFmpeg's libraries, shipped in its wheel): WebM/Opus from browsers, Ogg,
WAV at any rate or channel count, MP3, M4A, AMR. Everything that cannot be used is refused with
a reason the citizen can be told, never an exception from deep inside a decoder.
"""

from __future__ import annotations

import io
import wave

import av
import numpy as np

SAMPLE_RATE = 16_000
# Quieter than this everywhere (RMS of the loudest 100 ms window, full scale = 1.0) is silence.
SILENCE_RMS = 0.003


class AudioError(ValueError):
    """Unusable audio. `key` names the reason: empty, not_audio, too_long, too_large, silence."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(f"{key}: {detail}" if detail else key)
        self.key = key


def decode(data: bytes, max_seconds: float) -> np.ndarray:
    """Mono float32 samples at 16 kHz; AudioError if empty, undecodable or too long."""
    if not data:
        raise AudioError("empty")
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total, limit = 0, int(max_seconds * SAMPLE_RATE)
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError("not_audio", "no audio stream")
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    total += chunk.size
                    if total > limit:
                        raise AudioError("too_long", f"longer than {max_seconds:.0f} s")
                    chunks.append(chunk)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except (av.FFmpegError, ValueError, IndexError, OSError) as error:
        raise AudioError("not_audio", str(error)) from error
    if not chunks:
        raise AudioError("empty", "no samples")
    samples = np.concatenate(chunks).astype(np.float32) / 32768.0
    if samples.size < SAMPLE_RATE // 10:
        raise AudioError("empty", "shorter than 0.1 s")
    return samples


def is_silent(samples: np.ndarray) -> bool:
    """True if no 100 ms window rises above the silence level."""
    window = SAMPLE_RATE // 10
    usable = samples[: samples.size - samples.size % window].reshape(-1, window)
    if usable.size == 0:
        return True
    return float(np.sqrt((usable ** 2).mean(axis=1)).max()) < SILENCE_RMS


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """16-bit mono WAV: every browser and phone plays it without a codec."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def mp3_bytes(samples: np.ndarray, sample_rate: int, bitrate: int = 48_000) -> bytes:
    """MP3 (a tenth of the WAV's size): plays in every browser, including phones' and WeChat's
    built-in one, which matters on a slow mobile connection."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).reshape(1, -1)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=sample_rate, layout="mono")
        stream.bit_rate = bitrate
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def duration_seconds(samples: np.ndarray) -> float:
    return samples.size / SAMPLE_RATE
