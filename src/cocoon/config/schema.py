"""The configuration model: one frozen, strict pydantic tree for `cocoon.yaml`.

The model checks each value on its own; `reference_problems` checks the names that
sections use to point at each other (a scene naming a device, a ritual naming a scene).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from cocoon.config.values import Clock, Days, Duration, TimeOfDay, parse_relative

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64),
    Field(description="An id: lower-case letters, digits and _, starting with a letter"),
]


def _topic(value: str) -> str:
    """A name that becomes part of an MQTT topic: one or more levels, none of them a wildcard."""
    if "#" in value or "+" in value:
        raise ValueError(
            f"'{value}' has an MQTT wildcard (# or +), which no topic may contain: leave it out"
        )
    if not value or value.startswith("/") or value.endswith("/"):
        raise ValueError(f"'{value}' must not be empty, nor start or end with /")
    if "//" in value:
        raise ValueError(f"'{value}' has an empty level (//): write one /")
    if "\0" in value:
        raise ValueError("a topic must not contain the NUL character")
    return value


Topic = Annotated[
    str,
    AfterValidator(_topic),
    Field(
        description="Part of an MQTT topic: levels separated by /, none empty, no # or +",
        json_schema_extra={"pattern": "^(?!.*//)[^/#+]([^#+]*[^/#+])?$"},
    ),
]
Percent = Annotated[float, Field(ge=0, le=100)]
Kelvin = Annotated[int, Field(ge=1000, le=10000)]

DeviceKind = Literal["light", "thermostat", "sensor"]
KIND_BY_DOMAIN: dict[str, DeviceKind] = {
    "light": "light",
    "climate": "thermostat",
    "sensor": "sensor",
    "input_number": "sensor",
    "number": "sensor",
}


NAMES_ONLY = "names_only"
"""Validation context key: when true, the checks of how a section's settings go together
are left out, so that a file with errors still gives a model whose names can be
cross-checked (those errors were reported by the full validation already)."""


def _combinations_checked(info: ValidationInfo) -> bool:
    """False while validating for names only (see `NAMES_ONLY`)."""
    return not (isinstance(info.context, dict) and info.context.get(NAMES_ONLY))


class Model(BaseModel):
    """Base of every config section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _title(identifier: str) -> str:
    return identifier.replace("_", " ").strip().capitalize()


class PolarFallback(Model):
    """Clock times used on days when a sun event does not happen (polar day or night)."""

    dawn: Clock = time(6, 30)
    sunrise: Clock = time(7, 0)
    sunset: Clock = time(21, 0)
    dusk: Clock = time(21, 30)


class Home(Model):
    """Where the home is: its place on earth decides the sun times."""

    name: str = "Home"
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    elevation: float = 0.0
    """Metres above sea level."""
    timezone: str
    """An IANA time zone such as Europe/Brussels."""
    polar_fallback: PolarFallback = PolarFallback()
    """Clock times for sun events on days the sun never rises or never sets."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"'{value}' is not a known time zone; use an IANA name like Europe/Brussels"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The time zone as a tzinfo."""
        return ZoneInfo(self.timezone)


class Tls(Model):
    """TLS towards the broker."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False
    """Skip the check of the broker's host name (only for test brokers)."""


class Mqtt(Model):
    """The MQTT broker cocoon talks through."""

    host: str = "localhost"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    client_id: str = "cocoon"
    base_topic: Topic = "cocoon"
    discovery_prefix: Topic = "homeassistant"
    zigbee2mqtt_topic: Topic = "zigbee2mqtt"
    keepalive: int = Field(default=60, ge=5, le=3600)
    protocol: Literal["5", "3.1.1"] = "5"
    """MQTT version. 3.1.1 only for brokers without MQTT 5 (no persistent session then)."""
    max_payload: int = Field(default=65536, ge=256)
    """Payloads larger than this many bytes are logged and dropped."""
    tls: Tls | None = None


class HomeAssistant(Model):
    """The Home Assistant instance cocoon reaches entities through."""

    url: str = "http://localhost:8123"
    token: SecretStr
    """A long-lived access token; keep it in secrets.yaml and write `token: !secret ha_token`."""
    timeout: Duration = timedelta(seconds=5)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' must start with http:// or https://")
        return value.rstrip("/")


