"""The commands on a site file: `check` reads every home, the others work on the home
given with --home (needed when there are several)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from cocoon.cli import main

from .test_site import FLAT, SITE, _site
from .texts import Write

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "site" / "site.yaml"


def test_check_of_a_site_prints_one_summary_for_all_its_homes(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _site(write)

    assert main(["check", str(path)]) == 0

    out, err = capsys.readouterr()
    assert (
        out == f"{path}: valid — 2 homes: 3 devices, 0 scenes, 0 rituals, 0 calm modes, 0 plants\n"
    )
    assert err == ""


def test_check_of_a_site_prints_every_problem_of_every_home_and_exits_2(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    site = SITE.replace("zigbee2mqtt: flat_02/lamp", "zigbee2mqtt: flat_02/lamp, min: 3")
    path = _site(write, site=site, flat=FLAT.replace("latitude: 51.05", "latitude: 951.05"))

    assert main(["check", str(path)]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    flat_file = path.parent / "flats" / "flat_01.yaml"
    assert err.splitlines() == [
        f"{flat_file}:1:22: home.latitude: must be at most 90",
        f"{path}:9:7: homes.flat_02.devices.lamp: min, max and step are setpoint bounds:"
        " only thermostats take them",
    ]


def test_the_example_site_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(EXAMPLE)]) == 0

    assert capsys.readouterr().out.startswith(f"{EXAMPLE}: valid — 3 homes: 9 devices,")


def test_plan_of_a_site_of_several_homes_needs_home_and_names_the_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plan", "--config", str(EXAMPLE), "--date", "2026-12-01"]) == 2

    assert capsys.readouterr().err == (
        f"{EXAMPLE}: 3 homes here: choose one with --home (flat_01, flat_02, flat_03)\n"
    )


def test_plan_with_home_shows_that_homes_day(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", "--config", str(EXAMPLE), "--home", "flat_02", "--date", "2026-12-01"]

    assert main(args) == 0

    out = capsys.readouterr().out
    assert out.startswith("Flat 2 · Tuesday 1 December 2026")
    assert "Late morning" in out


def test_an_unknown_home_is_an_error_naming_the_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", str(EXAMPLE), "--home", "flat_2"]) == 2

    assert capsys.readouterr().err == (
        f"{EXAMPLE}: no home 'flat_2' here — did you mean 'flat_02'?"
        " (homes here: flat_01, flat_02, flat_03)\n"
    )


@pytest.mark.parametrize(
    "command",
    [["status"], ["trigger", "calm_now"], ["dashboard"], ["check", "--live"]],
)
def test_each_command_on_one_home_needs_home_in_a_site_of_several(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing is connected to: the answer comes before.
    assert main([*command, "--config", str(EXAMPLE)]) == 2

    assert "choose one with --home (flat_01, flat_02, flat_03)" in capsys.readouterr().err


def test_dashboard_with_home_is_that_homes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", str(EXAMPLE), "--home", "flat_03"]) == 0

    out = capsys.readouterr().out
    assert "cocoon_flat_03" in out
    assert "cocoon_flat_01" not in out


def test_home_is_not_needed_for_a_single_home_file(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write("cocoon.yaml", "mqtt: {}\n" + FLAT.replace("  heat:", "  # heat:"))

    assert main(["plan", "--config", str(path), "--date", "2026-12-01"]) == 0
    assert main(["plan", "--config", str(path), "--home", "flat_1", "--date", "2026-12-01"]) == 0

    assert capsys.readouterr().out.startswith("Flat 1 · Tuesday")


def test_the_committed_site_schema_is_what_cocoon_schema_site_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The example site points editors at cocoon-site.schema.json."""
    assert main(["schema", "--site"]) == 0
    printed = json.loads(capsys.readouterr().out)
    committed = ROOT / "cocoon-site.schema.json"
    assert json.loads(committed.read_text()) == printed, (
        "cocoon-site.schema.json is out of date:"
        " run `cocoon schema --site > cocoon-site.schema.json`"
    )
    assert printed["required"] == ["homes"]
    assert set(printed["properties"]) == {"mqtt", "home_assistant", "settings", "homes"}
    home = printed["$defs"]["SiteHome"]
    assert "mqtt" not in home["properties"]
    assert "devices" in home["required"]


def test_the_building_page_shows_what_check_prints_for_its_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLE.parent, tmp_path / "config" / "site")
    site = tmp_path / "config" / "site" / "site.yaml"
    flat_02 = tmp_path / "config" / "site" / "flats" / "flat_02.yaml"
    flat_02.write_text(
        flat_02.read_text().replace(
            "  resume_fade: 5min\n", "  resume_fade: 5min\n  rate_limit: 20\n"
        )
    )
    site.write_text(
        site.read_text()
        .replace(
            "  flat_02: flats/flat_02.yaml\n",
            "  flat_02: flats/flat_02.yaml\n  flat_04: flats/flat_04.yaml\n",
        )
        .replace("zigbee2mqtt: flat_03/sofa_lamp", "zigbee2mqtt: flat_01/sofa_lamp")
    )
    monkeypatch.chdir(tmp_path)

    assert main(["check", "config/site/site.yaml"]) == 2

    page = (ROOT / "docs" / "building.md").read_text(encoding="utf-8")
    shown = re.findall(r"```text\n(config/site/.*?)```", page, re.S)[0]
    assert capsys.readouterr().err == shown


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--worker", "w1"], "--worker is a worker's of a fleet: give --fleet too"),
        (["--lease", "4"], "--lease is a worker's of a fleet: give --fleet too"),
        (["--fleet", "http://127.0.0.1:2379"], "--fleet takes etcd://HOST:PORT"),
        (["--fleet", "etcd://127.0.0.1"], "'127.0.0.1' is not HOST:PORT"),
        (["--fleet", "etcd://127.0.0.1:2379", "--worker", "w/1"], "--worker 'w/1': letters"),
        (["--fleet", "etcd://127.0.0.1:2379", "--lease", "1"], "--lease 1: from 2 to 3600"),
    ],
)
def test_a_fleets_options_that_cannot_work_exit_2_saying_why(
    options: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--config", "config/site/site.yaml", *options]) == 2
    assert said in capsys.readouterr().err


def test_a_fleet_shares_a_site_not_a_home_of_its_own(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    command = ["run", "--config", "config/cocoon.yaml", "--state-dir", str(tmp_path)]
    assert main([*command, "--fleet", "etcd://127.0.0.1:2379"]) == 2
    assert "--fleet shares the homes of a site file (homes:)" in capsys.readouterr().err
