"""How fast a press reaches the lights: "Calm now" pressed → first Zigbee2MQTT `/set`.

Run with `.venv/bin/python -m bench.press_latency` from the repository root (bench/run
does). A real Mosquitto on a free loopback port, `cocoon run` as a child process (the
test home, `rate_limit: 1000`), pressed twice over: with the example's own calm mode
(`fade: 3min`, config/cocoon.yaml: the first step of the fade must leave at the press, not
at the next fade step), and with `fade: 0` (the floor: a press that commands at once),
and, in this process, two MQTT connections driven from one thread (bench/_probe.py): one
presses at QoS 1, as Home Assistant's button does; the other stands in for Zigbee2MQTT,
hears the `/set` topics and reports each device's new state back. Both stamps come from
`time.perf_counter()` here.

Presses are sporadic, as a person's are: an idle pause of 50-150 ms before
each, so every press meets an idle daemon, as in a home. After each press the mode is set
back to `off` and the give-back commands are awaited, so every press changes something.
The broker's own round trip (publish → receive on one connection at QoS 1, same pattern)
is the floor under any daemon. The broker saves its database on every change, as
deploy/docker's does so that no press is lost to a crash; each QoS 1 press to cocoon's
persistent session is such a change. A second run against a broker that saves every 30
minutes (Mosquitto's default) shows what that durability costs. A shorter run of presses
at QoS 0, where cocoon owes the broker no PUBACK (and the broker saves nothing), tells
the two apart.
"""

from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Callable

from bench._daemon import running_home
from bench._measure import (
    print_table,
    quiet_exit_on_sigterm,
    summary,
)
from bench._probe import CALM_NOW, EXAMPLE_CALM, Probe, press_once

WARM_UP, PRESSES, QOS0_PRESSES, ROUND_TRIPS, PERIODIC_PRESSES = 20, 300, 100, 300, 100
EXAMPLE_PRESSES = 300
# Mosquitto's own default: the database saved every 30 minutes, not on every change.
PERIODIC_SAVES: dict[str, str | None] = {"autosave_interval": "1800", "autosave_on_changes": None}
TARGET_P50, TARGET_P99 = 2.0, 10.0
# The example's fade may cost a press at most this many times the p99 of `fade: 0`.
EXAMPLE_FACTOR = 3.0


def exactly(topic: str, body: bytes) -> Callable[[str, bytes], bool]:
    """A match for one message."""
    return lambda t, b: t == topic and b == body


def broker_round_trips(probe: Probe, rng: random.Random, count: int) -> list[float]:
    """Publish → receive on one client (the presser) at QoS 1, same idle pauses (ms)."""
    topic = f"bench/echo/{uuid.uuid4().hex[:8]}"
    probe.presser.subscribe(topic, qos=1)
    probe.pump(0.2)
    times: list[float] = []
    for i in range(count):
        probe.pump(rng.uniform(0.05, 0.15))
        mark = len(probe.inbox)
        body = str(i).encode()
        began = probe.press(topic, str(i))
        arrived = probe.first(mark, exactly(topic, body))
        times.append((arrived - began) * 1000)
    return times


def main() -> int:
    quiet_exit_on_sigterm()
    rng = random.Random(1)
    settings = {"rate_limit": 1000}
    with running_home(settings=settings, calm_modes=CALM_NOW) as (_, _, probe):
        for _ in range(WARM_UP):
            press_once(probe, rng)
        presses = [press_once(probe, rng) for _ in range(PRESSES)]
        at_qos0 = [press_once(probe, rng, qos=0) for _ in range(QOS0_PRESSES)]
        echo = broker_round_trips(probe, rng, ROUND_TRIPS)
    with running_home(settings=settings, calm_modes=EXAMPLE_CALM) as (_, _, probe):
        for _ in range(WARM_UP):
            press_once(probe, rng)
        faded = [press_once(probe, rng) for _ in range(EXAMPLE_PRESSES)]
    with running_home(settings=settings, calm_modes=CALM_NOW, broker_options=PERIODIC_SAVES) as (
        _,
        _,
        probe,
    ):
        for _ in range(WARM_UP):
            press_once(probe, rng)
        periodic = [press_once(probe, rng) for _ in range(PERIODIC_PRESSES)]
    press, qos0, rtt = summary(presses), summary(at_qos0), summary(echo)
    saving, example = summary(periodic), summary(faded)
    example_limit = EXAMPLE_FACTOR * press["p99"]
    rows = [
        ("example calm mode (fade 3min) → first /set: p50", f"{example['p50']:.2f} ms", ""),
        ("example calm mode (fade 3min) → first /set: p95", f"{example['p95']:.2f} ms", ""),
        (
            "example calm mode (fade 3min) → first /set: p99",
            f"{example['p99']:.2f} ms",
            f"≤ {EXAMPLE_FACTOR:g}× fade 0 p99 = {example_limit:.2f} ms",
        ),
        ("example calm mode (fade 3min) → first /set: max", f"{example['max']:.2f} ms", ""),
        ("fade 0: press → first /set: p50", f"{press['p50']:.2f} ms", f"≤ {TARGET_P50:g} ms"),
        ("fade 0: press → first /set: p95", f"{press['p95']:.2f} ms", ""),
        ("fade 0: press → first /set: p99", f"{press['p99']:.2f} ms", f"≤ {TARGET_P99:g} ms"),
        ("fade 0: press → first /set: max", f"{press['max']:.2f} ms", ""),
        ("fade 0: press → first /set: min", f"{min(presses):.2f} ms", ""),
        ("broker saving every 30 min: p50", f"{saving['p50']:.2f} ms", "(diagnostic)"),
        ("broker saving every 30 min: p99", f"{saving['p99']:.2f} ms", ""),
        ("press at QoS 0 → first /set: p50", f"{qos0['p50']:.2f} ms", "(diagnostic)"),
        ("press at QoS 0 → first /set: p99", f"{qos0['p99']:.2f} ms", ""),
        ("broker round trip: p50", f"{rtt['p50']:.2f} ms", "(reference)"),
        ("broker round trip: p95", f"{rtt['p95']:.2f} ms", ""),
        ("broker round trip: p99", f"{rtt['p99']:.2f} ms", ""),
        ("broker round trip: max", f"{rtt['max']:.2f} ms", ""),
    ]
    ok = (
        press["p50"] <= TARGET_P50
        and press["p99"] <= TARGET_P99
        and example["p99"] <= example_limit
    )
    print_table(
        f"press_latency: Mosquitto + `cocoon run`; {EXAMPLE_PRESSES} sporadic QoS 1 presses of"
        f" the example's calm mode and {PRESSES} of one with fade 0 (50-150 ms idle before each,"
        f" after {WARM_UP} warm-up), {QOS0_PRESSES} at QoS 0, {PERIODIC_PRESSES}"
        " with a broker that saves every 30 min;"
        f" {ROUND_TRIPS} broker round trips",
        rows,
        ok,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
