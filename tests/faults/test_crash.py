"""Crash anywhere: `kill -9` cocoon at random instants of an evening with calm-mode presses.

`cocoon run` is a child process on a real Mosquitto with the Zigbee2MQTT simulator. An
evening ritual holds the sofa lamp; each round presses "Calm now" (2 s), kills cocoon at a
random instant from the press to past the calm mode's end, and starts it again after a
random downtime. The first round always crashes mid-calm and comes back after the calm
mode's end, the case a restart handles worst. In every round the lamp must go calm exactly
once (no press lost to the crash, none doubled by a replayed press) and back to the
evening, the retained status must say `off` again, the ritual must start once in all, and
the devices must end as an uninterrupted run leaves them: the lamp in the ritual's scene,
the desk lamp and the radiator as they were.
"""

from __future__ import annotations

import json
import random
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.adapters.topics import Topics

from ..brokers import Mosquitto
from ..daemon.harness import (
    DaemonProcess,
    DaemonThread,
    Watcher,
    config_of,
    home,
    json_of,
    wait_until,
    write_config,
)
from . import knobs

pytestmark = pytest.mark.integration

CALM_SECONDS = 2.0
# What an uninterrupted evening leaves: the ritual's scene on the sofa (35 %, 2200 K), and
# the snapshot everywhere else (the desk lamp off, the radiator at 20 °C).
EXPECTED = {
    # 2200 K asked; the bulb shows no warmer than 2203 K (454 mireds).
    "sofa_lamp": {"state": "ON", "brightness": 89, "color_temp": 454},
    "desk_lamp": {"state": "OFF"},
    "radiator": {"current_heating_setpoint": 20},
}
FALSE_OVERRIDE = (
    "cocoon bug: after a restart, the retained Zigbee2MQTT report of a light (what the killed "
    "process last commanded) arrives after the new process already sent its own command "
    "(from the persisted hold's snapshot), so Engine._light_report / "
    "reconcile.manual_light_change take cocoon's own earlier command for a person's hand: "
    "'sofa changed by hand (brightness, kelvin): left alone until …' (the radiator too, via "
    "_climate_report). The lamp is then ignored for override_timeout (2 h): the next calm "
    "press leaves it alone. Happens whenever the target moved while cocoon was down (a calm "
    "mode or a ritual ended, a fade went on)"
)


def _evening_now(port: int) -> dict[str, object]:
    data = home(port)
    now = datetime.now(ZoneInfo("Europe/Brussels"))
    data["rituals"] = {
        # Due this minute (within grace), for two hours: in force for the whole test.
        "evening": {"at": f"{now:%H:%M}", "duration": "2h", "scene": "evening", "fade": 0}
    }
    data["calm_modes"]["calm_now"] = {"scene": "calm", "duration": f"{CALM_SECONDS:g}s", "fade": 0}
    return data


def _looks(sim: Zigbee2MqttSimulator) -> dict[str, dict[str, object]]:
    found = {}
    for name, wanted in EXPECTED.items():
        state = sim.state(name)
        found[name] = {key: state.get(key) for key in wanted}
        if state.get("state") == "OFF":
            found[name] = {"state": "OFF"}
    return found


def _sofa_looks(sim: Zigbee2MqttSimulator, since: float) -> list[str]:
    """What the sofa lamp was told since `since`, as a run of looks: calm, evening, other."""
    looks: list[str] = []
    for command in sim.received("sofa_lamp"):
        if float(str(command["received_at"])) < since:
            continue
        look = {51: "calm", 89: "evening"}.get(command.get("brightness"), "other")  # type: ignore[call-overload]
        if not looks or looks[-1] != look:
            looks.append(look)
    return looks


def _plan(chance: random.Random, number: int) -> tuple[float, float]:
    """When to kill (seconds after the press) and how long cocoon then stays down."""
    if number == 0:
        kill = chance.uniform(0.3, 1.5)
        return kill, CALM_SECONDS + 0.5 - kill  # back only after the calm mode's end
    return chance.uniform(0, CALM_SECONDS + 0.5), chance.uniform(0, 1.0)


