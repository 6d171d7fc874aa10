"""The connection to Home Assistant, kept up: sessions, requests, the event stream.

One task reads the websocket (`adapters/ha_wire.py`) and hands each message to
whoever waits for it: the answer to a request by its id, an event to the handler of
its subscription. A daemon must hear every `state_changed` while calls are under way,
so reading never waits on a caller. Home Assistant being down is not an error: the
link reconnects with backoff, pings as a heartbeat, and after a restart waits until
Home Assistant says it is running before it subscribes and reads the states.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from cocoon.adapters.ha_wire import Wire, describe_failure, open_wire
from cocoon.config.schema import HomeAssistant as HomeAssistantSettings
from cocoon.core.events import Connection, Event
from cocoon.errors import GatewayError

_LOGGER = logging.getLogger(__name__)

SERVICE = "Home Assistant"
PING_EVERY = 30.0
# Reconnect delays, first and longest: retries at most 5 s apart, so cocoon is back (and
# has sent what it owes) within 10 s of Home Assistant's return.
BACKOFF = (1.0, 5.0)
# How often Home Assistant is asked whether it is running yet, after a restart.
RUNNING_POLL = 0.5

Handler = Callable[[dict[str, Any]], None]


class HomeAssistantLink:
    """A websocket session to Home Assistant, opened again whenever it ends.

    `events` maps each event type to subscribe to onto its handler. Each session, once
    subscribed, reads every state and hands the list to `on_up`; `on_lost` is told
    when a connected session ends. Whether Home Assistant can be had goes to
    `submit` as `Connection` events, a failure said once until the next success.
    """

    def __init__(
        self,
        settings: HomeAssistantSettings,
        submit: Callable[[Event], None],
        *,
        events: Mapping[str, Handler],
        on_up: Callable[[list[dict[str, Any]]], None],
        on_lost: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.submit = submit
        self.events = dict(events)
        self.on_up = on_up
        self.on_lost = on_lost
        self.connected = False
        self._wire: Wire | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._subscriptions: dict[int, Handler] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def timeout(self) -> float:
        """How long an answer is waited for, in seconds."""
        return self.settings.timeout.total_seconds()

    async def start(self) -> None:
        """Start connecting in the background."""
        self._task = asyncio.create_task(self._run(), name="home-assistant")

    async def stop(self) -> None:
        """Close the connection and stop reconnecting."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def request(self, kind: str, events: Handler | None = None, **data: Any) -> Any:
        """Send a command of type `kind` and return its result.

        Raises GatewayError when Home Assistant answers with an error or the connection
        is not there or is lost, TimeoutError when no answer comes in time. With
        `events`, the events of the subscription this request makes go to that handler.
        """
        wire = self._wire
        if wire is None:
            raise GatewayError("not connected to Home Assistant")
        ident = wire.next_id()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        if events is not None:
            self._subscriptions[ident] = events
        await wire.send({"id": ident, "type": kind, **data})
        try:
            return await asyncio.wait_for(future, self.timeout)
        finally:
            self._waiting.pop(ident, None)

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
        async with open_wire(self.settings) as wire:
            self._wire = wire
            reader = asyncio.create_task(self._read(wire))
            try:
                await self._wait_until_running(reader)
                for event_type, handler in self.events.items():
                    await self.request("subscribe_events", events=handler, event_type=event_type)
                states = await self.request("get_states")
                self.connected = True
                self.on_up([s for s in states or [] if isinstance(s, dict)])
                _LOGGER.info("Connected to Home Assistant at %s", self.settings.url)
                self.submit(Connection(SERVICE, True))
                while not reader.done():
                    await asyncio.wait({reader}, timeout=PING_EVERY)
                    if not reader.done():
                        await self.request("ping")
                reader.result()
            finally:
                reader.cancel()
                self._wire = None

    async def _wait_until_running(self, reader: asyncio.Task[None]) -> None:
        # After a restart Home Assistant answers before its integrations are set up.
        while not reader.done():
            config = await self.request("get_config")
            if (config or {}).get("state") == "RUNNING":
                return
            await asyncio.sleep(RUNNING_POLL)

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
            self.on_lost()
        return was

    async def _read(self, wire: Wire) -> None:
        while True:
            for message in await wire.receive():
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        ident = message.get("id")
        if not isinstance(ident, int):
            return
        if kind == "event" and ident in self._subscriptions:
            self._subscriptions[ident](message.get("event") or {})
        elif kind in ("result", "pong") and ident in self._waiting:
            future = self._waiting.pop(ident)
            if future.done():
                return
            if kind == "result" and not message.get("success"):
                error = message.get("error") or {}
                future.set_exception(GatewayError(str(error.get("message", error))))
            else:
                future.set_result(message.get("result"))
