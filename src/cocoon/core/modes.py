"""The runtime state (people's intents and what cocoon holds) and its pure transitions.

Every function takes the state and returns a new one with a sentence saying what
happened, so the shell can persist the state and log the decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from cocoon.config.schema import CocoonConfig
from cocoon.config.values import format_duration
from cocoon.core.model import LightState, Readings
from cocoon.core.plants import PlantStatus
from cocoon.core.scenes import Envelope

POWER, BRIGHTNESS, KELVIN, SETPOINT = "power", "brightness", "kelvin", "setpoint"
COLOUR = "colour"
"""A colour off the white line, set by hand: cocoon then leaves the light's colour alone."""


@dataclass(frozen=True, slots=True)
class RitualRun:
    """A ritual's latest run: the window it holds, and the plant cues it carries."""

    ritual: str
    day: date
    start: datetime
    end: datetime
    cues: tuple[str, ...] = ()
    missed: bool = False
    joined: datetime | None = None
    """The instant cocoon joined the window after its start (it was not running then):
    the window is in force from `start`, the lights glide to it from `joined`."""


@dataclass(frozen=True, slots=True)
class CalmRun:
    """A calm mode someone pressed, and until when it lasts."""

    mode: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Override:
    """A person changed these attributes by hand; cocoon leaves them alone until `until`."""

    attributes: frozenset[str]
    since: datetime
    until: datetime


@dataclass(frozen=True, slots=True)
class Handover:
    """cocoon takes a device back: it fades from `start` (what the person left) to its targets."""

    start: LightState
    at: datetime
    fade: timedelta

    def weight(self, now: datetime) -> float:
        """How far the take-back has come (0 to 1)."""
        if self.fade <= timedelta(0):
            return 1.0
        return min(1.0, max(0.0, (now - self.at) / self.fade))


@dataclass(frozen=True, slots=True)
class Hold:
    """cocoon's hold on one device: the snapshot to give back, an override, a take-back."""

    snapshot: LightState | None = None
    setpoint: float | None = None
    override: Override | None = None
    handover: Handover | None = None
    releasing: bool = False
    """No layer holds the device any more: the snapshot is given back once, then let go."""
    late: bool = False
    """The give-back comes after its layer's own fade-out could show it (the device was
    away, the layer left the configuration): it glides there instead."""


@dataclass(frozen=True, slots=True)
class RuntimeState:
    """Everything cocoon must remember across a restart."""

    runs: dict[str, RitualRun] = field(default_factory=dict)
    calm: dict[str, CalmRun] = field(default_factory=dict)
    holds: dict[str, Hold] = field(default_factory=dict)
    plants: dict[str, PlantStatus] = field(default_factory=dict)
    paused_since: datetime | None = None


def _clock(cfg: CocoonConfig, moment: datetime) -> str:
    return moment.astimezone(cfg.home.zone).strftime("%H:%M")


def press_calm(
    cfg: CocoonConfig, state: RuntimeState, mode: str, now: datetime
) -> tuple[RuntimeState, str]:
    """Start calm mode `mode`, or extend it when it is already on."""
    calm = cfg.calm_modes[mode]
    end = now + calm.duration
    running = state.calm.get(mode)
    if running is not None and now <= running.end:
        run = replace(running, end=end)
        message = f"{mode} pressed again: extended, ends {_clock(cfg, end)}"
    else:
        start = now
        if running is not None and calm.fade > timedelta(0):
            # Pressed while fading out: continue from the weight it has now, without a jump.
            envelope = Envelope(running.start, running.end, calm.fade, calm.hand_back)
            start = now - calm.fade * envelope.weight(now)
        run = CalmRun(mode, start, end)
        lights = len(cfg.scenes[calm.scene].lights)
        message = f"{mode} pressed: {lights} light{'s' * (lights != 1)}, ends {_clock(cfg, end)}"
    return replace(state, calm={**state.calm, mode: run}), message


def end_calm(state: RuntimeState, mode: str, now: datetime) -> tuple[RuntimeState, str]:
    """End calm mode `mode` now: it fades out and gives back what was there before."""
    running = state.calm.get(mode)
    if running is None or now >= running.end:
        return state, f"{mode} is not on"
    return replace(state, calm={**state.calm, mode: replace(running, end=now)}), f"{mode} ended"


