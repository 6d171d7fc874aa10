"""`cocoon check` and `cocoon schema`: exit status, output, no traceback, no secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cocoon
from cocoon.cli import main

from .texts import MQTT_PASSWORD, Config, Write

FULL = """\
mqtt: {password: !secret mqtt_password}
scenes:
  evening: {lights: {sofa_lamp: {brightness: 35, kelvin: 2200}}, heat: {living_heat: +0.5}}
  calm: {lights: {sofa_lamp: {brightness: 20, kelvin: 2000}, desk_lamp: off}}
rituals:
  evening: {at: sunset-30min, until: 22:30, scene: evening, fade: 45min}
calm_modes:
  calm_now: {scene: calm, duration: 45min, button: Calm now}
"""
BROKEN_AND_MISNAMED = """\
home: {name: Test, latitude: 52, longitude: 4, timezone: Europe/Amsterdam}
devices: {lamp: {kind: light, zigbee2mqtt: lamp}}
scenes:
  warm: {lights: {lamp: {brightness: 150}}}
  cool: {lights: {lmap: {brightness: 50}}}
rituals:
  evening: {at: "19:00", scene: worm}
mqtt: {host: 127.0.0.1}
"""


def test_check_valid_prints_a_summary(config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    path = config(FULL)

    status = main(["check", "--config", str(path)])

    out, err = capsys.readouterr()
    assert status == 0
    assert out == f"{path}: valid — 3 devices, 2 scenes, 1 ritual, 1 calm mode, 0 plants\n"
    assert err == ""


def test_check_takes_the_file_as_an_argument_too(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(FULL)

    assert main(["check", str(path)]) == 0

    assert capsys.readouterr().out.startswith(f"{path}: valid — 3 devices")


def test_check_invalid_prints_each_problem_and_exits_2(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(FULL + "settings: {grace: soon, rate: 5}\n")

    status = main(["check", "-c", str(path)])

    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.splitlines() == [
        f"{path}:19:12: settings.grace: 'soon' is not a duration;"
        " write it like 20min, 1h30m or 90s",
        f"{path}:19:25: settings.rate: unknown key 'rate' — did you mean 'rate_limit'?",
    ]


def test_check_reports_names_pointing_nowhere(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    # A scene naming a device that is not there.
    path = config(FULL.replace("sofa_lamp: {brightness: 35", "sofa_lmap: {brightness: 35"))

    assert main(["check", "-c", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"{path}:13:22: scenes.evening.lights.sofa_lmap: unknown device 'sofa_lmap'"
        " — did you mean 'sofa_lamp'?\n"
    )


def test_check_reports_every_independent_error_in_one_pass(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    # A wrong value and a ritual without an end do not hide the names pointing nowhere.
    path = write("alone.yaml", BROKEN_AND_MISNAMED)

    assert main(["check", str(path)]) == 2

    assert capsys.readouterr().err.splitlines() == [
        f"{path}:4:26: scenes.warm.lights.lamp.brightness: must be at most 100",
        f"{path}:5:19: scenes.cool.lights.lmap: unknown device 'lmap' — did you mean 'lamp'?",
        f"{path}:7:3: rituals.evening: give exactly one of until or duration",
        f"{path}:7:26: rituals.evening.scene: unknown scene 'worm' — did you mean 'warm'?",
    ]


def test_a_broken_start_or_a_misspelt_address_hides_nothing(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    # A ritual whose start is no time still has its scene checked; a misspelt address
    # key is named as such, with the key it resembles, not as a missing address.
    path = write(
        "typos.yaml",
        """\
home: {name: Test, latitude: 52, longitude: 4, timezone: Europe/Amsterdam}
mqtt: {}
devices:
  lamp: {zigbe2mqtt: lamp}
scenes:
  warm: {lights: {lamp: {brightness: 50}}}
rituals:
  wake: {at: "7:75", until: "09:00", scene: wram}
