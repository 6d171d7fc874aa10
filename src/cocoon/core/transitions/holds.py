"""cocoon's hold on each device: taken with a snapshot, given back, taken back from a person."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from cocoon.config.schema import CocoonConfig
from cocoon.core.model import Readings
from cocoon.core.planner import Planner
from cocoon.core.state import Hold, RuntimeState, TakeBack

_NO_HOLD = Hold()


def settle(
    plans: Planner,
    now: datetime,
    state: RuntimeState,
    readings: Readings,
    unreached: frozenset[str] = frozenset(),
) -> RuntimeState:
    """Snapshot devices a layer has just taken; let go of those no layer holds any more.

    A device in `unreached` is let go only once it is back and has been given back.
    """
    lights, heat = plans.steady.in_force(plans.layers(state), now)
    if plans.steady.settled(lights, heat, state.holds):
        return state
    held_lights, held_heat = set(lights), set(heat)
    # Under way for longer than a device takes to answer (it is asked the moment cocoon
    # starts): a light reporting now was away, or cocoon joined.
    begun = now - plans.cfg.settings.fade_step
    holds: dict[str, Hold] = {}
    for device in held_lights | held_heat | set(state.holds):
        hold = state.holds.get(device, _NO_HOLD)
        if device in held_lights or device in held_heat:
            # A device that never reported has no snapshot yet: it is taken (and the
            # device driven) once it reports, so what is given back is what was there.
            if device in held_lights and hold.snapshot is None:
                hold = replace(hold, snapshot=readings.light(device))
                under_way = any(
                    active.layer.envelope.start < begun and active.weight > 0
                    for active in lights[device]
                )
                if hold.snapshot is not None and hold.override is None and under_way:
                    # Its first report comes after its layer got under way (a window
                    # joined, a light that was away): it glides from how it shows.
                    taking_back = TakeBack(hold.snapshot, now, plans.cfg.settings.resume_fade)
                    hold = replace(hold, taking_back=taking_back)
            if device in held_heat and hold.setpoint is None:
                hold = replace(hold, setpoint=readings.setpoint(device))
            holds[device] = replace(hold, giving_back=False) if hold.giving_back else hold
        elif hold.override is not None and hold.override.until > now:
            holds[device] = Hold(override=hold.override)
        elif device in unreached and (hold.snapshot or hold.setpoint is not None):
            # Away (its gateway is down, a command to it failed): giving back now would
            # send nothing, and letting go would lose it. Given back once it returns.
            holds[device] = Hold(hold.snapshot, hold.setpoint, late=True)
        elif not hold.giving_back and (hold.snapshot or hold.setpoint is not None):
            # Give the snapshot back once more, whatever instant this runs at, then let go.
            holds[device] = Hold(hold.snapshot, hold.setpoint, giving_back=True, late=hold.late)
    if holds == state.holds:
        plans.steady.keep_settled(lights, heat, state.holds)
        return state
    return replace(state, holds=holds)


def take_back(
    cfg: CocoonConfig, hold: Hold, device: str, now: datetime, readings: Readings
) -> Hold:
    """End a person's override: the light fades from how it shows back to its targets."""
    observed = readings.light(device)
    taking_back = None if observed is None else TakeBack(observed, now, cfg.settings.resume_fade)
    return replace(hold, override=None, taking_back=taking_back)


def end_override(
    cfg: CocoonConfig,
    state: RuntimeState,
    device: str,
    now: datetime,
    readings: Readings,
) -> RuntimeState:
    """End the override on `device`, if it has one (a ritual starts over it)."""
    hold = state.holds.get(device)
    if hold is None or hold.override is None:
        return state
    return replace(
        state, holds={**state.holds, device: take_back(cfg, hold, device, now, readings)}
    )


def glide_in(
    cfg: CocoonConfig, state: RuntimeState, lights: set[str], now: datetime, readings: Readings
) -> RuntimeState:
    """Lights not held by a person glide from how they show to their targets."""
    holds = dict(state.holds)
    for device in lights:
        hold = holds.get(device, Hold())
        if hold.override is not None and hold.override.until > now:
            continue
        observed = readings.light(device)
        if observed is not None:
            holds[device] = replace(
                hold, taking_back=TakeBack(observed, now, cfg.settings.resume_fade)
            )
    return replace(state, holds=holds)
