"""The core's front door: one event taken in (`apply`), one step to an instant (`step`).

A step moves the runtime state to `now` (rituals start, what ran out ends, snapshots are
taken), works out every held device's target and the next instant anything changes,
aims a fading light at its look at that instant, and diffs the aims against what each
device was last told into the fewest commands. The engine and the simulator both call
it; neither decides anything of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cocoon.core import reconcile
from cocoon.core.abilities import describe_ability, expect
from cocoon.core.events import (
    Capability,
    ClimateReport,
    Event,
    LightReport,
    Press,
    SelectMode,
    SensorReport,
    SetHandsOff,
)
from cocoon.core.model import MAX_TRANSITION, Command, LightCommand, Readings, Target
from cocoon.core.planner import Planner
from cocoon.core.reports import take
from cocoon.core.sent import Sent
from cocoon.core.state import RuntimeState
from cocoon.core.targets import aims, desired, fade_step
from cocoon.core.transitions import advance, pause, press, resume, select
from cocoon.core.wakeups import next_change

NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one step comes to."""

    state: RuntimeState
    targets: dict[str, Target]
    """Every held device's target at the step's instant (for the status)."""
    commands: list[Command]
    """What to send now, each to a device the shell can reach."""
    wake: datetime
    """The next instant anything changes: ask again then."""
    notes: list[str]
    """What happened, for people (the log, the demo's feed)."""
    sent: Sent
    """The record of what was sent, `commands` added at the step's instant."""
    readings: Readings
    """The readings, each commanded device taken to show what it was told until it reports."""


@dataclass(frozen=True, slots=True)
class Applied:
    """One event taken in: the state and readings after it, and what it meant."""

    state: RuntimeState
    readings: Readings
    notes: list[str]
    changed: bool = True
    """False when nothing changed that a step must look at (a report of the same again)."""
    warning: str | None = None
    """Something a person should know was ignored (a press of an unknown button)."""


def step(
    plans: Planner,
    state: RuntimeState,
    readings: Readings,
    sent: Sent,
    now: datetime,
    *,
    since: datetime | None = None,
    away: frozenset[str] = NOBODY,
    unreachable: frozenset[str] = NOBODY,
    driving: bool = True,
    glide: float = 0.0,
) -> Outcome:
    """One step of the home at `now`.

    `since` is the instant of the step before, when there was one (a window that opened
    and closed in between is missed). `away` are the devices whose gateway cannot reach
    them now: nothing is sent to them, and what they are to be given back waits for
    them; `unreachable` are devices no gateway reaches at all: nothing is sent to them.
    While not `driving` (another cocoon drives the home) no command goes out. `glide`
    is the shortest transition of the commands, in seconds (after a reload: whatever
    changed arrives as a glide).
    """
    now = now.astimezone(UTC)
    state, notes = advance(plans, now, state, readings, since, away)
    boundary, fading = next_change(plans, now, state, readings)
    targets = desired(plans, now, state, readings)
    wake = fade_step(plans, now, boundary, state, readings, targets) if fading else boundary
    aimed = aims(plans, targets, wake, state, readings)
    commands: list[Command] = []
    if driving:
        diff = reconcile.commands(plans.cfg, aimed, sent.told(), readings, now, wake)
        commands = [
            _gliding(command, glide)
            for command in diff
            if command.device not in away and command.device not in unreachable
        ]
    if commands:
        readings = expect(readings, commands, now)
    return Outcome(state, targets, commands, wake, notes, sent.add(commands, now), readings)


def next_wakeup(plans: Planner, now: datetime, state: RuntimeState, readings: Readings) -> datetime:
    """The next instant anything changes: a boundary, or the next step of a fade."""
    boundary, fading = next_change(plans, now, state, readings)
    if not fading:
        return boundary
    return fade_step(plans, now, boundary, state, readings, desired(plans, now, state, readings))


def apply(
    plans: Planner,
    state: RuntimeState,
    readings: Readings,
    sent: Sent,
    event: Event,
    now: datetime,
) -> Applied:
    """Take in one event at `now`: a person's intent, a report, what a device can do.

    Events that are the shell's own business (availability, problems, connections,
    announcements, wake-ups) change nothing here; a step follows all the same.
    """
    match event:
        case Press(name=name):
            try:
                state, message = press(plans, name, now, state, readings)
            except KeyError:
                return _unknown(state, readings, name)
            return Applied(state, readings, [message])
        case SelectMode(mode=mode):
            try:
                state, notes = select(plans, mode, now, state, readings)
            except KeyError:
                return _unknown(state, readings, mode)
            return Applied(state, readings, notes)
        case SetHandsOff(on=on):
            if on:
                state, message = pause(state, now)
            else:
                state, message = resume(plans.cfg, state, now, readings)
            return Applied(state, readings, [message])
        case LightReport() | ClimateReport() | SensorReport():
            taken = take(plans, state, readings, sent, event, now)
            return Applied(taken.state, taken.readings, taken.notes, taken.changed)
        case Capability(device=device, ability=ability):
            readings = replace(readings, abilities={**readings.abilities, device: ability})
            return Applied(state, readings, [f"{device} can show {describe_ability(ability)}"])
    return Applied(state, readings, [])


def _unknown(state: RuntimeState, readings: Readings, name: str) -> Applied:
    return Applied(state, readings, [], warning=f"Press of unknown button {name!r} ignored")


def _gliding(command: Command, seconds: float) -> Command:
    if isinstance(command, LightCommand) and command.transition < seconds:
        return replace(command, transition=min(seconds, MAX_TRANSITION))
    return command
