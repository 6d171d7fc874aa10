"""Home Assistant killed (`kill -9`) or stopped during a calm mode, again and again.

cocoon drives two of Home Assistant's demo lights; its buttons come over MQTT. Each round
Home Assistant goes away at a random instant. While it is away (down, or booting again)
a dashboard ends the calm mode or presses it again, QoS 1 and acknowledged by the broker
while cocoon is connected to it; nothing visible happens, so it is sent once more a moment
later. Home Assistant comes back with its demo lights as they start (nothing like
cocoon's looks), so every round cocoon must reconnect and send what the last command
asked for: once Home Assistant runs again, the lights show the calm scene or what was
there before it (how long that took is recorded for bench/stress; only a stall of
`BACK_WITHIN` fails). No press lost.
"""

from __future__ import annotations

import math
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cocoon.adapters.topics import Topics

from ..brokers import Mosquitto
from ..daemon.harness import DaemonThread, Watcher, config_of, wait_until
from ..homeassistant import HomeAssistant
from . import knobs

pytestmark = pytest.mark.integration

# How long the lights may take to show the last command once Home Assistant runs again
# before the test calls it a stall (the figures themselves are recorded, not asserted).
BACK_WITHIN = 30.0
CEILING, KITCHEN = "light.ceiling_lights", "light.kitchen_lights"
Looks = dict[str, tuple[int, int] | None]
# Home Assistant brightness (0-255) and kelvin per light; None is off. The demo starts its
# lights on at 180 in other colours, so neither look is there by chance after a restart.
BEFORE: Looks = {CEILING: (130, 4000), KITCHEN: (100, 3000)}
CALM: Looks = {CEILING: (51, 2000), KITCHEN: None}


def _home(hass: HomeAssistant, broker: Mosquitto) -> dict[str, Any]:
    return {
        "home": {
            "name": "HA flat",
            "latitude": 50.85,
            "longitude": 4.35,
            "timezone": "Europe/Brussels",
        },
        "mqtt": {"host": broker.host, "port": broker.port, "client_id": "cocoon-ha-restarts"},
        "home_assistant": {"url": hass.url, "token": hass.token},
        "settings": {"rate_limit": 100},
        "devices": {"ceiling": {"entity": CEILING}, "kitchen": {"entity": KITCHEN}},
        "scenes": {
            "calm": {"lights": {"ceiling": {"brightness": 20, "kelvin": 2000}, "kitchen": "off"}}
        },
        "rituals": {},
        "calm_modes": {"calm_now": {"scene": "calm", "duration": "1h", "fade": 0}},
    }


def _set(hass: HomeAssistant, looks: Looks) -> None:
    for entity, look in looks.items():
        if look is None:
            hass.call_service("light", "turn_off", {"entity_id": entity})
        else:
            brightness, kelvin = look
            data = {"entity_id": entity, "brightness": brightness, "color_temp_kelvin": kelvin}
            hass.call_service("light", "turn_on", data)


def _shows(hass: HomeAssistant, looks: Looks) -> bool:
    """Whether every light shows its look (kelvin within 1 %: Home Assistant keeps mireds)."""
    for entity, look in looks.items():
        state = hass.get_state(entity) or {"state": "unknown", "attributes": {}}
        if look is None:
            if state["state"] != "off":
                return False
            continue
        brightness, kelvin = look
        shown = state["attributes"].get("color_temp_kelvin")
        if (
            state["state"] != "on"
            or state["attributes"].get("brightness") != brightness
            or shown is None
            or abs(shown - kelvin) > kelvin / 100
        ):
            return False
    return True


