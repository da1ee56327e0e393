"""Case-work settings (status look-ups, tickets, handoff): environment variables with
documented defaults (README "Configuration")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stack.settings import default_state_dir, env, env_path


@dataclass(frozen=True)
class CaseworkSettings:
    # Server-side key mixed into every verification-secret hash; generated on first use.
    secret_key_file: Path = field(
        default_factory=lambda: env_path("GOV_SECRET_KEY_FILE",
                                         str(default_state_dir() / "secret.key"))
    )
    # Failed status look-ups allowed per conversation or per reference within the window.
    max_failures: int = field(default_factory=lambda: int(env("GOV_LOOKUP_MAX_FAILURES", "3")))
    lockout_minutes: int = field(
        default_factory=lambda: int(env("GOV_LOOKUP_LOCKOUT_MINUTES", "15"))
    )
    # Staff office hours for human handoff, e.g. "mon-fri 09:00-17:00; sat 09:00-12:00".
    office_hours: str = field(
        default_factory=lambda: env("GOV_OFFICE_HOURS", "mon-fri 09:00-17:00")
    )
    timezone: str = field(default_factory=lambda: env("GOV_TIMEZONE", "Asia/Shanghai"))
    # Unanswered questions in a row before the conversation is handed to a person.
    failures_before_handoff: int = field(
        default_factory=lambda: int(env("GOV_FAILURES_BEFORE_HANDOFF", "3"))
    )
