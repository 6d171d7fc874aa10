"""A big home under load: 300 Zigbee2MQTT devices, 50 rituals, and a flood it need not act on.

`big_home` is the configuration: 200 lights, 20 thermostats and 80 sensors; 50 rituals,
each with a scene of six of the first 150 lights, starting a minute apart from five minutes
before `now` (so, all through a test, five of them are fading in: a busy evening); 20
plants; "Calm now" takes ten lights no ritual touches.

`flood_packets` is the traffic cocoon can ignore, as a busy Zigbee network sends it:
reports of 200 devices it does not know (the broker keeps those away), of the 40 lights in
no scene and of the thermostats, each unchanged but for the link quality, and sensor
readings (battery, link quality, a soil moisture that stays the same). `flood` sends it at
a steady rate from a process of its own: `python -m tests.faults.load PORT RATE SECONDS`.

`Home` is the measuring side: it answers every `/set` as Zigbee2MQTT does by default (the
device's new state, not retained; only the states before the test are retained, so cocoon
finds them when it starts), presses "Calm now" and times the first `/set` of a calm light.
"""

from __future__ import annotations

import json
import random
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

LIGHTS, THERMOSTATS, SENSORS, PLANTS, RITUALS = 200, 20, 80, 20, 50
RITUAL_LIGHTS = 150  # rituals' scenes take their lights from the first 150
CALM = [f"light_{i:03d}" for i in range(150, 160)]
IDLE = [f"light_{i:03d}" for i in range(160, LIGHTS)]  # followed, in no scene
UNKNOWN = 200  # Zigbee2MQTT devices cocoon does not know
BEFORE = {"state": "ON", "brightness": 200, "color_temp": 300}
ZONE = ZoneInfo("Europe/Brussels")


def device_names() -> tuple[list[str], list[str], list[str]]:
    """Lights, thermostats and sensors, as named in Zigbee2MQTT and in the configuration."""
    lights = [f"light_{i:03d}" for i in range(LIGHTS)]
    heat = [f"heat_{i:02d}" for i in range(THERMOSTATS)]
    sensors = [f"soil_{i:02d}" for i in range(SENSORS)]
    return lights, heat, sensors


def big_home(port: int, now: datetime, seed: int = 11) -> dict[str, Any]:
    """The configuration of the loaded home (Brussels, Zigbee2MQTT on the broker at `port`)."""
    rng = random.Random(seed)
    first = now.astimezone(ZONE).replace(second=0, microsecond=0) - timedelta(minutes=5)
    lights, heat, sensors = device_names()
    devices: dict[str, Any] = {name: {"zigbee2mqtt": name} for name in lights}
    devices.update(
        {name: {"zigbee2mqtt": name, "kind": "thermostat", "min": 16, "max": 23} for name in heat}
    )
    devices.update({name: {"zigbee2mqtt": name, "kind": "sensor"} for name in sensors})
    scenes: dict[str, Any] = {
        "calm": {"lights": {name: {"brightness": 20, "kelvin": 2000} for name in CALM}}
    }
    rituals: dict[str, Any] = {}
    for i in range(RITUALS):
        chosen = rng.sample(lights[:RITUAL_LIGHTS], 6)
        scene: dict[str, Any] = {
            "lights": {
                name: {
                    "brightness": rng.choice([5, 15, 25, 35, 50, 70]),
                    "kelvin": rng.choice([2000, 2200, 2700, 3000]),
                }
                for name in chosen
            }
        }
        if i % 5 == 0:
            scene["heat"] = {rng.choice(heat): rng.choice(["+0.5", "-1", "21"])}
        scenes[f"scene_{i:02d}"] = scene
        rituals[f"ritual_{i:02d}"] = {
            "at": f"{first + timedelta(minutes=i):%H:%M}",
            "duration": "25min",
            "scene": f"scene_{i:02d}",
            "fade": "5min",
        }
    plants = {
        f"plant_{i:02d}": {"moisture": {"sensor": sensors[i], "below": 25}} for i in range(PLANTS)
    }
    return {
        "home": {
            "name": "Big house",
            "latitude": 50.85,
            "longitude": 4.35,
            "timezone": str(ZONE),
        },
        "mqtt": {"host": "127.0.0.1", "port": port, "client_id": f"cocoon-{uuid.uuid4().hex[:8]}"},
        "devices": devices,
        "scenes": scenes,
        "rituals": rituals,
        "calm_modes": {
            "calm_now": {"scene": "calm", "duration": "1h", "fade": 0, "button": "Calm now"}
        },
        "plants": plants,
    }


def device_reports() -> dict[str, dict[str, Any]]:
    """What every device reports before the test: lights on, thermostats at 20, soil moist."""
    lights, heat, sensors = device_names()
    reports: dict[str, dict[str, Any]] = {name: dict(BEFORE) for name in lights}
    reports.update(
        {name: {"current_heating_setpoint": 20, "local_temperature": 20.5} for name in heat}
    )
    reports.update({name: {"soil_moisture": 40, "battery": 90} for name in sensors})
    return reports


