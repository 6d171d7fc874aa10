"""What the README states as fact about cocoon, checked against the code: the
settings' defaults, the quickest fade, quoting, the messages of Troubleshooting,
the documents and pictures it links to."""

from __future__ import annotations

import re
import socket
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from cocoon.adapters.ha_wire import describe_failure
from cocoon.adapters.mqtt_diagnoses import why_unreachable
from cocoon.cli import main
from cocoon.config.load import load_config
from cocoon.config.schema import Settings
from cocoon.config.values import format_duration
from cocoon.core.model import Readings
from cocoon.core.planner import Planner
from cocoon.core.state import RuntimeState
from cocoon.core.transitions import advance
from cocoon.report.timeline import day_timeline

from .example import EXAMPLE, ROOT
from .readme import README, blocks, section

URL = "http://homeassistant.local:8123"


def _settings_table() -> dict[str, str]:
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section("Configuration"), re.M)
    return {name: default.strip() for name, default in rows}


def _settings_said() -> dict[str, str]:
    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| ([^|]+) \|", section("Configuration"), re.M)
    return {name: said.strip() for name, said in rows}


def test_the_settings_table_gives_every_setting_with_its_default() -> None:
    defaults = Settings()
    table = _settings_table()
    assert set(table) == set(Settings.model_fields)
    for name, written in table.items():
        value = getattr(defaults, name)
        if isinstance(value, timedelta):
            assert written == format_duration(value), name
        else:
            assert float(written) == value, name


def test_the_quickest_fade_is_as_the_readme_says() -> None:
    match = re.search(r"A fade is at least (\d+) s", section("Configuration"))
    assert match, "the README no longer says how quick a fade may be"
    assert Settings().quickest_fade == timedelta(seconds=int(match[1]))


