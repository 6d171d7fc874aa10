"""Colours for pictures of light."""

from __future__ import annotations

import math


def kelvin_rgb(kelvin: float) -> tuple[float, float, float]:
    """The colour of a black body at `kelvin`, as RGB in 0-1 (Tanner Helland's approximation)."""
    t = min(40000.0, max(1000.0, kelvin)) / 100
    if t <= 66:
        red = 255.0
        green = 99.4708025861 * math.log(t) - 161.1195681661
    else:
        red = 329.698727446 * (t - 60) ** -0.1332047592
        green = 288.1221695283 * (t - 60) ** -0.0755148492
    if t >= 66:
        blue = 255.0
    elif t <= 19:
        blue = 0.0
    else:
        blue = 138.5177312231 * math.log(t - 10) - 305.0447927307
    return (
        min(255.0, max(0.0, red)) / 255,
        min(255.0, max(0.0, green)) / 255,
        min(255.0, max(0.0, blue)) / 255,
    )