def flood_packets() -> list[bytes]:
    """The flood, as encoded QoS 0 PUBLISH packets, interleaved so every kind keeps coming."""
    _, heat, sensors = device_names()
    reports = device_reports()
    kinds: list[list[tuple[str, dict[str, Any]]]] = [
        [(f"other_{i:03d}", {"state": "ON", "brightness": 120}) for i in range(UNKNOWN)],
        [(name, reports[name]) for name in IDLE + heat],
        [(name, reports[name]) for name in sensors],
    ]
    packets: list[bytes] = []
    for quality in (87, 90, 93):
        streams = [[(n, {**body, "linkquality": quality}) for n, body in k] for k in kinds]
        longest = max(len(stream) for stream in streams)
        for i in range(longest):
            for stream in streams:
                name, body = stream[i % len(stream)]
                packets.append(publish_packet(f"zigbee2mqtt/{name}", json.dumps(body).encode()))
    return packets


def publish_packet(topic: str, payload: bytes) -> bytes:
    """An MQTT QoS 0 PUBLISH packet, encoded once and written many times."""
    name = topic.encode()
    body = len(name).to_bytes(2, "big") + name + payload
    length, header = len(body), bytearray([0x30])
    while True:
        length, digit = divmod(length, 128)
        header.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(header) + body


def flood(sender: mqtt.Client, packets: list[bytes], rate: float, seconds: float) -> int:
    """Publish `rate` messages a second for `seconds`; returns how many were sent.

    paho only opens the connection: the packets are written straight to its socket in
    small paced batches, so the flooding client takes little of the machine.
    """
    sock = sender.socket()
    assert isinstance(sock, socket.socket)
    sock.setblocking(True)
    total = int(rate * seconds)
    began = time.perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - began) * rate) + 1)
        sock.sendall(b"".join(packets[i % len(packets)] for i in range(sent, due)))
        sent = due
        time.sleep(0.0005)
    sock.setblocking(False)
    return sent


def client(port: int, name: str) -> mqtt.Client:
    """A connected paho client (Nagle off, so the measuring side adds no delay)."""
    made = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:8]}")
    made.on_socket_open = lambda c, u, sock: sock.setsockopt(
        socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
    )
    made.connect("127.0.0.1", port)
    return made


class Home:
    """Zigbee2MQTT's part (answers `/set` with the new state) and the dashboard's (presses).

    Each connection has its own network thread; arrival times are taken in paho's
    callbacks with `time.perf_counter()`.
    """

    def __init__(self, port: int, mode_topic: str) -> None:
        self.devices = device_reports()
        self.sets: list[tuple[float, str]] = []
        self.mode: bytes | None = None
        self._mode_topic = mode_topic
        self._changed = threading.Condition()
        self.zigbee = client(port, "zigbee")
        self.zigbee.on_message = self._on_set
        self.dashboard = client(port, "dashboard")
        self.dashboard.on_message = self._on_mode
        for each in (self.zigbee, self.dashboard):
            each.loop_start()
        self.zigbee.subscribe("zigbee2mqtt/+/set", qos=1)
        self.dashboard.subscribe(mode_topic, qos=1)
        for name in self.devices:
            self._report(name, retain=True)

    def _report(self, name: str, *, retain: bool = False) -> None:
        body = json.dumps(self.devices[name]).encode()
        self.zigbee.publish(f"zigbee2mqtt/{name}", body, qos=1, retain=retain)

    def _on_set(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        stamp = time.perf_counter()
        name = message.topic.split("/")[1]
        command = json.loads(message.payload)
        command.pop("transition", None)
        self.devices.setdefault(name, {}).update(command)
        self._report(name)
        with self._changed:
            self.sets.append((stamp, name))
            self._changed.notify_all()

    def _on_mode(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.mode = bytes(message.payload)
            self._changed.notify_all()

    def wait(self, done: Any, timeout: float, what: str) -> None:
        """Wait (woken by each message) until `done()` holds."""
        with self._changed:
            if not self._changed.wait_for(done, timeout):
                raise TimeoutError(f"no {what} within {timeout:g} s")

    def calm_sets(self, since: int) -> list[tuple[float, str]]:
        """The `/set` commands to calm lights from the `since`-th one on."""
        return [(stamp, name) for stamp, name in self.sets[since:] if name in CALM]

    def press(self, topic: str, payload: str = "PRESS") -> float:
        """Publish at QoS 1 from the dashboard; the perf_counter just before."""
        began = time.perf_counter()
        self.dashboard.publish(topic, payload, qos=1)
        return began

    def close(self) -> None:
        for each in (self.zigbee, self.dashboard):
            each.disconnect()
            each.loop_stop()


def main(argv: list[str]) -> int:
    """The flooding process: connect, say `ready`, flood, print how many in how long."""
    port, rate, seconds = int(argv[0]), float(argv[1]), float(argv[2])
    sender = client(port, "flood")
    sender.loop(timeout=1)
    print("ready", flush=True)
    began = time.perf_counter()
    sent = flood(sender, flood_packets(), rate, seconds)
    print(sent, time.perf_counter() - began, flush=True)
    sender.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
