"""The engine's ports, faked: a clock that only moves when told, a gateway, a store."""

from __future__ import annotations

from datetime import datetime

from cocoon.core.model import Command
from cocoon.core.state import RuntimeState


class FakeClock:
    """A wall clock that moves only when a test moves it (forward, back, or far)."""

    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment

    def seconds_until(self, moment: datetime) -> float:
        return (moment - self.moment).total_seconds()


class FakeGateway:
    """Reaches every device; records what it is told to send; `offline` ones are away."""

    def __init__(self) -> None:
        self.sent: list[Command] = []
        self.offline: set[str] = set()

    def reaches(self, device: str) -> bool:
        return True

    def available(self, device: str) -> bool:
        return device not in self.offline

    def send(self, command: Command) -> None:
        self.sent.append(command)


class MemoryStore:
    """Keeps the state in memory, counting saves that changed it."""

    def __init__(self, state: RuntimeState | None = None) -> None:
        self.state = state or RuntimeState()
        self.saves = 0

    def load(self) -> RuntimeState:
        return self.state

    def save(self, state: RuntimeState) -> None:
        if state != self.state:
            self.saves += 1
        self.state = state
