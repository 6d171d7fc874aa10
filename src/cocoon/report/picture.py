"""The day plan as a picture: each light's brightness over the day, coloured by its warmth.

On top, a strip with the sun (night, twilight, day) and the rituals as bars; below, one
panel per light (one per room when there are many) and one for the thermostats. Every
light panel has the same 0–100 % scale, so a 1 % glow looks as small as it is; the
thermostats share a °C scale of their own, their setpoints drawn as steps.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from cocoon import install_hint
from cocoon.config.schema import CocoonConfig
from cocoon.core.model import LightState
from cocoon.core.names import device_name
from cocoon.errors import CocoonError
from cocoon.report.colour import kelvin_rgb
from cocoon.report.day import DayView, build_day
from cocoon.report.timeline import clock, percent

DPI = 120
# Up to this many lights get a panel each; more are drawn together, one panel per room.
_PANELS = 8
# Inches: the title block, the time axis below, one panel, one lane of the top strip.
_HEAD, _FOOT, _ROW, _LANE = 0.95, 0.4, 1.15, 0.26
# Points: the width of the panels (11 in at 91 %), one character of a bar's label.
_WIDTH_PT, _CHAR_PT = 11 * 0.91 * 72, 4.6
_BACKGROUND = "#15171d"
_PANEL = "#1d2029"
_TEXT = "#d9d4ca"
_MUTED = "#8b8f99"
_GRID = "#2b2f3a"
_NIGHT = "#23273a"
_TWILIGHT = "#4a4660"
_DAY = "#8c7a4e"
_SUN = "#e9c46a"
_OFF = (0.36, 0.38, 0.44)
# One colour per thermostat, the first warm, the others set apart from it.
_HEATS = ("#e07a5f", "#8fb8e0", "#c9a0dc", "#e9c46a")
_RITUALS = ("#7c9fd9", "#d9a066", "#8fc28a", "#cf86a8", "#a993dd", "#6cc4b8", "#c9c46f")


class _Plot:
    """matplotlib's modules, imported only when a picture is asked for."""

    def __init__(self) -> None:
        try:
            import matplotlib as mpl
        except ImportError:
            needs = f"cocoon plan --png needs matplotlib: {install_hint('plot')}"
            raise CocoonError(needs) from None
        mpl.use("Agg", force=True)
        import matplotlib.collections as collections
        import matplotlib.dates as dates
        import matplotlib.pyplot as pyplot
        import matplotlib.ticker as ticker

        self.pyplot: Any = pyplot
        self.collections: Any = collections
        self.dates: Any = dates
        self.ticker: Any = ticker

    def x(self, moment: datetime) -> float:
        """A matplotlib date number for an instant."""
        value: float = self.dates.date2num(moment)
        return value


def draw_day(cfg: CocoonConfig, day: date, path: Path) -> None:
    """Draw the light curves of `day` to a PNG at `path` (needs matplotlib)."""
    plot = _Plot()
    figure = day_figure(build_day(cfg, day), plot)
    try:
        figure.savefig(path, dpi=DPI, facecolor=_BACKGROUND)
    finally:
        plot.pyplot.close(figure)


def day_figure(view: DayView, plot: _Plot | None = None) -> Any:
    """The picture of a day as a matplotlib figure: the sun strip, then one panel per row.

    The caller closes it (`matplotlib.pyplot.close`).
    """
    plot = plot or _Plot()
    cfg = view.cfg
    groups = _groups(view)
    heat = [n for n in view.samples if cfg.devices[n].kind == "thermostat"]
    lanes = _lanes(view)
    strip = (max(1, max(lanes.values(), default=0) + 1) + 1) * _LANE
    ratios = [strip / _ROW] + [1.0] * len(groups) + ([0.7] if heat else [])
    if len(ratios) == 1:
        ratios.append(0.6)
    height = _HEAD + _FOOT + _ROW * sum(ratios) * 1.1
    figure, axes = plot.pyplot.subplots(
        len(ratios),
        1,
        sharex=True,
        figsize=(11, height),
        gridspec_kw={"height_ratios": ratios, "hspace": 0.1},
        squeeze=False,
    )
    figure.subplots_adjust(left=0.075, right=0.985, top=1 - _HEAD / height, bottom=_FOOT / height)
    figure.patch.set_facecolor(_BACKGROUND)
    top, *panels = [row[0] for row in axes]
    for axis in (top, *panels):
        _style(axis, view, plot)
    _strip(top, view, lanes, plot)
    for panel, (label, names) in zip(panels, groups, strict=False):
        _lights(panel, view, names, plot)
        _name(panel, label)
    if heat:
        _heat(panels[len(groups)], view, heat, plot)
    if not groups and not heat:
        panels[0].text(
            0.5,
            0.5,
            "cocoon leaves every device alone today",
            color=_MUTED,
            transform=panels[0].transAxes,
            ha="center",
            va="center",
        )
        panels[0].set_yticks([])
    _shade(panels, view, plot)
    _titles(figure, view)
    return figure


