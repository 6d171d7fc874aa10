"""What the daemon benchmarks share: a broker and `cocoon run` in a temporary directory,
a single-threaded measuring client, /proc readings and the table printer.

Everything talks to 127.0.0.1 only (the broker of `tests.brokers` listens on loopback).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from tests.brokers import Mosquitto
from tests.daemon.harness import DaemonProcess, home, write_config

BASE = "cocoon/test_flat"  # the topics of `home()`'s "Test flat"
PRESS_TOPIC = f"{BASE}/button/calm_now/press"
MODE_TOPIC, MODE_SET = f"{BASE}/mode", f"{BASE}/mode/set"
LIGHTS = {"sofa_lamp": (254, 250), "desk_lamp": (127, 300)}  # brightness, mireds before calm
SET_TOPICS = frozenset({*(f"zigbee2mqtt/{name}/set" for name in LIGHTS), "zigbee2mqtt/radiator/set"})
CALM_NOW = {"calm_now": {"scene": "calm", "duration": "1h", "fade": 0, "button": "Calm now"}}
TICK = os.sysconf("SC_CLK_TCK")


def light_state(name: str) -> bytes:
    """A Zigbee2MQTT report of a light as it was before any calm mode."""
    level, mireds = LIGHTS[name]
    return f'{{"state":"ON","brightness":{level},"color_temp":{mireds}}}'.encode()


def quiet_exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so `finally` blocks stop the broker and the daemon."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


class Daemon(DaemonProcess):
    """`cocoon run` as a child process; `-v` (debug log) only when asked for."""

    def __init__(self, config: Path, state_dir: Path, *, verbose: bool) -> None:
        super().__init__(config, state_dir)
        self.verbose = verbose

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        flags = ["-v"] if self.verbose else []
        command = [sys.executable, "-m", "cocoon", *flags, "run", "--config", str(self.config)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--state-dir", str(self.state_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def end(self) -> None:
        """SIGTERM, wait, and SIGKILL only if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()


class Probe:
    """An MQTT client without a network thread: it reads only inside `pump`/`wait`, and
    stamps each message with `time.perf_counter()` the moment paho hands it over."""

    def __init__(self, port: int, topics: list[str]) -> None:
        self.inbox: list[tuple[float, str, bytes]] = []
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:8]}"
        )
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.wait(self.client.is_connected, 5, "the probe's connection")
        if topics:
            _, mid = self.client.subscribe([(topic, 1) for topic in topics])
            acked: list[int] = []
            self.client.on_subscribe = lambda *args: acked.append(args[2])
            self.wait(lambda: mid in acked, 5, "the probe's subscription")

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.inbox.append((time.perf_counter(), message.topic, bytes(message.payload)))

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> float:
        """Publish; returns the perf_counter taken just before."""
        began = time.perf_counter()
        self.client.publish(topic, payload, qos=qos, retain=retain)
        return began

    def pump(self, seconds: float) -> None:
        """Keep the connection serviced (acks, pings, incoming) for `seconds`."""
        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0:
            self.client.loop(timeout=left)

    def wait(self, done: Callable[[], object], timeout: float, what: str) -> None:
        end = time.perf_counter() + timeout
        while not done():
            if time.perf_counter() > end:
                raise TimeoutError(f"no {what} within {timeout:g} s")
            self.client.loop(timeout=0.05)

    def first(self, since: int, match: Callable[[str, bytes], bool], timeout: float = 5) -> float:
        """Arrival time of the first message from inbox[since:] that matches."""
        found: list[float] = []

        def seen() -> bool:
            found.extend(t for t, topic, body in self.inbox[since:] if match(topic, body))
            return bool(found)

        self.wait(seen, timeout, "expected message")
        return found[0]

    def close(self) -> None:
        self.client.disconnect()


def press_once(probe: Probe, rng: random.Random) -> float:
    """One sporadic press of "Calm now": idle 50-150 ms, press, time the first `/set`;
    then let it settle and hand back with mode `off`. Returns the latency in ms."""
    probe.pump(rng.uniform(0.05, 0.15))
    mark = len(probe.inbox)
    began = probe.publish(PRESS_TOPIC, "PRESS")
    arrived = probe.first(mark, lambda topic, _: topic in SET_TOPICS)
    settle(probe, mark, b"calm_now")
    mark = len(probe.inbox)
    probe.publish(MODE_SET, "off")
    settle(probe, mark, b"off")
    return (arrived - began) * 1000


def settle(probe: Probe, since: int, mode: bytes) -> None:
    """Wait for a command to every light and for the mode's status (sent 50 ms later)."""

    def done() -> bool:
        seen = {topic for _, topic, _ in probe.inbox[since:]}
        mode_seen = any(t == MODE_TOPIC and b == mode for _, t, b in probe.inbox[since:])
        return mode_seen and all(f"zigbee2mqtt/{name}/set" in seen for name in LIGHTS)

    probe.wait(done, 5, f"commands and mode {mode.decode()}")


@contextlib.contextmanager
def running_home(
    *, verbose: bool = False, **overrides: Any
) -> Iterator[tuple[Mosquitto, Daemon, Probe]]:
    """A broker, the lights' retained reports, `cocoon run` online, and a probe listening to
    the `/set` topics and the mode; all stopped and removed afterwards, whatever happens."""
    with tempfile.TemporaryDirectory(prefix="cocoon-bench-") as name:
        directory = Path(name)
        broker = Mosquitto(directory / "broker")
        daemon: Daemon | None = None
        probe: Probe | None = None
        try:
            broker.start()
            data = home(broker.port, **overrides)
            state = directory / "state"
            state.mkdir()
            daemon = Daemon(write_config(directory, data), state, verbose=verbose)
            probe = Probe(broker.port, [*sorted(SET_TOPICS), MODE_TOPIC, f"{BASE}/status"])
            for light in LIGHTS:
                probe.publish(f"zigbee2mqtt/{light}", light_state(light), retain=True)
            probe.publish("zigbee2mqtt/radiator", b'{"current_heating_setpoint":20}', retain=True)
            daemon.start()
            probe.first(0, lambda topic, body: topic == MODE_TOPIC and body == b"off", 15)
            yield broker, daemon, probe
        finally:
            if probe is not None:
                probe.close()
            if daemon is not None:
                daemon.end()
            broker.stop()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def status_field(pid: int, key: str) -> int:
    """A number from /proc/<pid>/status (VmRSS is in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(key)


def context_switches(pid: int) -> int:
    """Voluntary context switches of all threads: how often the process went to sleep."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
    return total


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p99 of 300 is the 297th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(values),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "max": max(values),
    }


def print_table(title: str, rows: list[tuple[str, str, str]], verdict: bool) -> None:
    """The same layout as bench/plan_day.py."""
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    print(title)
    print(f"  {'metric':<{width[0]}}  {'value':>{width[1]}}  target")
    for metric, value, target in rows:
        print(f"  {metric:<{width[0]}}  {value:>{width[1]}}  {target}".rstrip())
    print(f"  targets {'met' if verdict else 'MISSED'}")
