"""The day plan as a picture: each light's brightness over the day, coloured by its warmth.

On top, a strip with the sun (night, twilight, day) and the rituals as bars; below, one
panel per light (one per room when there are many) and one for the thermostats. Every
light panel has the same 0–100 % scale, so a 1 % glow looks as small as it is; the
thermostats share a °C scale of their own, their setpoints drawn as steps.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from cocoon.config.schema import CocoonConfig
from cocoon.core.names import device_name
from cocoon.report.canvas import BACKGROUND, GRID, MUTED, PANEL, TEXT, Plot, name_panel
from cocoon.report.colour import kelvin_rgb
from cocoon.report.day import DayView, build_day
from cocoon.report.drawing import (
    draw_heat,
    draw_lights,
    draw_shade,
    draw_strip,
    ritual_lanes,
    setpoint_steps,
)
from cocoon.report.timeline import clock

__all__ = ["DPI", "day_figure", "draw_day", "setpoint_steps"]

DPI = 120
# Up to this many lights get a panel each; more are drawn together, one panel per room.
_PANELS = 8
# Inches: the title block, the time axis below, one panel, one lane of the top strip.
_HEAD, _FOOT, _ROW, _LANE = 0.95, 0.4, 1.15, 0.26


def draw_day(cfg: CocoonConfig, day: date, path: Path) -> None:
    """Draw the light curves of `day` to a PNG at `path` (needs matplotlib)."""
    plot = Plot()
    figure = day_figure(build_day(cfg, day), plot)
    try:
        figure.savefig(path, dpi=DPI, facecolor=BACKGROUND)
    finally:
        plot.pyplot.close(figure)


def day_figure(view: DayView, plot: Plot | None = None) -> Any:
    """The picture of a day as a matplotlib figure: the sun strip, then one panel per row.

    The caller closes it (`matplotlib.pyplot.close`).
    """
    plot = plot or Plot()
    cfg = view.cfg
    groups = _groups(view)
    heat = [n for n in view.samples if cfg.devices[n].kind == "thermostat"]
    lanes = ritual_lanes(view)
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
    figure.patch.set_facecolor(BACKGROUND)
    top, *panels = [row[0] for row in axes]
    for axis in (top, *panels):
        _style(axis, view, plot)
    draw_strip(top, view, lanes, plot)
    for panel, (label, names) in zip(panels, groups, strict=False):
        draw_lights(panel, view, names, plot)
        name_panel(panel, label)
    if heat:
        draw_heat(panels[len(groups)], view, heat, plot)
    if not groups and not heat:
        panels[0].text(
            0.5,
            0.5,
            "cocoon leaves every device alone today",
            color=MUTED,
            transform=panels[0].transAxes,
            ha="center",
            va="center",
        )
        panels[0].set_yticks([])
    draw_shade(panels, view, plot)
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


def _style(axis: Any, view: DayView, plot: Plot) -> None:
    dates, zone = plot.dates, view.zone
    axis.set_facecolor(PANEL)
    axis.set_xlim(plot.x(view.start), plot.x(view.end))
    axis.xaxis.set_major_locator(dates.HourLocator(byhour=range(0, 24, 3), tz=zone))
    axis.xaxis.set_minor_locator(dates.HourLocator(tz=zone))

    def hour(value: float, _: object) -> str:
        return clock(dates.num2date(value), view.day, zone)

    axis.xaxis.set_major_formatter(plot.ticker.FuncFormatter(hour))
    axis.tick_params(colors=MUTED, labelsize=8, length=3)
    axis.tick_params(which="minor", length=1.5, colors=GRID)
    axis.grid(True, axis="x", color=GRID, linewidth=0.6)
    axis.grid(True, axis="y", color=GRID, linewidth=0.4, alpha=0.6)
    for side in axis.spines.values():
        side.set_visible(False)


def _titles(figure: Any, view: DayView) -> None:
    day, height = view.day, figure.get_figheight()
    figure.suptitle(
        f"{view.cfg.home.name} — {day:%A} {day.day} {day:%B %Y}",
        color=TEXT,
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
    figure.text(0.075, 1 - 0.6 / height, "  ·  ".join(facts), color=MUTED, fontsize=8.5, ha="left")
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
            x, 0.5, text, color=MUTED, fontsize=7.5, ha=align, va="center", transform=key.transAxes
        )
    key.text(
        0.5,
        1.5,
        "line colour: colour temperature",
        color=MUTED,
        fontsize=7.5,
        ha="center",
        va="bottom",
        transform=key.transAxes,
    )