def start_ritual(
    cfg: CocoonConfig,
    state: RuntimeState,
    run: RitualRun,
    readings: Readings,
) -> RuntimeState:
    """Record a ritual run; it ends any manual override on the devices it touches.

    A joined run (see `RitualRun.joined`) ends no override: a person's hand, set while
    cocoon was not looking at the ritual's start, still wins. Every other light of its
    scene glides from how it shows to where the ritual stands (`settings.resume_fade`).
    """
    scene = cfg.scenes[cfg.rituals[run.ritual].scene]
    state = replace(state, runs={**state.runs, run.ritual: run})
    if run.missed:
        return state
    if run.joined is not None:
        return _glide_in(cfg, state, set(scene.lights), run.joined, readings)
    touched = set(scene.lights) | set(scene.heat)
    for plant in run.cues:
        cue = cfg.plants[plant].cue
        if cue is not None:
            touched.add(cue.light)
    for device in touched:
        state = _end_override(cfg, state, device, run.start, readings)
    return state


def set_override(
    cfg: CocoonConfig,
    state: RuntimeState,
    device: str,
    attributes: frozenset[str],
    now: datetime,
) -> tuple[RuntimeState, str]:
    """A person changed `attributes` of `device`: leave them alone for `override_timeout`."""
    hold = state.holds.get(device, Hold())
    if hold.override is not None:
        attributes = attributes | hold.override.attributes
    until = now + cfg.settings.override_timeout
    hold = replace(hold, override=Override(attributes, now, until), handover=None)
    what = ", ".join(sorted(attributes))
    message = (
        f"{device} changed by hand ({what}):"
        f" left alone until {_clock(cfg, until)} or the next ritual"
    )
    return replace(state, holds={**state.holds, device: hold}), message


def _end_override(
    cfg: CocoonConfig,
    state: RuntimeState,
    device: str,
    now: datetime,
    readings: Readings,
) -> RuntimeState:
    hold = state.holds.get(device)
    if hold is None or hold.override is None:
        return state
    return replace(
        state, holds={**state.holds, device: _take_back(cfg, hold, device, now, readings)}
    )


def _glide_in(
    cfg: CocoonConfig, state: RuntimeState, lights: set[str], now: datetime, readings: Readings
) -> RuntimeState:
    holds = dict(state.holds)
    for device in lights:
        hold = holds.get(device, Hold())
        if hold.override is not None and hold.override.until > now:
            continue
        observed = readings.light(device)
        if observed is not None:
            holds[device] = replace(
                hold, handover=Handover(observed, now, cfg.settings.resume_fade)
            )
    return replace(state, holds=holds)


def _take_back(
    cfg: CocoonConfig, hold: Hold, device: str, now: datetime, readings: Readings
) -> Hold:
    observed = readings.light(device)
    handover = None if observed is None else Handover(observed, now, cfg.settings.resume_fade)
    return replace(hold, override=None, handover=handover)


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
        device: _take_back(cfg, hold, device, now, readings) for device, hold in state.holds.items()
    }
    return replace(
        state, paused_since=None, holds=holds
    ), "hands off ended: cocoon takes over again"


def expire(
    cfg: CocoonConfig,
    state: RuntimeState,
    now: datetime,
    readings: Readings,
) -> tuple[RuntimeState, list[str]]:
    """Drop what has run out: calm modes past their fade-out, overrides and take-backs."""
    notes: list[str] = []
    calm = {}
    for mode, run in state.calm.items():
        config = cfg.calm_modes.get(mode)
        if config is not None and now <= run.end + config.hand_back:
            calm[mode] = run
        else:
            notes.append(f"{mode} is over: everything it changed is given back")
    holds = {}
    for device, hold in state.holds.items():
        if hold.override is not None and hold.override.until <= now:
            hold = _take_back(cfg, hold, device, now, readings)
            notes.append(f"{device}: manual override timed out, cocoon takes it back")
        if hold.handover is not None and now >= hold.handover.at + hold.handover.fade:
            hold = replace(hold, handover=None)
        holds[device] = hold
    if not notes and calm.keys() == state.calm.keys() and holds == state.holds:
        return state, notes
    return replace(state, calm=calm, holds=holds), notes


def rewind(state: RuntimeState, seen: datetime, now: datetime) -> RuntimeState:
    """The wall clock was stepped back from `seen` to `now`: move what had started with it.

    Whatever had started carries on from where it had got to, so no fade replays or
    jumps. A ritual still in its window keeps its end (its window is on the wall clock);
    calm modes, overrides and take-backs keep their length; what had ended stays ended.
    """
    delta = now - seen

    def hold(value: Hold) -> Hold:
        override, handover = value.override, value.handover
        if override is not None:
            override = replace(override, since=override.since + delta, until=override.until + delta)
        if handover is not None:
            handover = replace(handover, at=handover.at + delta)
        return replace(value, override=override, handover=handover)

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
                f"{name} now ends at {_clock(new, end)}"
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
