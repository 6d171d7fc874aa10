"""What cocoon does and when: scenes, the rituals that bring them back every day, and the
calm modes pressed on a dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    GetJsonSchemaHandler,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from cocoon.config.base import Id, Kelvin, Model, Percent, combinations_checked
from cocoon.config.values import Clock, Days, Duration, TimeOfDay, parse_relative


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
        if not combinations_checked(info):
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
        if not combinations_checked(info):
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
