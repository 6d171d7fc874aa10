"""Frozen values that flow through the core: what devices report, what they should do, commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal, TypeAlias

# Two colours this close (CIE x/y, or hue degrees and saturation percent over 100) are
# one colour to a device: it stores them in steps of 1/65536 (x/y) or 1/254 (hue, sat).
COLOUR_TOLERANCE = 0.01
# The longest transition a command carries, in seconds: Zigbee carries a transition in
# tenths of a second in 16 bits (6553.5 s), and Home Assistant passes it on as it is.
MAX_TRANSITION = 6553.0
MIN_STEP = timedelta(seconds=0.05)
"""Fade steps are never closer together than this."""


class Attribute(StrEnum):
    """What of a device a person can change by hand, and cocoon then leaves alone."""

    POWER = "power"
    BRIGHTNESS = "brightness"
    KELVIN = "kelvin"
    COLOUR = "colour"
    """A colour off the white line: cocoon then leaves the light's colour alone."""
    SETPOINT = "setpoint"


@dataclass(frozen=True, slots=True)
class Colour:
    """A colour off the white line: CIE `x`/`y`, or `hue` (degrees) and `saturation` (%)."""

    space: Literal["xy", "hs"]
    first: float
    """x, or hue in degrees."""
    second: float
    """y, or saturation in percent."""

    def close(self, other: Colour) -> bool:
        """Whether `other` is the same colour, as a device would store it."""
        if self.space != other.space:
            return False
        if self.space == "xy":
            return max(abs(self.first - other.first), abs(self.second - other.second)) <= (
                COLOUR_TOLERANCE
            )
        hue = abs(self.first - other.first) % 360
        return (
            min(hue, 360 - hue) <= 360 * COLOUR_TOLERANCE
            and abs(self.second - other.second) <= 100 * COLOUR_TOLERANCE
        )


@dataclass(frozen=True, slots=True)
class LightState:
    """A light's look: brightness in percent (0 means off) and colour temperature in kelvin.

    A light showing a colour off the white line (set by hand in an app) has `colour`, and
    no colour temperature.
    """

    brightness: float
    kelvin: float | None = None
    colour: Colour | None = None

    @property
    def on(self) -> bool:
        """Whether the light gives any light at all."""
        return self.brightness > 0


OFF = LightState(0.0)


@dataclass(frozen=True, slots=True)
class LightReading:
    """What a light reported, and when."""

    state: LightState
    at: datetime


@dataclass(frozen=True, slots=True)
class ClimateReading:
    """What a thermostat reported: its setpoint and the room temperature."""

    setpoint: float | None
    current: float | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SensorReading:
    """One plant reading a sensor reported."""

    kind: str
    """moisture, illuminance or temperature."""
    value: float
    at: datetime


Reading: TypeAlias = LightReading | ClimateReading


@dataclass(frozen=True, slots=True)
class Readings:
    """Everything known about the devices: what they last reported, and what each can show."""

    devices: dict[str, Reading]
    sensors: dict[tuple[str, str], SensorReading]
    """Plant readings by (sensor device, kind of reading)."""
    abilities: dict[str, Ability] = field(default_factory=dict)
    """What each device can show or hold, where its gateway said."""

    def light(self, device: str) -> LightState | None:
        """The last reported look of a light, if it reported one."""
        reading = self.devices.get(device)
        return reading.state if isinstance(reading, LightReading) else None

    def setpoint(self, device: str) -> float | None:
        """The last reported setpoint of a thermostat, if it reported one."""
        reading = self.devices.get(device)
        return reading.setpoint if isinstance(reading, ClimateReading) else None


NO_READINGS = Readings({}, {})


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a target is what it is: the layer in charge and, while it fades, the
    brightness the fade runs from and to (in percent)."""

    layer: str
    start: float | None = None
    end: float | None = None

    def __str__(self) -> str:
        if self.start is None or self.end is None or abs(self.start - self.end) < 0.05:
            return self.layer
        return f"{self.layer}, fading {self.start:.0f} % → {self.end:.0f} %"


@dataclass(frozen=True, slots=True)
class LightTarget:
    """What a light should show now. `None` attributes are left to the person (manual override)."""

    device: str
    state: LightState
    why: Reason
    fading: bool = False
    keep_brightness: bool = False
    keep_kelvin: bool = False
    glide: float = 0.0
    """The shortest transition, in seconds, a command towards this target takes (a look
    reached otherwise than by a fade, such as a late give-back, glides there)."""

    @property
    def reason(self) -> str:
        """A human sentence saying why."""
        return str(self.why)


@dataclass(frozen=True, slots=True)
class ClimateTarget:
    """What setpoint a thermostat should hold now."""

    device: str
    setpoint: float
    why: Reason

    @property
    def reason(self) -> str:
        """A human sentence saying why."""
        return str(self.why)


Target: TypeAlias = LightTarget | ClimateTarget


@dataclass(frozen=True, slots=True)
class LightAbility:
    """What a light can show: whether it dims, its colour temperature range, colours."""

    dims: bool = True
    kelvin: tuple[float, float] | None = None
    """Warmest and coldest colour temperature it shows, in kelvin; None when unknown."""
    colour: bool = False
    """Whether it shows colours off the white line (xy or hue/saturation)."""


@dataclass(frozen=True, slots=True)
class ClimateAbility:
    """What setpoints a thermostat takes: its range and its step, where known."""

    low: float | None = None
    high: float | None = None
    step: float | None = None


Ability: TypeAlias = LightAbility | ClimateAbility


@dataclass(frozen=True, slots=True)
class LightCommand:
    """One message to a light: on with brightness and colour together, or off."""

    device: str
    on: bool
    brightness: float | None
    kelvin: int | None
    transition: float
    reason: str
    colour: Colour | None = None
    """A colour off the white line (given back as a person left it), instead of kelvin."""


@dataclass(frozen=True, slots=True)
class ClimateCommand:
    """One setpoint for a thermostat."""

    device: str
    setpoint: float
    reason: str


Command: TypeAlias = LightCommand | ClimateCommand
