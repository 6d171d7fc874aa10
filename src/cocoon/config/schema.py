"""The configuration model: one frozen, strict pydantic tree for `cocoon.yaml`.

The model checks each value on its own; `reference_problems` checks the names that
sections use to point at each other (a scene naming a device, a ritual naming a scene).
The sections live in modules of their own (`base`, `devices`, `connections`, `scenes`,
`plants`); this module holds the home, the pacing settings and the whole tree, and is
where the rest of cocoon imports the model from.
"""

from __future__ import annotations

import math
import re
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from cocoon.config.base import NAMES_ONLY, Id, Kelvin, Model, Percent, Topic
from cocoon.config.connections import HomeAssistant, Mqtt, Tls
from cocoon.config.devices import KIND_BY_DOMAIN, Device, DeviceKind
from cocoon.config.plants import Plant, PlantCue, Threshold
from cocoon.config.scenes import CalmMode, LightSetting, Ritual, Scene, Setpoint, SetpointValue
from cocoon.config.values import Clock, Duration

__all__ = [
    "KIND_BY_DOMAIN",
    "NAMES_ONLY",
    "CalmMode",
    "CocoonConfig",
    "Device",
    "DeviceKind",
    "Home",
    "HomeAssistant",
    "Id",
    "Kelvin",
    "LightSetting",
    "Model",
    "Mqtt",
    "Percent",
    "Plant",
    "PlantCue",
    "PolarFallback",
    "Ritual",
    "Scene",
    "Setpoint",
    "SetpointValue",
    "Settings",
    "Threshold",
    "Tls",
    "Topic",
]


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
    id: Id | None = None
    """The home's id in MQTT topics and Home Assistant's unique ids; by default its name
    as an id (`Brussels flat` → `brussels_flat`). In a site file, its key under homes:."""
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
    def ident(self) -> str:
        """The home's id: `id` when given, else its name as an id (`Brussels flat` →
        `brussels_flat`, `home` when nothing of it is left)."""
        if self.id is not None:
            return self.id
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_") or "home"

    @property
    def zone(self) -> ZoneInfo:
        """The time zone as a tzinfo."""
        return ZoneInfo(self.timezone)


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
