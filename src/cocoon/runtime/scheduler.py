"""When to wake the engine: one APScheduler date job, re-armed to the core's next instant.

The core computes every instant itself (with its DST rules); the scheduler only fires
at them. No cron triggers (APScheduler runs a 02:30 cron job twice on the autumn DST
night), and no polling while nothing changes. A wall clock that steps (an NTP
correction, a resume from suspend) is noticed by comparing it with the monotonic
clock, and the engine is woken to re-plan.
"""

from __future__ import annotations

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


class Scheduler:
    """Wakes the engine at the instant it asks for, and when the wall clock jumps."""

    def __init__(self, clock: Clock, submit: Callable[[Event], None]) -> None:
        self.clock = clock
        self.submit = submit
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._armed: datetime | None = None
        self._offset = time.time() - time.monotonic()

    def start(self) -> None:
        """Start the scheduler (inside the running event loop)."""
        self._scheduler.start()
        self._scheduler.add_job(
            self._check_clock, IntervalTrigger(seconds=CLOCK_CHECK.total_seconds()), id="clock"
        )

    def stop(self) -> None:
        """Stop firing."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    @property
    def armed(self) -> datetime | None:
        """The instant the next wake-up is armed for."""
        return self._armed

    def arm(self, moment: datetime) -> None:
        """Wake the engine at `moment` (on the engine's clock); replaces the previous one."""
        if moment == self._armed:
            return
        self._armed = moment
        if self._scheduler.get_job(JOB) is not None:
            self._scheduler.remove_job(JOB)
        delay = max(0.0, self.clock.seconds_until(moment))
        run_at = datetime.now(UTC) + timedelta(seconds=delay)
        # A late wake-up is still wanted: the core decides what is due, so no misfires.
        self._scheduler.add_job(
            self._fire,
            DateTrigger(run_date=run_at),
            id=JOB,
            misfire_grace_time=None,
            coalesce=True,
        )

    async def _fire(self) -> None:
        # A coroutine job runs on the event loop; a plain function would run in
        # APScheduler's thread pool, and the engine's queue is not thread-safe.
        self._armed = None
        self.submit(Wake())

    async def _check_clock(self) -> None:
        offset = time.time() - time.monotonic()
        jump = offset - self._offset
        self._offset = offset
        if abs(jump) > CLOCK_JUMP:
            _LOGGER.warning("The wall clock jumped by %+.0f s; re-planning", jump)
            self._armed = None
            self.submit(Wake("clock jumped"))
