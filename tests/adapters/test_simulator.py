"""The Zigbee2MQTT simulator on a real Mosquitto, behaving as Zigbee2MQTT does by default."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.adapters.z2m_gateway import Zigbee2MqttGateway
from cocoon.adapters.zigbee2mqtt import Zigbee2MqttDevices
from cocoon.config.schema import CocoonConfig
from cocoon.core.events import Availability, ClimateReport, LightReport, SensorReport
from cocoon.core.model import ClimateCommand, LightCommand, LightState
from cocoon.ports import Message

pytestmark = pytest.mark.integration

TIMEOUT = 5.0


def config(base: str) -> CocoonConfig:
    """A home whose Zigbee2MQTT base topic is `base`."""
    return CocoonConfig.model_validate(
        {
            "home": {
                "name": "Flat",
                "latitude": 50.85,
                "longitude": 4.35,
                "timezone": "Europe/Brussels",
            },
            "mqtt": {"zigbee2mqtt_topic": base},
            "devices": {
                "desk": {"zigbee2mqtt": "desk"},
                "sofa": {"zigbee2mqtt": "living/sofa", "min_kelvin": 2200, "max_kelvin": 4000},
                "heat": {"zigbee2mqtt": "radiator", "kind": "thermostat"},
                "soil": {"zigbee2mqtt": "soil", "kind": "sensor"},
                "meter": {"zigbee2mqtt": "meter", "kind": "sensor"},
            },
            "plants": {
                "monstera": {
                    "moisture": {"sensor": "soil", "below": 25},
                    "illuminance": {"sensor": "soil", "below": 200},
                },
            },
        }
    )


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


class Probe:
    """A plain MQTT client that watches `<base>/#` and publishes commands, as cocoon would.

    Topics given to it are relative to the base.
    """

    def __init__(self, host: str, port: int, base: str) -> None:
        self.base = base
        self._lock = threading.Lock()
        self._messages: list[mqtt.MQTTMessage] = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"probe-{secrets.token_hex(4)}"
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe(f"{base}/#", qos=1)
        assert self._subscribed.wait(TIMEOUT), "probe not subscribed"

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._messages.append(message)

    def messages(self, topic: str) -> list[mqtt.MQTTMessage]:
        with self._lock:
            return [m for m in self._messages if m.topic == f"{self.base}/{topic}"]

    def last(self, topic: str) -> dict[str, Any] | None:
        found = self.messages(topic)
        if not found:
            return None
        data = json.loads(found[-1].payload)
        assert isinstance(data, dict)
        return data

    def wait_last(self, topic: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        def ready() -> bool:
            data = self.last(topic)
            return data is not None and check(data)

        wait_for(ready, f"a report on {topic}")
        data = self.last(topic)
        assert data is not None
        return data

    def received(self, topic: str) -> Message:
        """The last message on `topic`, exactly as it came (for decoding)."""
        last = self.messages(topic)[-1]
        return Message(last.topic, bytes(last.payload), last.qos, last.retain)

    def send(self, topic: str, payload: dict[str, Any] | bytes) -> None:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.client.publish(f"{self.base}/{topic}", raw, qos=1).wait_for_publish(TIMEOUT)

    def publish(self, message: Message) -> None:
        self.client.publish(message.topic, message.payload, message.qos, message.retain)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def base() -> str:
    """A base topic of the test's own: the broker (and its retained messages) is shared."""
    return f"z2m-{secrets.token_hex(4)}"


@pytest.fixture
def simulator(mosquitto: Any, base: str) -> Iterator[Zigbee2MqttSimulator]:
    sim = Zigbee2MqttSimulator(config(base), mosquitto.host, mosquitto.port)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def probe(mosquitto: Any, base: str, simulator: Zigbee2MqttSimulator) -> Iterator[Probe]:
    del simulator  # started first, so its retained reports are there to see
    watcher = Probe(mosquitto.host, mosquitto.port, base)
    yield watcher
    watcher.close()


