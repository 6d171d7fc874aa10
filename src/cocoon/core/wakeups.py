"""Wake-ups: the next instant anything changes, so the shell knows when to ask again.

A boundary is an instant a layer changes course or a ritual is due; between two, a fade
is cut into steps short enough that no light moves more than one step (`targets.fade_step`).
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, time, timedelta

from cocoon.core.model import MIN_STEP, Readings
from cocoon.core.planner import Planner
from cocoon.core.schedule import local_instant
from cocoon.core.state import RuntimeState


def next_boundary(plans: Planner, now: datetime, state: RuntimeState) -> datetime:
    """The next instant a layer changes course or a ritual is due (fade steps aside)."""
    now = now.astimezone(UTC)
    known = plans.steady.boundary(now, state)
    if known is not None:
        return known
    marks = plans.boundaries(state)
    candidates = marks[bisect.bisect_right(marks, now) :][:1]
    today = plans.local_date(now)
    for day in (today, today + timedelta(days=1)):
        candidates.extend(w.start for w in plans.day(day).windows if w.start > now)
    for hold in state.holds.values():
        if hold.giving_back:
            candidates.append(now + MIN_STEP)
        if hold.override is not None:
            candidates.append(hold.override.until)
        if hold.taking_back is not None:
            candidates.append(hold.taking_back.at + hold.taking_back.fade)
    # With nothing due, the next local midnight: a stable instant to wake at.
    midnight = local_instant(today + timedelta(days=1), time(0), plans.zone)
    boundary = min((c for c in candidates if c > now), default=midnight)
    plans.steady.keep_boundary(now, state, boundary)
    return boundary


def next_change(
    plans: Planner, now: datetime, state: RuntimeState, readings: Readings
) -> tuple[datetime, bool]:
    """The next boundary (a plant sensor going silent included), and whether a light
    fades until then: then the wake-up is the next fade step (`targets.fade_step`)."""
    now = now.astimezone(UTC)
    fading = any(
        layer.lights and layer.envelope.fading(now) for layer in plans.layers(state)
    ) or any(
        hold.taking_back is not None and hold.taking_back.weight(now) < 1
        for hold in state.holds.values()
    )
    # A plant sensor going silent turns the plant's status to stale.
    silent = [
        reading.at + plant.stale_after
        for reading in readings.sensors.values()
        for plant in plans.cfg.plants.values()
        if reading.at + plant.stale_after > now
    ]
    boundary = min([next_boundary(plans, now, state), *silent])
    return boundary, fading and state.paused_since is None