class Settings(Model):
    """How gently cocoon moves: pacing of fades and commands, and when it gives way."""

    fade_step: Duration = timedelta(seconds=30)
    """The longest time between two steps of a fade; each step glides with a transition."""
    max_step: float = Field(default=5.0, gt=0, le=100)
    """The largest brightness change, in percent, between two steps of a fade."""
    override_timeout: Duration = timedelta(hours=2)
    """A device changed by hand is left alone until the next ritual or this long."""
    grace: Duration = timedelta(minutes=10)
    """A ritual whose start was missed (cocoon was down) still runs, fading in from then, if
    this late at most. Later, a ritual with `until` still in force is joined where it stands
    (its lights glide there over `resume_fade`); one with `duration` is skipped for the day."""
    rate_limit: float = Field(default=10.0, gt=0, le=1000)
    """Commands per second at most, so a Zigbee network is not flooded (a person's press
    goes out at once; the fade steps after it wait)."""
    resume_fade: Duration = timedelta(minutes=2)
    """Fade used when cocoon takes a device back after a manual override or a pause, and
    when a light joins a layer already under way (a window joined late, a late report)."""

    @property
    def quickest_fade(self) -> timedelta:
        """The shortest fade that can still move in steps of `max_step` (0 is always allowed).

        A fade is never quicker than half a minute, nor than a fade from off to full,
        overlapping another fade, in steps of `max_step` a fifth of a second apart.
        """
        return timedelta(seconds=max(30, math.ceil(110 / self.max_step)))


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
        if not _combinations_checked(info):
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


def _light_setting(value: Any) -> Any:
    # YAML 1.1 reads a bare `off` as False.
    if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return {"on": False}
    if value is True or (isinstance(value, str) and value.strip().lower() == "on"):
        return {"on": True}
    return value


