"""The MQTT connection: paho-mqtt 2.x, driven by the asyncio loop.

The contract with the broker and with Home Assistant (STYLE.md, habit 9):

- The last will is a retained `offline` on the availability topic; every (re)connect
  publishes a retained `online`, subscribes to the exact topics of `subscriptions()`
  (QoS 1, never a wildcard), then calls `on_connect` on the loop, where the engine
  republishes discovery and states.
- The session is persistent: every CONNECT asks to resume it (clean start 0) and the
  broker keeps it for an hour while cocoon is away, so a QoS-1 press sent while the broker
  restarts, or while cocoon reconnects, is still delivered. A clean start on the first
  connection only (paho's MQTT_CLEAN_START_FIRST_ONLY) is not enough: mosquitto 2.0
  (measured on 2.0.11) never saves a session opened with clean start 1, so the first
  broker restart would lose it. Instead `stop()` ends the session (Session Expiry 0 on
  DISCONNECT): a clean restart never replays old presses. After a crash the session lives
  on, but the last will has made Home Assistant show cocoon's buttons unavailable, so few
  presses queue.
- Received messages keep their `retain` flag. The broker replays a retained message at
  every subscribe, so a retained message on a command topic is an old press: the caller
  must ignore it (never act on `retain=True` commands), or a reconnect replays a press.
- Payloads larger than `mqtt.max_payload` never reach the caller: the broker is asked not
  to send them (MQTT v5 Maximum Packet Size), and those that still come are logged and
  dropped before they are handed over.

paho runs on the asyncio loop (`paho_loop.PahoLoop`): every callback below runs on the
loop, and each one catches everything, so one bad message or handler never stops the link.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from cocoon.adapters.paho_loop import ANSWER_WAIT, RECONNECT_DELAY, NoAnswer, PahoLoop
from cocoon.adapters.throttle import Throttle
from cocoon.config.schema import Mqtt
from cocoon.errors import BusError
from cocoon.ports import Message

_LOGGER = logging.getLogger(__name__)

ONLINE = b"online"
OFFLINE = b"offline"

_SESSION_EXPIRY = 3600
"""Seconds the broker keeps our session (subscriptions, queued QoS-1 messages) while we are
away: enough to outlive a broker restart or a network outage, short enough that a press
queued while cocoon was down is not replayed hours later."""
_PACKET_HEADROOM = 1024
"""Bytes allowed above `max_payload` for the topic and headers of one packet."""
_FIRST_CONNECT_WAIT = 2.0
"""Seconds `start()` waits for the first connection to hold its subscriptions."""
_MAX_QUEUED = 1000
"""Outgoing messages paho keeps while disconnected; beyond that the newest are dropped."""
_OFFLINE_FLUSH = 1.0
"""Seconds `stop()` waits for the broker to acknowledge the retained `offline`."""
_STOP_TIMEOUT = 5.0
"""Seconds `stop()` takes at most, broker or not."""
_WARN_INTERVAL = 60.0
"""Seconds between two warnings about the same topic, or about client-id takeovers."""
_SESSION_TAKEN_OVER = 142
_QUICK_DROP = 5.0
"""A connection lost within this many seconds of connecting counts as taken over: mosquitto
2.0.11 (measured) closes the old connection without sending reason code 142."""
_TAKEOVER_LIMIT = 3
"""More takeovers than this within `_WARN_INTERVAL` mean another client uses our id."""
TAKEOVER_BACKOFF = RECONNECT_DELAY[1]
"""Seconds to wait before connecting again once another client seems to use our id (each
connection would knock the other one off again): the longest ordinary reconnect delay, as
a broker restarted several times a minute looks the same from here."""
# Reason codes (MQTT 5; paho maps MQTT 3.1.1's return codes onto them).
_BAD_CLIENT_ID = 133
_UNSUPPORTED_PROTOCOL = 132
_BAD_CREDENTIALS = frozenset({134, 140})  # bad user name or password, bad auth method
_NOT_AUTHORIZED = 135
_PACKET_TOO_LARGE = 149


class _Takeovers:
    """Connections lost to another client with the same id, within the last minute."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()
        self._reported_at: float | None = None

    @property
    def recent(self) -> int:
        """How many connections were taken over within the last minute."""
        return len(self._times)

    def lost(self, now: float) -> int | None:
        """Count one more; returns the count when it is time to report it, else None."""
        self._times.append(now)
        while self._times and now - self._times[0] > _WARN_INTERVAL:
            self._times.popleft()
        recent = self._reported_at is not None and now - self._reported_at < _WARN_INTERVAL
        if len(self._times) <= _TAKEOVER_LIMIT or recent:
            return None
        self._reported_at = now
        return len(self._times)


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
    ) -> None:
        self._settings = settings
        self._availability = availability_topic
        self._inbox: list[Message] = []
        self._v5 = settings.protocol == "5"
        self._on_message = on_message
        self._on_connect = on_connect
        self._subscriptions = subscriptions
        self._client_id = client_id if client_id is not None else settings.client_id
        self._client: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._driver: PahoLoop | None = None
        self._settled = asyncio.Event()
        self._stopping = False
        self._connected_at: float | None = None
        self._unreachable_told = False
        self._refused_told = False
        self._closed_told = False
        self._refused = False
        """The broker has just refused a CONNECT: the disconnect that follows is no news."""
        self._broker_max: int | None = None
        """The largest packet the broker takes (MQTT 5 CONNACK), when it says."""
        self._dropped = Throttle(_WARN_INTERVAL)
        self._too_large = Throttle(_WARN_INTERVAL)
        self._takeovers = _Takeovers()
        self._subscribing: dict[int, list[str]] = {}
        self._subscribed: list[str] = []
        """The topics of the last (re)subscription."""
        self.failure: str | None = None
        """Why the last attempt to connect failed, in a sentence; None once connected."""

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
        self._on_message = on_message
        self._on_connect = on_connect
        self._subscriptions = subscriptions

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
        client = self._build_client()
        try:
            if self._v5:
                properties = _properties(PacketTypes.CONNECT)
                properties.SessionExpiryInterval = _SESSION_EXPIRY
                properties.MaximumPacketSize = self._settings.max_payload + _PACKET_HEADROOM
                client.connect_async(
                    self._settings.host,
                    self._settings.port,
                    self._settings.keepalive,
                    clean_start=False,
                    properties=properties,
                )
            else:
                client.connect_async(
                    self._settings.host, self._settings.port, self._settings.keepalive
                )
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
            while not _published(info.is_published) and loop.time() < flushed:
                await asyncio.sleep(0.01)
        if client.socket() is not None:
            if self._v5:
                ending = _properties(PacketTypes.DISCONNECT)
                ending.SessionExpiryInterval = 0  # a clean stop ends the session: nothing replays
                client.disconnect(properties=ending)
            else:
                client.disconnect()
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
        topics = list(dict.fromkeys(self._subscriptions()))
        gone = [topic for topic in self._subscribed if topic not in topics]
        new = [topic for topic in topics if topic not in self._subscribed]
        self._subscribed = topics
        if gone:
            client.unsubscribe(gone)
        if new:
            _, mid = client.subscribe([(topic, 1) for topic in new])
            if mid is not None:
                self._subscribing[mid] = new
        if self._driver is not None:
            self._driver.write_now()

    def publish(self, message: Message) -> None:
        """Send one message; QoS 1 is queued while disconnected and sent after reconnecting."""
        client = self._client
        if client is None:
            raise BusError(f"cannot publish on {message.topic}: the MQTT link is not started")
        if len(message.payload) > self._settings.max_payload:
            raise BusError(
                f"cannot publish {len(message.payload)} bytes on {message.topic}: "
                f"more than mqtt.max_payload ({self._settings.max_payload})"
            )
        limit = self._broker_max
        if limit is not None and (size := _packet_size(message, self._v5)) > limit:
            self._refuse_too_large(message.topic, size, limit)
            return
        properties = None
        if self._v5 and message.expiry is not None:
            properties = _properties(PacketTypes.PUBLISH)
            properties.MessageExpiryInterval = message.expiry
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
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            _LOGGER.warning(
                "Dropped a message on %s: %d messages already wait for the broker",
                message.topic,
                _MAX_QUEUED,
            )
        elif info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and message.qos == 0:
            _LOGGER.debug("Dropped a QoS 0 message on %s: not connected", message.topic)

    # -- paho on the loop ----------------------------------------------------------------

    def _build_client(self) -> Client:
        settings = self._settings
        if self._v5:
            client = Client(
                CallbackAPIVersion.VERSION2,
                client_id=self._client_id,
                protocol=MQTTProtocolVersion.MQTTv5,
            )
        else:
            # MQTT 3.1.1 has no session expiry: a clean session, so nothing stale replays.
            client = Client(
                CallbackAPIVersion.VERSION2,
                client_id=self._client_id,
                protocol=MQTTProtocolVersion.MQTTv311,
                clean_session=True,
            )
        client.suppress_exceptions = True
        client.max_queued_messages_set(_MAX_QUEUED)
        if settings.username is not None:
            password = settings.password.get_secret_value() if settings.password else None
            client.username_pw_set(settings.username, password)
        if settings.tls is not None:
            tls = settings.tls
            try:
                client.tls_set(
                    ca_certs=str(tls.ca_file) if tls.ca_file else None,
                    certfile=str(tls.cert_file) if tls.cert_file else None,
                    keyfile=str(tls.key_file) if tls.key_file else None,
                )
                if tls.insecure:
                    client.tls_insecure_set(True)
            except (OSError, ssl.SSLError, ValueError) as exc:
                raise BusError(f"cannot set up TLS for the MQTT broker: {exc}") from exc
        if self._availability is not None:
            client.will_set(self._availability, OFFLINE, qos=1, retain=True)
        client.on_connect = self._paho_connect
        client.on_disconnect = self._paho_disconnect
        client.on_subscribe = self._paho_subscribe
        client.on_message = self._paho_message
        return client

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
                level = logging.DEBUG if self._refused_told else logging.ERROR
                self._refused_told = True
                self.failure = self._refusal(reason)
                _LOGGER.log(level, "%s; retrying", self.failure)
                return
            self._connected_at = time.monotonic()
            self.failure = None
            limit = getattr(properties, "MaximumPacketSize", None)
            self._broker_max = limit if isinstance(limit, int) else None
            if self._driver is not None:
                self._driver.connected()
            self._unreachable_told = self._refused_told = self._closed_told = False
            _LOGGER.info(
                "Connected to the MQTT broker %s as %s (%s)",
                self.where,
                self._client_id,
                "session resumed" if flags.session_present else "new session",
            )
            if self._availability is not None:
                client.publish(self._availability, ONLINE, qos=1, retain=True)
            topics = list(dict.fromkeys(self._subscriptions()))
            self._subscribed = topics
            self._subscribing.clear()
            if topics:
                _, mid = client.subscribe([(topic, 1) for topic in topics])
                if mid is not None:
                    self._subscribing[mid] = topics
            else:
                self._settled.set()
            if self._loop is not None:
                self._loop.call_soon(self._call_on_connect)
        except Exception:
            _LOGGER.exception("Failed to set up the MQTT connection")

    def _refusal(self, reason: ReasonCode) -> str:
        """Why the broker refused a CONNECT, and what to change, in one sentence."""
        refused = f"The MQTT broker {self.where} refused cocoon ({reason})"
        if reason.value == _UNSUPPORTED_PROTOCOL:
            speaks, other = ("MQTT 5", "3.1.1") if self._v5 else ("MQTT 3.1.1", "5")
            return f'{refused}: it does not speak {speaks}; set mqtt.protocol: "{other}"'
        if reason.value in _BAD_CREDENTIALS:
            return f"{refused}: check mqtt.username and mqtt.password"
        if reason.value == _NOT_AUTHORIZED:
            return f"{refused}: check mqtt.username, mqtt.password and the broker's ACL"
        if reason.value == _BAD_CLIENT_ID:
            return f"{refused}: set another mqtt.client_id than '{self._client_id}'"
        return refused

    def _connect_failed(self, error: Exception) -> None:
        self._settled.set()
        if isinstance(error, NoAnswer):
            # The DISCONNECT that ends this attempt is no news either.
            self._refused = True
            self.failure = (
                f"The MQTT broker {self.where} took the connection but did not answer an "
                f"MQTT {self._settings.protocol} CONNECT in {ANSWER_WAIT:g} s"
                + (_OTHER_PROTOCOL_HINT if self._v5 else "")
            )
            level = logging.DEBUG if self._refused_told else logging.ERROR
            self._refused_told = True
            _LOGGER.log(
                level,
                "The MQTT broker %s took the connection but did not answer cocoon's "
                "MQTT %s CONNECT in %g s%s; retrying",
                self.where,
                self._settings.protocol,
                ANSWER_WAIT,
                _OTHER_PROTOCOL_HINT if self._v5 else "",
            )
            return
        level = logging.DEBUG if self._unreachable_told else logging.WARNING
        self._unreachable_told = True
        self.failure = f"Cannot reach the MQTT broker {self.where}: {why_unreachable(error)}"
        _LOGGER.log(
            level,
            "Cannot reach the MQTT broker %s (%s); retrying every %d s at most",
            self.where,
            error,
            RECONNECT_DELAY[1],
        )

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
                    self._closed_before_accepting(reason)
                return
            if reason.value == _PACKET_TOO_LARGE:
                _LOGGER.error(
                    "The MQTT broker %s dropped cocoon for a packet larger than it takes (%s):"
                    " raise its max_packet_size; reconnecting",
                    self.where,
                    reason,
                )
                return
            _LOGGER.info("Lost the MQTT broker %s (%s); reconnecting", self.where, reason)
            quick = connected_at is not None and now - connected_at < _QUICK_DROP
            if reason.value != _SESSION_TAKEN_OVER and not quick:
                return
            count = self._takeovers.lost(now)
            if count is not None:
                _LOGGER.error(
                    "The MQTT broker %s dropped cocoon %d times in the last minute, each time "
                    "right after it connected: another client uses the same client id '%s'%s. "
                    "Give each cocoon instance its own mqtt.client_id; until then cocoon "
                    "tries again only every %d s",
                    self.where,
                    count,
                    self._client_id,
                    # MQTT 3.1.1 has no reason codes: a packet over the broker's limit
                    # ends the connection just the same, without a word.
                    ""
                    if self._v5
                    else ", or the broker refuses a message that large (its max_packet_size)",
                    TAKEOVER_BACKOFF,
                )
            if self._takeovers.recent > _TAKEOVER_LIMIT and self._driver is not None:
                self._driver.back_off(TAKEOVER_BACKOFF)
        except Exception:
            _LOGGER.exception("Failed to handle an MQTT disconnect")

    def _closed_before_accepting(self, reason: ReasonCode) -> None:
        level = logging.DEBUG if self._closed_told else logging.ERROR
        self._closed_told = True
        self.failure = (
            f"Could not connect to the MQTT broker {self.where}: it closed the connection "
            f"before accepting cocoon ({reason})" + (_OTHER_PROTOCOL_HINT if self._v5 else "")
        )
        _LOGGER.log(
            level,
            "Could not connect to the MQTT broker %s: it closed the connection before "
            "accepting cocoon (%s)%s; retrying",
            self.where,
            reason,
            _OTHER_PROTOCOL_HINT if self._v5 else "",
        )

    def _refuse_too_large(self, topic: str, size: int, limit: int) -> None:
        """Say (once a minute per topic) that a message is larger than the broker takes."""
        if self._too_large.allow(topic, time.monotonic()) is None:
            return
        _LOGGER.error(
            "Did not send a message on %s: it needs a packet of %d bytes and the MQTT broker"
            " %s takes at most %d (its max_packet_size); raise that to %d or more",
            topic,
            size,
            self.where,
            limit,
            size,
        )

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
            topics = self._subscribing.pop(mid, [])
            for topic, reason in zip(topics, reasons, strict=False):
                if reason.is_failure:
                    _LOGGER.warning(
                        "The MQTT broker refused the subscription to %s (%s)", topic, reason
                    )
        except Exception:
            _LOGGER.exception("Failed to handle an MQTT subscription")

    def _paho_message(self, client: Client, userdata: object, msg: MQTTMessage) -> None:
        try:
            if self._stopping:
                return
            topic, size = msg.topic, len(msg.payload)
            if size > self._settings.max_payload:
                self._drop_oversized(topic, size)
                return
            message = Message(topic, bytes(msg.payload), msg.qos, bool(msg.retain))
            # Handed over once paho has read the whole burst (see `_readable`).
            self._inbox.append(message)
        except Exception:
            _LOGGER.exception("Dropped an MQTT message that could not be read")

    def _drop_oversized(self, topic: str, size: int) -> None:
        held = self._dropped.allow(topic, time.monotonic())
        if held is None:
            return
        _LOGGER.warning(
            "Dropped %d message(s) on %s larger than mqtt.max_payload (%d bytes, the last %d)",
            held + 1,
            topic,
            self._settings.max_payload,
            size,
        )

    def _deliver_inbox(self) -> None:
        messages, self._inbox = self._inbox, []
        for message in messages:
            self._deliver(message)

    def _deliver(self, message: Message) -> None:
        if self._stopping:
            return
        try:
            self._on_message(message)
        except Exception:
            _LOGGER.exception("The handler failed on an MQTT message on %s", message.topic)

    def _call_on_connect(self) -> None:
        if self._stopping:
            return
        try:
            self._on_connect()
        except Exception:
            _LOGGER.exception("The handler failed after connecting to MQTT")


