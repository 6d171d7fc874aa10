"""What is drawn on the day's picture: the sun strip with the ritual bars, each light's
brightness curve coloured by its warmth, the thermostats' setpoint steps, and the ritual
windows and sun events shaded on every panel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cocoon.core.model import LightState
from cocoon.core.names import device_name
from cocoon.report.canvas import TEXT, Plot, name_panel
from cocoon.report.colour import kelvin_rgb
from cocoon.report.day import DayView
from cocoon.report.timeline import clock, percent

# Points: the width of the panels (11 in at 91 %), one character of a bar's label.
_WIDTH_PT, _CHAR_PT = 11 * 0.91 * 72, 4.6
_NIGHT = "#23273a"
_TWILIGHT = "#4a4660"
_DAY = "#8c7a4e"
_SUN = "#e9c46a"
_OFF = (0.36, 0.38, 0.44)
# One colour per thermostat, the first warm, the others set apart from it.
_HEATS = ("#e07a5f", "#8fb8e0", "#c9a0dc", "#e9c46a")
_RITUALS = ("#7c9fd9", "#d9a066", "#8fc28a", "#cf86a8", "#a993dd", "#6cc4b8", "#c9c46f")


def ritual_lanes(view: DayView) -> dict[int, int]:
    """A lane for each ritual window (by index), so overlapping windows do not hide each other."""
    ends: list[datetime] = []
    lanes: dict[int, int] = {}
    for index, window in enumerate(view.windows()):
        lane = next((i for i, end in enumerate(ends) if end <= window.start), len(ends))
        if lane == len(ends):
            ends.append(window.end)
        ends[lane] = window.end
        lanes[index] = lane
    return lanes


def draw_strip(axis: Any, view: DayView, lanes: dict[int, int], plot: Plot) -> None:
    """The sun lane (night, twilight, day) and the ritual bars under it."""
    count = max(1, max(lanes.values(), default=0) + 1)
    axis.set_ylim(count + 1, 0)
    axis.set_yticks([])
    axis.grid(False)
    sun = view.sun
    polar_day = sun.polar == "polar day"
    spans = [
        (view.start, view.end, _DAY if polar_day else _NIGHT),
        (sun.dawn or view.start, sun.dusk or view.end, _TWILIGHT),
        (sun.sunrise or view.start, sun.sunset or view.end, _DAY),
    ]
    for low, high, colour in spans if not sun.polar else spans[:1]:
        axis.broken_barh([(plot.x(low), plot.x(high) - plot.x(low))], (0.12, 0.76), color=colour)
    if sun.polar:
        _bar_text(axis, plot.x(view.start), plot.x(view.end), 0.5, sun.polar, TEXT)
    for event in ("sunrise", "sunset"):
        moment = sun.get(event)
        if moment is not None:
            label = f"{event} {clock(moment, view.day, view.zone)}"
            align = "left" if event == "sunrise" else "right"
            nudge = 0.002 if event == "sunrise" else -0.002
            axis.text(
                plot.x(moment) + nudge,
                0.5,
                f" {label} ",
                color="#1a1a1a",
                fontsize=7.5,
                ha=align,
                va="center",
                zorder=5,
            )
    for index, window in enumerate(view.windows()):
        colour = _colour(view, window.ritual)
        low, high = max(window.start, view.start), min(window.end, view.end)
        x0, x1 = plot.x(low), plot.x(high)
        lane = 1 + lanes[index]
        axis.broken_barh([(x0, x1 - x0)], (lane + 0.14, 0.72), color=colour, alpha=0.85)
        name = view.cfg.display_name("rituals", window.ritual)
        since = f"{name} (since {window.start.astimezone(view.zone):%H:%M} yesterday)"
        room = (x1 - x0) / (plot.x(view.end) - plot.x(view.start)) * _WIDTH_PT - 8
        if window.start < view.start and room > len(since) * _CHAR_PT:
            _bar_text(axis, x0, x1, lane + 0.5, since, "#15171d")
        elif room > len(name) * _CHAR_PT:
            _bar_text(axis, x0, x1, lane + 0.5, name, "#15171d")
        else:
            # Too narrow for its name: write it beside the bar.
            axis.text(x1, lane + 0.5, f" {name}", color=colour, fontsize=7.5, va="center")


def _colour(view: DayView, ritual: str) -> str:
    """Each ritual keeps one colour, by its place in the configuration."""
    return _RITUALS[list(view.cfg.rituals).index(ritual) % len(_RITUALS)]


def _bar_text(axis: Any, x0: float, x1: float, y: float, text: str, colour: str) -> None:
    axis.annotate(
        text,
        xy=((x0 + x1) / 2, y),
        color=colour,
        fontsize=7.5,
        ha="center",
        va="center",
        zorder=5,
        annotation_clip=False,
    )


def draw_lights(panel: Any, view: DayView, names: list[str], plot: Plot) -> None:
    """The brightness curves of `names` on one panel, each stretch coloured by its kelvin."""
    for name in names:
        points = view.samples[name]
        lines: list[list[tuple[float, float]]] = []
        fills: list[list[tuple[float, float]]] = []
        colours: list[tuple[float, float, float]] = []
        kelvin = 2700.0
        following = [*points[1:], (view.end, points[-1][1])]
        for (at, state), (then, next_state) in zip(points, following, strict=True):
            if not isinstance(state, LightState):
                continue
            end = next_state if isinstance(next_state, LightState) else state
            look = state if state.on else end
            kelvin = look.kelvin if look.kelvin is not None else kelvin
            x0, x1 = plot.x(at), plot.x(then)
            lines.append([(x0, state.brightness), (x1, end.brightness)])
            fills.append([(x0, 0), (x0, state.brightness), (x1, end.brightness), (x1, 0)])
            colours.append(kelvin_rgb(kelvin) if look.on else _OFF)
        collections = plot.collections
        panel.add_collection(
            collections.PolyCollection(fills, facecolors=colours, alpha=0.14, lw=0, zorder=2)
        )
        panel.add_collection(
            collections.LineCollection(lines, colors=colours, linewidths=2.2, zorder=3)
        )
    # One scale for every light, so panels can be compared at a glance.
    panel.set_ylim(-6.0, 106.0)
    panel.yaxis.set_major_locator(plot.ticker.FixedLocator([0.0, 50.0, 100.0]))
    panel.yaxis.set_major_formatter(
        plot.ticker.FuncFormatter(lambda v, _: percent(v) if v > 0 else "0")
    )


def setpoint_steps(view: DayView, device: str) -> list[tuple[datetime, float]]:
    """Each setpoint a thermostat is given during the day, at the instant it is given.

    A setpoint does not fade: the thermostat jumps to it and holds it, also after cocoon
    lets go (it keeps what it was given back), so the steps are all there is to draw.
    """
    steps: list[tuple[datetime, float]] = []
    for segment in view.segments:
        if segment.device != device or not isinstance(segment.first, float):
            continue
        if not steps or abs(steps[-1][1] - segment.first) > 1e-6:
            steps.append((segment.start, segment.first))
    return steps


def draw_heat(panel: Any, view: DayView, names: list[str], plot: Plot) -> None:
    """The thermostats' setpoints as steps on one panel, each step labelled in °C."""
    values: list[float] = []
    several = len(names) > 1
    if several:
        name_panel(panel, "Thermostats  ·  setpoint")
    else:
        name_panel(panel, f"{device_name(view.cfg, names[0])}  ·  setpoint")
    for index, ident in enumerate(names):
        colour = _HEATS[index % len(_HEATS)]
        steps = setpoint_steps(view, ident)
        if not steps:
            continue
        xs = [plot.x(at) for at, _ in steps] + [plot.x(view.end)]
        ys = [value for _, value in steps] + [steps[-1][1]]
        label = device_name(view.cfg, ident)
        panel.step(xs, ys, where="post", color=colour, lw=1.8, zorder=3, label=label)
        for x, y in zip(xs[:-1], ys[:-1], strict=True):
            panel.plot([x], [y], "o", color=colour, markersize=3.5, zorder=4)
            panel.annotate(
                f"{y:g} °C",
                xy=(x, y),
                xytext=(3, 4),
                textcoords="offset points",
                color=colour,
                fontsize=7,
                zorder=5,
            )
        values.extend(ys)
    low, high = (min(values), max(values)) if values else (18.0, 22.0)
    # Room above the highest step for its label, and at least 4 °C in view, so half a
    # degree looks like half a degree.
    middle, half = (low + high) / 2, max(2.0, (high - low) / 2 + 1.0)
    panel.set_ylim(middle - half, middle + half + (1.2 if several else 0.4))
    panel.yaxis.set_major_locator(plot.ticker.MaxNLocator(nbins=3, steps=[1, 2, 5, 10]))
    panel.yaxis.set_major_formatter(plot.ticker.FuncFormatter(lambda v, _: f"{v:g} °C"))
    if several:
        # Beside the panel's name, where no line runs.
        panel.legend(
            loc="upper left",
            bbox_to_anchor=(0.2, 1.04),
            fontsize=7.5,
            frameon=False,
            labelcolor=TEXT,
            ncols=len(names),
        )


def draw_shade(panels: list[Any], view: DayView, plot: Plot) -> None:
    """Ritual windows as faint bands, sunrise and sunset as dashed lines, on every panel."""
    for window in view.windows():
        colour = _colour(view, window.ritual)
        low, high = max(window.start, view.start), min(window.end, view.end)
        for panel in panels:
            panel.axvspan(plot.x(low), plot.x(high), color=colour, alpha=0.06, lw=0, zorder=1)
    for event in ("sunrise", "sunset"):
        moment = view.sun.get(event)
        if moment is None:
            continue
        for panel in panels:
            panel.axvline(plot.x(moment), color=_SUN, lw=0.9, ls=(0, (4, 3)), alpha=0.6, zorder=4)