def test_start_says_online_and_lists_the_devices_and_reports_nothing(
    simulator: Zigbee2MqttSimulator, probe: Probe
) -> None:
    assert probe.wait_last("bridge/state", lambda d: True) == {"state": "online"}
    assert probe.messages("bridge/state")[-1].retain
    wait_for(lambda: bool(probe.messages("bridge/devices")), "bridge/devices")
    listed = json.loads(probe.messages("bridge/devices")[-1].payload)
    assert probe.messages("bridge/devices")[-1].retain
    names = [device["friendly_name"] for device in listed]
    assert names == ["desk", "living/sofa", "radiator", "soil", "meter"]
    light = listed[0]["definition"]["exposes"][0]
    assert light["type"] == "light"
    colour = next(f for f in light["features"] if f["name"] == "color_temp")
    assert (colour["value_min"], colour["value_max"]) == (153, 454)  # its own, not the config's
    # Silent until asked: no state, no availability (Zigbee2MQTT's defaults).
    for name in ("desk", "living/sofa", "radiator", "soil"):
        assert probe.messages(name) == []
        assert probe.messages(f"{name}/availability") == []


def test_a_get_is_answered_with_the_state_not_retained(
    simulator: Zigbee2MqttSimulator, probe: Probe
) -> None:
    probe.send("desk/get", {"state": "", "brightness": "", "color_temp": ""})
    desk = probe.wait_last("desk", lambda d: True)
    assert {k: desk[k] for k in ("state", "brightness", "color_temp", "color_mode")} == {
        "state": "OFF",
        "brightness": 254,
        "color_temp": 370,
        "color_mode": "color_temp",
    }
    assert not probe.messages("desk")[-1].retain
    probe.send("radiator/get", {"current_heating_setpoint": ""})
    heat = probe.wait_last("radiator", lambda d: True)
    assert heat == {"current_heating_setpoint": 20, "local_temperature": 19.5, "linkquality": 120}
    assert simulator.asked("desk") == [{"state": "", "brightness": "", "color_temp": ""}]


def test_eager_reports_every_device_retained_at_start(mosquitto: Any, base: str) -> None:
    sim = Zigbee2MqttSimulator(config(base), mosquitto.host, mosquitto.port, eager=True)
    sim.start()
    probe = Probe(mosquitto.host, mosquitto.port, base)
    try:
        soil = probe.wait_last("soil", lambda d: True)
        assert (soil["soil_moisture"], soil["illuminance"], soil["temperature"]) == (40, 800, 21)
        assert probe.messages("soil")[-1].retain
        assert probe.wait_last("desk/availability", lambda d: True) == {"state": "online"}
    finally:
        probe.close()
        sim.stop()


def test_killed_its_will_says_offline_and_restarted_it_is_back(
    mosquitto: Any, simulator: Zigbee2MqttSimulator, probe: Probe
) -> None:
    probe.wait_last("bridge/state", lambda d: d == {"state": "online"})
    probe.send("desk/set", {"state": "ON", "brightness": 100})
    probe.wait_last("desk", lambda d: d["state"] == "ON")
    simulator.kill()
    probe.wait_last("bridge/state", lambda d: d == {"state": "offline"})
    late = Probe(mosquitto.host, mosquitto.port, probe.base)
    try:  # the will is retained: whoever comes later knows Zigbee2MQTT is away
        assert late.wait_last("bridge/state", lambda d: True) == {"state": "offline"}
    finally:
        late.close()
    simulator.start()
    probe.wait_last("bridge/state", lambda d: d == {"state": "online"})
    # The devices kept their state while it was away.
    probe.send("desk/get", {"state": ""})
    wait_for(lambda: len(probe.messages("desk")) == 2, "the answer")
    assert probe.last("desk")["brightness"] == 100  # type: ignore[index]
    simulator.stop()
    probe.wait_last("bridge/state", lambda d: d == {"state": "offline"})
    simulator.start()


def test_a_valve_rounds_to_its_step(mosquitto: Any, base: str) -> None:
    sim = Zigbee2MqttSimulator(config(base), mosquitto.host, mosquitto.port, setpoint_step=1.0)
    sim.start()
    probe = Probe(mosquitto.host, mosquitto.port, base)
    try:
        probe.send("radiator/set", {"current_heating_setpoint": 21.5})
        assert probe.wait_last("radiator", lambda d: True)["current_heating_setpoint"] == 22
        probe.send("radiator/set", {"current_heating_setpoint": 40})
        wait_for(lambda: len(probe.messages("radiator")) == 2, "the second report")
        assert probe.last("radiator")["current_heating_setpoint"] == 30  # type: ignore[index]
    finally:
        probe.close()
        sim.stop()


