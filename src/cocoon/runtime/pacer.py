"""Pacing of device commands: a token bucket, and the newest command per device wins.

Zigbee networks choke on bursts; a light that is several fade steps behind only
needs the latest one. What a person asked for (a press, a mode) never waits: it is sent
at once, and the fade steps wait a little longer instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from cocoon.core.model import Command

Later = Callable[[float, Callable[[], None]], asyncio.TimerHandle]
"""Calls a function after so many seconds (the running loop's `call_later`)."""


def _call_later(delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
    return asyncio.get_running_loop().call_later(delay, callback)


class Pacer:
    """Sends at most `rate` commands a second, in bursts of at most `burst`.

    `clock` (seconds, monotonic) and `later` are the time it runs on, for tests to pass in.
    """

    def __init__(
        self,
        rate: float,
        send: Callable[[Command], None],
        burst: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        later: Later = _call_later,
    ) -> None:
        self.rate = rate
        self.burst = float(burst if burst is not None else max(1, int(rate)))
        self._send = send
        self._clock = clock
        self._later = later
        self._tokens = self.burst
        self._stamp = clock()
        self._pending: dict[str, Command] = {}
        self._timer: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        """Commands held back for now."""
        return len(self._pending)

    def submit(self, command: Command, *, urgent: bool = False) -> None:
        """Send now if the bucket allows, else as soon as it does (replacing older ones).

        An `urgent` command (what a person asked for) is sent now, whatever waits: it takes
        its token all the same, and the fade steps behind it wait a little longer.
        """
        self._refill()
        self.forget(command.device)
        if urgent:
            self._tokens = max(-self.burst, self._tokens - 1)
            self._send(command)
            return
        if not self._pending and self._tokens >= 1:
            self._tokens -= 1
            self._send(command)
            return
        self._pending[command.device] = command
        self._arm()

    def forget(self, device: str) -> None:
        """Drop a held-back command (the device went offline)."""
        self._pending.pop(device, None)

    def close(self) -> None:
        """Stop sending what is held back."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def _arm(self) -> None:
        if self._timer is not None:
            return
        delay = max(0.0, (1 - self._tokens) / self.rate)
        self._timer = self._later(delay, self._drain)

    def _drain(self) -> None:
        self._timer = None
        self._refill()
        while self._pending and self._tokens >= 1:
            self._tokens -= 1
            self._send(self._pending.pop(next(iter(self._pending))))
        if self._pending:
            self._arm()
