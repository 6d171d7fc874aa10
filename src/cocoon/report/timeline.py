"""The day plan as plain text: sun, warnings, rituals, and what each device does when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from cocoon.config.schema import CocoonConfig, Setpoint
from cocoon.config.values import SUN_EVENTS, WEEKDAYS, format_duration
from cocoon.core.model import LightState
from cocoon.core.names import device_name, layer_name
from cocoon.report.day import DayView, RitualRow, build_day
from cocoon.report.segments import Segment

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_NONE = "—"
_INDENT = "  "


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the device section: when, which device, what it does, and why.

    `device` is the device's id; `name`, `action` and `reason` are in people's words.
    """

    room: str | None
    device: str
    name: str
    start: str
    end: str
    action: str
    reason: str
    segment: Segment

    @property
    def when(self) -> str:
        """`18:22–19:07` for a stretch of time; `at 18:22` for a setpoint, which does not fade."""
        if not self.segment.light:
            return f"at {self.start}"
        return self.start if self.start == self.end else f"{self.start}–{self.end}"


def clock(moment: datetime, day: date, zone: tzinfo) -> str:
    """`HH:MM` of `moment` (to the nearest minute) in `zone`, with +1 / -1 off `day`."""
    rounded = (moment.astimezone(UTC) + timedelta(seconds=30)).replace(second=0, microsecond=0)
    local = rounded.astimezone(zone)
    shift = (local.date() - day).days
    if shift == 1 and local.hour == 0 and local.minute == 0:
        return "24:00"
    text = local.strftime("%H:%M")
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        # The hour the clocks go back happens twice: say which one.
        text += f" {local.tzname()}"
    return f"{text} {shift:+d}" if shift else text


def percent(brightness: float) -> str:
    """A brightness for people: off, 0.4 %, 35 %."""
    if brightness <= 0.0:
        return "off"
    if brightness < 0.95:
        return f"{brightness:.1f} %"
    return f"{brightness:.0f} %"


def _kelvin(kelvin: float) -> str:
    return f"{round(kelvin / 10) * 10:.0f} K"


def look(state: LightState) -> str:
    """A light's look: `off`, `35 %`, `35 %, 2200 K`."""
    if not state.on:
        return "off"
    if state.kelvin is None:
        return percent(state.brightness)
    return f"{percent(state.brightness)}, {_kelvin(state.kelvin)}"


def _fade(first: LightState, last: LightState) -> str:
    brightness = f"{percent(first.brightness)} → {percent(last.brightness)}"
    if percent(first.brightness) == percent(last.brightness):
        brightness = percent(first.brightness)
    warm = [s.kelvin for s in (first, last) if s.on and s.kelvin is not None]
    if not warm:
        return brightness
    if len(warm) == 2 and _kelvin(warm[0]) != _kelvin(warm[1]):
        return f"{brightness}, {_kelvin(warm[0])} → {_kelvin(warm[1])}"
    return f"{brightness}, {_kelvin(warm[-1])}"


def _setpoints(cfg: CocoonConfig, device: str) -> dict[str, Setpoint]:
    """The setpoint each layer asks of `device`, by the layer's name."""
    found: dict[str, Setpoint] = {}
    for ident, ritual in cfg.rituals.items():
        scene = cfg.scenes.get(ritual.scene)
        if scene is not None and device in scene.heat:
            found[f"ritual {ident}"] = scene.heat[device]
    for ident, mode in cfg.calm_modes.items():
        scene = cfg.scenes.get(mode.scene)
        if scene is not None and device in scene.heat:
            found[ident] = scene.heat[device]
    return found


def action(cfg: CocoonConfig, segment: Segment) -> str:
    """What the device does in a segment: `holds 35 %, 2200 K`, `fades off → 35 %`, `→ 21 °C`.

    A thermostat does not fade: its segment is a step to a setpoint at the segment's start.
    """
    first, last = segment.first, segment.last
    if isinstance(first, LightState) and isinstance(last, LightState):
        if segment.moving:
            return f"fades {_fade(first, last)}"
        return "off" if not first.on else f"holds {look(first)}"
    assert isinstance(first, float)
    wanted = _setpoints(cfg, segment.device).get(segment.reason.split(" (held within")[0])
    if wanted is not None and wanted.relative:
        return f"→ {first:g} °C ({wanted})"
    return f"→ {first:g} °C"


def timeline_rows(view: DayView) -> list[Row]:
    """The device section as rows, grouped by room (in config order), then device, then time."""
    cfg, zone = view.cfg, view.zone
    order = list(cfg.devices)
    rooms = list(dict.fromkeys(cfg.devices[s.device].room for s in view.segments))
    rows = [
        Row(
            room=cfg.devices[s.device].room,
            device=s.device,
            name=device_name(cfg, s.device),
            start=clock(s.start, view.day, zone),
            end=clock(s.end, view.day, zone),
            action=action(cfg, s),
            reason=layer_name(cfg, s.reason),
            segment=s,
        )
        for s in view.segments
    ]
    rows.sort(
        key=lambda r: (
            len(rooms) if r.room is None else rooms.index(r.room),
            order.index(r.device),
            r.segment.start,
        )
    )
    return rows


