"""Staff workspace settings: environment variables with documented defaults (README)."""

from __future__ import annotations

from dataclasses import dataclass, field

from common.settings import env


@dataclass(frozen=True)
class StaffSettings:
    # Failed sign-ins before an account is locked, and for how long.
    max_failed_logins: int = field(
        default_factory=lambda: int(env("GOV_STAFF_MAX_FAILED_LOGINS", "5")))
    lockout_minutes: int = field(
        default_factory=lambda: int(env("GOV_STAFF_LOCKOUT_MINUTES", "15")))
    # A session ends after this long without activity, and in any case after the maximum.
    idle_minutes: int = field(default_factory=lambda: int(env("GOV_STAFF_IDLE_MINUTES", "60")))
    max_session_hours: int = field(
        default_factory=lambda: int(env("GOV_STAFF_SESSION_HOURS", "12")))
    # "auto": Secure cookies when the request came over HTTPS (directly or via a proxy that
    # says so); "always" behind a TLS proxy that does not; "never" only for local trials.
    secure_cookies: str = field(default_factory=lambda: env("GOV_STAFF_SECURE_COOKIES", "auto"))
    min_password_length: int = 12
