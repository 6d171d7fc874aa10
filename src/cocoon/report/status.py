"""The running daemon's status, as `cocoon status` prints it."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from cocoon.config.schema import CocoonConfig
from cocoon.core.names import layer_name


def _clock(text: str | None, zone: tzinfo) -> str:
    if not text:
        return "—"
    return datetime.fromisoformat(text).astimezone(zone).strftime("%a %H:%M")


def _named(cfg: CocoonConfig, section: str, identifier: str) -> str:
    """The configured name of what the daemon names by id (the id, should it be unknown)."""
    if identifier in getattr(cfg, section):
        return cfg.display_name(section, identifier)
    return identifier


def render_status(document: dict[str, Any], online: bool, cfg: CocoonConfig) -> str:
    """Readable lines from the status document the daemon publishes, under the names of
    the configuration (the document itself keeps the ids)."""
    zone = cfg.home.zone
    mode = document.get("mode", "off")
    active = document.get("active_scene", "none")
    in_force = "nothing" if active == "none" else active
    next_ritual = document.get("next_ritual")
    lines = [
        f"cocoon is {'online' if online else 'OFFLINE (last known status below)'}"
        f" · status of {_clock(document.get('at'), zone)}",
        f"Mode          {'off' if mode == 'off' else _named(cfg, 'calm_modes', mode)}"
        + "".join(
            f" (until {_clock(end, zone)})" for end in document.get("calm_until", {}).values()
        ),
        f"Hands off     {'yes' if document.get('hands_off') else 'no'}",
        "In force      " + ", ".join(layer_name(cfg, layer) for layer in in_force.split(", ")),
        f"Next ritual   {_named(cfg, 'rituals', next_ritual) if next_ritual else '—'}"
        f" at {_clock(document.get('next_ritual_at'), zone)}",
    ]
    for problem in document.get("problems", []):
        lines.append(f"Problem       {problem}")
    plants = document.get("plants", {})
    if plants:
        lines.append(
            "Plants        "
            + ", ".join(f"{_named(cfg, 'plants', k)}: {v}" for k, v in plants.items())
        )
    devices = [
        (_named(cfg, "devices", d["device"]), d["doing"], layer_name(cfg, d["why"]))
        for d in document.get("devices", [])
    ]
    lines.append("")
    if not devices:
        lines.append("No device is held by cocoon right now.")
    width = max((len(name) for name, _, _ in devices), default=0)
    doing_width = max((len(doing) for _, doing, _ in devices), default=0)
    for name, doing, why in devices:
        lines.append(f"  {name:<{width}}  {doing:<{doing_width}}  ({why})")
    return "\n".join(lines)
