"""The whole loop against a real Home Assistant: cocoon next to HA's own automation engine.

Run with `.venv/bin/python bench/ha_loop.py [--rounds N]` (bench/run runs it as
`python -m bench.ha_loop`; about 4.5 min for 300 rounds). It boots Mosquitto and Home
Assistant 2024.3.3 (`.ha-venv`, see tests/homeassistant.py) on free loopback ports, and
`cocoon run` as a child process, and measures two systems from ONE process (one clock
for both stamps):

- native: a Home Assistant automation, MQTT trigger on `bench/native` →
  `light.turn_on` of `light.bed_light` with the payload as brightness. t0 = just before
  publishing a new brightness; t1 = the `state_changed` of the bed light with it.
- cocoon: "Calm now" pressed, that is `PRESS` on `cocoon/<home>/button/calm_now/press`
  at QoS 1, exactly what Home Assistant publishes when the dashboard button is pressed.
  The calm scene sets one light, `light.ceiling_lights`, to 20 % / 2000 K at once
  (`fade: 0`). t1 = the `state_changed` of the ceiling at brightness 51 (20 % of 255).
  Then, untimed, the mode goes back to `off` and the ceiling back to its 200, so every
  press is a real change (a second `off` when cocoon does not give back at once, see
  `Bench.give_back`), and 0.2 s pass for cocoon's status publish.

The measuring process has a paho 2.x publisher without a network thread (`publish()`
writes to the socket in the calling thread; `loop(0)` runs between rounds) and one raw
`websockets` connection to Home Assistant subscribed to `state_changed`; both stamps
come from `time.perf_counter()` here. The systems take turns round-robin with rotation,
each timed publish comes after a random 50-150 ms idle pause (a loop that only wakes
when something else wakes it is caught this way), 20 warm-up rounds are dropped and
percentiles are nearest-rank. Readiness is probed end to end (the automation's MQTT
subscription goes live after its entity says `on`). Everything stays on 127.0.0.1.

`--verbose` runs cocoon with `-v` (debug log, slower) and `--keep DIR` keeps every log,
`--samples FILE` writes each round trip as JSON, `--profile FILE` runs cocoon under
cProfile: these are for finding where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402
from tests.brokers import Mosquitto  # noqa: E402
from tests.daemon.harness import DaemonProcess, write_config  # noqa: E402
from tests.ha.test_home_assistant import CEILING, ha_home  # noqa: E402
from tests.homeassistant import HomeAssistant, oldest  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from cocoon.adapters.topics import Topics  # noqa: E402
from cocoon.config.load import load_config  # noqa: E402

WARM_UP, ROUNDS = 20, 300
PAUSE = (0.050, 0.150)  # idle before every timed publish, seconds
TIMEOUT = 2.0  # a round without its state change in this time is lost
SETTLE_TIMEOUT = 5.0  # untimed waits (give-back, readiness)
GIVE_BACK_WAIT = 0.3  # then a second `off` (see Bench.give_back)
STATUS_SETTLE = 0.2  # untimed, after each give-back (see Bench.give_back)
PROBES = 10
QOS = 1  # what Home Assistant's MQTT button sends; the same for the native trigger
TARGET_RATIO = 1.0  # cocoon / native, for p50 and p99

BED = "light.bed_light"
NATIVE_TOPIC = "bench/native"
CALM_BRIGHTNESS = 51  # 20 % of 255
BEFORE = {"brightness": 200, "color_temp_kelvin": 4000}  # the ceiling before each press
AUTOMATION = f"""\
automation:
  - id: bench_native
    alias: bench native
    mode: queued
    trigger:
      - platform: mqtt
        topic: {NATIVE_TOPIC}
    action:
      - service: light.turn_on
        target:
          entity_id: {BED}
        data:
          brightness: "{{{{ trigger.payload | int }}}}"
"""


def brightness_of(state: dict[str, Any] | None) -> int | None:
    """A light's brightness, 0 when off, None when unknown."""
    if not state:
        return None
    if state.get("state") == "off":
        return 0
    value = (state.get("attributes") or {}).get("brightness")
    return None if value is None else int(value)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the ceil(share * n)-th smallest."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]


