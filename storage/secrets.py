"""Hashing the short secrets citizens prove themselves with (last 4 digits of a phone or ID card).

Four digits are only 10,000 possibilities, so a salted hash alone could be reversed by anyone who
copies the table. Each hash is scrypt over a server-side key (kept outside the database) plus the
digits, with a per-record salt: the database alone reveals nothing, and the online lockout
(`storage.lookups`) limits guessing through the assistant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from pathlib import Path

from common.registry import setting
from common.secrets import persistent_secret
from storage.config import CaseworkSettings

_N, _R, _P = 2**13, 8, 1
_SCHEME = "scrypt1"


@lru_cache(maxsize=4)
def _key_file(path: Path) -> bytes:
    return persistent_secret(path).encode()


def _server_key() -> bytes:
    """GOV_SECRET_KEY if set, else the key file (created with owner-only access on first use)."""
    configured = setting("GOV_SECRET_KEY")
    return configured.encode() if configured else _key_file(CaseworkSettings().secret_key_file)


def _derive(secret: str, salt: bytes) -> bytes:
    key = _server_key()
    return hashlib.scrypt(key + b":" + secret.upper().encode(), salt=salt, n=_N, r=_R, p=_P,
                          dklen=32)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def keyed_signature(purpose: str, message: bytes) -> str:
    """HMAC-SHA256 of `message` under a key derived from the server key for `purpose` alone
    (a signature made for one purpose is worthless for another)."""
    key = hmac.new(_server_key(), b"purpose:" + purpose.encode(), hashlib.sha256).digest()
    return _b64(hmac.new(key, message, hashlib.sha256).digest())


def hash_secret(secret: str) -> str:
    salt = os.urandom(16)
    return f"{_SCHEME}${_b64(salt)}${_b64(_derive(secret, salt))}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """Constant work whether or not there is a stored hash, so timing reveals nothing."""
    try:
        scheme, salt, digest = (stored or "").split("$")
        salt_bytes, expected = _unb64(salt), _unb64(digest)
        valid = scheme == _SCHEME
    except ValueError:
        salt_bytes, expected, valid = b"\0" * 16, b"", False
    return hmac.compare_digest(_derive(secret, salt_bytes), expected) and valid


def derived_key(purpose: str) -> bytes:
    """A key for one purpose (e.g. signing conversation ids), derived from the server key so
    that every process and machine sharing GOV_SECRET_KEY (or its file) agrees on it, and no
    two purposes share a key."""
    return hmac.new(_server_key(), b"gov-assistant:" + purpose.encode(), hashlib.sha256).digest()
