"""Pacing of device commands: at most `rate` a second per network, the newest per device winning.

Zigbee networks choke on bursts; a light that is several fade steps behind only
needs the latest one. What a person asked for (a press, a mode) never waits: it is sent
at once, and the fade steps wait a little longer instead.

One `Pacer` paces one network (a Zigbee2MQTT base topic, or Home Assistant). Homes that
share the network each send through a `Lane` of its pacer; what waits is sent a lane at
a time in turn, so a home with a hundred fade steps behind never holds up another's one.

The limit is a sliding window, not a token bucket: no second ever sees more than `rate`
paced commands (a bucket that starts full lets `burst` plus a second's refill through
in the first second: twice the rate).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from cocoon.core.model import Command

_LOGGER = logging.getLogger(__name__)

Later = Callable[[float, Callable[[], None]], asyncio.TimerHandle]
"""Calls a function after so many seconds (the running loop's `call_later`)."""
Send = Callable[[Command], None]
GUARD = 0.05
"""How much longer than `burst / rate` the window is (50 ms at 10 a second): a network
that hears the commands a few milliseconds apart from how they left (one batch delivered
a little late, the next on time) still never hears more than the rate in a second."""


def _call_later(delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
    return asyncio.get_running_loop().call_later(delay, callback)


class Lane:
    """One home's way through a network's pacer."""

    def __init__(self, pacer: Pacer, send: Send) -> None:
        self._pacer = pacer
        self.send = send
        self.pending: dict[str, Command] = {}
        """The newest command held back for each device, oldest device first."""

    @property
    def waiting(self) -> int:
        """Commands of this lane held back for now."""
        return len(self.pending)

    def submit(self, command: Command, *, urgent: bool = False) -> None:
        """Send now if the network allows, else as soon as it does (replacing older ones).

        An `urgent` command (what a person asked for) is sent now, whatever waits: it takes
        its token all the same, and the fade steps behind it wait a little longer.
        """
        self._pacer.submit_from(self, command, urgent=urgent)

    def forget(self, device: str) -> None:
        """Drop a held-back command (the device went offline)."""
        self.pending.pop(device, None)

    def close(self) -> None:
        """Stop sending what this lane holds back."""
        self.pending.clear()


class Pacer:
    """Sends at most `burst` commands in any `burst / rate` seconds (and a little more,
    `GUARD`) on one network; by default `burst` is the rate, so: at most `rate` in any
    second.

    `clock` (seconds, monotonic) and `later` are the time it runs on, for tests to pass in.
    `send`, when given, is the way of the pacer's own lane (`submit`, `forget`, `close`):
    a network with one home.
    """

    def __init__(
        self,
        rate: float,
        send: Send | None = None,
        burst: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        later: Later = _call_later,
    ) -> None:
        self._burst = burst
        self.rate = rate
        self._clock = clock
        self._later = later
        self._sent: deque[float] = deque()
        """When each command of the current window was sent (monotonic seconds)."""
        self._lanes: list[Lane] = []
        self._turns: deque[Lane] = deque()
        """Lanes with commands waiting, in the order they are served."""
        self._timer: asyncio.TimerHandle | None = None
        self._own = self.lane(send) if send is not None else None

    @property
    def rate(self) -> float:
        """Commands a second at most."""
        return self._rate

    @rate.setter
    def rate(self, rate: float) -> None:
        self._rate = rate
        self.burst = self._burst if self._burst is not None else max(1, int(rate))

    def lane(self, send: Send) -> Lane:
        """A new lane, whose commands go out through `send`."""
        lane = Lane(self, send)
        self._lanes.append(lane)
        return lane

    def remove(self, lane: Lane) -> None:
        """Take a lane away (its home is gone), with what it holds back."""
        lane.close()
        if lane in self._lanes:
            self._lanes.remove(lane)

    @property
    def waiting(self) -> int:
        """Commands held back for now, in every lane."""
        return sum(lane.waiting for lane in self._lanes)

    def submit(self, command: Command, *, urgent: bool = False) -> None:
        """`Lane.submit` on the pacer's own lane."""
        assert self._own is not None, "a pacer built without `send` has lanes only"
        self._own.submit(command, urgent=urgent)

    def forget(self, device: str) -> None:
        """`Lane.forget` on the pacer's own lane."""
        if self._own is not None:
            self._own.forget(device)

    def close(self) -> None:
        """Stop sending what is held back, in every lane."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for lane in self._lanes:
            lane.close()
        self._turns.clear()

    def submit_from(self, lane: Lane, command: Command, *, urgent: bool) -> None:
        """Send a lane's command now, or hold it back until the bucket allows."""
        now = self._clock()
        self._slide(now)
        lane.forget(command.device)
        if urgent or (not self._turns and len(self._sent) < self.burst):
            # A person's command counts in the window too: the fade steps wait longer.
            self._sent.append(now)
            lane.send(command)
            return
        lane.pending[command.device] = command
        if lane not in self._turns:
            self._turns.append(lane)
        self._arm()

    @property
    def _window(self) -> float:
        return self.burst / self.rate * (1 + GUARD)

    def _slide(self, now: float) -> None:
        """Forget the sends that left the window."""
        while self._sent and now - self._sent[0] >= self._window:
            self._sent.popleft()

    def _arm(self) -> None:
        if self._timer is not None:
            return
        # Once enough of the window's sends have left it, one more may go.
        over = len(self._sent) - self.burst
        delay = 0.0 if over < 0 else max(0.0, self._sent[over] + self._window - self._clock())
        self._timer = self._later(delay, self._drain)

    def _drain(self) -> None:
        self._timer = None
        now = self._clock()
        self._slide(now)
        while self._turns and len(self._sent) < self.burst:
            lane = self._turns.popleft()
            if not lane.pending:
                continue  # closed or forgotten meanwhile
            self._sent.append(now)
            command = lane.pending.pop(next(iter(lane.pending)))
            try:
                lane.send(command)
            except Exception:
                # One that cannot go must not hold up the rest of the network.
                _LOGGER.exception("Could not send %s; carrying on", command)
            if lane.pending:
                self._turns.append(lane)
        if any(lane.pending for lane in self._turns):
            self._arm()
        else:
            self._turns.clear()


class Outbox:
    """One home's way out: each command through its lane of its device's network's pacer."""

    def __init__(self, pacer_of: Callable[[str], Pacer], send: Send) -> None:
        """`pacer_of` names the pacer of a device's network; `send` sends a command."""
        self._pacer_of = pacer_of
        self._send = send
        self._lanes: dict[Pacer, Lane] = {}

    @classmethod
    def alone(cls, pacer: Pacer, send: Send) -> Outbox:
        """A home with a network of its own, paced by `pacer`."""
        return cls(lambda device: pacer, send)

    def _lane(self, device: str) -> Lane:
        pacer = self._pacer_of(device)
        lane = self._lanes.get(pacer)
        if lane is None:
            lane = self._lanes[pacer] = pacer.lane(self._send)
        return lane

    def submit(self, command: Command, *, urgent: bool = False) -> None:
        """`Lane.submit` on the lane of the command's device."""
        self._lane(command.device).submit(command, urgent=urgent)

    def forget(self, device: str) -> None:
        """`Lane.forget` on the lane of `device`."""
        self._lane(device).forget(device)

    def close(self) -> None:
        """Stop sending what the home's lanes hold back."""
        for lane in self._lanes.values():
            lane.close()

    def leave(self) -> None:
        """Take the home's lanes away from their pacers (the home is no longer served)."""
        for pacer, lane in self._lanes.items():
            pacer.remove(lane)
        self._lanes.clear()
