"""Home Assistant as a gateway: cocoon's devices are its entities, driven by service calls.

States and `state_changed` events come in over the link (`adapters/ha_link.py`) and
become reports and availability; commands go out as `light.turn_on`,
`light.turn_off` and `climate.set_temperature` calls (`adapters/ha_mapping.py` says
how). A script or automation presses a button with the event `cocoon_trigger`.

Manual overrides: Home Assistant stamps every state change with the context of what
caused it, and answers each call with the context it gave the call. A change whose
context is not one of cocoon's own calls is a person's (a wall switch, the app,
another automation).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from cocoon.adapters.ha_link import HomeAssistantLink
from cocoon.adapters.ha_mapping import (
    UNAVAILABLE,
    changed_by_hand,
    climate_call,
    light_call,
    report,
)
from cocoon.adapters.plant_keys import STATE_KEY, kinds_by_key
from cocoon.config.schema import CocoonConfig
from cocoon.core.events import Availability, Event, Press
from cocoon.core.model import Attribute, ClimateCommand, Command, LightCommand
from cocoon.errors import GatewayError

_LOGGER = logging.getLogger(__name__)

TRIGGER_EVENT = "cocoon_trigger"
# Contexts of cocoon's own calls remembered, to tell its changes from a person's.
OWN_CONTEXTS = 512


class HomeAssistantGateway:
    """The gateway to cocoon's devices that are Home Assistant entities."""

    def __init__(
        self,
        cfg: CocoonConfig,
        submit: Callable[[Event], None],
        link: HomeAssistantLink | None = None,
    ) -> None:
        """Reaches Home Assistant through `link` (shared by a building's homes, see
        `HomeAssistantHub`), else through a link of its own."""
        if cfg.home_assistant is None:
            raise GatewayError("Home Assistant entities need a home_assistant: section")
        self.submit = submit
        self.devices = {name: d for name, d in cfg.devices.items() if d.entity is not None}
        self.kinds = kinds_by_key(cfg)
        """The plant readings each sensor's state carries."""
        self.by_entity = {d.entity: name for name, d in self.devices.items() if d.entity}
        self._own_link = link is None
        self.link = link or HomeAssistantLink(
            cfg.home_assistant,
            submit,
            events={"state_changed": self.state_changed, TRIGGER_EVENT: self.trigger},
            on_up=self.up,
            on_lost=self.lost,
        )
        self._states: dict[str, dict[str, Any]] = {}
        self._own: OrderedDict[str, None] = OrderedDict()
        self._in_flight: dict[str, int] = {}
        self._held: dict[str, list[dict[str, Any]]] = {}
        self._calls: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        """Whether a session with Home Assistant is up and its states were read."""
        return self.link.connected

    async def start(self) -> None:
        """Start connecting in the background; Home Assistant being down is not an error."""
        if self._own_link:
            await self.link.start()

    async def stop(self) -> None:
        """Close the connection (a link of its own), stop reconnecting, and drop the calls
        under way."""
        if self._own_link:
            await self.link.stop()
        for task in list(self._calls):
            task.cancel()

    # -- DeviceGateway ------------------------------------------------------------------

    def reaches(self, device: str) -> bool:
        """Whether `device` is a Home Assistant entity."""
        return device in self.devices

    def available(self, device: str) -> bool:
        """Connected, and the entity is not unavailable."""
        entity = self.devices[device].entity
        state = self._states.get(entity or "")
        return self.connected and state is not None and state.get("state") not in UNAVAILABLE

    def send(self, command: Command) -> None:
        """Call the service for `command`; calls to many entities run side by side."""
        task = asyncio.get_running_loop().create_task(self._send(command))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def _send(self, command: Command) -> None:
        entity = self.devices[command.device].entity or ""
        attributes = self._states.get(entity, {}).get("attributes", {})
        if isinstance(command, LightCommand):
            call = light_call(command, entity, attributes)
        elif isinstance(command, ClimateCommand):
            call = climate_call(command, entity, attributes)
        else:
            return
        self._in_flight[entity] = self._in_flight.get(entity, 0) + 1
        try:
            for attempt in (1, 2):
                try:
                    result = await self.link.request(
                        "call_service",
                        domain=call.domain,
                        service=call.service,
                        service_data=call.data,
                    )
                except (GatewayError, TimeoutError) as exc:
                    if self.connected and attempt == 1:
                        continue  # once more, right away
                    _LOGGER.warning(
                        "%s.%s for %s failed: %s", call.domain, call.service, entity, exc
                    )
                    if not self.connected:
                        # Sent again once Home Assistant is back: the engine forgets what
                        # it sent to a device that went away.
                        self.submit(Availability(command.device, online=False))
                    return
                self._remember(result)
                return
        finally:
            self._in_flight[entity] -= 1
            if not self._in_flight[entity]:
                for held in self._held.pop(entity, []):
                    self.state_changed(held)

    def _remember(self, result: Any) -> None:
        """Keep the context Home Assistant gave one of cocoon's calls."""
        context = (result or {}).get("context", {}).get("id")
        if isinstance(context, str):
            self._own[context] = None
            while len(self._own) > OWN_CONTEXTS:
                self._own.popitem(last=False)

    # -- the link's news ------------------------------------------------------------------

    def up(self, states: list[dict[str, Any]]) -> None:
        """A new session read every state: each entity of ours is as it says."""
        for entity_state in states:
            entity = entity_state.get("entity_id")
            if entity in self.by_entity:
                name = self.by_entity[entity]
                self._states[entity] = entity_state
                if entity_state.get("state") not in UNAVAILABLE:
                    # Whatever was sent while away is sent again (the engine forgets it).
                    self.submit(Availability(name, online=True))
                self._report(name, entity_state, frozenset())

    def lost(self) -> None:
        """A connected session ended: no entity can be driven until the next one."""
        for name in self.devices:
            self.submit(Availability(name, online=False))

    def state_changed(self, event: dict[str, Any]) -> None:
        """One `state_changed` event of Home Assistant's (of any entity)."""
        data = event.get("data") or {}
        entity = data.get("entity_id")
        new = data.get("new_state")
        if not isinstance(entity, str) or entity not in self.by_entity or not isinstance(new, dict):
            return
        name = self.by_entity[entity]
        if self._in_flight.get(entity):
            # cocoon's call may have caused this; its context is known once the call returns.
            self._held.setdefault(entity, []).append(event)
            return
        old = self._states.get(entity)
        self._states[entity] = new
        was_unavailable = old is None or old.get("state") in UNAVAILABLE
        if new.get("state") in UNAVAILABLE:
            if not was_unavailable:
                self.submit(Availability(name, online=False))
            return
        if was_unavailable:
            self.submit(Availability(name, online=True))
        context = (new.get("context") or event.get("context") or {}).get("id")
        ours = context in self._own
        by_hand = frozenset() if ours else changed_by_hand(self.devices[name], old, new)
        self._report(name, new, by_hand)

    def _report(
        self, name: str, entity_state: dict[str, Any], by_hand: frozenset[Attribute]
    ) -> None:
        for report_event in report(
            name,
            self.devices[name],
            entity_state,
            by_hand,
            self.kinds.get((name, STATE_KEY), frozenset()),
        ):
            self.submit(report_event)

    def trigger(self, event: dict[str, Any]) -> None:
        """A `cocoon_trigger` event: a button pressed by a script or an automation."""
        name = (event.get("data") or {}).get("name")
        if isinstance(name, str):
            self.submit(Press(name, source="home assistant"))
        else:
            _LOGGER.warning("A %s event needs data {name: <calm mode or ritual>}", TRIGGER_EVENT)
