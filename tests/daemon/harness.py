"""Running cocoon for real in tests: a config on disk, a watching client, the daemon.

The daemon runs either in a thread of this process (with a clock that can run fast)
or as a `cocoon run` subprocess (for signals and `kill -9`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.config.load import load_config
from cocoon.config.schema import CocoonConfig
from cocoon.ports import Clock

from ..brokers import Mosquitto


def home(port: int, **overrides: Any) -> dict[str, Any]:
    """A small Zigbee2MQTT home: two lights, a radiator, a plant sensor, calm mode, rituals."""
    data: dict[str, Any] = {
        "home": {
            "name": "Test flat",
            "latitude": 50.85,
            "longitude": 4.35,
            "timezone": "Europe/Brussels",
        },
        "mqtt": {"host": "127.0.0.1", "port": port, "client_id": f"cocoon-{uuid.uuid4().hex[:8]}"},
        "settings": {"rate_limit": 100},
        "devices": {
            "sofa": {"zigbee2mqtt": "sofa_lamp", "room": "Living room"},
            "desk": {"zigbee2mqtt": "desk_lamp"},
            "radiator": {"zigbee2mqtt": "radiator", "kind": "thermostat", "min": 16, "max": 23},
            "soil": {"zigbee2mqtt": "fern_sensor", "kind": "sensor"},
        },
        "scenes": {
            "calm": {
                "lights": {"sofa": {"brightness": 20, "kelvin": 2000}, "desk": "off"},
                "heat": {"radiator": "+1"},
            },
            "evening": {"lights": {"sofa": {"brightness": 35, "kelvin": 2200}}},
        },
        "rituals": {
            "evening": {"at": "19:00", "until": "22:00", "scene": "evening", "fade": "20min"}
        },
        "calm_modes": {
            "calm_now": {"scene": "calm", "duration": "3s", "fade": 0, "button": "Calm now"}
        },
        "plants": {"fern": {"moisture": {"sensor": "soil", "below": 25}}},
    }
    for key, value in overrides.items():
        data[key] = value
    return data


def write_config(directory: Path, data: dict[str, Any]) -> Path:
    """Write `data` as `cocoon.yaml` into `directory`."""
    path = directory / "cocoon.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class Watcher:
    """A plain MQTT client that records everything it sees and can publish."""

    def __init__(self, broker: Mosquitto, topics: list[str]) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self._lock = threading.Lock()
        self._topics = topics
        self._ready = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"watcher-{uuid.uuid4().hex[:8]}"
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if not self._ready.wait(5):
            raise RuntimeError("the watcher could not connect")

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        for topic in self._topics:
            client.subscribe(topic, qos=1)
        self._ready.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def seen(self, topic: str) -> list[bytes]:
        """Payloads received on `topic`, in order."""
        with self._lock:
            return [m.payload for m in self.messages if m.topic == topic]

    def last(self, topic: str) -> bytes | None:
        """The latest payload on `topic`."""
        seen = self.seen(topic)
        return seen[-1] if seen else None

    def publish(self, topic: str, payload: bytes | str, *, retain: bool = False) -> None:
        """Publish at QoS 1 and wait until the broker has it."""
        wait_until(self.client.is_connected, what="the watcher's connection")
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_until(check: Callable[[], object], timeout: float = 60.0, what: str = "") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds (a
    bound for a hang, not a measure: a loaded machine takes its time)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        time.sleep(0.02)


class DaemonThread:
    """cocoon's daemon in a thread of its own with its own event loop."""

    def __init__(self, cfg: CocoonConfig, state_dir: Path, clock: Clock | None = None) -> None:
        from cocoon.app import Daemon

        self.daemon = Daemon(cfg, state_dir, clock=clock)
        self._loop = asyncio.new_event_loop()
        self._stopped = asyncio.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._started = threading.Event()

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        await self.daemon.start()
        self._started.set()
        await self._stopped.wait()
        await self.daemon.stop()

    def __enter__(self) -> DaemonThread:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the daemon did not start")
        return self

    def call(self, function: Callable[[], Any]) -> None:
        """Run `function` on the daemon's loop."""
        self._loop.call_soon_threadsafe(function)

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)


class DaemonProcess:
    """`cocoon run` as a child process, its log beside `state_dir` (`-v`: the debug log)."""

    def __init__(
        self, config: Path, state_dir: Path, *, verbose: bool = True, more: Sequence[str] = ()
    ) -> None:
        """`more`: further options of `cocoon run` (a fleet's, say)."""
        self.config = config
        self.state_dir = state_dir
        self.verbose = verbose
        self.more = list(more)
        self.log_path = state_dir.parent / f"{state_dir.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        flags = ["-v"] if self.verbose else []
        command = [sys.executable, "-m", "cocoon", *flags, "run", "--config", str(self.config)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--state-dir", str(self.state_dir), *self.more],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def wait(self, timeout: float = 10.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def end(self) -> None:
        """SIGTERM, wait, and SIGKILL only if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()


def level(sim: Zigbee2MqttSimulator, name: str = "sofa_lamp") -> object:
    """A simulated light's brightness (0-254) as it last reported, or "OFF"."""
    state = sim.state(name)
    return state.get("brightness") if state.get("state") == "ON" else "OFF"


def config_of(data: dict[str, Any], directory: Path) -> CocoonConfig:
    """Write and load a configuration (through the real loader)."""
    return load_config(write_config(directory, data))


def json_of(payload: bytes | None) -> Any:
    return None if payload is None else json.loads(payload)
