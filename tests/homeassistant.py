"""A real Home Assistant for tests: its own config dir, a free loopback port, our pid.

Two installations, and every test that boots Home Assistant runs on both (the
`ha_install` fixture, test ids `[ha2024.3.3]` and `[ha2026.11.0]`):

- the oldest supported, 2024.3.3 on Python 3.11, in `.ha-venv` (built by
  `scripts/ha-venv`; `HA_VENV` points elsewhere): its own venv because it needs
  paho-mqtt 1.6.1 and the tests use 2.x;
- the current one, 2026.11.0 on Python 3.14, in `/opt/homeassistant` inside a Debian
  forky root in `.ha-current/root` (built by `scripts/ha-current`; `HA_CURRENT_ROOT`
  points elsewhere). It runs there in a private mount namespace of its own, with
  /proc, /sys and /dev, /tmp and the config dir bound at their own paths, and `exec`
  at every level, so the pid we hold is hass's own and SIGTERM reaches it; the
  mounts end with it. That needs root.

The version is read from the installation, never assumed. Nothing it does
needs the network: requirements are pre-installed and it runs with `--skip-pip`, the
HTTP server binds 127.0.0.1 only, onboarding is marked done (its `core_config` step
would add integrations that go online) and the only integrations are `demo`, the
input numbers below and MQTT against our own Mosquitto on 127.0.0.1. (Checked with
strace: its only non-loopback `connect` calls are the `network` integration's UDP
route lookups towards 8.8.8.8 and 224.0.0.251, which send no packet. 2026.x also
looks up its marketplace's data host at start: in its root, names resolve through
127.0.0.1 only, so that query never leaves the machine.)

What 2026.x does differently is handled here: the `http:` YAML would become a
*pending* config that reverts (and stops Home Assistant) after 5 minutes unless
confirmed, so `.storage/http` is seeded with it as the confirmed one; log records
carry a UTC offset; there is new expected noise (`EXPECTED_LOG_NOISE`).

The access token costs nothing: `.storage/auth` is seeded with an admin user and a
long-lived refresh token before the first start, and the token is the HS256 JWT Home
Assistant would issue for it. The MQTT config entry is seeded the same way (2024.3
rejects `mqtt: broker:` in YAML).

Started with `subprocess.Popen` and stopped by its own pid (SIGTERM, then SIGKILL).
Ready means `GET /api/config` says `RUNNING` and the MQTT entry is `loaded`; `/api/`
answers earlier than that. Entities from MQTT discovery come about 2 s later still
(the integration's subscribe and discovery cool-downs): poll with `wait_for_state`.
The demo's state lives in memory, so each (re)start begins from the same values and
tests sharing one instance should set what they read.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from cocoon.adapters import ha_wire
from cocoon.config.schema import HomeAssistant as HomeAssistantSettings

from .brokers import HOST, free_port
from .processes import Program

ROOT = Path(__file__).resolve().parents[1]

_BOOT_TIMEOUT = 60.0
_STOP_TIMEOUT = 60.0
_POLL = 0.05
_REQUEST_TIMEOUT = 10.0
_TOKEN_LIFETIME = 10 * 365 * 24 * 3600

# Log records that are expected on every boot (or every websocket client that closes).
EXPECTED_LOG_NOISE = (
    # The demo camera runs ffmpeg, which is not installed.
    r"\[haffmpeg\.core\] FFmpeg fails",
    r"\[haffmpeg\.tools\] Error starting FFmpeg",
    # --skip-pip, on purpose.
    r"Skipping pip installation of required modules",
    # 2024.3 is the last release for Python 3.11 and says so at every start.
    r"Python version 3\.11\.\d+ is deprecated",
    # Logged when a websocket client closes its connection (2024.3; 2026.x when the
    # client closes with code 0).
    r"Disconnected: Received non-Text message",
    r"Disconnected: Received error message during command phase: Invalid close code: 0",
    # 2026.x: the demo still sets up a legacy device_tracker.
    r"legacy device trackers are deprecated",
    # 2026.x: a stop while an integration is still being set up (the marketplace's,
    # late on a loaded machine) cancels that setup, and says so.
    r"CancelledError: Interrupted by interrupt context manager",
)
# A record starts with its time (2026.x adds the UTC offset: `….780+00:00`) and level.
_RECORD_START = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+(?:[+-]\d\d:?\d\d|Z)? (?P<level>[A-Z]+) ",
)
# Run a program inside a root: a private mount namespace (the mounts end with the
# process), the root's own view of /proc, /sys and /dev, /tmp and the given dirs bound
# at their own paths, then chroot. `exec` at every level keeps the pid.
_IN_ROOT = r"""
root="$1"; shift
mount --rbind /proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount --bind /tmp "$root/tmp"
while [ "$1" != -- ]; do
    mkdir -p "$root$1"
    mount --bind "$1" "$root$1"
    shift