def test_a_colour_set_by_hand_leaves_colour_temperature_mode(
    simulator: Zigbee2MqttSimulator, probe: Probe
) -> None:
    simulator.set_light("desk", on=True, brightness_pct=50, xy=(0.6, 0.3))
    report = probe.wait_last("desk", lambda d: d["state"] == "ON")
    assert (report["color_mode"], report["color"]) == ("xy", {"x": 0.6, "y": 0.3})
    probe.send("desk/set", {"color": {"x": 0.3, "y": 0.3}})
    probe.wait_last("desk", lambda d: d["color"] == {"x": 0.3, "y": 0.3})
    probe.send("desk/set", {"color_temp": 300})
    assert probe.wait_last("desk", lambda d: d["color_mode"] == "color_temp")["color_temp"] == 300


def test_a_set_makes_the_simulator_report_the_new_state(
    simulator: Zigbee2MqttSimulator, probe: Probe
) -> None:
    probe.send("desk/set", {"state": "ON", "brightness": 127, "color_temp": 300})
    report = probe.wait_last("desk", lambda d: d["state"] == "ON")
    assert (report["brightness"], report["color_temp"]) == (127, 300)
    assert simulator.state("desk")["brightness"] == 127
    (received,) = simulator.received("desk")
    assert received["state"] == "ON"
    assert isinstance(received["received_at"], float)
    assert received["received_at"] <= time.monotonic()


def test_a_report_is_not_retained(
    mosquitto: Any, simulator: Zigbee2MqttSimulator, probe: Probe
) -> None:
    probe.send("desk/set", {"state": "ON", "brightness": 50})
    probe.wait_last("desk", lambda d: d["state"] == "ON")
    assert not probe.messages("desk")[-1].retain


def test_a_transition_reports_the_target_at_once_and_looks_mid_way(
    simulator: Zigbee2MqttSimulator, probe: Probe
) -> None:
    probe.send("desk/set", {"state": "ON", "brightness": 200, "transition": 10})
    report = probe.wait_last("desk", lambda d: d["state"] == "ON")
    assert report["brightness"] == 200  # Zigbee2MQTT reports the target, not the steps
    start = simulator.received("desk")[-1]["received_at"]
    assert isinstance(start, float)
    halfway = simulator.look("desk", at=start + 5)
    assert halfway["state"] == "ON"
    assert halfway["brightness"] == pytest.approx(100)  # from dark (it was off) to 200
    assert halfway["color_temp"] == pytest.approx(370)
    assert simulator.look("desk", at=start + 2.5)["brightness"] == pytest.approx(50)
    assert simulator.look("desk", at=start + 10)["brightness"] == 200
    assert simulator.look("desk", at=start + 60) == simulator.state("desk")


def test_a_transition_between_two_looks(simulator: Zigbee2MqttSimulator, probe: Probe) -> None:
    probe.send("living/sofa/set", {"state": "ON", "brightness": 200, "color_temp": 250})
    probe.wait_last("living/sofa", lambda d: d["state"] == "ON")
    probe.send("living/sofa/set", {"brightness": 100, "color_temp": 450, "transition": 4})
    probe.wait_last("living/sofa", lambda d: d["brightness"] == 100)
    start = simulator.received("living/sofa")[-1]["received_at"]
    assert isinstance(start, float)
    quarter = simulator.look("living/sofa", at=start + 1)
    assert quarter["brightness"] == pytest.approx(175)
    assert quarter["color_temp"] == pytest.approx(300)


def test_fading_off_dims_to_dark_then_reports_off(
    simulator: Zigbee2MqttSimulator, probe: Probe
) -> None:
    probe.send("desk/set", {"state": "ON", "brightness": 100})
    probe.wait_last("desk", lambda d: d["state"] == "ON")
    probe.send("desk/set", {"state": "OFF", "transition": 2})
    report = probe.wait_last("desk", lambda d: d["state"] == "OFF")
    assert report["brightness"] == 100  # an off light keeps the level it comes back at
    start = simulator.received("desk")[-1]["received_at"]
    assert isinstance(start, float)
    halfway = simulator.look("desk", at=start + 1)
    assert halfway["state"] == "ON"
    assert halfway["brightness"] == pytest.approx(50)
    assert halfway["color_temp"] == pytest.approx(370)
    assert simulator.look("desk", at=start + 2)["state"] == "OFF"


