"""cocoon's Home Assistant app (an add-on before 2026.2): the repository that Home
Assistant adds by its URL, the app's description, its image, its pictures, and its run
script run for real with a stand-in for bashio (the Supervisor's shell library).

The Supervisor finds an app by a `config.*` anywhere in the repository (skipping
hidden folders and `rootfs`) and builds it with Docker BuildKit from the folder that
holds it, with the Dockerfile there and nothing handed in but BUILD_VERSION and
BUILD_ARCH (since 2026.04; `build.yaml` is deprecated). cocoon's app folder is the
repository's root. No Docker engine runs here: the image is linted, not built.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from cocoon.adapters.dashboard import dashboard_yaml
from cocoon.config.load import load_config

from .example import ROOT
from .test_docker import copied, instructions, lint, sent_by

APP = ROOT  # the folder with config.yaml, which the Supervisor builds from
ADDON = ROOT / "deploy" / "homeassistant-addon"  # run.sh and what it uses
DOCKERFILE = APP / "Dockerfile"
# Since 2025.12 Home Assistant runs on these two only.
ARCHITECTURES = ["aarch64", "amd64"]
COCOON = Path(sys.executable).parent / "cocoon"
# The Supervisor's schema for an app's `map` (supervisor/apps/validate.py, RE_VOLUME),
# less the types it calls legacy since 2026.07 (addons, addon_config, all_addon_configs).
MAP_TYPES = {
    "data",
    "config",
    "ssl",
    "local_apps",
    "backup",
    "share",
    "media",
    "homeassistant_config",
    "all_app_configs",
    "app_config",
}

# bashio's functions as run.sh uses them, answering from the environment.
BASHIO = r"""
bashio::config() {
    case "$1" in
        config_file) printf '%s\n' "${ADDON_CONFIG_FILE:-cocoon.yaml}" ;;
        log_level) printf '%s\n' "${ADDON_LOG_LEVEL:-info}" ;;
        log_format) printf '%s\n' "${ADDON_LOG_FORMAT:-text}" ;;
    esac
}
bashio::services.available() { [[ "$1" == mqtt && -n "${SERVICE_MQTT_HOST:-}" ]]; }
bashio::services() { local name="SERVICE_MQTT_${2^^}"; printf '%s\n' "${!name}"; }
bashio::fs.file_exists() { [[ -f "$1" ]]; }
bashio::log.info() { printf 'INFO: %s\n' "$*"; }
bashio::log.warning() { printf 'WARNING: %s\n' "$*"; }
bashio::exit.nok() { printf 'FATAL: %s\n' "$*" >&2; exit 1; }
"""


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _app_configs(root: Path) -> list[Path]:
    """Every file the Supervisor would read as an app's config in `root`: `config.json`,
    `.yaml` or `.yml` at any depth, not under a hidden folder or `rootfs` (hidden
    folders such as .venv are not walked at all)."""
    found = []
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if not f.startswith(".") and f != "rootfs")
        found += [
            Path(folder) / name
            for name in files
            if name in ("config.json", "config.yaml", "config.yml")
        ]
    return sorted(found)


def test_the_repository_can_be_added_by_its_url() -> None:
    repository = _yaml(ROOT / "repository.yaml")
    assert set(repository) <= {"name", "url", "maintainer"}
    assert isinstance(repository["name"], str)
    assert repository["name"]
    # Exactly one app: any other config.* would be read as a second (broken) one.
    assert _app_configs(ROOT) == [APP / "config.yaml"]


def test_config_yaml_describes_an_app_that_needs_mqtt_and_the_api() -> None:
    config = _yaml(APP / "config.yaml")
    for key in ("name", "version", "slug", "description", "arch", "options", "schema"):
        assert config.get(key), key
    assert isinstance(config["version"], str)
    assert re.fullmatch(r"[a-z0-9_]+", config["slug"])
    assert config["arch"] == ARCHITECTURES
    assert "mqtt:need" in config["services"]
    assert config["homeassistant_api"] is True
    assert "app_config:rw" in config["map"]
    for entry in config["map"]:
        assert entry.split(":")[0] in MAP_TYPES, entry
    assert config["init"] is False  # the base image's s6-overlay is the init
    assert "image" not in config  # built from the Dockerfile here, not pulled
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{config["version"]}"' in pyproject


def test_there_is_no_build_yaml_anymore() -> None:
    for suffix in (".yaml", ".yml", ".json"):
        assert not (APP / f"build{suffix}").exists()
    assert not list(ADDON.glob("build.*"))


def test_the_schema_covers_every_option_and_allows_its_default() -> None:
    config = _yaml(APP / "config.yaml")
    options, schema = config["options"], config["schema"]
    assert set(options) == set(schema)
    for name, default in options.items():
        kind = schema[name]
        if kind == "str":
            assert isinstance(default, str), name
        else:
            choices = re.fullmatch(r"list\(([^)]*)\)", kind)
            assert choices, f"{name}: {kind}"
            assert default in choices[1].split("|"), name
    # The log level's choices are what run.sh knows (debug adds --verbose).
    assert schema["log_level"] == "list(info|debug)"
    assert schema["log_format"] == "list(text|json)"


def test_run_sh_reads_exactly_the_options_of_config_yaml() -> None:
    options = set(_yaml(APP / "config.yaml")["options"])
    read = set(re.findall(r"bashio::config '([a-z_]+)'", (ADDON / "run.sh").read_text()))
    assert read == options
    # And the stand-in bashio below answers each of them.
    assert set(re.findall(r"^\s+([a-z_]+)\)", BASHIO, re.MULTILINE)) == options


def test_translations_name_and_describe_every_option() -> None:
    options = _yaml(APP / "config.yaml")["options"]
    translated = _yaml(APP / "translations" / "en.yaml")["configuration"]
    assert set(translated) == set(options)
    for name, text in translated.items():
        assert text["name"], name
        assert text["description"], name


def test_the_dockerfile_alone_builds_the_image_on_a_pinned_base() -> None:
    steps = instructions(DOCKERFILE)
    args = {
        name: default
        for word, value in steps
        if word == "ARG"
        for name, _, default in [value.partition("=")]
    }
    # Nothing is handed in but what the Supervisor passes, and each has a default.
    assert set(args) <= {"BUILD_VERSION", "BUILD_ARCH"}
    assert all(args.values()), args
    (base,) = [value for word, value in steps if word == "FROM"]
    assert "$" not in base  # no BUILD_FROM: the Supervisor has not passed one since 2026.04
    image, _, tag = base.partition(":")
    assert image == "ghcr.io/home-assistant/base-python"  # one multi-architecture name
    assert re.fullmatch(r"3\.1[1-9]-alpine3\.\d+-\d{4}\.\d+\.\d+", tag), tag  # a release
    config = _yaml(APP / "config.yaml")
    assert args["BUILD_VERSION"] == config["version"]


def test_the_image_carries_the_labels_the_supervisor_reads() -> None:
    labels = " ".join(value for word, value in instructions(DOCKERFILE) if word == "LABEL")
    found = dict(re.findall(r'([a-z.]+)="([^"]*)"', labels))
    assert found["io.hass.type"] == "app"
    assert found["io.hass.version"] == "${BUILD_VERSION}"
    assert found["io.hass.arch"] == "|".join(ARCHITECTURES)
    assert found["io.hass.name"] == _yaml(APP / "config.yaml")["name"]


def test_everything_the_dockerfile_copies_is_in_its_build_context() -> None:
    sent = sent_by(APP / ".dockerignore")
    sources = copied(DOCKERFILE)
    assert sources
    for source in sources:
        assert (APP / source).exists(), source
        assert sent(source.rstrip("/")), f"{source} is excluded by .dockerignore"
    for kept_out in (".git", ".venv", "tests", "config/secrets.yaml"):
        assert not sent(kept_out), kept_out


def test_the_icon_and_the_logo_have_the_sizes_home_assistant_asks_for() -> None:
    with Image.open(APP / "icon.png") as icon:
        assert (icon.format, icon.size) == ("PNG", (128, 128))
        assert len(icon.convert("RGB").getcolors(maxcolors=100_000) or []) > 3  # a picture
    with Image.open(APP / "logo.png") as logo:
        assert (logo.format, logo.size) == ("PNG", (250, 100))


def test_hadolint_has_nothing_to_say_about_the_app_dockerfile() -> None:
    assert lint(DOCKERFILE) == ""


def test_shellcheck_has_nothing_to_say_about_the_scripts() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, (
        "shellcheck is missing: install Debian's shellcheck (scripts/system-packages)"
    )
    result = subprocess.run(
        [shellcheck, str(ADDON / "run.sh"), str(ADDON / "bundle")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_bundle_is_a_local_copy_the_same_dockerfile_builds_from(tmp_path: Path) -> None:
    bundle = tmp_path / "cocoon"
    subprocess.run([str(ADDON / "bundle"), str(bundle)], check=True, capture_output=True)
    assert _app_configs(bundle) == [bundle / "config.yaml"]
    for name in ("Dockerfile", ".dockerignore", "DOCS.md", "icon.png", "logo.png"):
        assert (bundle / name).read_bytes() == (APP / name).read_bytes(), name
    assert (bundle / "translations" / "en.yaml").exists()
    for source in copied(bundle / "Dockerfile"):
        assert (bundle / source).exists(), source
    assert os.access(bundle / "deploy" / "homeassistant-addon" / "run.sh", os.X_OK)
    # The sources there make cocoon's wheel, as `pip install` in the image does.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path / "wheels"),
            str(bundle),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    wheels = [wheel.name.split("-")[0] for wheel in (tmp_path / "wheels").iterdir()]
    assert wheels == ["cocoon_home"]  # the distribution's name, normalised


class AddOn:
    """run.sh in a pretend app container: its folders in a temporary directory, bashio
    answered by BASHIO, and `cocoon run` recorded instead of run (`check` is real)."""

    def __init__(self, directory: Path) -> None:
        self.config_dir = directory / "config"
        self.data_dir = directory / "data"
        self.config_dir.mkdir(parents=True)
        self.bin = directory / "bin"
        self.bin.mkdir()
        self.recorded = directory / "cocoon-run-arguments"
        self.live = directory / "cocoon-check-live-arguments"
        fake = self.bin / "cocoon"
        fake.write_text(
            "#!/usr/bin/env bash\n"
            'for argument in "$@"; do\n'
            '    if [[ "$argument" == run ]]; then\n'
            f'        printf "%s\\n" "$@" > "{self.recorded}"; exit 0\n'
            "    fi\n"
            # The live check would look for the app's broker, which is not here.
            '    if [[ "$argument" == --live ]]; then\n'
            f'        printf "%s\\n" "$@" > "{self.live}"; exit 1\n'
            "    fi\n"
            "done\n"
            f'exec "{COCOON}" "$@"\n'
        )
        fake.chmod(0o755)
        self.stub = directory / "bashio.sh"
        self.stub.write_text(BASHIO)
        self.shared = directory / "share"
        self.shared.mkdir()
        shutil.copy(ADDON / "cocoon.yaml", self.shared / "cocoon.yaml")

    def run(self, **environment: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": f"{self.bin}:{Path(sys.executable).parent}:/usr/bin:/bin",
            "COCOON_ADDON_CONFIG_DIR": str(self.config_dir),
            "COCOON_ADDON_DATA_DIR": str(self.data_dir),
            "COCOON_ADDON_SHARE_DIR": str(self.shared),
            "COCOON_ADDON_LIB_DIR": str(ADDON),
            "SERVICE_MQTT_HOST": "core-mosquitto",
            "SERVICE_MQTT_PORT": "1883",
            "SERVICE_MQTT_USERNAME": "addons",
            "SERVICE_MQTT_PASSWORD": "broker-password",
            "SUPERVISOR_TOKEN": "supervisor-token",
            **environment,
        }
        return subprocess.run(
            ["bash", "-c", f'source "{self.stub}"; source "{ADDON / "run.sh"}"'],
            env={k: v for k, v in env.items() if v},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def arguments(self) -> list[str]:
        return self.recorded.read_text().split("\n")[:-1]


def test_run_sh_starts_a_first_home_on_the_supervisors_broker_and_api(tmp_path: Path) -> None:
    addon = AddOn(tmp_path)
    result = addon.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No " in result.stdout  # it says it wrote a first home
    assert (addon.config_dir / "cocoon.yaml").read_text() == (ADDON / "cocoon.yaml").read_text()
    generated = addon.data_dir / "run" / "cocoon.yaml"
    assert addon.arguments() == [
        "--log-format",
        "text",
        "run",
        "--config",
        str(generated),
        "--state-dir",
        str(addon.data_dir / "state"),
    ]
    cfg = load_config(generated)
    # The devices were held against the real ones (a problem found does not stop it).
    assert addon.live.read_text().split("\n")[:-1] == [
        "--log-format",
        "text",
        "check",
        "--live",
        "--config",
        str(generated),
    ]
    # The dashboard for this home lies beside its configuration, for the person to paste.
    assert (addon.config_dir / "dashboard.yaml").read_text() == dashboard_yaml(cfg)
    assert cfg.mqtt is not None
    assert (cfg.mqtt.host, cfg.mqtt.port, cfg.mqtt.username) == ("core-mosquitto", 1883, "addons")
    assert cfg.mqtt.password is not None
    assert cfg.mqtt.password.get_secret_value() == "broker-password"
    assert cfg.home_assistant is not None
    assert cfg.home_assistant.url == "http://supervisor/core"
    assert cfg.home_assistant.token.get_secret_value() == "supervisor-token"
    # The secrets are the service's own: only in the private secrets file, never printed.
    secrets = addon.data_dir / "run" / "secrets.yaml"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert "broker-password" not in generated.read_text()
    assert "broker-password" not in result.stdout + result.stderr
    assert "supervisor-token" not in result.stdout + result.stderr


def test_run_sh_keeps_the_persons_home_secrets_includes_and_mqtt_settings(
    tmp_path: Path,
) -> None:
    addon = AddOn(tmp_path)
    own = yaml.safe_load((ADDON / "cocoon.yaml").read_text())
    own["mqtt"] = {"host": "elsewhere", "base_topic": "calm", "username": "me"}
    own["home"]["name"] = "Our flat"
    text = yaml.safe_dump({k: v for k, v in own.items() if k != "devices"}, sort_keys=False)
    text += "devices: !include devices.yaml\n"
    text += "home_assistant: {url: 'http://old:8123', token: !secret my_token}\n"
    (addon.config_dir / "home.yaml").write_text(text)
    (addon.config_dir / "devices.yaml").write_text(yaml.safe_dump(own["devices"]))
    (addon.config_dir / "secrets.yaml").write_text("my_token: not-used-any-more\n")
    result = addon.run(ADDON_CONFIG_FILE="home.yaml", ADDON_LOG_LEVEL="debug")
    assert result.returncode == 0, result.stdout + result.stderr
    assert addon.arguments()[:3] == ["--verbose", "--log-format", "text"]
    cfg = load_config(addon.data_dir / "run" / "cocoon.yaml")
    assert cfg.home.name == "Our flat"
    assert set(cfg.devices) == {"living_lamp"}
    assert cfg.mqtt is not None
    assert (cfg.mqtt.host, cfg.mqtt.username, cfg.mqtt.base_topic) == (
        "core-mosquitto",
        "addons",
        "calm",
    )
    assert cfg.home_assistant is not None
    assert cfg.home_assistant.url == "http://supervisor/core"


@pytest.mark.parametrize(
    ("environment", "says"),
    [
        ({"SERVICE_MQTT_HOST": ""}, "No MQTT broker"),
        ({"SUPERVISOR_TOKEN": ""}, "No SUPERVISOR_TOKEN"),
    ],
)
def test_run_sh_stops_without_a_broker_or_a_token(
    tmp_path: Path, environment: dict[str, str], says: str
) -> None:
    addon = AddOn(tmp_path)
    result = addon.run(**environment)
    assert result.returncode == 1
    assert says in result.stderr
    assert not addon.recorded.exists()


def test_run_sh_stops_on_an_invalid_configuration_and_says_why(tmp_path: Path) -> None:
    addon = AddOn(tmp_path)
    (addon.config_dir / "cocoon.yaml").write_text(
        (ADDON / "cocoon.yaml").read_text().replace("scene: evening", "scene: evenin")
    )
    result = addon.run()
    assert result.returncode == 1
    assert "evenin" in result.stderr
    assert "Fix " in result.stderr
    assert not addon.recorded.exists()
