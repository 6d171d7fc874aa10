"""The demo's news feed: cocoon's decisions as they are logged, stamped with simulated time."""

from __future__ import annotations

import logging
import threading
from collections import deque
from zoneinfo import ZoneInfo

from cocoon.ports import Clock

# The engine logs its decisions at INFO; these are bookkeeping, not decisions.
_CHATTER = ("Announcing cocoon", "is back online", "Configuration reloaded")
_ENGINE = "cocoon.runtime"


class Feed(logging.Handler):
    """Collects decisions (and any warning) with the simulated time they were made at.

    Records come from the event loop and from paho's threads, hence the lock.
    """

    def __init__(self, clock: Clock, zone: ZoneInfo, keep: int = 7) -> None:
        super().__init__(logging.INFO)
        self._clock = clock
        self._zone = zone
        self._lock = threading.Lock()
        self._latest: deque[str] = deque(maxlen=keep)
        self._unread: list[str] = []

    def note(self, text: str) -> None:
        """Add a line at the current simulated time."""
        line = f"{self._clock.now().astimezone(self._zone):%H:%M}  {text}"
        with self._lock:
            self._latest.append(line)
            self._unread.append(line)

    def emit(self, record: logging.LogRecord) -> None:
        """Keep engine decisions at INFO and anything at WARNING or above."""
        try:
            message = record.getMessage()
            if record.levelno >= logging.WARNING:
                self.note(f"{record.levelname.lower()}: {message}")
            elif record.name.startswith(_ENGINE) and not any(c in message for c in _CHATTER):
                self.note(message)
        except Exception:
            self.handleError(record)

    def latest(self) -> tuple[str, ...]:
        """The latest lines, oldest first."""
        with self._lock:
            return tuple(self._latest)

    def unread(self) -> list[str]:
        """The lines added since the last call."""
        with self._lock:
            lines, self._unread = self._unread, []
            return lines
