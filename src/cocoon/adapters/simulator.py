"""A small Zigbee2MQTT stand-in: lights, thermostats and plant sensors on a real broker.

Used by the tests and by `cocoon demo`. It behaves as Zigbee2MQTT does with its defaults:

- a device is silent until it changes or is asked: `<base>/<name>/get` is answered with
  its state on `<base>/<name>`, not retained (Zigbee2MQTT's `retain: false`);
- `<base>/<name>/set` is applied as the device does it (colour temperature clamped to
  the light's own range, 153-454 mireds unless told otherwise; setpoints rounded to the
  valve's step) and the new state is reported at once with the final values
  (Zigbee2MQTT reports the target, not the steps of a transition);
- `<base>/bridge/state` is `{"state": "online"}` (retained) while it runs, and its last
  will says `{"state": "offline"}`; `<base>/bridge/devices` (retained) lists every device
  with real-shaped `definition.exposes`, `<base>/bridge/groups` the groups;
- `kill()` ends it the hard way (the will fires), `stop()` the clean way, and `start()`
  brings it back, devices as they were.

`Zigbee2MqttSimulator.of_site(homes, ...)` plays every device of every home of a site on
one network and client, a device named `"<home id>/<device id>"`; with `mqtt5=True` it
records who sent each command (`senders()`: a fleet worker's `cocoon-worker` property).

`eager=True` keeps an older, easier world for the few tests that say why they need it:
every device reports at start and after every change, retained.
`look()` tells what a light shows mid-way through a transition.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from cocoon.adapters.sim_devices import (
    DEVICE_MIREDS,
    SETPOINT_RANGE,
    Simulated,
    apply_light,
    initial_devices,
    listing,
    number_field,
    sender_of,
    site_devices,
)
from cocoon.adapters.z2m_bridge import FULL_BRIGHTNESS
from cocoon.adapters.zigbee2mqtt import DEFAULT_BASE, base_topic
from cocoon.config.schema import CocoonConfig
from cocoon.errors import BusError

_LOGGER = logging.getLogger(__name__)

_START_TIMEOUT = 5.0
_BATCH = 200  # topics per SUBSCRIBE


class Zigbee2MqttSimulator:
    """Simulates every Zigbee2MQTT device of a config on the broker at `host:port`."""

    def __init__(
        self,
        cfg: CocoonConfig,
        host: str,
        port: int,
        *,
        eager: bool = False,
        mireds: tuple[int, int] = DEVICE_MIREDS,
        setpoint_step: float = 0.5,
    ) -> None:
        devices = initial_devices(cfg, mireds)
        names = {name: name for name in devices}
        self._setup(base_topic(cfg), devices, names, host, port, eager, setpoint_step, False)

    @classmethod
    def of_site(
        cls,
        homes: Mapping[str, CocoonConfig],
        host: str,
        port: int,
        *,
        eager: bool = False,
        mireds: tuple[int, int] = DEVICE_MIREDS,
        setpoint_step: float = 0.5,
        mqtt5: bool = False,
    ) -> Zigbee2MqttSimulator:
        """Every Zigbee2MQTT device of every home (by home id) with one MQTT client, on
        their shared base topic; a device is named `"<home id>/<device id>"` here."""
        bases = {base_topic(cfg) for cfg in homes.values()}
        if len(bases) > 1:
            raise ValueError(f"the homes are on several Zigbee2MQTT networks: {sorted(bases)}")
        devices, names = site_devices(homes, mireds)
        simulator = cls.__new__(cls)
        base = bases.pop() if bases else DEFAULT_BASE
        simulator._setup(base, devices, names, host, port, eager, setpoint_step, mqtt5)
        return simulator

    def _setup(
        self,
        base: str,
        devices: dict[str, Simulated],
        names: dict[str, str],
        host: str,
        port: int,
        eager: bool,
        setpoint_step: float,
        mqtt5: bool,
    ) -> None:
        self._host = host
        self._mqtt5 = mqtt5
        self._port = port
        self._base = base
        self._eager = eager
        self._step = setpoint_step
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._devices = devices  # by friendly name: what the topics say
        self._names = names  # the name given to this API → the friendly name
        self._unacked: set[int] = set()
        self._client = self._new_client()

    def _new_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"cocoon-sim-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv5 if self._mqtt5 else mqtt.MQTTv311,
        )
        client.will_set(self._bridge_state, b'{"state":"offline"}', qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    @property
    def _bridge_state(self) -> str:
        return f"{self._base}/bridge/state"

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        """Connect, say online, list the devices, subscribe to `/set` and `/get`; wait 5 s."""
        self._ready.clear()
        try:
            self._client.connect(self._host, self._port, keepalive=30)
        except OSError as exc:
            raise BusError(f"simulator cannot reach {self._host}:{self._port}: {exc}") from exc
        self._client.loop_start()
        if not self._ready.wait(_START_TIMEOUT):
            self.stop()
            raise BusError(f"simulator not subscribed on {self._host}:{self._port} in 5 s")

    def stop(self) -> None:
        """Stop the way Zigbee2MQTT does: say offline (retained), disconnect."""
        info = self._client.publish(self._bridge_state, b'{"state":"offline"}', qos=1, retain=True)
        if self._client.is_connected():
            info.wait_for_publish(_START_TIMEOUT)
        self._client.disconnect()
        self._client.loop_stop()
        self._client = self._new_client()

    def kill(self) -> None:
        """End without a word (a crash, a pulled plug): the broker fires the last will."""
        self._client.loop_stop()
        sock = self._client.socket()
        if sock is not None:
            sock.close()
        self._client = self._new_client()

    # -- what tests and the demo do to the devices -----------------------------------

    def set_reading(self, name: str, key: str, value: float) -> None:
        """A sensor reads a new value: record it and report."""
        with self._lock:
            device = self._device(name)
            device.state[key] = value
            self._report(device)

    def set_light(
        self,
        name: str,
        *,
        on: bool,
        brightness_pct: float | None = None,
        kelvin: float | None = None,
        xy: tuple[float, float] | None = None,
    ) -> None:
        """A person changes a light by hand (no transition): apply and report."""
        command: dict[str, object] = {"state": "ON" if on else "OFF"}
        if brightness_pct is not None:
            command["brightness"] = max(
                1, min(FULL_BRIGHTNESS, round(brightness_pct * FULL_BRIGHTNESS / 100))
            )
        if kelvin is not None:
            command["color_temp"] = round(1e6 / kelvin)
        if xy is not None:
            command["color"] = {"x": xy[0], "y": xy[1]}
        with self._lock:
            device = self._device(name)
            apply_light(device, command, time.monotonic())
            self._report(device)

    def set_available(self, name: str, online: bool) -> None:
        """The device drops off the network or comes back."""
        with self._lock:
            device = self._device(name)
            device.online = online
            self._announce(device)

    # -- what tests look at -----------------------------------------------------------

    def received(self, name: str) -> list[dict[str, object]]:
        """Every `/set` payload received, in order, each with `received_at` (monotonic)."""
        with self._lock:
            return [dict(payload) for payload in self._device(name).received]

    def senders(self, name: str) -> list[tuple[float, str | None]]:
        """Who sent each `/set` and `/get` (None: no `cocoon-worker` property), and when
        (monotonic), in order (with `mqtt5=True`)."""
        with self._lock:
            return list(self._device(name).senders)

    def asked(self, name: str) -> list[dict[str, object]]:
        """Every `/get` payload received, in order."""
        with self._lock:
            return [dict(payload) for payload in self._device(name).asked]

    def state(self, name: str) -> dict[str, object]:
        """The state the device last reported (transitions at their final values)."""
        with self._lock:
            return dict(self._device(name).state)

    def look(self, name: str, at: float | None = None) -> dict[str, object]:
        """The state as seen at monotonic time `at` (now by default), mid-transition included.

        While a transition runs, `brightness` is what the light shows (from 0 when it
        was off, to 0 when it goes off) and `state` is ON.
        """
        moment = time.monotonic() if at is None else at
        with self._lock:
            device = self._device(name)
            seen = dict(device.state)
            if device.fade is not None and device.fade.at(moment) is not None:
                brightness, mireds = device.visible(moment)
                seen.update(state="ON", brightness=brightness, color_temp=mireds)
            return seen

    # -- paho's thread ----------------------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            _LOGGER.warning("simulator: broker refused the connection: %s", reason_code)
            return
        topics = [
            (f"{self._base}/{name}/{verb}", 1) for name in self._devices for verb in ("set", "get")
        ]
        with self._lock:
            client.publish(self._bridge_state, b'{"state":"online"}', qos=1, retain=True)
            devices = json.dumps(
                [listing(d.name, d.kind, d.ieee, d.mireds, d.state) for d in self._devices.values()]
            )
            client.publish(f"{self._base}/bridge/devices", devices.encode(), qos=1, retain=True)
            client.publish(f"{self._base}/bridge/groups", b"[]", qos=1, retain=True)
            if self._eager:
                for device in self._devices.values():
                    self._announce(device)
                    self._report(device)
        # In batches, as a broker may cap one SUBSCRIBE's size; ready once all are acked.
        # on_subscribe runs on this same thread, so no acknowledgement can come before its
        # message id is recorded.
        self._unacked = set()
        for at in range(0, len(topics), _BATCH):
            _, mid = client.subscribe(topics[at : at + _BATCH])
            if mid is not None:
                self._unacked.add(mid)
        if not self._unacked:
            self._ready.set()

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Any,
    ) -> None:
        self._unacked.discard(mid)
        if not self._unacked:
            self._ready.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        name, _, verb = message.topic.removeprefix(f"{self._base}/").rpartition("/")
        try:
            payload = json.loads(message.payload)
        except (ValueError, UnicodeDecodeError):
            _LOGGER.warning("simulator: %s got a payload that is not JSON", name)
            return
        if not isinstance(payload, dict) or name not in self._devices:
            _LOGGER.warning("simulator: %s got %r, not a JSON object", message.topic, payload)
            return
        now = time.monotonic()
        sender = sender_of(message.properties)
        with self._lock:
            device = self._devices[name]
            device.senders.append((now, sender))
            if verb == "get":
                device.asked.append(dict(payload))
                self._report(device)
                return
            device.received.append({**payload, "received_at": now})
            if device.kind == "light":
                apply_light(device, payload, now)
            elif device.kind == "thermostat":
                setpoint = number_field(payload, "current_heating_setpoint")
                if setpoint is not None:
                    # A valve holds its own steps within its own range.
                    low, high = SETPOINT_RANGE
                    held = min(high, max(low, round(setpoint / self._step) * self._step))
                    device.state["current_heating_setpoint"] = round(held, 2)
            self._report(device)

    # -- helpers (called with the lock held) -----------------------------------------

    def _device(self, name: str) -> Simulated:
        try:
            return self._devices[self._names[name]]
        except KeyError:
            raise KeyError(f"{name} is not a simulated Zigbee2MQTT device") from None

    def _report(self, device: Simulated) -> None:
        # Published under the lock so two reports of one device arrive in order.
        payload = json.dumps(device.state).encode()
        topic = f"{self._base}/{device.name}"
        self._client.publish(topic, payload, qos=1, retain=self._eager)

    def _announce(self, device: Simulated) -> None:
        payload = json.dumps({"state": "online" if device.online else "offline"}).encode()
        topic = f"{self._base}/{device.name}/availability"
        self._client.publish(topic, payload, qos=1, retain=True)
