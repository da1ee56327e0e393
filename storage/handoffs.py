"""The queue of conversations handed from the assistant to a person."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, select

from common.privacy import mask_personal_data
from storage.clock import as_utc, utc_now
from storage.config import CaseworkSettings
from storage.database import sessions
from storage.models import Handoff
from storage.office_hours import OfficeHours

WAITING, TAKEN, CLOSED = "waiting", "taken", "closed"


@dataclass(frozen=True)
class HandoffReceipt:
    id: int
    position: int
    within_office_hours: bool
    next_opening: dt.datetime


@dataclass(frozen=True)
class HandoffEntry:
    id: int
    conversation_id: str
    channel: str
    language: str
    reason: str
    status: str
    taken_by: str | None
    created_at: dt.datetime
    transcript: list[dict[str, str]]

    def as_json(self) -> dict[str, object]:
        return {**self.__dict__, "created_at": self.created_at.isoformat()}


def office_hours() -> OfficeHours:
    settings = CaseworkSettings()
    return OfficeHours.parse(settings.office_hours, settings.timezone)


def enqueue(conversation_id: str, channel: str, language: str, reason: str,
            transcript: list[dict[str, str]], url: str | None = None) -> HandoffReceipt:
    """Queue the conversation (once: asking again while waiting keeps the same place)."""
    now = utc_now()
    hours = office_hours()
    masked = [{**line, "text": mask_personal_data(line.get("text", ""))[:2000]}
              for line in transcript]
    with sessions(url).begin() as session:
        entry = session.scalar(select(Handoff).where(
            Handoff.conversation_id == conversation_id, Handoff.status == WAITING))
        if entry is None:
            entry = Handoff(conversation_id=conversation_id, channel=channel or "unknown",
                            language=language, reason=reason, created_at=now)
            session.add(entry)
        entry.transcript = json.dumps(masked, ensure_ascii=False)
        entry.within_office_hours = hours.is_open(now)
        entry.updated_at = now
        session.flush()
        position = session.scalar(select(func.count()).select_from(Handoff).where(
            Handoff.status == WAITING, Handoff.id <= entry.id)) or 1
        return HandoffReceipt(entry.id, position, entry.within_office_hours,
                              hours.next_opening(now))


def _entry(row: Handoff) -> HandoffEntry:
    return HandoffEntry(row.id, row.conversation_id, row.channel, row.language, row.reason,
                        row.status, row.taken_by, as_utc(row.created_at),
                        json.loads(row.transcript or "[]"))


def list_handoffs(status: str | None = WAITING, url: str | None = None) -> list[HandoffEntry]:
    with sessions(url)() as session:
        query = select(Handoff).order_by(Handoff.created_at, Handoff.id)
        if status:
            query = query.where(Handoff.status == status)
        return [_entry(row) for row in session.scalars(query)]


def taken_handoff(handoff_id: int, url: str | None = None) -> HandoffEntry | None:
    """The handoff, if a member of staff has taken it (only then may they write to the citizen)."""
    with sessions(url)() as session:
        row = session.get(Handoff, handoff_id)
        return _entry(row) if row is not None and row.status == TAKEN else None


def set_status(handoff_id: int, status: str, staff: str | None = None,
               url: str | None = None) -> HandoffEntry:
    """take (waiting -> taken), close (-> closed). Raises KeyError / ValueError."""
    allowed = {TAKEN: {WAITING}, CLOSED: {WAITING, TAKEN}}
    if status not in allowed:
        raise ValueError(f"unknown handoff status {status!r}")
    with sessions(url).begin() as session:
        row = session.get(Handoff, handoff_id)
        if row is None:
            raise KeyError(handoff_id)
        if row.status not in allowed[status]:
            raise ValueError(f"handoff {handoff_id} is {row.status}, cannot become {status}")
        row.status, row.updated_at = status, utc_now()
        if staff:
            row.taken_by = staff
        return _entry(row)
