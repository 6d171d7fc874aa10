"""The runtime state on disk: JSON, written atomically on every change.

A write goes to a temporary file that is flushed and fsynced, then renamed over the
old one, so a `kill -9` at any instant leaves either the old or the new state. A file
that cannot be read is moved aside with a warning and cocoon starts afresh.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cocoon.core.model import Attribute, Colour, LightState
from cocoon.core.plants import PlantStatus
from cocoon.core.state import CalmRun, Hold, Override, RitualRun, RuntimeState, TakeBack

_LOGGER = logging.getLogger(__name__)

VERSION = 1


def _look(state: LightState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    look: dict[str, Any] = {"brightness": state.brightness, "kelvin": state.kelvin}
    if state.colour is not None:
        colour = state.colour
        look["colour"] = {"space": colour.space, "values": [colour.first, colour.second]}
    return look


def _unlook(data: dict[str, Any] | None) -> LightState | None:
    if data is None:
        return None
    colour = None
    if (saved := data.get("colour")) is not None:
        first, second = saved["values"]
        if saved["space"] not in ("xy", "hs"):
            raise ValueError(f"unknown colour space {saved['space']!r}")
        colour = Colour(saved["space"], float(first), float(second))
    return LightState(float(data["brightness"]), data["kelvin"], colour)


def _time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"instant without a time zone: {value}")
    return moment


def encode(state: RuntimeState) -> dict[str, Any]:
    """The state as plain JSON values."""
    holds: dict[str, Any] = {}
    for device, hold in state.holds.items():
        override = hold.override
        taking_back = hold.taking_back
        holds[device] = {
            "snapshot": _look(hold.snapshot),
            "setpoint": hold.setpoint,
            "giving_back": hold.giving_back,
            "late": hold.late,
            "override": None
            if override is None
            else {
                "attributes": sorted(override.attributes),
                "since": override.since.isoformat(),
                "until": override.until.isoformat(),
            },
            "taking_back": None
            if taking_back is None
            else {
                "start": _look(taking_back.start),
                "at": taking_back.at.isoformat(),
                "fade": taking_back.fade.total_seconds(),
            },
        }
    return {
        "version": VERSION,
        "runs": {
            name: {
                "day": run.day.isoformat(),
                "start": run.start.isoformat(),
                "end": run.end.isoformat(),
                "cues": list(run.cues),
                "missed": run.missed,
                "joined": None if run.joined is None else run.joined.isoformat(),
            }
            for name, run in state.runs.items()
        },
        "calm": {
            name: {"start": run.start.isoformat(), "end": run.end.isoformat()}
            for name, run in state.calm.items()
        },
        "holds": holds,
        "plants": {
            name: {"needs": sorted(status.needs), "stale": sorted(status.stale)}
            for name, status in state.plants.items()
        },
        "paused_since": None if state.paused_since is None else state.paused_since.isoformat(),
    }


def _hold(data: dict[str, Any]) -> Hold:
    override = data.get("override")
    # Files written before the words were settled say "handover" and "releasing".
    taking_back = data.get("taking_back", data.get("handover"))
    return Hold(
        snapshot=_unlook(data.get("snapshot")),
        setpoint=data.get("setpoint"),
        giving_back=bool(data.get("giving_back", data.get("releasing", False))),
        late=bool(data.get("late", False)),
        override=None
        if override is None
        else Override(
            frozenset(Attribute(name) for name in override["attributes"]),
            _time(override["since"]),
            _time(override["until"]),
        ),
        taking_back=None
        if taking_back is None
        else TakeBack(
            _unlook(taking_back["start"]) or LightState(0.0),
            _time(taking_back["at"]),
            timedelta(seconds=taking_back["fade"]),
        ),
    )


def decode(data: dict[str, Any]) -> RuntimeState:
    """The state from plain JSON values; raises on anything malformed."""
    if data.get("version") != VERSION:
        raise ValueError(f"unknown state version {data.get('version')!r}")
    paused = data.get("paused_since")
    return RuntimeState(
        runs={
            name: RitualRun(
                name,
                date.fromisoformat(run["day"]),
                _time(run["start"]),
                _time(run["end"]),
                tuple(run["cues"]),
                bool(run["missed"]),
                None if run.get("joined") is None else _time(run["joined"]),
            )
            for name, run in data["runs"].items()
        },
        calm={
            name: CalmRun(name, _time(run["start"]), _time(run["end"]))
            for name, run in data["calm"].items()
        },
        holds={device: _hold(hold) for device, hold in data["holds"].items()},
        plants={
            name: PlantStatus(frozenset(status["needs"]), frozenset(status["stale"]))
            for name, status in data["plants"].items()
        },
        paused_since=None if paused is None else _time(paused),
    )


class JsonStore:
    """Keeps the runtime state in `<state_dir>/state.json`."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "state.json"
        self._last: dict[str, Any] | None = None

    def load(self) -> RuntimeState:
        """The saved state; an empty one when there is none or it cannot be read.

        Whatever stands in the way (not JSON, not UTF-8, a directory, no permission, a
        malformed document) is moved aside with a warning, so the next save can write.
        """
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8"))
            state = decode(data)
        except FileNotFoundError:
            return RuntimeState()
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            self._move_aside(exc)
            return RuntimeState()
        self._last = data
        return state

    def _move_aside(self, problem: Exception) -> None:
        aside = self.path.with_name(f"state.corrupt-{datetime.now():%Y%m%d-%H%M%S}.json")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            _LOGGER.warning(
                "State file %s could not be read (%s) nor moved aside (%s); starting afresh",
                self.path,
                problem,
                exc,
            )
            return
        _LOGGER.warning(
            "State file %s could not be read (%s); moved it to %s and started afresh",
            self.path,
            problem,
            aside.name,
        )

    def save(self, state: RuntimeState) -> None:
        """Write the state if it changed: temp file, fsync, rename, fsync the directory."""
        data = encode(state)
        if data == self._last:
            return
        write_atomically(self.path, json.dumps(data, separators=(",", ":")))
        self._last = data


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` whole or not at all: temp file, fsync, rename, fsync the
    directory. A full or failing disk leaves the old file as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
