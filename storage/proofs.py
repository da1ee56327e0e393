"""Proof, kept in a slot, that this conversation passed the status check for a reference.

Slots come from the conversation and could be set by whoever can write to it, so a slot saying
"verified" proves nothing. The check that compared the digits issues a signed value instead:
the reference, an expiry and an HMAC (server key, storage/secrets.py) over the conversation id,
the reference and the expiry. Whatever shows case data accepts only a value that verifies for
the conversation asking, before it expires.
"""

from __future__ import annotations

import hmac
import json
import time

from storage.config import CaseworkSettings
from storage.secrets import keyed_signature

PURPOSE = "status-check-proof"


def _signature(conversation_id: str, reference: str, expires: int) -> str:
    message = json.dumps([conversation_id, reference, expires], ensure_ascii=False)
    return keyed_signature(PURPOSE, message.encode())


def issue_proof(conversation_id: str, reference: str, now: float | None = None) -> str:
    """`reference|expiry|signature`, valid for this conversation for GOV_LOOKUP_PROOF_SECONDS."""
    expires = int(time.time() if now is None else now) + CaseworkSettings().proof_seconds
    return f"{reference}|{expires}|{_signature(conversation_id, reference, expires)}"


def proven_reference(proof: object, conversation_id: str, now: float | None = None
                     ) -> str | None:
    """The reference `proof` was issued for, if it was issued to this conversation and has not
    expired; None for anything else (a bare reference, a forgery, another conversation's)."""
    try:
        reference, expires_text, signature = str(proof or "").split("|")
        expires = int(expires_text)
    except ValueError:
        return None
    if expires < (time.time() if now is None else now):
        return None
    expected = _signature(conversation_id, reference, expires)
    return reference if hmac.compare_digest(signature.encode(), expected.encode()) else None
