"""Spreading what every home of a building must do at once (announce, ask its devices).

When the broker connection comes up, or Home Assistant restarts, every home must publish
its discovery and ask its devices how they are: for a building, thousands of messages at
one instant. The spreader runs such actions a few homes at a time: `BATCH` at once, the
next `BATCH` after `PAUSE`, in the order asked. An action asked again while it waits is
done once, as last asked. A home of its own is served at once, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable

_LOGGER = logging.getLogger(__name__)

Later = Callable[[float, Callable[[], None]], asyncio.TimerHandle]


def _later(delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
    return asyncio.get_running_loop().call_later(delay, callback)


BATCH = 10
"""Actions done at once."""
PAUSE = 0.1
"""Seconds between two batches."""


class Spreader:
    """Runs the actions it is asked for, at most `BATCH` every `PAUSE` seconds."""

    def __init__(self, batch: int = BATCH, pause: float = PAUSE, *, later: Later = _later) -> None:
        """`later` calls a function after so many seconds (for tests to pass time in)."""
        self.batch = batch
        self.pause = pause
        self._later = later
        self._waiting: dict[Hashable, Callable[[], None]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._spent = 0
        """Actions done in the current window."""

    @property
    def waiting(self) -> int:
        """Actions not done yet."""
        return len(self._waiting)

    def ask(self, key: Hashable, action: Callable[[], None]) -> None:
        """Do `action` in its turn (in place of a waiting one with the same `key`)."""
        self._waiting.pop(key, None)
        self._waiting[key] = action
        self._serve()

    def cancel(self, keep: Callable[[Hashable], bool]) -> None:
        """Drop the waiting actions whose key `keep` says no to."""
        self._waiting = {k: a for k, a in self._waiting.items() if keep(k)}

    def stop(self) -> None:
        """Drop whatever waits."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting.clear()

    def _serve(self) -> None:
        """Do what waits, up to `batch` in this window of `pause` seconds."""
        while self._waiting and self._spent < self.batch:
            key = next(iter(self._waiting))
            self._spent += 1
            try:
                self._waiting.pop(key)()
            except Exception:
                # One home's failure must not hold up the others'.
                _LOGGER.exception("Could not do what a home waited for (%s); carrying on", key)
        if self._timer is None and self._spent:
            self._timer = self._later(self.pause, self._next_window)

    def _next_window(self) -> None:
        self._timer = None
        self._spent = 0
        self._serve()
