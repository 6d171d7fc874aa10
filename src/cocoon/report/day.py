"""One local date of the home, played through the planner and condensed into plain values.

Both the text timeline and the picture are drawn from a `DayView`: the sun, the
rituals, each device's target at every minute, and those minutes folded into
segments ("holds 35 %", "fades 0 % → 35 %").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from cocoon.config.schema import CocoonConfig, Ritual
from cocoon.config.values import format_duration
from cocoon.core.model import OFF, ClimateReading, LightReading, Reading, Readings
from cocoon.core.planner import Planner
from cocoon.core.scenes import Envelope
from cocoon.core.schedule import Window, local_instant
from cocoon.core.simulate import simulate
from cocoon.core.sun import SunTimes
from cocoon.report.segments import Segment, State, segments_of, state_of

EVERY = timedelta(minutes=1)
# The simulation starts at this time the day before, so what runs across midnight is in force.
LEAD_IN = time(12)


@dataclass(frozen=True, slots=True)
class DstChange:
    """The clocks change during the day: from `before` to `after` at `at`."""

    at: datetime
    before: timedelta
    after: timedelta
    wall_before: str
    wall_after: str
    zone_before: str
    zone_after: str

    @property
    def forward(self) -> bool:
        """Whether the clocks go forward (a short day)."""
        return self.after > self.before


RitualStatus = Literal["today", "yesterday", "not today", "skipped"]


@dataclass(frozen=True, slots=True)
class RitualRow:
    """A ritual on this day: its window (if it runs), and what its configuration says."""

    ritual: str
    name: str
    status: RitualStatus
    window: Window | None
    spec: str
    moved: str | None = None
    """Why the start is not what the spec says on its face (DST gap, clamp), if it is not."""


@dataclass(frozen=True, slots=True)
class DayView:
    """Everything the day report shows, in the home's time zone."""

    cfg: CocoonConfig
    day: date
    start: datetime
    end: datetime
    sun: SunTimes
    notes: tuple[str, ...]
    dst: DstChange | None
    rituals: tuple[RitualRow, ...]
    samples: dict[str, list[tuple[datetime, State]]]
    """Each touched device's state at every minute of the day (None: cocoon leaves it alone)."""
    segments: tuple[Segment, ...]
    baseline_setpoint: float

    @property
    def zone(self) -> tzinfo:
        """The home's time zone."""
        return self.cfg.home.zone

    def windows(self) -> list[Window]:
        """The ritual windows that overlap the day, in start order."""
        return [row.window for row in self.rituals if row.window is not None]


def day_bounds(cfg: CocoonConfig, day: date) -> tuple[datetime, datetime]:
    """The first instant of `day` and of the day after, in the home's zone."""
    zone = cfg.home.zone
    following = day + timedelta(days=1)
    return (
        local_instant(day, time(0), zone).astimezone(zone),
        local_instant(following, time(0), zone).astimezone(zone),
    )


def dst_change(start: datetime, end: datetime, zone: tzinfo) -> DstChange | None:
    """The clock change between `start` and `end`, if their UTC offsets differ."""
    low, high = start.astimezone(UTC), end.astimezone(UTC)
    before, after = low.astimezone(zone).utcoffset(), high.astimezone(zone).utcoffset()
    if before is None or after is None or before == after:
        return None
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    at = high.replace(microsecond=0)
    local = at.astimezone(zone)
    return DstChange(
        at=local,
        before=before,
        after=after,
        wall_before=(at + before).strftime("%H:%M"),
        wall_after=(at + after).strftime("%H:%M"),
        zone_before=low.astimezone(zone).tzname() or "",
        zone_after=local.tzname() or "",
    )


def _spec(ritual: Ritual) -> str:
    if ritual.until is not None:
        return f"{ritual.at} → {ritual.until}"
    assert ritual.duration is not None
    return f"{ritual.at} for {format_duration(ritual.duration)}"


def _moved(ritual: Ritual, window: Window, zone: tzinfo) -> str | None:
    """Why `window` does not start where the ritual's `at` says at first sight."""
    start = window.start.astimezone(zone)
    clock = ritual.at.clock
    if ritual.not_before is not None and start == local_instant(
        window.day, ritual.not_before, zone
    ):
        return f"held back to {ritual.not_before:%H:%M} by not_before"
    if ritual.not_after is not None and start == local_instant(window.day, ritual.not_after, zone):
        return f"brought forward to {ritual.not_after:%H:%M} by not_after"
    if clock is None:
        return None
    naive = datetime.combine(window.day, clock)
    if start.replace(tzinfo=None) != naive:
        return (
            f"{clock:%H:%M} does not exist today (clocks go forward), so it starts at {start:%H:%M}"
        )
    if naive.replace(fold=1, tzinfo=zone).utcoffset() != start.utcoffset():
        return f"{clock:%H:%M} happens twice today (clocks go back); it runs at the first"
    return None


