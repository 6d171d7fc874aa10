"""The devices section: lights, thermostats and sensors, and how their kind is read."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from cocoon.config.base import Kelvin, Model, Topic, combinations_checked

DeviceKind = Literal["light", "thermostat", "sensor"]
KIND_BY_DOMAIN: dict[str, DeviceKind] = {
    "light": "light",
    "climate": "thermostat",
    "sensor": "sensor",
    "input_number": "sensor",
    "number": "sensor",
}


class Device(Model):
    """A light, thermostat or sensor, reached as a Home Assistant entity or a Zigbee2MQTT device."""

    entity: str | None = Field(default=None, pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    """A Home Assistant entity id such as light.sofa."""
    zigbee2mqtt: Topic | None = None
    """A Zigbee2MQTT friendly name."""
    kind: DeviceKind
    """light, thermostat or sensor; read from the entity's domain when not given."""
    name: str | None = None
    room: str | None = None
    min: float | None = None
    """Lowest setpoint cocoon may ever send (thermostats)."""
    max: float | None = None
    """Highest setpoint cocoon may ever send (thermostats)."""
    step: float = Field(default=0.5, gt=0)
    """Setpoint resolution (thermostats)."""
    min_kelvin: Kelvin | None = None
    """Warmest colour temperature cocoon may ask of the light. Zigbee2MQTT tells the
    light's own range; give this only to keep cocoon warmer or colder than that."""
    max_kelvin: Kelvin | None = None
    """Coldest colour temperature cocoon may ask of the light (see min_kelvin)."""

    @model_validator(mode="before")
    @classmethod
    def _infer_kind(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("kind") is not None:
            return data
        entity = data.get("entity")
        if isinstance(entity, str) and "." in entity:
            domain = entity.split(".", 1)[0]
            if domain not in KIND_BY_DOMAIN:
                raise ValueError(
                    f"cannot tell what kind of device {entity} is; add kind: light,"
                    " thermostat or sensor"
                )
            return {**data, "kind": KIND_BY_DOMAIN[domain]}
        if "zigbee2mqtt" in data:
            return {**data, "kind": "light"}
        if entity is None:
            if set(data) - set(cls.model_fields):
                # A misspelt address (`zigbe2mqtt:`): its "unknown key" says more, with
                # the key it resembles, than that the address is missing.
                return {**data, "kind": "light"}
            # Without an address the kind cannot be read; "kind is missing" would mislead.
            raise ValueError("give exactly one of entity (Home Assistant) or zigbee2mqtt")
        return data

    @model_validator(mode="after")
    def _one_address(self, info: ValidationInfo) -> Device:
        if not combinations_checked(info):
            return self
        if (self.entity is None) == (self.zigbee2mqtt is None):
            raise ValueError("give exactly one of entity (Home Assistant) or zigbee2mqtt")
        given = self.model_fields_set
        if self.kind != "thermostat" and given & {"min", "max", "step"}:
            raise ValueError("min, max and step are setpoint bounds: only thermostats take them")
        if self.kind != "light" and given & {"min_kelvin", "max_kelvin"}:
            raise ValueError("min_kelvin and max_kelvin belong to lights")
        if self.kind == "thermostat":
            low, high = self.bounds
            if low >= high:
                raise ValueError(f"min ({low}) must be below max ({high})")
        if (
            self.min_kelvin is not None
            and self.max_kelvin is not None
            and self.min_kelvin >= self.max_kelvin
        ):
            raise ValueError("min_kelvin must be below max_kelvin")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """The setpoint bounds, with Home Assistant's climate defaults where not configured."""
        return (7.0 if self.min is None else self.min, 35.0 if self.max is None else self.max)

    @property
    def address(self) -> str:
        """How the device is reached, for messages."""
        return self.entity or f"zigbee2mqtt:{self.zigbee2mqtt}"
