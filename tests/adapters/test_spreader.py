"""The spreader: a building's announcements a few homes at a time, in order, each once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cocoon.adapters.spreader import Spreader

_LOOP = asyncio.new_event_loop()


class Windows:
    """Timers that fire only when the test says the pause has passed."""

    def __init__(self) -> None:
        self.due: list[Callable[[], None]] = []

    def later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        self.due.append(callback)
        return asyncio.TimerHandle(delay, callback, (), _LOOP)

    def pass_one(self) -> None:
        due, self.due = self.due, []
        for callback in due:
            callback()


def test_a_few_at_once_the_rest_in_turns_each_key_done_once_as_last_asked() -> None:
    windows = Windows()
    spreader = Spreader(batch=2, pause=0.1, later=windows.later)
    done: list[str] = []
    for n in range(5):
        spreader.ask(("flat", n), lambda n=n: done.append(f"flat {n}"))
    spreader.ask(("flat", 4), lambda: done.append("flat 4, asked again"))
    assert done == ["flat 0", "flat 1"]  # the first batch at once
    windows.pass_one()
    assert done[2:] == ["flat 2", "flat 3"]
    windows.pass_one()
    assert done[4:] == ["flat 4, asked again"]
    windows.pass_one()
    assert not windows.due  # nothing waits: no timer either
    spreader.ask(("flat", 9), lambda: done.append("flat 9"))
    assert done[5:] == ["flat 9"]  # a quiet spreader does it at once


def test_what_waits_for_a_home_that_left_is_dropped() -> None:
    windows = Windows()
    spreader = Spreader(batch=1, pause=0.1, later=windows.later)
    done: list[str] = []
    for home in ("a", "b", "c"):
        spreader.ask((home, "announce"), lambda home=home: done.append(home))
    spreader.cancel(lambda key: key != ("b", "announce"))
    windows.pass_one()
    windows.pass_one()
    assert done == ["a", "c"]