def _header(view: DayView) -> list[str]:
    day = view.day
    minutes = int((view.start.utcoffset() or timedelta(0)).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    utc = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    date_text = f"{_DAY_NAMES[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"
    lines = [f"{view.cfg.home.name} · {date_text} · {view.cfg.home.timezone} ({utc})"]
    change = view.dst
    if change is not None:
        way = "forward" if change.forward else "back"
        span = view.end.astimezone(UTC) - view.start.astimezone(UTC)
        lines.append(
            f"Clock change day: at {change.wall_before} the clocks go {way} to"
            f" {change.wall_after} ({change.zone_before} → {change.zone_after});"
            f" the day has {span.total_seconds() / 3600:g} hours."
        )
    return lines


def _sun(view: DayView) -> list[str]:
    parts = []
    for event in SUN_EVENTS:
        moment = view.sun.get(event)
        parts.append(f"{event} {_NONE if moment is None else clock(moment, view.day, view.zone)}")
    line = "Sun      " + "   ".join(parts)
    polar = view.sun.polar
    if polar is not None:
        never = "sets" if polar == "polar day" else "rises"
        line += f"\n{_INDENT}{polar}: the sun never {never} today"
    return [line]


def _warnings(view: DayView) -> list[str]:
    if not view.notes:
        return []
    prefix = f"{view.day}: "
    notes = [note.removeprefix(prefix) for note in view.notes]
    return ["Warnings", *(f"{_INDENT}! {note}" for note in notes)]


def _days(days: frozenset[int]) -> str:
    if days == frozenset(range(5)):
        return "weekdays"
    if days == frozenset({5, 6}):
        return "weekends"
    return ", ".join(WEEKDAYS[d] for d in sorted(days))


def _ritual_line(view: DayView, row: RitualRow) -> tuple[str, str, str, str]:
    ritual = view.cfg.rituals[row.ritual]
    if row.window is None:
        when = _NONE
        if row.status == "not today":
            remark = f"not today (only {_days(ritual.days)})"
        else:
            remark = "skipped today (see warnings)"
    else:
        start = clock(row.window.start, view.day, view.zone)
        end = clock(row.window.end, view.day, view.zone)
        when = f"{start} – {end}"
        scene = view.cfg.display_name("scenes", ritual.scene)
        remark = f"scene {scene}, fade {format_duration(ritual.fade)}"
        if row.status == "yesterday":
            remark = "from yesterday, in force at 00:00"
    return when, row.name, row.spec, remark


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        _INDENT
        + "  ".join(
            [*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]
        ).rstrip()
        for row in rows
    ]


def _why(reason: str) -> str:
    # "ritual evening (held within 16–23)" reads better without nested brackets.
    return f"({reason.replace(' (', ', ').removesuffix(')')})" if " (" in reason else f"({reason})"


def _rituals(view: DayView) -> list[str]:
    if not view.rituals:
        return ["Rituals", f"{_INDENT}none configured"]
    cells = [_ritual_line(view, row) for row in view.rituals]
    lines = ["Rituals"]
    margin = _INDENT + " " * (max(len(cell[0]) for cell in cells) + 2)
    for row, line in zip(view.rituals, _table(cells), strict=True):
        lines.append(line)
        if row.moved:
            lines.append(f"{margin}↳ {row.moved}")
    return lines


def _devices(view: DayView) -> list[str]:
    rows = timeline_rows(view)
    if not rows:
        return ["Devices", f"{_INDENT}cocoon leaves every device alone today"]
    cells = [(r.when, r.name, r.action, _why(r.reason)) for r in rows]
    lines = _table(cells)
    if not any(r.room for r in rows):
        return ["Devices", *lines]
    out: list[str] = []
    room: object = object()
    for row, line in zip(rows, lines, strict=True):
        if row.room != room:
            room = row.room
            out.extend(["", row.room or "Other devices"])
        out.append(line)
    return out[1:]


def _footer(view: DayView) -> list[str]:
    cfg = view.cfg
    idle = [
        device_name(cfg, ident)
        for ident, device in cfg.devices.items()
        if device.kind != "sensor" and ident not in view.samples
    ]
    lines = []
    if idle:
        lines.append(f"Left alone all day: {', '.join(idle)}.")
    thermostats = any(d.kind == "thermostat" for d in cfg.devices.values())
    assumed = "Lights are taken to be off where no ritual holds them"
    if thermostats:
        assumed += f", thermostats to be at {view.baseline_setpoint:g} °C"
    lines.append(assumed + ".")
    return lines


def render(view: DayView) -> str:
    """The day as text."""
    sections = [
        _header(view),
        _sun(view),
        _warnings(view),
        _rituals(view),
        _devices(view),
        _footer(view),
    ]
    return "\n\n".join("\n".join(s) for s in sections if s) + "\n"


def day_timeline(cfg: CocoonConfig, day: date, *, baseline_setpoint: float = 20.0) -> str:
    """A readable timeline of one local date of the home (see `build_day` for what is assumed)."""
    return render(build_day(cfg, day, baseline_setpoint=baseline_setpoint))
