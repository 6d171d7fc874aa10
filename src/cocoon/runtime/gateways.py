"""The device gateways of one configuration, asked as one: who reaches a device, who
can reach it now, and sending a command through the one that does."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from cocoon.core.model import Command
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
