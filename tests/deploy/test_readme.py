"""The README's "Install" and "Dashboard" sections: what can run here runs, the rest
names files and paths that exist and agree with deploy/.

Run here: the pip block's `cocoon check` and `cocoon plan --png` (the package is
installed in this venv already; `cocoon run` is what the daemon tests run), and the
add-on's `bundle`. Not run here, for want of a Docker engine, Home Assistant OS and
a systemd that boots: `docker compose … up` (test_docker.py checks the compose file),
copying to /etc and `systemctl` (test_systemd.py verifies the unit and its way with
secrets). The dashboard's `lovelace:` block is the one test_dashboard_browser.py
gives Home Assistant.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from cocoon import DISTRIBUTION, install_hint

from .example import ROOT
from .readme import blocks, commands, section
from .test_systemd import INSTALLED, UNIT, settings

COCOON = Path(sys.executable).parent / "cocoon"


def _install_block(starting: str) -> list[str]:
    for block in blocks("Install", "sh"):
        found = commands(block)
        if found and found[0].startswith(starting):
            return found
    raise AssertionError(f"no block starting with {starting!r} in the README's Install")


def test_the_pip_commands_check_and_plan_the_example_home(tmp_path: Path) -> None:
    pip = _install_block("pip install")
    assert pip[0] == "pip install '.[plot,demo]'"
    assert [c.split()[:2] for c in pip[1:]] == [
        ["cocoon", "check"],
        ["cocoon", "plan"],
        ["cocoon", "run"],
    ]
    shutil.copytree(ROOT / "config", tmp_path / "config")
    for command in pip[1:3]:
        words = shlex.split(command)
        result = subprocess.run(
            [str(COCOON), *words[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, f"{command}: {result.stderr}"
    assert (tmp_path / "plan.png").stat().st_size > 10_000


def test_the_compose_command_names_the_compose_file() -> None:
    (command,) = _install_block("docker compose")
    words = shlex.split(command)
    assert words[:3] == ["docker", "compose", "-f"]
    assert (ROOT / words[3]).is_file()
    assert words[4:] == ["up", "-d"]


def test_the_add_on_command_makes_an_add_on_folder(tmp_path: Path) -> None:
    (command,) = _install_block("deploy/homeassistant-addon/bundle")
    words = shlex.split(command)
    target = tmp_path / Path(words[1]).relative_to("/")
    subprocess.run([str(ROOT / words[0]), str(target)], check=True, capture_output=True)
    assert (target / "config.yaml").is_file()
    assert (target / "src" / "cocoon" / "cli" / "__init__.py").is_file()


def test_the_systemd_commands_put_things_where_the_unit_looks() -> None:
    systemd = _install_block("sudo python3 -m venv")
    text = "\n".join(systemd)
    unit = settings(UNIT.read_text(encoding="utf-8"))
    # The program at ExecStart's path, the two files where LoadCredential= reads them.
    assert f"sudo ln -s /opt/cocoon/bin/cocoon {INSTALLED}" in text
    for credential in unit["LoadCredential"]:
        name, _, path = credential.partition(":")
        assert f"config/{name} {path}" in text, path
        assert (ROOT / "config" / name).is_file()
    assert "install -m 0600 config/secrets.yaml" in text  # secrets readable by root only
    assert f"{UNIT.relative_to(ROOT)} /etc/systemd/system/" in text
    assert "systemctl enable --now cocoon" in text


def test_the_dashboard_section_adds_deploy_dashboard_yaml_as_a_yaml_dashboard() -> None:
    text = section("The dashboard")
    assert "deploy/dashboard.yaml" in text
    (block,) = blocks("The dashboard", "yaml")
    lovelace = yaml.safe_load(block)["lovelace"]
    (dashboard,) = lovelace["dashboards"].values()
    assert dashboard["mode"] == "yaml"
    assert dashboard["filename"] == "cocoon-dashboard.yaml"
    # compose.yaml mounts the dashboard where the block says it is.
    compose = yaml.safe_load((ROOT / "deploy" / "docker" / "compose.yaml").read_text())
    assert (
        "../dashboard.yaml:/config/cocoon-dashboard.yaml:ro"
        in (compose["services"]["homeassistant"]["volumes"])
    )


def test_every_pip_install_printed_names_cocoons_own_distribution() -> None:
    """A distribution called plain `cocoon` on PyPI is another project: every install
    command cocoon prints or documents names `cocoon-home`, which pyproject.toml builds,
    or this clone."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DISTRIBUTION == "cocoon-home"
    assert install_hint("plot") == (
        "pip install 'cocoon-home[plot]' (from a clone: pip install '.[plot]')"
    )
    texts = [ROOT / "README.md", ROOT / "DOCS.md", *(ROOT / "src").rglob("*.py")]
    texts += [*(ROOT / "docs").rglob("*.md"), *(ROOT / "deploy").rglob("*.md")]
    named = {
        match.group(1)
        for path in texts
        for match in re.finditer(r"pip install '([A-Za-z0-9_.-]+)\[", path.read_text("utf-8"))
    }
    assert named <= {".", DISTRIBUTION}  # "." installs this clone, whatever its name
    # Where an extra is needed, the message says how to install it.
    sources = "\n".join(p.read_text("utf-8") for p in (ROOT / "src").rglob("*.py"))
    assert sources.count("install_hint('plot')") >= 2
    assert sources.count("install_hint('demo')") >= 2
