"""The heart of cocoon: what every device should do at an instant, and when that next changes.

Instants are handled in UTC (see `schedule`); a `now` in any zone is converted first.
Layers, lowest to highest: the snapshot (what the person left) < rituals < plant cues <
calm modes < manual override < hands off. Each layer blends into the one below with its
weight, so starting and ending a layer are fades, never jumps.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from cocoon.config.schema import CocoonConfig, LightSetting, Setpoint
from cocoon.config.values import format_duration
from cocoon.core import modes
from cocoon.core.model import (
    ClimateTarget,
    Fade,
    LightState,
    LightTarget,
    Readings,
    Target,
)
from cocoon.core.plants import PlantStatus, evaluate
from cocoon.core.scenes import Envelope, blend, blend_states
from cocoon.core.schedule import DayPlan, local_instant, plan_day, ritual_window

# The largest colour change between two fade steps, in mireds (even steps to the eye),
# for a light bright enough that its colour shows.
MIRED_STEP = 10.0
VISIBLE = 5.0
# Fade steps are never closer together than this.
MIN_STEP = timedelta(seconds=0.05)
_RITUAL, _CUE, _CALM = 1, 2, 3
_NO_HOLD = modes.Hold()
_GIVEN_BACK = Fade("given back")


@dataclass(frozen=True, slots=True)
class Layer:
    """One thing with a say over some devices for a while."""

    name: str
    rank: int
    envelope: Envelope
    lights: dict[str, LightSetting]
    heat: dict[str, Setpoint]

    why: Fade = field(init=False)
    looks: dict[str, LightState] = field(init=False)
    """The whole look a setting asks for, where it names one (light, with its colour)."""

    def __post_init__(self) -> None:
        looks = {
            device: LightState(setting.brightness or 0.0, setting.kelvin)
            for device, setting in self.lights.items()
            if setting.on and setting.brightness and setting.kelvin is not None
        }
        object.__setattr__(self, "why", Fade(self.name))
        object.__setattr__(self, "looks", looks)


@dataclass(frozen=True, slots=True)
class _Active:
    layer: Layer
    weight: float
    fading: bool
    why: Fade


class Planner:
    """Pure planning for one configuration; it caches each day's schedule."""

    def __init__(self, cfg: CocoonConfig) -> None:
        self.cfg = cfg
        self.zone = cfg.home.zone
        self._days: dict[date, DayPlan] = {}
        self._layers: tuple[object, object, list[Layer]] = (None, None, [])
        self._boundaries: tuple[object, list[datetime]] = (None, [])

    def day(self, day: date) -> DayPlan:
        """The schedule of a local date (cached)."""
        plan = self._days.get(day)
        if plan is None:
            if len(self._days) > 16:
                self._days.clear()
            plan = self._days[day] = plan_day(self.cfg, day)
        return plan

    def local_date(self, now: datetime) -> date:
        """The home's calendar date at `now`."""
        return now.astimezone(self.zone).date()

    def layers(self, state: modes.RuntimeState) -> list[Layer]:
        """Every layer the state knows of, lowest priority first (cached per state)."""
        runs, calm, cached = self._layers
        # Transitions replace these dicts whenever they change anything, never mutate them.
        if runs is state.runs and calm is state.calm:
            return cached
        found = self._build_layers(state)
        self._layers = (state.runs, state.calm, found)
        return found

    def _build_layers(self, state: modes.RuntimeState) -> list[Layer]:
        cfg = self.cfg
        found: list[Layer] = []
        for run in state.runs.values():
            ritual = cfg.rituals.get(run.ritual)
            if run.missed or ritual is None:
                continue
            scene = cfg.scenes[ritual.scene]
            envelope = Envelope(run.start, run.end, ritual.fade, ritual.hand_back)
            found.append(Layer(f"ritual {run.ritual}", _RITUAL, envelope, scene.lights, scene.heat))
            for plant in run.cues:
                cue = cfg.plants[plant].cue
                if cue is None:
                    continue
                end = min(run.start + cue.duration, run.end)
                setting = LightSetting(brightness=cue.brightness, kelvin=cue.kelvin)
                cue_envelope = Envelope(run.start, end, cue.fade, cue.fade)
                found.append(
                    Layer(f"plant {plant} cue", _CUE, cue_envelope, {cue.light: setting}, {})
                )
        for calm in state.calm.values():
            mode = cfg.calm_modes.get(calm.mode)
            if mode is None:
                continue
            scene = cfg.scenes[mode.scene]
            envelope = Envelope(calm.start, calm.end, mode.fade, mode.hand_back)
            found.append(Layer(calm.mode, _CALM, envelope, scene.lights, scene.heat))
        found.sort(key=lambda layer: (layer.rank, layer.envelope.start))
        return found

    def desired(
        self, now: datetime, state: modes.RuntimeState, readings: Readings
    ) -> dict[str, Target]:
        """Every held device's target at `now`; a device missing is left alone."""
        now = now.astimezone(UTC)
        if state.paused_since is not None:
            return {}
        lights: dict[str, list[_Active]] = {}
        heat: dict[str, list[_Active]] = {}
        for layer in self.layers(state):
            envelope = layer.envelope
            if not envelope.holds(now):
                continue
            active = _Active(layer, envelope.weight(now), envelope.fading(now), layer.why)
            for device in layer.lights:
                lights.setdefault(device, []).append(active)
            for device in layer.heat:
                heat.setdefault(device, []).append(active)
        targets: dict[str, Target] = {}
        for device, entries in lights.items():
            light = self._light(device, entries, now, state, readings)
            if light is not None:
                targets[device] = light
        for device, entries in heat.items():
            climate = self._climate(device, entries, now, state, readings)
            if climate is not None:
                targets[device] = climate
        for device, hold in state.holds.items():
            if hold.releasing and hold.snapshot is not None:
                # Late, it glides from wherever the light is; else the fade-out is done.
                glide = self.cfg.settings.fade_step.total_seconds() if hold.late else 0.0
                targets[device] = LightTarget(device, hold.snapshot, _GIVEN_BACK, glide=glide)
            elif hold.releasing and hold.setpoint is not None:
                targets[device] = ClimateTarget(device, hold.setpoint, _GIVEN_BACK)
        return targets

    def _light(
        self,
        device: str,
        entries: list[_Active],
        now: datetime,
        state: modes.RuntimeState,
        readings: Readings,
    ) -> LightTarget | None:
        hold = state.holds.get(device, _NO_HOLD)
        kept = _overridden(hold, now) if hold.override is not None else frozenset()
        if modes.POWER in kept:
            return None
        value = hold.snapshot or readings.light(device)
        if value is None:
            return None
        top, below, fading = entries[-1], value, False
        for entry in entries:
            before = value
            look = entry.layer.looks.get(device) if entry.weight >= 1 else None
            value = look or blend(value, entry.layer.lights[device], entry.weight)
            fading = fading or entry.fading
            if entry.weight > 0:
                top, below = entry, before
        why = _why(top, below, device, now) if top.fading else top.why
        handover = hold.handover
        if handover is not None and (weight := handover.weight(now)) < 1:
            value = blend_states(handover.start, value, weight)
            fading = True
            why = Fade(f"{why.layer}, taking over again")
        return LightTarget(
            device,
            value,
            why,
            fading,
            keep_brightness=modes.BRIGHTNESS in kept,
            keep_kelvin=bool(kept & {modes.KELVIN, modes.COLOUR}),
        )

    def _climate(
        self,
        device: str,
        entries: list[_Active],
        now: datetime,
        state: modes.RuntimeState,
        readings: Readings,
    ) -> ClimateTarget | None:
        hold = state.holds.get(device, _NO_HOLD)
        if modes.SETPOINT in _overridden(hold, now):
            return None
        baseline = hold.setpoint if hold.setpoint is not None else readings.setpoint(device)
        wanted, why = baseline, Fade("back to how it was")
        for entry in reversed(entries):
            # A setpoint does not fade: it is handed back as soon as its layer ends.
            if entry.weight > 0 and now < entry.layer.envelope.end:
                wanted = entry.layer.heat[device].apply(baseline)
                why = Fade(entry.layer.name)
                break
        if wanted is None:
            return None
        config = self.cfg.devices[device]
        low, high = config.bounds
        clamped = min(high, max(low, round(wanted / config.step) * config.step))
        if clamped != round(wanted / config.step) * config.step:
            why = Fade(f"{why.layer} (held within {low:g}–{high:g})")
        return ClimateTarget(device, clamped, why)

    def advance(
        self,
        now: datetime,
        state: modes.RuntimeState,
        readings: Readings,
        since: datetime | None = None,
        unreached: frozenset[str] = frozenset(),
    ) -> tuple[modes.RuntimeState, list[str]]:
        """Move the state to `now`: start due rituals, drop what ran out, take snapshots.

        `since` is the instant the state was last moved to, when it is known: a window
        that opened and closed in between (a clock step, a suspend) is noted as missed.
        `unreached` are the devices cocoon cannot reach now: what they are to be given
        back waits for them.
        """
        now = now.astimezone(UTC)
        notes: list[str] = []
        state = self._update_plants(now, state, readings, notes)
        today = self.local_date(now)
        for day in (today - timedelta(days=1), today):
            for window in self.day(day).windows:
                run = state.runs.get(window.ritual)
                if run is not None and run.day >= window.day:
                    continue
                open_now = window.start <= now < window.end
                passed = since is not None and since < window.start and window.end <= now
                if not (open_now or passed):
                    continue
                state = self._start(
                    window.ritual, window.day, window.start, window.end, now, state, readings, notes
                )
        state, expired = modes.expire(self.cfg, state, now, readings)
        notes.extend(expired)
        return self._settle_holds(now, state, readings, unreached), notes

    def _start(
        self,
        ritual: str,
        day: date,
        start: datetime,
        end: datetime,
        now: datetime,
        state: modes.RuntimeState,
        readings: Readings,
        notes: list[str],
    ) -> modes.RuntimeState:
        """Start `ritual`'s window `start`-`end` at `now`: on time, late, joined or missed.

        The rule for a window cocoon did not see open (a first start, a restart, a clock
        step, a suspend): up to `settings.grace` late, a ritual runs late, its fade-in
        starting now. Later than that, a ritual with `until` (a window: evening, night) is
        joined where it stands: it is in force as if cocoon had started it on time, and
        its lights glide there from how they show, over `settings.resume_fade`, in fade
        steps; a fade-in still under way goes on from its current point. A ritual with
        `duration` (a cue: a 20-minute tea glow) and the plant cues it carries are about
        their moment: later than the grace, they are skipped for the day. A light changed
        by hand keeps its override either way.
        """
        late = now - start
        if end <= now or (
            late > self.cfg.settings.grace and self.cfg.rituals[ritual].until is None
        ):
            minutes = int(late.total_seconds() // 60)
            notes.append(
                f"ritual {ritual} missed by {minutes} min"
                f" (grace {format_duration(self.cfg.settings.grace)}): skipped today"
            )
            run = modes.RitualRun(ritual, day, start, end, missed=True)
            return modes.start_ritual(self.cfg, state, run, readings)
        if late > self.cfg.settings.grace:
            run = modes.RitualRun(ritual, day, start, end, joined=now)
            notes.append(
                f"ritual {ritual} joined where it stands: in force since"
                f" {start.astimezone(self.zone):%H:%M}, until {end.astimezone(self.zone):%H:%M}"
            )
            return modes.start_ritual(self.cfg, state, run, readings)
        cues = tuple(
            name
            for name, plant in self.cfg.plants.items()
            if plant.cue is not None
            and plant.cue.during == ritual
            and state.plants.get(name, PlantStatus()).needs_care
        )
        run = modes.RitualRun(ritual, day, self._resume_point(ritual, now, state), end, cues)
        extra = f", cue for {', '.join(cues)}" if cues else ""
        notes.append(f"ritual {ritual} started, until {end.astimezone(self.zone):%H:%M}{extra}")
        return modes.start_ritual(self.cfg, state, run, readings)

    def _resume_point(self, ritual: str, now: datetime, state: modes.RuntimeState) -> datetime:
        """Where a new run's fade-in starts: now, or earlier when the last run still shows.

        A run that is still fading out hands its weight on, so starting again never jumps.
        """
        config = self.cfg.rituals[ritual]
        previous = state.runs.get(ritual)
        if previous is None or previous.missed or config.fade <= timedelta(0):
            return now
        envelope = Envelope(previous.start, previous.end, config.fade, config.hand_back)
        return now - config.fade * envelope.weight(now)

    def press(
        self,
        name: str,
        now: datetime,
        state: modes.RuntimeState,
        readings: Readings,
        unreached: frozenset[str] = frozenset(),
    ) -> tuple[modes.RuntimeState, str]:
        """A button: a calm mode starts (or extends), a ritual starts now.

        `unreached` as for `advance`.
        """
        now = now.astimezone(UTC)
        if name in self.cfg.calm_modes:
            state, message = modes.press_calm(self.cfg, state, name, now)
        elif name in self.cfg.rituals:
            window = ritual_window(self.cfg, name, self.local_date(now))
            notes: list[str] = []
            state = self._start(
                name,
                self.local_date(now),
                now,
                now + (window.end - window.start),
                now,
                state,
                readings,
                notes,
            )
            message = f"{name} pressed: {notes[0]}"
        else:
            raise KeyError(name)
        return self._settle_holds(now, state, readings, unreached), message

    def _update_plants(
        self, now: datetime, state: modes.RuntimeState, readings: Readings, notes: list[str]
    ) -> modes.RuntimeState:
        statuses = {
            name: evaluate(self.cfg, plant, state.plants.get(name, PlantStatus()), readings, now)
            for name, plant in self.cfg.plants.items()
        }
        if statuses == state.plants:
            return state
        for name, status in statuses.items():
            if status != state.plants.get(name):
                notes.append(f"plant {name}: {status.describe()}")
        return replace(state, plants=statuses)

    def _settle_holds(
        self,
        now: datetime,
        state: modes.RuntimeState,
        readings: Readings,
        unreached: frozenset[str] = frozenset(),
    ) -> modes.RuntimeState:
        """Snapshot devices a layer has just taken; let go of those no layer holds any more.

        A device in `unreached` is let go only once it is back and has been given back.
        """
        held_lights: set[str] = set()
        held_heat: set[str] = set()
        under_way: set[str] = set()
        for layer in self.layers(state):
            if layer.envelope.holds(now):
                held_lights.update(layer.lights)
                held_heat.update(layer.heat)
                # Under way for longer than a device takes to answer (it is asked the
                # moment cocoon starts): a light reporting now was away, or cocoon joined.
                begun = layer.envelope.start < now - self.cfg.settings.fade_step
                if begun and layer.envelope.weight(now) > 0:
                    under_way.update(layer.lights)
        holds: dict[str, modes.Hold] = {}
        for device in held_lights | held_heat | set(state.holds):
            hold = state.holds.get(device, _NO_HOLD)
            if device in held_lights or device in held_heat:
                # A device that never reported has no snapshot yet: it is taken (and the
                # device driven) once it reports, so what is given back is what was there.
                if device in held_lights and hold.snapshot is None:
                    hold = replace(hold, snapshot=readings.light(device))
                    if hold.snapshot is not None and hold.override is None and device in under_way:
                        # Its first report comes after its layer got under way (a window
                        # joined, a light that was away): it glides from how it shows.
                        hold = replace(
                            hold,
                            handover=modes.Handover(
                                hold.snapshot, now, self.cfg.settings.resume_fade
                            ),
                        )
                if device in held_heat and hold.setpoint is None:
                    hold = replace(hold, setpoint=readings.setpoint(device))
                holds[device] = replace(hold, releasing=False) if hold.releasing else hold
            elif hold.override is not None and hold.override.until > now:
                holds[device] = modes.Hold(override=hold.override)
            elif device in unreached and (hold.snapshot or hold.setpoint is not None):
                # Away (its gateway is down, a command to it failed): giving back now would
                # send nothing, and letting go would lose it. Given back once it returns.
                holds[device] = modes.Hold(hold.snapshot, hold.setpoint, late=True)
            elif not hold.releasing and (hold.snapshot or hold.setpoint is not None):
                # Give the snapshot back once more, whatever instant this runs at, then let go.
                holds[device] = modes.Hold(
                    hold.snapshot, hold.setpoint, releasing=True, late=hold.late
                )
        if holds == state.holds:
            return state
        return replace(state, holds=holds)

    def next_boundary(self, now: datetime, state: modes.RuntimeState) -> datetime:
        """The next instant a layer changes course or a ritual is due (fade steps aside)."""
        now = now.astimezone(UTC)
        layers = self.layers(state)
        if self._boundaries[0] is not layers:
            found = sorted({b for layer in layers for b in layer.envelope.boundaries()})
            self._boundaries = (layers, found)
        marks = self._boundaries[1]
        candidates = marks[bisect.bisect_right(marks, now) :][:1]
        today = self.local_date(now)
        for day in (today, today + timedelta(days=1)):
            candidates.extend(w.start for w in self.day(day).windows if w.start > now)
        for hold in state.holds.values():
            if hold.releasing:
                candidates.append(now + MIN_STEP)
            if hold.override is not None:
                candidates.append(hold.override.until)
            if hold.handover is not None:
                candidates.append(hold.handover.at + hold.handover.fade)
        # With nothing due, the next local midnight: a stable instant to wake at.
        midnight = local_instant(today + timedelta(days=1), time(0), self.zone)
        return min((c for c in candidates if c > now), default=midnight)

    def next_wakeup(self, now: datetime, state: modes.RuntimeState, readings: Readings) -> datetime:
        """The next instant anything changes: a boundary, or the next step of a fade."""
        now = now.astimezone(UTC)
        fading = any(
            layer.lights and layer.envelope.fading(now) for layer in self.layers(state)
        ) or any(
            hold.handover is not None and hold.handover.weight(now) < 1
            for hold in state.holds.values()
        )
        # A plant sensor going silent turns the plant's status to stale.
        silent = [
            reading.at + plant.stale_after
            for reading in readings.sensors.values()
            for plant in self.cfg.plants.values()
            if reading.at + plant.stale_after > now
        ]
        boundary = min([self.next_boundary(now, state), *silent])
        if not fading or state.paused_since is not None:
            return boundary
        return self._fade_step(now, boundary, state, readings)

    def aims(
        self,
        targets: dict[str, Target],
        wake: datetime,
        state: modes.RuntimeState,
        readings: Readings,
    ) -> dict[str, Target]:
        """What to send now: a fading light aims at its look at the next step, `wake`.

        The command glides there over the time until `wake`, so a fade's first step
        leaves the moment it starts (a press shows at once) and the light is never a
        step behind. `next_wakeup` sizes steps so that look is at most one step away.
        """
        fading = [
            device
            for device, target in targets.items()
            if isinstance(target, LightTarget) and target.fading
        ]
        if not fading:
            return targets
        later = self.desired(wake, state, readings)
        aims = dict(targets)
        for device in fading:
            now_target, ahead = targets[device], later.get(device)
            if isinstance(ahead, LightTarget) and isinstance(now_target, LightTarget):
                # What a person holds at this instant stays theirs until the next step.
                aims[device] = replace(
                    ahead,
                    fading=True,
                    keep_brightness=now_target.keep_brightness,
                    keep_kelvin=now_target.keep_kelvin,
                )
        return aims

    def _fade_step(
        self, now: datetime, limit: datetime, state: modes.RuntimeState, readings: Readings
    ) -> datetime:
        """The furthest instant (up to one fade step) at which no light has moved too far."""
        current = self.desired(now, state, readings)
        step = min(limit - now, self.cfg.settings.fade_step)
        while step > MIN_STEP:
            if self.gentle(current, self.desired(now + step, state, readings)):
                break
            step = max(MIN_STEP, step / 2)
        return now + step

    def gentle(self, before: dict[str, Target], after: dict[str, Target]) -> bool:
        """Whether every light moves at most one brightness step and one colour step."""
        for device, target in after.items():
            previous = before.get(device)
            if not isinstance(target, LightTarget) or not isinstance(previous, LightTarget):
                continue
            if (
                abs(target.state.brightness - previous.state.brightness)
                > self.cfg.settings.max_step
            ):
                return False
            if _mired_jump(previous.state, target.state) > MIRED_STEP:
                return False
        return True


def _mired_jump(before: LightState, after: LightState) -> float:
    if before.kelvin is None or after.kelvin is None:
        return 0.0
    if min(before.brightness, after.brightness) < VISIBLE:
        return 0.0
    return abs(1e6 / after.kelvin - 1e6 / before.kelvin)


def _overridden(hold: modes.Hold, now: datetime) -> frozenset[str]:
    override = hold.override
    if override is None or override.until <= now:
        return frozenset()
    return override.attributes


def _why(top: _Active, below: LightState, device: str, now: datetime) -> Fade:
    if not top.fading:
        return top.why
    setting = top.layer.lights[device]
    goal = 0.0 if not setting.on else setting.brightness
    if goal is None:
        return Fade(top.layer.name)
    if now >= top.layer.envelope.end:
        return Fade(f"{top.layer.name} ending", goal, below.brightness)
    return Fade(top.layer.name, below.brightness, goal)
