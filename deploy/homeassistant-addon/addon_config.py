"""Write the configuration cocoon runs with in the Home Assistant app: the person's own,
with the broker and Home Assistant that the Supervisor hands the app.

    python3 addon_config.py SOURCE TARGET_DIR

SOURCE is the person's cocoon.yaml (in the app's /config). TARGET_DIR (the app's
private /data) receives

- `cocoon.yaml`: SOURCE with `mqtt.host`, `port`, `username`, `password` and
  `home_assistant.url`, `token` replaced by what the environment says (MQTT_HOST,
  MQTT_PORT, MQTT_USERNAME, MQTT_PASSWORD from the Supervisor's `mqtt` service;
  SUPERVISOR_TOKEN and HA_URL, default http://supervisor/core). The other MQTT
  settings (base topic, discovery prefix, ...) are kept. `!secret` and `!include`
  stay as they are, an `!include` made absolute so that it still finds its file;
- `secrets.yaml` (mode 0600): the person's secrets.yaml beside SOURCE, if any, plus
  the broker's password and the token, for cocoon reads `!secret` from the
  secrets.yaml beside the file it runs with.

Passwords and tokens come through the environment, never the command line, and are
written only to the secrets file.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MQTT_PASSWORD = "cocoon_addon_mqtt_password"
HA_TOKEN = "cocoon_addon_supervisor_token"
REPLACED_MQTT = ("host", "port", "username", "password")


@dataclass(frozen=True)
class Tagged:
    """A `!secret NAME` or `!include FILE`, carried through unchanged."""

    tag: str
    value: str


class _Loader(yaml.SafeLoader):
    pass


class _Dumper(yaml.SafeDumper):
    pass


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Tagged:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, f"!{suffix} takes a single value", node.start_mark
        )
    return Tagged(f"!{suffix}", str(loader.construct_scalar(node)))


_Loader.add_multi_constructor("!", _tagged)
_Dumper.add_representer(
    Tagged, lambda dumper, tagged: dumper.represent_scalar(tagged.tag, tagged.value)
)


def _absolute_includes(value: Any, base: Path) -> Any:
    if isinstance(value, Tagged) and value.tag == "!include":
        return Tagged(value.tag, str((base / value.value).absolute()))
    if isinstance(value, dict):
        return {key: _absolute_includes(item, base) for key, item in value.items()}
    if isinstance(value, list):
        return [_absolute_includes(item, base) for item in value]
    return value


def patched(source: Path, environment: dict[str, str]) -> dict[str, Any]:
    """The configuration in `source` with the app's broker and Home Assistant."""
    config = yaml.load(source.read_text(encoding="utf-8"), Loader=_Loader) or {}
    if not isinstance(config, dict):
        raise SystemExit(f"{source}: the configuration must be a mapping of sections")
    config = _absolute_includes(config, source.parent)
    mqtt = config.get("mqtt") if isinstance(config.get("mqtt"), dict) else {}
    kept = {key: value for key, value in mqtt.items() if key not in REPLACED_MQTT}
    config["mqtt"] = {
        "host": environment["MQTT_HOST"],
        "port": int(environment["MQTT_PORT"]),
        **({"username": environment["MQTT_USERNAME"]} if environment.get("MQTT_USERNAME") else {}),
        **(
            {"password": Tagged("!secret", MQTT_PASSWORD)}
            if environment.get("MQTT_PASSWORD")
            else {}
        ),
        **kept,
    }
    assistant = config.get("home_assistant")
    kept = {
        key: value
        for key, value in (assistant if isinstance(assistant, dict) else {}).items()
        if key not in ("url", "token")
    }
    config["home_assistant"] = {
        "url": environment.get("HA_URL") or "http://supervisor/core",
        "token": Tagged("!secret", HA_TOKEN),
        **kept,
    }
    return config


def secrets(source: Path, environment: dict[str, str]) -> dict[str, Any]:
    """The person's secrets beside `source`, with the broker's password and the token."""
    own = source.parent / "secrets.yaml"
    found = yaml.safe_load(own.read_text(encoding="utf-8")) if own.exists() else None
    values: dict[str, Any] = dict(found) if isinstance(found, dict) else {}
    if environment.get("MQTT_PASSWORD"):
        values[MQTT_PASSWORD] = environment["MQTT_PASSWORD"]
    values[HA_TOKEN] = environment["SUPERVISOR_TOKEN"]
    return values


def main(argv: list[str]) -> int:
    """Write TARGET_DIR/cocoon.yaml and TARGET_DIR/secrets.yaml; the exit status."""
    if len(argv) != 3:
        print(f"usage: {argv[0]} SOURCE TARGET_DIR", file=sys.stderr)
        return 2
    source, target = Path(argv[1]), Path(argv[2])
    environment = dict(os.environ)
    missing = [
        name for name in ("MQTT_HOST", "MQTT_PORT", "SUPERVISOR_TOKEN") if not environment.get(name)
    ]
    if missing:
        print(f"{argv[0]}: {', '.join(missing)} not set", file=sys.stderr)
        return 2
    target.mkdir(parents=True, exist_ok=True)
    header = f"# Written by the cocoon app at every start from {source}: edit that file.\n"
    (target / "cocoon.yaml").write_text(
        header
        + yaml.dump(
            patched(source, environment), Dumper=_Dumper, sort_keys=False, allow_unicode=True
        ),
        encoding="utf-8",
    )
    secrets_file = target / "secrets.yaml"
    secrets_file.touch(mode=0o600)
    secrets_file.chmod(0o600)
    secrets_file.write_text(
        yaml.safe_dump(secrets(source, environment), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
