"""The runtime state on disk: round trips, atomic writes, corrupt files moved aside."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cocoon.core.model import Attribute, Colour, LightState
from cocoon.core.plants import PlantStatus
from cocoon.core.state import CalmRun, Hold, Override, RitualRun, RuntimeState, TakeBack
from cocoon.runtime.store import JsonStore

from ..core.homes import at

FULL = RuntimeState(
    runs={
        "evening": RitualRun(
            "evening", date(2026, 11, 25), at("2026-11-25 17:00"), at("2026-11-25 22:30"), ("fern",)
        )
    },
    calm={"calm_now": CalmRun("calm_now", at("2026-11-25 20:00"), at("2026-11-25 20:45"))},
    holds={
        "sofa": Hold(
            snapshot=LightState(60.0, 3000.0),
            override=Override(
                frozenset({Attribute.BRIGHTNESS}), at("2026-11-25 20:10"), at("2026-11-25 22:10")
            ),
            taking_back=TakeBack(
                LightState(10.0, 2700.0), at("2026-11-25 20:11"), timedelta(minutes=2)
            ),
        ),
        "heat": Hold(setpoint=20.5),
    },
    plants={"fern": PlantStatus(frozenset({"moisture"}), frozenset())},
    paused_since=at("2026-11-25 21:00"),
)


def test_state_survives_a_round_trip(tmp_path: Path) -> None:
    JsonStore(tmp_path).save(FULL)
    assert JsonStore(tmp_path).load() == FULL


def test_a_file_with_the_older_words_for_taking_and_giving_back_still_loads(
    tmp_path: Path,
) -> None:
    JsonStore(tmp_path).save(FULL)
    data = json.loads((tmp_path / "state.json").read_text())
    sofa = data["holds"]["sofa"]
    sofa["handover"], sofa["releasing"] = sofa.pop("taking_back"), sofa.pop("giving_back")
    del data["holds"]["heat"]["giving_back"]
    data["holds"]["heat"]["releasing"] = True
    (tmp_path / "state.json").write_text(json.dumps(data))
    loaded = JsonStore(tmp_path).load()
    assert loaded.holds["sofa"] == FULL.holds["sofa"]
    assert loaded.holds["heat"] == Hold(setpoint=20.5, giving_back=True)


def test_no_state_file_means_an_empty_state(tmp_path: Path) -> None:
    assert JsonStore(tmp_path / "new").load() == RuntimeState()


def test_writes_go_through_a_temporary_file_and_leave_none_behind(tmp_path: Path) -> None:
    store = JsonStore(tmp_path)
    store.save(FULL)
    store.save(RuntimeState())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
    assert json.loads((tmp_path / "state.json").read_text())["calm"] == {}


@pytest.mark.parametrize(
    "content", ["{not json", "[]", '{"version": 99}', '{"version": 1, "runs": {"x": {}}}', ""]
)
def test_a_corrupt_state_file_is_moved_aside_with_a_warning(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "state.json").write_text(content)
    with caplog.at_level(logging.WARNING):
        assert JsonStore(tmp_path).load() == RuntimeState()
    assert "could not be read" in caplog.text
    names = [p.name for p in tmp_path.iterdir()]
    assert "state.json" not in names
    assert any(name.startswith("state.corrupt-") for name in names)


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda path: path.write_bytes(b"\xff\xfe{"), "not UTF-8"),
        (lambda path: path.mkdir(), "a directory"),
        (lambda path: path.write_bytes(b"[" * 100_000 + b"]" * 100_000), "nested too deep"),
    ],
)
def test_a_state_file_that_cannot_be_read_at_all_is_moved_aside_and_the_next_save_works(
    tmp_path: Path, make: Callable[[Path], object], what: str, caplog: pytest.LogCaptureFixture
) -> None:
    make(tmp_path / "state.json")
    store = JsonStore(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert store.load() == RuntimeState(), what
    assert "could not be read" in caplog.text
    assert any(p.name.startswith("state.corrupt-") for p in tmp_path.iterdir())
    store.save(RuntimeState(paused_since=datetime(2026, 11, 30, tzinfo=UTC)))
    assert JsonStore(tmp_path).load().paused_since == datetime(2026, 11, 30, tzinfo=UTC)


def test_a_snapshot_keeps_its_colour(tmp_path: Path) -> None:
    red = LightState(70.0, None, Colour("xy", 0.6, 0.3))
    state = RuntimeState(holds={"sofa": Hold(snapshot=red)})
    JsonStore(tmp_path).save(state)
    assert JsonStore(tmp_path).load() == state
