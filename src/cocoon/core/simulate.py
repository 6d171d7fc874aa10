"""A stretch of time played through `core.step`, with devices that do what they are told.

Used by `cocoon plan` to show a day, by the benchmarks and by tests: a whole day takes
milliseconds because time is only ever a parameter here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from cocoon.core.model import (
    ClimateReading,
    ClimateTarget,
    LightReading,
    LightTarget,
    Readings,
    Target,
)
from cocoon.core.planner import Planner
from cocoon.core.sent import Sent
from cocoon.core.state import RuntimeState
from cocoon.core.step import step
from cocoon.core.wakeups import next_boundary


@dataclass(frozen=True, slots=True)
class Step:
    """The targets at one instant."""

    at: datetime
    targets: dict[str, Target]


@dataclass(slots=True)
class Simulation:
    """Everything a played-through stretch of time produced."""

    steps: list[Step] = field(default_factory=list)
    notes: list[tuple[datetime, str]] = field(default_factory=list)
    state: RuntimeState = field(default_factory=RuntimeState)
    readings: Readings = field(default_factory=lambda: Readings({}, {}))


def follow(readings: Readings, targets: dict[str, Target], now: datetime) -> Readings:
    """Readings after every device did what its target says."""
    changed: dict[str, LightReading | ClimateReading] = {}
    for device, target in targets.items():
        previous = readings.devices.get(device)
        if isinstance(target, LightTarget):
            if not isinstance(previous, LightReading) or (
                previous.state is not target.state and previous.state != target.state
            ):
                changed[device] = LightReading(target.state, now)
        elif isinstance(target, ClimateTarget):
            current = previous.current if isinstance(previous, ClimateReading) else None
            changed[device] = ClimateReading(target.setpoint, current, now)
    return replace(readings, devices={**readings.devices, **changed})


def simulate(
    planner: Planner,
    start: datetime,
    end: datetime,
    every: timedelta = timedelta(minutes=1),
    state: RuntimeState | None = None,
    readings: Readings | None = None,
) -> Simulation:
    """Play `start`..`end` in steps of `every`, and at every instant a layer changes course.

    The daemon wakes at each ritual start and each end of a fade; sampling those too
    shows what it does there (a ritual handing back between two minutes, say).
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    sim = Simulation(state=state or RuntimeState(), readings=readings or Readings({}, {}))
    now = start
    while now < end:
        # Looked at, not driven: the targets of each instant, no commands to work out.
        outcome = step(planner, sim.state, sim.readings, Sent(), now, driving=False)
        sim.state = outcome.state
        sim.notes.extend((now, note) for note in outcome.notes)
        sim.steps.append(Step(now, outcome.targets))
        # The simulated devices show their targets at once (no transitions to wait for).
        sim.readings = follow(sim.readings, outcome.targets, now)
        grid = start + ((now - start) // every + 1) * every
        now = min(grid, next_boundary(planner, now, sim.state))
    return sim