_OTHER_PROTOCOL_HINT = '; if it speaks only MQTT 3.1.1, set mqtt.protocol: "3.1.1"'


async def until_connected(link: MqttLink, connected: asyncio.Event, timeout: float) -> None:
    """Wait until a one-shot client's `connected` is set, for a command that cannot retry.

    A refusal or an unreachable broker is known at once: no need to wait it out.
    Raises BusError with the broker's refusal or why it cannot be reached, in one sentence.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not connected.is_set() and link.failure is None and loop.time() < deadline:
        await asyncio.sleep(0.02)
    if not connected.is_set():
        raise BusError(link.failure or f"The MQTT broker {link.where} did not answer in time")


def why_unreachable(error: Exception) -> str:
    """Why a connection attempt failed, in a person's words."""
    if isinstance(error, ConnectionRefusedError):
        return "nothing answers on that port (is the broker running? check mqtt.host and port)"
    if isinstance(error, socket.gaierror):
        return "its name is not found (check mqtt.host)"
    if isinstance(error, TimeoutError):
        return "no answer in time (check mqtt.host and any firewall)"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({getattr(error, 'reason', None) or error})"
    return str(error) or type(error).__name__


def _packet_size(message: Message, v5: bool) -> int:
    """The size of the PUBLISH packet that carries `message`, headers included."""
    remaining = 2 + len(message.topic.encode()) + len(message.payload)
    remaining += 2 if message.qos else 0  # packet identifier
    remaining += 1 if v5 else 0  # an empty property list
    length_bytes = 1
    while remaining >= 128**length_bytes:
        length_bytes += 1
    return 1 + length_bytes + remaining


def _properties(packet_type: int) -> Properties:
    """Empty MQTT v5 properties for one packet type."""
    return Properties(packet_type)  # type: ignore[no-untyped-call]  # paho leaves it untyped


def _published(is_published: Callable[[], bool]) -> bool:
    """Whether a publish is acknowledged; a publish paho refused never will be."""
    try:
        return is_published()
    except (ValueError, RuntimeError):
        return True
