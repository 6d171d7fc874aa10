"""deploy/systemd/cocoon.service: systemd accepts it, it is hardened, and its way of
handing cocoon the configuration and secrets works with how cocoon reads them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cocoon.cli import build_parser

from .example import ROOT

UNIT = ROOT / "deploy" / "systemd" / "cocoon.service"
INSTALLED = "/usr/local/bin/cocoon"
# The exposure score of `systemd-analyze security`: 0 is locked down, 10 is open;
# "OK" goes up to 4.9. cocoon scores 1.2; the network it needs accounts for most.
MOST_EXPOSURE = 2.0


def systemd_analyze() -> str:
    """The `systemd-analyze` program (Debian package `systemd`, in scripts/system-packages)."""
    found = shutil.which("systemd-analyze")
    assert found, "systemd-analyze is missing: install Debian's systemd (scripts/system-packages)"
    return found


def settings(text: str) -> dict[str, list[str]]:
    """`Key=value` lines of a unit file, every value of each key (keys may repeat)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def unit_for_this_machine(directory: Path) -> Path:
    """The unit with ExecStart's program pointing at this venv's `cocoon`.

    `systemd-analyze verify` checks that every Exec program exists, and here cocoon
    lives in .venv/bin rather than /usr/local/bin.
    """
    cocoon = Path(sys.executable).parent / "cocoon"
    assert cocoon.exists(), f"{cocoon} is missing: is cocoon installed in this venv?"
    copy = directory / UNIT.name
    copy.write_text(UNIT.read_text(encoding="utf-8").replace(INSTALLED, str(cocoon)))
    return copy


def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path: Path) -> None:
    unit = unit_for_this_machine(tmp_path)
    result = subprocess.run(
        [systemd_analyze(), "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    assert output == ""


def test_systemd_analyze_verify_would_speak_up(tmp_path: Path) -> None:
    # The check above means something: a typo and a missing program are reported.
    unit = unit_for_this_machine(tmp_path)
    text = unit.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict")
    unit.write_text(text.replace("ExecStartPre=/", "ExecStartPre=/nonexistent/"))
    result = subprocess.run(
        [systemd_analyze(), "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "Unknown key 'ProtectSytem'" in output
    assert "/nonexistent/" in output


def test_the_unit_is_locked_down(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            systemd_analyze(),
            "security",
            "--offline=true",
            "--no-pager",
            str(unit_for_this_machine(tmp_path)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"Overall exposure level for cocoon\.service: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match[1]) <= MOST_EXPOSURE, result.stdout


def test_the_unit_runs_cocoon_as_a_dynamic_user_with_state_config_and_restarts() -> None:
    unit = settings(UNIT.read_text(encoding="utf-8"))
    assert unit["ExecStart"] == [f"{INSTALLED} run"]
    assert unit["ExecStartPre"] == [f"{INSTALLED} check"]
    assert unit["DynamicUser"] == ["yes"]
    assert unit["StateDirectory"] == ["cocoon"]
    assert unit["ConfigurationDirectory"] == ["cocoon"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["RestartPreventExitStatus"] == ["2"]  # cocoon check's "invalid configuration"
    assert sorted(unit["LoadCredential"]) == [
        "cocoon.yaml:/etc/cocoon/cocoon.yaml",
        "secrets.yaml:/etc/cocoon/secrets.yaml",
    ]
    assert "COCOON_CONFIG=%d/cocoon.yaml" in unit["Environment"]
    for key in (
        "NoNewPrivileges",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "LockPersonality",
        "MemoryDenyWriteExecute",
    ):
        assert unit[key] == ["yes"], key
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["CapabilityBoundingSet"] == [""]
    assert unit["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    assert "@system-service" in unit["SystemCallFilter"]


def test_secrets_beside_the_config_in_the_credentials_directory_are_found(
    tmp_path: Path,
) -> None:
    # What systemd does at start: copy both files into the credentials directory and
    # set CREDENTIALS_DIRECTORY; the unit's COCOON_CONFIG=%d/cocoon.yaml names the copy.
    credentials = tmp_path / "run" / "credentials" / "cocoon.service"
    credentials.mkdir(parents=True)
    for name in ("cocoon.yaml", "secrets.yaml"):
        shutil.copy(ROOT / "config" / name, credentials / name)
    environment = dict(os.environ, CREDENTIALS_DIRECTORY=str(credentials))
    for assignment in settings(UNIT.read_text(encoding="utf-8"))["Environment"]:
        name, _, value = assignment.partition("=")
        environment[name] = value.replace("%d", str(credentials))
    cocoon = Path(sys.executable).parent / "cocoon"
    # ExecStartPre, from a working directory with no config/ of its own.
    result = subprocess.run(
        [str(cocoon), "check"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert str(credentials / "cocoon.yaml") in result.stdout

    # Without the secrets beside it, the check fails and names what is missing.
    (credentials / "secrets.yaml").unlink()
    result = subprocess.run(
        [str(cocoon), "check"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "secrets.yaml" in result.stderr


def test_cocoon_keeps_its_state_where_state_directory_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # StateDirectory=cocoon makes systemd set STATE_DIRECTORY=/var/lib/cocoon.
    monkeypatch.delenv("COCOON_STATE_DIR", raising=False)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "lib" / "cocoon"))
    args = build_parser().parse_args(["run"])
    assert args.state_dir == tmp_path / "lib" / "cocoon"
