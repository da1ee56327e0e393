"""Staff workspace settings, read through the settings registry (common/registry.py)."""

from __future__ import annotations

from dataclasses import dataclass

from common.registry import from_env


@dataclass(frozen=True)
class StaffSettings:
    # Failed sign-ins before an account is locked, and for how long.
    max_failed_logins: int = from_env("GOV_STAFF_MAX_FAILED_LOGINS")
    lockout_minutes: int = from_env("GOV_STAFF_LOCKOUT_MINUTES")
    # A session ends after this long without activity, and in any case after the maximum.
    idle_minutes: int = from_env("GOV_STAFF_IDLE_MINUTES")
    max_session_hours: int = from_env("GOV_STAFF_SESSION_HOURS")
    # "auto": Secure cookies when the request came over HTTPS (directly or via a proxy that
    # says so); "always" behind a TLS proxy that does not; "never" only for local trials.
    secure_cookies: str = from_env("GOV_STAFF_SECURE_COOKIES")
    min_password_length: int = 12