# -- the measuring client: Home Assistant's websocket -------------------------------------


@dataclass
class Wanted:
    entity: str
    match: Callable[[dict[str, Any]], bool]
    found: asyncio.Future[tuple[float, dict[str, Any]]]


@dataclass
class Watcher:
    """One websocket subscribed to `state_changed`; stamps each event as `recv` returns it."""

    ws: ClientConnection
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    wanted: list[Wanted] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, token: str) -> Watcher:
        ws = await connect(url, max_size=2**24, proxy=None, open_timeout=10)
        hello = json.loads(await ws.recv())
        if hello.get("type") != "auth_required":
            raise RuntimeError(f"unexpected greeting from Home Assistant: {hello}")
        await ws.send(json.dumps({"type": "auth", "access_token": token}))
        answer = json.loads(await ws.recv())
        if answer.get("type") != "auth_ok":
            raise RuntimeError(f"Home Assistant refused the token: {answer}")
        await ws.send(
            json.dumps({"id": 1, "type": "subscribe_events", "event_type": "state_changed"})
        )
        await ws.send(json.dumps({"id": 2, "type": "get_states"}))
        watcher = cls(ws)
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("id") == 2 and reply.get("type") == "result":
                for state in reply.get("result") or []:
                    watcher.states[state["entity_id"]] = state
                break
        watcher.reader = asyncio.create_task(watcher._read())
        return watcher

    async def _read(self) -> None:
        async for raw in self.ws:
            stamp = time.perf_counter()
            message = json.loads(raw)
            if message.get("type") != "event":
                continue
            event = message.get("event") or {}
            data = event.get("data") or {}
            entity, new = data.get("entity_id"), data.get("new_state")
            if not isinstance(entity, str) or not isinstance(new, dict):
                continue
            self.states[entity] = new
            for want in self.wanted:
                if want.entity == entity and not want.found.done() and want.match(new):
                    want.found.set_result((stamp, event))

    def expect(self, entity: str, match: Callable[[dict[str, Any]], bool]) -> Wanted:
        """Start watching for a state change of `entity` that matches (before publishing)."""
        want = Wanted(entity, match, asyncio.get_running_loop().create_future())
        self.wanted.append(want)
        return want

    async def result(self, want: Wanted, timeout: float) -> tuple[float, dict[str, Any]] | None:
        """(perf_counter stamp, event) of the match, or None after `timeout` seconds."""
        try:
            return await asyncio.wait_for(asyncio.shield(want.found), timeout)
        except TimeoutError:
            return None
        finally:
            self.wanted.remove(want)

    async def until(
        self,
        entity: str,
        match: Callable[[dict[str, Any]], bool],
        what: str,
        timeout: float = SETTLE_TIMEOUT,
        *,
        fail: bool = True,
    ) -> bool:
        """Wait (untimed) until the latest state matches; False on timeout unless `fail`."""
        want = self.expect(entity, match)
        if self.states.get(entity) is not None and match(self.states[entity]):
            self.wanted.remove(want)
            return True
        if await self.result(want, timeout) is not None:
            return True
        if fail:
            raise TimeoutError(f"{what}: {entity} is {self.states.get(entity)}")
        return False

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 2)


# -- the measuring client: the MQTT publisher ---------------------------------------------


