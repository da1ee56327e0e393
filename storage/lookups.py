"""Status look-ups that show nothing until the citizen proves who they are.

One path for applications (GOV-…) and tickets (T-…): find the record, check the secret, audit
the attempt, and lock out a conversation or a reference after too many failures in the window.
An unknown reference and a wrong secret take the same time and give the same answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
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


def _recent_failures(session: Session, conversation_id: str, reference: str | None) -> int:
    settings = CaseworkSettings()
    since = utc_now() - dt.timedelta(minutes=settings.lockout_minutes)
    who = LookupAttempt.conversation_id == conversation_id
    if reference:
        who = or_(who, LookupAttempt.reference == reference)
    return session.scalar(
        select(func.count()).select_from(LookupAttempt)
        .where(who, LookupAttempt.outcome == FAILED, LookupAttempt.at >= since)
    ) or 0


def is_locked(conversation_id: str, reference: str | None = None,
              url: str | None = None) -> bool:
    with sessions(url)() as session:
        return _recent_failures(session, conversation_id, reference) >= \
            CaseworkSettings().max_failures


def look_up(reference: str, secret: str, conversation_id: str, channel: str,
            url: str | None = None) -> LookupResult:
    """Check `secret` for `reference`, audit the attempt, apply the lockout."""
    limit = CaseworkSettings().max_failures
    with sessions(url).begin() as session:
        failures = _recent_failures(session, conversation_id, reference)
        if failures >= limit:
            session.add(LookupAttempt(conversation_id=conversation_id, channel=channel,
                                      reference=reference, outcome=LOCKED))
            return LookupResult(LOCKED)
        record = _find(session, reference)
        verified = _check(record, secret)
        session.add(LookupAttempt(conversation_id=conversation_id, channel=channel,
                                  reference=reference, outcome=VERIFIED if verified else FAILED))
        if verified:
            return LookupResult(VERIFIED)
        left = limit - failures - 1
        return LookupResult(LOCKED if left <= 0 else FAILED, failures_left=max(left, 0))


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
