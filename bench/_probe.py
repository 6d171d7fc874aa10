"""The measuring side: MQTT clients driven from one thread that press cocoon's buttons and
stand in for Zigbee2MQTT, stamping every message with `time.perf_counter()`."""

from __future__ import annotations

import json
import random
import select
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

BASE = "cocoon/test_flat"  # the topics of `home()`'s "Test flat"
PRESS_TOPIC = f"{BASE}/button/calm_now/press"
MODE_TOPIC, MODE_SET = f"{BASE}/mode", f"{BASE}/mode/set"
LIGHTS = {"sofa_lamp": (254, 250), "desk_lamp": (127, 300)}  # brightness, mireds before calm
DEVICES = (*LIGHTS, "radiator")
SET_TOPICS = frozenset(f"zigbee2mqtt/{name}/set" for name in DEVICES)
STATE_TOPICS = frozenset(f"zigbee2mqtt/{name}" for name in DEVICES)
CALM_NOW = {"calm_now": {"scene": "calm", "duration": "1h", "fade": 0, "button": "Calm now"}}
# The example's calm mode (config/cocoon.yaml): a 3-minute fade in. Given back at once when
# set `off` (`fade_out: 0`), so that every press meets lights as they were.
EXAMPLE_CALM = {
    "calm_now": {
        "scene": "calm",
        "duration": "45min",
        "fade": "3min",
        "fade_out": 0,
        "button": "Calm now",
    }
}
Inbox = list[tuple[float, str, bytes]]


def devices_before() -> dict[str, dict[str, object]]:
    """What the Zigbee2MQTT devices report before any calm mode."""
    devices: dict[str, dict[str, object]] = {
        name: {"state": "ON", "brightness": level, "color_temp": mireds}
        for name, (level, mireds) in LIGHTS.items()
    }
    devices["radiator"] = {"current_heating_setpoint": 20}
    return devices


def client(port: int, inbox: Inbox | None = None) -> mqtt.Client:
    """A connected paho client without a network thread (see `Probe.step`), Nagle off.

    Messages go to `inbox`, stamped with `time.perf_counter()` as paho hands them over.
    """
    made = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:8]}")
    made.on_socket_open = _no_delay
    if inbox is not None:
        made.on_message = lambda c, u, m: inbox.append(
            (time.perf_counter(), m.topic, bytes(m.payload))
        )
    made.connect("127.0.0.1", port)
    return made


