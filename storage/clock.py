"""Time in one place: UTC for storage, the city's time zone for what citizens are told."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from storage.config import CaseworkSettings


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def local(moment: dt.datetime) -> dt.datetime:
    return as_utc(moment).astimezone(ZoneInfo(CaseworkSettings().timezone))


def add_working_days(start: dt.date, days: int) -> dt.date:
    """Monday-Friday working days (public holidays are not modelled)."""
    current = start
    while days > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current
