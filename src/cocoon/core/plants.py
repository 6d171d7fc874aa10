"""Plant readings against thresholds, with hysteresis and stale sensors: a status, not an alarm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cocoon.config.schema import Plant, Threshold
from cocoon.core.model import Readings


@dataclass(frozen=True, slots=True)
class PlantStatus:
    """What a plant needs now: the readings out of bounds, and the silent sensors."""

    needs: frozenset[str] = frozenset()
    stale: frozenset[str] = frozenset()

    @property
    def needs_care(self) -> bool:
        """Whether any reading is out of bounds."""
        return bool(self.needs)

    def describe(self) -> str:
        """'thirsty', 'too dark', 'sensor silent'... in words."""
        words = {"moisture": "thirsty", "illuminance": "too dark", "temperature": "too cold or hot"}
        parts = [words[n] for n in sorted(self.needs)]
        parts += [f"{s} sensor silent" for s in sorted(self.stale)]
        return ", ".join(parts) or "fine"


def _out_of_bounds(threshold: Threshold, value: float, was_out: bool) -> bool:
    # Coming back needs the reading to pass the threshold by the hysteresis, so a
    # reading hovering around it does not flip the status back and forth.
    margin = threshold.hysteresis if was_out else 0.0
    low = threshold.below is not None and value < threshold.below + margin
    high = threshold.above is not None and value > threshold.above - margin
    return low or high


def evaluate(
    plant: Plant,
    previous: PlantStatus,
    readings: Readings,
    now: datetime,
) -> PlantStatus:
    """The plant's status from its latest readings and its previous status."""
    needs: set[str] = set()
    stale: set[str] = set()
    for kind, threshold in plant.thresholds().items():
        reading = readings.sensors.get((threshold.sensor, kind))
        if reading is None or now - reading.at > plant.stale_after:
            stale.add(kind)
        elif _out_of_bounds(threshold, reading.value, kind in previous.needs):
            needs.add(kind)
    return PlantStatus(frozenset(needs), frozenset(stale))
