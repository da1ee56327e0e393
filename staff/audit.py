"""The audit log: every staff action, who, what, when; viewable and exportable as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import select

from common.privacy import mask_personal_data
from storage.clock import as_utc
from storage.database import sessions
from storage.models import AuditEntry


@dataclass(frozen=True)
class AuditView:
    at: dt.datetime
    actor: str
    action: str
    target: str
    detail: str


def record(actor: str, action: str, target: str = "", detail: str = "",
           url: str | None = None) -> None:
    with sessions(url).begin() as session:
        session.add(AuditEntry(actor=actor[:64], action=action[:48],
                               target=mask_personal_data(target)[:200],
                               detail=mask_personal_data(detail)[:2000]))


def entries(actor: str | None = None, action: str | None = None, limit: int = 500,
            url: str | None = None) -> list[AuditView]:
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    with sessions(url)() as session:
        return [AuditView(as_utc(row.at), row.actor, row.action, row.target, row.detail)
                for row in session.scalars(query)]


def as_csv(rows: list[AuditView]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["at", "actor", "action", "target", "detail"])
    for row in rows:
        writer.writerow([row.at.isoformat(), row.actor, row.action, row.target, row.detail])
    return buffer.getvalue()
