"""A small Zigbee2MQTT stand-in: lights, thermostats and plant sensors on a real broker.

Used by the tests and by `cocoon demo`. It answers the configured Zigbee2MQTT devices'
`<base>/<name>/set` like Zigbee2MQTT does: it applies the command and reports the whole
state, retained, on `<base>/<name>` right away with the final values (Zigbee2MQTT reports
the target, not the steps of a transition). `look()` tells what a light shows mid-way.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from cocoon.adapters.zigbee2mqtt import base_topic
from cocoon.config.schema import CocoonConfig, DeviceKind
from cocoon.core.plants import reading_key
from cocoon.errors import BusError

_LOGGER = logging.getLogger(__name__)

_FULL = 254
_START_TIMEOUT = 5.0
# What a plant sensor reads at start, by the kind of reading a plant asks of it.
_READINGS = {"moisture": 40.0, "illuminance": 800.0, "temperature": 21.0}
_PLANT_SENSOR = {"soil_moisture": 40.0, "illuminance": 800.0, "temperature": 21.0}


@dataclass(slots=True)
class _Fade:
    """A transition under way: visible brightness (0 when off) and colour, from and to."""

    start: tuple[float, float]
    end: tuple[float, float]
    began: float
    duration: float

    def at(self, moment: float) -> tuple[float, float] | None:
        """The look at `moment`, or None once the transition is over."""
        if moment >= self.began + self.duration:
            return None
        done = max(0.0, (moment - self.began) / self.duration)
        b0, c0 = self.start
        b1, c1 = self.end
        return b0 + (b1 - b0) * done, c0 + (c1 - c0) * done


@dataclass(slots=True)
class _Simulated:
    """One simulated device: its reported state, the commands it got, its fade."""

    name: str
    kind: DeviceKind
    state: dict[str, object]
    mireds: tuple[int, int] = (153, 500)
    online: bool = True
    received: list[dict[str, object]] = field(default_factory=list)
    fade: _Fade | None = None

    def visible(self, moment: float) -> tuple[float, float]:
        """Brightness as seen (0 when off) and colour temperature, at `moment`."""
        if self.fade is not None:
            seen = self.fade.at(moment)
            if seen is not None:
                return seen
        on = self.state["state"] == "ON"
        return (float(_num(self.state["brightness"])) if on else 0.0), _num(
            self.state["color_temp"]
        )


def _num(value: object) -> float:
    assert isinstance(value, int | float)
    return float(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _field(command: dict[str, Any], key: str) -> float | None:
    """A numeric field of a command, None when absent or not a number (then ignored)."""
    value: object = command.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class Zigbee2MqttSimulator:
    """Simulates every Zigbee2MQTT device of a config on the broker at `host:port`."""

    def __init__(self, cfg: CocoonConfig, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._base = base_topic(cfg)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._devices = _initial_devices(cfg)
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"cocoon-sim-{secrets.token_hex(4)}"
        )
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        """Connect, subscribe to every `/set` topic and report every device; wait up to 5 s."""
        try:
            self._client.connect(self._host, self._port, keepalive=30)
        except OSError as exc:
            raise BusError(f"simulator cannot reach {self._host}:{self._port}: {exc}") from exc
        self._client.loop_start()
        if not self._ready.wait(_START_TIMEOUT):
            self.stop()
            raise BusError(f"simulator not subscribed on {self._host}:{self._port} in 5 s")

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self._client.disconnect()
        self._client.loop_stop()

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
    ) -> None:
        """A person changes a light by hand (no transition): apply and report."""
        command: dict[str, object] = {"state": "ON" if on else "OFF"}
        if brightness_pct is not None:
            command["brightness"] = max(1, min(_FULL, round(brightness_pct * _FULL / 100)))
        if kelvin is not None:
            command["color_temp"] = round(1e6 / kelvin)
        with self._lock:
            device = self._device(name)
            _apply_light(device, command, time.monotonic())
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
        topics = [(f"{self._base}/{name}/set", 1) for name in self._devices]
        with self._lock:
            for device in self._devices.values():
                self._announce(device)
                self._report(device)
        if topics:
            client.subscribe(topics)
        else:
            self._ready.set()

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Any,
    ) -> None:
        self._ready.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        name = message.topic.removeprefix(f"{self._base}/").removesuffix("/set")
        try:
            payload = json.loads(message.payload)
        except (ValueError, UnicodeDecodeError):
            _LOGGER.warning("simulator: %s got a payload that is not JSON", name)
            return
        if not isinstance(payload, dict) or name not in self._devices:
            _LOGGER.warning("simulator: %s got %r, not a JSON object", message.topic, payload)
            return
        now = time.monotonic()
        with self._lock:
            device = self._devices[name]
            device.received.append({**payload, "received_at": now})
            if device.kind == "light":
                _apply_light(device, payload, now)
            elif device.kind == "thermostat":
                setpoint = payload.get("current_heating_setpoint")
                if _is_number(setpoint):
                    device.state["current_heating_setpoint"] = setpoint
            self._report(device)

    # -- helpers (called with the lock held) -----------------------------------------

    def _device(self, name: str) -> _Simulated:
        try:
            return self._devices[name]
        except KeyError:
            raise KeyError(f"{name} is not a simulated Zigbee2MQTT device") from None

    def _report(self, device: _Simulated) -> None:
        # Published under the lock so two reports of one device leave the newer retained.
        payload = json.dumps(device.state).encode()
        self._client.publish(f"{self._base}/{device.name}", payload, qos=1, retain=True)

    def _announce(self, device: _Simulated) -> None:
        payload = json.dumps({"state": "online" if device.online else "offline"}).encode()
        topic = f"{self._base}/{device.name}/availability"
        self._client.publish(topic, payload, qos=1, retain=True)


def _apply_light(device: _Simulated, command: dict[str, Any], now: float) -> None:
    """Apply a `/set` payload the way Zigbee2MQTT and a light do."""
    before = device.visible(now)
    state = device.state
    on = state["state"] == "ON"
    wanted = command.get("state")
    if isinstance(wanted, str) and wanted.upper() in {"ON", "OFF", "TOGGLE"}:
        on = {"ON": True, "OFF": False}.get(wanted.upper(), not on)
    brightness = _field(command, "brightness")
    if brightness is not None:
        if brightness <= 0:
            on = False  # brightness 0 switches a light off; its level stays as it was
        else:
            state["brightness"] = min(_FULL, max(1, round(brightness)))
            on = on if wanted is not None else True
    colour = _field(command, "color_temp")
    if colour is not None:
        low, high = device.mireds
        state["color_temp"] = min(high, max(low, round(colour)))
    state["state"] = "ON" if on else "OFF"
    transition = _field(command, "transition")
    device.fade = None
    if transition is not None and transition > 0:
        device.fade = _Fade(before, device.visible(now), now, transition)


def _initial_devices(cfg: CocoonConfig) -> dict[str, _Simulated]:
    """Every Zigbee2MQTT device of the config, in its starting state, by friendly name."""
    plant_keys: dict[str, dict[str, float]] = {}
    for plant in cfg.plants.values():
        for kind, threshold in plant.thresholds().items():
            sensor, key = reading_key(cfg, kind, threshold)
            plant_keys.setdefault(sensor, dict(_PLANT_SENSOR))[key] = _READINGS[kind]
    found: dict[str, _Simulated] = {}
    for device_id, device in cfg.devices.items():
        if device.zigbee2mqtt is None:
            continue
        state: dict[str, object]
        if device.kind == "light":
            state = {"state": "OFF", "brightness": _FULL, "color_temp": 370}
        elif device.kind == "thermostat":
            state = {"current_heating_setpoint": 20.0, "local_temperature": 19.5}
        else:
            state = {**plant_keys.get(device_id, {}), "battery": 100}
        state["linkquality"] = 120
        mireds = (round(1e6 / device.max_kelvin), round(1e6 / device.min_kelvin))
        found[device.zigbee2mqtt] = _Simulated(device.zigbee2mqtt, device.kind, state, mireds)
    return found
