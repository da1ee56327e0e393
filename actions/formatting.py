"""Dates and status histories written the way each language writes them."""

from __future__ import annotations

import datetime as dt

from bot.links import plain_text
from storage.clock import local
from storage.lookups import StatusView

NO_DATE = "—"  # a date not set (an application already decided has no expected date)


def format_date(day: dt.date | None, language: str) -> str:
    if day is None:
        return NO_DATE
    return f"{day.year}年{day.month}月{day.day}日" if language == "zh" else \
        f"{day.day} {day:%B} {day.year}"


def format_moment(moment: dt.datetime, language: str) -> str:
    here = local(moment)
    return f"{format_date(here.date(), language)} {here:%H:%M}"


def format_history(view: StatusView, language: str, last: int = 5) -> str:
    lines = []
    for entry in view.history[-last:]:
        text = plain_text(entry.note)  # staff-written: no markup reaches the citizen
        note = f"：{text}" if language == "zh" else f": {text}"
        lines.append(f"• {format_moment(entry.at, language)} {entry.title}"
                     f"{note if text else ''}")
    return "\n".join(lines)


def status_details(view: StatusView, language: str) -> dict[str, str]:
    """The variables of `utter_status_application` / `utter_status_ticket`."""
    department = view.department
    return {
        "reference": view.reference,
        "subject": view.subject,
        "status_title": view.status_title,
        "updated": format_moment(view.updated_at, language),
        "history": format_history(view, language),
        "next_step": plain_text(view.next_step) or "—",
        "expected": format_date(view.expected, language),
        "department": department.name,
        "contact": department.contact(),
    }
