"""Zigbee2MQTT payloads: commands as `/set` JSON, reports decoded into events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cocoon.adapters.z2m_bridge import exposed
from cocoon.adapters.z2m_gateway import Zigbee2MqttGateway
from cocoon.adapters.zigbee2mqtt import (
    Zigbee2MqttDevices,
    climate_payload,
    get_payload,
    light_payload,
)
from cocoon.config.schema import CocoonConfig
from cocoon.core.events import Availability, ClimateReport, LightReport, SensorReport
from cocoon.core.model import ClimateCommand, Colour, LightCommand, LightState
from cocoon.errors import GatewayError
from cocoon.ports import Message


def config(**changes: Any) -> CocoonConfig:
    data: dict[str, Any] = {
        "home": {
            "name": "Flat",
            "latitude": 50.85,
            "longitude": 4.35,
            "timezone": "Europe/Brussels",
        },
        "mqtt": {"zigbee2mqtt_topic": "z2m"},
        "devices": {
            "sofa": {"zigbee2mqtt": "Living/Sofa lamp", "min_kelvin": 2200, "max_kelvin": 4000},
            "desk": {"zigbee2mqtt": "desk"},
            "heat": {"zigbee2mqtt": "radiator", "kind": "thermostat", "min": 16, "max": 23},
            "soil": {"zigbee2mqtt": "soil", "kind": "sensor"},
            "ha_lamp": {"entity": "light.ha_lamp"},
        },
    }
    data.update(changes)
    return CocoonConfig.model_validate(data)


CFG = config()
# A colour and white spectrum bulb as Zigbee2MQTT lists it in bridge/devices.
LIGHT_EXPOSES: dict[str, Any] = {
    "type": "light",
    "features": [
        {"type": "binary", "name": "state", "property": "state", "access": 7},
        {"type": "numeric", "name": "brightness", "property": "brightness", "access": 7,
         "value_min": 0, "value_max": 254},
        {"type": "numeric", "name": "color_temp", "property": "color_temp", "access": 7,
         "unit": "mired", "value_min": 153, "value_max": 454},
        {"type": "composite", "name": "color_xy", "property": "color", "access": 7,
         "features": [{"type": "numeric", "name": "x"}, {"type": "numeric", "name": "y"}]},
    ],
}  # fmt: skip
SOFA = CFG.devices["sofa"]
DESK = CFG.devices["desk"]


def light(
    on: bool = True,
    brightness: float | None = None,
    kelvin: int | None = None,
    transition: float = 0.0,
) -> LightCommand:
    return LightCommand("desk", on, brightness, kelvin, transition, "test")


def report(topic: str, payload: object) -> Message:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return Message.text(topic, text)


# -- commands ---------------------------------------------------------------------------


def test_off_is_just_off() -> None:
    assert light_payload(light(on=False, brightness=50, kelvin=2700), DESK) == {"state": "OFF"}


def test_off_with_a_transition() -> None:
    assert light_payload(light(on=False, transition=90), DESK) == {"state": "OFF", "transition": 90}


def test_on_with_everything_in_one_command() -> None:
    payload = light_payload(light(brightness=35, kelvin=2200, transition=45), DESK)
    assert payload == {"state": "ON", "brightness": 89, "color_temp": 455, "transition": 45}


@pytest.mark.parametrize(
    ("percent", "level"),
    [(100, 254), (50, 127), (35, 89), (1, 3), (0.2, 1), (0, 1), (0.1, 1), (120, 254)],
)
def test_brightness_scales_to_254_and_is_at_least_1_when_on(percent: float, level: int) -> None:
    assert light_payload(light(brightness=percent), DESK)["brightness"] == level


def test_brightness_and_colour_are_left_out_when_not_asked() -> None:
    assert light_payload(light(), DESK) == {"state": "ON"}


@pytest.mark.parametrize(
    ("kelvin", "mireds"),
    [
        (2700, 370),
        (4000, 250),  # the sofa lamp's coldest
        (6500, 250),  # colder than it can: clamped to 1e6 / 4000
        (2200, 455),  # its warmest
        (1800, 455),  # warmer than it can: clamped to 1e6 / 2200
    ],
)
def test_colour_temperature_is_mireds_within_the_lights_range(kelvin: int, mireds: int) -> None:
    command = LightCommand("sofa", True, None, kelvin, 0.0, "test")
    assert light_payload(command, SOFA)["color_temp"] == mireds


def test_without_a_known_range_the_light_clamps_for_itself() -> None:
    assert light_payload(light(kelvin=1000), DESK)["color_temp"] == 1000
    assert light_payload(light(kelvin=10000), DESK)["color_temp"] == 100


def test_the_lights_own_range_clamps_and_a_configured_one_narrows_it() -> None:
    bulb = exposed([LIGHT_EXPOSES])  # 153-454 mireds: 2203-6536 K
    assert light_payload(light(kelvin=1800), DESK, bulb)["color_temp"] == 454
    assert light_payload(light(kelvin=9000), DESK, bulb)["color_temp"] == 153
    # The sofa lamp is configured 2200-4000 K: within the bulb's, it narrows it.
    assert light_payload(light(kelvin=9000), SOFA, bulb)["color_temp"] == 250


def test_a_colour_is_sent_as_color_not_color_temp() -> None:
    command = LightCommand("desk", True, 40.0, None, 0.0, "given back", Colour("xy", 0.6, 0.3))
    assert light_payload(command, DESK) == {
        "state": "ON",
        "brightness": 102,
        "color": {"x": 0.6, "y": 0.3},
    }
    hs = LightCommand("desk", True, None, None, 0.0, "given back", Colour("hs", 20.4, 90.0))
    assert light_payload(hs, DESK) == {"state": "ON", "color": {"hue": 20, "saturation": 90}}


@pytest.mark.parametrize(
    ("seconds", "sent"),
    [(0.0, None), (0.04, None), (0.26, 0.3), (2.0, 2), (44.96, 45), (7000.0, 6553), (-3.0, None)],
)
def test_transition_in_tenths_of_a_second_capped_at_6553(
    seconds: float, sent: float | None
) -> None:
    payload = light_payload(light(brightness=50, transition=seconds), DESK)
    assert payload.get("transition") == sent


def test_a_setpoint() -> None:
    assert climate_payload(ClimateCommand("heat", 21.5, "test")) == {
        "current_heating_setpoint": 21.5
    }


# -- the gateway ------------------------------------------------------------------------


def test_the_gateway_publishes_to_set_with_qos_1_not_retained() -> None:
    sent: list[Message] = []
    gateway = Zigbee2MqttGateway(CFG, sent.append)
    gateway.send(LightCommand("sofa", True, 50, 2700, 2.5, "test"))
    gateway.send(ClimateCommand("heat", 20.5, "test"))
    assert [(m.topic, m.qos, m.retain) for m in sent] == [
        ("z2m/Living/Sofa lamp/set", 1, False),
        ("z2m/radiator/set", 1, False),
    ]
    assert json.loads(sent[0].payload) == {
        "state": "ON",
        "brightness": 127,
        "color_temp": 370,
        "transition": 2.5,
    }
    assert json.loads(sent[1].payload) == {"current_heating_setpoint": 20.5}


def test_the_gateway_reaches_only_zigbee2mqtt_devices() -> None:
    gateway = Zigbee2MqttGateway(CFG, lambda message: None)
    assert gateway.reaches("sofa")
    assert gateway.reaches("soil")
    assert not gateway.reaches("ha_lamp")
    assert not gateway.reaches("nowhere")
    with pytest.raises(GatewayError):
        gateway.send(LightCommand("ha_lamp", False, None, None, 0.0, "test"))


def test_the_gateway_follows_availability_and_asks_a_device_that_comes_back() -> None:
    sent: list[Message] = []
    gateway = Zigbee2MqttGateway(CFG, sent.append)
    assert gateway.available("desk")
    offline = gateway.receive(report("z2m/desk/availability", {"state": "offline"}))
    assert offline == [Availability("desk", online=False)]
    assert not gateway.available("desk")
    assert gateway.available("sofa")
    assert gateway.receive(report("z2m/desk/availability", "offline")) == []
    assert sent == []
    online = gateway.receive(report("z2m/desk/availability", {"state": "online"}))
    assert online == [Availability("desk", online=True)]
    assert gateway.available("desk")
    assert [(m.topic, json.loads(m.payload)) for m in sent] == [
        ("z2m/desk/get", {"state": "", "brightness": "", "color_temp": ""})
    ]


# -- reports ----------------------------------------------------------------------------


def test_topics_are_exact_for_every_zigbee2mqtt_device() -> None:
    devices = Zigbee2MqttDevices(CFG)
    assert devices.state_topics() == [
        "z2m/Living/Sofa lamp",
        "z2m/desk",
        "z2m/radiator",
        "z2m/soil",
    ]
    assert devices.availability_topics() == [
        "z2m/Living/Sofa lamp/availability",
        "z2m/desk/availability",
        "z2m/radiator/availability",
        "z2m/soil/availability",
    ]


def test_default_base_topic_without_mqtt_section() -> None:
    cfg = config(mqtt=None, home_assistant={"token": "x"})
    assert Zigbee2MqttDevices(cfg).state_topics()[1] == "zigbee2mqtt/desk"


def test_a_light_report() -> None:
    devices = Zigbee2MqttDevices(CFG)
    events = devices.decode(
        report("z2m/Living/Sofa lamp", {"state": "ON", "brightness": 127, "color_temp": 370})
    )
    assert events == [LightReport("sofa", LightState(50.0, 2703.0))]


def test_a_light_that_is_off_reports_brightness_0() -> None:
    devices = Zigbee2MqttDevices(CFG)
    events = devices.decode(report("z2m/desk", {"state": "OFF", "brightness": 200}))
    assert events == [LightReport("desk", LightState(0.0, None))]


def test_on_without_brightness_keeps_the_last_known_one_else_is_asked_for() -> None:
    devices = Zigbee2MqttDevices(CFG)
    # Never a guessed brightness (it could be given back): the light is asked instead.
    assert devices.decode(report("z2m/desk", {"state": "ON"})) == []
    assert devices.wanted == {"desk"}
    devices.decode(report("z2m/desk", {"state": "OFF", "brightness": 89}))
    assert devices.decode(report("z2m/desk", {"state": "ON"})) == [
        LightReport("desk", LightState(35.0))
    ]


def test_on_at_brightness_0_is_still_on() -> None:
    (event,) = Zigbee2MqttDevices(CFG).decode(report("z2m/desk", {"state": "ON", "brightness": 0}))
    assert isinstance(event, LightReport)
    assert event.state.on


def test_a_colour_reported_as_null_is_unknown() -> None:
    devices = Zigbee2MqttDevices(CFG)
    events = devices.decode(
        report("z2m/desk", {"state": "ON", "brightness": 254, "color_temp": None})
    )
    assert events == [LightReport("desk", LightState(100.0, None))]


def test_a_light_message_without_state_says_nothing() -> None:
    devices = Zigbee2MqttDevices(CFG)
    assert devices.decode(report("z2m/desk", {"update": {"state": "idle"}})) == []


def test_a_thermostat_report() -> None:
    events = Zigbee2MqttDevices(CFG).decode(
        report(
            "z2m/radiator",
            {"current_heating_setpoint": 21, "local_temperature": 19.5, "battery": 80},
        )
    )
    assert events == [ClimateReport("heat", 21.0, 19.5)]


def test_a_thermostat_report_with_one_value() -> None:
    events = Zigbee2MqttDevices(CFG).decode(report("z2m/radiator", {"local_temperature": 18}))
    assert events == [ClimateReport("heat", None, 18.0)]


def test_a_sensor_report_gives_one_event_per_plant_reading_it_carries() -> None:
    fern = {
        "moisture": {"sensor": "soil", "below": 25},
        "illuminance": {"sensor": "soil", "below": 200, "property": "illuminance_lux"},
        "temperature": {"sensor": "soil", "below": 15},
    }
    events = Zigbee2MqttDevices(config(plants={"fern": fern})).decode(
        report(
            "z2m/soil",
            {
                "soil_moisture": 23,
                "illuminance": 812,
                "illuminance_lux": 812,
                "temperature": 21.4,
                "humidity": 55.1,
                "battery": 97,
                "linkquality": 120,
                "battery_low": False,
                "update": {"state": "idle"},
                "power_type": "battery",
                "voltage": None,
            },
        )
    )
    assert events == [
        SensorReport("soil", "moisture", 23.0),
        SensorReport("soil", "illuminance", 812.0),
        SensorReport("soil", "temperature", 21.4),
    ]


@pytest.mark.parametrize(
    ("payload", "online"),
    [
        ('{"state":"online"}', True),
        ('{"state": "offline"}', False),
        ("online", True),
        ("offline", False),
        (" online\n", True),
        ('"offline"', False),
    ],
)
def test_availability_in_json_and_plain_words(payload: str, online: bool) -> None:
    events = Zigbee2MqttDevices(CFG).decode(report("z2m/desk/availability", payload))
    assert events == [Availability("desk", online)]


def test_unknown_friendly_names_and_other_topics_are_ignored() -> None:
    devices = Zigbee2MqttDevices(CFG)
    assert devices.decode(report("z2m/kitchen", {"state": "ON"})) == []
    assert devices.decode(report("z2m/kitchen/availability", "online")) == []
    assert devices.decode(report("z2m/desk/set", {"state": "ON"})) == []
    assert devices.decode(report("z2m/bridge/state", "junk")) == []
    assert devices.decode(report("zigbee2mqtt/desk", {"state": "ON"})) == []


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("z2m/desk", b"not json"),
        ("z2m/desk", b""),
        ("z2m/desk", b"\xff\xfe{}"),
        ("z2m/desk", b"[1, 2]"),
        ("z2m/desk", b'"ON"'),
        ("z2m/desk", b"null"),
        ("z2m/desk", b'{"state": "ON", "brightness": "bright"}'),
        ("z2m/desk", b'{"state": "ON", "brightness": true}'),
        ("z2m/desk", b'{"state": "ON", "brightness": 300}'),
        ("z2m/desk", b'{"state": "ON", "brightness": NaN}'),
        ("z2m/desk", b'{"state": "ON", "color_temp": "warm"}'),
        ("z2m/desk", b'{"state": "ON", "color_temp": 0}'),
        ("z2m/desk", b'{"state": "DIM"}'),
        ("z2m/desk", b'{"state": 1}'),
        ("z2m/radiator", b'{"current_heating_setpoint": "21"}'),
        ("z2m/radiator", b'{"local_temperature": [19]}'),
        ("z2m/soil", b"[23]"),
        ("z2m/soil", b"\x80"),
        ("z2m/desk/availability", b"maybe"),
        ("z2m/desk/availability", b'{"state": true}'),
        ("z2m/desk/availability", b'{"state": "online"'),
        ("z2m/desk/availability", b"\xffonline"),
    ],
)
def test_junk_raises_value_error_with_a_reason(topic: str, payload: bytes) -> None:
    with pytest.raises(ValueError, match=r"\w+"):
        Zigbee2MqttDevices(CFG).decode(Message(topic, payload))


def test_the_gateway_payload_decodes_back_to_the_same_look() -> None:
    sent: list[Message] = []
    Zigbee2MqttGateway(CFG, sent.append).send(LightCommand("desk", True, 35, 2700, 0, "test"))
    as_reported = Message("z2m/desk", sent[0].payload)
    (event,) = Zigbee2MqttDevices(CFG).decode(as_reported)
    assert isinstance(event, LightReport)
    assert event.state.brightness == pytest.approx(35, abs=0.5)
    assert event.state.kelvin == pytest.approx(2700, rel=0.01)


def test_a_colour_in_hue_and_saturation_and_one_without_a_colour_mode() -> None:
    devices = Zigbee2MqttDevices(CFG)
    hs = {"state": "ON", "brightness": 254, "color_mode": "hs",
          "color": {"hue": 20, "saturation": 90, "x": 0.6, "y": 0.35}}  # fmt: skip
    (event,) = devices.decode(report("z2m/desk", hs))
    assert event == LightReport("desk", LightState(100.0, None, Colour("hs", 20.0, 90.0)))
    # An older light says no colour mode: a colour and no colour temperature is a colour.
    bare = {"state": "ON", "brightness": 254, "color": {"x": 0.6, "y": 0.3}}
    (event,) = devices.decode(report("z2m/desk", bare))
    assert event == LightReport("desk", LightState(100.0, None, Colour("xy", 0.6, 0.3)))


def test_what_a_device_is_asked_for_before_zigbee2mqtt_says_what_it_can_do() -> None:
    assert get_payload("light") == {"state": "", "brightness": "", "color_temp": ""}
    assert get_payload("thermostat") == {"current_heating_setpoint": ""}
    assert get_payload("sensor") is None
