"""Clocks: the wall clock, and a faster one for the demo."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current instant."""
        return datetime.now(UTC)

    def seconds_until(self, moment: datetime) -> float:
        """Real seconds until `moment`."""
        return (moment - self.now()).total_seconds()


class ScaledClock:
    """A clock that starts at `start` and runs `speed` times faster than real time."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> datetime:
        """The current instant on this clock."""
        return self.start + timedelta(seconds=(time.monotonic() - self._origin) * self.speed)

    def seconds_until(self, moment: datetime) -> float:
        """Real seconds until this clock shows `moment`."""
        return (moment - self.now()).total_seconds() / self.speed
