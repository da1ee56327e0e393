"""Secrets generated on first use and owner-only state: the launcher and every service keep
their tokens and keys this way (README "Security model")."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


def persistent_secret(path: Path) -> str:
    """A random secret kept in an owner-only file, created on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


_MADE_PRIVATE: set[Path] = set()  # walked once per process; the umask covers what comes later


def make_private(*paths: Path) -> None:
    """Owner-only state (README "Security model"): from now on this process and every process
    it starts create files 0600 and folders 0700 (umask 077: databases and SQLite's -wal/-shm
    files, logs, caches, secrets), and whatever `paths` already hold is tightened to match."""
    os.umask(0o077)
    for top in paths:
        if top in _MADE_PRIVATE or not top.exists():
            continue
        _MADE_PRIVATE.add(top)
        top.chmod(top.stat().st_mode & 0o700)
        for folder, folders, files in os.walk(top):
            for name in (*folders, *files):
                path = os.path.join(folder, name)
                mode = os.lstat(path).st_mode
                if mode & 0o077 and not stat.S_ISLNK(mode):
                    os.chmod(path, mode & 0o700)
