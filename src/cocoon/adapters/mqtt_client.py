"""The paho client behind the MQTT link, and the session it keeps with the broker.

- The last will is a retained `offline` on the availability topic.
- The session is persistent: every CONNECT asks to resume it (clean start 0) and the
  broker keeps it for an hour while cocoon is away, so a QoS-1 press sent while the broker
  restarts, or while cocoon reconnects, is still delivered. A clean start on the first
  connection only (paho's MQTT_CLEAN_START_FIRST_ONLY) is not enough: mosquitto 2.0
  (measured on 2.0.11) never saves a session opened with clean start 1, so the first
  broker restart would lose it. Instead `disconnect()` ends the session (Session Expiry 0
  on DISCONNECT): a clean restart never replays old presses. After a crash the session
  lives on, but the last will has made Home Assistant show cocoon's buttons unavailable,
  so few presses queue.
- The broker is asked not to send payloads larger than `mqtt.max_payload` (MQTT v5
  Maximum Packet Size), but for Zigbee2MQTT's retained lists of its devices and groups:
  a network's list takes a few kilobytes per device, megabytes for a building's.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cocoon.config.schema import Mqtt
from cocoon.errors import BusError
from cocoon.ports import Message

OFFLINE = b"offline"

SESSION_EXPIRY = 3600
"""Seconds the broker keeps our session (subscriptions, queued QoS-1 messages) while we are
away: enough to outlive a broker restart or a network outage, short enough that a press
queued while cocoon was down is not replayed hours later."""
PACKET_HEADROOM = 1024
"""Bytes allowed above `max_payload` for the topic and headers of one packet."""
BRIDGE_LISTS = ("/bridge/devices", "/bridge/groups")
"""The ends of Zigbee2MQTT's topics that list its devices and groups (retained)."""
BRIDGE_LIST_MAX = 8 * 1024 * 1024
"""Bytes a list of Zigbee2MQTT's may take, whatever `max_payload` says (3 kB a device,
for 2 500 devices)."""
MAX_QUEUED = 1000
"""Outgoing messages paho keeps while disconnected; beyond that the newest are dropped."""
QUEUED_PER_HOME = 200
"""More of them for each home beyond the first, for a building (its start alone has a
few dozen messages a home to send)."""


def build_client(
    settings: Mqtt, client_id: str, availability: str | None, queue: int = MAX_QUEUED
) -> Client:
    """A paho client for `settings`, with credentials, TLS and the last will set, that
    keeps `queue` outgoing messages at most."""
    if settings.protocol == "5":
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
        )
    else:
        # MQTT 3.1.1 has no session expiry: a clean session, so nothing stale replays.
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv311,
            clean_session=True,
        )
    client.suppress_exceptions = True
    client.max_queued_messages_set(queue)
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
    if availability is not None:
        client.will_set(availability, OFFLINE, qos=1, retain=True)
    return client


def allowed(topic: str, settings: Mqtt) -> int:
    """The largest payload taken on `topic`: `max_payload`, more for Zigbee2MQTT's lists."""
    if topic.endswith(BRIDGE_LISTS):
        return max(settings.max_payload, BRIDGE_LIST_MAX)
    return settings.max_payload


def connect_async(client: Client, settings: Mqtt) -> None:
    """Ask paho to connect, resuming the session on MQTT 5; raises ValueError on bad
    settings."""
    if settings.protocol == "5":
        properties = _properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY
        largest = max(settings.max_payload, BRIDGE_LIST_MAX)
        properties.MaximumPacketSize = largest + PACKET_HEADROOM
        client.connect_async(
            settings.host,
            settings.port,
            settings.keepalive,
            clean_start=False,
            properties=properties,
        )
    else:
        client.connect_async(settings.host, settings.port, settings.keepalive)


def disconnect(client: Client, settings: Mqtt) -> None:
    """Queue a DISCONNECT that ends the session, so a clean restart replays nothing."""
    if settings.protocol == "5":
        ending = _properties(PacketTypes.DISCONNECT)
        ending.SessionExpiryInterval = 0
        client.disconnect(properties=ending)
    else:
        client.disconnect()


SENDER = "cocoon-worker"
"""The user property that names the fleet's worker a message comes from."""


def publish_properties(message: Message, settings: Mqtt) -> Properties | None:
    """The MQTT v5 properties of the PUBLISH for `message`: its expiry and its sender, if
    it has them."""
    if settings.protocol != "5" or (message.expiry is None and message.sender is None):
        return None
    properties = _properties(PacketTypes.PUBLISH)
    if message.expiry is not None:
        properties.MessageExpiryInterval = message.expiry
    if message.sender is not None:
        properties.UserProperty = [(SENDER, message.sender)]
    return properties


def _properties(packet_type: int) -> Properties:
    """Empty MQTT v5 properties for one packet type."""
    return Properties(packet_type)  # type: ignore[no-untyped-call]  # paho leaves it untyped


def published(is_published: Callable[[], bool]) -> bool:
    """Whether a publish is acknowledged; a publish paho refused never will be."""
    try:
        return is_published()
    except (ValueError, RuntimeError):
        return True
