"""The plants section: the readings that tell a plant needs care, and its light cue."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, ValidationInfo, model_validator

from cocoon.config.base import Id, Kelvin, Model, Percent, combinations_checked
from cocoon.config.values import Duration


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
        if not combinations_checked(info):
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
