"""Status look-ups that show nothing until the citizen proves who they are.

One path for applications (GOV-…) and tickets (T-…): find the record, check the secret, audit
the attempt. Two defences against guessing, neither of which lets a stranger lock a citizen out:
a conversation is locked after too many failures (its own, on any reference) within the window;
a reference that keeps failing, from however many conversations, is slowed by a growing delay
between attempts rather than locked, so its owner gets through once the delay has passed.
An unknown reference and a wrong secret take the same time and give the same answer.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from dataclasses import dataclass, field

from sqlalchemy import false, func, select, text, update
from sqlalchemy.orm import Session

from storage.clock import as_utc, utc_now
from storage.config import CaseworkSettings
from storage.database import sessions
from storage.departments import DepartmentView, department_view
from storage.models import Application, LookupAttempt, Ticket
from storage.secrets import verify_secret
from storage.tickets import category_title, status_title

VERIFIED, FAILED, LOCKED = "verified", "failed", "locked"


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    title: str
    note: str


@dataclass(frozen=True)
class StatusView:
    """What a verified citizen is told about their application or ticket, in their language."""

    reference: str
    kind: str  # application | ticket
    subject: str  # service name, or the ticket's category
    status: str
    status_title: str
    updated_at: dt.datetime
    next_step: str
    expected: dt.date | None
    department: DepartmentView
    history: list[HistoryEntry] = field(default_factory=list)


@dataclass(frozen=True)
class LookupResult:
    outcome: str  # verified | failed | locked
    failures_left: int = 0
    retry_after: int = 0  # seconds before this conversation may try this reference again


def _conversation_failures(session: Session, conversation_id: str,
                           now: dt.datetime) -> list[dt.datetime]:
    since = now - dt.timedelta(minutes=CaseworkSettings().lockout_minutes)
    return list(session.scalars(
        select(LookupAttempt.at)
        .where(LookupAttempt.conversation_id == conversation_id,
               LookupAttempt.outcome == FAILED, LookupAttempt.at >= since)
        .order_by(LookupAttempt.at)
    ))


def _conversation_wait(session: Session, conversation_id: str, now: dt.datetime) -> float:
    """Seconds until the conversation's failures in the window drop below the limit."""
    settings = CaseworkSettings()
    failures = _conversation_failures(session, conversation_id, now)
    if len(failures) < settings.max_failures:
        return 0.0
    unlocks = as_utc(failures[len(failures) - settings.max_failures]) + \
        dt.timedelta(minutes=settings.lockout_minutes)
    return max((unlocks - now).total_seconds(), 0.0)


def backoff_delay(failures: int) -> float:
    """The pause a reference needs after `failures` failed attempts (from anyone) in its
    window: none for the first few, then `backoff_seconds`, doubling with each failure."""
    settings = CaseworkSettings()
    beyond = failures - settings.reference_free_failures
    if beyond < 0:
        return 0.0
    window = settings.reference_window_hours * 3600.0
    return min(settings.backoff_seconds * 2.0 ** min(beyond, 40), window)


def _reference_wait(session: Session, reference: str, now: dt.datetime) -> float:
    """Seconds until the reference may be tried again: its back-off after the latest failure."""
    since = now - dt.timedelta(hours=CaseworkSettings().reference_window_hours)
    count, latest = session.execute(
        select(func.count(), func.max(LookupAttempt.at))
        .where(LookupAttempt.reference == reference, LookupAttempt.outcome == FAILED,
               LookupAttempt.at >= since)
    ).one()
    delay = backoff_delay(count or 0)
    if not delay or latest is None:
        return 0.0
    return max((as_utc(latest) + dt.timedelta(seconds=delay) - now).total_seconds(), 0.0)


def _wait(session: Session, conversation_id: str, reference: str | None,
          now: dt.datetime) -> float:
    waits = [_conversation_wait(session, conversation_id, now)]
    if reference:
        waits.append(_reference_wait(session, reference, now))
    return max(waits)


