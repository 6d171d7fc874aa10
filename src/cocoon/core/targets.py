"""Targets: what every held device should show at an instant, what to send towards it,
and how far a fade may go in one step. The layers in force at `now` (any zone, UTC
inside) are blended bottom up over the snapshot (what the person left); a manual
override keeps the attributes a person set; hands off leaves every device alone; a
device no layer holds any more is given its snapshot back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from cocoon.core.model import (
    MIN_STEP,
    Attribute,
    ClimateTarget,
    LightState,
    LightTarget,
    Readings,
    Reason,
    Target,
)
from cocoon.core.planner import Planner
from cocoon.core.scenes import blend, blend_states
from cocoon.core.state import Hold, RuntimeState
from cocoon.core.steady import Active

MIRED_STEP = 10.0
"""The largest colour change between two fade steps, in mireds, of a visible light."""
VISIBLE = 5.0
_NO_HOLD = Hold()
_GIVEN_BACK = Reason("given back")


def desired(
    plans: Planner, now: datetime, state: RuntimeState, readings: Readings
) -> dict[str, Target]:
    """Every held device's target at `now`; a device missing is left alone.

    The result is shared with later calls for the same instant, state and readings:
    it is never to be changed in place.
    """
    now = now.astimezone(UTC)
    for at, seen_state, seen_readings, found in plans.recent:
        # The very objects, held here, so their ids cannot be reused meanwhile.
        if at == now and seen_state is state and seen_readings is readings:
            return found  # type: ignore[return-value]
    targets = _desired(plans, now, state, readings)
    plans.recent = [(now, state, readings, targets), *plans.recent[:3]]
    return targets


def _desired(
    plans: Planner, now: datetime, state: RuntimeState, readings: Readings
) -> dict[str, Target]:
    if state.paused_since is not None:
        return {}
    steady = plans.steady
    lights, heat = steady.in_force(plans.layers(state), now)
    known_all = steady.all_lights(lights, state.holds)
    targets: dict[str, Target] = {} if known_all is None else dict(known_all)
    for device, entries in lights.items() if known_all is None else ():
        hold = state.holds.get(device, _NO_HOLD)
        shows = hold.snapshot or readings.light(device)
        known, light = steady.light(device, entries, hold, shows)
        if not known:
            light = _light(device, entries, now, hold, shows)
            steady.remember(device, entries, hold, shows, light)
        if light is not None:
            targets[device] = light
    if known_all is None:
        steady.keep_all(lights, state.holds, dict(targets))
    for device, entries in heat.items():
        climate = _climate(plans, device, entries, now, state, readings)
        if climate is not None:
            targets[device] = climate
    for device, hold in state.holds.items():
        if hold.giving_back and hold.snapshot is not None:
            # Late, it glides from wherever the light is; else the fade-out is done.
            glide = plans.cfg.settings.fade_step.total_seconds() if hold.late else 0.0
            targets[device] = LightTarget(device, hold.snapshot, _GIVEN_BACK, glide=glide)
        elif hold.giving_back and hold.setpoint is not None:
            targets[device] = ClimateTarget(device, hold.setpoint, _GIVEN_BACK)
    return targets


def _light(
    device: str, entries: list[Active], now: datetime, hold: Hold, shows: LightState | None
) -> LightTarget | None:
    kept = _overridden(hold, now) if hold.override is not None else frozenset()
    if Attribute.POWER in kept or shows is None:
        return None
    value = shows
    top, below, fading = entries[-1], value, False
    for entry in entries:
        before = value
        look = entry.layer.looks.get(device) if entry.weight >= 1 else None
        value = look or blend(value, entry.layer.lights[device], entry.weight)
        fading = fading or entry.fading
        if entry.weight > 0:
            top, below = entry, before
    why = _why(top, below, device, now) if top.fading else top.why
    taking_back = hold.taking_back
    if taking_back is not None and (weight := taking_back.weight(now)) < 1:
        value = blend_states(taking_back.start, value, weight)
        fading = True
        why = Reason(f"{why.layer}, taking over again")
    return LightTarget(
        device,
        value,
        why,
        fading,
        keep_brightness=Attribute.BRIGHTNESS in kept,
        keep_kelvin=bool(kept & {Attribute.KELVIN, Attribute.COLOUR}),
    )


def _climate(
    plans: Planner,
    device: str,
    entries: list[Active],
    now: datetime,
    state: RuntimeState,
    readings: Readings,
) -> ClimateTarget | None:
    hold = state.holds.get(device, _NO_HOLD)
    if Attribute.SETPOINT in _overridden(hold, now):
        return None
    baseline = hold.setpoint if hold.setpoint is not None else readings.setpoint(device)
    wanted, why = baseline, Reason("back to how it was")
    for entry in reversed(entries):
        # A setpoint does not fade: it is given back as soon as its layer ends.
        if entry.weight > 0 and now < entry.layer.envelope.end:
            wanted = entry.layer.heat[device].apply(baseline)
            why = Reason(entry.layer.name)
            break
    if wanted is None:
        return None
    config = plans.cfg.devices[device]
    low, high = config.bounds
    clamped = min(high, max(low, round(wanted / config.step) * config.step))
    if clamped != round(wanted / config.step) * config.step:
        why = Reason(f"{why.layer} (held within {low:g}–{high:g})")
    return ClimateTarget(device, clamped, why)


def aims(
    plans: Planner,
    targets: dict[str, Target],
    wake: datetime,
    state: RuntimeState,
    readings: Readings,
) -> dict[str, Target]:
    """What to send now: a fading light aims at its look at the next step, `wake`.

    The command glides there over the time until `wake`, so a fade's first step
    leaves the moment it starts (a press shows at once) and the light is never a
    step behind. `fade_step` sizes steps so that look is at most one step away.
    """
    fading = [
        device
        for device, target in targets.items()
        if isinstance(target, LightTarget) and target.fading
    ]
    if not fading:
        return targets
    later = desired(plans, wake, state, readings)
    aimed = dict(targets)
    for device in fading:
        now_target, ahead = targets[device], later.get(device)
        if isinstance(ahead, LightTarget) and isinstance(now_target, LightTarget):
            # What a person holds at this instant stays theirs until the next step.
            aimed[device] = replace(
                ahead,
                fading=True,
                keep_brightness=now_target.keep_brightness,
                keep_kelvin=now_target.keep_kelvin,
            )
    return aimed


def fade_step(
    plans: Planner,
    now: datetime,
    limit: datetime,
    state: RuntimeState,
    readings: Readings,
    current: dict[str, Target],
) -> datetime:
    """The furthest instant (one fade step, `limit` at most) at which no light has moved
    more than one step from `current`, its targets at `now`: the next wake-up."""
    step = min(limit - now, plans.cfg.settings.fade_step)
    while step > MIN_STEP:
        if gentle(plans, current, desired(plans, now + step, state, readings)):
            break
        step = max(MIN_STEP, step / 2)
    return now + step


def gentle(plans: Planner, before: dict[str, Target], after: dict[str, Target]) -> bool:
    """Whether every light moves at most one brightness step and one colour step."""
    for device, target in after.items():
        previous = before.get(device)
        if not isinstance(target, LightTarget) or not isinstance(previous, LightTarget):
            continue
        if abs(target.state.brightness - previous.state.brightness) > plans.cfg.settings.max_step:
            return False
        if _mired_jump(previous.state, target.state) > MIRED_STEP:
            return False
    return True


def _mired_jump(before: LightState, after: LightState) -> float:
    dim = min(before.brightness, after.brightness) < VISIBLE  # its colour does not show
    if before.kelvin is None or after.kelvin is None or dim:
        return 0.0
    return abs(1e6 / after.kelvin - 1e6 / before.kelvin)


def _overridden(hold: Hold, now: datetime) -> frozenset[str]:
    override = hold.override
    return override.attributes if override is not None and override.until > now else frozenset()


def _why(top: Active, below: LightState, device: str, now: datetime) -> Reason:
    if not top.fading:
        return top.why
    setting = top.layer.lights[device]
    goal = 0.0 if not setting.on else setting.brightness
    if goal is None:
        return Reason(top.layer.name)
    if now >= top.layer.envelope.end:
        return Reason(f"{top.layer.name} ending", goal, below.brightness)
    return Reason(top.layer.name, below.brightness, goal)
