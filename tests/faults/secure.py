"""Security fixtures: distinctive test secrets, a Mosquitto with passwords and an ACL, and a
probe client that shows what the broker answers (CONNACK and PUBACK reason codes)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from ..daemon.harness import home, wait_until
from .mosquittos import TunedMosquitto, password_file

MQTT_PASSWORD = "mqtt-pw-Kx93-fault-suite-secret"
HA_TOKEN = "ha-token-Qz71-fault-suite-secret"
WRONG_PASSWORD = "wrong-pw-Jv55-fault-suite-secret"
SECRETS = (MQTT_PASSWORD, HA_TOKEN, WRONG_PASSWORD)
FRAGMENTS = ("Kx93-fault", "Qz71-fault", "Jv55-fault")
"""Pieces of the secrets: a secret cut short in a message still counts as leaked."""
USERS = {
    "cocoon": MQTT_PASSWORD,
    "dashboard": "dashboard-pw-1",
    "observer": "observer-pw-1",
    "intruder": "intruder-pw-1",
}


def acl(home: str = "test_flat") -> str:
    """cocoon only its own topics; a dashboard presses; an intruder may log in, no more."""
    return f"""\
user cocoon
topic readwrite cocoon/#
topic write homeassistant/+/cocoon_{home}/#
topic read homeassistant/status
topic read zigbee2mqtt/#
topic write zigbee2mqtt/+/set
topic write zigbee2mqtt/+/get

user dashboard
topic write cocoon/{home}/button/+/press
topic write cocoon/{home}/mode/set
topic read cocoon/{home}/#

user observer
topic read #

user intruder
topic read zigbee2mqtt/#
"""


def secure_broker(directory: Path) -> TunedMosquitto:
    """A Mosquitto that lets in only USERS, each only as far as `acl()` says (not started)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "acl").write_text(acl())
    passwords = password_file(directory / "passwd", USERS)
    options: dict[str, str | None] = {
        "allow_anonymous": "false",
        "password_file": str(passwords),
        "acl_file": str(directory / "acl"),
    }
    return TunedMosquitto(directory / "broker", options=options)


def cocoon_data(port: int, **mqtt: Any) -> dict[str, Any]:
    """The test home on the broker at `port`, with these `mqtt:` settings added."""
    data = home(port)
    data["mqtt"] = {
        "host": "127.0.0.1",
        "port": port,
        "client_id": f"cocoon-{uuid.uuid4().hex[:8]}",
        **mqtt,
    }
    return data


def leaks(*texts: str) -> list[str]:
    """Every test secret (or piece of one) found in `texts`."""
    return [piece for piece in (*SECRETS, *FRAGMENTS) for text in texts if piece in text]


def write_secret_config(directory: Path, data: dict[str, Any], secrets: dict[str, str]) -> Path:
    """`cocoon.yaml` with every value `"!secret NAME"` written as the tag, and secrets.yaml."""
    text = yaml.safe_dump(data, sort_keys=False)
    for name in secrets:
        text = text.replace(f"'!secret {name}'", f"!secret {name}")
    (directory / "secrets.yaml").write_text(yaml.safe_dump(secrets))
    path = directory / "cocoon.yaml"
    path.write_text(text)
    return path


class Probe:
    """A plain MQTT 5 client that records the broker's answers and what it receives."""

    def __init__(
        self,
        port: int,
        *,
        user: str | None = None,
        ca: Path | None = None,
        topics: list[str] | None = None,
    ) -> None:
        self.port = port
        self.topics = topics or []
        self.connack: ReasonCode | None = None
        self.acks: dict[int, ReasonCode] = {}
        self.messages: list[tuple[str, bytes]] = []
        self._answered = threading.Event()
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"probe-{uuid.uuid4().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        if user is not None:
            self.client.username_pw_set(user, USERS[user])
        if ca is not None:
            self.client.tls_set(ca_certs=str(ca))
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message

    def connect(self) -> ReasonCode:
        """Connect and return the CONNACK's reason code (the first one)."""
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        if not self._answered.wait(5):
            raise AssertionError("no CONNACK from the broker within 5 s")
        assert self.connack is not None
        return self.connack

    def publish(self, topic: str, payload: str) -> ReasonCode:
        """Publish at QoS 1 and return the PUBACK's reason code."""
        info = self.client.publish(topic, payload, qos=1)
        return wait_until(lambda: self.acks.get(info.mid), what=f"PUBACK for {topic}")  # type: ignore[no-any-return]

    def seen(self, topic: str) -> list[bytes]:
        with self._lock:
            return [payload for t, payload in self.messages if t == topic]

    def last(self, topic: str) -> bytes | None:
        seen = self.seen(topic)
        return seen[-1] if seen else None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        if self.connack is None:
            self.connack = reason
        if not reason.is_failure:
            for topic in self.topics:
                client.subscribe(topic, qos=1)
        self._answered.set()
        if reason.is_failure:
            client.disconnect()  # no retry loop: the answer is what the test wanted

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Any
    ) -> None:
        self.acks[mid] = reason

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))
