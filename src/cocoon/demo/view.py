"""What the demo shows: a frame of the simulated home, drawn as text (pure).

`render` draws the live view (24-bit ANSI colours, or none); `plain_line` is the same
frame as one line of a log, for a terminal without colours or a CI log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from cocoon.report.colour import kelvin_rgb

BAR = 20
_BLOCKS = " ▏▎▍▌▋▊▉█"
_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
# Soft colours for words: a plant in need is amber, never alarm red.
_AMBER = (230, 170, 90)
_SAGE = (140, 180, 140)
_WARM = (240, 200, 150)


@dataclass(frozen=True, slots=True)
class LightLook:
    """A light as it shows: on or off, brightness in percent, colour temperature."""

    name: str
    on: bool
    brightness: float
    kelvin: float | None


@dataclass(frozen=True, slots=True)
class HeatLook:
    """A thermostat: its setpoint and the room's temperature."""

    name: str
    setpoint: float | None
    current: float | None


@dataclass(frozen=True, slots=True)
class PlantLook:
    """A plant: how it is in words, and its reading."""

    name: str
    words: str
    needs_care: bool
    reading: str | None = None


@dataclass(frozen=True, slots=True)
class Room:
    """One room's lights, thermostats and plants."""

    name: str
    lights: tuple[LightLook, ...] = ()
    heat: tuple[HeatLook, ...] = ()
    plants: tuple[PlantLook, ...] = ()


@dataclass(frozen=True, slots=True)
class Frame:
    """Everything one picture of the demo shows."""

    home: str
    now: datetime
    """The simulated instant, in the home's time zone."""
    speed: float
    sun: str
    active: tuple[str, ...]
    """Rituals, cues and calm modes in force, highest first, in words."""
    next_ritual: str | None
    rooms: tuple[Room, ...]
    events: tuple[str, ...] = ()
    """The latest decisions, oldest first, each starting with its simulated time."""


def _paint(text: str, rgb: tuple[float, float, float] | None, colour: bool) -> str:
    if not colour or rgb is None:
        return text
    red, green, blue = (max(0, min(255, round(c))) for c in rgb)
    return f"\x1b[38;2;{red};{green};{blue}m{text}{_RESET}"


def _style(text: str, code: str, colour: bool) -> str:
    return f"{code}{text}{_RESET}" if colour else text


def light_rgb(light: LightLook) -> tuple[float, float, float]:
    """The light's colour on screen: its colour temperature, darker when it is dim."""
    red, green, blue = kelvin_rgb(light.kelvin or 2700)
    # Perceived brightness grows like a square root; a 1 % glow is still visible.
    shade = 255 * (0.3 + 0.7 * (max(0.0, min(100.0, light.brightness)) / 100) ** 0.5)
    return red * shade, green * shade, blue * shade


def brightness_bar(percent: float, width: int = BAR) -> tuple[str, str]:
    """A bar of `width` cells for `percent`: the lit part (with eighths) and the rest."""
    eighths = round(max(0.0, min(100.0, percent)) / 100 * width * 8)
    if percent > 0:
        eighths = max(1, eighths)
    full, part = divmod(eighths, 8)
    lit = "█" * full + (_BLOCKS[part] if part else "")
    return lit, "·" * (width - len(lit))


def _kelvin(value: float) -> str:
    # Lights report mireds: 2400 K comes back as 417 mireds, which is 2398 K.
    return f"{round(value, -1):.0f}"


def _percent(value: float) -> str:
    # A glow under 1 % is still light; "0 %" would say it is off.
    return f"{value:.1f}" if 0 < value < 1 else f"{value:.0f}"


def _light_row(light: LightLook, name_width: int, colour: bool, width: int = BAR) -> str:
    name = light.name.ljust(name_width)
    if not light.on:
        swatch, bar = (
            (_style("··", _DIM, True), _style("·" * width, _DIM, True))
            if colour
            else ("  ", "." * width)
        )
        return f"  {swatch} {name}  {bar}  off"
    rgb = light_rgb(light)
    lit, rest = brightness_bar(light.brightness, width)
    if colour:
        swatch, bar = _paint("██", rgb, True), _paint(lit, rgb, True) + _style(rest, _DIM, True)
    else:
        cells = len(lit.replace(" ", ""))
        swatch, bar = "[]", "#" * cells + "." * (width - cells)
    kelvin = f"  {_kelvin(light.kelvin)} K" if light.kelvin is not None else ""
    return f"  {swatch} {name}  {bar}  {_percent(light.brightness):>3} %{kelvin}"


def _heat_row(heat: HeatLook, name_width: int, colour: bool) -> str:
    setpoint = "—" if heat.setpoint is None else f"{heat.setpoint:.1f} °C"
    room = "" if heat.current is None else f"  (room {heat.current:.1f} °C)"
    mark = _paint("≋ ", _WARM, colour)
    return f"  {mark} {heat.name.ljust(name_width)}  set to {setpoint}{room}"


def _plant_row(plant: PlantLook, name_width: int, colour: bool) -> str:
    words = _paint(plant.words, _AMBER if plant.needs_care else _SAGE, colour)
    reading = f" · {plant.reading}" if plant.reading else ""
    mark = _paint("✿ ", _SAGE, colour)
    return f"  {mark} {plant.name.ljust(name_width)}  {words}{reading}"


