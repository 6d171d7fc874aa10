"""cocoon as a whole against a real Mosquitto and the Zigbee2MQTT simulator."""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.adapters.topics import Topics

from ..brokers import Mosquitto, free_port
from .harness import (
    DaemonProcess,
    DaemonThread,
    Watcher,
    config_of,
    home,
    json_of,
    level,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.integration

PRESS_TOPIC = "cocoon/test_flat/button/calm_now/press"


def _cocoon(*arguments: str) -> subprocess.CompletedProcess[str]:
    """`cocoon ARGUMENTS` in a process of its own, as a person runs it (in the test's
    process a daemon's thread would share the logging)."""
    return subprocess.run(
        [sys.executable, "-m", "cocoon", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def simulated(mosquitto: Mosquitto, tmp_path: Path):  # type: ignore[no-untyped-def]
    cfg = config_of(home(mosquitto.port), tmp_path)
    sim = Zigbee2MqttSimulator(cfg, mosquitto.host, mosquitto.port)
    sim.start()
    sim.set_light("sofa_lamp", on=True, brightness_pct=70, kelvin=3500)
    yield cfg, sim
    sim.stop()


def test_discovery_and_availability_are_announced(mosquitto: Mosquitto, tmp_path: Path) -> None:
    cfg = config_of(home(mosquitto.port), tmp_path)
    topics = Topics.for_config(cfg)
    watcher = Watcher(
        mosquitto, [f"homeassistant/+/{topics.node_id}/+/config", topics.availability]
    )
    try:
        with DaemonThread(cfg, tmp_path / "state"):
            wait_until(lambda: watcher.last(topics.availability) == b"online", what="online")
            object_id = f"{topics.node_id}_calm_calm_now"
            button = f"homeassistant/button/{topics.node_id}/{object_id}/config"
            config = json.loads(wait_until(lambda: watcher.last(button), what="button config"))
            assert config["command_topic"] == PRESS_TOPIC
            assert config["availability"][0]["topic"] == topics.availability
            assert config["name"] == "Calm now"
            assert config["unique_id"] == f"{topics.node_id}_calm_calm_now"
            assert topics.node_id in config["device"]["identifiers"]
        wait_until(lambda: watcher.last(topics.availability) == b"offline", what="offline")
    finally:
        watcher.close()


def test_calm_now_drives_the_lights_and_gives_back_the_snapshot(
    simulated: tuple,
    mosquitto: Mosquitto,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    cfg, sim = simulated
    watcher = Watcher(mosquitto, [])
    try:
        with DaemonThread(cfg, tmp_path / "state") as running:
            # Once cocoon has asked the lamp and heard back, it is listening for presses.
            engine = running.daemon.engine
            wait_until(lambda: "sofa" in engine.readings.devices, what="the lamp's answer")
            watcher.publish(PRESS_TOPIC, "PRESS")
            wait_until(lambda: level(sim, "sofa_lamp") == 51, what="calm brightness")
            # 2000 K asked; the bulb's warmest is 2203 K (454 mireds), and that is no hand.
            assert sim.state("sofa_lamp")["color_temp"] == 454
            # The radiator's command goes out once it answered too (it may answer later).
            wait_until(lambda: sim.state("radiator")["current_heating_setpoint"] == 21)
            # After the calm mode's 3 s, everything is as it was.
            wait_until(
                lambda: level(sim, "sofa_lamp") == 178,
                timeout=8,
                what=f"snapshot {sim.received('sofa_lamp')}",
            )
            assert sim.state("sofa_lamp")["color_temp"] == 286
            wait_until(lambda: sim.state("radiator")["current_heating_setpoint"] == 20)
    finally:
        watcher.close()


def test_junk_on_the_bus_is_dropped_and_the_next_press_still_works(
    simulated: tuple,  # type: ignore[type-arg]
    mosquitto: Mosquitto,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg, sim = simulated
    watcher = Watcher(mosquitto, [])
    try:
        with caplog.at_level(logging.WARNING), DaemonThread(cfg, tmp_path / "state"):
            junk = [
                ("zigbee2mqtt/sofa_lamp", b"{not json"),
                ("zigbee2mqtt/sofa_lamp", b'{"state": "ON", "brightness": "bright"}'),
                ("zigbee2mqtt/sofa_lamp", b"\xff\xfe\xfd"),
                ("zigbee2mqtt/desk_lamp", b"x" * 1_000_000),
                ("cocoon/test_flat/mode/set", b"party_mode"),
                (PRESS_TOPIC, b'{"press": [1, 2, 3]}'),
            ]
            for topic, payload in junk:
                watcher.publish(topic, payload)
            for i in range(10_000):
                watcher.client.publish("zigbee2mqtt/fern_sensor", f'{{"soil_moisture": {i % 90}}}')
            watcher.publish("zigbee2mqtt/fern_sensor", '{"soil_moisture": 50}')
            watcher.publish(PRESS_TOPIC, "PRESS")
            wait_until(lambda: level(sim, "sofa_lamp") == 51, what="press")
        text = caplog.text
        assert "Dropped a message on zigbee2mqtt/sofa_lamp" in text
        assert "Dropped a message on cocoon/test_flat/mode/set: unknown mode 'party_mode'" in text
    finally:
        watcher.close()


def test_a_broker_killed_mid_fade_comes_back_and_the_next_press_works(
    fresh_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    broker = fresh_mosquitto
    data = home(broker.port)
    data["calm_modes"]["calm_now"] = {"scene": "calm", "duration": "1h", "fade": "1min"}
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    sim = Zigbee2MqttSimulator(cfg, broker.host, broker.port)
    sim.start()
    watcher = Watcher(broker, [topics.availability, topics.mode])
    try:
        with DaemonThread(cfg, tmp_path / "state"):
            wait_until(lambda: watcher.last(topics.availability) == b"online")
            watcher.publish(PRESS_TOPIC, "PRESS")
            wait_until(lambda: watcher.last(topics.mode) == b"Calm now", what="calm mode on")
            seen = len(watcher.seen(topics.availability))
            broker.kill()
            time.sleep(0.5)
            broker.restart()
            # The watcher reconnects by itself; the daemon says online again.
            wait_until(watcher.client.is_connected, what="watcher back")
            wait_until(lambda: len(watcher.seen(topics.availability)) > seen, what="online again")
            assert watcher.last(topics.availability) == b"online"
            watcher.publish("cocoon/test_flat/mode/set", "off")
            wait_until(lambda: watcher.last(topics.mode) == b"Off", what="mode off")
            watcher.publish(PRESS_TOPIC, "PRESS")
            wait_until(lambda: watcher.last(topics.mode) == b"Calm now", what="press")
    finally:
        watcher.close()
        sim.stop()


def test_kill_9_mid_calm_mode_resumes_it_and_gives_back_the_snapshot(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = home(mosquitto.port)
    data["calm_modes"]["calm_now"] = {"scene": "calm", "duration": "15s", "fade": 0}
    config = write_config(tmp_path, data)
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    sim = Zigbee2MqttSimulator(cfg, mosquitto.host, mosquitto.port)
    sim.start()
    sim.set_light("sofa_lamp", on=True, brightness_pct=70, kelvin=3500)
    watcher = Watcher(mosquitto, [topics.availability, topics.state])
    first = DaemonProcess(config, tmp_path / "state")
    second = DaemonProcess(config, tmp_path / "state")
    try:
        first.start()
        wait_until(lambda: watcher.last(topics.availability) == b"online", what="online")
        time.sleep(0.3)
        watcher.publish(PRESS_TOPIC, "PRESS")
        wait_until(lambda: level(sim, "sofa_lamp") == 51, what="calm")
        first.kill()
        wait_until(lambda: watcher.last(topics.availability) == b"offline", what="last will")
        second.start()
        wait_until(lambda: watcher.last(topics.availability) == b"online", what="back online")
        document = wait_until(
            lambda: (
                (json_of(watcher.last(topics.state)) or {}).get("mode") == "calm_now"
                and json_of(watcher.last(topics.state))
            ),
            what="the calm mode in the restarted daemon's status",
        )
        assert "calm_now" in document["calm_until"]
        assert level(sim, "sofa_lamp") == 51
        wait_until(
            lambda: level(sim, "sofa_lamp") == 178,
            timeout=20,
            what=f"given back: {second.log()}",
        )
        second.signal(signal.SIGTERM)
        assert second.wait(30) == 0
        assert watcher.last(topics.availability) == b"offline"
        assert "Resuming: calm_now until" in second.log()
    finally:
        first.kill()
        second.kill()
        watcher.close()
        sim.stop()


def test_a_reload_with_a_broken_config_keeps_the_old_one(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = home(mosquitto.port)
    config = write_config(tmp_path, data)
    cfg = config_of(data, tmp_path)
    topics = Topics.for_config(cfg)
    watcher = Watcher(mosquitto, [topics.availability, topics.mode])
    daemon = DaemonProcess(config, tmp_path / "state")
    try:
        daemon.start()
        wait_until(lambda: watcher.last(topics.availability) == b"online", what="online")
        config.write_text(config.read_text().replace("brightness: 20", "brightnes: 20"))
        daemon.signal(signal.SIGHUP)
        wait_until(lambda: "keeping the old one" in daemon.log(), what="reload refused")
        assert "unknown key 'brightnes'" in daemon.log()
        watcher.publish(PRESS_TOPIC, "PRESS")
        wait_until(lambda: watcher.last(topics.mode) == b"Calm now", what="press after reload")
    finally:
        daemon.kill()
        watcher.close()


def test_entities_removed_from_the_config_are_removed_from_home_assistant(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    data = home(mosquitto.port)
    data["calm_modes"]["breathe"] = {"scene": "calm", "duration": "5min", "button": "Breathe"}
    before = config_of(data, tmp_path)
    topics = Topics.for_config(before)
    gone = f"homeassistant/button/{topics.node_id}/{topics.node_id}_calm_breathe/config"
    watcher = Watcher(mosquitto, [gone])
    try:
        with DaemonThread(before, tmp_path / "state"):
            wait_until(lambda: watcher.last(gone), what="the Breathe button announced")
        del data["calm_modes"]["breathe"]
        with DaemonThread(config_of(data, tmp_path), tmp_path / "state"):
            wait_until(lambda: watcher.last(gone) == b"", what="the Breathe button removed")
    finally:
        watcher.close()


def test_cocoon_trigger_and_status_talk_to_the_running_daemon(
    simulated: tuple,  # type: ignore[type-arg]
    mosquitto: Mosquitto,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cocoon.cli import main

    cfg, sim = simulated
    config = tmp_path / "cocoon.yaml"
    with DaemonThread(cfg, tmp_path / "state"):
        assert main(["trigger", "--config", str(config), "calm_now"]) == 0
        # Pressed by its id, answered with the name the configuration gives it.
        assert capsys.readouterr().out.startswith("pressed Calm now (")
        wait_until(
            lambda: level(sim, "sofa_lamp") == 51,
            what=f"calm {sim.received('sofa_lamp')} {sim.state('sofa_lamp')}",
        )
        # A process of its own, as a person runs it: its answer, and no log lines unless
        # asked for (-v). (In this process the daemon's thread shares the logging.)
        status = _cocoon("status", "--config", str(config))
        assert status.returncode == 0, status.stderr
        assert status.stderr == ""
        assert "cocoon is online" in status.stdout
        assert main(["status", "--config", str(config)]) == 0
        out = capsys.readouterr().out
        assert "cocoon is online" in out
        assert "Mode          Calm now" in out
        # Under the configuration's names: the lamp, and the calm mode that holds it.
        assert re.search(r"^  Sofa +20 %, 2000 K +\(Calm now\)$", out, re.M), out
        assert main(["trigger", "--config", str(config), "party"]) == 2  # a bad command line
        assert "no calm mode or ritual named 'party'" in capsys.readouterr().err
        pressed = _cocoon("trigger", "--config", str(config), "calm_now")
        assert pressed.returncode == 0, pressed.stderr
        assert pressed.stderr == ""
        assert pressed.stdout.startswith("pressed Calm now (")
        by_name = _cocoon("trigger", "--config", str(config), "calm NOW")
        assert by_name.returncode == 0, by_name.stderr
        assert by_name.stdout == pressed.stdout
        typo = _cocoon("trigger", "--config", str(config), "calm_nwo")
        assert typo.returncode == 2
        assert typo.stderr.splitlines() == [
            "cocoon: no calm mode or ritual named 'calm_nwo' — did you mean 'calm_now'?"
            f" (known: {', '.join([*cfg.calm_modes, *cfg.rituals])})"
        ]
    # Stopped: the press is refused, not queued for whenever cocoon comes back.
    topics = Topics.for_config(cfg)
    marker = f"{topics.base}/test-marker"
    watcher = Watcher(mosquitto, [topics.button("calm_now"), marker])
    try:
        assert main(["trigger", "--config", str(config), "calm_now"]) == 1
        err = capsys.readouterr().err
        assert "cocoon for Test flat is offline" in err
        assert "nothing was pressed" in err
        # The broker passes on what it got in order: a press would come before the marker.
        watcher.publish(marker, "after the trigger")
        wait_until(lambda: watcher.seen(marker), what="the marker")
        assert watcher.seen(topics.button("calm_now")) == []
    finally:
        watcher.close()


def test_cocoon_trigger_says_when_cocoon_was_never_online(
    mosquitto: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cocoon.cli import main

    data = home(mosquitto.port)
    data["home"]["name"] = f"Never ran {tmp_path.name}"
    config = write_config(tmp_path, data)
    assert main(["trigger", "--config", str(config), "calm_now"]) == 1
    assert "has never been online" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["status"], ["trigger", "calm_now"]])
def test_status_and_trigger_name_an_unreachable_broker_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    port = free_port()  # nothing listens there
    config = write_config(tmp_path, home(port))
    # A process of its own, as a person runs it: the adapters' log stays out of it.
    result = _cocoon(command[0], "--config", str(config), *command[1:])
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"cocoon: Cannot reach the MQTT broker 127.0.0.1:{port}: nothing answers on that port"
        " (is the broker running? check mqtt.host and port)"
    ]


def test_a_button_is_found_by_its_id_or_by_the_name_it_shows(tmp_path: Path) -> None:
    from cocoon.adapters.labels import button_id

    cfg = config_of(home(1883), tmp_path)
    assert button_id(cfg, "calm_now") == "calm_now"
    assert button_id(cfg, "calm now") == "calm_now"  # the button's label, any case
    assert button_id(cfg, cfg.display_name("rituals", "evening")) == "evening"
    assert button_id(cfg, "party") is None
