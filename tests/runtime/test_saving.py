"""Saving on the writer's thread: the event loop never waits on the disk, the newest
state of each home is the one written, and how a save went is told on the loop."""

from __future__ import annotations

import asyncio
import errno
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from cocoon.core.state import RuntimeState
from cocoon.runtime.saving import Saver, Writer

NOW = datetime(2026, 11, 30, 20, tzinfo=UTC)


class SlowDisk:
    """A store whose first save hangs until the test lets it go; it can fail too."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.started = threading.Event()
        self.saved: list[RuntimeState] = []
        self.fail: OSError | None = None

    def load(self) -> RuntimeState:
        return RuntimeState()

    def save(self, state: RuntimeState) -> None:
        self.started.set()
        self.go.wait(10)
        if self.fail is not None:
            raise self.fail
        self.saved.append(state)


async def _until(check: Callable[[], bool]) -> None:
    """Wait until `check` holds (a liveness wait: it fails only after 10 s)."""
    for _ in range(1000):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("waited 10 s in vain")


def _state(minute: int) -> RuntimeState:
    return RuntimeState(paused_since=NOW.replace(minute=minute))


def test_the_loop_goes_on_while_a_save_hangs_and_the_newest_state_is_written() -> None:
    disk = SlowDisk()
    told: list[str | None] = []

    async def main() -> list[str]:
        saver = Saver(disk, Writer(), on_saved=lambda: told.append(saver.problem))
        done: list[str] = []
        for minute in (1, 2, 3, 4):
            saver.save(_state(minute), NOW, UTC)
            await _until(disk.started.is_set)
            done.append(f"handled {minute}")  # the loop runs on while the first hangs
        disk.go.set()
        await _until(lambda: len(told) >= 2)
        return done

    done = asyncio.run(main())
    assert done == ["handled 1", "handled 2", "handled 3", "handled 4"]
    # The first was on its way; of the three that waited behind it, only the newest.
    assert disk.saved == [_state(1), _state(4)]
    assert told == [None, None]


def test_a_failed_save_is_told_on_the_loop_as_a_problem_with_a_retry() -> None:
    disk = SlowDisk()
    disk.go.set()
    disk.fail = OSError(errno.ENOSPC, "No space left on device", "/state/state.json")
    seen: list[tuple[str | None, datetime | None, int]] = []

    async def main() -> None:
        loop_thread = threading.get_ident()

        def told() -> None:
            seen.append((saver.problem, saver.retry_at, threading.get_ident() - loop_thread))

        saver = Saver(disk, Writer(), on_saved=told)
        saver.save(_state(1), NOW, UTC)
        assert saver.problem is None  # not known yet: the disk is another thread's
        await _until(lambda: bool(seen))

    asyncio.run(main())
    [(problem, retry_at, other_thread)] = seen
    assert problem is not None
    assert problem.startswith("state not saved: No space left on device: /state/state.json")
    assert retry_at is not None
    assert retry_at > NOW
    assert other_thread == 0  # told on the event loop's thread