""",
    )

    assert main(["check", str(path)]) == 2

    assert capsys.readouterr().err.splitlines() == [
        f"{path}:4:10: devices.lamp.zigbe2mqtt: unknown key 'zigbe2mqtt'"
        " — did you mean 'zigbee2mqtt'?",
        f"{path}:8:10: rituals.wake.at: '7:75' is not a time of day (00:00 to 23:59)",
        f"{path}:8:38: rituals.wake.scene: unknown scene 'wram' — did you mean 'warm'?",
    ]


def test_a_broken_device_is_not_also_called_unknown_where_it_is_used(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    # desk_lamp cannot be used, and a home without a valid place is still cross-checked.
    path = config(
        FULL.replace("desk_lamp: off", "desk_lmap: off")
        .replace("calm_now: {scene: calm", "calm_now: {scene: clam")
        .replace("mqtt: {", "mqtt: {port: high, ")
    )
    text = path.read_text(encoding="utf-8")
    text = text.replace("{entity: light.desk}", "{entity: Light.Desk}")
    path.write_text(text.replace("latitude: 51.05", "latitude: north"), encoding="utf-8")

    assert main(["check", str(path)]) == 2

    assert capsys.readouterr().err.splitlines() == [
        f"{path}:2:3: home.latitude: expected a number, not 'north'",
        f"{path}:9:3: devices.desk_lamp: cannot tell what kind of device Light.Desk is;"
        " add kind: light, thermostat or sensor",
        f"{path}:11:8: mqtt.port: expected a whole number, not 'high'",
        f"{path}:14:62: scenes.calm.lights.desk_lmap: unknown device 'desk_lmap'"
        " — did you mean 'desk_lamp'?",
        f"{path}:18:14: calm_modes.calm_now.scene: unknown scene 'clam' — did you mean 'calm'?",
    ]


def test_check_reads_the_path_from_the_environment(
    config: Config, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config("")
    monkeypatch.setenv("COCOON_CONFIG", str(path))

    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: valid — 3 devices")


def test_check_as_a_process_has_no_traceback_and_no_secret(config: Config) -> None:
    path = config("mqtt: {port: !secret mqtt_password}\n")
    src = str(Path(cocoon.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}

    done = subprocess.run(
        [sys.executable, "-m", "cocoon", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"{path}:11:8: mqtt.port: expected a whole number, not text\n"
    assert "Traceback" not in done.stderr
    assert MQTT_PASSWORD not in done.stderr


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(tmp_path / "none.yaml")]) == 2
    assert capsys.readouterr().err == (
        f"{tmp_path / 'none.yaml'}: cannot read the configuration: no such file\n"
    )


def test_schema_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0

    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "cocoon configuration"
    assert "devices" in schema["properties"]
    assert "devices" in schema["required"]
    assert schema["additionalProperties"] is False
    lights = schema["$defs"]["Scene"]["properties"]["lights"]["patternProperties"]
    (light,) = lights.values()
    assert {"enum": ["on", "off"]} in light["anyOf"]


def test_the_committed_schema_is_what_cocoon_schema_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The examples point editors at cocoon.schema.json: it must describe this version."""
    assert main(["schema"]) == 0
    committed = Path(__file__).resolve().parents[2] / "cocoon.schema.json"
    assert json.loads(committed.read_text()) == json.loads(capsys.readouterr().out), (
        "cocoon.schema.json is out of date: run `cocoon schema > cocoon.schema.json`"
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])

    assert exited.value.code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("cocoon ")
    assert printed.split()[1] != "unknown"  # the installed distribution, cocoon-home


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "check" in capsys.readouterr().err


def test_help_describes_each_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])

    out = capsys.readouterr().out
    assert "FILE:LINE:COLUMN: FIELD: MESSAGE" in out
    assert "COCOON_CONFIG" in out


def test_json_logs(config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    path = config("")

    assert main(["-v", "--log-format", "json", "check", "-c", str(path)]) == 0

    records = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert records
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["level"] == "DEBUG" and r["logger"] == "cocoon.cli" for r in records)


def test_check_help_says_what_live_does_and_the_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])

    text = " ".join(capsys.readouterr().out.split())
    assert "--live" in text
    assert "Zigbee2MQTT's device list on the MQTT broker and Home Assistant's entities" in text
    assert (
        "Exit status: 0 valid (and with --live everything matches), 1 with --live a device"
        " or service problem, 2 invalid configuration." in text
    )


def test_check_live_of_an_invalid_file_says_its_errors_and_connects_nowhere(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write("alone.yaml", BROKEN_AND_MISNAMED)

    assert main(["check", "--live", "--config", str(path)]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 4


def test_the_logging_options_work_after_the_command_too() -> None:
    from cocoon.cli import build_parser

    parser = build_parser()
    after = parser.parse_args(["check", "-v", "--log-format", "json", "x.yaml"])
    before = parser.parse_args(["-v", "--log-format", "json", "check", "x.yaml"])
    neither = parser.parse_args(["check", "x.yaml"])
    assert (after.verbose, after.log_format) == (True, "json")
    assert (before.verbose, before.log_format) == (True, "json")
    assert (neither.verbose, neither.log_format) == (False, "text")