def test_kill_9_at_random_instants_loses_and_doubles_no_calm_mode(
    fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    broker = fresh_mosquitto
    data = _evening_now(broker.port)
    config = write_config(tmp_path, data)
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    seed = knobs.SEED or random.randrange(1, 10**6)
    chance = random.Random(seed)
    rounds = knobs.rounds(5, knobs.KILL_ROUNDS)
    sim = Zigbee2MqttSimulator(cfg, broker.host, broker.port)
    sim.start()
    sim.set_light("sofa_lamp", on=True, brightness_pct=70, kelvin=3500)
    watcher = Watcher(broker, [topics.availability, topics.state])
    daemon = DaemonProcess(config, tmp_path / "state")
    restarts: list[float] = []
    plans: list[tuple[float, float]] = []
    passed = 0

    def start() -> None:
        seen = watcher.seen(topics.availability).count(b"online")
        begun = time.monotonic()
        daemon.start()
        wait_until(lambda: watcher.seen(topics.availability).count(b"online") > seen, what="online")
        restarts.append(time.monotonic() - begun)

    try:
        start()
        wait_until(lambda: _looks(sim) == EXPECTED, what=f"the evening scene {_looks(sim)}")
        for number in range(rounds):
            since = time.monotonic()
            watcher.publish(topics.button("calm_now"), "PRESS")
            kill, down = _plan(chance, number)
            plans.append((round(kill, 3), round(down, 3)))
            time.sleep(kill)  # the random instants are the point: nothing to poll for
            daemon.kill()
            time.sleep(down)
            start()
            where = f"round {number} of seed {seed}, kill {kill:.3f} s after the press"
            _settle(sim, watcher, topics, daemon, since, where)
            looks = _sofa_looks(sim, since)
            assert looks.count("calm") == 1, f"{where}: the lamp went {looks}"
            assert "other" not in looks, f"{where}: the lamp went {looks}"
            wait_until(
                lambda: (json_of(watcher.last(topics.state)) or {}).get("mode") == "off",
                what=f"{where}: the retained status back to off",
            )
            passed += 1
        log = daemon.log()
        assert log.count("ritual evening started") == 1, "the ritual started more than once"
        assert "Traceback" not in log
    finally:
        daemon.kill()
        watcher.close()
        sim.stop()
        knobs.record(
            "kill-9",
            rounds=rounds,
            rounds_passed=passed,
            seed=seed,
            kill_and_down_s=plans,
            max_restart_to_online_s=round(max(restarts), 2),
            mean_restart_to_online_s=round(sum(restarts) / len(restarts), 2),
        )


def _settle(
    sim: Zigbee2MqttSimulator,
    watcher: Watcher,
    topics: Topics,
    daemon: DaemonProcess,
    since: float,
    where: str,
) -> None:
    """Wait for the round's calm and the evening after it; say all that was seen if not."""

    def settled() -> bool:
        looks = _sofa_looks(sim, since)
        return "calm" in looks and looks[-1] == "evening" and _looks(sim) == EXPECTED

    try:
        wait_until(settled, timeout=60, what=f"{where}: calm, then the evening again")
    except AssertionError as exc:
        documents = [json.loads(d) for d in watcher.seen(topics.state)]
        seen = [(d["mode"], d["calm_until"]) for d in documents[-4:]]
        tail = "\n".join(daemon.log().splitlines()[-30:])
        looks = _sofa_looks(sim, since)
        raise AssertionError(f"{exc}\nlooks: {looks}\nstatuses: {seen}\nlog:\n{tail}") from None


def test_a_restart_after_the_calm_mode_ended_takes_no_report_for_a_persons_hand(
    fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    broker = fresh_mosquitto
    data = _evening_now(broker.port)  # the ritual keeps holding the lamp after the calm mode
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    sim = Zigbee2MqttSimulator(cfg, broker.host, broker.port)
    sim.start()
    sim.set_light("sofa_lamp", on=True, brightness_pct=70, kelvin=3500)
    watcher = Watcher(broker, [topics.availability])
    try:
        with DaemonThread(cfg, tmp_path / "state") as first:
            wait_until(lambda: watcher.last(topics.availability) == b"online", what="online")
            wait_until(lambda: _looks(sim) == EXPECTED, what="the evening scene")
            watcher.publish(topics.button("calm_now"), "PRESS")
            wait_until(lambda: sim.state("sofa_lamp").get("brightness") == 51, what="calm")
            ends = first.daemon.engine.state.calm["calm_now"].end
        # cocoon is away while the calm mode ends; asked at start, the lamp says calm.
        wait_until(lambda: datetime.now(ends.tzinfo) > ends, what="the calm mode's end")
        with DaemonThread(cfg, tmp_path / "state") as second:
            wait_until(lambda: _looks(sim) == EXPECTED, what="the evening scene again")
            wait_until(lambda: "sofa" in second.daemon.engine.readings.devices, what="a report")
            engine = second.daemon.engine
            wait_until(lambda: engine.queue.empty(), what="the reports handled")
            overridden = {d: h.override for d, h in engine.state.holds.items() if h.override}
            assert overridden == {}
    finally:
        watcher.close()
        sim.stop()
