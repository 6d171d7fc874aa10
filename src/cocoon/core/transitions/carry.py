"""Carrying the state over: to a new configuration, across a wall clock stepped back."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from cocoon.config.schema import CocoonConfig
from cocoon.config.values import format_duration
from cocoon.core.model import ClimateCommand, Command, LightTarget, Reason
from cocoon.core.reconcile import light_command
from cocoon.core.state import Hold, RitualRun, RuntimeState
from cocoon.core.transitions.people import clock


@dataclass(frozen=True, slots=True)
class GiveBack:
    """How a device the configuration no longer has is given back: a command, or why not."""

    command: Command | None
    note: str
    warn: bool = False
    """Whether the note is a warning: something is left as it is that was to be given back."""


def give_back_removed(old: CocoonConfig, device: str, hold: Hold, now: datetime) -> GiveBack:
    """Give a held device back as the configuration that knew it (`old`) would have."""
    gone = f"{device} was removed from the configuration while cocoon held it"
    if hold.override is not None and now < hold.override.until:
        return GiveBack(None, f"{gone}: left as the person set it")
    why = "given back: no longer configured"
    if hold.snapshot is not None:
        glide = old.settings.fade_step.total_seconds()
        target = LightTarget(device, hold.snapshot, Reason(why))
        return GiveBack(light_command(old, target, glide), f"{gone}: given back")
    if hold.setpoint is not None:
        return GiveBack(ClimateCommand(device, hold.setpoint, why), f"{gone}: given back")
    return GiveBack(None, f"{gone}, before it ever said how it was: left as it is", warn=True)


def rewind(state: RuntimeState, seen: datetime, now: datetime) -> RuntimeState:
    """The wall clock was stepped back from `seen` to `now`: move what had started with it.

    Whatever had started carries on from where it had got to, so no fade replays or
    jumps. A ritual still in its window keeps its end (its window is on the wall clock);
    calm modes, overrides and take-backs keep their length; what had ended stays ended.
    """
    delta = now - seen

    def hold(value: Hold) -> Hold:
        override, taking_back = value.override, value.taking_back
        if override is not None:
            override = replace(override, since=override.since + delta, until=override.until + delta)
        if taking_back is not None:
            taking_back = replace(taking_back, at=taking_back.at + delta)
        return replace(value, override=override, taking_back=taking_back)

    def run(value: RitualRun) -> RitualRun:
        end = value.end if seen < value.end else value.end + delta
        joined = None if value.joined is None else value.joined + delta
        return replace(value, start=value.start + delta, end=end, joined=joined)

    paused = state.paused_since
    return replace(
        state,
        runs={name: run(value) for name, value in state.runs.items()},
        calm={
            name: replace(value, start=value.start + delta, end=value.end + delta)
            for name, value in state.calm.items()
        },
        holds={name: hold(value) for name, value in state.holds.items()},
        paused_since=None if paused is None else paused + delta,
    )


def reconfigure(
    old: CocoonConfig, new: CocoonConfig, state: RuntimeState, now: datetime
) -> tuple[RuntimeState, dict[str, Hold], list[str]]:
    """Carry the state over from configuration `old` to `new` at `now`.

    What `new` no longer names is dropped: a ritual or calm mode (what it held is given
    back like at any end), a plant. A calm mode whose duration changed ends that much
    earlier or later, never before `now`. Returns the new state, the holds of devices
    `new` no longer has (cocoon can give those back only through `old`), and notes.
    """
    notes: list[str] = []
    runs = {}
    for name, run in state.runs.items():
        if name in new.rituals:
            runs[name] = run
        elif not run.missed and now < run.end:
            notes.append(f"ritual {name} is no longer configured: what it held is given back")
    calm = {}
    for name, calm_run in state.calm.items():
        mode, before = new.calm_modes.get(name), old.calm_modes.get(name)
        if mode is None:
            notes.append(
                f"calm mode {name} is no longer configured: ended, what it held is given back"
            )
            continue
        if before is not None and mode.duration != before.duration and now < calm_run.end:
            end = max(now, calm_run.end + (mode.duration - before.duration))
            calm_run = replace(calm_run, end=end)
            notes.append(
                f"{name} now ends at {clock(new, end)}"
                f" (its duration changed from {format_duration(before.duration)}"
                f" to {format_duration(mode.duration)})"
            )
        calm[name] = calm_run
    holds = {device: hold for device, hold in state.holds.items() if device in new.devices}
    if len(runs) < len(state.runs) or len(calm) < len(state.calm):
        # A layer that is gone cannot fade out: what it held is given back gliding.
        holds = {device: replace(hold, late=True) for device, hold in holds.items()}
    removed = {device: hold for device, hold in state.holds.items() if device not in new.devices}
    plants = {name: status for name, status in state.plants.items() if name in new.plants}
    state = replace(state, runs=runs, calm=calm, holds=holds, plants=plants)
    return state, removed, notes
