"""Home Assistant states and service calls, by value."""

from __future__ import annotations

import pytest

from cocoon.adapters.ha_mapping import changed_by_hand, climate_call, light_call, light_look, report
from cocoon.config.schema import Device
from cocoon.core.events import ClimateReport, LightReport, SensorReport
from cocoon.core.model import Attribute, ClimateCommand, LightCommand, LightState

LIGHT = Device.model_validate({"entity": "light.sofa"})
HEAT = Device.model_validate({"entity": "climate.living", "min": 16, "max": 23})
SOIL = Device.model_validate({"entity": "input_number.plant_moisture"})
CT_LIGHT = {
    "supported_color_modes": ["color_temp", "hs"],
    "min_color_temp_kelvin": 2000,
    "max_color_temp_kelvin": 6535,
}


def _state(state: str, **attributes: object) -> dict[str, object]:
    return {"state": state, "attributes": attributes}


def test_a_light_state_reads_as_a_look() -> None:
    assert light_look("on", {"brightness": 255, "color_temp_kelvin": 2702}) == LightState(100, 2702)
    assert light_look("on", {"brightness": 51, "color_temp": 500}) == LightState(20, 2000)
    assert not light_look("off", {}).on


def test_turn_on_sends_brightness_and_colour_together_clamped_to_the_entity() -> None:
    call = light_call(LightCommand("sofa", True, 35.0, 1800, 30.0, "x"), "light.sofa", CT_LIGHT)
    assert (call.domain, call.service) == ("light", "turn_on")
    assert call.data == {
        "entity_id": "light.sofa",
        "brightness": 89,
        "color_temp_kelvin": 2000,
        "transition": 30.0,
    }


def test_a_light_without_colour_temperature_gets_no_kelvin() -> None:
    dimmable = {"supported_color_modes": ["brightness"]}
    call = light_call(LightCommand("sofa", True, 10.0, 2200, 0.0, "x"), "light.sofa", dimmable)
    assert call.data == {"entity_id": "light.sofa", "brightness": 26}


def test_turn_off() -> None:
    call = light_call(LightCommand("sofa", False, None, None, 90.0, "x"), "light.sofa", CT_LIGHT)
    assert (call.service, call.data) == (
        "turn_off",
        {"entity_id": "light.sofa", "transition": 90.0},
    )


def test_a_setpoint_is_held_within_the_entitys_own_bounds() -> None:
    call = climate_call(ClimateCommand("heat", 23.0, "x"), "climate.living", {"max_temp": 22})
    assert call.data == {"entity_id": "climate.living", "temperature": 22}


def test_reports() -> None:
    light = report("sofa", LIGHT, _state("on", brightness=128, color_temp_kelvin=2700), frozenset())
    assert light == [LightReport("sofa", LightState(128 * 100 / 255, 2700), frozenset())]
    heat = report("heat", HEAT, _state("heat", temperature=21, current_temperature=19.5), None)
    assert heat == [ClimateReport("heat", 21.0, 19.5, None)]
    moisture = report("soil", SOIL, _state("22.0"), None, frozenset({"moisture"}))
    assert moisture == [SensorReport("soil", "moisture", 22.0)]
    assert report("soil", SOIL, _state("22.0"), None) == []
    assert report("sofa", LIGHT, _state("unavailable"), None) == []
    assert report("soil", SOIL, _state("not a number"), None) == []


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        (_state("on", brightness=100), _state("off"), {Attribute.POWER}),
        (
            _state("on", brightness=100, color_temp_kelvin=2700),
            _state("on", brightness=200, color_temp_kelvin=2700),
            {Attribute.BRIGHTNESS},
        ),
        (
            _state("on", brightness=100, color_temp_kelvin=2700),
            _state("on", brightness=100, color_temp_kelvin=4000),
            {Attribute.KELVIN},
        ),
        (_state("on", brightness=100), _state("on", brightness=100), set()),
    ],
)
def test_what_a_person_changed(
    old: dict[str, object], new: dict[str, object], changed: set[str]
) -> None:
    assert changed_by_hand(LIGHT, old, new) == changed


def test_a_setpoint_changed_by_hand() -> None:
    old, new = _state("heat", temperature=20), _state("heat", temperature=17)
    assert changed_by_hand(HEAT, old, new) == {Attribute.SETPOINT}
