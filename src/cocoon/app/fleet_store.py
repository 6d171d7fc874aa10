"""A fleet's homes in etcd: the keys, and a home's state kept there by its owner.

Under `/cocoon/<fleet>/` each worker keeps:

- `workers/<worker>`: who it is, bound to its lease (gone when the worker is);
- `owners/<home>`: the worker serving the home, bound to its lease, created only while
  absent, so a home has one owner at most; its create revision is the fencing token;
- `state/<home>`: the home's runtime state, written only in a transaction that compares
  that token, so only the owner writes it, and the next owner resumes it exactly.

The fence (`Fence`): a worker drives only until half its lease's time to live after it
sent the last renewal that succeeded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cocoon.core import RuntimeState
from cocoon.errors import CocoonError
from cocoon.runtime.store import decode, encode

if TYPE_CHECKING:
    from cocoon.adapters.etcd import Etcd

_LOGGER = logging.getLogger(__name__)

FENCE = 0.5
"""The part of the lease's time to live a worker drives for after a renewal was sent."""
SAVE_WAIT = 1.0
"""Seconds a save waits for etcd's answer beyond etcd's own deadline."""


class NotOwned(CocoonError):
    """A home's state was not written: this worker no longer owns the home."""


def uptime() -> float:
    """Seconds on a clock that never steps and keeps counting while the process is paused
    and while the machine is suspended (Linux's CLOCK_BOOTTIME; else the monotonic one)."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boottime) if boottime is not None else time.monotonic()


class Fence:
    """Whether this worker may drive now: until `FENCE` × the lease's time to live after
    the last renewal that succeeded was sent (on `uptime`, which keeps counting while
    the process is paused or the machine suspended)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = uptime) -> None:
        self.ttl = ttl
        self._clock = clock
        self.until = -math.inf

    def open(self) -> bool:
        """Whether a message may go out now."""
        return self._clock() < self.until

    def renewed(self, sent: float) -> None:
        """A renewal sent at `sent` succeeded."""
        self.until = max(self.until, sent + self.ttl * FENCE)

    def close(self) -> None:
        """Drive no more (the lease is gone)."""
        self.until = -math.inf


@dataclass(frozen=True, slots=True)
class Keys:
    """The keys of a fleet in etcd."""

    fleet: str

    @property
    def root(self) -> bytes:
        return f"/cocoon/{self.fleet}/".encode()

    @property
    def workers(self) -> bytes:
        return self.root + b"workers/"

    @property
    def owners(self) -> bytes:
        return self.root + b"owners/"

    def worker(self, name: str) -> bytes:
        return self.workers + name.encode()

    def owner(self, home: str) -> bytes:
        return self.owners + home.encode()

    def state(self, home: str) -> bytes:
        return self.root + b"state/" + home.encode()


class FleetStore:
    """A home's runtime state in etcd, written only while this worker owns the home.

    `load` gives what the claim read; `save` runs on the writer's thread and waits for
    the fenced transaction on the event loop.
    """

    def __init__(
        self,
        etcd: Etcd,
        keys: Keys,
        home: str,
        token: int,
        found: bytes | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.etcd = etcd
        self.keys = keys
        self.home = home
        self.token = token
        self._found = found
        self._loop = loop
        self.last: bytes | None = found
        """The state as last written (or read by the claim)."""
        self.released = False
        """The home was released: saves that still come write nothing."""

    def load(self) -> RuntimeState:
        """The state the claim read; an empty one when there was none or it is spoilt."""
        if self._found is None:
            return RuntimeState()
        try:
            return decode(json.loads(self._found.decode("utf-8")))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            _LOGGER.warning("The state kept in etcd could not be read (%s); starting afresh", exc)
            return RuntimeState()

    def payload(self, state: RuntimeState) -> bytes:
        """The state as it is kept in etcd."""
        return json.dumps(encode(state), separators=(",", ":")).encode()

    def save(self, state: RuntimeState) -> None:
        """Write the state if it changed and this worker still owns the home."""
        payload = self.payload(state)
        if payload == self.last or self.released:
            return
        keys = self.keys
        call = self.etcd.put_if_owner(
            keys.owner(self.home), self.token, keys.state(self.home), payload
        )
        wait = self.etcd.timeout + SAVE_WAIT
        if not asyncio.run_coroutine_threadsafe(call, self._loop).result(wait):
            if self.released:
                return
            raise NotOwned("this worker no longer owns the home")
        self.last = payload