def _groups(view: DayView) -> list[tuple[str, list[str]]]:
    """Panels as (label, lights): one per light, or one per room when there are many."""
    devices = view.cfg.devices
    lights = [name for name in view.samples if devices[name].kind == "light"]
    if len(lights) <= _PANELS:
        return [(_label(view, name), [name]) for name in lights]
    rooms: dict[str, list[str]] = {}
    for name in lights:
        rooms.setdefault(devices[name].room or "Lights", []).append(name)
    return [(f"{room}  ·  {len(names)} lights", names) for room, names in rooms.items()]


def _label(view: DayView, ident: str) -> str:
    name = device_name(view.cfg, ident)
    room = view.cfg.devices[ident].room
    return f"{name}  ·  {room}" if room else name


def _name(panel: Any, label: str) -> None:
    panel.text(
        0.005, 0.92, label, transform=panel.transAxes, color=_TEXT, fontsize=9, va="top", zorder=6
    )


def _lanes(view: DayView) -> dict[int, int]:
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


def _style(axis: Any, view: DayView, plot: _Plot) -> None:
    dates, zone = plot.dates, view.zone
    axis.set_facecolor(_PANEL)
    axis.set_xlim(plot.x(view.start), plot.x(view.end))
    axis.xaxis.set_major_locator(dates.HourLocator(byhour=range(0, 24, 3), tz=zone))
    axis.xaxis.set_minor_locator(dates.HourLocator(tz=zone))

    def hour(value: float, _: object) -> str:
        return clock(dates.num2date(value), view.day, zone)

    axis.xaxis.set_major_formatter(plot.ticker.FuncFormatter(hour))
    axis.tick_params(colors=_MUTED, labelsize=8, length=3)
    axis.tick_params(which="minor", length=1.5, colors=_GRID)
    axis.grid(True, axis="x", color=_GRID, linewidth=0.6)
    axis.grid(True, axis="y", color=_GRID, linewidth=0.4, alpha=0.6)
    for side in axis.spines.values():
        side.set_visible(False)


def _strip(axis: Any, view: DayView, lanes: dict[int, int], plot: _Plot) -> None:
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
        _bar_text(axis, plot.x(view.start), plot.x(view.end), 0.5, sun.polar, _TEXT)
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


def _lights(panel: Any, view: DayView, names: list[str], plot: _Plot) -> None:
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


def _heat(panel: Any, view: DayView, names: list[str], plot: _Plot) -> None:
    values: list[float] = []
    several = len(names) > 1
    if several:
        _name(panel, "Thermostats  ·  setpoint")
    else:
        _name(panel, f"{device_name(view.cfg, names[0])}  ·  setpoint")
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
            labelcolor=_TEXT,
            ncols=len(names),
        )


def _shade(panels: list[Any], view: DayView, plot: _Plot) -> None:
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


def _titles(figure: Any, view: DayView) -> None:
    day, height = view.day, figure.get_figheight()
    figure.suptitle(
        f"{view.cfg.home.name} — {day:%A} {day.day} {day:%B %Y}",
        color=_TEXT,
        fontsize=13,
        x=0.075,
        ha="left",
        y=1 - 0.2 / height,
        va="top",
    )
    facts = [view.cfg.home.timezone, "brightness in %"]
    if view.sun.polar is not None:
        facts.append(view.sun.polar)
    if view.dst is not None:
        way = "forward" if view.dst.forward else "back"
        facts.append(f"clocks go {way} at {view.dst.wall_before}")
    figure.text(0.075, 1 - 0.6 / height, "  ·  ".join(facts), color=_MUTED, fontsize=8.5, ha="left")
    _kelvin_key(figure, height)


def _kelvin_key(figure: Any, height: float) -> None:
    """A small strip from warm to cool, saying what the line colours mean."""
    key = figure.add_axes((0.76, 1 - 0.62 / height, 0.18, 0.1 / height))
    steps = 64
    colours = [[kelvin_rgb(1800 + (6500 - 1800) * i / (steps - 1)) for i in range(steps)]]
    key.imshow(colours, aspect="auto", extent=(0, 1, 0, 1))
    key.set_axis_off()
    for x, text, align in ((-0.03, "1800 K", "right"), (1.03, "6500 K", "left")):
        key.text(
            x, 0.5, text, color=_MUTED, fontsize=7.5, ha=align, va="center", transform=key.transAxes
        )
    key.text(
        0.5,
        1.5,
        "line colour: colour temperature",
        color=_MUTED,
        fontsize=7.5,
        ha="center",
        va="bottom",
        transform=key.transAxes,
    )
