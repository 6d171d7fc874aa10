"""What the simulated Zigbee2MQTT lists on `bridge/devices`: real-shaped `definition.exposes`.

Shaped as Zigbee2MQTT 2.x publishes it (`lib/extension/bridge.ts` `publishDevices`, the
exposes of zigbee-herdsman-converters): a light exposes `state`, `brightness` (0-254),
`color_temp` (mireds, `value_min`/`value_max`) and `color_xy`; a radiator valve exposes
`current_heating_setpoint` with `value_min`/`value_max`/`value_step`.
"""

from __future__ import annotations

from cocoon.config.schema import DeviceKind

_FULL = 254
SETPOINT_RANGE = (5.0, 30.0)


def _numeric(name: str, access: int = 7, **extra: object) -> dict[str, object]:
    return {"type": "numeric", "name": name, "property": name, "access": access, **extra}


def listing(
    name: str, kind: DeviceKind, ieee: str, mireds: tuple[int, int], state: dict[str, object]
) -> dict[str, object]:
    """The device's entry in `bridge/devices`, shaped as Zigbee2MQTT 2.x publishes it."""
    exposes: list[dict[str, object]]
    if kind == "light":
        low, high = mireds
        xy = [_numeric("x"), _numeric("y")]
        features = [
            {"type": "binary", "name": "state", "property": "state", "access": 7,
             "value_on": "ON", "value_off": "OFF", "value_toggle": "TOGGLE"},
            _numeric("brightness", value_min=0, value_max=_FULL),
            _numeric("color_temp", unit="mired", value_min=low, value_max=high),
            {"type": "composite", "name": "color_xy", "property": "color", "access": 7,
             "features": xy},
        ]  # fmt: skip
        exposes = [{"type": "light", "features": features}]
        model = ("LED2109G6", "IKEA", "TRADFRI bulb E26/E27, colour and white spectrum")
    elif kind == "thermostat":
        low_set, high_set = SETPOINT_RANGE
        features = [
            _numeric("current_heating_setpoint", unit="°C", value_min=low_set,
                     value_max=high_set, value_step=0.5),
            _numeric("local_temperature", access=5, unit="°C"),
        ]  # fmt: skip
        exposes = [{"type": "climate", "features": features}]
        model = ("SPZB0001", "Eurotronic", "Spirit Zigbee wireless heater thermostat")
    else:
        exposes = [_numeric(key, access=5) for key in state if key != "linkquality"]
        model = ("HS-SOIL", "Simulated", "Soil moisture sensor")
    exposes.append(_numeric("linkquality", access=1, unit="lqi", value_min=0, value_max=255))
    return {
        "ieee_address": ieee,
        "type": "Router" if kind != "sensor" else "EndDevice",
        "friendly_name": name,
        "supported": True,
        "disabled": False,
        "interview_completed": True,
        "definition": {
            "model": model[0],
            "vendor": model[1],
            "description": model[2],
            "exposes": exposes,
            "supports_ota": False,
            "options": [],
        },
    }
