"""The demo's news feed: cocoon's decisions as they are logged, stamped with simulated time."""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from cocoon.ports import Clock

# The engine logs its decisions at INFO; these are bookkeeping, not decisions.
# What Zigbee2MQTT says each device can do ("… can show dims, 2200–6500 K") is learnt,
# not decided, and would push the first decisions off a small screen.
_CHATTER = ("Announcing cocoon", "is back online", "Configuration reloaded", " can show ")
_ENGINE = "cocoon.runtime"


class Feed(logging.Handler):
    """Collects decisions (and any warning) with the simulated time they were made at.

    Records come from the event loop and from paho's threads, hence the lock.
    """

    def __init__(
        self, clock: Clock, zone: ZoneInfo, keep: int = 7, names: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(logging.INFO)
        # The daemon logs configuration ids (`calm_now`); a newcomer reads the names
        # the rest of the view shows (`Calm now`). Longest first, whole words only.
        self._names = dict(names or {})
        ids = sorted(self._names, key=len, reverse=True)
        self._ids = re.compile(rf"\b({'|'.join(map(re.escape, ids))})\b") if ids else None
        self._clock = clock
        self._zone = zone
        self._lock = threading.Lock()
        self._latest: deque[str] = deque(maxlen=keep)
        self._unread: list[str] = []

    def note(self, text: str) -> None:
        """Add a line at the current simulated time."""
        if self._ids is not None:
            text = self._ids.sub(lambda match: self._names[match.group(1)], text)
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
