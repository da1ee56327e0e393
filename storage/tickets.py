"""Tickets: a citizen's complaint, report or request passed to the responsible department."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.text import normalize
from common.privacy import mask_personal_data
from storage.clock import add_working_days, local, utc_now
from storage.database import sessions
from storage.departments import DepartmentView, department_view
from storage.models import AuditEntry, Department, Ticket, TicketEvent
from storage.secrets import hash_secret

MAX_TEXT_CHARS = 4000

# Cue words (matched on normalised, simplified, lower-cased text) for the kind of request.
_CATEGORY_CUES = (
    ("complaint", re.compile(r"投诉|complain")),
    ("report", re.compile(r"举报|\breport")),
    ("suggestion", re.compile(r"建议|suggest")),
)
_CATEGORY_TITLES = {
    "complaint": ("投诉", "Complaint"),
    "report": ("举报", "Report"),
    "suggestion": ("建议", "Suggestion"),
    "request": ("诉求", "Request"),
}
_STATUS_TITLES = {
    "open": ("已受理，等待部门处理", "Received, waiting for the department"),
    "in_progress": ("部门正在处理", "Being handled by the department"),
    "resolved": ("已办结", "Resolved"),
    "closed": ("已关闭", "Closed"),
}


def categorize(text: str) -> str:
    folded = normalize(text)
    return next((name for name, cue in _CATEGORY_CUES if cue.search(folded)), "request")


def category_title(category: str, language: str) -> str:
    zh, en = _CATEGORY_TITLES.get(category, _CATEGORY_TITLES["request"])
    return zh if language == "zh" else en


def status_title(status: str, language: str) -> str:
    zh, en = _STATUS_TITLES.get(status, (status, status))
    return zh if language == "zh" else en


@dataclass(frozen=True)
class TicketReceipt:
    reference: str
    category: str
    department: DepartmentView
    response_due: dt.date


def _new_reference(now: dt.datetime) -> str:
    """Random, not sequential: a reference says nothing about other citizens' tickets."""
    return f"T-{local(now):%Y%m%d}-{secrets.randbelow(10**6):06d}"


def _receipt(ticket: Ticket, department: Department, language: str) -> TicketReceipt:
    return TicketReceipt(ticket.reference, ticket.category, department_view(department, language),
                         ticket.response_due)


def _filed(session: Session, request_key: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.request_key == request_key))


def filed_for_request(request_key: str, language: str,
                      url: str | None = None) -> TicketReceipt | None:
    """The ticket a conversation turn already filed (`create_ticket`'s `request_key`), if any:
    a retried call is answered with it before anything else is counted against the citizen."""
    with sessions(url).begin() as session:
        filed = _filed(session, request_key)
        return _receipt(filed, filed.department, language) if filed is not None else None


def create_ticket(text: str, department_id: str, language: str, channel: str,
                  confidence: float, routed_by: str, phone_last4: str,
                  url: str | None = None, proposed_department: str | None = None,
                  request_key: str | None = None) -> TicketReceipt:
    """A new open ticket. `proposed_department` is the one the assistant suggested; when the
    citizen picked another, the ticket says `routed_by="citizen"` and the audit log keeps the
    correction (suggested and chosen department) for staff and for retraining the router.
    `request_key` names the conversation turn that files it: the same key again (an action
    call a balancer retried after the first attempt had written the ticket) gets the ticket
    already filed, not a second one."""
    now = utc_now()
    category = categorize(text)
    for _attempt in range(5):
        try:
            with sessions(url).begin() as session:
                if request_key:
                    filed = _filed(session, request_key)
                    if filed is not None:
                        return _receipt(filed, filed.department, language)
                department = session.get(Department, department_id)
                if department is None:
                    raise ValueError(f"unknown department {department_id!r}")
                due = add_working_days(local(now).date(), department.response_days)
                ticket = Ticket(
                    reference=_new_reference(now), department_id=department_id,
                    category=category, text=mask_personal_data(text)[:MAX_TEXT_CHARS],
                    channel=channel or "unknown", language=language,
                    routing_confidence=round(confidence, 4), routed_by=routed_by,
                    phone_last4_hash=hash_secret(phone_last4), status="open",
                    response_due=due, created_at=now, updated_at=now,
                    request_key=request_key or None,
                )
                ticket.history.append(TicketEvent(status="open", at=now))
                session.add(ticket)
                session.flush()
                if proposed_department not in (None, "", department_id):
                    session.add(AuditEntry(
                        actor="citizen", action="ticket.department_corrected",
                        target=ticket.reference,
                        detail=f"suggested={proposed_department} chosen={department_id} "
                               f"confidence={confidence:.2f} channel={channel or 'unknown'}"))
                return _receipt(ticket, department, language)
        except IntegrityError:  # reference collision (draw another) or the same turn filed
            continue            # at once by another instance (found on the next attempt)
    raise RuntimeError("could not allocate a ticket reference")


def update_ticket(reference: str, status: str, note_zh: str = "", note_en: str = "",
                  url: str | None = None) -> None:
    """A department's progress on a ticket (used by staff tools and the demo seed)."""
    if status not in _STATUS_TITLES:
        raise ValueError(f"unknown ticket status {status!r}")
    with sessions(url).begin() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.reference == reference))
        if ticket is None:
            raise KeyError(reference)
        now = utc_now()
        ticket.status, ticket.updated_at = status, now
        ticket.history.append(TicketEvent(status=status, note_zh=note_zh, note_en=note_en,
                                          at=now))


@dataclass(frozen=True)
class Reassignment:
    reference: str
    text: str  # as stored: masked
    previous: str
    department: str


def reassign_ticket(reference: str, department_id: str, url: str | None = None) -> Reassignment:
    """Pass a ticket to another department (a dispatcher's correction). The citizen sees the
    move in the ticket's history; the response date is counted again from now for the new
    department. KeyError: no such ticket; ValueError: unknown or same department."""
    with sessions(url).begin() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.reference == reference))
        if ticket is None:
            raise KeyError(reference)
        department = session.get(Department, department_id)
        if department is None or department_id == ticket.department_id:
            raise ValueError(department_id)
        previous, now = ticket.department_id, utc_now()
        ticket.department_id, ticket.updated_at = department_id, now
        ticket.response_due = add_working_days(local(now).date(), department.response_days)
        ticket.routed_by = "staff"
        ticket.history.append(TicketEvent(
            status=ticket.status, at=now, note_zh=f"已转交{department.name_zh}办理",
            note_en=f"Passed to the {department.name_en}"))
        return Reassignment(ticket.reference, ticket.text, previous, department_id)