class _Dashboard(threading.Thread):
    """Sends a command after `delay` seconds, and again `again` seconds later."""

    def __init__(
        self, watcher: Watcher, command: tuple[str, str], delay: float, again: float
    ) -> None:
        super().__init__(daemon=True)
        self.watcher, self.command, self.delay, self.again = watcher, command, delay, again
        self.first = self.last = math.inf  # when each was acknowledged (monotonic)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            time.sleep(self.delay)
            self.watcher.publish(*self.command)  # acknowledged by the broker
            self.first = time.monotonic()
            time.sleep(self.again)
            self.watcher.publish(*self.command)
            self.last = time.monotonic()
        except BaseException as exc:  # the test reports it
            self.error = exc


def test_cocoon_converges_after_each_home_assistant_restart_and_loses_no_press(
    fresh_home_assistant: HomeAssistant, fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    hass, broker = fresh_home_assistant, fresh_mosquitto
    cfg = config_of(_home(hass, broker), tmp_path)
    topics = Topics.for_config(cfg)
    seed = knobs.SEED or random.randrange(1, 10**6)
    chance = random.Random(seed)
    rounds = knobs.rounds(3, knobs.HA_ROUNDS)
    _set(hass, BEFORE)
    watcher = Watcher(broker, [topics.availability, topics.mode])
    backs: list[float] = []
    boots: list[float] = []
    ends = {"kill": 0, "stop": 0}
    while_booting = 0
    try:
        with DaemonThread(cfg, tmp_path / "state") as running:
            gateway, engine = running.daemon.home_assistant, running.daemon.engine
            assert gateway is not None
            wait_until(lambda: watcher.last(topics.availability) == b"online", what="online")
            wait_until(lambda: gateway.connected, what="connected to Home Assistant")
            watcher.publish(topics.button("calm_now"), "PRESS")
            wait_until(lambda: _shows(hass, CALM), what="the calm scene")
            for number in range(rounds):
                where = f"round {number} of seed {seed}"
                if number % 2 == 0:
                    wanted, looks, command = b"Off", BEFORE, (topics.mode_set, "off")
                else:
                    wanted, looks, command = b"Calm now", CALM, (topics.button("calm_now"), "PRESS")
                time.sleep(chance.uniform(0, 0.5))  # a random instant: nothing to poll for
                end = chance.choice(sorted(ends))
                ends[end] += 1
                if end == "kill":
                    hass.kill()
                else:
                    hass.stop()
                wait_until(
                    lambda: not gateway.connected and "Home Assistant" in str(engine.problems),
                    timeout=5,
                    what=f"{where}: cocoon saying Home Assistant is unreachable",
                )
                # The command goes out at a random instant while Home Assistant is away:
                # down, or (past the downtime) booting again, which takes over a second.
                downtime = chance.uniform(0.2, 1.5)
                delay, again = chance.uniform(0, downtime + 0.3), chance.uniform(0.05, 0.3)
                dashboard = _Dashboard(watcher, command, delay, again)
                dashboard.start()
                time.sleep(downtime)
                booting = time.monotonic()
                hass.start()
                returned = time.monotonic()
                boots.append(returned - booting)
                dashboard.join()
                assert dashboard.error is None, f"{where}: {dashboard.error!r}"
                while_booting += dashboard.first > booting
                wait_until(
                    lambda looks=looks: gateway.connected and _shows(hass, looks),
                    timeout=BACK_WITHIN,
                    what=f"{where}: the lights showing what {wanted!r} asks for",
                )
                backs.append(time.monotonic() - returned)
                assert watcher.last(topics.mode) == wanted, where
                wait_until(
                    lambda: "Home Assistant" not in str(engine.problems),
                    what=f"{where}: the problem cleared",
                )
    finally:
        watcher.close()
    knobs.record(
        "ha-restart",
        rounds=rounds,
        seed=seed,
        max_converge_s=round(max(backs), 2),
        mean_converge_s=round(sum(backs) / len(backs), 2),
        converge_s=[round(b, 2) for b in backs],
        killed=ends["kill"],
        stopped=ends["stop"],
        pressed_while_booting=while_booting,
        max_boot_s=round(max(boots), 2),
    )
