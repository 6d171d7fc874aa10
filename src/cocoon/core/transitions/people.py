"""What people do: press a button, pick a mode, take their hands off, change a device by hand.

Every function takes the state and returns a new one with a sentence saying what
happened, so the shell can persist the state and log the decision.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cocoon.config.schema import CocoonConfig
from cocoon.core.model import Attribute, Readings
from cocoon.core.planner import Planner
from cocoon.core.scenes import Envelope
from cocoon.core.schedule import ritual_window
from cocoon.core.state import CalmRun, Hold, Override, RuntimeState
from cocoon.core.transitions.holds import take_back
from cocoon.core.transitions.rituals import start


def press(
    plans: Planner,
    name: str,
    now: datetime,
    state: RuntimeState,
    readings: Readings,
) -> tuple[RuntimeState, str]:
    """A button: a calm mode starts (or extends), a ritual starts now.

    The devices it takes are snapshotted when the state moves on to `now`
    (`rituals.advance`, in every step). An unknown name raises `KeyError`.
    """
    now = now.astimezone(UTC)
    if name in plans.cfg.calm_modes:
        state, message = press_calm(plans.cfg, state, name, now)
    elif name in plans.cfg.rituals:
        today = plans.local_date(now)
        window = ritual_window(plans.cfg, name, today)
        notes: list[str] = []
        end = now + (window.end - window.start)
        state = start(plans, name, today, now, end, now, state, readings, notes)
        message = f"{name} pressed: {notes[0]}"
    else:
        raise KeyError(name)
    return state, message


def select(
    plans: Planner,
    mode: str,
    now: datetime,
    state: RuntimeState,
    readings: Readings,
) -> tuple[RuntimeState, list[str]]:
    """The mode select: "off" ends every calm mode; a mode not on yet is pressed."""
    if mode == "off":
        notes = []
        for name in list(state.calm):
            state, message = end_calm(state, name, now)
            notes.append(message)
        return state, notes
    if mode not in state.calm or now >= state.calm[mode].end:
        state, message = press(plans, mode, now, state, readings)
        return state, [message]
    return state, []


def press_calm(
    cfg: CocoonConfig, state: RuntimeState, mode: str, now: datetime
) -> tuple[RuntimeState, str]:
    """Start calm mode `mode`, or extend it when it is already on."""
    calm = cfg.calm_modes[mode]
    end = now + calm.duration
    running = state.calm.get(mode)
    if running is not None and now <= running.end:
        run = replace(running, end=end)
        message = f"{mode} pressed again: extended, ends {clock(cfg, end)}"
    else:
        begin = now
        if running is not None and calm.fade > timedelta(0):
            # Pressed while fading out: continue from the weight it has now, without a jump.
            envelope = Envelope(running.start, running.end, calm.fade, calm.give_back_fade)
            begin = now - calm.fade * envelope.weight(now)
        run = CalmRun(mode, begin, end)
        lights = len(cfg.scenes[calm.scene].lights)
        message = f"{mode} pressed: {lights} light{'s' * (lights != 1)}, ends {clock(cfg, end)}"
    return replace(state, calm={**state.calm, mode: run}), message


def end_calm(state: RuntimeState, mode: str, now: datetime) -> tuple[RuntimeState, str]:
    """End calm mode `mode` now: it fades out and gives back what was there before."""
    running = state.calm.get(mode)
    if running is None or now >= running.end:
        return state, f"{mode} is not on"
    return replace(state, calm={**state.calm, mode: replace(running, end=now)}), f"{mode} ended"


def set_override(
    cfg: CocoonConfig,
    state: RuntimeState,
    device: str,
    attributes: frozenset[Attribute],
    now: datetime,
) -> tuple[RuntimeState, str]:
    """A person changed `attributes` of `device`: leave them alone for `override_timeout`."""
    hold = state.holds.get(device, Hold())
    if hold.override is not None:
        attributes = attributes | hold.override.attributes
    until = now + cfg.settings.override_timeout
    hold = replace(hold, override=Override(attributes, now, until), taking_back=None)
    what = ", ".join(sorted(attributes))
    message = (
        f"{device} changed by hand ({what}):"
        f" left alone until {clock(cfg, until)} or the next ritual"
    )
    return replace(state, holds={**state.holds, device: hold}), message


def pause(state: RuntimeState, now: datetime) -> tuple[RuntimeState, str]:
    """Hands off: cocoon sends nothing until resumed."""
    if state.paused_since is not None:
        return state, "already paused"
    return replace(state, paused_since=now), "hands off: cocoon pauses every device"


def resume(
    cfg: CocoonConfig, state: RuntimeState, now: datetime, readings: Readings
) -> tuple[RuntimeState, str]:
    """End the pause; every held light fades from how it is now back to its targets."""
    if state.paused_since is None:
        return state, "not paused"
    holds = {
        device: take_back(cfg, hold, device, now, readings) for device, hold in state.holds.items()
    }
    return replace(
        state, paused_since=None, holds=holds
    ), "hands off ended: cocoon takes over again"


def clock(cfg: CocoonConfig, moment: datetime) -> str:
    """`moment` as the home's wall clock shows it (`21:45`)."""
    return moment.astimezone(cfg.home.zone).strftime("%H:%M")
