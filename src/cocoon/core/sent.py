"""What cocoon sent: one record, per device, of the commands sent and the instant of each.

The instants are the engine's clock (the demo's runs fast), never real time read here.
The record serves three things: the diff (what a device was last told), the settle
window (which commands a report may still be answering), and the readings cocoon
expects until a device reports (`reports.expect`).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from cocoon.core.model import Command, LightCommand

SETTLE = timedelta(seconds=10)
"""How long a sent command can still explain a report (after its transition)."""
KEPT = 8
"""Commands kept per device: more than a report can be late by."""


@dataclass(frozen=True, slots=True)
class Sending:
    """One command, and the instant it was sent."""

    command: Command
    at: datetime


@dataclass(frozen=True, slots=True)
class DeviceLog:
    """The last commands sent to one device, oldest first."""

    sendings: tuple[Sending, ...]
    told: bool = True
    """Whether the last command still stands for what the device was told; False once it
    may have forgotten (it came back online, another cocoon drove it meanwhile)."""


@dataclass(frozen=True, slots=True)
class Sent:
    """Everything cocoon sent recently, per device."""

    devices: Mapping[str, DeviceLog] = field(default_factory=dict)

    def told(self) -> dict[str, Command]:
        """What each device was last told, where that still stands."""
        return {
            device: log.sendings[-1].command
            for device, log in self.devices.items()
            if log.told and log.sendings
        }

    def answering(self, device: str, now: datetime) -> list[Command]:
        """The commands a report from `device` at `now` may still be answering.

        Those sent within `SETTLE` before `now` (a light's transition added to it), and
        at least the last one.
        """
        log = self.devices.get(device)
        if log is None or not log.sendings:
            return []
        cutoff = now - SETTLE
        recent = [
            sending.command
            for sending in log.sendings
            if sending.at >= cutoff - timedelta(seconds=_transition(sending.command))
        ]
        return recent or [log.sendings[-1].command]

    def add(self, commands: Iterable[Command], at: datetime) -> Sent:
        """The record with `commands` sent at `at`."""
        devices = dict(self.devices)
        for command in commands:
            log = devices.get(command.device)
            before = () if log is None else log.sendings
            devices[command.device] = DeviceLog((*before, Sending(command, at))[-KEPT:])
        return Sent(devices)

    def retell(self, devices: Iterable[str] | None = None) -> Sent:
        """The record with `devices` (all by default) to be told again what they should do.

        What was sent stays known: a report may still answer it.
        """
        names = self.devices.keys() if devices is None else set(devices)
        return Sent(
            {
                device: replace(log, told=False) if device in names else log
                for device, log in self.devices.items()
            }
        )

    def only(self, devices: Container[str]) -> Sent:
        """The record of `devices` alone (those a new configuration still has)."""
        return Sent({device: log for device, log in self.devices.items() if device in devices})


def _transition(command: Command) -> float:
    return command.transition if isinstance(command, LightCommand) else 0.0