def test_colour_is_clamped_to_the_lights_range(
    simulator: Zigbee2MqttSimulator, probe: Probe
) -> None:
    probe.send("living/sofa/set", {"state": "ON", "color_temp": 100})
    report = probe.wait_last("living/sofa", lambda d: d["state"] == "ON")
    assert report["color_temp"] == 153  # the bulb's coldest, whatever the config says
    probe.send("living/sofa/set", {"color_temp": 500})
    assert probe.wait_last("living/sofa", lambda d: d["color_temp"] != 153)["color_temp"] == 454


def test_a_thermostat_takes_a_setpoint(simulator: Zigbee2MqttSimulator, probe: Probe) -> None:
    probe.send("radiator/set", {"current_heating_setpoint": 21.5})
    report = probe.wait_last("radiator", lambda d: d["current_heating_setpoint"] == 21.5)
    assert report["local_temperature"] == 19.5


def test_set_reading_publishes_a_report(simulator: Zigbee2MqttSimulator, probe: Probe) -> None:
    simulator.set_reading("soil", "soil_moisture", 12)
    report = probe.wait_last("soil", lambda d: d["soil_moisture"] == 12)
    assert report["illuminance"] == 800  # the rest of the state comes along
    assert simulator.state("soil")["soil_moisture"] == 12


def test_a_person_changes_a_light_by_hand(simulator: Zigbee2MqttSimulator, probe: Probe) -> None:
    simulator.set_light("desk", on=True, brightness_pct=50, kelvin=2700)
    report = probe.wait_last("desk", lambda d: d["state"] == "ON")
    assert (report["brightness"], report["color_temp"]) == (127, 370)
    assert simulator.received("desk") == []  # nothing came over /set
    simulator.set_light("desk", on=False)
    assert probe.wait_last("desk", lambda d: d["state"] == "OFF")["brightness"] == 127


def test_a_device_goes_offline_and_back(simulator: Zigbee2MqttSimulator, probe: Probe) -> None:
    simulator.set_available("desk", False)
    probe.wait_last("desk/availability", lambda d: d == {"state": "offline"})
    simulator.set_available("desk", True)
    probe.wait_last("desk/availability", lambda d: d == {"state": "online"})


def test_junk_commands_are_dropped_and_the_device_still_answers(
    simulator: Zigbee2MqttSimulator, probe: Probe
) -> None:
    probe.send("desk/set", b"not json")
    probe.send("desk/set", b"[1]")
    probe.send("desk/set", {"state": "ON", "brightness": 30})
    probe.wait_last("desk", lambda d: d["state"] == "ON")
    assert [r["brightness"] for r in simulator.received("desk")] == [30]


def test_the_gateway_drives_the_simulator_and_reports_decode_back(
    simulator: Zigbee2MqttSimulator, probe: Probe
) -> None:
    cfg = config(probe.base)
    gateway = Zigbee2MqttGateway(cfg, probe.publish)
    devices = Zigbee2MqttDevices(cfg)
    gateway.send(LightCommand("desk", True, 35.0, 2700, 30.0, "evening"))
    gateway.send(ClimateCommand("heat", 21.0, "evening"))
    probe.wait_last("desk", lambda d: d["state"] == "ON")
    probe.wait_last("radiator", lambda d: d["current_heating_setpoint"] == 21)
    assert simulator.received("desk")[-1]["transition"] == 30
    assert devices.decode(probe.received("desk")) == [LightReport("desk", LightState(35.0, 2703.0))]
    assert devices.decode(probe.received("radiator")) == [ClimateReport("heat", 21.0, 19.5)]
    simulator.set_reading("soil", "soil_moisture", 22)
    probe.wait_last("soil", lambda d: d["soil_moisture"] == 22)
    assert SensorReport("soil", "moisture", 22.0) in devices.decode(probe.received("soil"))
    simulator.set_available("desk", False)
    probe.wait_last("desk/availability", lambda d: d == {"state": "offline"})
    assert devices.decode(probe.received("desk/availability")) == [Availability("desk", False)]


