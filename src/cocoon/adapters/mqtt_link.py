"""The MQTT connection: paho-mqtt 2.x, driven by the asyncio loop.

The contract with the broker and with Home Assistant (STYLE.md, habit 9):

- The last will is a retained `offline` on the availability topic; every (re)connect
  publishes a retained `online`, subscribes to the exact topics of `subscriptions()`
  (QoS 1, never a wildcard), then calls `on_connect` on the loop (discovery again).
- The session is persistent and outlives a broker restart; `stop()` ends it, so a clean
  restart never replays old presses (`mqtt_client` says how and why).
- Received messages keep their `retain` flag. The broker replays a retained message at
  every subscribe, so a retained message on a command topic is an old press: the caller
  must ignore it (never act on `retain=True` commands), or a reconnect replays a press.
- Payloads larger than `mqtt.max_payload` never reach the caller (but for Zigbee2MQTT's
  lists of its devices and groups, see `mqtt_client.allowed`): the broker is asked not
  to send them (MQTT v5 Maximum Packet Size), and those that still come are logged and
  dropped before they are handed over.

paho runs on the asyncio loop (`paho_loop.PahoLoop`); each callback below catches
everything, so one bad message or handler never stops the link. `mqtt_receivers` hands
messages and connections on; what the link says when the broker will not have it is in
`mqtt_diagnoses`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from cocoon.adapters.mqtt_client import (
    MAX_QUEUED,
    OFFLINE,
    build_client,
    connect_async,
    disconnect,
    publish_properties,
    published,
)
from cocoon.adapters.mqtt_diagnoses import TAKEOVER_BACKOFF, Diagnoses
from cocoon.adapters.mqtt_receivers import Receivers
from cocoon.adapters.mqtt_subscriptions import Subscriptions
from cocoon.adapters.paho_loop import NoAnswer, PahoLoop
from cocoon.config.schema import Mqtt
from cocoon.errors import BusError
from cocoon.ports import Message

_LOGGER = logging.getLogger(__name__)

ONLINE = b"online"

_FIRST_CONNECT_WAIT = 2.0
"""Seconds `start()` waits for the first connection to hold its subscriptions."""
_OFFLINE_FLUSH = 1.0
"""Seconds `stop()` waits for the broker to acknowledge the retained `offline`."""
_STOP_TIMEOUT = 5.0
"""Seconds `stop()` takes at most, broker or not."""


class MqttLink:
    """One MQTT v5 connection to the broker; implements `cocoon.ports.Bus`.

    Everything runs on the asyncio loop that called `start()`: `on_message` and
    `on_connect` soon after paho read what they answer, `subscriptions` at every connect.
    """

    def __init__(
        self,
        settings: Mqtt,
        *,
        availability_topic: str | None,
        on_message: Callable[[Message], None] = lambda message: None,
        on_connect: Callable[[], None] = lambda: None,
        subscriptions: Callable[[], list[str]] = list,
        client_id: str | None = None,
        queue: int = MAX_QUEUED,
    ) -> None:
        """`queue` is how many outgoing messages wait for the broker at most."""
        self._settings = settings
        self._queue = queue
        self._availability = availability_topic
        self._v5 = settings.protocol == "5"
        self._client_id = client_id if client_id is not None else settings.client_id
        self._client: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._driver: PahoLoop | None = None
        self._settled = asyncio.Event()
        self._stopping = False
        self._connected_at: float | None = None
        self._refused = False
        """The broker has just refused a CONNECT: the disconnect that follows is no news."""
        self._broker_max: int | None = None
        """The largest packet the broker takes (MQTT 5 CONNACK), when it says."""
        self._diagnoses = Diagnoses(
            where=self.where,
            client_id=self._client_id,
            protocol=settings.protocol,
            max_payload=settings.max_payload,
            queue=queue,
            logger=_LOGGER,
        )
        self._receivers = Receivers(on_message, on_connect, settings, self._diagnoses, _LOGGER)
        self._topics = Subscriptions(subscriptions, _LOGGER)

    @property
    def failure(self) -> str | None:
        """Why the last attempt to connect failed, in a sentence; None once connected."""
        return self._diagnoses.failure

    def listen(
        self,
        *,
        on_message: Callable[[Message], None],
        on_connect: Callable[[], None],
        subscriptions: Callable[[], list[str]],
    ) -> None:
        """Attach what receives (before `start`), for a link built before its receivers."""
        if self._client is not None:
            raise BusError("the MQTT link listens before it starts")
        self._receivers.listen(on_message, on_connect)
        self._topics = Subscriptions(subscriptions, _LOGGER)

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up."""
        return self._client is not None and self._client.is_connected()

    @property
    def where(self) -> str:
        """The broker's host:port, as messages name it."""
        return f"{self._settings.host}:{self._settings.port}"

    async def start(self) -> None:
        """Connect; a broker that is down is retried in the background, not an error.

        Returns once the broker has acknowledged the subscriptions, or the first attempt
        failed, or after 2 s at most.
        """
        if self._client is not None:
            raise BusError("the MQTT link is already started")
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        client = build_client(self._settings, self._client_id, self._availability, self._queue)
        self._set_callbacks(client)
        try:
            connect_async(client, self._settings)
        except ValueError as exc:
            raise BusError(f"cannot connect to the MQTT broker {self.where}: {exc}") from exc
        self._client = client
        self._settled = asyncio.Event()
        _LOGGER.info("Connecting to the MQTT broker %s as %s", self.where, self._client_id)
        self._driver = PahoLoop(
            client, on_burst=self._deliver_inbox, on_connect_failed=self._connect_failed
        )
        self._driver.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), _FIRST_CONNECT_WAIT)

    async def stop(self, *, say_offline: bool = True) -> None:
        """Say `offline` (retained) and disconnect; within 5 s in any case.

        `say_offline=False` leaves the availability as it is (another cocoon drives).
        """
        client, loop, driver = self._client, self._loop, self._driver
        if client is None or loop is None or driver is None:
            return
        self._stopping = True
        deadline = loop.time() + _STOP_TIMEOUT
        if client.is_connected() and self._availability is not None and say_offline:
            info = client.publish(self._availability, OFFLINE, qos=1, retain=True)
            flushed = loop.time() + _OFFLINE_FLUSH
            while not published(info.is_published) and loop.time() < flushed:
                await asyncio.sleep(0.01)
        if client.socket() is not None:
            disconnect(client, self._settings)  # a clean stop ends the session
        # The loop writes the DISCONNECT, then paho closes the socket.
        await driver.stop(deadline - loop.time())
        self._client = self._driver = None
        _LOGGER.info("Disconnected from the MQTT broker %s", self.where)

    def resubscribe(self) -> None:
        """Follow a change of `subscriptions()` (a reload) now, not at the next connect:
        subscribe to the topics that are new, unsubscribe from those that are gone."""
        client = self._client
        if client is None or not client.is_connected():
            return  # the next connection subscribes to them all
        self._topics.follow(client)
        if self._driver is not None:
            self._driver.write_now()

    def publish(self, message: Message) -> None:
        """Send one message; QoS 1 is queued while disconnected and sent after reconnecting."""
        client = self._client
        if client is None:
            raise BusError(f"cannot publish on {message.topic}: the MQTT link is not started")
        if not self._diagnoses.fits(message, self._broker_max, time.monotonic()):
            return
        properties = publish_properties(message, self._settings)
        try:
            info = client.publish(
                message.topic,
                message.payload,
                qos=message.qos,
                retain=message.retain,
                properties=properties,
            )
        except ValueError as exc:
            raise BusError(f"cannot publish on {message.topic!r}: {exc}") from exc
        if self._driver is not None:
            # Written now, in this loop turn, rather than when the loop next looks.
            self._driver.write_now()
        self._diagnoses.queued(message, info.rc)

    # -- paho on the loop ----------------------------------------------------------------

    def _set_callbacks(self, client: Client) -> None:
        client.on_connect = self._paho_connect
        client.on_disconnect = self._paho_disconnect
        client.on_subscribe = self._paho_subscribe
        client.on_message = self._paho_message

    def _paho_connect(
        self,
        client: Client,
        userdata: object,
        flags: ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        try:
            if reason.is_failure:
                self._settled.set()
                self._refused = True
                self._diagnoses.refused(reason)
                return
            self._connected_at = time.monotonic()
            self._diagnoses.connected()
            limit = getattr(properties, "MaximumPacketSize", None)
            self._broker_max = limit if isinstance(limit, int) else None
            if self._driver is not None:
                self._driver.connected()
            _LOGGER.info(
                "Connected to the MQTT broker %s as %s (%s)",
                self.where,
                self._client_id,
                "session resumed" if flags.session_present else "new session",
            )
            if self._availability is not None:
                client.publish(self._availability, ONLINE, qos=1, retain=True)
            if not self._topics.subscribe_all(client):
                self._settled.set()
            if self._loop is not None:
                self._loop.call_soon(self._call_on_connect)
        except Exception:
            _LOGGER.exception("Failed to set up the MQTT connection")

    def _connect_failed(self, error: Exception) -> None:
        self._settled.set()
        if isinstance(error, NoAnswer):
            # The DISCONNECT that ends this attempt is no news either.
            self._refused = True
            self._diagnoses.no_answer()
        else:
            self._diagnoses.unreachable(error)

    def _paho_disconnect(
        self,
        client: Client,
        userdata: object,
        flags: DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        try:
            now = time.monotonic()
            connected_at, self._connected_at = self._connected_at, None
            refused, self._refused = self._refused, False
            if self._stopping:
                return
            if connected_at is None:
                # Never accepted: a refusal says why itself; a bare close says less.
                if not refused:
                    self._diagnoses.closed_before_accepting(reason)
                return
            if self._diagnoses.lost(reason, now - connected_at, now) and self._driver is not None:
                self._driver.back_off(TAKEOVER_BACKOFF)
        except Exception:
            _LOGGER.exception("Failed to handle an MQTT disconnect")

    def _paho_subscribe(
        self,
        client: Client,
        userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        try:
            self._settled.set()
            self._topics.acknowledged(mid, reasons)
        except Exception:
            _LOGGER.exception("Failed to handle an MQTT subscription")

    def _paho_message(self, client: Client, userdata: object, msg: MQTTMessage) -> None:
        if not self._stopping:
            # Handed over once paho has read the whole burst (`_deliver_inbox`).
            self._receivers.take(msg)

    def _deliver_inbox(self) -> None:
        self._receivers.deliver(lambda: self._stopping)

    def _call_on_connect(self) -> None:
        if not self._stopping:
            self._receivers.connected()
