"""What can happen to cocoon: events the shell puts on the engine's one queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from cocoon.core.model import Ability, Attribute, LightState


@dataclass(frozen=True, slots=True)
class Press:
    """A button: a calm mode or a ritual by its id."""

    name: str
    source: str = "mqtt"


@dataclass(frozen=True, slots=True)
class SelectMode:
    """The mode select: a calm mode's id, or "off" to end every calm mode."""

    mode: str


@dataclass(frozen=True, slots=True)
class SetHandsOff:
    """The "Hands off" switch."""

    on: bool


@dataclass(frozen=True, slots=True)
class LightReport:
    """A light reported how it looks."""

    device: str
    state: LightState
    by_hand: frozenset[Attribute] | None = None
    """The attributes a person changed, when the source knows (Home Assistant's contexts);
    None when cocoon must judge by the commands it sent (Zigbee2MQTT)."""


@dataclass(frozen=True, slots=True)
class ClimateReport:
    """A thermostat reported its setpoint and the room temperature."""

    device: str
    setpoint: float | None
    current: float | None
    by_hand: bool | None = None
    """Whether a person changed the setpoint, when the source knows."""


@dataclass(frozen=True, slots=True)
class SensorReport:
    """A sensor reported one plant reading (its gateway found it in the device's report)."""

    device: str
    kind: str
    """moisture, illuminance or temperature."""
    value: float


@dataclass(frozen=True, slots=True)
class Availability:
    """A device went offline or came back."""

    device: str
    online: bool


@dataclass(frozen=True, slots=True)
class Capability:
    """What a device can show or hold, as its gateway learnt it (Zigbee2MQTT's exposes)."""

    device: str
    ability: Ability


@dataclass(frozen=True, slots=True)
class Problem:
    """Something a person should fix or know (a device name nobody knows); "" when solved."""

    subject: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Connection:
    """A service cocoon depends on (Home Assistant) went away or came back."""

    service: str
    connected: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Announce:
    """The bus (re)connected or Home Assistant came online: publish discovery and states."""

    reason: str


@dataclass(frozen=True, slots=True)
class Wake:
    """A scheduled instant arrived (a ritual boundary, a fade step), or the clock jumped."""

    reason: str = "scheduled"


Event: TypeAlias = (
    Press
    | SelectMode
    | SetHandsOff
    | LightReport
    | ClimateReport
    | SensorReport
    | Availability
    | Capability
    | Problem
    | Connection
    | Announce
    | Wake
)
