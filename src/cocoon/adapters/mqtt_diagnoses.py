"""What the MQTT link says about its broker, in a person's words, with the fix.

Each trouble is said once at its full level, then quietly (DEBUG) until the link has
connected again: a broker that stays away for an hour gives one warning, not hundreds.
`Diagnoses.failure` keeps the last reason a connection attempt failed, in one sentence,
for commands that connect once and cannot retry.

The messages are logged on the link's logger, so they read as the link's own.
`until_connected` turns `failure` into the error of a command that connects once.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections import deque
from typing import Protocol

from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from cocoon.adapters.paho_loop import ANSWER_WAIT, RECONNECT_DELAY
from cocoon.adapters.throttle import Throttle
from cocoon.errors import BusError
from cocoon.ports import Message

WARN_INTERVAL = 60.0
"""Seconds between two warnings about the same topic, or about client-id takeovers."""
TAKEOVER_BACKOFF = RECONNECT_DELAY[1]
"""Seconds to wait before connecting again once another client seems to use our id (each
connection would knock the other one off again): the longest ordinary reconnect delay, as
a broker restarted several times a minute looks the same from here."""
_SESSION_TAKEN_OVER = 142
_QUICK_DROP = 5.0
"""A connection lost within this many seconds of connecting counts as taken over: mosquitto
2.0.11 (measured) closes the old connection without sending reason code 142."""
_TAKEOVER_LIMIT = 3
"""More takeovers than this within `WARN_INTERVAL` mean another client uses our id."""
# Reason codes (MQTT 5; paho maps MQTT 3.1.1's return codes onto them).
_BAD_CLIENT_ID = 133
_UNSUPPORTED_PROTOCOL = 132
_BAD_CREDENTIALS = frozenset({134, 140})  # bad user name or password, bad auth method
_NOT_AUTHORIZED = 135
_PACKET_TOO_LARGE = 149

_OTHER_PROTOCOL_HINT = '; if it speaks only MQTT 3.1.1, set mqtt.protocol: "3.1.1"'


class Takeovers:
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
        while self._times and now - self._times[0] > WARN_INTERVAL:
            self._times.popleft()
        recent = self._reported_at is not None and now - self._reported_at < WARN_INTERVAL
        if len(self._times) <= _TAKEOVER_LIMIT or recent:
            return None
        self._reported_at = now
        return len(self._times)


class Diagnoses:
    """The link's account of its broker: refusals, silences, drops and size limits."""

    def __init__(
        self,
        *,
        where: str,
        client_id: str,
        protocol: str,
        max_payload: int,
        queue: int,
        logger: logging.Logger,
    ) -> None:
        self._where = where
        self._client_id = client_id
        self._protocol = protocol
        self._v5 = protocol == "5"
        self._max_payload = max_payload
        self._queue = queue
        self._log = logger
        self._unreachable_told = False
        self._refused_told = False
        self._closed_told = False
        self._dropped = Throttle(WARN_INTERVAL)
        self._too_large = Throttle(WARN_INTERVAL)
        self._takeovers = Takeovers()
        self.failure: str | None = None
        """Why the last attempt to connect failed, in a sentence; None once connected."""

    def connected(self) -> None:
        """The broker accepted us: the next trouble is news again."""
        self.failure = None
        self._unreachable_told = self._refused_told = self._closed_told = False

    def refused(self, reason: ReasonCode) -> None:
        """The broker answered a CONNECT with a refusal."""
        level = logging.DEBUG if self._refused_told else logging.ERROR
        self._refused_told = True
        self.failure = self._refusal(reason)
        self._log.log(level, "%s; retrying", self.failure)

    def _refusal(self, reason: ReasonCode) -> str:
        """Why the broker refused a CONNECT, and what to change, in one sentence."""
        refused = f"The MQTT broker {self._where} refused cocoon ({reason})"
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

    def no_answer(self) -> None:
        """The broker took the connection but never answered the CONNECT."""
        hint = _OTHER_PROTOCOL_HINT if self._v5 else ""
        self.failure = (
            f"The MQTT broker {self._where} took the connection but did not answer an "
            f"MQTT {self._protocol} CONNECT in {ANSWER_WAIT:g} s" + hint
        )
        level = logging.DEBUG if self._refused_told else logging.ERROR
        self._refused_told = True
        self._log.log(
            level,
            "The MQTT broker %s took the connection but did not answer cocoon's "
            "MQTT %s CONNECT in %g s%s; retrying",
            self._where,
            self._protocol,
            ANSWER_WAIT,
            hint,
        )

    def unreachable(self, error: Exception) -> None:
        """A connection attempt failed before reaching the broker."""
        level = logging.DEBUG if self._unreachable_told else logging.WARNING
        self._unreachable_told = True
        self.failure = f"Cannot reach the MQTT broker {self._where}: {why_unreachable(error)}"
        self._log.log(
            level,
            "Cannot reach the MQTT broker %s (%s); retrying every %d s at most",
            self._where,
            error,
            RECONNECT_DELAY[1],
        )

    def closed_before_accepting(self, reason: ReasonCode) -> None:
        """The broker hung up without accepting or refusing us."""
        hint = _OTHER_PROTOCOL_HINT if self._v5 else ""
        level = logging.DEBUG if self._closed_told else logging.ERROR
        self._closed_told = True
        self.failure = (
            f"Could not connect to the MQTT broker {self._where}: it closed the connection "
            f"before accepting cocoon ({reason})" + hint
        )
        self._log.log(
            level,
            "Could not connect to the MQTT broker %s: it closed the connection before "
            "accepting cocoon (%s)%s; retrying",
            self._where,
            reason,
            hint,
        )

    def lost(self, reason: ReasonCode, lasted: float, now: float) -> bool:
        """An accepted connection ended after `lasted` seconds; returns whether to wait
        `TAKEOVER_BACKOFF` before connecting again, as another client seems to use our id."""
        if reason.value == _PACKET_TOO_LARGE:
            self._log.error(
                "The MQTT broker %s dropped cocoon for a packet larger than it takes (%s):"
                " raise its max_packet_size; reconnecting",
                self._where,
                reason,
            )
            return False
        self._log.info("Lost the MQTT broker %s (%s); reconnecting", self._where, reason)
        if reason.value != _SESSION_TAKEN_OVER and lasted >= _QUICK_DROP:
            return False
        count = self._takeovers.lost(now)
        if count is not None:
            self._log.error(
                "The MQTT broker %s dropped cocoon %d times in the last minute, each time "
                "right after it connected: another client uses the same client id '%s'%s. "
                "Give each cocoon instance its own mqtt.client_id; until then cocoon "
                "tries again only every %d s",
                self._where,
                count,
                self._client_id,
                # MQTT 3.1.1 has no reason codes: a packet over the broker's limit
                # ends the connection just the same, without a word.
                ""
                if self._v5
                else ", or the broker refuses a message that large (its max_packet_size)",
                TAKEOVER_BACKOFF,
            )
        return self._takeovers.recent > _TAKEOVER_LIMIT

    def fits(self, message: Message, broker_max: int | None, now: float) -> bool:
        """Whether `message` may be sent. Over `mqtt.max_payload` is a BusError; over the
        broker's packet limit `broker_max` is said (once a minute per topic), and False."""
        if len(message.payload) > self._max_payload:
            raise BusError(
                f"cannot publish {len(message.payload)} bytes on {message.topic}: "
                f"more than mqtt.max_payload ({self._max_payload})"
            )
        if broker_max is None or (size := packet_size(message, self._v5)) <= broker_max:
            return True
        self._too_large_for_broker(message.topic, size, broker_max, now)
        return False

    def queued(self, message: Message, rc: MQTTErrorCode) -> None:
        """Say when paho did not take `message` to send (`rc`, its answer to publish)."""
        if rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            self._log.warning(
                "Dropped a message on %s: %d messages already wait for the broker",
                message.topic,
                self._queue,
            )
        elif rc == MQTTErrorCode.MQTT_ERR_NO_CONN and message.qos == 0:
            self._log.debug("Dropped a QoS 0 message on %s: not connected", message.topic)

    def _too_large_for_broker(self, topic: str, size: int, limit: int, now: float) -> None:
        if self._too_large.allow(topic, now) is None:
            return
        self._log.error(
            "Did not send a message on %s: it needs a packet of %d bytes and the MQTT broker"
            " %s takes at most %d (its max_packet_size); raise that to %d or more",
            topic,
            size,
            self._where,
            limit,
            size,
        )

    def oversized(self, topic: str, size: int, now: float) -> None:
        """Say (once a minute per topic) that received messages over `mqtt.max_payload`
        were dropped, and how many."""
        held = self._dropped.allow(topic, now)
        if held is None:
            return
        self._log.warning(
            "Dropped %d message(s) on %s larger than mqtt.max_payload (%d bytes, the last %d)",
            held + 1,
            topic,
            self._max_payload,
            size,
        )


class _Connecting(Protocol):
    @property
    def failure(self) -> str | None: ...

    @property
    def where(self) -> str: ...


async def until_connected(link: _Connecting, connected: asyncio.Event, timeout: float) -> None:
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


def packet_size(message: Message, v5: bool) -> int:
    """The size of the PUBLISH packet that carries `message`, headers included."""
    remaining = 2 + len(message.topic.encode()) + len(message.payload)
    remaining += 2 if message.qos else 0  # packet identifier
    remaining += 1 if v5 else 0  # an empty property list
    length_bytes = 1
    while remaining >= 128**length_bytes:
        length_bytes += 1
    return 1 + length_bytes + remaining