def _clip(line: str, width: int) -> str:
    visible = _ESCAPE.sub("", line)
    if len(visible) <= width:
        return line
    # Cutting between escape codes could leave a colour on: a clipped line goes plain.
    return visible[: width - 1] + "…"


FEWEST_EVENTS = 2
"""Decisions a view too short for all of them still shows, before it loses its blank lines."""
_FEWEST_CELLS = 5
"""The narrowest brightness bar, before a narrow view cuts the ends of its lines."""


def _wrapped(label: str, items: tuple[str, ...], width: int) -> list[str]:
    """`label` and the items joined by dots, on as many lines as `width` needs."""
    if not items:
        return [f"{label}nothing scheduled: the home is as it was left"]
    lines = [label + items[0]]
    for item in items[1:]:
        if len(lines[-1]) + len(" · ") + len(item) <= width:
            lines[-1] += f" · {item}"
        else:
            lines.append(" " * len(label) + item)
    return lines


def _home_lines(frame: Frame, colour: bool, width: int, gaps: int) -> list[str]:
    """The top of the view: headline, clock, what is in force, and every room."""
    when = _style(frame.now.strftime("%a %d %b %Y  %H:%M"), _BOLD, colour)
    lines = [
        f"cocoon demo · {frame.home} · {frame.speed:g}× real time",
        f"{when} · sun {frame.sun}",
        "",
        *_wrapped("  now   ", frame.active, width),
        f"  next  {frame.next_ritual or '—'}",
    ]
    names = [
        name
        for room in frame.rooms
        for name in (
            *(light.name for light in room.lights),
            *(heat.name for heat in room.heat),
            *(plant.name for plant in room.plants),
        )
    ]
    name_width = min(22, max((len(name) for name in names), default=8))
    # A narrow view shortens the bars before it cuts the numbers off the end of a row.
    rows = [
        _light_row(light, name_width, False, BAR) for room in frame.rooms for light in room.lights
    ]
    widest = max((len(row) for row in rows), default=0)
    bar = max(_FEWEST_CELLS, min(BAR, BAR - (widest - width)))
    for index, room in enumerate(frame.rooms):
        if index == 0 or gaps < 2:
            lines.append("")
        lines.append(_style(room.name, _BOLD, colour))
        lines += [_light_row(light, name_width, colour, bar) for light in room.lights]
        lines += [_heat_row(heat, name_width, colour) for heat in room.heat]
        lines += [_plant_row(plant, name_width, colour) for plant in room.plants]
    return [line for line in lines if line] if gaps >= 3 else lines


def render(
    frame: Frame,
    *,
    colour: bool = True,
    width: int = 80,
    height: int | None = None,
    footer: str = "Ctrl-C ends the demo",
) -> str:
    """The live view of one frame, as lines of text (ANSI colours when `colour`).

    No line is wider than `width`. With a `height`, there are at most that many lines: a
    short view shows fewer decisions (the latest), then drops blank lines, then the
    decisions, then cuts the bottom of the home; the footer stays whole, on the last line.
    """
    tail = [_style(footer, _DIM, colour)] if footer else []
    events = list(frame.events)
    for gaps in range(4):
        home = _home_lines(frame, colour, width, gaps)
        title = ([] if gaps >= 3 else [""]) + [_style("What cocoon decided", _BOLD, colour)]
        spacer = [""] if footer and gaps == 0 else []
        fixed = len(home) + len(title) + len(spacer) + len(tail)
        room = None if height is None else height - fixed
        if room is None or room >= max(len(events), 1):
            shown = [f"  {event}" for event in events] or ["  (nothing yet)"]
            break
        if room >= FEWEST_EVENTS or (gaps == 3 and room >= 1):
            shown = [f"  {event}" for event in events[len(events) - room :]]
            break
    else:
        # Not even a few decisions fit: the home alone, cut at the bottom if it must be.
        assert height is not None
        title = shown = spacer = []
        home = home[: max(0, height - len(tail))]
        tail = tail[: max(0, height)]
    lines = home + title + shown + spacer + tail
    return "\n".join(_clip(line, width) for line in lines)


def plain_line(frame: Frame) -> str:
    """The frame as one log line: time, sun, what is in force, lights that are on, plants."""
    lit = [
        f"{light.name} {_percent(light.brightness)}%"
        + (f" {_kelvin(light.kelvin)}K" if light.kelvin is not None else "")
        for room in frame.rooms
        for light in room.lights
        if light.on
    ]
    heat = [
        f"{h.name} {h.setpoint:.1f}°C"
        for room in frame.rooms
        for h in room.heat
        if h.setpoint is not None
    ]
    plants = [f"{p.name} {p.words}" for room in frame.rooms for p in room.plants]
    parts = [
        f"sun {frame.sun}",
        f"now: {', '.join(frame.active) or 'nothing scheduled'}",
        f"lights: {', '.join(lit) or 'all off'}",
    ]
    if heat:
        parts.append(f"heat: {', '.join(heat)}")
    if plants:
        parts.append(f"plants: {', '.join(plants)}")
    return f"{frame.now:%H:%M}  " + " · ".join(parts)
