"""cocoon against Zigbee2MQTT as it really is: silent devices, a bridge that goes away,
devices that clamp and round, colours chosen by hand (the simulator with its defaults)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.adapters.topics import Topics
from cocoon.core.events import Press

from ..brokers import Mosquitto
from .harness import DaemonProcess, DaemonThread, Watcher, config_of, home, wait_until, write_config

pytestmark = pytest.mark.integration

PRESS_TOPIC = "cocoon/test_flat/button/calm_now/press"


def _look(sim: Zigbee2MqttSimulator, name: str) -> tuple[object, ...]:
    state = sim.state(name)
    if state.get("state") != "ON":
        return ("OFF",)
    if state.get("color_mode") == "xy":
        return state["brightness"], state["color"]
    return state["brightness"], state["color_temp"]


def _calm(duration: str, **heat: str) -> dict[str, Any]:
    return {"scene": "calm", "duration": duration, "fade": 0, **heat}


def test_a_cocoon_run_started_after_silent_devices_drives_them_on_the_first_press(
    fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = home(fresh_mosquitto.port)
    data["calm_modes"]["calm_now"] = _calm("3s")
    config = write_config(tmp_path, data)
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    sim = Zigbee2MqttSimulator(cfg, fresh_mosquitto.host, fresh_mosquitto.port)
    sim.start()
    # Set by hand before cocoon runs: reported once, not retained, so cocoon never saw it.
    sim.set_light("sofa_lamp", on=True, brightness_pct=70, kelvin=3500)
    button = f"homeassistant/button/{topics.node_id}/{topics.node_id}_calm_calm_now/config"
    watcher = Watcher(fresh_mosquitto, [button])
    daemon = DaemonProcess(config, tmp_path / "state")
    try:
        daemon.start()
        # Announced once subscribed: a press now is heard, whether or not the devices
        # have answered cocoon's /get yet (it acts on each as its answer arrives).
        wait_until(lambda: watcher.last(button), what="the calm button announced")
        watcher.publish(PRESS_TOPIC, "PRESS")
        wait_until(lambda: _look(sim, "sofa_lamp") == (51, 454), what="the calm look")
        assert sim.asked("sofa_lamp"), "cocoon never asked the lamp how it was"
        assert sim.state("radiator")["current_heating_setpoint"] == 21
        assert _look(sim, "desk_lamp") == ("OFF",)
        # What cocoon learnt by asking is what it gives back.
        wait_until(lambda: _look(sim, "sofa_lamp") == (178, 286), what=f"given back {daemon.log()}")
        wait_until(lambda: sim.state("radiator")["current_heating_setpoint"] == 20)
        assert "changed by hand" not in daemon.log()
    finally:
        daemon.end()
        watcher.close()
        sim.stop()


def test_zigbee2mqtt_away_when_the_calm_mode_ends_gives_back_once_it_returns(
    fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = home(fresh_mosquitto.port)
    data["calm_modes"]["calm_now"] = _calm("2s")
    cfg = config_of(data, tmp_path)
    sim = Zigbee2MqttSimulator(cfg, fresh_mosquitto.host, fresh_mosquitto.port)
    sim.start()
    sim.set_light("sofa_lamp", on=True, brightness_pct=70, kelvin=3500)
    watcher = Watcher(fresh_mosquitto, ["zigbee2mqtt/+/set"])
    try:
        with DaemonThread(cfg, tmp_path / "state") as running:
            engine = running.daemon.engine
            wait_until(lambda: "sofa" in engine.readings.devices, what="the lamp's answer")
            watcher.publish(PRESS_TOPIC, "PRESS")
            wait_until(lambda: _look(sim, "sofa_lamp") == (51, 454), what="the calm look")
            sim.kill()  # its last will says offline
            wait_until(lambda: "zigbee2mqtt" in engine.problems, what="Zigbee2MQTT offline")
            sent = len(watcher.seen("zigbee2mqtt/sofa_lamp/set"))
            end = engine.state.calm["calm_now"].end
            wait_until(lambda: datetime.now(UTC) > end, what="the calm mode's end")
            wait_until(lambda: "calm_now" not in engine.state.calm, what="the calm mode over")
            # The give-back waits for Zigbee2MQTT: nothing was sent, nothing forgotten.
            assert len(watcher.seen("zigbee2mqtt/sofa_lamp/set")) == sent
            assert engine.state.holds["sofa"].snapshot is not None
            assert _look(sim, "sofa_lamp") == (51, 454)
            sim.start()
            wait_until(lambda: _look(sim, "sofa_lamp") == (178, 286), what="given back")
            wait_until(lambda: sim.state("radiator")["current_heating_setpoint"] == 20)
            assert "zigbee2mqtt" not in engine.problems
            assert all(hold.override is None for hold in engine.state.holds.values())
    finally:
        watcher.close()
        sim.stop()


def test_a_lamp_that_drops_off_the_network_is_said_to_be_back_once_when_it_returns(
    fresh_mosquitto: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = config_of(home(fresh_mosquitto.port), tmp_path)
    sim = Zigbee2MqttSimulator(cfg, fresh_mosquitto.host, fresh_mosquitto.port)
    sim.start()
    try:
        with caplog.at_level(logging.INFO), DaemonThread(cfg, tmp_path / "state") as running:
            engine = running.daemon.engine
            wait_until(lambda: "sofa" in engine.readings.devices, what="the lamp's answer")
            asked = len(sim.asked("sofa_lamp"))
            sim.set_available("sofa_lamp", False)
            wait_until(lambda: "sofa is offline" in caplog.text, what="the lamp offline")
            sim.set_available("sofa_lamp", True)
            wait_until(lambda: "sofa is back online" in caplog.text, what="the lamp back")
            wait_until(lambda: len(sim.asked("sofa_lamp")) > asked, what="asked how it is")
        assert caplog.text.count("is back online") == 1, caplog.text
    finally:
        sim.stop()


def test_a_device_that_clamps_and_rounds_is_never_taken_for_a_hand(
    fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = home(fresh_mosquitto.port)
    data["calm_modes"]["calm_now"] = _calm("3s")
    data["scenes"]["calm"]["heat"] = {"radiator": "+0.5"}  # 20.5 °C to a valve in whole degrees
    cfg = config_of(data, tmp_path)
    sim = Zigbee2MqttSimulator(cfg, fresh_mosquitto.host, fresh_mosquitto.port, setpoint_step=1.0)
    sim.start()
    sim.set_light("sofa_lamp", on=True, brightness_pct=33.3, kelvin=3500)
    try:
        with DaemonThread(cfg, tmp_path / "state") as running:
            engine = running.daemon.engine
            wait_until(lambda: "radiator" in engine.readings.devices, what="the valve's answer")
            wait_until(lambda: "sofa" in engine.readings.devices, what="the lamp's answer")
            running.call(lambda: engine.submit(Press("calm_now")))
            # 2000 K asked, 2203 K shown; 20.5 °C asked, a whole degree held.
            wait_until(lambda: _look(sim, "sofa_lamp") == (51, 454), what="the calm look")
            wait_until(lambda: sim.received("radiator"), what="the valve told")
            assert sim.received("radiator")[-1]["current_heating_setpoint"] == 20.5
            held = sim.state("radiator")["current_heating_setpoint"]
            assert held in (20, 21)
            wait_until(lambda: engine.readings.setpoint("radiator") == held, what="its report")
            wait_until(lambda: engine.readings.light("sofa").kelvin == 2203, what="its report")  # type: ignore[union-attr]
            assert all(hold.override is None for hold in engine.state.holds.values())
            # Not a hand, so the calm mode's end gives everything back.
            wait_until(lambda: _look(sim, "sofa_lamp") == (85, 286), what="given back")
            wait_until(lambda: sim.state("radiator")["current_heating_setpoint"] == 20)
    finally:
        sim.stop()


def test_a_colour_chosen_by_hand_is_given_back_as_that_colour(
    fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = home(fresh_mosquitto.port)
    data["calm_modes"]["calm_now"] = _calm("3s")
    cfg = config_of(data, tmp_path)
    sim = Zigbee2MqttSimulator(cfg, fresh_mosquitto.host, fresh_mosquitto.port)
    sim.start()
    sim.set_light("sofa_lamp", on=True, brightness_pct=70, xy=(0.6, 0.3))
    watcher = Watcher(fresh_mosquitto, [])
    try:
        with DaemonThread(cfg, tmp_path / "state") as running:
            engine = running.daemon.engine
            wait_until(lambda: "sofa" in engine.readings.devices, what="the lamp's answer")
            watcher.publish(PRESS_TOPIC, "PRESS")
            wait_until(lambda: _look(sim, "sofa_lamp") == (51, 454), what="the calm look")
            wait_until(
                lambda: _look(sim, "sofa_lamp") == (178, {"x": 0.6, "y": 0.3}),
                what=f"the red given back {sim.received('sofa_lamp')}",
            )
            assert sim.received("sofa_lamp")[-1]["color"] == {"x": 0.6, "y": 0.3}
            assert all(hold.override is None for hold in engine.state.holds.values())
    finally:
        watcher.close()
        sim.stop()


def test_a_name_zigbee2mqtt_does_not_know_is_in_the_status_with_the_closest_one(
    fresh_mosquitto: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cocoon.cli import main

    data = home(fresh_mosquitto.port)
    sim = Zigbee2MqttSimulator(
        config_of(data, tmp_path), fresh_mosquitto.host, fresh_mosquitto.port
    )
    sim.start()
    data["devices"]["desk"] = {"zigbee2mqtt": "desk_lmp"}  # a typo in cocoon's configuration
    cfg = config_of(data, tmp_path)
    try:
        with DaemonThread(cfg, tmp_path / "state") as running:
            engine = running.daemon.engine
            wait_until(lambda: engine.problems, what="the unknown name reported")
            assert main(["status", "--config", str(tmp_path / "cocoon.yaml")]) == 0
            out = capsys.readouterr().out
            assert "Zigbee2MQTT knows no 'desk_lmp' (closest known: 'desk_lamp')" in out
            assert not sim.asked("desk_lamp")
            assert not running.daemon.gateway.available("desk")
    finally:
        sim.stop()
