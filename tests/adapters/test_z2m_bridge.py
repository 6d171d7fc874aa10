"""Zigbee2MQTT's bridge topics: whether it is there, what its devices are and can do."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from cocoon.adapters.z2m_bridge import closest, exposed, parse_devices, parse_groups
from cocoon.adapters.z2m_gateway import BRIDGE, Zigbee2MqttGateway
from cocoon.config.schema import CocoonConfig
from cocoon.core.events import Availability, Capability, ClimateReport, LightReport, Problem
from cocoon.core.model import ClimateAbility, ClimateCommand, LightAbility, LightState
from cocoon.ports import Message


def _numeric(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "numeric", "name": name, "property": name, "access": 7, **extra}


BULB = {
    "type": "light",
    "features": [
        {"type": "binary", "name": "state", "property": "state", "access": 7},
        _numeric("brightness", value_min=0, value_max=254),
        _numeric("color_temp", unit="mired", value_min=153, value_max=454),
        {"type": "composite", "name": "color_xy", "property": "color", "features": []},
    ],
}
PLUG_LIGHT = {
    "type": "light",
    "features": [{"type": "binary", "name": "state", "property": "state", "access": 7}],
}
NARROW_BULB = {
    "type": "light",
    "features": [
        _numeric("brightness", value_min=0, value_max=254),
        _numeric("color_temp", unit="mired", value_min=200, value_max=370),
    ],
}
VALVE = {
    "type": "climate",
    "features": [
        _numeric("occupied_heating_setpoint", value_min=5, value_max=30, value_step=1),
        _numeric("local_temperature", access=5),
    ],
}


def _device(name: str, ieee: str, *exposes: dict[str, Any]) -> dict[str, Any]:
    definition = {"model": "X", "vendor": "Y", "description": "Z", "exposes": list(exposes)}
    return {"ieee_address": ieee, "type": "Router", "friendly_name": name, "definition": definition}


DEVICES = [
    {"ieee_address": "0x00", "type": "Coordinator", "friendly_name": "Coordinator"},
    _device("desk", "0x01", BULB, _numeric("linkquality", access=1)),
    _device("hall", "0x02", NARROW_BULB),
    _device("radiator", "0x03", VALVE),
    _device("Living/Sofa lamp", "0x04", PLUG_LIGHT),
]
GROUPS = [
    {"id": 1, "friendly_name": "landing", "members": [
        {"ieee_address": "0x01", "endpoint": 1}, {"ieee_address": "0x02", "endpoint": 11}]},
]  # fmt: skip


def config(**devices: dict[str, Any]) -> CocoonConfig:
    return CocoonConfig.model_validate(
        {
            "home": {"latitude": 50.85, "longitude": 4.35, "timezone": "Europe/Brussels"},
            "mqtt": {"zigbee2mqtt_topic": "z2m"},
            "devices": devices
            or {
                "desk": {"zigbee2mqtt": "desk"},
                "heat": {"zigbee2mqtt": "radiator", "kind": "thermostat"},
                "landing": {"zigbee2mqtt": "landing"},
            },
        }
    )


def message(topic: str, payload: object, *, retain: bool = False) -> Message:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return Message.text(topic, text, retain=retain)


def test_a_light_tells_its_colour_range_dimming_and_colours() -> None:
    bulb = exposed([BULB])
    assert bulb.mireds == (153, 454)
    assert bulb.light == LightAbility(True, (1e6 / 454, 1e6 / 153), colour=True)
    assert exposed([PLUG_LIGHT]).light == LightAbility(dims=False)


def test_a_thermostat_tells_which_setpoint_it_takes() -> None:
    valve = exposed([VALVE])
    assert valve.setpoint == "occupied_heating_setpoint"
    assert valve.climate == ClimateAbility(5.0, 30.0, 1.0)
    assert exposed([{"type": "numeric", "name": "soil_moisture"}]).light is None


def test_a_group_shows_what_all_its_lights_can() -> None:
    devices, ieee = parse_devices(json.dumps(DEVICES).encode())
    assert "Coordinator" in devices
    assert ieee["0x01"] == "desk"
    landing = parse_groups(json.dumps(GROUPS).encode(), devices, ieee)["landing"]
    assert landing.light == LightAbility(True, (1e6 / 370, 1e6 / 200), colour=False)


def test_the_closest_known_name() -> None:
    assert closest("desk_lamp", ["desk", "Coordinator", "radiator"]) == "desk"
    assert closest("zzz", ["desk"]) is None


def _learnt(sent: list[Message] | None = None) -> Zigbee2MqttGateway:
    gateway = Zigbee2MqttGateway(config(), (sent if sent is not None else []).append)
    gateway.receive(message("z2m/bridge/state", {"state": "online"}, retain=True))
    gateway.receive(message("z2m/bridge/devices", DEVICES, retain=True))
    gateway.receive(message("z2m/bridge/groups", GROUPS, retain=True))
    return gateway


def test_devices_and_groups_give_each_device_its_abilities() -> None:
    gateway = Zigbee2MqttGateway(config(), lambda m: None)
    events = gateway.receive(message("z2m/bridge/devices", DEVICES))
    assert Capability("desk", exposed([BULB]).light) in events  # type: ignore[arg-type]
    assert Capability("heat", ClimateAbility(5.0, 30.0, 1.0)) in events
    # The group is judged once the groups are in: it is no unknown name.
    assert not [e for e in events if isinstance(e, Problem)]
    events = gateway.receive(message("z2m/bridge/groups", GROUPS))
    assert events == [Capability("landing", LightAbility(True, (1e6 / 370, 1e6 / 200)))]


def test_a_thermostat_is_driven_and_read_in_its_own_setpoint() -> None:
    sent: list[Message] = []
    gateway = _learnt(sent)
    sent.clear()
    gateway.send(ClimateCommand("heat", 20.5, "calm"))
    assert json.loads(sent[0].payload) == {"occupied_heating_setpoint": 20.5}
    (event,) = gateway.receive(
        message("z2m/radiator", {"occupied_heating_setpoint": 21, "local_temperature": 19})
    )
    # The first report answers cocoon's question: a reading, not a hand.
    assert event == ClimateReport("heat", 21.0, 19.0, by_hand=False)


def test_a_name_zigbee2mqtt_does_not_know_is_reported_with_the_closest_and_not_driven() -> None:
    gateway = Zigbee2MqttGateway(config(desk={"zigbee2mqtt": "desk_lamp"}), lambda m: None)
    gateway.receive(message("z2m/bridge/devices", DEVICES))
    events = gateway.receive(message("z2m/bridge/groups", GROUPS))
    text = "desk: Zigbee2MQTT knows no 'desk_lamp' (closest known: 'desk')"
    assert events == [Problem("zigbee2mqtt desk_lamp", text), Availability("desk", online=False)]
    assert not gateway.available("desk")


def test_a_device_that_leaves_is_reported_and_not_driven() -> None:
    gateway = _learnt()
    leave = {"type": "device_leave", "data": {"friendly_name": "desk", "ieee_address": "0x01"}}
    events = gateway.receive(message("z2m/bridge/event", leave))
    assert events == [Problem("zigbee2mqtt desk", "desk: desk leave"), Availability("desk", False)]
    assert not gateway.available("desk")
    # Paired again, it is in the next list: driven again.
    events = gateway.receive(message("z2m/bridge/devices", DEVICES))
    assert Problem("zigbee2mqtt desk") in events
    assert Availability("desk", True) in events


@pytest.mark.parametrize("offline", [{"state": "offline"}, "offline"])
def test_while_zigbee2mqtt_is_away_nothing_is_driven_and_nothing_is_a_hand(
    offline: object,
) -> None:
    sent: list[Message] = []
    gateway = _learnt(sent)
    events = gateway.receive(message("z2m/bridge/state", offline, retain=True))
    assert events[0] == Problem(BRIDGE, "Zigbee2MQTT is offline")
    assert set(events[1:]) == {Availability(d, False) for d in ("desk", "heat", "landing")}
    assert not any(gateway.available(d) for d in ("desk", "heat", "landing"))
    (report,) = gateway.receive(message("z2m/desk", {"state": "ON", "brightness": 127}))
    assert report == LightReport("desk", LightState(50.0), by_hand=frozenset())
    sent.clear()
    events = gateway.receive(message("z2m/bridge/state", "online"))
    assert events[0] == Problem(BRIDGE)
    assert set(events[1:]) == {Availability(d, True) for d in ("desk", "heat", "landing")}
    # Back: every device is asked how it is, for what it can tell.
    asked = {m.topic: json.loads(m.payload) for m in sent}
    assert asked == {
        "z2m/desk/get": {"state": "", "brightness": "", "color_temp": "", "color": ""},
        "z2m/radiator/get": {"occupied_heating_setpoint": ""},
        "z2m/landing/get": {"state": "", "brightness": "", "color_temp": ""},
    }
    # The answers are readings; after them a report may be a person's hand again.
    (answer,) = gateway.receive(message("z2m/desk", {"state": "ON", "brightness": 127}))
    assert answer.by_hand == frozenset()  # type: ignore[union-attr]
    gateway._asked["desk"] = 0.0  # the answers' time is over
    (later,) = gateway.receive(message("z2m/desk", {"state": "ON", "brightness": 200}))
    assert later.by_hand is None  # type: ignore[union-attr]


def test_the_log_counts_the_devices_it_asks_in_good_grammar(
    caplog: pytest.LogCaptureFixture,
) -> None:
    one = Zigbee2MqttGateway(config(desk={"zigbee2mqtt": "desk"}), lambda m: None)
    three = _learnt()
    with caplog.at_level(logging.INFO):
        one.ask_all("Connected to the broker")
        three.ask_all("Connected to the broker")
    assert [record.getMessage() for record in caplog.records] == [
        "Connected to the broker: asking 1 Zigbee2MQTT device how it is (devices say"
        " nothing until they change)",
        "Connected to the broker: asking 3 Zigbee2MQTT devices how they are (devices say"
        " nothing until they change)",
    ]


def test_a_report_without_brightness_is_asked_for_it() -> None:
    sent: list[Message] = []
    gateway = _learnt(sent)
    sent.clear()
    assert gateway.receive(message("z2m/desk", {"state": "ON", "color_temp": 370})) == []
    assert [m.topic for m in sent] == ["z2m/desk/get"]


def test_a_colour_set_by_hand_is_reported_as_that_colour() -> None:
    gateway = _learnt()
    xy = {"state": "ON", "brightness": 127, "color_mode": "xy", "color": {"x": 0.6, "y": 0.3},
          "color_temp": 370}  # fmt: skip
    (event,) = gateway.receive(message("z2m/desk", xy))
    assert isinstance(event, LightReport)
    assert event.state.colour is not None
    assert event.state.kelvin is None
    assert (event.state.colour.space, event.state.colour.first) == ("xy", 0.6)
    # In colour-temperature mode the colour Zigbee2MQTT also reports is not the look.
    white = {**xy, "color_mode": "color_temp"}
    (event,) = gateway.receive(message("z2m/desk", white))
    assert isinstance(event, LightReport)
    assert event.state == LightState(50.0, 2703.0)


def test_a_configured_range_beyond_the_lights_is_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = config(desk={"zigbee2mqtt": "desk", "min_kelvin": 1800, "max_kelvin": 6500})
    gateway = Zigbee2MqttGateway(cfg, lambda m: None)
    with caplog.at_level(logging.WARNING):
        gateway.receive(message("z2m/bridge/devices", DEVICES))
        gateway.receive(message("z2m/bridge/devices", DEVICES))
    (record,) = caplog.records
    assert "desk: the configured 1800–6500 K is beyond what the light shows (2203–6536 K)" in (
        record.getMessage()
    )


def test_a_reloaded_gateway_keeps_what_zigbee2mqtt_said() -> None:
    old = _learnt()
    old.receive(message("z2m/bridge/state", {"state": "offline"}))
    new = Zigbee2MqttGateway(config(desk={"zigbee2mqtt": "desk"}), lambda m: None)
    events = new.carry_over(old)
    # The names the new configuration dropped have no problem any more.
    cleared = [e for e in events if isinstance(e, Problem)]
    assert cleared
    assert all(e.detail == "" for e in cleared)
    assert "zigbee2mqtt desk" not in {e.subject for e in cleared}
    capabilities = [e for e in events if not isinstance(e, Problem)]
    assert capabilities == [Capability("desk", exposed([BULB]).light)]  # type: ignore[arg-type]
    assert not new.available("desk")  # Zigbee2MQTT is still away