def ritual_rows(cfg: CocoonConfig, planner: Planner, day: date) -> tuple[RitualRow, ...]:
    """Yesterday's rituals still running at midnight, then today's, then the rest."""
    zone = cfg.home.zone
    start, _ = day_bounds(cfg, day)
    carried: list[RitualRow] = []
    for window in planner.day(day - timedelta(days=1)).windows:
        if window.end > start:
            name = cfg.display_name("rituals", window.ritual)
            spec = _spec(cfg.rituals[window.ritual])
            carried.append(RitualRow(window.ritual, name, "yesterday", window, spec))
    today = {w.ritual: w for w in planner.day(day).windows}
    running: list[RitualRow] = []
    idle: list[RitualRow] = []
    for ident, ritual in cfg.rituals.items():
        name = cfg.display_name("rituals", ident)
        found = today.get(ident)
        if found is not None:
            moved = _moved(ritual, found, zone)
            running.append(RitualRow(ident, name, "today", found, _spec(ritual), moved))
        else:
            status: RitualStatus = "not today" if day.weekday() not in ritual.days else "skipped"
            idle.append(RitualRow(ident, name, status, None, _spec(ritual)))
    running.sort(key=lambda row: row.window.start if row.window is not None else start)
    return (*carried, *running, *idle)


def layer_boundaries(cfg: CocoonConfig, planner: Planner, days: Iterable[date]) -> list[datetime]:
    """Every instant a ritual of `days` starts, ends its fade-in, ends, or is fully gone."""
    found: set[datetime] = set()
    for day in days:
        for window in planner.day(day).windows:
            ritual = cfg.rituals[window.ritual]
            envelope = Envelope(window.start, window.end, ritual.fade, ritual.give_back_fade)
            found.update(b.astimezone(UTC) for b in envelope.boundaries())
    return sorted(found)


def build_day(cfg: CocoonConfig, day: date, *, baseline_setpoint: float = 20.0) -> DayView:
    """Play `day` through a fresh planner, minute by minute, and condense it.

    The play starts at noon the day before (or when a ritual still running at midnight
    began, if earlier), so whatever runs across midnight is in force at 00:00. Lights
    no ritual holds are taken to be off; thermostats to be at `baseline_setpoint`, so
    relative setpoints (+0.5) have something to be relative to.
    """
    planner = Planner(cfg)
    start, end = day_bounds(cfg, day)
    # Instants are played in UTC: arithmetic on datetimes sharing a tzinfo is wall-clock
    # arithmetic, which walks into the spring-forward gap and skips the repeated hour.
    lead = local_instant(day - timedelta(days=1), LEAD_IN, cfg.home.zone).astimezone(UTC)
    for earlier in (day - timedelta(days=2), day - timedelta(days=1)):
        # A ritual still running at midnight that began even before noon yesterday.
        running = [w.start for w in planner.day(earlier).windows if w.end > start]
        lead = min([lead, *(moment.astimezone(UTC) for moment in running)])
    # Whole minutes before midnight, so the day is sampled on the minute.
    minutes_before = -((lead - start.astimezone(UTC)) // EVERY)
    lead = start.astimezone(UTC) - minutes_before * EVERY
    devices: dict[str, Reading] = {}
    for name, device in cfg.devices.items():
        if device.kind == "light":
            devices[name] = LightReading(OFF, lead)
        elif device.kind == "thermostat":
            devices[name] = ClimateReading(baseline_setpoint, None, lead)
    sim = simulate(
        planner, lead, end.astimezone(UTC) + EVERY, EVERY, readings=Readings(devices, {})
    )
    boundaries = layer_boundaries(cfg, planner, [day - timedelta(days=n) for n in (2, 1, 0)])
    steps = [
        replace(step, at=step.at.astimezone(UTC)) for step in sim.steps if start <= step.at <= end
    ]
    samples: dict[str, list[tuple[datetime, State]]] = {}
    segments: list[Segment] = []
    for name in cfg.devices:
        if not any(name in step.targets for step in steps[:-1]):
            continue
        rows: list[tuple[datetime, State, str]] = []
        for step in steps:
            target = step.targets.get(name)
            rows.append((step.at, state_of(target), "" if target is None else target.why.layer))
        samples[name] = [(at, state) for at, state, _ in rows[:-1]]
        segments.extend(segments_of(name, rows, boundaries))
    plan = planner.day(day)
    return DayView(
        cfg=cfg,
        day=day,
        start=start,
        end=end,
        sun=plan.sun,
        notes=plan.notes,
        dst=dst_change(start, end, cfg.home.zone),
        rituals=ritual_rows(cfg, planner, day),
        samples=samples,
        segments=tuple(segments),
        baseline_setpoint=baseline_setpoint,
    )