def publisher(port: int) -> mqtt.Client:
    """A connected paho client without a network thread, Nagle off."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-ha-{uuid.uuid4().hex[:8]}")
    client.on_socket_open = lambda c, u, sock: sock.setsockopt(  # type: ignore[attr-defined]
        socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
    )
    client.connect("127.0.0.1", port)
    deadline = time.monotonic() + 5
    while not client.is_connected():
        if time.monotonic() > deadline:
            raise TimeoutError("the publisher could not connect to Mosquitto")
        client.loop(0.05)
    return client


# -- the two systems ----------------------------------------------------------------------


@dataclass
class Sample:
    system: str
    round: int
    ms: float | None  # None: lost
    fired_ms: float | None  # Home Assistant's time_fired of the state change, after t0
    before: str | None  # the system measured just before in this round
    stuck: bool = False  # cocoon: the give-back needed a second `off`


class Bench:
    def __init__(
        self, pub: mqtt.Client, watch: Watcher, topics: Topics, rng: random.Random
    ) -> None:
        self.pub = pub
        self.watch = watch
        self.topics = topics
        self.rng = rng
        self.select = f"select.{topics.node_id}_mode"
        self.stuck = 0  # hand-backs that needed a second `off`

    async def idle(self) -> None:
        await asyncio.sleep(self.rng.uniform(*PAUSE))

    async def timed(
        self, topic: str, payload: str, entity: str, match: Callable[[dict[str, Any]], bool]
    ) -> tuple[float | None, float | None]:
        """Publish after an idle pause; ms until the matching state change and until HA fired it."""
        await self.idle()
        want = self.watch.expect(entity, match)
        wall = time.time()
        began = time.perf_counter()
        self.pub.publish(topic, payload, qos=QOS)
        got = await self.watch.result(want, TIMEOUT)
        if got is None:
            return None, None
        stamp, event = got
        fired = datetime.fromisoformat(event["time_fired"]).timestamp()
        return (stamp - began) * 1000, (fired - wall) * 1000

    async def native(self, level: int) -> tuple[float | None, float | None]:
        return await self.timed(NATIVE_TOPIC, str(level), BED, lambda s: brightness_of(s) == level)

    async def cocoon(self) -> tuple[float | None, float | None]:
        result = await self.timed(
            self.topics.button("calm_now"),
            "PRESS",
            CEILING,
            lambda s: brightness_of(s) == CALM_BRIGHTNESS,
        )
        await self.give_back(pressed=result[0] is not None)
        return result

    async def give_back(self, *, pressed: bool) -> None:
        """Untimed: let the calm mode settle, end it, wait for the ceiling's 200 and `off`.

        cocoon does not give back at the instant `off` ends a calm mode with `fade: 0`
        (the layer still has full weight at its end instant and no wake-up is armed after
        it), only at its next event. When nothing comes within GIVE_BACK_WAIT, a second
        `off` is that event; such rounds are counted (`stuck`).
        """
        if pressed:
            await self.watch.until(self.select, lambda s: s.get("state") == "calm_now", "mode")
        self.pub.publish(self.topics.mode_set, "off", qos=QOS)
        level = BEFORE["brightness"]

        def given_back(state: dict[str, Any]) -> bool:
            return brightness_of(state) == level

        if not await self.watch.until(CEILING, given_back, "", GIVE_BACK_WAIT, fail=False):
            self.stuck += 1
            await self.watch.until(self.select, lambda s: s.get("state") == "off", "mode off")
            self.pub.publish(self.topics.mode_set, "off", qos=QOS)
            await self.watch.until(CEILING, given_back, "give-back after a second `off`")
        await self.watch.until(self.select, lambda s: s.get("state") == "off", "mode off")
        # cocoon publishes its status (retained, QoS 1) 50 ms after a change, and the test
        # broker saves its database on every change: let both pass before the next pause.
        await asyncio.sleep(STATUS_SETTLE)
        self.pub.loop(0)

    async def probe(self, name: str, run: Callable[[], Any]) -> int:
        """End-to-end readiness: up to PROBES tries; returns how many it took."""
        for attempt in range(1, PROBES + 1):
            ms, _ = await run()
            self.pub.loop(0)
            if ms is not None:
                return attempt
        raise RuntimeError(f"{name} never answered a probe ({PROBES} tries, {TIMEOUT:g} s each)")


def level_of(i: int) -> int:
    """Brightness of round i for the native system: 20..249, never the previous one."""
    return 20 + (37 * i) % 230


# -- processes ----------------------------------------------------------------------------


class Cocoon(DaemonProcess):
    """`cocoon run` as a child process: `-v` only when asked, cProfile on request."""

    def __init__(
        self, config: Path, state_dir: Path, *, verbose: bool, profile: Path | None
    ) -> None:
        super().__init__(config, state_dir, verbose=verbose)
        self.profile = profile

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_PROXY": "127.0.0.1,localhost"}
        env["no_proxy"] = env["NO_PROXY"]
        runner = ["-m", "cProfile", "-o", str(self.profile)] if self.profile else []
        flags = ["-v"] if self.verbose else []
        command = [sys.executable, *runner, "-m", "cocoon", *flags, "run"]
        command += ["--config", str(self.config), "--state-dir", str(self.state_dir)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def cocoon_config(hass: HomeAssistant, broker: Mosquitto) -> dict[str, Any]:
    """The HA test home cut down to one light: "Calm now" sets the ceiling to 20 % / 2000 K."""
    return ha_home(
        hass,
        broker,
        settings={"rate_limit": 100},
        devices={"ceiling": {"entity": CEILING}},
        scenes={"calm": {"lights": {"ceiling": {"brightness": 20, "kelvin": 2000}}}},
        rituals={},
        calm_modes={"calm_now": {"scene": "calm", "duration": "1h", "fade": 0}},
        plants={},
    )


@contextlib.contextmanager
def workdir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    directory = Path(tempfile.mkdtemp(prefix="cocoon-ha-loop-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# -- the run ------------------------------------------------------------------------------


async def measure(
    args: argparse.Namespace, hass: HomeAssistant, broker: Mosquitto, topics: Topics
) -> list[Sample]:
    rng = random.Random(args.seed)
    pub = publisher(broker.port)
    watch = await Watcher.open(hass.ws_url, hass.token)
    try:
        bench = Bench(pub, watch, topics, rng)
        await watch.until(
            bench.select, lambda s: s.get("state") == "off", "cocoon's mode select", 15
        )
        levels = iter(range(3, 3 + PROBES))  # never a level of the measured rounds
        native_tries = await bench.probe("native", lambda: bench.native(next(levels)))
        cocoon_tries = await bench.probe("cocoon", bench.cocoon)
        print(
            f"  readiness probes: native {native_tries}, cocoon {cocoon_tries} tries",
            file=sys.stderr,
        )
        systems: dict[str, Callable[[int], Any]] = {
            "native": lambda i: bench.native(level_of(i)),
            "cocoon": lambda i: bench.cocoon(),
        }
        names = list(systems)
        samples: list[Sample] = []
        for i in range(args.warmup + args.rounds):
            order = names[i % len(names) :] + names[: i % len(names)]
            before: str | None = None
            for name in order:
                stuck = bench.stuck
                ms, fired = await systems[name](i)
                pub.loop(0)
                if i >= args.warmup:
                    sample = Sample(name, i - args.warmup, ms, fired, before, bench.stuck > stuck)
                    samples.append(sample)
                before = name
        return samples
    finally:
        await watch.close()
        pub.disconnect()


def report(args: argparse.Namespace, samples: list[Sample], boot: float, version: str) -> bool:
    stats: dict[str, dict[str, float]] = {}
    lost: dict[str, int] = {}
    fired: dict[str, float] = {}
    for name in ("native", "cocoon"):
        times = [s.ms for s in samples if s.system == name and s.ms is not None]
        lost[name] = sum(1 for s in samples if s.system == name and s.ms is None)
        fired_times = [s.fired_ms for s in samples if s.system == name and s.fired_ms is not None]
        fired[name] = percentile(fired_times, 0.5) if fired_times else math.nan
        stats[name] = {
            "p50": percentile(times, 0.50) if times else math.nan,
            "p95": percentile(times, 0.95) if times else math.nan,
            "p99": percentile(times, 0.99) if times else math.nan,
            "min": min(times) if times else math.nan,
            "max": max(times) if times else math.nan,
        }
    ratio = {k: stats["cocoon"][k] / stats["native"][k] for k in ("p50", "p95", "p99")}
    ok = ratio["p50"] <= TARGET_RATIO and ratio["p99"] <= TARGET_RATIO and lost["cocoon"] == 0
    print(
        f"ha_loop: Mosquitto + Home Assistant {version} + `cocoon run`; MQTT publish → "
        f"state_changed on HA's websocket; {args.rounds} rounds per system after "
        f"{args.warmup} warm-up, interleaved, {PAUSE[0] * 1000:.0f}-{PAUSE[1] * 1000:.0f} ms "
        f"idle before each publish, QoS {QOS}; boot {boot:.1f} s"
    )
    header = ("system", "p50", "p95", "p99", "min", "max", "lost", "HA fired p50")
    rows: list[tuple[str, ...]] = [header]
    for name, label in (("native", "native automation"), ("cocoon", "cocoon calm_now")):
        s = stats[name]
        rows.append(
            (
                label,
                *(f"{s[k]:.2f}" for k in ("p50", "p95", "p99", "min", "max")),
                f"{lost[name]}/{args.rounds}",
                f"{fired[name]:.2f}",
            )
        )
    rows.append(
        (
            "cocoon / native",
            f"{ratio['p50']:.2f}x",
            f"{ratio['p95']:.2f}x",
            f"{ratio['p99']:.2f}x",
            "",
            "",
            "",
            "",
        )
    )
    width = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        cells = [
            f"{row[0]:<{width[0]}}",
            *(f"{c:>{w}}" for c, w in zip(row[1:], width[1:], strict=True)),
        ]
        print("  " + "  ".join(cells).rstrip())
        if index == 0:
            print("  " + "  ".join("-" * w for w in width))
    print("  (ms; HA fired = Home Assistant's time_fired of the state change after t0)")
    stuck = sum(1 for s in samples if s.stuck)
    cocoon_rounds = sum(1 for s in samples if s.system == "cocoon")
    why = " (cocoon gave nothing back when `off` ended the calm mode)" if stuck else ""
    print(f"  untimed hand-backs that needed a second `off`: {stuck}/{cocoon_rounds}{why}")
    print(
        f"  target: cocoon/native ≤ {TARGET_RATIO:g}x at p50 and p99, no cocoon round lost"
        f" ({TIMEOUT:g} s timeout)"
    )
    print(f"  targets {'met' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="measured rounds per system")
    parser.add_argument("--warmup", type=int, default=WARM_UP, help="warm-up rounds (dropped)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the idle pauses")
    parser.add_argument("--verbose", action="store_true", help="run cocoon with -v (debug log)")
    parser.add_argument("--keep", type=Path, help="keep configs and logs in this directory")
    parser.add_argument("--samples", type=Path, help="write every round trip to this JSON file")
    parser.add_argument("--profile", type=Path, help="run cocoon under cProfile, stats to FILE")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with workdir(args.keep) as directory:
        broker = Mosquitto(directory / "broker")
        hass: HomeAssistant | None = None
        daemon: Cocoon | None = None
        try:
            started = time.monotonic()
            broker.start()
            (directory / "hass").mkdir(exist_ok=True)
            hass = HomeAssistant(directory / "hass", broker.port, extra_yaml=AUTOMATION)
            hass.start()
            hass.wait_for_state("automation.bench_native", lambda s: s["state"] == "on")
            hass.call_service("light", "turn_on", {"entity_id": CEILING, **BEFORE})
            hass.wait_for_state(CEILING, lambda s: brightness_of(s) == BEFORE["brightness"])
            state = directory / "state"
            state.mkdir(exist_ok=True)
            config = write_config(directory, cocoon_config(hass, broker))
            topics = Topics.for_config(load_config(config))
            profile = args.profile.resolve() if args.profile else None
            daemon = Cocoon(config, state, verbose=args.verbose, profile=profile)
            daemon.start()
            hass.wait_for_state(
                f"button.{topics.node_id}_calm_calm_now",
                lambda s: s["state"] != "unavailable",
                timeout=30,
            )
            boot = time.monotonic() - started
            samples = asyncio.run(measure(args, hass, broker, topics))
        except BaseException:
            if daemon is not None:
                tail = "\n".join(daemon.log().splitlines()[-30:])
                print(f"cocoon's log ends with:\n{tail}", file=sys.stderr)
            if hass is not None:
                print(f"Home Assistant's log ends with:\n{hass.log_tail(20)}", file=sys.stderr)
            raise
        finally:
            if daemon is not None:
                daemon.end()
            if hass is not None:
                hass.stop()
            broker.stop()
    if args.samples is not None:
        args.samples.write_text(json.dumps([s.__dict__ for s in samples], indent=0))
    ok = report(args, samples, boot, oldest().version or "(not installed)")
    code = None if daemon is None or daemon.process is None else daemon.process.returncode
    if code not in (0, None):
        print(f"  cocoon exited with {code} after SIGTERM")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
