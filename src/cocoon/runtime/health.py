"""How a home is doing, as its status shows it: the devices away, and what is wrong.

A gateway says when a device goes offline or comes back, a service (Zigbee2MQTT, Home
Assistant) when it cannot be reached, and either what else it finds wrong; saving the
state says when it fails. Each problem is kept by its subject until it is resolved, and
said in the log once, when it comes (and when it goes).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from cocoon.core.status import Status

STATE = "state"
"""The subject of the state store's problem."""


class Health:
    """The devices a gateway said are away, and the problems by subject."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self.problems: dict[str, str] = {}
        self._away: set[str] = set()
        """Devices a gateway said are offline or unavailable (only those come back online)."""

    def availability(self, device: str, online: bool) -> None:
        """A gateway says whether `device` is online."""
        if online:
            if device in self._away:
                self._away.discard(device)
                self._log.info("%s is back online", device)
            else:
                # Its first word (a gateway connecting): it was never away.
                self._log.debug("%s is online", device)
        elif device not in self._away:
            self._away.add(device)
            self._log.info("%s is offline", device)

    def problem(self, subject: str, detail: str) -> None:
        """What is wrong with `subject` (nothing: resolved)."""
        if not detail:
            if self.problems.pop(subject, None) is not None:
                self._log.info("%s: resolved", subject)
        elif self.problems.get(subject) != detail:
            self.problems[subject] = detail
            self._log.warning("%s", detail)

    def connection(self, service: str, connected: bool, detail: str, since: str) -> None:
        """Whether `service` is reachable; unreachable, the problem says `since` when."""
        if connected:
            self.problems.pop(service, None)
        else:
            what = detail or f"{service} unreachable"
            self.problems.setdefault(service, f"{what}, since {since}")
            if detail:
                self._log.warning("%s", detail)

    def saving(self, problem: str | None) -> None:
        """How saving the state goes: None when the last save worked."""
        if problem is None:
            self.problems.pop(STATE, None)
        else:
            self.problems[STATE] = problem

    def shown(self, status: Status) -> Status:
        """`status` with the problems in it."""
        if self.problems:
            return replace(status, problems=tuple(self.problems.values()))
        return status


def worth_telling(status: Status, told: Status | None) -> bool:
    """Whether `status` shows anything `told` did not (the instant aside)."""
    return _visible(status) != _visible(told)


def _visible(status: Status | None) -> object:
    """What of a status is worth publishing again (everything but the instant)."""
    return None if status is None else replace(status, at=_EPOCH)


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