@dataclass(frozen=True, slots=True)
class _OrOnOff:
    """Widens a light setting's JSON Schema to the `on` / `off` shorthand `_light_setting` reads."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [handler(schema), {"type": "boolean"}, {"enum": ["on", "off"]}]}


class LightSetting(Model):
    """What a scene does to one light."""

    on: bool = True
    brightness: Percent | None = None
    """Brightness in percent; left as it is when not given."""
    kelvin: Kelvin | None = None
    """Colour temperature in kelvin; left as it is when not given."""

    @model_validator(mode="after")
    def _off_is_plain(self, info: ValidationInfo) -> LightSetting:
        if not _combinations_checked(info):
            return self
        if not self.on and (self.brightness is not None or self.kelvin is not None):
            raise ValueError("a light that is off takes no brightness or kelvin")
        return self


@dataclass(frozen=True, slots=True)
class Setpoint:
    """A thermostat value in a scene: absolute (21) or relative to the baseline (+0.5)."""

    value: float
    relative: bool

    def apply(self, baseline: float | None) -> float | None:
        """The setpoint this asks for, given the baseline setpoint (None when unknown)."""
        if not self.relative:
            return self.value
        return None if baseline is None else baseline + self.value

    def __str__(self) -> str:
        return f"{self.value:+g}" if self.relative else f"{self.value:g}"


def _setpoint(value: Any) -> Any:
    if isinstance(value, Setpoint):
        return value
    number, relative = parse_relative(value)
    return Setpoint(number, relative)


SetpointValue = Annotated[
    Setpoint,
    BeforeValidator(_setpoint),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^[+-]\d+(\.\d+)?$"}],
            "description": "21 (absolute) or +0.5 / -1 (relative to the baseline)",
        }
    ),
]


class Scene(Model):
    """Targets for lights and thermostats."""

    lights: dict[Id, Annotated[LightSetting, BeforeValidator(_light_setting), _OrOnOff()]] = {}
    heat: dict[Id, SetpointValue] = {}


class Ritual(Model):
    """A scene that comes back at the same time every day it is scheduled."""

    at: TimeOfDay
    """When it starts: 07:15, sunset-30min, sunrise+1h, dusk, dawn."""
    until: TimeOfDay | None = None
    """When it ends; the next day when this is earlier than the start."""
    duration: Duration | None = None
    """How long it lasts, instead of until."""
    days: Days = frozenset(range(7))
    scene: Id
    fade: Duration = timedelta(minutes=2)
    """How long the scene takes to fade in; clipped to the window, never extending it."""
    fade_out: Duration | None = None
    """How long the give-back takes at the end (the fade when not given)."""
    not_before: Clock | None = None
    """Never start earlier than this clock time (a winter sunset is early)."""
    not_after: Clock | None = None
    """Never start later than this clock time (a summer sunset is late)."""
    name: str | None = None
    """Display name; the id, capitalised, when not given."""

    @model_validator(mode="after")
    def _one_end(self, info: ValidationInfo) -> Ritual:
        if not _combinations_checked(info):
            return self
        if (self.until is None) == (self.duration is None):
            raise ValueError("give exactly one of until or duration")
        if self.duration is not None and self.duration <= timedelta(0):
            raise ValueError("duration must be longer than 0")
        if self.not_before and self.not_after and self.not_before > self.not_after:
            raise ValueError("not_before must not be later than not_after")
        return self

    @property
    def give_back_fade(self) -> timedelta:
        """The fade used when the ritual ends."""
        return self.fade if self.fade_out is None else self.fade_out


class CalmMode(Model):
    """A scene pressed on a dashboard for a while, ending with what was there before."""

    scene: Id
    duration: Duration = timedelta(minutes=45)
    fade: Duration = timedelta(minutes=3)
    fade_out: Duration | None = None
    button: str | None = None
    """Its name: the button's label and its option in the Mode select; the id,
    capitalised, when not given."""

    @property
    def give_back_fade(self) -> timedelta:
        """The fade used when the mode ends."""
        return self.fade if self.fade_out is None else self.fade_out


class Threshold(Model):
    """A plant reading that needs care when it is below (or above) a value."""

    sensor: Id
    """The sensor device that reports it."""
    below: float | None = None
    above: float | None = None
    property: str | None = None
    """The key in a Zigbee2MQTT report (soil_moisture, illuminance, temperature)."""
    hysteresis: float = Field(default=5.0, ge=0)
    """How far past the threshold a reading must come back before the plant is fine again."""

    @model_validator(mode="after")
    def _one_side(self, info: ValidationInfo) -> Threshold:
        if not _combinations_checked(info):
            return self
        if self.below is None and self.above is None:
            raise ValueError("give below, above, or both")
        return self


class PlantCue(Model):
    """A soft light cue inside a ritual when a plant needs care; at most once a day."""

    during: Id
    """The ritual the cue shows in."""
    light: Id
    brightness: Percent = 15
    kelvin: Kelvin | None = None
    duration: Duration = timedelta(minutes=5)
    fade: Duration = timedelta(minutes=1)


class Plant(Model):
    """A plant and the readings that tell it needs care."""

    name: str | None = None
    moisture: Threshold | None = None
    illuminance: Threshold | None = None
    temperature: Threshold | None = None
    stale_after: Duration = timedelta(hours=24)
    """A sensor silent this long is reported as stale, not as a plant in need."""
    cue: PlantCue | None = None

    def thresholds(self) -> dict[str, Threshold]:
        """The configured readings by kind (moisture, illuminance, temperature)."""
        found = {"moisture": self.moisture, "illuminance": self.illuminance}
        found["temperature"] = self.temperature
        return {kind: t for kind, t in found.items() if t is not None}


class CocoonConfig(Model):
    """A whole cocoon home."""

    home: Home
    mqtt: Mqtt | None = None
    home_assistant: HomeAssistant | None = None
    settings: Settings = Settings()
    devices: dict[Id, Device]
    scenes: dict[Id, Scene] = {}
    rituals: dict[Id, Ritual] = {}
    calm_modes: dict[Id, CalmMode] = {}
    plants: dict[Id, Plant] = {}

    def display_name(self, section: str, identifier: str) -> str:
        """A human name for a ritual, calm mode, plant or device."""
        named: Any = getattr(self, section)[identifier]
        label = getattr(named, "name", None) or getattr(named, "button", None)
        return str(label) if label else _title(identifier)
