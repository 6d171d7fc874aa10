"""What cocoon is doing and why, as one value for dashboards and `cocoon status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cocoon.core.model import ClimateTarget, LightTarget, Target
from cocoon.core.planner import Planner
from cocoon.core.plants import PlantStatus
from cocoon.core.state import RuntimeState


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """One device: what cocoon wants of it and why, or why it leaves it alone."""

    device: str
    doing: str
    why: str


@dataclass(frozen=True, slots=True)
class Status:
    """The whole picture at one instant."""

    at: datetime
    mode: str
    hands_off: bool
    active_scene: str
    next_ritual: str | None
    next_ritual_at: datetime | None
    calm_until: dict[str, datetime]
    plants: dict[str, PlantStatus]
    plants_needing_care: int
    devices: tuple[DeviceStatus, ...]
    problems: tuple[str, ...] = ()


def _doing(target: Target) -> str:
    if isinstance(target, ClimateTarget):
        return f"{target.setpoint:g} °C"
    assert isinstance(target, LightTarget)
    state = target.state
    if not state.on:
        return "off"
    parts = ["brightness kept" if target.keep_brightness else f"{state.brightness:.0f} %"]
    if state.kelvin is not None and not target.keep_kelvin:
        parts.append(f"{state.kelvin:.0f} K")
    return ", ".join(parts)


def describe(
    planner: Planner, now: datetime, state: RuntimeState, targets: dict[str, Target]
) -> Status:
    """The status at `now`, from the planner's view of the state and its targets."""
    cfg = planner.cfg
    zone = cfg.home.zone
    calm_until = {name: run.end for name, run in state.calm.items() if now < run.end}
    active = [
        layer.name
        for layer in planner.layers(state)
        if layer.envelope.holds(now) and layer.envelope.weight(now) > 0
    ]
    upcoming = [
        window
        for day in (planner.local_date(now), planner.local_date(now) + timedelta(days=1))
        for window in planner.day(day).windows
        if window.start > now
    ]
    following = min(upcoming, key=lambda w: w.start, default=None)
    devices = [
        DeviceStatus(device, _doing(target), target.reason)
        for device, target in sorted(targets.items())
    ]
    for device, hold in sorted(state.holds.items()):
        if hold.override is not None and now < hold.override.until and device not in targets:
            until = hold.override.until.astimezone(zone)
            devices.append(
                DeviceStatus(device, "left alone", f"changed by hand, until {until:%H:%M}")
            )
    if state.paused_since is not None:
        devices = [DeviceStatus("*", "left alone", "hands off")]
    return Status(
        at=now,
        mode=max(calm_until, key=lambda name: calm_until[name], default="off"),
        hands_off=state.paused_since is not None,
        active_scene=", ".join(reversed(active)) or "none",
        next_ritual=None if following is None else following.ritual,
        next_ritual_at=None if following is None else following.start,
        calm_until=calm_until,
        plants=dict(sorted(state.plants.items())),
        plants_needing_care=sum(status.needs_care for status in state.plants.values()),
        devices=tuple(devices),
    )
