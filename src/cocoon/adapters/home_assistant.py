"""Home Assistant over its websocket API: states and events in, service calls out.

homeassistant-api opens the connection and authenticates. Its client reads the socket
only while a caller waits for one particular answer, so a daemon that must hear every
`state_changed` while calls are under way reads with one task of its own and hands
each message to whoever waits for it (the library's own send/receive bookkeeping
would also keep every message id forever). cocoon owns the reconnect loop, with
backoff, and a heartbeat: the library has neither.

Manual overrides: Home Assistant stamps every state change with the context of what
caused it. A change whose context is not one of cocoon's own calls is a person's
(a wall switch, the app, another automation).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from homeassistant_api import AsyncWebsocketClient
from homeassistant_api.errors import UnauthorizedError

from cocoon.adapters.ha_mapping import (
    UNAVAILABLE,
    changed_by_hand,
    climate_call,
    light_call,
    report,
)
from cocoon.config.schema import CocoonConfig
from cocoon.config.schema import HomeAssistant as HomeAssistantSettings
from cocoon.core.events import Availability, Connection, Event, Press
from cocoon.core.model import ClimateCommand, Command, LightCommand
from cocoon.errors import GatewayError

_LOGGER = logging.getLogger(__name__)

SERVICE = "Home Assistant"
TRIGGER_EVENT = "cocoon_trigger"
PING_EVERY = 30.0
# Reconnect delays, first and longest: retries at most 5 s apart, so cocoon is back (and
# has sent what it owes) within 10 s of Home Assistant's return.
BACKOFF = (1.0, 5.0)
# Contexts of cocoon's own calls remembered, to tell its changes from a person's.
OWN_CONTEXTS = 512


class HomeAssistantGateway:
    """cocoon's connection to Home Assistant, and the gateway to its entities."""

    def __init__(self, cfg: CocoonConfig, submit: Callable[[Event], None]) -> None:
        if cfg.home_assistant is None:
            raise GatewayError("Home Assistant entities need a home_assistant: section")
        self.settings = cfg.home_assistant
        self.submit = submit
        self.devices = {name: d for name, d in cfg.devices.items() if d.entity is not None}
        self.by_entity = {d.entity: name for name, d in self.devices.items() if d.entity}
        self.connected = False
        self._states: dict[str, dict[str, Any]] = {}
        self._client: AsyncWebsocketClient | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._subscriptions: dict[int, Callable[[dict[str, Any]], None]] = {}
        self._own: OrderedDict[str, None] = OrderedDict()
        self._in_flight: dict[str, int] = {}
        self._held: dict[str, list[dict[str, Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._calls: set[asyncio.Task[None]] = set()

    @property
    def _timeout(self) -> float:
        return self.settings.timeout.total_seconds()

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
                    result = await self._request(
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
                    self._state_changed(held)

    def _remember(self, result: Any) -> None:
        context = (result or {}).get("context", {}).get("id")
        if isinstance(context, str):
            self._own[context] = None
            while len(self._own) > OWN_CONTEXTS:
                self._own.popitem(last=False)

    # -- connection -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting in the background; Home Assistant being down is not an error."""
        self._task = asyncio.create_task(self._run(), name="home-assistant")

    async def stop(self) -> None:
        """Close the connection and stop reconnecting."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._calls):
            task.cancel()

    async def _run(self) -> None:
        delay = BACKOFF[0]
        told = False
        while True:
            detail = "the connection ended"
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of a session means: reconnect
                detail = describe_failure(exc, self.settings.url)
            if self._lost():
                # A session that got connected: its loss is news, and the backoff starts
                # afresh (else each restart of Home Assistant would wait longer than the last).
                delay, told = BACKOFF[0], False
            if not told:
                self.submit(Connection(SERVICE, False, detail))
                told = True
            _LOGGER.debug("Home Assistant session ended: %s", detail)
            await asyncio.sleep(delay)
            delay = min(BACKOFF[1], delay * 2)

    async def _session(self) -> None:
        client = AsyncWebsocketClient(f"{self.settings.url}/api/websocket", self._token())
        try:
            await asyncio.wait_for(client.__aenter__(), self._timeout)
        except BaseException:
            # A refused token fails after the socket and its HTTP session were opened.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.__aexit__(None, None, None), 2)
            raise
        self._client = client
        reader = asyncio.create_task(self._read(client))
        try:
            await self._wait_until_running(reader)
            await self._subscribe("state_changed", self._state_changed)
            await self._subscribe(TRIGGER_EVENT, self._trigger)
            states = await self._request("get_states")
            self.connected = True
            for entity_state in states or []:
                entity = entity_state.get("entity_id")
                if entity in self.by_entity:
                    name = self.by_entity[entity]
                    self._states[entity] = entity_state
                    if entity_state.get("state") not in UNAVAILABLE:
                        # Whatever was sent while away is sent again (the engine forgets it).
                        self.submit(Availability(name, online=True))
                    self._report(name, entity_state, frozenset())
            _LOGGER.info("Connected to Home Assistant at %s", self.settings.url)
            self.submit(Connection(SERVICE, True))
            while not reader.done():
                await asyncio.wait({reader}, timeout=PING_EVERY)
                if not reader.done():
                    await self._request("ping")
            reader.result()
        finally:
            reader.cancel()
            self._client = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.__aexit__(None, None, None), 2)

    async def _wait_until_running(self, reader: asyncio.Task[None]) -> None:
        # After a restart Home Assistant answers before its integrations are set up.
        while not reader.done():
            config = await self._request("get_config")
            if (config or {}).get("state") == "RUNNING":
                return
            await asyncio.sleep(0.5)

    def _token(self) -> str:
        return self.settings.token.get_secret_value()

    def _lost(self) -> bool:
        """Fail what waits for an answer; whether the session had been connected."""
        was = self.connected
        self.connected = False
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(GatewayError("the connection to Home Assistant was lost"))
        self._waiting.clear()
        self._subscriptions.clear()
        if was:
            _LOGGER.warning("Lost the connection to Home Assistant; reconnecting")
            for name in self.devices:
                self.submit(Availability(name, online=False))
        return was

    async def _read(self, client: AsyncWebsocketClient) -> None:
        while True:
            message = await client._async_recv()  # the library reads per request; see above
            kind = message.get("type")
            ident = message.get("id")
            if kind == "event" and ident in self._subscriptions:
                self._subscriptions[ident](message.get("event") or {})
            elif kind in ("result", "pong") and ident in self._waiting:
                future = self._waiting.pop(ident)
                if future.done():
                    continue
                if kind == "result" and not message.get("success"):
                    error = message.get("error") or {}
                    future.set_exception(GatewayError(str(error.get("message", error))))
                else:
                    future.set_result(message.get("result"))

    async def _request(
        self,
        kind: str,
        events: Callable[[dict[str, Any]], None] | None = None,
        **data: Any,
    ) -> Any:
        client = self._client
        if client is None:
            raise GatewayError("not connected to Home Assistant")
        # Ids must keep increasing on a connection, from where the library's own left off.
        ident = client._request_id()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        if events is not None:
            self._subscriptions[ident] = events
        await client._async_send({"id": ident, "type": kind, **data})
        try:
            return await asyncio.wait_for(future, self._timeout)
        finally:
            self._waiting.pop(ident, None)

    async def _subscribe(self, event_type: str, handler: Callable[[dict[str, Any]], None]) -> None:
        await self._request("subscribe_events", events=handler, event_type=event_type)

    # -- events ---------------------------------------------------------------------------

    def _state_changed(self, event: dict[str, Any]) -> None:
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

    def _report(self, name: str, entity_state: dict[str, Any], by_hand: frozenset[str]) -> None:
        for report_event in report(name, self.devices[name], entity_state, by_hand):
            self.submit(report_event)

    def _trigger(self, event: dict[str, Any]) -> None:
        name = (event.get("data") or {}).get("name")
        if isinstance(name, str):
            self.submit(Press(name, source="home assistant"))
        else:
            _LOGGER.warning("A %s event needs data {name: <calm mode or ritual>}", TRIGGER_EVENT)


async def read_states(settings: HomeAssistantSettings) -> dict[str, dict[str, Any]]:
    """Every entity's state in Home Assistant now, by entity id, read once.

    Raises GatewayError saying in a person's words why Home Assistant cannot be had.
    """
    timeout = settings.timeout.total_seconds()
    client = AsyncWebsocketClient(
        f"{settings.url}/api/websocket", settings.token.get_secret_value()
    )
    try:
        async with asyncio.timeout(timeout * 2):
            try:
                await client.__aenter__()
                states = await client.get_states()
            finally:
                # A refused token fails inside __aenter__, after the socket and its HTTP
                # session were opened: `async with` would leave them open.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.__aexit__(None, None, None), 2)
    except Exception as exc:  # whatever went wrong, said in words
        raise GatewayError(describe_failure(exc, settings.url)) from exc
    return {
        state.entity_id: {"state": state.state, "attributes": dict(state.attributes)}
        for state in states
    }


def describe_failure(exc: BaseException, url: str) -> str:
    """Why a session with Home Assistant at `url` failed, in a person's words."""
    where = f"Home Assistant at {_host(url)}"
    if isinstance(exc, UnauthorizedError):
        return (
            f"{where} refused the token (expired or revoked?): create a new "
            "long-lived access token and put it in secrets.yaml"
        )
    # Libraries wrap the cause a person can act on in errors of their own.
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror) or "NameResolution" in type(cause).__name__:
            return f"{where} not reachable: its name is not found (check home_assistant.url)"
        if isinstance(cause, ConnectionRefusedError):
            return f"{where} not reachable: nothing answers on that port (is it running?)"
        if isinstance(cause, TimeoutError):
            return f"{where} not reachable: no answer in time"
        if isinstance(cause, ssl.SSLError):
            return f"{where}: TLS failed ({getattr(cause, 'reason', None) or cause})"
    text = (str(exc) or type(exc).__name__).splitlines()[0]
    return f"{where}: {text if len(text) <= 120 else text[:117] + '...'}"


def _causes(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found and len(found) < 10:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _host(url: str) -> str:
    parsed = urlsplit(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.hostname}:{port}"
