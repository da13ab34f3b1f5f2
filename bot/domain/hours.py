"""A store's support hours in its own time zone: is a person on duty now, and if not, when."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`, or `ValueError` saying it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown IANA time zone {name!r} (e.g. Europe/Berlin)") from error


def parse_range(text: str) -> tuple[time, time | None]:
    """`"09:00-17:30"` as (start, end); an end of `24:00` is returned as `None` (midnight)."""
    match = _RANGE.match(text.strip())
    if not match:
        raise ValueError(f"support hours {text!r}: write HH:MM-HH:MM, e.g. 09:00-17:30")
    start = time(int(match[1]), int(match[2]))
    if match[3] == "24":
        if match[4] != "00":
            raise ValueError(f"support hours {text!r}: 24:00 is the latest end")
        return start, None
    end = time(int(match[3]), int(match[4]))
    if end <= start:
        raise ValueError(f"support hours {text!r}: the end must come after the start")
    return start, end


def check_week(week: dict[str, list[str]]) -> dict[str, list[str]]:
    """Validate a week of support hours (`{"mon": ["09:00-17:00"], ...}`); returns it unchanged."""
    for day, ranges in week.items():
        if day not in WEEKDAYS:
            raise ValueError(f"support hours: unknown day {day!r} (use {', '.join(WEEKDAYS)})")
        for text in ranges:
            parse_range(text)
    return week


@dataclass(frozen=True)
class SupportHours:
    """When people answer a store's shoppers; days without hours have nobody on duty."""

    week: dict[str, list[str]]
    time_zone: str = "UTC"

    def back_at(self, now: datetime) -> datetime | None:
        """`None` when someone is on duty at `now` (aware); else when the next shift starts, in
        the store's time zone. A week without any hours has nobody ever: also `None`, since no
        time can be promised (the thread still waits in the queue)."""
        local = now.astimezone(zone(self.time_zone))
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            for text in sorted(self.week.get(WEEKDAYS[day.weekday()], [])):
                start, end = parse_range(text)
                opens = datetime.combine(day, start, tzinfo=local.tzinfo)
                closes = (
                    datetime.combine(day + timedelta(days=1), time(0), tzinfo=local.tzinfo)
                    if end is None
                    else datetime.combine(day, end, tzinfo=local.tzinfo)
                )
                if opens <= local < closes:
                    return None
                if opens > local:
                    return opens
        return None
