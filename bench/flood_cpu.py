"""What a flood of Zigbee2MQTT traffic costs cocoon: 10 000 messages a second for 10 s.

Run with `.venv/bin/python -m bench.flood_cpu` from the repository root (bench/run does).
A real Mosquitto on a free loopback port, `cocoon run` as a child process (the test home),
and a flood client paced to 10 000 QoS 0 messages a second, in two runs:

- `other devices`: state reports of 100 Zigbee2MQTT devices cocoon does not know
  (`zigbee2mqtt/other_device_N`); the broker should keep them from cocoon altogether.
- `own light, same state`: the sofa lamp's state, identical every time, on a topic
  cocoon subscribes to; each one reaches cocoon and changes nothing.

cocoon's CPU time (utime + stime from /proc/<pid>/stat) over the 10 s window is given as
a share of one core. Right after each flood, "Calm now" is pressed and the time to the
first `/set` is taken: it includes whatever backlog cocoon still has to work through.
For reference, the same flood goes to a bare paho subscriber that only parses the JSON:
the floor for any daemon built on paho, on this machine.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time

import paho.mqtt.client as mqtt
from tests.faults.load import flood, publish_packet

from bench._daemon import running_home
from bench._measure import (
    cpu_seconds,
    pid_of,
    print_table,
    quiet_exit_on_sigterm,
    status_field,
)
from bench._probe import (
    CALM_NOW,
    MODE_SET,
    PRESS_TOPIC,
    SET_TOPICS,
    Probe,
    client,
    press_once,
    settle,
)

# The floor: a bare paho subscriber (MQTT 5 like cocoon, its own process, loop_forever)
# that only parses each message's JSON, under the same flood.
BARE_SUBSCRIBER = """
import json, sys
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
bare = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
bare.on_message = lambda c, u, m: json.loads(m.payload)
bare.on_subscribe = lambda *args: print("ready", flush=True)
bare.on_connect = lambda c, *args: c.subscribe(sys.argv[2], 1)
bare.connect("127.0.0.1", int(sys.argv[1]))
bare.loop_forever()
"""
RATE, SECONDS = 10_000, 10.0
TARGET_CPU = 25.0  # percent of one core
CATCH_UP_TIMEOUT = 300.0


def timed_flood(sender: mqtt.Client, topics: list[str], payload: bytes) -> tuple[int, float]:
    """Publish at RATE messages a second for SECONDS; returns (sent, seconds taken)."""
    packets = [publish_packet(topic, payload) for topic in topics]
    began = time.perf_counter()
    sent = flood(sender, packets, RATE, SECONDS)
    return sent, time.perf_counter() - began


def one_run(
    name: str, pids: tuple[int, int], probe: Probe, port: int, topics: list[str], payload: bytes
) -> tuple[list[tuple[str, str, str]], float]:
    """Flood, measure, press right after; the table rows of this run and cocoon's CPU %."""
    pid, broker_pid = pids
    sender = client(port)
    sender.loop(timeout=1)
    probe.follow_reports(False)  # the listener need not hear 100 000 reports
    probe.pump(1.0)
    mark = len(probe.inbox)
    rss_before = status_field(pid, "VmRSS") / 1024
    cpu_before, broker_before, own_before = cpu_seconds(pid), cpu_seconds(broker_pid), own_cpu()
    sent, took = timed_flood(sender, topics, payload)
    cpu_window = cpu_seconds(pid) - cpu_before
    broker_share = (cpu_seconds(broker_pid) - broker_before) / took * 100
    own_share = (own_cpu() - own_before) / took * 100
    commands = sum(1 for _, topic, _ in probe.inbox[mark:] if topic in SET_TOPICS)
    rss_after = status_field(pid, "VmRSS") / 1024
    # Right after the flood: whatever cocoon has not yet read is ahead of this press.
    pressed = len(probe.inbox)
    began = probe.press(PRESS_TOPIC, "PRESS")
    arrived = probe.first(pressed, lambda topic, _: topic in SET_TOPICS, CATCH_UP_TIMEOUT)
    cpu_total = cpu_seconds(pid) - cpu_before
    settle(probe, pressed, b"Calm now")
    sender.disconnect()
    probe.follow_reports(True)
    mark = len(probe.inbox)
    probe.press(MODE_SET, "off")
    settle(probe, mark, b"Off")
    share = cpu_window / took * 100
    return [
        (f"{name}: sent", f"{sent} in {took:.2f} s ({sent / took:,.0f}/s)", f"{RATE:,}/s"),
        (f"{name}: cocoon CPU in window", f"{share:.1f} %", f"< {TARGET_CPU:g} %"),
        (f"{name}: mosquitto / flood client CPU", f"{broker_share:.0f} % / {own_share:.0f} %", ""),
        (f"{name}: commands sent during flood", f"{commands}", "0"),
        (f"{name}: press right after → /set", f"{(arrived - began) * 1000:.1f} ms", "answered"),
        (f"{name}: cocoon CPU until then", f"{cpu_total:.2f} s", ""),
        (f"{name}: RSS before → after flood", f"{rss_before:.1f} → {rss_after:.1f} MB", ""),
    ], share


def bare_paho(port: int, topic: str, payload: bytes) -> tuple[str, str, str]:
    """The same flood into a bare paho subscriber: what any paho-based daemon pays."""
    command = [sys.executable, "-c", BARE_SUBSCRIBER, str(port), topic]
    bare = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert bare.stdout is not None
        bare.stdout.readline()
        sender = client(port)
        sender.loop(timeout=1)
        before = cpu_seconds(bare.pid)
        _, took = timed_flood(sender, [topic], payload)
        share = (cpu_seconds(bare.pid) - before) / took * 100
        sender.disconnect()
    finally:
        bare.terminate()
        bare.wait(10)
    return ("reference: bare paho subscriber CPU", f"{share:.1f} %", "(same flood, json only)")


def own_cpu() -> float:
    """CPU seconds of this process (the flood client and the probe)."""
    return time.process_time()


def main() -> int:
    quiet_exit_on_sigterm()
    rng = random.Random(1)
    rows: list[tuple[str, str, str]] = []
    shares: list[float] = []
    with running_home(settings={"rate_limit": 1000}, calm_modes=CALM_NOW) as (
        broker,
        daemon,
        probe,
    ):
        for _ in range(5):
            press_once(probe, rng)
        others = [f"zigbee2mqtt/other_device_{i}" for i in range(100)]
        other_state = b'{"state":"ON","brightness":200,"linkquality":87}'
        sofa_state = json.dumps(probe.devices["sofa_lamp"]).encode()
        runs = [
            ("other devices", others, other_state),
            ("own light, same state", ["zigbee2mqtt/sofa_lamp"], sofa_state),
        ]
        pids = daemon.pid, pid_of(str(broker.config_path))
        for name, topics, payload in runs:
            run_rows, share = one_run(name, pids, probe, broker.port, topics, payload)
            shares.append(share)
            rows.extend(run_rows)
        vm_hwm = status_field(daemon.pid, "VmHWM") / 1024
        rows.append(("cocoon peak RSS (VmHWM)", f"{vm_hwm:.1f} MB", ""))
        rows.append(bare_paho(broker.port, "zigbee2mqtt/sofa_lamp", sofa_state))
    ok = all(share < TARGET_CPU for share in shares)
    print_table(
        f"flood_cpu: Mosquitto + `cocoon run`; {RATE:,} QoS 0 messages/s for {SECONDS:g} s"
        " per run; CPU as % of one core",
        rows,
        ok,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