def _no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """The measuring side sends at once (no Nagle), so it adds no delay of its own."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Clients:
    """MQTT clients without network threads, driven from one thread with `select`
    (paho's external-loop API); what they hear is stamped into `inbox`, or handled by
    their own `on_message`."""

    def __init__(self, clients: list[mqtt.Client], inbox: Inbox | None = None) -> None:
        self.clients = clients
        self.inbox: Inbox = [] if inbox is None else inbox

    def step(self, timeout: float) -> None:
        """Wait up to `timeout` for traffic and handle it (paho's external-loop API)."""
        sockets: dict[Any, mqtt.Client] = {c.socket(): c for c in self.clients}
        writing = [s for s, c in sockets.items() if c.want_write()]
        readable, writable, _ = select.select(list(sockets), writing, [], timeout)
        for sock in readable:
            sockets[sock].loop_read()
        for sock in writable:
            sockets[sock].loop_write()
        for each in self.clients:
            each.loop_misc()

    def pump(self, seconds: float) -> None:
        """Keep both connections serviced (acks, pings, incoming) for `seconds`."""
        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0:
            self.step(left)

    def wait(self, done: Callable[[], object], timeout: float, what: str) -> None:
        end = time.perf_counter() + timeout
        while not done():
            if time.perf_counter() > end:
                raise TimeoutError(f"no {what} within {timeout:g} s")
            self.step(0.05)

    def first(self, since: int, match: Callable[[str, bytes], bool], timeout: float = 5) -> float:
        """Arrival time of the first message from inbox[since:] that matches."""
        found: list[float] = []

        def seen() -> bool:
            found.extend(t for t, topic, body in self.inbox[since:] if match(topic, body))
            return bool(found)

        self.wait(seen, timeout, "expected message")
        return found[0]

    def close(self) -> None:
        for each in self.clients:
            each.disconnect()


class Probe(Clients):
    """Two MQTT clients driven from one thread with `select`, like two peers of cocoon:
    `presser` presses buttons (Home Assistant's part), `listener` stands in for Zigbee2MQTT:
    it records every `/set` and answers it, after the stamp, with the device's whole new
    state, retained. Two connections, as in a home: one connection would carry the broker's
    PUBACK of a press and then the `/set`, which adds the measuring side's own TCP delays.

    The listener also hears its own reports back; `unconfirmed` counts those the broker
    has not yet passed on, so the next press cannot overtake a report to cocoon.
    """

    def __init__(self, port: int, topics: list[str]) -> None:
        inbox: Inbox = []
        self.devices = devices_before()
        self.unconfirmed = 0
        self.following = True
        self.presser = client(port, inbox)
        self.listener = client(port, inbox)
        super().__init__([self.presser, self.listener], inbox)
        self.wait(lambda: all(c.is_connected() for c in self.clients), 5, "connection")
        self.acked: list[int] = []
        self.listener.on_subscribe = lambda *args: self.acked.append(args[2])
        self.listener.on_unsubscribe = lambda *args: self.acked.append(args[2])
        self.listener.on_message = self._on_listener
        wanted = [*topics, *sorted(STATE_TOPICS)]
        _, mid = self.listener.subscribe([(topic, 1) for topic in wanted])
        self.wait(lambda: mid in self.acked, 5, "subscription")

    def _on_listener(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.inbox.append((time.perf_counter(), message.topic, bytes(message.payload)))
        if message.topic in STATE_TOPICS and not message.retain:
            self.unconfirmed -= 1
        elif message.topic in SET_TOPICS:
            device = message.topic.split("/")[1]
            command = json.loads(message.payload)
            command.pop("transition", None)
            self.devices[device].update(command)
            self.report(device)

    def report(self, device: str) -> None:
        """Publish a device's state as Zigbee2MQTT would (retained)."""
        body = json.dumps(self.devices[device]).encode()
        self.unconfirmed += self.following
        self.listener.publish(f"zigbee2mqtt/{device}", body, qos=0, retain=True)

    def follow_reports(self, follow: bool) -> None:
        """Stop (during a flood) or start again hearing the devices' state topics."""
        topics = sorted(STATE_TOPICS)
        self.wait(lambda: self.unconfirmed == 0, 5, "reports passed on")
        if follow:
            _, mid = self.listener.subscribe([(topic, 1) for topic in topics])
        else:
            _, mid = self.listener.unsubscribe(topics)
        self.wait(lambda: mid in self.acked, 5, "(un)subscription")
        self.following = follow

    def press(self, topic: str, payload: str, qos: int = 1) -> float:
        """Publish from the presser; returns the perf_counter taken just before."""
        began = time.perf_counter()
        self.presser.publish(topic, payload, qos=qos)
        return began


def press_once(probe: Probe, rng: random.Random, qos: int = 1) -> float:
    """One sporadic press of "Calm now": idle 50-150 ms, press, time the first `/set`;
    then let it settle and hand back with mode `off`. Returns the latency in ms."""
    probe.pump(rng.uniform(0.05, 0.15))
    mark = len(probe.inbox)
    began = probe.press(PRESS_TOPIC, "PRESS", qos)
    arrived = probe.first(mark, lambda topic, _: topic in SET_TOPICS)
    settle(probe, mark, b"Calm now")
    mark = len(probe.inbox)
    probe.press(MODE_SET, "off")
    settle(probe, mark, b"Off")
    return (arrived - began) * 1000


def settle(probe: Probe, since: int, mode: bytes) -> None:
    """Wait for a command to every light, for the mode's status (sent 50 ms later), and
    until the broker has passed on every report the listener sent."""

    def done() -> bool:
        seen = {topic for _, topic, _ in probe.inbox[since:]}
        mode_seen = any(t == MODE_TOPIC and b == mode for _, t, b in probe.inbox[since:])
        lights = all(f"zigbee2mqtt/{name}/set" in seen for name in LIGHTS)
        return mode_seen and lights and probe.unconfirmed == 0

    probe.wait(done, 5, f"commands and mode {mode.decode()}")
