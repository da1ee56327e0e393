"""The id a balancer gives each request it forwards, the same on every attempt.

A balancer that re-sends a turn to the next instance (the first one died before answering)
cannot know whether the dead instance had already handled it and stored the conversation. Rasa
can: it keeps the id as the turn's message id, and a turn whose id is already in the
conversation is answered from there instead of a second time (bot/retried_turns.py). The id is
always the balancer's own, never the client's: a client cannot pass a new turn off as an
earlier one. HAProxy sets the same header (deploy/haproxy/haproxy.cfg).
"""

from __future__ import annotations

import re
import uuid

HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def valid_request_id(value: str | None) -> str | None:
    """`value` if it looks like an id a balancer made, else None (ignored)."""
    return value if value is not None and _VALID.fullmatch(value) else None
