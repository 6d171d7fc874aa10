"""The engine: one queue of events, one consumer, the core asked after each one.

Every event updates what cocoon knows (readings, people's intents); then the engine
moves the runtime state to now, asks the planner for targets, sends only the
differences, saves the state if it changed, publishes its status, and arms the
scheduler for the next instant anything changes. Reconciling again is always safe.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cocoon.config.schema import CocoonConfig
from cocoon.core import modes, reconcile
from cocoon.core.events import (
    Announce,
    Availability,
    Capability,
    ClimateReport,
    Connection,
    Event,
    LightReport,
    Press,
    Problem,
    SelectMode,
    SensorReport,
    SetHandsOff,
    Wake,
)
from cocoon.core.model import (
    OFF,
    Ability,
    ClimateAbility,
    ClimateCommand,
    ClimateReading,
    Command,
    Fade,
    LightAbility,
    LightCommand,
    LightReading,
    LightState,
    LightTarget,
    Readings,
    SensorReading,
    Target,
)
from cocoon.core.planner import Planner
from cocoon.core.plants import reading_key
from cocoon.core.status import Status, describe
from cocoon.errors import CocoonError
from cocoon.ports import Clock, DeviceGateway, Store
from cocoon.runtime.pacer import Pacer

_LOGGER = logging.getLogger(__name__)

# How long a sent command can still explain a report (its transition, plus slack).
SETTLE_SECONDS = 10.0
# Events applied before one reconcile, at most.
BATCH = 1000
# A sensor repeating its value is looked at again after this long.
REFRESH = timedelta(hours=1)
# A state that could not be saved is tried again after the first delay, doubling up to
# the second, for as long as it takes.
SAVE_RETRY = (timedelta(seconds=1), timedelta(minutes=1))
_STATE = "state"
"""The key of the state store's problem among the engine's problems."""


class Engine:
    """Applies events to the runtime state and drives the devices towards their targets."""

    def __init__(
        self,
        cfg: CocoonConfig,
        *,
        clock: Clock,
        store: Store,
        gateways: Sequence[DeviceGateway],
        arm: Callable[[datetime], None],
        on_status: Callable[[Status], None] | None = None,
        on_announce: Callable[[], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.planner = Planner(cfg)
        self.clock = clock
        self.store = store
        self.gateways = list(gateways)
        self.arm = arm
        self.on_status = on_status
        self.on_announce = on_announce
        self.state = modes.RuntimeState()
        self.readings = Readings({}, {})
        self.last: dict[str, Command] = {}
        self.targets: dict[str, Target] = {}
        self.status: Status | None = None
        self.problems: dict[str, str] = {}
        self.abilities: dict[str, Ability] = {}
        """What each device can show or hold, where its gateway said."""
        self._wake = self._now = clock.now()
        self._seen: datetime | None = None
        """The instant the state was last moved to (None until the first reconcile)."""
        self._plant_keys = _plant_keys(cfg)
        self._away: set[str] = set()
        """Devices a gateway said are offline or unavailable (only those come back online)."""
        self._settling = False
        self.driving = True
        """Whether commands go out (not while another cocoon drives the home)."""
        self._glide = 0.0
        """Seconds the next commands glide at least (after a reload)."""
        self._save_failures = 0
        self._retry_save: datetime | None = None
        self._unsaved_since: datetime | None = None
        self.handled = 0
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self._sent: dict[str, deque[tuple[float, Command]]] = {}
        self._pacer = Pacer(cfg.settings.rate_limit, self._dispatch)

    def start(self) -> None:
        """Load the saved state (people's intents survive a restart).

        What the configuration no longer names (it changed while cocoon was stopped) is
        dropped; a device held then cannot be reached to be given back, and is left as is.
        """
        loaded = self.store.load()
        self.state, orphans, notes = modes.reconfigure(self.cfg, self.cfg, loaded, self.clock.now())
        for note in notes:
            _LOGGER.info("%s", note)
        for device in orphans:
            _LOGGER.warning(
                "%s was held when cocoon stopped but is no longer configured: left as it is",
                device,
            )
        if self.state.calm or self.state.paused_since:
            _LOGGER.info(
                "Resuming: %s",
                ", ".join(
                    [
                        f"{name} until {self._clock(run.end)}"
                        for name, run in self.state.calm.items()
                    ]
                    + (["hands off"] if self.state.paused_since else [])
                ),
            )

    def submit(self, event: Event) -> None:
        """Queue an event (from the event loop's thread)."""
        self.queue.put_nowait(event)

    async def run(self) -> None:
        """Consume events forever; one bad event is logged, the engine lives on."""
        self.submit(Wake("start"))
        while True:
            # Everything that queued up meanwhile is applied first and reconciled once:
            # a burst of reports costs one plan, not one each.
            events = [await self.queue.get()]
            while not self.queue.empty() and len(events) < BATCH:
                events.append(self.queue.get_nowait())
            self.handle(*events)

    def handle(self, *events: Event) -> None:
        """Apply events, then reconcile once; a bad event is logged and the rest go on."""
        now = self.clock.now()
        changed = False
        if self._seen is not None and now < self._seen:
            # The wall clock was stepped back: what had started carries on where it was.
            self.state = modes.rewind(self.state, self._seen, now)
            self._seen = now
            changed = True
        for event in events:
            self.handled += 1
            try:
                changed = self._apply(event, now) or changed
            except Exception:
                _LOGGER.exception("Could not handle %s; carrying on", event)
        if not changed:
            return
        # What follows from a person's press goes out at once, whatever fade steps wait.
        urgent = any(isinstance(event, _PERSON) for event in events)
        try:
            self._reconcile(now, urgent=urgent)
        except Exception:
            _LOGGER.exception("Could not reconcile; carrying on")

    def drive(self, on: bool) -> None:
        """Send commands (as by default), or hold them back while another cocoon drives."""
        self.driving = on
        if not on:
            self._pacer.close()  # what waits to be sent is not this one's to send now
        else:
            # Whatever the other one did meanwhile, compare with what the devices say.
            self.last.clear()
            self.submit(Wake("driving again"))

    def stop(self) -> None:
        """Stop sending what the pacer still holds."""
        self._pacer.close()

    def reload(self, cfg: CocoonConfig, gateways: Sequence[DeviceGateway] | None = None) -> None:
        """Take a new configuration (and the gateways that go with it).

        What it no longer names is dropped from the state; a device it no longer has is
        given back first, through the gateways of the old one. Whatever the change, the
        commands that follow glide (`settings.fade_step`): an edited scene never jumps.
        """
        now = self.clock.now()
        old = self.cfg
        self.state, removed, notes = modes.reconfigure(old, cfg, self.state, now)
        for note in notes:
            _LOGGER.info("%s", note)
        for device, hold in removed.items():
            self._give_back_removed(old, device, hold, now)
        if gateways is not None:
            self.gateways = list(gateways)
        self.cfg = cfg
        self.planner = Planner(cfg)
        self._plant_keys = _plant_keys(cfg)
        self._pacer.rate = cfg.settings.rate_limit
        self.last = {k: v for k, v in self.last.items() if k in cfg.devices}
        self._glide = cfg.settings.fade_step.total_seconds()
        _LOGGER.info("Configuration reloaded")
        self.submit(Announce("configuration reloaded"))

    def _give_back_removed(
        self, old: CocoonConfig, device: str, hold: modes.Hold, now: datetime
    ) -> None:
        """Give a held device back as the configuration that knew it would have."""
        gone = f"{device} was removed from the configuration while cocoon held it"
        if hold.override is not None and now < hold.override.until:
            _LOGGER.info("%s: left as the person set it", gone)
            return
        glide = old.settings.fade_step.total_seconds()
        command: Command
        if hold.snapshot is not None:
            target = LightTarget(device, hold.snapshot, Fade("given back: no longer configured"))
            command = reconcile.light_command(old, target, glide)
        elif hold.setpoint is not None:
            command = ClimateCommand(device, hold.setpoint, "given back: no longer configured")
        else:
            _LOGGER.warning("%s, before it ever said how it was: left as it is", gone)
            return
        gateway = self._gateway(device)
        if not self.driving or gateway is None or not gateway.available(device):
            _LOGGER.warning("%s, and cannot be reached now: left as it is", gone)
            return
        try:
            gateway.send(command)
        except CocoonError as exc:
            _LOGGER.warning("%s, and could not be given back (%s): left as it is", gone, exc)
            return
        _LOGGER.info("%s: given back", gone)

    def _apply(self, event: Event, now: datetime) -> bool:
        """Take in one event; whether anything changed that a reconcile must look at."""
        match event:
            case Press(name=name):
                self._press(name, now)
            case SelectMode(mode=mode):
                self._select(mode, now)
            case SetHandsOff(on=on):
                if on:
                    self.state, message = modes.pause(self.state, now)
                else:
                    self.state, message = modes.resume(self.cfg, self.state, now, self.readings)
                _LOGGER.info("%s", message)
            case LightReport():
                if self.readings.light(event.device) == event.state and not event.by_hand:
                    return False  # the same again (a chatty device, a flood): nothing new
                self._light_report(event, now)
            case ClimateReport():
                known = self.readings.devices.get(event.device)
                same = ClimateReading(event.setpoint, event.current, now)
                if isinstance(known, ClimateReading) and replace(known, at=now) == same:
                    return False
                self._climate_report(event, now)
            case SensorReport(device=device, key=key, value=value):
                if (device, key) not in self._plant_keys:
                    return False  # a reading no plant looks at is not kept
                known_value = self.readings.sensors.get((device, key))
                sensors = dict(self.readings.sensors)
                sensors[(device, key)] = SensorReading(key, value, now)
                self.readings = replace(self.readings, sensors=sensors)
                # A repeated value only refreshes the reading's age; plants care about
                # that once it is old (a sensor going stale), not on every report.
                if known_value is not None and known_value.value == value:
                    return now - known_value.at > REFRESH
            case Availability(device=device, online=online):
                if online:
                    # Whatever it was told before it went away, tell it again.
                    self.last.pop(device, None)
                    if device in self._away:
                        self._away.discard(device)
                        _LOGGER.info("%s is back online", device)
                    else:
                        # Its first word (a gateway connecting): it was never away.
                        _LOGGER.debug("%s is online", device)
                else:
                    self._pacer.forget(device)
                    if device not in self._away:
                        self._away.add(device)
                        _LOGGER.info("%s is offline", device)
            case Capability(device=device, ability=ability):
                self.abilities[device] = ability
                _LOGGER.info("%s can show %s", device, _describe(ability))
            case Problem(subject=subject, detail=detail):
                if not detail:
                    if self.problems.pop(subject, None) is not None:
                        _LOGGER.info("%s: resolved", subject)
                elif self.problems.get(subject) != detail:
                    self.problems[subject] = detail
                    _LOGGER.warning("%s", detail)
            case Connection(service=service, connected=connected, detail=detail):
                if connected:
                    self.problems.pop(service, None)
                else:
                    since = self._clock(now)
                    what = detail or f"{service} unreachable"
                    self.problems.setdefault(service, f"{what} (since {since})")
                    if detail:
                        _LOGGER.warning("%s", detail)
            case Announce(reason=reason):
                _LOGGER.info("Announcing cocoon (%s)", reason)
                self.status = None
                if self.on_announce is not None:
                    self.on_announce()
            case Wake():
                pass
        return True

    def _press(self, name: str, now: datetime) -> None:
        if name not in self.cfg.calm_modes and name not in self.cfg.rituals:
            _LOGGER.warning("Press of unknown button %r ignored", name)
            return
        self.state, message = self.planner.press(
            name, now, self.state, self.readings, self._unreached()
        )
        _LOGGER.info("%s", message)

    def _select(self, mode: str, now: datetime) -> None:
        if mode == "off":
            for name in list(self.state.calm):
                self.state, message = modes.end_calm(self.state, name, now)
                _LOGGER.info("%s", message)
        elif mode not in self.state.calm or now >= self.state.calm[mode].end:
            self._press(mode, now)

    def _light_report(self, event: LightReport, now: datetime) -> None:
        devices = dict(self.readings.devices)
        devices[event.device] = LightReading(event.state, now)
        self.readings = replace(self.readings, devices=devices)
        if event.device not in self.state.holds or self.state.paused_since is not None:
            return
        changed = event.by_hand
        if changed is None:
            lights = [c for c in self._recent(event.device) if isinstance(c, LightCommand)]
            ability = self.abilities.get(event.device)
            changed = reconcile.manual_light_change(
                event.state, lights, ability if isinstance(ability, LightAbility) else None
            )
        if changed:
            self.state, message = modes.set_override(
                self.cfg, self.state, event.device, changed, now
            )
            _LOGGER.info("%s", message)

    def _climate_report(self, event: ClimateReport, now: datetime) -> None:
        devices = dict(self.readings.devices)
        devices[event.device] = ClimateReading(event.setpoint, event.current, now)
        self.readings = replace(self.readings, devices=devices)
        by_hand = event.by_hand
        if by_hand is None:
            recent = [c for c in self._recent(event.device) if isinstance(c, ClimateCommand)]
            ability = self.abilities.get(event.device)
            by_hand = reconcile.manual_setpoint_change(
                event.setpoint, recent, ability if isinstance(ability, ClimateAbility) else None
            )
        if event.device in self.state.holds and by_hand:
            changed = frozenset({modes.SETPOINT})
            self.state, message = modes.set_override(
                self.cfg, self.state, event.device, changed, now
            )
            _LOGGER.info("%s", message)

    def _reconcile(self, now: datetime, *, urgent: bool = False) -> None:
        self.state, notes = self.planner.advance(
            now, self.state, self.readings, self._seen, self._unreached()
        )
        for note in notes:
            _LOGGER.info("%s", note)
        self.targets = self.planner.desired(now, self.state, self.readings)
        wake = self.planner.next_wakeup(now, self.state, self.readings)
        aims = self.planner.aims(self.targets, wake, self.state, self.readings)
        commands = reconcile.commands(self.cfg, aims, self.last, self.readings, now, wake)
        if not self.driving:
            commands = []
        elif self._glide:
            # The first commands after a reload: whatever changed arrives as a glide.
            commands = [_gliding(command, self._glide) for command in commands]
            self._glide = 0.0
        for command in commands:
            gateway = self._gateway(command.device)
            if gateway is None or not gateway.available(command.device):
                continue
            self.last[command.device] = command
            self._pacer.submit(command, urgent=urgent)
        self._wake, self._now, self._seen = wake, now, now
        # Saving (two fsyncs), the status and the scheduler wait until the commands are
        # on their way: a gateway that sends from a task of its own goes first.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._settle()
            return
        if not self._settling:
            self._settling = True
            loop.call_soon(self._settle)

    def _settle(self) -> None:
        """Save the state, publish the status, arm the next wake-up: each whatever the others do.

        The home never waits on the disk: a save that fails is retried (the wake-up comes
        earlier for it) and shown as a problem until a save works again.
        """
        self._settling = False
        self._save()
        try:
            self._publish_status(self._now)
        except Exception:
            _LOGGER.exception("Could not publish the status; carrying on")
        wake = self._wake if self._retry_save is None else min(self._wake, self._retry_save)
        try:
            self.arm(wake)
        except Exception:
            _LOGGER.exception("Could not arm the next wake-up at %s; carrying on", wake)

    def _save(self) -> None:
        try:
            self.store.save(self.state)
        except Exception as exc:  # a full, read-only or vanished disk, or worse
            self._save_failures += 1
            delay = min(SAVE_RETRY[1], SAVE_RETRY[0] * 2 ** min(self._save_failures - 1, 16))
            self._retry_save = self._now + delay
            reason = _reason(exc)
            if self._unsaved_since is None:
                self._unsaved_since = self._now
                _LOGGER.warning(
                    "Could not save the state (%s); carrying on without it, retrying. Free "
                    "space on that disk, or point --state-dir at one cocoon can write",
                    reason,
                )
            else:
                _LOGGER.debug("Could not save the state again (%s)", reason)
            since = self._clock(self._unsaved_since)
            self.problems[_STATE] = f"state not saved: {reason} (since {since}), retrying"
            return
        if self._unsaved_since is not None:
            _LOGGER.info("The state is saved again")
            self.problems.pop(_STATE, None)
        self._save_failures, self._retry_save, self._unsaved_since = 0, None, None

    def _gateway(self, device: str) -> DeviceGateway | None:
        return next((g for g in self.gateways if g.reaches(device)), None)

    def _unreached(self) -> frozenset[str]:
        """Held devices whose gateway cannot reach them now (a command would be skipped)."""
        return frozenset(
            device
            for device in self.state.holds
            if (gateway := self._gateway(device)) is not None and not gateway.available(device)
        )

    def _dispatch(self, command: Command) -> None:
        gateway = self._gateway(command.device)
        if gateway is None:
            return
        sent = self._sent.setdefault(command.device, deque(maxlen=8))
        sent.append((time.monotonic(), command))
        _LOGGER.debug("%s → %s", command.device, command)
        gateway.send(command)
        self._expect(command)

    def _expect(self, command: Command) -> None:
        """Take a sent command's outcome for the device's reading until the device reports.

        A snapshot taken in between (a press right after a give-back) is then what cocoon
        has just given back, not the look the give-back replaces.
        """
        known = self.readings.devices.get(command.device)
        # What the device will show: a bulb clamps its colour, a valve rounds its setpoint.
        command = reconcile.shown(command, self.abilities.get(command.device))
        reading: LightReading | ClimateReading
        if isinstance(command, LightCommand) and isinstance(known, LightReading):
            state = OFF
            if command.on:
                brightness, colour = command.brightness, command.colour
                kelvin = None if command.kelvin is None else float(command.kelvin)
                if kelvin is None and colour is None:
                    kelvin, colour = known.state.kelvin, known.state.colour
                state = LightState(
                    known.state.brightness if brightness is None else brightness, kelvin, colour
                )
            reading = LightReading(state, self.clock.now())
        elif isinstance(command, ClimateCommand) and isinstance(known, ClimateReading):
            reading = replace(known, setpoint=command.setpoint, at=self.clock.now())
        else:
            return
        devices = {**self.readings.devices, command.device: reading}
        self.readings = replace(self.readings, devices=devices)

    def _recent(self, device: str) -> list[Command]:
        """The commands a report from `device` may still be answering (at least the last)."""
        sent = self._sent.get(device)
        if not sent:
            return []
        cutoff = time.monotonic() - SETTLE_SECONDS
        recent = [
            command
            for stamp, command in sent
            if stamp >= cutoff - (command.transition if isinstance(command, LightCommand) else 0)
        ]
        return recent or [sent[-1][1]]

    def _publish_status(self, now: datetime) -> None:
        status = describe(self.planner, now, self.state, self.targets)
        if self.problems:
            status = replace(status, problems=tuple(self.problems.values()))
        if self.on_status is not None and _visible(status) != _visible(self.status):
            self.on_status(status)
        self.status = status

    def _clock(self, moment: datetime) -> str:
        return moment.astimezone(self.cfg.home.zone).strftime("%H:%M")


def _gliding(command: Command, seconds: float) -> Command:
    if isinstance(command, LightCommand) and command.transition < seconds:
        return replace(command, transition=min(seconds, reconcile.MAX_TRANSITION))
    return command


def _reason(exc: Exception) -> str:
    """What went wrong with a file, in a few words: `No space left on device: /x/state.json`."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__


def _describe(ability: Ability) -> str:
    if isinstance(ability, ClimateAbility):
        low, high, step = ability.low, ability.high, ability.step
        span = "" if low is None or high is None else f" {low:g}–{high:g}"
        return f"setpoints{span}" + ("" if step is None else f" in steps of {step:g}")
    parts = ["dims" if ability.dims else "does not dim"]
    if ability.kelvin is not None:
        parts.append(f"{ability.kelvin[0]:.0f}–{ability.kelvin[1]:.0f} K")
    if ability.colour:
        parts.append("colours")
    return ", ".join(parts)


def _visible(status: Status | None) -> object:
    """What of a status is worth publishing again (everything but the instant)."""
    return None if status is None else replace(status, at=_EPOCH)


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_PERSON = (Press, SelectMode, SetHandsOff)


def _plant_keys(cfg: CocoonConfig) -> set[tuple[str, str]]:
    """Every (sensor, report key) a plant reads."""
    return {
        reading_key(cfg, kind, threshold)
        for plant in cfg.plants.values()
        for kind, threshold in plant.thresholds().items()
    }
