"""Small value types written as text in the configuration: durations, times of day, days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(h|hours?|min|minutes?|m|s|sec|seconds?)", re.I)
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


def parse_duration(value: object) -> timedelta:
    """Read `20min`, `1h30m`, `90s`, `0`, a number of seconds, or `HH:MM:SS`."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like 20min, 1h30m or 90s")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return _bounded(float(value))
    if not isinstance(value, str):
        raise ValueError("expected a duration like 20min, 1h30m or 90s")
    text = value.strip()
    if re.fullmatch(r"\d+:\d{2}(:\d{2})?", text):
        parts = [int(p) for p in text.split(":")]
        hours, minutes, seconds = [*parts, 0][:3]
        return _bounded(hours * 3600 + minutes * 60 + seconds)
    if text == "0":
        return timedelta(0)
    total = 0.0
    pos = 0
    for match in _DURATION_PART.finditer(text):
        if text[pos : match.start()].strip():
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)[0].lower()]
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        raise ValueError(f"'{text}' is not a duration; write it like 20min, 1h30m or 90s")
    return _bounded(total)


# Nothing cocoon schedules lasts longer than a year; longer is a typo (and beyond dates).
_LONGEST = timedelta(days=366)


def _bounded(seconds: float) -> timedelta:
    if not seconds <= _LONGEST.total_seconds():
        raise ValueError("a duration longer than a year is surely a typo")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The inverse of `parse_duration`, in its shortest form (`1h30min`, `90s` → `1min30s`)."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}min" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": r"^\s*(\d+(\.\d+)?\s*(h|min|m|s)\s*)+$|^0$|^\d+:\d\d(:\d\d)?$",
                },
                {"type": "number", "minimum": 0},
            ],
            "description": "A duration: 20min, 1h30m, 90s, or seconds as a number",
        }
    ),
]

SunEvent = Literal["dawn", "sunrise", "noon", "sunset", "dusk"]
SUN_EVENTS: tuple[SunEvent, ...] = ("dawn", "sunrise", "noon", "sunset", "dusk")

_TIME_SPEC = re.compile(
    r"^\s*(?:(?P<clock>\d{1,2}:\d{2})|(?P<sun>dawn|sunrise|noon|sunset|dusk))"
    r"\s*(?:(?P<sign>[+-])\s*(?P<offset>[0-9][0-9a-z. ]*))?\s*$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """A time of day: a clock time, or a sun event with an offset."""

    clock: time | None = None
    sun: SunEvent | None = None
    offset: timedelta = timedelta(0)

    def __str__(self) -> str:
        base = self.clock.strftime("%H:%M") if self.clock is not None else str(self.sun)
        if not self.offset:
            return base
        sign = "-" if self.offset < timedelta(0) else "+"
        return f"{base}{sign}{format_duration(abs(self.offset))}"


def parse_time_spec(value: object) -> TimeSpec:
    """Read `07:15`, `sunset-30min`, `sunrise+1h`, `dusk` or `dawn`."""
    if isinstance(value, TimeSpec):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a time like 07:15, sunset-30min or sunrise+1h")
    match = _TIME_SPEC.match(value)
    if match is None:
        raise ValueError(
            f"'{value}' is not a time; write 07:15, or a sun event (dawn, sunrise, noon, sunset,"
            " dusk) with an optional offset like sunset-30min"
        )
    offset = timedelta(0)
    if match.group("offset"):
        offset = parse_duration(match.group("offset"))
        if match.group("sign") == "-":
            offset = -offset
    if match.group("clock"):
        hours, minutes = (int(p) for p in match.group("clock").split(":"))
        if hours > 23 or minutes > 59:
            raise ValueError(f"'{value}' is not a time of day (00:00 to 23:59)")
        clock = time(hours, minutes)
        if offset:
            raise ValueError(f"'{value}': a clock time takes no offset; write the time itself")
        return TimeSpec(clock=clock)
    sun = next(event for event in SUN_EVENTS if event == match.group("sun").lower())
    return TimeSpec(sun=sun, offset=offset)


TimeOfDay = Annotated[
    TimeSpec,
    BeforeValidator(parse_time_spec),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": (
                r"^\s*(\d{1,2}:\d{2}|dawn|sunrise|noon|sunset|dusk)"
                r"(\s*[+-]\s*[0-9][0-9a-z. ]*)?\s*$"
            ),
            "description": "07:15, or dawn/sunrise/noon/sunset/dusk with an offset: sunset-30min",
        }
    ),
]


def parse_clock(value: object) -> time:
    """Read a plain clock time `HH:MM`."""
    spec = parse_time_spec(value)
    if spec.clock is None:
        raise ValueError(f"'{value}' must be a clock time like 18:00, not a sun event")
    return spec.clock


Clock = Annotated[
    time,
    BeforeValidator(parse_clock),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}$"}),
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_GROUPS = {
    "daily": frozenset(range(7)),
    "every day": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}


def parse_days(value: object) -> frozenset[int]:
    """Read `weekdays`, `weekends`, `daily` or a list like `[mon, wed]` (0 = Monday)."""
    if isinstance(value, frozenset):
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _DAY_GROUPS:
            return _DAY_GROUPS[key]
        value = [key]
    if not isinstance(value, list | tuple | set) or not value:
        raise ValueError("expected daily, weekdays, weekends or a list of days like [mon, wed]")
    days: set[int] = set()
    for item in value:
        name = str(item).strip().lower()[:3]
        if name not in WEEKDAYS:
            raise ValueError(f"'{item}' is not a day; use mon, tue, wed, thu, fri, sat, sun")
        days.add(WEEKDAYS.index(name))
    return frozenset(days)


def _format_days(days: frozenset[int]) -> Any:
    for name, group in _DAY_GROUPS.items():
        if days == group and name != "every day":
            return name
    return [WEEKDAYS[d] for d in sorted(days)]


Days = Annotated[
    frozenset[int],
    BeforeValidator(parse_days),
    PlainSerializer(_format_days),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": ["daily", "weekdays", "weekends"]},
                {"type": "array", "items": {"enum": list(WEEKDAYS)}, "minItems": 1},
            ]
        }
    ),
]


def parse_relative(value: object) -> tuple[float, bool]:
    """Read a setpoint: `21` is absolute, `+0.5` / `-1` are relative to the baseline."""
    if isinstance(value, bool):
        raise ValueError("expected a temperature like 21 or a change like +0.5")
    if isinstance(value, int | float):
        return float(value), False
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            raise ValueError(
                f"'{value}' is not a temperature; write 21 or a change like +0.5"
            ) from None
        return number, text[:1] in "+-"
    raise ValueError("expected a temperature like 21 or a change like +0.5")
