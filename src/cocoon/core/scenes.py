"""Fades: how a layer's weight grows and shrinks, and how two looks of a light are blended.

Brightness is blended in CIE lightness (L*), so equal steps look equal to the eye and a
fade near darkness does not rush; colour temperature is blended in mireds, the scale in
which equal steps look equal. Off is brightness 0, so fading to or from off is a fade like
any other and never a flash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cocoon.config.schema import LightSetting
from cocoon.core.model import LightState

_EPSILON = 216 / 24389
_KAPPA = 24389 / 27


def lightness(brightness: float) -> float:
    """Perceived lightness L* (0-100) of a brightness in percent of full output."""
    y = max(0.0, brightness) / 100
    return y * _KAPPA if y <= _EPSILON else 116 * y ** (1 / 3) - 16


def brightness_of(lightness_value: float) -> float:
    """The brightness in percent that looks as light as L* `lightness_value`."""
    if lightness_value <= 0:
        return 0.0
    if lightness_value <= _KAPPA * _EPSILON:
        return 100 * lightness_value / _KAPPA
    return 100 * ((lightness_value + 16) / 116) ** 3


def blend_brightness(start: float, end: float, weight: float) -> float:
    """Brightness `weight` of the way from `start` to `end`, perceptually even."""
    if weight <= 0:
        return start
    if weight >= 1:
        return end
    a, b = lightness(start), lightness(end)
    return brightness_of(a + (b - a) * weight)


def blend_kelvin(start: float | None, end: float | None, weight: float) -> float | None:
    """Colour temperature `weight` of the way from `start` to `end`, even in mireds."""
    if start is None or weight >= 1:
        return end if end is not None else start
    if end is None or weight <= 0:
        return start
    a, b = 1e6 / start, 1e6 / end
    return 1e6 / (a + (b - a) * weight)


def blend(base: LightState, setting: LightSetting, weight: float) -> LightState:
    """The look `weight` of the way from `base` to what `setting` asks for.

    A setting without brightness only tints a light that is on; it never switches one on.
    """
    if weight <= 0:
        return base
    if setting.brightness is None and setting.on:
        if not base.on:
            return base
        return LightState(base.brightness, blend_kelvin(base.kelvin, setting.kelvin, weight))
    return blend_states(base, LightState(setting.brightness or 0.0, setting.kelvin), weight)


def blend_states(start: LightState, end: LightState, weight: float) -> LightState:
    """The look `weight` of the way from one whole look to another."""
    if weight <= 0:
        return start
    if not end.on:
        # Into darkness: the light keeps its colour (one without a colour takes the end's).
        kelvin = start.kelvin if start.kelvin is not None else end.kelvin
        return LightState(blend_brightness(start.brightness, 0.0, weight), kelvin)
    if weight >= 1:
        return end if end.kelvin is not None else LightState(end.brightness, start.kelvin)
    a, b = lightness(start.brightness), lightness(end.brightness)
    ours, theirs = weight * b, (1 - weight) * a
    # Colour follows where the light comes from, so a fade from darkness shows its
    # target colour from the first glimmer and a fade into darkness keeps its colour;
    # no colour jumps as a light passes through off.
    share = weight if ours + theirs <= 0 else ours / (ours + theirs)
    kelvin = blend_kelvin(start.kelvin, end.kelvin, share)
    return LightState(brightness_of(a + (b - a) * weight), kelvin)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A layer's presence over time: fades in from `start`, holds, fades out after `end`."""

    start: datetime
    end: datetime
    fade: timedelta
    fade_out: timedelta

    @property
    def gone(self) -> datetime:
        """The instant the fade-out is complete."""
        return self.end + self.fade_out

    def weight(self, now: datetime) -> float:
        """How much of the layer is in force at `now` (0 to 1).

        A fade-in longer than the window is clipped: the fade-out then starts from
        wherever the fade-in had got to.
        """
        if now < self.start or now > self.gone:
            return 0.0
        peak = self._ramp(min(now, self.end) - self.start)
        if now < self.end:
            return peak
        if self.fade_out <= timedelta(0):
            return 0.0
        return peak * max(0.0, 1 - (now - self.end) / self.fade_out)

    def _ramp(self, elapsed: timedelta) -> float:
        if self.fade <= timedelta(0):
            return 1.0
        return min(1.0, elapsed / self.fade)

    def holds(self, now: datetime) -> bool:
        """Whether the layer has any say at `now` (its last instant included, at weight 0)."""
        return self.start <= now <= self.gone

    def fading(self, now: datetime) -> bool:
        """Whether the weight is changing at `now`."""
        if not self.holds(now):
            return False
        if now < self.end:
            return self.fade > timedelta(0) and now < self.start + self.fade
        return now < self.gone

    def boundaries(self) -> tuple[datetime, ...]:
        """Instants at which the weight changes its course."""
        return (self.start, min(self.start + self.fade, self.end), self.end, self.gone)
