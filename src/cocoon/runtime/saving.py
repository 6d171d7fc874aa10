"""Saving the runtime state so that the home never waits on the disk.

A save that fails (a full, read-only or vanished disk, or worse) is tried again after a
second, then less often, once a minute at most, for as long as it takes; meanwhile the
failure is a problem people see, until a save works again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, tzinfo

from cocoon.core import RuntimeState
from cocoon.ports import Store

_LOGGER = logging.getLogger(__name__)

SAVE_RETRY = (timedelta(seconds=1), timedelta(minutes=1))
"""The first delay before a failed save is tried again, and the longest (it doubles)."""


class Saver:
    """Saves the state to its store, and keeps track of saves that failed."""

    def __init__(self, store: Store) -> None:
        self.store = store
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
            self.store.save(state)
        except Exception as exc:  # a full, read-only or vanished disk, or worse
            self._failures += 1
            delay = min(SAVE_RETRY[1], SAVE_RETRY[0] * 2 ** min(self._failures - 1, 16))
            self.retry_at = now + delay
            reason = _reason(exc)
            if self._unsaved_since is None:
                self._unsaved_since = now
                _LOGGER.warning(
                    "Could not save the state (%s); carrying on without it, retrying. Free "
                    "space on that disk, or point --state-dir at one cocoon can write",
                    reason,
                )
            else:
                _LOGGER.debug("Could not save the state again (%s)", reason)
            since = self._unsaved_since.astimezone(zone).strftime("%H:%M")
            self.problem = f"state not saved: {reason} (since {since}), retrying"
            return
        if self._unsaved_since is not None:
            _LOGGER.info("The state is saved again")
        self._failures, self.retry_at, self._unsaved_since, self.problem = 0, None, None, None


def _reason(exc: Exception) -> str:
    """What went wrong with a file, in a few words: `No space left on device: /x/state.json`."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__
