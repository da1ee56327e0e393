"""When staff are there to take a handed-over conversation.

Written as GOV_OFFICE_HOURS, e.g. "mon-fri 09:00-17:00; sat 09:00-12:00", in GOV_TIMEZONE.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_PART = re.compile(
    r"^\s*(\w{3})(?:\s*-\s*(\w{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$"
)


@dataclass(frozen=True)
class OfficeHours:
    # weekday (0 = Monday) -> list of (opens, closes)
    periods: dict[int, list[tuple[dt.time, dt.time]]]
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, timezone: str) -> OfficeHours:
        periods: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for part in filter(str.strip, spec.split(";")):
            match = _PART.match(part.lower())
            if not match or match.group(1) not in _DAYS or \
                    (match.group(2) or match.group(1)) not in _DAYS:
                raise ValueError(
                    f"cannot read office hours {part!r} (example: mon-fri 09:00-17:00)")
            first, last = _DAYS.index(match.group(1)), _DAYS.index(match.group(2) or match.group(1))
            opens = dt.time(int(match.group(3)), int(match.group(4)))
            closes = dt.time(int(match.group(5)), int(match.group(6)))
            if closes <= opens:
                raise ValueError(f"office hours close before they open: {part!r}")
            for day in range(first, last + 1):
                periods.setdefault(day, []).append((opens, closes))
        if not periods:
            raise ValueError("office hours are empty")
        return cls(periods, ZoneInfo(timezone))

    def describe(self, language: str) -> str:
        """"周一至周五 9:00—17:00" / "Monday to Friday 9:00-17:00", for citizens."""
        names = (["周一", "周二", "周三", "周四", "周五", "周六", "周日"] if language == "zh" else
                 ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
        groups: dict[tuple[tuple[dt.time, dt.time], ...], list[int]] = {}
        for day in sorted(self.periods):
            groups.setdefault(tuple(sorted(self.periods[day])), []).append(day)
        parts = []
        for periods, days in groups.items():
            consecutive = days == list(range(days[0], days[-1] + 1)) and len(days) > 1
            joiner = ("至" if language == "zh" else " to ") if consecutive else \
                ("、" if language == "zh" else ", ")
            label = joiner.join([names[days[0]], names[days[-1]]]) if consecutive else \
                joiner.join(names[day] for day in days)
            dash = "—" if language == "zh" else "-"
            times = ", ".join(f"{opens.hour}:{opens:%M}{dash}{closes.hour}:{closes:%M}"
                              for opens, closes in periods)
            parts.append(f"{label} {times}")
        return ("；" if language == "zh" else "; ").join(parts)

    def is_open(self, moment: dt.datetime) -> bool:
        here = moment.astimezone(self.zone)
        return any(opens <= here.time() < closes
                   for opens, closes in self.periods.get(here.weekday(), []))

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """The next time staff are in, in local time (now, if they are in now)."""
        here = moment.astimezone(self.zone)
        if self.is_open(here):
            return here
        for offset in range(0, 8):
            day = here.date() + dt.timedelta(days=offset)
            for opens, _closes in sorted(self.periods.get(day.weekday(), [])):
                candidate = dt.datetime.combine(day, opens, tzinfo=self.zone)
                if candidate > here:
                    return candidate
        raise ValueError("office hours never open")  # unreachable with a non-empty week
