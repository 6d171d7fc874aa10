"""Security: passwords and an ACL on Mosquitto, TLS with a test CA, and secrets kept out of
every log line and every error, at every level.

cocoon logs in as `cocoon` (its password from secrets.yaml), may touch only its own topics,
and works: online, discovery, a dashboard's press. A client without credentials is turned
away at CONNECT; a logged-in client without the right is refused its press (PUBACK 135).
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cocoon.adapters.topics import Topics
from cocoon.cli import main
from cocoon.config.load import load_config

from ..daemon.harness import DaemonProcess, DaemonThread, config_of, json_of, wait_until
from ..homeassistant import HomeAssistant
from . import knobs
from .mosquittos import TunedMosquitto, tls_files
from .secure import (
    HA_TOKEN,
    MQTT_PASSWORD,
    WRONG_PASSWORD,
    Probe,
    cocoon_data,
    leaks,
    secure_broker,
    write_secret_config,
)

pytestmark = pytest.mark.integration

NOT_AUTHORIZED = 135  # MQTT 5 reason code, CONNACK and PUBACK alike


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[TunedMosquitto]:
    broker = secure_broker(tmp_path / "secure")
    broker.start()
    yield broker
    broker.stop()


def test_cocoon_works_behind_passwords_and_an_acl_and_never_logs_a_secret(
    locked: TunedMosquitto,
    refusing_home_assistant: HomeAssistant,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = cocoon_data(locked.port, username="cocoon", password="!secret mqtt_password")
    # A Home Assistant that refuses this token: the error path must not show it either.
    data["home_assistant"] = {"url": refusing_home_assistant.url, "token": "!secret ha_token"}
    data["devices"]["ceiling"] = {"entity": "light.ceiling_lights"}
    config = write_secret_config(
        tmp_path, data, {"mqtt_password": MQTT_PASSWORD, "ha_token": HA_TOKEN}
    )
    topics = Topics.for_config(load_config(config))
    button = f"homeassistant/button/{topics.node_id}/{topics.node_id}_calm_calm_now/config"
    observer = Probe(
        locked.port, user="observer", topics=[topics.availability, topics.state, button]
    )
    assert not observer.connect().is_failure
    daemon = DaemonProcess(config, tmp_path / "state")
    try:
        daemon.start()
        wait_until(lambda: observer.last(topics.availability) == b"online", what="online")
        wait_until(lambda: observer.last(button), what="discovery through the ACL")
        anonymous = Probe(locked.port)
        refused = anonymous.connect()
        anonymous.close()
        assert refused.value == NOT_AUTHORIZED, refused
        intruder = Probe(locked.port, user="intruder")
        assert not intruder.connect().is_failure
        denied = intruder.publish(topics.button("calm_now"), "PRESS")
        intruder.close()
        assert denied.value == NOT_AUTHORIZED, denied
        dashboard = Probe(locked.port, user="dashboard")
        assert not dashboard.connect().is_failure
        assert not dashboard.publish(topics.button("calm_now"), "PRESS").is_failure
        dashboard.close()
        wait_until(
            lambda: (json_of(observer.last(topics.state)) or {}).get("mode") == "calm_now",
            what="the dashboard's press",
        )
        ends = {json.loads(d)["calm_until"].get("calm_now") for d in observer.seen(topics.state)}
        assert len(ends - {None}) == 1  # the intruder's press never arrived
        wait_until(lambda: "refused the token" in daemon.log(), what="HA refusing the token")
        assert main(["status", "--config", str(config)]) == 0
        status = capsys.readouterr()
        assert "cocoon is online" in status.out
        assert main(["check", "--config", str(config)]) == 0
        check = capsys.readouterr()
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(10) == 0
    finally:
        daemon.kill()
        observer.close()
    log = daemon.log()
    assert "DEBUG" in log  # -v: every level was written
    assert "refused the subscription" not in log  # the ACL gives cocoon all it needs
    assert leaks(log, status.out, status.err, check.out, check.err) == []
    knobs.record(
        "security-acl",
        anonymous_connack=str(refused),
        intruder_puback=str(denied),
        log_lines_scanned=len(log.splitlines()),
        secrets_found=0,
    )


def test_a_refused_password_is_reported_without_the_password(
    locked: TunedMosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = cocoon_data(locked.port, username="cocoon", password="!secret mqtt_password")
    config = write_secret_config(tmp_path, data, {"mqtt_password": WRONG_PASSWORD})
    with caplog.at_level(logging.DEBUG), DaemonThread(load_config(config), tmp_path / "state"):
        wait_until(lambda: "refused cocoon" in caplog.text, what="the broker refusing cocoon")
    assert "Not authorized" in caplog.text
    texts = [caplog.text, *(str(r.args) for r in caplog.records)]
    assert leaks(*texts) == []


def test_cocoon_speaks_tls_to_a_broker_with_a_test_ca(tmp_path: Path) -> None:
    files = tls_files(tmp_path / "tls")
    broker = TunedMosquitto(
        tmp_path / "mosquitto",
        listener=[f"cafile {files['ca']}", f"certfile {files['cert']}", f"keyfile {files['key']}"],
    )
    broker.start()
    try:
        # The broker's certificate is valid for 127.0.0.1 under the test CA: no `insecure`.
        context = ssl.create_default_context(cafile=str(files["ca"]))
        raw = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            version = tls.version()
        data = cocoon_data(broker.port, tls={"ca_file": str(files["ca"])})
        cfg = config_of(data, tmp_path)
        topics = Topics.for_config(cfg)
        observer = Probe(broker.port, ca=files["ca"], topics=[topics.availability, topics.mode])
        assert not observer.connect().is_failure
        started = time.monotonic()
        with DaemonThread(cfg, tmp_path / "state"):
            wait_until(lambda: observer.last(topics.availability) == b"online", what="online")
            online = time.monotonic() - started
            assert not observer.publish(topics.button("calm_now"), "PRESS").is_failure
            wait_until(lambda: observer.last(topics.mode) == b"Calm now", what="press over TLS")
        observer.close()
    finally:
        broker.stop()
    knobs.record("tls", tls_version=version, online_s=round(online, 2))
