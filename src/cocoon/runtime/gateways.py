"""The device gateways of one configuration, asked as one: who reaches a device, who
can reach it now, sending a command through the one that does, and giving back a device
the configuration no longer has."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from cocoon.config.schema import CocoonConfig
from cocoon.core.model import Command
from cocoon.core.state import Hold
from cocoon.core.transitions import GiveBack, give_back_removed
from cocoon.errors import CocoonError
from cocoon.ports import DeviceGateway

_LOGGER = logging.getLogger(__name__)


class Gateways:
    """The gateways (Zigbee2MQTT, Home Assistant) that reach the configured devices."""

    def __init__(self, gateways: Sequence[DeviceGateway]) -> None:
        self._gateways = list(gateways)

    def replace(self, gateways: Sequence[DeviceGateway]) -> None:
        """Take the gateways of a new configuration."""
        self._gateways = list(gateways)

    def of(self, device: str) -> DeviceGateway | None:
        """The gateway that reaches `device`, if any does."""
        return next((g for g in self._gateways if g.reaches(device)), None)

    def reach(self, devices: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
        """Of `devices`, those a gateway cannot reach now, and those no gateway reaches."""
        away: set[str] = set()
        unreachable: set[str] = set()
        for device in devices:
            gateway = self.of(device)
            if gateway is None:
                unreachable.add(device)
            elif not gateway.available(device):
                away.add(device)
        return frozenset(away), frozenset(unreachable)

    def send(self, command: Command) -> None:
        """Send `command` through the gateway of its device (none: nothing is sent)."""
        gateway = self.of(command.device)
        if gateway is not None:
            _LOGGER.debug("%s → %s", command.device, command)
            gateway.send(command)

    def give_back(
        self,
        old: CocoonConfig,
        removed: Mapping[str, Hold],
        now: datetime,
        *,
        driving: bool,
        log: logging.Logger,
    ) -> None:
        """Give back each device of `old` the new configuration no longer has, if it can
        go (`driving`: this cocoon drives the home); `log` says how it went."""
        for device, hold in removed.items():
            self._give_back(device, give_back_removed(old, device, hold, now), driving, log)

    def _give_back(self, device: str, back: GiveBack, driving: bool, log: logging.Logger) -> None:
        if back.command is None:
            (log.warning if back.warn else log.info)("%s", back.note)
            return
        gone = f"{device} was removed from the configuration while cocoon held it"
        gateway = self.of(device)
        if not driving or gateway is None or not gateway.available(device):
            log.warning("%s, and cannot be reached now: left as it is", gone)
            return
        try:
            gateway.send(back.command)
        except CocoonError as exc:
            log.warning("%s, and could not be given back (%s): left as it is", gone, exc)
            return
        log.info("%s", back.note)
