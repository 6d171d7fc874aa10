"""Saving the runtime state so that the home never waits on the disk.

A save that fails (a full, read-only or vanished disk, or worse) is tried again after a
second, then less often, once a minute at most, for as long as it takes; meanwhile the
failure is a problem people see, until a save works again.

With a `Writer`, the saves of every home run on one thread of their own: a slow disk
(an SD card's fsync can take tens of milliseconds) never holds up the event loop, where
every home's presses are handled. Each home's newest state is written; one still waiting
when a newer comes is not written at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta, tzinfo

from cocoon.core import RuntimeState
from cocoon.ports import Store

_LOGGER = logging.getLogger(__name__)

SAVE_RETRY = (timedelta(seconds=1), timedelta(minutes=1))
"""The first delay before a failed save is tried again, and the longest (it doubles)."""


class Writer:
    """One thread that runs the saves given to it, in turn; the newest per key."""

    def __init__(self) -> None:
        self._jobs: dict[Hashable, Callable[[], None]] = {}
        self._busy = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, key: Hashable, job: Callable[[], None]) -> None:
        """Run `job` on the writer's thread (in place of a waiting one with the same key)."""
        with self._changed:
            self._jobs.pop(key, None)
            self._jobs[key] = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cocoon-writer", daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until every job given so far has run (at most `timeout` seconds); whether
        they all did. Those still waiting are said in the log."""
        with self._changed:
            done = self._changed.wait_for(lambda: not self._jobs and not self._busy, timeout)
            if not done:
                _LOGGER.warning(
                    "The disk is slow: %d state(s) not saved after %.0f s, left unsaved",
                    len(self._jobs) + self._busy,
                    timeout,
                )
            return done

    def _run(self) -> None:
        while True:
            with self._changed:
                self._busy = False
                self._changed.notify_all()
                self._changed.wait_for(lambda: bool(self._jobs))
                job = self._jobs.pop(next(iter(self._jobs)))
                self._busy = True
            try:
                job()
            except Exception:
                _LOGGER.exception("A save failed unexpectedly")


class Saver:
    """Saves the state to its store, and keeps track of saves that failed.

    With a `writer`, `save` only hands the state over: what came of it is known later,
    on the event loop, when `on_saved` is called (`problem` and `retry_at` are set then).
    """

    def __init__(
        self,
        store: Store,
        writer: Writer | None = None,
        on_saved: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self._writer = writer
        self._on_saved = on_saved
        self._failures = 0
        self.retry_at: datetime | None = None
        """When a failed save should be tried again (None while saves work)."""
        self._unsaved_since: datetime | None = None
        self.problem: str | None = None
        """What people should know while saves fail, in their words."""

    def save(self, state: RuntimeState, now: datetime, zone: tzinfo) -> None:
        """Save `state`; a failure is logged, shown as `problem` (its times in `zone`)
        and retried at `retry_at`."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None  # no event loop to tell the outcome on: saved here and now
        if self._writer is None or loop is None:
            self._outcome(self._try(state), now, zone)
            return
        on_saved = self._on_saved
        context = contextvars.copy_context()  # the outcome is the home's, as the save was

        def job() -> None:
            failure = self._try(state)
            # A loop that has ended (cocoon stops) has no one left to tell.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._told, failure, now, zone, on_saved, context=context)

        self._writer.submit(self, lambda: context.copy().run(job))

    def _try(self, state: RuntimeState) -> Exception | None:
        try:
            self.store.save(state)
        except Exception as exc:  # a full, read-only or vanished disk, or worse
            return exc
        return None

    def _told(
        self, exc: Exception | None, now: datetime, zone: tzinfo, on_saved: Callable[[], None]
    ) -> None:
        self._outcome(exc, now, zone)
        on_saved()

    def _outcome(self, exc: Exception | None, now: datetime, zone: tzinfo) -> None:
        if exc is not None:
            self._failures += 1
            delay = min(SAVE_RETRY[1], SAVE_RETRY[0] * 2 ** min(self._failures - 1, 16))
            self.retry_at = now + delay
            reason = _reason(exc)
            if self._unsaved_since is None:
                self._unsaved_since = now
                advice = (
                    ". Free space on that disk, or point --state-dir at one cocoon can write"
                    if isinstance(exc, OSError)
                    else ""
                )
                _LOGGER.warning(
                    "Could not save the state (%s); carrying on without it, retrying%s",
                    reason,
                    advice,
                )
            else:
                _LOGGER.debug("Could not save the state again (%s)", reason)
            since = self._unsaved_since.astimezone(zone).strftime("%H:%M")
            self.problem = f"state not saved: {reason} (since {since}), retrying"
        else:
            if self._unsaved_since is not None:
                _LOGGER.info("The state is saved again")
            self._failures, self.retry_at, self._unsaved_since = 0, None, None
            self.problem = None


def _reason(exc: Exception) -> str:
    """What went wrong with a file, in a few words: `No space left on device: /x/state.json`."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__