def flat(base: str, devices: dict[str, dict[str, Any]]) -> CocoonConfig:
    """One flat of a building whose Zigbee2MQTT base topic is `base`."""
    return CocoonConfig.model_validate(
        {
            "home": {"latitude": 50.85, "longitude": 4.35, "timezone": "Europe/Brussels"},
            "mqtt": {"zigbee2mqtt_topic": base},
            "devices": devices,
        }
    )


def building(base: str) -> dict[str, CocoonConfig]:
    """Two flats on one network, each with a lamp of the same device id."""
    return {
        "flat_a": flat(
            base,
            {
                "lamp": {"zigbee2mqtt": "flat_a/lamp"},
                "heat": {"zigbee2mqtt": "flat_a/radiator", "kind": "thermostat"},
            },
        ),
        "flat_b": flat(base, {"lamp": {"zigbee2mqtt": "flat_b/lamp"}}),
    }


def test_one_simulator_plays_every_flat_of_a_site_and_keeps_them_apart(
    mosquitto: Any, base: str
) -> None:
    sim = Zigbee2MqttSimulator.of_site(building(base), mosquitto.host, mosquitto.port)
    sim.start()
    probe = Probe(mosquitto.host, mosquitto.port, base)
    try:
        assert probe.wait_last("bridge/state", lambda d: True) == {"state": "online"}
        wait_for(lambda: bool(probe.messages("bridge/devices")), "bridge/devices")
        listed = json.loads(probe.messages("bridge/devices")[-1].payload)
        names = [device["friendly_name"] for device in listed]
        assert names == ["flat_a/lamp", "flat_a/radiator", "flat_b/lamp"]
        assert len({device["ieee_address"] for device in listed}) == 3
        probe.send("flat_a/lamp/set", {"state": "ON", "brightness": 100})
        probe.wait_last("flat_a/lamp", lambda d: d["state"] == "ON")
        assert sim.state("flat_a/lamp")["brightness"] == 100
        assert [r["brightness"] for r in sim.received("flat_a/lamp")] == [100]
        assert sim.state("flat_b/lamp")["state"] == "OFF"
        assert sim.received("flat_b/lamp") == []
        assert probe.messages("flat_b/lamp") == []
        sim.set_light("flat_b/lamp", on=True, brightness_pct=50)
        assert probe.wait_last("flat_b/lamp", lambda d: True)["brightness"] == 127
        assert sim.state("flat_a/lamp")["brightness"] == 100
        with pytest.raises(KeyError, match="flat_c/lamp"):
            sim.state("flat_c/lamp")
    finally:
        probe.close()
        sim.stop()


def test_two_flats_naming_one_device_are_refused(base: str) -> None:
    homes = {
        "flat_a": flat(base, {"lamp": {"zigbee2mqtt": "lamp"}}),
        "flat_b": flat(base, {"sofa": {"zigbee2mqtt": "lamp"}}),
    }
    with pytest.raises(ValueError, match="flat_b/sofa and flat_a/lamp"):
        Zigbee2MqttSimulator.of_site(homes, "127.0.0.1", 1)


def test_a_building_of_1600_devices_is_subscribed_whole(mosquitto: Any, base: str) -> None:
    lamps = {f"lamp_{n}": {"zigbee2mqtt": f"lamp_{n}"} for n in range(8)}
    homes = {
        f"flat_{number:03d}": flat(
            base, {d: {"zigbee2mqtt": f"flat_{number:03d}/{d}"} for d in lamps}
        )
        for number in range(200)
    }
    sim = Zigbee2MqttSimulator.of_site(homes, mosquitto.host, mosquitto.port)
    sim.start()
    probe = Probe(mosquitto.host, mosquitto.port, base)
    try:
        # The last topic of the last batch is subscribed: its device answers.
        probe.send("flat_199/lamp_7/get", {"state": ""})
        probe.wait_last("flat_199/lamp_7", lambda d: d["state"] == "OFF")
        assert sim.asked("flat_199/lamp_7") == [{"state": ""}]
        assert sim.asked("flat_000/lamp_0") == []
    finally:
        probe.close()
        sim.stop()
