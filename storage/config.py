"""Case-work settings (status look-ups, tickets, handoff): environment variables with
documented defaults (README "Configuration")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from common.settings import default_state_dir, env, env_path


@dataclass(frozen=True)
class CaseworkSettings:
    # Server-side key mixed into every verification-secret hash; generated on first use.
    secret_key_file: Path = field(
        default_factory=lambda: env_path("GOV_SECRET_KEY_FILE",
                                         str(default_state_dir() / "secret.key"))
    )
    # Failed status look-ups allowed per conversation within the window before it is locked.
    max_failures: int = field(default_factory=lambda: int(env("GOV_LOOKUP_MAX_FAILURES", "3")))
    lockout_minutes: int = field(
        default_factory=lambda: int(env("GOV_LOOKUP_LOCKOUT_MINUTES", "15"))
    )
    # How long the proof that a conversation passed the status check stays valid (it is used
    # in the same turn; storage/proofs.py).
    proof_seconds: int = field(default_factory=lambda: int(env("GOV_LOOKUP_PROOF_SECONDS", "300")))
    # Tickets one conversation may create: a burst, then this many an hour (actions/tickets.py).
    tickets_burst: int = field(default_factory=lambda: int(env("GOV_TICKETS_BURST", "3")))
    tickets_per_hour: float = field(
        default_factory=lambda: float(env("GOV_TICKETS_PER_HOUR", "6")))
    # Per reference, from all conversations together: failures allowed before each further
    # attempt waits a delay that starts at `backoff_seconds` and doubles with every failure;
    # failures count for `reference_window_hours`. Slows guessing, never locks the owner out.
    reference_free_failures: int = field(
        default_factory=lambda: int(env("GOV_LOOKUP_REFERENCE_FREE_FAILURES", "3"))
    )
    backoff_seconds: int = field(
        default_factory=lambda: int(env("GOV_LOOKUP_BACKOFF_SECONDS", "30"))
    )
    reference_window_hours: int = field(
        default_factory=lambda: int(env("GOV_LOOKUP_REFERENCE_WINDOW_HOURS", "24"))
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
