"""What cocoon tells Home Assistant over MQTT: its discovery, and its status.

An announcement publishes the discovery of the Cocoon device (and clears what an
earlier run announced and this configuration no longer has); the status follows as
retained state messages, each sent again only when it changed. Whoever learns that
Home Assistant must be told again (a connection, its birth message, a reload) calls
`announce`; announcements closer together than `ANNOUNCE_INTERVAL` are coalesced into
one at the end of the interval, never dropped. While another cocoon drives the home
(`drive(False)`), nothing is said.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from cocoon import installed_version
from cocoon.adapters.control import status_messages
from cocoon.adapters.discovery import discovery_messages, stale_discovery
from cocoon.adapters.topics import Topics
from cocoon.config.schema import CocoonConfig
from cocoon.core.status import Status
from cocoon.errors import BusError
from cocoon.ports import Message

_LOGGER = logging.getLogger(__name__)

# Announcements closer together than this are one: the later ones are coalesced into a
# single announcement at the end of the interval, of whatever is configured then.
ANNOUNCE_INTERVAL = 5.0
# Status changes within this many seconds go out as one.
STATUS_DELAY = 0.05


class Announcer:
    """Publishes the discovery and the status, and remembers what it announced."""

    def __init__(
        self,
        cfg: CocoonConfig,
        topics: Topics,
        publish: Callable[[Message], None],
        announced: Path,
        write: Callable[[Path, str], None],
    ) -> None:
        """`announced` keeps the discovery topics last announced, saved with `write`
        (one that leaves the old file or the new one, never half of either)."""
        self.cfg = cfg
        self.topics = topics
        self._publish = publish
        self._announced_file = announced
        self._write = write
        self._announced_list: list[str] | None = None
        self._announced = 0.0
        self._announce_timer: asyncio.TimerHandle | None = None
        self._status: Status | None = None
        self._status_timer: asyncio.TimerHandle | None = None
        self._published: dict[str, bytes] = {}
        self._quiet = False
        """Whether another cocoon drives the home (this one says nothing then)."""
        self._withdrawn = False

    def reload(self, cfg: CocoonConfig) -> None:
        """Take a new configuration: the next announcement and status follow it."""
        self.cfg = cfg

    def drive(self, on: bool) -> None:
        """Speak (as by default), or keep quiet while another cocoon drives the home."""
        self._quiet = not on

    def announce(self, reason: str) -> None:
        """Announce now, or once at the end of the interval when one went out just before.

        Never dropped: a broker that lost everything, a Home Assistant that restarted or
        a reload right after an announcement still get the current configuration. The
        status is told again in full as well.
        """
        _LOGGER.info("Announcing cocoon (%s)", reason)
        self._published.clear()
        wait = self._announced + ANNOUNCE_INTERVAL - time.monotonic()
        if not self._announced or wait <= 0:
            self._announce_now()
        elif self._announce_timer is None:
            loop = asyncio.get_running_loop()
            self._announce_timer = loop.call_later(wait, self._announce_now)
        if self._status is not None:
            self.tell(self._status)

    def tell(self, status: Status) -> None:
        """Publish a status, a moment later, and only what changed of it.

        A burst of events (a flood of sensor reports) changes the status many times in
        a row; only the latest is worth sending.
        """
        self._status = status
        if self._status_timer is None and not self._withdrawn:
            loop = asyncio.get_running_loop()
            self._status_timer = loop.call_later(STATUS_DELAY, self._flush_status)

    def stop(self) -> None:
        """Send the status still waiting; drop a coalesced announcement."""
        if self._status_timer is not None:
            self._status_timer.cancel()
            self._flush_status()
        if self._announce_timer is not None:
            self._announce_timer.cancel()

    def withdraw(self) -> None:
        """Take back everything announced (the home is no longer served here); say
        nothing more after."""
        self.stop()
        self._withdrawn = True
        for message in stale_discovery(self._announced_topics(), []):
            try:
                self._publish(message)
            except BusError as exc:
                _LOGGER.error("Could not withdraw %s: %s", message.topic, exc)  # noqa: TRY400
        self._remember_announced([])

    def _announce_now(self) -> None:
        self._announce_timer = None
        if self._quiet or self._withdrawn:
            return  # announced when this one drives again
        self._announced = time.monotonic()
        current = discovery_messages(self.cfg, self.topics, installed_version())
        for message in [*stale_discovery(self._announced_topics(), current), *current]:
            try:
                self._publish(message)
            except BusError as exc:
                _LOGGER.error("Could not announce on %s: %s", message.topic, exc)  # noqa: TRY400
        self._remember_announced([m.topic for m in current])

    def _announced_topics(self) -> list[str]:
        """The discovery topics announced last time (entities since removed are among them)."""
        if self._announced_list is not None:
            return self._announced_list
        try:
            topics = json.loads(self._announced_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [t for t in topics if isinstance(t, str)] if isinstance(topics, list) else []

    def _remember_announced(self, topics: list[str]) -> None:
        # Kept in memory as well: a disk that cannot be written loses nothing while cocoon
        # runs, and never leaves half a list behind.
        self._announced_list = topics
        try:
            self._write(self._announced_file, json.dumps(topics))
        except OSError as exc:
            _LOGGER.warning("Could not remember the announced entities: %s", exc)

    def _flush_status(self) -> None:
        self._status_timer = None
        if self._status is None or self._quiet:
            return
        for message in status_messages(self.cfg, self.topics, self._status):
            if self._published.get(message.topic) != message.payload:
                self._published[message.topic] = message.payload
                self._publish(message)
