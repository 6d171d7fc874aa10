"""The pacer by value: at most `rate` in any second on a clock the test moves, the newest
command per device, and a person's commands first."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cocoon.core.model import Command, LightCommand
from cocoon.runtime.pacer import Pacer


class Time:
    """A monotonic clock and timers that fire only when the test moves the clock."""

    def __init__(self) -> None:
        self.now = 100.0
        self.timers: list[tuple[float, Callable[[], None], asyncio.TimerHandle]] = []

    def later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        handle = asyncio.TimerHandle(self.now + delay, callback, (), _LOOP)
        self.timers.append((self.now + delay, callback, handle))
        return handle

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [t for t in self.timers if t[0] <= self.now and not t[2].cancelled()]
        self.timers = [t for t in self.timers if t not in due]
        for _, callback, _ in due:
            callback()


_LOOP = asyncio.new_event_loop()


def _step(device: str, brightness: float, reason: str = "ritual evening") -> Command:
    return LightCommand(device, True, brightness, 2200, 3.0, reason)


def _pacer(rate: float, burst: int) -> tuple[Pacer, Time, list[Command]]:
    sent: list[Command] = []
    time = Time()
    return Pacer(rate, sent.append, burst, clock=lambda: time.now, later=time.later), time, sent


def test_a_burst_goes_out_at_once_and_the_rest_at_the_rate() -> None:
    pacer, time, sent = _pacer(rate=2, burst=2)
    for n in range(5):
        pacer.submit(_step(f"light_{n}", 40))
    assert [c.device for c in sent] == ["light_0", "light_1"]
    time.advance(1.0)
    assert [c.device for c in sent][2:] == []  # two in this second already
    time.advance(0.1)  # and a little more (the guard)
    assert [c.device for c in sent][2:] == ["light_2", "light_3"]
    time.advance(1.1)
    assert [c.device for c in sent][4:] == ["light_4"]
    assert pacer.waiting == 0


def test_a_light_behind_gets_only_its_newest_step() -> None:
    pacer, time, sent = _pacer(rate=1, burst=1)
    pacer.submit(_step("sofa", 40))
    pacer.submit(_step("sofa", 42))
    pacer.submit(_step("sofa", 44))
    time.advance(1.1)
    assert [c.brightness for c in sent] == [40, 44]  # type: ignore[union-attr]


def test_a_persons_command_does_not_wait_behind_fade_steps() -> None:
    pacer, time, sent = _pacer(rate=10, burst=10)
    for n in range(16):  # a fade step for 16 lights: 10 go, 6 wait
        pacer.submit(_step(f"light_{n:02d}", 40))
    assert pacer.waiting == 6
    calm = [_step(f"calm_{n:02d}", 20, "calm_now") for n in range(12)]
    for command in calm:
        pacer.submit(command, urgent=True)
    assert sent[10:] == calm  # at once, the bucket empty or not
    assert pacer.waiting == 6
    # They count in this second: the fade steps wait for the next.
    time.advance(1.0)
    assert sent[22:] == []
    time.advance(0.1)
    assert [c.device for c in sent[22:]] == [f"light_{n:02d}" for n in range(10, 16)]
    assert pacer.waiting == 0


def test_a_newer_urgent_command_replaces_a_waiting_step_of_the_same_light() -> None:
    pacer, time, sent = _pacer(rate=1, burst=1)
    pacer.submit(_step("sofa", 40))
    pacer.submit(_step("desk", 40))
    pacer.submit(_step("desk", 20, "calm_now"), urgent=True)
    time.advance(3.0)
    assert [(c.device, c.brightness) for c in sent] == [  # type: ignore[union-attr]
        ("sofa", 40),
        ("desk", 20),
    ]


def test_homes_sharing_a_network_take_turns_and_stay_under_its_rate() -> None:
    """A flat with a hundred fade steps behind never holds up another flat's one."""
    time = Time()
    network = Pacer(2, burst=2, clock=lambda: time.now, later=time.later)
    sent: list[tuple[str, str]] = []
    busy = network.lane(lambda c: sent.append(("busy", c.device)))
    quiet = network.lane(lambda c: sent.append(("quiet", c.device)))
    for n in range(100):
        busy.submit(_step(f"light_{n:02d}", 40))
    quiet.submit(_step("lamp", 40))
    assert network.waiting == 99  # the first two that came went at once
    time.advance(1.1)
    # Turn about: the quiet flat's one waited for one of the busy flat's hundred.
    assert sent[2:] == [("busy", "light_02"), ("quiet", "lamp")]
    for _ in range(20):
        time.advance(1.1)
    # Never more than the rate.
    assert len(sent) == 2 + 2 + 2 * 20
    assert network.waiting == 100 - len([s for s in sent if s[0] == "busy"])


def test_no_second_ever_sees_more_than_the_rate() -> None:
    """Fade steps coming at any moment: every 1 s window holds `rate` of them at most."""
    time = Time()
    stamps: list[float] = []
    pacer = Pacer(
        10, lambda command: stamps.append(time.now), clock=lambda: time.now, later=time.later
    )
    for step in range(300):
        for n in range(7):
            pacer.submit(_step(f"light_{n}_{step % 3}", 40 + step % 50))
        time.advance(0.037)
    time.advance(10.0)
    assert len(stamps) > 100
    assert max(sum(1 for s in stamps if start <= s < start + 1.0) for start in stamps) == 10


def test_a_home_that_leaves_takes_what_it_held_back_with_it() -> None:
    time = Time()
    network = Pacer(1, burst=1, clock=lambda: time.now, later=time.later)
    sent: list[str] = []
    leaving = network.lane(lambda c: sent.append(f"leaving {c.device}"))
    staying = network.lane(lambda c: sent.append(f"staying {c.device}"))
    for device in ("a", "b", "c"):
        leaving.submit(_step(device, 40))
    staying.submit(_step("lamp", 40))
    network.remove(leaving)
    time.advance(5.0)
    assert sent == ["leaving a", "staying lamp"]


def test_a_command_that_cannot_go_holds_up_nothing_behind_it() -> None:
    time = Time()
    network = Pacer(1, burst=1, clock=lambda: time.now, later=time.later)
    sent: list[str] = []

    def broken(command: Command) -> None:
        raise ValueError("a topic the broker refuses")

    failing = network.lane(broken)
    working = network.lane(lambda c: sent.append(c.device))
    working.submit(_step("first", 40))
    failing.submit(_step("cursed", 40))
    working.submit(_step("lamp", 40))
    time.advance(1.1)  # the cursed one's turn: it fails, and is logged
    time.advance(1.1)
    assert sent == ["first", "lamp"]
