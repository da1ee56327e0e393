"""Server-side sessions for signed-in staff: the cookie holds a random token, the database
only its hash, so a copied table cannot be replayed; each session has its own CSRF token."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from staff.accounts import StaffMember, member_of
from staff.config import StaffSettings
from storage.clock import as_utc, utc_now
from storage.database import sessions
from storage.models import StaffSession

# `last_seen` is written at most once a minute, not on every page view: the idle timeout
# (minutes) stays exact to within this, and a busy page costs no database write per request.
TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    member: StaffMember
    csrf_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(member: StaffMember, url: str | None = None) -> str:
    token = secrets.token_urlsafe(32)
    with sessions(url).begin() as session:
        session.add(StaffSession(token_hash=_hash(token), user_id=member.id,
                                 csrf_token=secrets.token_urlsafe(32)))
    return token


def current_session(token: str | None, url: str | None = None) -> SignedIn | None:
    """The signed-in member for a cookie token, if the session is alive (and touch it)."""
    if not token:
        return None
    settings, now = StaffSettings(), utc_now()
    with sessions(url).begin() as session:
        row = session.scalar(select(StaffSession).where(StaffSession.token_hash == _hash(token)))
        if row is None:
            return None
        idle = now - as_utc(row.last_seen) > dt.timedelta(minutes=settings.idle_minutes)
        old = now - as_utc(row.created_at) > dt.timedelta(hours=settings.max_session_hours)
        if idle or old or not row.user.active:
            session.delete(row)
            return None
        if now - as_utc(row.last_seen) >= TOUCH_EVERY:
            row.last_seen = now
        return SignedIn(member_of(row.user), row.csrf_token)


def end_session(token: str | None, url: str | None = None) -> None:
    if token:
        with sessions(url).begin() as session:
            session.execute(delete(StaffSession).where(StaffSession.token_hash == _hash(token)))