def _one_at_a_time(session: Session, reference: str) -> None:
    """Serialise look-ups of one reference, so that a burst from many conversations cannot all
    be checked before the first failure slows the rest."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("select pg_advisory_xact_lock(:key)"),
                        {"key": zlib.crc32(reference.encode())})
    else:  # SQLite: take the database's write lock now (a write that changes nothing)
        session.execute(update(LookupAttempt).where(false())
                        .values(outcome=LookupAttempt.outcome))


def wait_seconds(conversation_id: str, reference: str | None = None,
                 url: str | None = None) -> int:
    """How long this conversation must wait before trying `reference` (0: it may now)."""
    with sessions(url)() as session:
        return math.ceil(_wait(session, conversation_id, reference, utc_now()))


def is_locked(conversation_id: str, reference: str | None = None,
              url: str | None = None) -> bool:
    return wait_seconds(conversation_id, reference, url) > 0


def look_up(reference: str, secret: str, conversation_id: str, channel: str,
            url: str | None = None) -> LookupResult:
    """Check `secret` for `reference`, audit the attempt, apply the lockout and the back-off."""
    limit = CaseworkSettings().max_failures
    with sessions(url).begin() as session:
        _one_at_a_time(session, reference)
        now = utc_now()

        def audit(outcome: str) -> None:
            session.add(LookupAttempt(conversation_id=conversation_id, channel=channel,
                                      reference=reference, outcome=outcome, at=now))

        wait = _wait(session, conversation_id, reference, now)
        if wait > 0:
            audit(LOCKED)
            return LookupResult(LOCKED, retry_after=math.ceil(wait))
        record = _find(session, reference)
        verified = _check(record, secret)
        audit(VERIFIED if verified else FAILED)
        if verified:
            return LookupResult(VERIFIED)
        session.flush()
        left = limit - len(_conversation_failures(session, conversation_id, now))
        if left <= 0:
            return LookupResult(LOCKED, retry_after=math.ceil(
                _conversation_wait(session, conversation_id, now)))
        return LookupResult(FAILED, failures_left=left)


def status_view(reference: str, language: str, url: str | None = None) -> StatusView | None:
    """The status of a reference: call only after `look_up` returned VERIFIED for it."""
    with sessions(url)() as session:
        record = _find(session, reference)
        return _view(record, language) if record else None


def _find(session: Session, reference: str) -> Application | Ticket | None:
    if reference.startswith("GOV-"):
        return session.scalar(select(Application).where(Application.number == reference))
    return session.scalar(select(Ticket).where(Ticket.reference == reference))


def _check(record: Application | Ticket | None, secret: str) -> bool:
    """Always two hash computations, found or not, so response time says nothing."""
    if isinstance(record, Application):
        hashes = [record.phone_last4_hash, record.id_last4_hash]
    elif isinstance(record, Ticket):
        hashes = [record.phone_last4_hash, None]
    else:
        hashes = [None, None]
    results = [verify_secret(secret, stored) for stored in hashes]
    return record is not None and any(results)


def _view(record: Application | Ticket, language: str) -> StatusView:
    zh = language == "zh"
    if isinstance(record, Application):
        history = [HistoryEntry(as_utc(event.at), event.title_zh if zh else event.title_en,
                                event.note_zh if zh else event.note_en)
                   for event in record.history]
        return StatusView(
            reference=record.number, kind="application",
            subject=record.service_name_zh if zh else record.service_name_en,
            status=record.status,
            status_title=history[-1].title if history else record.status,
            updated_at=as_utc(record.updated_at),
            next_step=record.next_step_zh if zh else record.next_step_en,
            expected=record.expected_completion,
            department=department_view(record.department, language), history=history,
        )
    history = [HistoryEntry(as_utc(event.at), status_title(event.status, language),
                            event.note_zh if zh else event.note_en) for event in record.history]
    latest_note = next((entry.note for entry in reversed(history) if entry.note), "")
    return StatusView(
        reference=record.reference, kind="ticket",
        subject=category_title(record.category, language), status=record.status,
        status_title=status_title(record.status, language), updated_at=as_utc(record.updated_at),
        next_step=latest_note, expected=record.response_due,
        department=department_view(record.department, language), history=history,
    )
