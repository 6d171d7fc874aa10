"""Spreading what every home of a building must do at once (announce, ask its devices).

When the broker connection comes up, or Home Assistant restarts, every home must publish
its discovery and ask its devices how they are: for a building, thousands of messages at
one instant. The spreader runs such actions a few homes at a time: `BATCH` at once, the
next `BATCH` after `PAUSE`, in the order asked. An action asked again while it waits is
done once, as last asked. A home of its own is served at once, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable

BATCH = 10
"""Actions done at once."""
PAUSE = 0.1
"""Seconds between two batches."""


class Spreader:
    """Runs the actions it is asked for, at most `BATCH` every `PAUSE` seconds."""

    def __init__(self, batch: int = BATCH, pause: float = PAUSE) -> None:
        self.batch = batch
        self.pause = pause
        self._waiting: dict[Hashable, Callable[[], None]] = {}
        self._timer: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        """Actions not done yet."""
        return len(self._waiting)

    def ask(self, key: Hashable, action: Callable[[], None]) -> None:
        """Do `action` in its turn (in place of a waiting one with the same `key`)."""
        self._waiting.pop(key, None)
        self._waiting[key] = action
        if self._timer is None:
            self._run()

    def cancel(self, keep: Callable[[Hashable], bool]) -> None:
        """Drop the waiting actions whose key `keep` says no to."""
        self._waiting = {k: a for k, a in self._waiting.items() if keep(k)}

    def stop(self) -> None:
        """Drop whatever waits."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting.clear()

    def _run(self) -> None:
        self._timer = None
        for _ in range(min(self.batch, len(self._waiting))):
            key = next(iter(self._waiting))
            self._waiting.pop(key)()
        if self._waiting:
            self._timer = asyncio.get_running_loop().call_later(self.pause, self._run)
