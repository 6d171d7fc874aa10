"""Mosquitto killed (`kill -9`) and restarted during a fade, again and again.

Each round a dashboard ends the calm mode or presses it again (QoS 1, acknowledged by the
broker while cocoon is connected; either way the lamp keeps fading). The broker dies at a
random instant soon after, stays down a random while and comes back with its persistence.
cocoon must be connected again within 10 s of the broker's return, and end each round in
the mode the last command asked for: no command lost.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.adapters.topics import Topics

from ..brokers import Mosquitto
from ..daemon.harness import DaemonThread, Watcher, config_of, home, wait_until
from . import knobs

pytestmark = pytest.mark.integration

# How long a reconnect may take before the test calls it a stall (the figures themselves
# are recorded for bench/stress, never asserted).
BACK_WITHIN = 30.0


def test_cocoon_comes_back_after_each_broker_kill_and_loses_no_command(
    fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    broker = fresh_mosquitto
    data = home(broker.port, rituals={})
    # A long fade sent as a step every 2 s, so every kill lands in the middle of one.
    data["calm_modes"]["calm_now"] = {"scene": "calm", "duration": "1h", "fade": "2min"}
    data["settings"] = {"rate_limit": 100, "fade_step": "2s"}
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    seed = knobs.SEED or random.randrange(1, 10**6)
    chance = random.Random(seed)
    rounds = knobs.rounds(3, knobs.BROKER_ROUNDS)
    sim = Zigbee2MqttSimulator(cfg, broker.host, broker.port)
    sim.start()
    sim.set_light("sofa_lamp", on=True, brightness_pct=70, kelvin=3500)
    watcher = Watcher(broker, [topics.availability, topics.mode])
    backs: list[float] = []
    fade_steps = 0
    try:
        with DaemonThread(cfg, tmp_path / "state") as running:
            link = running.daemon.link
            wait_until(lambda: watcher.last(topics.availability) == b"online", what="online")
            watcher.publish(topics.button("calm_now"), "PRESS")
            wait_until(lambda: watcher.last(topics.mode) == b"Calm now", what="the calm fade")
            for number in range(rounds):
                if number % 2 == 0:
                    wanted, command = b"Off", (topics.mode_set, "off")
                else:
                    wanted, command = b"Calm now", (topics.button("calm_now"), "PRESS")
                watcher.publish(*command)  # acknowledged by the broker
                time.sleep(chance.uniform(0, 0.3))  # a random instant: nothing to poll for
                broker.kill()
                time.sleep(chance.uniform(0.2, 1.5))  # a random downtime
                broker.start()
                returned = time.monotonic()
                where = f"round {number} of seed {seed}"
                wait_until(lambda: link.connected, timeout=BACK_WITHIN, what=f"{where}: back")
                backs.append(time.monotonic() - returned)
                wait_until(
                    lambda wanted=wanted: watcher.last(topics.mode) == wanted,
                    timeout=BACK_WITHIN,
                    what=f"{where}: mode {wanted!r} (asked for before the kill)",
                )
            fade_steps = len(sim.received("sofa_lamp"))
    finally:
        watcher.close()
        sim.stop()
    knobs.record(
        "broker-kill",
        rounds=rounds,
        seed=seed,
        max_back_s=round(max(backs), 2),
        mean_back_s=round(sum(backs) / len(backs), 2),
        fade_commands=fade_steps,
    )
