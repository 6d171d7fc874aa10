"""Checks across sections: names that point nowhere, or at the wrong kind of thing."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cocoon.config.schema import CocoonConfig, DeviceKind


@dataclass(frozen=True, slots=True)
class Problem:
    """A configuration problem found after the model itself validated."""

    path: tuple[str | int, ...]
    message: str


def did_you_mean(name: str, choices: Any) -> str:
    """' — did you mean 'x'?' for the closest valid name, or nothing."""
    names = [str(choice) for choice in choices]
    # A shortened name (rate for rate_limit) is closer than spelling similarity says.
    prefixed = [c for c in names if len(name) >= 3 and (c.startswith(name) or name.startswith(c))]
    close = prefixed if len(prefixed) == 1 else difflib.get_close_matches(name, names, n=1)
    return f" — did you mean '{close[0]}'?" if close else ""


def _unknown(what: str, name: str, choices: Any) -> str:
    known = ", ".join(sorted(choices)) or "none are configured"
    hint = did_you_mean(name, choices)
    return f"unknown {what} '{name}'{hint}" if hint else f"unknown {what} '{name}' (known: {known})"


def _too_quick(cfg: CocoonConfig) -> list[Problem]:
    quickest = cfg.settings.quickest_fade
    fades: list[tuple[tuple[str | int, ...], timedelta | None]] = [
        (("settings", "resume_fade"), cfg.settings.resume_fade)
    ]
    for section in ("rituals", "calm_modes"):
        for name, item in getattr(cfg, section).items():
            fades.append(((section, name, "fade"), item.fade))
            fades.append(((section, name, "fade_out"), item.fade_out))
    for name, plant in cfg.plants.items():
        if plant.cue is not None:
            fades.append((("plants", name, "cue", "fade"), plant.cue.fade))
    return [
        Problem(
            path,
            f"a fade of {fade.total_seconds():g}s is quicker than cocoon's gentlest pace allows"
            f" with max_step {cfg.settings.max_step:g} (at least {quickest.total_seconds():g}s);"
            " write 0 for an instant change, or a longer fade",
        )
        for path, fade in fades
        if fade is not None and timedelta(0) < fade < quickest
    ]


def _touches(path: tuple[str | int, ...], other: tuple[str | int, ...]) -> bool:
    """Whether one path lies within the other."""
    shorter = min(len(path), len(other))
    return path[:shorter] == other[:shorter]


def reference_problems(
    cfg: CocoonConfig, dropped: Collection[tuple[str | int, ...]] = ()
) -> list[Problem]:
    """Names that point nowhere or at the wrong kind of thing, each with its path.

    `dropped` are the paths of settings left out of `cfg` for errors of their own: a
    name defined there, or a section dropped whole, is taken as given.
    """
    problems: list[Problem] = []
    devices = cfg.devices

    def uncertain(*path: str | int) -> bool:
        return any(_touches(path, gone) for gone in dropped)

    def written(section: str, names: Collection[str]) -> list[str]:
        """The names of a section, those dropped for errors of their own included."""
        gone = [str(p[1]) for p in dropped if len(p) == 2 and p[0] == section]
        return [*names, *gone]

    def device(path: tuple[str | int, ...], name: str, kind: DeviceKind) -> None:
        if uncertain("devices", name):
            return
        if name not in devices:
            problems.append(Problem(path, _unknown("device", name, written("devices", devices))))
        elif devices[name].kind != kind:
            actual = devices[name].kind
            where = {"light": "lights", "thermostat": "heat", "sensor": "plants"}[actual]
            problems.append(
                Problem(path, f"'{name}' is a {actual}, not a {kind}; it belongs under {where}")
            )

    for scene_id, scene in cfg.scenes.items():
        for name in scene.lights:
            device(("scenes", scene_id, "lights", name), name, "light")
        for name in scene.heat:
            device(("scenes", scene_id, "heat", name), name, "thermostat")
    for ritual_id, ritual in cfg.rituals.items():
        if ritual.scene not in cfg.scenes and not uncertain("scenes", ritual.scene):
            problems.append(
                Problem(
                    ("rituals", ritual_id, "scene"),
                    _unknown("scene", ritual.scene, written("scenes", cfg.scenes)),
                )
            )
    for mode_id, mode in cfg.calm_modes.items():
        if mode.scene not in cfg.scenes and not uncertain("scenes", mode.scene):
            problems.append(
                Problem(
                    ("calm_modes", mode_id, "scene"),
                    _unknown("scene", mode.scene, written("scenes", cfg.scenes)),
                )
            )
    for plant_id, plant in cfg.plants.items():
        for kind, threshold in plant.thresholds().items():
            device(("plants", plant_id, kind, "sensor"), threshold.sensor, "sensor")
        if plant.cue is not None:
            if plant.cue.during not in cfg.rituals and not uncertain("rituals", plant.cue.during):
                problems.append(
                    Problem(
                        ("plants", plant_id, "cue", "during"),
                        _unknown("ritual", plant.cue.during, written("rituals", cfg.rituals)),
                    )
                )
            device(("plants", plant_id, "cue", "light"), plant.cue.light, "light")
    problems.extend(_too_quick(cfg))
    taken = set(cfg.rituals)
    for mode_id in cfg.calm_modes:
        if mode_id in taken:
            problems.append(
                Problem(("calm_modes", mode_id), f"'{mode_id}' is already the name of a ritual")
            )
    # Home Assistant's "Mode" select offers the calm modes by name, next to "Off":
    # two alike could not be told apart.
    shown: dict[str, str] = {"off": ""}
    for mode_id, mode in cfg.calm_modes.items():
        name = cfg.display_name("calm_modes", mode_id)
        if (other := shown.setdefault(name.casefold(), mode_id)) != mode_id:
            taken_by = f"calm mode '{other}'" if other else "the select's Off"
            where = ("calm_modes", mode_id, "button") if mode.button else ("calm_modes", mode_id)
            problems.append(
                Problem(where, f"'{name}' is already the name of {taken_by}; give each its own")
            )
    if cfg.mqtt is None and not uncertain("mqtt") and any(d.zigbee2mqtt for d in devices.values()):
        first = next(n for n, d in devices.items() if d.zigbee2mqtt)
        problems.append(
            Problem(("devices", first, "zigbee2mqtt"), "Zigbee2MQTT devices need an mqtt: section")
        )
    if (
        cfg.home_assistant is None
        and not uncertain("home_assistant")
        and any(d.entity for d in devices.values())
    ):
        first = next(n for n, d in devices.items() if d.entity)
        problems.append(
            Problem(
                ("devices", first, "entity"),
                "Home Assistant entities need a home_assistant: section with url and token",
            )
        )
    return problems