def test_the_example_with_unquoted_times_plans_as_the_quoted_one(tmp_path: Path) -> None:
    example = blocks("Configuration", "yaml")[0]  # the home; the next is a site
    assert re.search(r"not_before: 18:00\b", example), "the example shows an unquoted time"
    quoted = re.sub(r"\b(\d\d:\d\d)\b", r'"\1"', example)
    plans = []
    for name, text in (("unquoted", example), ("quoted", quoted)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        plans.append(day_timeline(load_config(path), date(2026, 11, 30)))
    assert plans[0] == plans[1]


def test_the_grace_is_as_the_settings_table_says(tmp_path: Path) -> None:
    said = _settings_said()["grace"]
    assert "a cue (`duration`) is skipped for the day" in said
    assert "a window (`until`) still in force is joined where it stands" in said
    # The README's example home: its evening starts at 18:00 on 2026-11-30 (not_before).
    window = blocks("Configuration", "yaml")[0]
    cue = window.replace("until: 22:30", "duration: 20min")
    notes: dict[tuple[str, int], list[str]] = {}
    for kind, text in (("window", window), ("cue", cue)):
        path = tmp_path / f"{kind}.yaml"
        path.write_text(text, encoding="utf-8")
        planner = Planner(load_config(path))
        for late in (5, 15, 120):
            now = datetime(2026, 11, 30, 18, 0, tzinfo=ZoneInfo("Europe/Brussels"))
            now += timedelta(minutes=late)
            notes[kind, late] = advance(planner, now, RuntimeState(), Readings({}, {}))[1]
    assert Settings().grace == timedelta(minutes=10)
    assert notes["cue", 5] == ["ritual evening started, until 18:20"]
    assert notes["cue", 15] == ["ritual evening missed by 15 min (grace 10min): skipped today"]
    assert notes["cue", 120] == []  # over by then
    assert notes["window", 5] == ["ritual evening started, until 22:30"]
    for late in (15, 120):
        assert notes["window", late] == [
            "ritual evening joined where it stands: in force since 18:00, until 22:30"
        ]


def test_the_scene_and_calm_mode_a_new_user_is_shown_fit_the_example_home(
    tmp_path: Path,
) -> None:
    (shown,) = blocks("Connect your own lights", "yaml")
    data = {
        "home": {"latitude": 50.85, "longitude": 4.35, "timezone": "Europe/Brussels"},
        "mqtt": {},
        "home_assistant": {"url": URL, "token": "token"},
        # The example home's devices that the scene names.
        "devices": {
            name: device
            for name, device in _example_devices().items()
            if name in {"sofa_lamp", "floor_lamp", "living_heat"}
        },
        **yaml.safe_load(shown),
    }
    assert len(data["devices"]) == 3
    path = tmp_path / "cocoon.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    cfg = load_config(path)
    assert set(cfg.scenes["calm"].heat) == {"living_heat"}
    assert cfg.display_name("calm_modes", "calm_now") == "Calm now"
    # Without `button:`, the id shows as the README says.
    data["calm_modes"]["calm_now"].pop("button")
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_config(path).display_name("calm_modes", "calm_now") == "Calm now"


def _example_devices() -> dict[str, object]:
    """The `devices:` of config/cocoon.yaml (the file as a whole holds `!secret`s)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    (devices,) = re.findall(r"^devices:\n(?:(?:  .*|#.*)?\n)+", text, re.M)
    found: dict[str, object] = yaml.safe_load(devices)["devices"]
    return found


def _troubleshooting() -> str:
    return " ".join(section("Troubleshooting").split())


@pytest.mark.parametrize(
    "cause",
    [
        socket.gaierror(-2, "Name or service not known"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
    ids=["name", "port"],
)
def test_troubleshooting_quotes_what_cocoon_says_of_an_unreachable_home_assistant(
    cause: OSError,
) -> None:
    failure = OSError("cannot connect")
    failure.__cause__ = cause
    said = describe_failure(failure, URL)
    where = "Home Assistant at homeassistant.local:8123 not reachable: "
    assert said.startswith(where)
    assert said.removeprefix(where) in _troubleshooting()
    if isinstance(cause, socket.gaierror):
        assert said in _troubleshooting()


def test_troubleshooting_quotes_what_cocoon_says_of_another_program_at_the_url() -> None:
    failure = OSError("cannot connect")
    failure.__cause__ = ConnectionResetError(104, "Connection reset by peer")
    said = describe_failure(failure, URL)
    assert said.removeprefix("Home Assistant at homeassistant.local:8123: ") in _troubleshooting()


def test_every_document_and_picture_the_readme_links_to_exists() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)\)", text)
    assert "docs/pictures/day.png" in targets
    assert "docs/pictures/dashboard.png" in targets
    for target in targets:
        assert (ROOT / target).exists(), target
    for document in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)\)", document.read_text(encoding="utf-8")):
            assert (document.parent / target).exists(), f"{document.name}: {target}"


def test_the_readme_opens_with_the_demo_and_the_test_suite() -> None:
    (first,) = re.findall(r"\A.*?```sh\n(.*?)```", README.read_text("utf-8"), re.S)
    assert [line.split()[0] for line in first.splitlines()] == ["./scripts/demo", "./scripts/test"]


def test_the_dashboard_yaml_block_is_yaml() -> None:
    (block,) = blocks("The dashboard", "yaml")
    assert "lovelace" in yaml.safe_load(block)


# The file behind the README's example of `cocoon check`'s errors.
_MISTAKES = """\
home: {name: Test, latitude: 52, longitude: 4, timezone: Europe/Amsterdam}
mqtt: {}
devices:
  lamp: {kind: light, zigbee2mqtt: lamp}
scenes:
  warm: {lights: {lamp: {brightness: 150}}}
  cool: {lights: {lmap: {brightness: 50}}}
rituals:
  evening: {at: "19:00", scene: worm}
"""


def test_the_readme_shows_what_check_prints_for_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.yaml").write_text(_MISTAKES, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "config.yaml"]) == 2
    printed = capsys.readouterr().err.splitlines()
    shown = blocks("Connect your own lights", "text")[0]
    lines = [line.strip() for line in shown.splitlines()]
    assert lines
    assert set(lines) <= set(printed)


def test_troubleshooting_quotes_what_cocoon_says_of_an_unreachable_broker() -> None:
    said = why_unreachable(ConnectionRefusedError(111, "Connection refused"))
    assert f"Cannot reach the MQTT broker localhost:1883: {said}" in _troubleshooting()
