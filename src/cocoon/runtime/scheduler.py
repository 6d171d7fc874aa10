"""When to wake the engines: one APScheduler, a date job per engine re-armed to its next instant.

The core computes every instant itself (with its DST rules); the scheduler only fires
at them. No cron triggers (APScheduler runs a 02:30 cron job twice on the autumn DST
night), and no polling while nothing changes. A wall clock that steps (an NTP
correction, a resume from suspend) is noticed by comparing it with the monotonic
clock, and the engine is woken to re-plan.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from cocoon.core.events import Event, Wake
from cocoon.ports import Clock

_LOGGER = logging.getLogger(__name__)

JOB = "wake"
# How often the wall clock is compared with the monotonic one, and how far apart they
# may drift before it counts as a jump.
CLOCK_CHECK = timedelta(seconds=30)
CLOCK_JUMP = 2.0


class Alarm:
    """One engine's wake-up in a shared scheduler."""

    def __init__(self, scheduler: Scheduler, job: str, submit: Callable[[Event], None]) -> None:
        self._scheduler = scheduler
        self.job = job
        self.submit = submit
        self.armed: datetime | None = None
        """The instant the next wake-up is armed for."""
        self._cancelled = False

    def arm(self, moment: datetime) -> None:
        """Wake the engine at `moment` (on the engine's clock); replaces the previous one.
        A cancelled alarm is never armed again."""
        if moment == self.armed or self._cancelled:
            return
        self.armed = moment
        self._scheduler.place(self, moment)

    def cancel(self) -> None:
        """Wake no more (the engine is gone)."""
        self.armed = None
        self._cancelled = True
        self._scheduler.remove(self)

    async def fire(self) -> None:
        # A coroutine job runs on the event loop; a plain function would run in
        # APScheduler's thread pool, and the engine's queue is not thread-safe.
        self.armed = None
        self.submit(Wake())


class Scheduler:
    """Wakes each engine at the instant it asks for, and all when the wall clock jumps.

    One APScheduler for the process, one date job per engine (`alarm`); `submit`, when
    given, is the way of the scheduler's own alarm (`arm`): a process with one engine.
    """

    def __init__(self, clock: Clock, submit: Callable[[Event], None] | None = None) -> None:
        self.clock = clock
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._alarms: dict[str, Alarm] = {}
        self._offset = time.time() - time.monotonic()
        self._own = None if submit is None else self._add(Alarm(self, JOB, submit))

    def start(self) -> None:
        """Start the scheduler (inside the running event loop)."""
        self._scheduler.start()
        contextvars.Context().run(  # an empty context: no home's
            self._scheduler.add_job,
            self._check_clock,
            IntervalTrigger(seconds=CLOCK_CHECK.total_seconds()),
            id="clock",
        )

    def stop(self) -> None:
        """Stop firing."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def alarm(self, name: str, submit: Callable[[Event], None]) -> Alarm:
        """A wake-up of its own for the engine whose inbox is `submit`."""
        return self._add(Alarm(self, f"{JOB}:{name}", submit))

    def _add(self, alarm: Alarm) -> Alarm:
        self._alarms[alarm.job] = alarm
        return alarm

    @property
    def armed(self) -> datetime | None:
        """The instant the scheduler's own alarm is armed for."""
        return None if self._own is None else self._own.armed

    def arm(self, moment: datetime) -> None:
        """Arm the scheduler's own alarm for `moment`."""
        assert self._own is not None, "a scheduler built without `submit` has alarms only"
        self._own.arm(moment)

    def place(self, alarm: Alarm, moment: datetime) -> None:
        """(Re)place an alarm's job at `moment`."""
        delay = max(0.0, self.clock.seconds_until(moment))
        run_at = datetime.now(UTC) + timedelta(seconds=delay)
        # A late wake-up is still wanted: the core decides what is due, so no misfires.
        # APScheduler's timers run in the context of whoever adds a job: none of a home's.
        contextvars.Context().run(  # an empty context: no home's
            self._scheduler.add_job,
            alarm.fire,
            DateTrigger(run_date=run_at),
            id=alarm.job,
            misfire_grace_time=None,
            coalesce=True,
            replace_existing=True,
        )

    def remove(self, alarm: Alarm) -> None:
        """Take an alarm's job away, and the alarm."""
        self._alarms.pop(alarm.job, None)
        if self._scheduler.get_job(alarm.job) is not None:
            self._scheduler.remove_job(alarm.job)

    async def _check_clock(self) -> None:
        offset = time.time() - time.monotonic()
        jump = offset - self._offset
        self._offset = offset
        if abs(jump) > CLOCK_JUMP:
            _LOGGER.warning("The wall clock jumped by %+.0f s; re-planning", jump)
            for alarm in list(self._alarms.values()):
                alarm.armed = None
                alarm.submit(Wake("clock jumped"))