done
shift
exec chroot "$root" /usr/bin/env -i LANG=C.UTF-8 HOME=/root \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost "$@"
"""

# Requests go straight to 127.0.0.1, never through a proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Install:
    """One installation of Home Assistant: a venv, either on the host or inside a root."""

    name: str
    """What it stands for: "oldest" (supported) or "current"."""
    venv: Path
    """The venv; inside `root` when there is one, as a path there."""
    built_by: str
    """The script that builds it, and the variable that points elsewhere."""
    root: Path | None = None
    """The Debian root it runs in (chroot), or None to run on the host."""

    @property
    def host_venv(self) -> Path:
        """The venv as seen from here."""
        return self.venv if self.root is None else self.root / self.venv.relative_to("/")

    @property
    def version(self) -> str | None:
        """The installed version (from the wheel's metadata), None when not installed."""
        found = sorted(self.host_venv.glob("lib/python3*/site-packages/homeassistant-*.dist-info"))
        return (
            found[-1].name.removeprefix("homeassistant-").removesuffix(".dist-info")
            if found
            else None
        )

    @property
    def label(self) -> str:
        """A test id: `ha2024.3.3`, or `ha-current` before it is built."""
        version = self.version
        return f"ha{version}" if version else f"ha-{self.name}"

    def check(self) -> None:
        """A RuntimeError that says how to build it, when `hass` is missing or cannot run."""
        executable = self.host_venv / "bin" / "hass"
        if not os.access(executable, os.X_OK):
            raise RuntimeError(
                f"Home Assistant ({self.name}) is not installed: {executable} is missing. "
                f"The Home Assistant tests need the real thing: run {self.built_by} "
                f"(scripts/test does)"
            )
        if self.root is not None and os.geteuid() != 0:
            raise RuntimeError(
                f"Home Assistant ({self.name}) runs in {self.root} with chroot, which needs root"
            )

    def command(self, program: str, *args: str, binds: Iterable[Path] = ()) -> list[str]:
        """The command that runs `program` from the venv's bin with `args`.

        In a root, `binds` are host dirs made visible there at their own paths (/tmp
        always is); the pid of the command is the program's own.
        """
        executable = str(self.venv / "bin" / program)
        if self.root is None:
            return [executable, *args]
        dirs = [str(Path(d).resolve()) for d in binds]
        return [
            "unshare", "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", _IN_ROOT, "in-root", str(self.root), *dirs, "--",
            executable, *args,
        ]  # fmt: skip


def light_brightness(state: dict[str, Any]) -> int | None:
    """A light entity's brightness (0-255) from its state: 0 when off, None when on but
    not saying."""
    value = state["attributes"].get("brightness") if state["state"] == "on" else 0
    return None if value is None else int(value)


def ha_venv() -> Path:
    """The venv of the oldest supported Home Assistant: `$HA_VENV`, or `.ha-venv`."""
    configured = os.environ.get("HA_VENV")
    return Path(configured) if configured else ROOT / ".ha-venv"


def ha_current_root() -> Path:
    """The root of the current Home Assistant: `$HA_CURRENT_ROOT`, or `.ha-current/root`."""
    configured = os.environ.get("HA_CURRENT_ROOT")
    return Path(configured) if configured else ROOT / ".ha-current" / "root"


def oldest() -> Install:
    """Home Assistant 2024.3.3 on Python 3.11, the oldest cocoon supports."""
    return Install("oldest", ha_venv(), "scripts/ha-venv (or point HA_VENV at such a venv)")


def current() -> Install:
    """Home Assistant 2026.11.0 on Python 3.14, in a Debian forky root."""
    return Install(
        "current",
        Path("/opt/homeassistant"),
        "scripts/ha-current (or point HA_CURRENT_ROOT at such a root)",
        root=ha_current_root(),
    )


def installs() -> list[Install]:
    """Both installations every Home Assistant test runs on, the oldest first."""
    return [oldest(), current()]


def write_config(
    directory: Path,
    mqtt_port: int,
    http_port: int,
    extra_yaml: str = "",
    version: str = "2024.3.3",
) -> str:
    """Write a config dir that boots offline, and return a long-lived access token for it.

    `configuration.yaml` has the demo integration (lights `light.bed_light`,
    `light.ceiling_lights`, `light.kitchen_lights`, climates, sensors, …), two input
    numbers standing in for a plant's sensors (`input_number.plant_moisture`,
    `input_number.plant_illuminance`), the REST and websocket APIs on
    127.0.0.1:`http_port`, and `extra_yaml` at the end (for example an `automation:`
    section). `.storage` holds an admin user with the token's refresh token,
    onboarding marked done, the MQTT entry for 127.0.0.1:`mqtt_port` with discovery,
    and for Home Assistant `version` 2026 and later the HTTP settings as confirmed.
    """
    storage = directory / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    http_yaml = (
        ""
        if _stores_http_settings(version)
        else f"http:\n  server_host: {HOST}\n  server_port: {http_port}\n\n"
    )
    config = f"""\
homeassistant:
  name: cocoon-test
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: NL
  currency: EUR
  internal_url: http://{HOST}:{http_port}

{http_yaml}api:
websocket_api:
demo:

logger:
  default: warning
  logs:
    homeassistant.components.mqtt: info

input_number:
  plant_moisture:
    name: Plant moisture
    min: 0
    max: 100
    step: 1
    unit_of_measurement: "%"
    mode: box
    initial: 40
  plant_illuminance:
    name: Plant illuminance
    min: 0
    max: 100000
    step: 1
    unit_of_measurement: lx
    mode: box
    initial: 1200
"""
    if extra_yaml:
        config += "\n" + extra_yaml.rstrip("\n") + "\n"
    (directory / "configuration.yaml").write_text(config, encoding="utf-8")

    user_id, refresh_token_id = uuid.uuid4().hex, uuid.uuid4().hex
    jwt_key = secrets.token_hex(64)
    auth = {
        "users": [
            {
                "id": user_id,
                "group_ids": ["system-admin"],
                "is_owner": True,
                "is_active": True,
                "name": "cocoon-test",
                "system_generated": False,
                "local_only": False,
            }
        ],
        "groups": [
            {"id": "system-admin", "name": "Administrators"},
            {"id": "system-users", "name": "Users"},
            {"id": "system-read-only", "name": "Read Only"},
        ],
        "credentials": [],
        "refresh_tokens": [
            {
                "id": refresh_token_id,
                "user_id": user_id,
                "client_id": None,
                "client_name": "cocoon-tests",
                "client_icon": None,
                "token_type": "long_lived_access_token",
                "created_at": datetime.now(UTC).isoformat(),
                "access_token_expiration": float(_TOKEN_LIFETIME),
                "token": secrets.token_hex(64),
                "jwt_key": jwt_key,
                "last_used_at": None,
                "last_used_ip": None,
                "expire_at": None,
                "credential_id": None,
                "version": version,
            }
        ],
    }
    _write_store(storage, "auth", auth)
    onboarding = {"done": ["user", "core_config", "analytics", "integration"]}
    _write_store(storage, "onboarding", onboarding, version=4)
    mqtt_entry = {
        "entry_id": uuid.uuid4().hex,
        "version": 1,
        "minor_version": 1,
        "domain": "mqtt",
        "title": HOST,
        "data": {
            "broker": HOST,
            "port": mqtt_port,
            "discovery": True,
            "discovery_prefix": "homeassistant",
        },
        "options": {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "unique_id": None,
        "disabled_by": None,
    }
    _write_store(storage, "core.config_entries", {"entries": [mqtt_entry]})
    if _stores_http_settings(version):
        # 2026.x takes `http:` from YAML once, as a *pending* config that must be
        # confirmed within 5 minutes, or it reverts to the stable one and exits (code
        # 100), then ignores the YAML. Seeded as the stable config, with the YAML import
        # done, it is simply in force. (Stored configs skip the schema: every key.)
        stable = {
            "server_host": [HOST],
            "server_port": http_port,
            "cors_allowed_origins": [],
            "login_attempts_threshold": -1,
            "ip_ban_enabled": True,
            "ssl_profile": "intermediate_v6",
            "use_x_frame_options": True,
            "created_at": datetime.now(UTC).isoformat(),
            "error": None,
            "error_message": None,
        }
        http = {"stable": stable, "pending": None, "yaml_migration_done": True}
        _write_store(storage, "http", http, version=3)

    # What auth_store.async_validate_access_token checks: signature, iss, exp.
    issued_at = int(time.time()) - 60
    claims = {"iss": refresh_token_id, "iat": issued_at, "exp": issued_at + _TOKEN_LIFETIME}
    token = _hs256_jwt(claims, jwt_key)
    (directory / "token").write_text(token + "\n", encoding="utf-8")
    return token


class HomeAssistant(Program):
    """One Home Assistant on 127.0.0.1:`port`, with its config, storage and log in `dir`.

    The constructor writes the config dir (see `write_config`) once; `restart()` keeps
    the dir, the port and the token (the demo's state resets).
    """

    host = HOST
    name = "Home Assistant"
    stop_timeout = _STOP_TIMEOUT

    def __init__(
        self,
        directory: Path,
        mqtt_port: int,
        *,
        port: int | None = None,
        extra_yaml: str = "",
        install: Install | None = None,
    ) -> None:
        super().__init__()
        self.dir = directory
        self.mqtt_port = mqtt_port
        self.port = port if port is not None else free_port()
        self.install = install if install is not None else oldest()
        self.version = self.install.version
        """The installed version (None when it is not installed: `start()` says how)."""
        self.log_path = directory / "hass.log"
        self.token = write_config(
            directory, mqtt_port, self.port, extra_yaml, self.version or "2024.3.3"
        )
        self.boot_seconds: float | None = None
        """How long the last `start()` took, from exec to RUNNING with MQTT loaded."""
        self._earlier_logs = directory / "hass.earlier.log"
        self._records_forgotten = 0
        self._last_error: str | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:8123 (the REST API is under /api/)."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The websocket API's URL."""
        return f"ws://{self.host}:{self.port}/api/websocket"

    def start(self) -> None:
        """Start Home Assistant and wait until it is RUNNING with the MQTT entry loaded."""
        if self.running:
            raise RuntimeError(f"Home Assistant on port {self.port} is already running")
        self.install.check()
        self._keep_earlier_log()
        started = time.monotonic()
        with (self.dir / "stdout.log").open("ab") as stdout:
            self._spawn(
                self.install.command(
                    "hass",
                    "--config",
                    str(self.dir),
                    "--skip-pip",
                    "--log-file",
                    str(self.log_path),
                    binds=[self.dir],
                ),
                output=stdout,
                env=_environment(),
            )
        try:
            self._wait_until(lambda: self._config_state() == "RUNNING", "state RUNNING")
            self._wait_until(lambda: self.mqtt_entry_state() == "loaded", "the MQTT entry loaded")
        except BaseException:
            self._end(signal.SIGKILL)
            raise
        self.boot_seconds = time.monotonic() - started

    # --- REST helpers (urllib only) ---

    def request(self, method: str, path: str, data: object = None) -> Any:
        """Call the REST API (`path` under /api/) with the token; returns the decoded JSON.

        HTTP errors raise `urllib.error.HTTPError`.
        """
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(
            f"{self.url}/api/{path.lstrip('/')}",
            data=body,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
        )
        with _opener.open(request, timeout=_REQUEST_TIMEOUT) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def command(self, msg_type: str, **data: Any) -> Any:
        """Send one command over the websocket API (a connection of its own); its result.

        An error result raises GatewayError with Home Assistant's message.
        """
        settings = HomeAssistantSettings(url=self.url, token=SecretStr(self.token))
        return asyncio.run(ha_wire.command(settings, msg_type, **data))

    def get_config(self) -> dict[str, Any]:
        """`GET /api/config`: version, state (RUNNING), components, …"""
        config: dict[str, Any] = self.request("GET", "config")
        return config

    def get_state(self, entity_id: str) -> dict[str, Any] | None:
        """The entity's state object (state, attributes, …), or None when it does not exist."""
        try:
            state: dict[str, Any] = self.request("GET", f"states/{entity_id}")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise
        return state

    def get_states(self) -> list[dict[str, Any]]:
        """Every entity's state object."""
        states: list[dict[str, Any]] = self.request("GET", "states")
        return states

    def call_service(
        self, domain: str, service: str, data: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Call a service over REST; returns the states it changed.

        An unknown entity is not an error (200, `[]`): check the state you expect.
        """
        changed: list[dict[str, Any]] = self.request(
            "POST", f"services/{domain}/{service}", data or {}
        )
        return changed

    def wait_for_state(
        self,
        entity_id: str,
        predicate: Callable[[dict[str, Any]], object],
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """Poll until the entity exists and `predicate(state)` is true; returns that state."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.get_state(entity_id)
            if state is not None and predicate(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"waited {timeout} s for {entity_id} to match; its state is {state}"
                )
            time.sleep(_POLL)

    def config_entries(self) -> list[dict[str, Any]]:
        """The config entries (`GET /api/config/config_entries/entry`)."""
        entries: list[dict[str, Any]] = self.request("GET", "config/config_entries/entry")
        return entries

    def mqtt_entry_state(self) -> str | None:
        """The MQTT config entry's state (`loaded`, `setup_retry`, …), None without one."""
        for entry in self.config_entries():
            if entry.get("domain") == "mqtt":
                state: str = entry["state"]
                return state
        return None

    # --- the log ---

    def log_tail(self, lines: int = 40) -> str:
        """The end of the current log, for failure messages."""
        text = _read(self.log_path)
        if not text:
            text = _read(self.dir / "stdout.log")
        return "\n".join(text.splitlines()[-lines:]) if text else "(no log written)"

    def unexpected_log_lines(self, also_expected: Iterable[str] = ()) -> list[str]:
        """Warnings and errors of every start so far, without the expected noise.

        Each item is one log record (with its traceback, if any). `also_expected` adds
        regular expressions to `EXPECTED_LOG_NOISE`.
        """
        patterns = [re.compile(p) for p in (*EXPECTED_LOG_NOISE, *also_expected)]
        unexpected = []
        for level, lines in self._log_records()[self._records_forgotten :]:
            record = "\n".join(lines)
            if level in {"WARNING", "ERROR", "CRITICAL"} and not any(
                p.search(record) for p in patterns
            ):
                unexpected.append(record)
        return unexpected

    def log_records(self) -> list[str]:
        """Every record of every start so far, at any level, each with its traceback."""
        return ["\n".join(lines) for _level, lines in self._log_records()]

    def forget_log_records(self) -> None:
        """Leave every record so far out of `unexpected_log_lines` (after a test that
        wrote warnings on purpose into a shared instance's log)."""
        self._records_forgotten = len(self._log_records())

    # --- internals ---

    def _log_records(self) -> list[tuple[str, list[str]]]:
        """(level, lines) of every record of every start so far, in order."""
        text = _read(self._earlier_logs) + _read(self.log_path)
        records: list[tuple[str, list[str]]] = []
        for line in text.splitlines():
            match = _RECORD_START.match(line)
            if match:
                records.append((match["level"], [line]))
            elif records:
                records[-1][1].append(line)
        return records

    def _config_state(self) -> str | None:
        try:
            state: str = self.get_config()["state"]
        except (OSError, ValueError, KeyError) as error:
            # Not listening yet (refused, reset), 5xx while starting, not JSON yet.
            self._last_error = f"{type(error).__name__}: {error}"
            return None
        self._last_error = None
        return state

    def _wait_until(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + _BOOT_TIMEOUT
        while not ready():
            code = self._exit_code()
            if code is not None:
                raise RuntimeError(
                    f"Home Assistant exited with code {code} while starting on port "
                    f"{self.port}; its log ends with:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                last = f" (last request: {self._last_error})" if self._last_error else ""
                raise RuntimeError(
                    f"Home Assistant on port {self.port} did not reach {what} within "
                    f"{_BOOT_TIMEOUT:.0f} s{last}; its log ends with:\n{self.log_tail()}"
                )
            time.sleep(_POLL)

    def _keep_earlier_log(self) -> None:
        """HA rotates its log at start: keep every start's log for `unexpected_log_lines`."""
        text = _read(self.log_path)
        if text:
            with self._earlier_logs.open("a", encoding="utf-8") as earlier:
                earlier.write(text)
            self.log_path.unlink()


def _environment() -> dict[str, str]:
    """Our environment without what would point Home Assistant at our venv or a proxy."""
    env = dict(os.environ)
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _release(version: str) -> tuple[int, int]:
    """`2026.11.0` → (2026, 11)."""
    year, month, *_ = version.split(".")
    return int(year), int(month)


def _stores_http_settings(version: str) -> bool:
    """Whether this Home Assistant keeps its HTTP settings in `.storage/http` (2026.x)."""
    return _release(version) >= (2026, 1)


def _write_store(storage: Path, key: str, data: object, version: int = 1) -> None:
    document = {"version": version, "minor_version": 1, "key": key, "data": data}
    (storage / key).write_text(json.dumps(document, indent=2), encoding="utf-8")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hs256_jwt(claims: dict[str, Any], key: str) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
