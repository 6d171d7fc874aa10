"""One connection to Home Assistant for every home of a building.

Each home's `HomeAssistantGateway` reaches its entities through the hub's one link: the
hub hands each `state_changed` event to the home whose entity changed, a
`cocoon_trigger` event to the home its data names (`{name: calm_now, home: flat_07}`),
and what a new session read, a lost session and whether Home Assistant can be had to
every home. Whatever the hub hands to a home runs for that home (its log lines name it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from cocoon.adapters.ha_link import HomeAssistantLink
from cocoon.adapters.home_assistant import TRIGGER_EVENT, HomeAssistantGateway
from cocoon.config.schema import HomeAssistant
from cocoon.core.events import Event
from cocoon.errors import GatewayError
from cocoon.ports import for_home

_LOGGER = logging.getLogger(__name__)


class HomeAssistantHub:
    """The link to one Home Assistant, shared by the gateways of a building's homes."""

    def __init__(self, settings: HomeAssistant) -> None:
        self.link = HomeAssistantLink(
            settings,
            self._connection,
            events={"state_changed": self._state_changed, TRIGGER_EVENT: self._trigger},
            on_up=self._up,
            on_lost=self._lost,
        )
        self._homes: dict[str, HomeAssistantGateway] = {}
        self._by_entity: dict[str, str] = {}
        self._reading: set[asyncio.Task[None]] = set()
        self.pass_on: Callable[[str, dict[str, Any]], bool] = lambda home, event: False
        """Takes a `cocoon_trigger` event for a home before it is handed to the home (a
        fleet's workers pass each on as a press over MQTT); whether it did."""

    async def start(self) -> None:
        """Start connecting in the background."""
        await self.link.start()

    async def stop(self) -> None:
        """Close the connection and stop reconnecting."""
        for task in list(self._reading):
            task.cancel()
        await self.link.stop()

    def attach(self, home: str, gateway: HomeAssistantGateway) -> None:
        """Hand `home`'s entities to `gateway` from now on (in place of an earlier one).

        While Home Assistant is connected, the states are read again for it at once.
        """
        self.detach(home)
        self._homes[home] = gateway
        self._by_entity.update(dict.fromkeys(gateway.by_entity, home))
        if self.link.connected:
            task = asyncio.get_running_loop().create_task(self._read_states(home, gateway))
            self._reading.add(task)
            task.add_done_callback(self._reading.discard)

    def detach(self, home: str) -> HomeAssistantGateway | None:
        """Stop handing anything to `home`'s gateway; the gateway, if it had one."""
        gateway = self._homes.pop(home, None)
        if gateway is not None:
            for entity in gateway.by_entity:
                if self._by_entity.get(entity) == home:
                    del self._by_entity[entity]
        return gateway

    async def _read_states(self, home: str, gateway: HomeAssistantGateway) -> None:
        try:
            states = await self.link.request("get_states")
        except (GatewayError, TimeoutError) as exc:
            # The next session reads them anyway.
            _LOGGER.debug("Could not read the states for %s: %s", home, exc)
            return
        if self._homes.get(home) is gateway:
            for_home(home, gateway.up)([s for s in states or [] if isinstance(s, dict)])

    def _connection(self, event: Event) -> None:
        for home, gateway in list(self._homes.items()):
            for_home(home, gateway.submit)(event)

    def _up(self, states: list[dict[str, Any]]) -> None:
        for home, gateway in list(self._homes.items()):
            for_home(home, gateway.up)(states)

    def _lost(self) -> None:
        for home, gateway in list(self._homes.items()):
            for_home(home, gateway.lost)()

    def _state_changed(self, event: dict[str, Any]) -> None:
        entity = (event.get("data") or {}).get("entity_id")
        home = self._by_entity.get(entity) if isinstance(entity, str) else None
        if home is not None:
            for_home(home, self._homes[home].state_changed)(event)

    def _trigger(self, event: dict[str, Any]) -> None:
        home = (event.get("data") or {}).get("home")
        if isinstance(home, str) and self.pass_on(home, event):
            return
        if "" in self._homes:
            home = ""  # a home of its own: whatever the event names, it is this one
        if isinstance(home, str) and home in self._homes:
            for_home(home, self._homes[home].trigger)(event)
            return
        homes = ", ".join(sorted(self._homes)) or "none with Home Assistant"
        if home is None:
            _LOGGER.warning(
                "A %s event needs data {name: <calm mode or ritual>, home: <one of %s>}",
                TRIGGER_EVENT,
                homes,
            )
        else:
            _LOGGER.warning(
                "A %s event names home %r; the homes are %s", TRIGGER_EVENT, home, homes
            )
