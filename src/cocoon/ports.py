"""The interfaces the runtime needs from the world; adapters implement them."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, Protocol, TypeVar

from cocoon.core.events import Event
from cocoon.core.model import Command
from cocoon.core.state import RuntimeState


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message, outgoing or received: built by pure functions, sent by the link."""

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    expiry: int | None = None
    """Seconds after which the broker drops it undelivered (MQTT 5; ignored by 3.1.1)."""
    sender: str | None = None
    """Who sends it, said to the receivers (MQTT 5): a fleet's worker, for a home it owns."""

    @classmethod
    def text(cls, topic: str, payload: str, *, qos: int = 0, retain: bool = False) -> Message:
        """A message with a UTF-8 text payload."""
        return cls(topic, payload.encode(), qos, retain)


EventSink = Callable[[Event], None]
"""Hands an event to the engine; safe to call from the event loop's thread only."""


class Clock(Protocol):
    """Where the time comes from (the wall clock, or an accelerated one in the demo)."""

    def now(self) -> datetime:
        """The current instant, time-zone aware."""
        ...

    def seconds_until(self, moment: datetime) -> float:
        """Real seconds to wait until `moment` arrives on this clock."""
        ...


class Bus(Protocol):
    """An MQTT connection that publishes messages and reports what it receives."""

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up."""
        ...

    def publish(self, message: Message) -> None:
        """Send one message (queued by the client while disconnected, for QoS 1)."""
        ...


class DeviceGateway(Protocol):
    """Sends commands to the devices it reaches (Zigbee2MQTT, Home Assistant)."""

    def reaches(self, device: str) -> bool:
        """Whether `device` is one of this gateway's."""
        ...

    def available(self, device: str) -> bool:
        """Whether the device is online as far as the gateway knows."""
        ...

    def send(self, command: Command) -> None:
        """Send one command now (the runtime does the pacing)."""
        ...


class Store(Protocol):
    """Keeps the runtime state across restarts."""

    def load(self) -> RuntimeState:
        """The saved state, or an empty one."""
        ...

    def save(self, state: RuntimeState) -> None:
        """Save the state atomically."""
        ...


CURRENT_HOME: ContextVar[str] = ContextVar("cocoon_home", default="")
"""The id of the home the code runs for, in a building ("" for a home of its own): log
lines name it."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def for_home(home: str, function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function`, run for `home` (`CURRENT_HOME`) whoever calls it."""
    if not home:
        return function

    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        token = CURRENT_HOME.set(home)
        try:
            return function(*args, **kwargs)
        finally:
            CURRENT_HOME.reset(token)

    return run
