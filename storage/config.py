"""Case-work settings (status look-ups, tickets, handoff), read through the settings registry
(common/registry.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.registry import from_env


@dataclass(frozen=True)
class CaseworkSettings:
    # Server-side key mixed into every verification-secret hash; generated on first use.
    secret_key_file: Path = from_env("GOV_SECRET_KEY_FILE")
    # Failed status look-ups allowed per conversation within the window before it is locked.
    max_failures: int = from_env("GOV_LOOKUP_MAX_FAILURES")
    lockout_minutes: int = from_env("GOV_LOOKUP_LOCKOUT_MINUTES")
    # How long the proof that a conversation passed the status check stays valid (it is used
    # in the same turn; storage/proofs.py).
    proof_seconds: int = from_env("GOV_LOOKUP_PROOF_SECONDS")
    # Tickets one conversation may create: a burst, then this many an hour (actions/tickets.py).
    tickets_burst: int = from_env("GOV_TICKETS_BURST")
    tickets_per_hour: float = from_env("GOV_TICKETS_PER_HOUR")
    # Per reference, from all conversations together: failures allowed before each further
    # attempt waits a delay that starts at `backoff_seconds` and doubles with every failure;
    # failures count for `reference_window_hours`. Slows guessing, never locks the owner out.
    reference_free_failures: int = from_env("GOV_LOOKUP_REFERENCE_FREE_FAILURES")
    backoff_seconds: int = from_env("GOV_LOOKUP_BACKOFF_SECONDS")
    reference_window_hours: int = from_env("GOV_LOOKUP_REFERENCE_WINDOW_HOURS")
    # Staff office hours for human handoff, e.g. "mon-fri 09:00-17:00; sat 09:00-12:00".
    office_hours: str = from_env("GOV_OFFICE_HOURS")
    timezone: str = from_env("GOV_TIMEZONE")
    # Unanswered questions in a row before the conversation is handed to a person.
    failures_before_handoff: int = from_env("GOV_FAILURES_BEFORE_HANDOFF")
