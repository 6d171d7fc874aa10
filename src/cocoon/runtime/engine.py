"""The engine: one queue of events, one consumer, the core asked after each one.

Every event is handed to the core (`core.apply`); then the engine asks the core for one
step to now (`core.step`), sends the commands it returns, saves the state, publishes the
status, and arms the scheduler for the wake-up the step named. The engine decides
nothing itself: it keeps the core's values between steps and does the I/O. Stepping
again is always safe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from cocoon.config.schema import CocoonConfig
from cocoon.core import Planner, RuntimeState, Sent, apply, step
from cocoon.core.events import (
    Availability,
    Connection,
    Event,
    Press,
    Problem,
    SelectMode,
    SetHandsOff,
    Wake,
)
from cocoon.core.model import Readings, Target
from cocoon.core.status import Status, describe
from cocoon.core.transitions import reconfigure, rewind
from cocoon.ports import Clock, DeviceGateway, Store
from cocoon.runtime.gateways import Gateways
from cocoon.runtime.health import Health, worth_telling
from cocoon.runtime.pacer import Outbox, Pacer
from cocoon.runtime.saving import Saver, Writer

_LOGGER = logging.getLogger(__name__)

# Events applied before one reconcile, at most.
BATCH = 1000


class Engine:
    """Applies events to the runtime state and drives the devices towards their targets."""

    def __init__(
        self,
        cfg: CocoonConfig,
        *,
        clock: Clock,
        store: Store,
        gateways: Sequence[DeviceGateway] | Gateways,
        arm: Callable[[datetime], None],
        on_status: Callable[[Status], None] | None = None,
        inbox: asyncio.Queue[Event] | None = None,
        outbox: Outbox | None = None,
        writer: Writer | None = None,
    ) -> None:
        """`inbox` is the queue the engine consumes, made first when the producers of
        its events are built before it; `on_status` is told each new status. Commands go
        out through `outbox` (the lanes of the networks a building's homes share), else
        through a pacer of the engine's own, at `settings.rate_limit`. The state is saved
        on `writer`'s thread, else on the event loop."""
        self.cfg = cfg
        self.planner = Planner(cfg)
        self.clock = clock
        self.store = store
        self.gateways = gateways if isinstance(gateways, Gateways) else Gateways(gateways)
        self.arm = arm
        self.on_status = on_status
        self.state = RuntimeState()
        self.readings = Readings({}, {})
        self.sent = Sent()
        """What was sent to each device, and when (on `clock`)."""
        self.targets: dict[str, Target] = {}
        self.status: Status | None = None
        self.health = Health(_LOGGER)
        self._wake = self._now = clock.now()
        self._seen: datetime | None = None
        """The instant the state was last moved to (None until the first reconcile)."""
        self._settling = False
        self.driving = True
        """Whether commands go out (not while another cocoon drives the home)."""
        self._glide = 0.0
        """Seconds the next commands glide at least (after a reload)."""
        self._saver = Saver(store, writer, on_saved=self._tell_and_arm)
        self._stopped = False
        """Stopped, or the home left: nothing is told, armed or saved any more."""
        self.handled = 0
        self.queue: asyncio.Queue[Event] = asyncio.Queue() if inbox is None else inbox
        self._pacer: Pacer | None = None
        if outbox is None:
            self._pacer = Pacer(cfg.settings.rate_limit)
            outbox = Outbox.alone(self._pacer, self.gateways.send)
        self._outbox = outbox

    @property
    def problems(self) -> dict[str, str]:
        """What is wrong, by subject (`Health`)."""
        return self.health.problems

    def start(self) -> None:
        """Load the saved state (people's intents survive a restart).

        What the configuration no longer names (it changed while cocoon was stopped) is
        dropped; a device held then cannot be reached to be given back, and is left as is.
        """
        loaded = self.store.load()
        self.state, orphans, notes = reconfigure(self.cfg, self.cfg, loaded, self.clock.now())
        for note in notes:
            _LOGGER.info("%s", note)
        for device in orphans:
            _LOGGER.warning(
                "%s was held when cocoon stopped but is no longer configured: left as it is",
                device,
            )
        resuming = [f"{name} until {self._clock(run.end)}" for name, run in self.state.calm.items()]
        if self.state.paused_since:
            resuming.append("hands off")
        if resuming:
            _LOGGER.info("Resuming: %s", ", ".join(resuming))

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
            self.state = rewind(self.state, self._seen, now)
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
            self._outbox.close()  # what waits to be sent is not this one's to send now
        else:
            # Whatever the other one did meanwhile, compare with what the devices say.
            self.sent = self.sent.retell()
            self.submit(Wake("driving again"))

    def stop(self) -> None:
        """Stop sending what the pacer still holds, and telling and arming."""
        self._outbox.close()
        self._stopped = True

    def reload(self, cfg: CocoonConfig, gateways: Sequence[DeviceGateway] | None = None) -> None:
        """Take a new configuration (and, when given, the gateways that go with it).

        What it no longer names is dropped from the state; a device it no longer has is
        given back first, through the gateways of the old one. Whatever the change, the
        commands that follow glide (`settings.fade_step`): an edited scene never jumps.
        """
        now = self.clock.now()
        old = self.cfg
        self.state, removed, notes = reconfigure(old, cfg, self.state, now)
        for note in notes:
            _LOGGER.info("%s", note)
        self.gateways.give_back(old, removed, now, driving=self.driving, log=_LOGGER)
        if gateways is not None:
            self.gateways.replace(gateways)
        self.cfg = cfg
        self.planner = Planner(cfg)
        if self._pacer is not None:
            self._pacer.rate = cfg.settings.rate_limit
        self.sent = self.sent.only(cfg.devices)
        self._glide = cfg.settings.fade_step.total_seconds()
        self.status = None  # told again in full, as the new configuration words it
        _LOGGER.info("Configuration reloaded")
        self.submit(Wake("configuration reloaded"))

    def leave(self) -> None:
        """Give back every device held (the home is no longer served), and send no more."""
        now = self.clock.now()
        served = self.cfg
        nothing = served.model_copy(
            update={"devices": {}, "scenes": {}, "rituals": {}, "calm_modes": {}, "plants": {}}
        )
        self.state, removed, _ = reconfigure(served, nothing, self.state, now)
        self.gateways.give_back(served, removed, now, driving=self.driving, log=_LOGGER)
        # What was given back is not held any more, should the home come back one day.
        self._saver.save(self.state, now, served.home.zone)
        self.stop()
        self.driving = False

    def _apply(self, event: Event, now: datetime) -> bool:
        """Take in one event; whether anything changed that a step must look at."""
        match event:
            case Availability(device=device, online=online):
                if online:
                    # Whatever it was told before it went away, tell it again.
                    self.sent = self.sent.retell([device])
                else:
                    self._outbox.forget(device)
                self.health.availability(device, online)
            case Problem(subject=subject, detail=detail):
                self.health.problem(subject, detail)
            case Connection(service=service, connected=connected, detail=detail):
                self.health.connection(service, connected, detail, since=self._clock(now))
            case Wake():
                pass
            case _:
                applied = apply(self.planner, self.state, self.readings, self.sent, event, now)
                self.state, self.readings = applied.state, applied.readings
                for note in applied.notes:
                    _LOGGER.info("%s", note)
                if applied.warning is not None:
                    _LOGGER.warning("%s", applied.warning)
                return applied.changed
        return True

    def _reconcile(self, now: datetime, *, urgent: bool = False) -> None:
        away, unreachable = self.gateways.reach(self.cfg.devices)
        outcome = step(
            self.planner,
            self.state,
            self.readings,
            self.sent,
            now,
            since=self._seen,
            away=away,
            unreachable=unreachable,
            driving=self.driving,
            glide=self._glide,
        )
        for note in outcome.notes:
            _LOGGER.info("%s", note)
        self.state, self.targets, self.sent = outcome.state, outcome.targets, outcome.sent
        self.readings = outcome.readings
        if self.driving:
            self._glide = 0.0  # only the first commands after a reload glide
        # The record has them as sent at `now`: for a fade step the pacer holds back (a
        # burst over the rate limit), the settle window starts that much early.
        for command in outcome.commands:
            self._outbox.submit(command, urgent=urgent)
        self._wake, self._now, self._seen = outcome.wake, now, now
        # Saving, the status and the scheduler wait until the commands are on their way:
        # a gateway that sends from a task of its own goes first.
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
        if self._stopped:
            return
        self._saver.save(self.state, self._now, self.cfg.home.zone)
        self._tell_and_arm()  # again once a save on the writer's thread is done

    def _tell_and_arm(self) -> None:
        """Publish the status (with how saving goes) and arm the next wake-up."""
        if self._stopped:
            return
        self.health.saving(self._saver.problem)
        try:
            self._publish_status(self._now)
        except Exception:
            _LOGGER.exception("Could not publish the status; carrying on")
        retry = self._saver.retry_at
        wake = self._wake if retry is None else min(self._wake, retry)
        try:
            self.arm(wake)
        except Exception:
            _LOGGER.exception("Could not arm the next wake-up at %s; carrying on", wake)

    def _publish_status(self, now: datetime) -> None:
        status = self.health.shown(describe(self.planner, now, self.state, self.targets))
        if self.on_status is not None and worth_telling(status, self.status):
            self.on_status(status)
        self.status = status

    def _clock(self, moment: datetime) -> str:
        return moment.astimezone(self.cfg.home.zone).strftime("%H:%M")


_PERSON = (Press, SelectMode, SetHandsOff)
