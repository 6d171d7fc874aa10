"""The running daemon's status, as `cocoon status` prints it."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any


def _clock(text: str | None, zone: tzinfo) -> str:
    if not text:
        return "—"
    return datetime.fromisoformat(text).astimezone(zone).strftime("%a %H:%M")


def render_status(document: dict[str, Any], online: bool, zone: tzinfo) -> str:
    """Readable lines from the status document the daemon publishes."""
    lines = [
        f"cocoon is {'online' if online else 'OFFLINE (last known status below)'}"
        f" · status of {_clock(document.get('at'), zone)}",
        f"Mode          {document.get('mode', 'off')}"
        + "".join(
            f" (until {_clock(end, zone)})" for end in document.get("calm_until", {}).values()
        ),
        f"Hands off     {'yes' if document.get('hands_off') else 'no'}",
        f"In force      {document.get('active_scene', 'none')}",
        f"Next ritual   {document.get('next_ritual') or '—'}"
        f" at {_clock(document.get('next_ritual_at'), zone)}",
    ]
    for problem in document.get("problems", []):
        lines.append(f"Problem       {problem}")
    plants = document.get("plants", {})
    if plants:
        lines.append("Plants        " + ", ".join(f"{k}: {v}" for k, v in plants.items()))
    devices = document.get("devices", [])
    lines.append("")
    if not devices:
        lines.append("No device is held by cocoon right now.")
    width = max((len(d["device"]) for d in devices), default=0)
    doing = max((len(d["doing"]) for d in devices), default=0)
    for entry in devices:
        lines.append(f"  {entry['device']:<{width}}  {entry['doing']:<{doing}}  ({entry['why']})")
    return "\n".join(lines)
