"""Time moving on: rituals start (on time, late, joined or missed), what ran out ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from cocoon.config.schema import CocoonConfig
from cocoon.config.values import format_duration
from cocoon.core.model import Readings
from cocoon.core.planner import Planner
from cocoon.core.plants import PlantStatus, evaluate
from cocoon.core.scenes import Envelope
from cocoon.core.state import RitualRun, RuntimeState
from cocoon.core.transitions.holds import end_override, glide_in, settle, take_back


def advance(
    plans: Planner,
    now: datetime,
    state: RuntimeState,
    readings: Readings,
    since: datetime | None = None,
    unreached: frozenset[str] = frozenset(),
) -> tuple[RuntimeState, list[str]]:
    """Move the state to `now`: start due rituals, drop what ran out, take snapshots.

    `since` is the instant the state was last moved to, when it is known: a window
    that opened and closed in between (a clock step, a suspend) is noted as missed.
    `unreached` are the devices cocoon cannot reach now: what they are to be given
    back waits for them.
    """
    now = now.astimezone(UTC)
    notes: list[str] = []
    state = _update_plants(plans, now, state, readings, notes)
    today = plans.local_date(now)
    for day in (today - timedelta(days=1), today):
        for window in plans.day(day).windows:
            run = state.runs.get(window.ritual)
            if run is not None and run.day >= window.day:
                continue
            open_now = window.start <= now < window.end
            passed = since is not None and since < window.start and window.end <= now
            if not (open_now or passed):
                continue
            state = start(
                plans,
                window.ritual,
                window.day,
                window.start,
                window.end,
                now,
                state,
                readings,
                notes,
            )
    state, expired = expire(plans.cfg, state, now, readings)
    notes.extend(expired)
    return settle(plans, now, state, readings, unreached), notes


def start(
    plans: Planner,
    ritual: str,
    day: date,
    begin: datetime,
    end: datetime,
    now: datetime,
    state: RuntimeState,
    readings: Readings,
    notes: list[str],
) -> RuntimeState:
    """Start `ritual`'s window `begin`-`end` at `now`: on time, late, joined or missed.

    The rule for a window cocoon did not see open (a first start, a restart, a clock
    step, a suspend): up to `settings.grace` late, a ritual runs late, its fade-in
    starting now. Later than that, a ritual with `until` (a window: evening, night) is
    joined where it stands: it is in force as if cocoon had started it on time, and
    its lights glide there from how they show, over `settings.resume_fade`, in fade
    steps; a fade-in still under way goes on from its current point. A ritual with
    `duration` (a cue: a 20-minute tea glow) and the plant cues it carries are about
    their moment: later than the grace, they are skipped for the day. A light changed
    by hand keeps its override either way. What happened is added to `notes`.
    """
    cfg, zone = plans.cfg, plans.zone
    late = now - begin
    if end <= now or (late > cfg.settings.grace and cfg.rituals[ritual].until is None):
        minutes = int(late.total_seconds() // 60)
        notes.append(
            f"ritual {ritual} missed by {minutes} min"
            f" (grace {format_duration(cfg.settings.grace)}): skipped today"
        )
        return start_ritual(cfg, state, RitualRun(ritual, day, begin, end, missed=True), readings)
    if late > cfg.settings.grace:
        notes.append(
            f"ritual {ritual} joined where it stands: in force since"
            f" {begin.astimezone(zone):%H:%M}, until {end.astimezone(zone):%H:%M}"
        )
        return start_ritual(cfg, state, RitualRun(ritual, day, begin, end, joined=now), readings)
    cues = tuple(
        name
        for name, plant in cfg.plants.items()
        if plant.cue is not None
        and plant.cue.during == ritual
        and state.plants.get(name, PlantStatus()).needs_care
    )
    run = RitualRun(ritual, day, _resume_point(cfg, ritual, now, state), end, cues)
    extra = f", cue for {', '.join(cues)}" if cues else ""
    notes.append(f"ritual {ritual} started, until {end.astimezone(zone):%H:%M}{extra}")
    return start_ritual(cfg, state, run, readings)


def _resume_point(cfg: CocoonConfig, ritual: str, now: datetime, state: RuntimeState) -> datetime:
    """Where a new run's fade-in starts: now, or earlier when the last run still shows.

    A run that is still fading out hands its weight on, so starting again never jumps.
    """
    config = cfg.rituals[ritual]
    previous = state.runs.get(ritual)
    if previous is None or previous.missed or config.fade <= timedelta(0):
        return now
    envelope = Envelope(previous.start, previous.end, config.fade, config.give_back_fade)
    return now - config.fade * envelope.weight(now)


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
        return glide_in(cfg, state, set(scene.lights), run.joined, readings)
    touched = set(scene.lights) | set(scene.heat)
    for plant in run.cues:
        cue = cfg.plants[plant].cue
        if cue is not None:
            touched.add(cue.light)
    for device in touched:
        state = end_override(cfg, state, device, run.start, readings)
    return state


def _update_plants(
    plans: Planner, now: datetime, state: RuntimeState, readings: Readings, notes: list[str]
) -> RuntimeState:
    cfg = plans.cfg
    statuses = {
        name: evaluate(plant, state.plants.get(name, PlantStatus()), readings, now)
        for name, plant in cfg.plants.items()
    }
    if statuses == state.plants:
        return state
    for name, status in statuses.items():
        if status != state.plants.get(name):
            notes.append(f"plant {name}: {status.describe()}")
    return replace(state, plants=statuses)


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
        if config is not None and now <= run.end + config.give_back_fade:
            calm[mode] = run
        else:
            notes.append(f"{mode} is over: everything it changed is given back")
    holds = {}
    for device, hold in state.holds.items():
        if hold.override is not None and hold.override.until <= now:
            hold = take_back(cfg, hold, device, now, readings)
            notes.append(f"{device}: manual override timed out, cocoon takes it back")
        if hold.taking_back is not None and now >= hold.taking_back.at + hold.taking_back.fade:
            hold = replace(hold, taking_back=None)
        holds[device] = hold
    if not notes and calm.keys() == state.calm.keys() and holds == state.holds:
        return state, notes
    return replace(state, calm=calm, holds=holds), notes
