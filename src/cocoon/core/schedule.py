"""Rituals resolved to concrete windows on a local date.

All instants are in UTC: Python compares and subtracts two datetimes of the same zone by
their wall clocks, which is wrong across a DST change. Rules for wall-clock times, so
every ritual runs at most once a day:

* A clock time that does not exist (the spring-forward gap) means the first instant
  after the gap: 02:30 on 2026-03-29 in Brussels is 03:00 CEST.
* A clock time that happens twice (the fall-back hour) means its first occurrence.
* A sun event that does not happen (polar day or night) is replaced by the clock time
  in `home.polar_fallback`, with a note saying so.
* `until` earlier than (or equal to) the start means the next day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from cocoon.config.schema import CocoonConfig, Home, Ritual
from cocoon.config.values import TimeSpec
from cocoon.core.sun import SunTimes, sun_times


def local_instant(day: date, clock: time, zone: tzinfo) -> datetime:
    """The UTC instant `zone`'s wall clock shows `clock` on `day` (first, or right after a gap)."""
    naive = datetime.combine(day, clock)
    first = naive.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return first.astimezone(UTC)
    # In a gap: fold=1 reads the time with the offset after the change, fold=0 with
    # the one before; the change itself lies between the two readings.
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first.astimezone(UTC)
    low, high = min(low, high), max(low, high)
    before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class Window:
    """One ritual's run on one local date: from `start` to `end`."""

    ritual: str
    day: date
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class DayPlan:
    """The rituals of one local date, in start order, with notes (polar fallbacks, clamps)."""

    day: date
    sun: SunTimes
    windows: tuple[Window, ...]
    notes: tuple[str, ...]


class _Resolver:
    """Turns time specs into instants for one home, noting every fallback it had to make."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self.zone = home.zone
        self.notes: list[str] = []
        self._sun: dict[date, SunTimes] = {}

    def sun(self, day: date) -> SunTimes:
        if day not in self._sun:
            self._sun[day] = sun_times(self.home, day)
        return self._sun[day]

    def at(self, spec: TimeSpec, day: date, what: str) -> datetime:
        if spec.clock is not None:
            return local_instant(day, spec.clock, self.zone)
        assert spec.sun is not None
        event = self.sun(day).get(spec.sun)
        if event is None:
            fallback: time = getattr(self.home.polar_fallback, spec.sun, time(12, 0))
            kind = self.sun(day).polar or "an unusual day"
            self.notes.append(
                f"{day}: {spec.sun} does not happen ({kind}); {what} uses"
                f" {fallback:%H:%M} from home.polar_fallback.{spec.sun}"
            )
            event = local_instant(day, fallback, self.zone)
        return event + spec.offset


def _window(name: str, ritual: Ritual, day: date, resolve: _Resolver) -> Window:
    start = resolve.at(ritual.at, day, f"ritual {name}")
    zone = resolve.zone
    if ritual.not_before is not None:
        start = max(start, local_instant(day, ritual.not_before, zone))
    if ritual.not_after is not None:
        start = min(start, local_instant(day, ritual.not_after, zone))
    if ritual.duration is not None:
        return Window(name, day, start, start + ritual.duration)
    assert ritual.until is not None
    end = resolve.at(ritual.until, day, f"ritual {name} (until)")
    if end <= start:
        end = resolve.at(ritual.until, day + timedelta(days=1), f"ritual {name} (until)")
    if end <= start:
        resolve.notes.append(f"{day}: ritual {name} ends before it starts; it is skipped")
        end = start
    return Window(name, day, start, end)


def plan_day(cfg: CocoonConfig, day: date) -> DayPlan:
    """Every ritual scheduled on `day`, resolved to start and end instants."""
    resolve = _Resolver(cfg.home)
    windows = [
        _window(name, ritual, day, resolve)
        for name, ritual in cfg.rituals.items()
        if day.weekday() in ritual.days
    ]
    windows = [w for w in windows if w.end > w.start]
    windows.sort(key=lambda w: (w.start, w.ritual))
    return DayPlan(day, resolve.sun(day), tuple(windows), tuple(resolve.notes))


def ritual_window(cfg: CocoonConfig, name: str, day: date) -> Window:
    """The window `name` would have on `day`, whatever its configured days."""
    return _window(name, cfg.rituals[name], day, _Resolver(cfg.home))
