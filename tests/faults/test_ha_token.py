"""Home Assistant refusing cocoon's token (expired, revoked): one clear message, retries with
backoff, the daemon carries on (MQTT, presses), `cocoon status` shows the problem."""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import warnings
from pathlib import Path

import pytest

from cocoon.adapters.home_assistant import HomeAssistantGateway
from cocoon.adapters.topics import Topics
from cocoon.cli import main
from cocoon.config.load import load_config
from cocoon.core.events import Connection, Event

from ..brokers import Mosquitto
from ..daemon.harness import DaemonThread, config_of, home, json_of, wait_until
from ..homeassistant import HomeAssistant
from . import knobs
from .secure import HA_TOKEN, Probe, cocoon_data, leaks, write_secret_config

pytestmark = pytest.mark.integration


def _session_ends(records: list[logging.LogRecord]) -> list[float]:
    return [r.created for r in records if r.getMessage().startswith("Home Assistant session ended")]


# Each refused attempt leaves its websocket open (see the xfail test below); ignore the
# ResourceWarnings here so this test shows everything else.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_refused_home_assistant_token_is_said_once_retried_with_backoff_and_not_fatal(
    mosquitto: Mosquitto,
    refusing_home_assistant: HomeAssistant,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = cocoon_data(mosquitto.port)
    data["home_assistant"] = {"url": refusing_home_assistant.url, "token": "!secret ha_token"}
    data["devices"]["ceiling"] = {"entity": "light.ceiling_lights"}
    config = write_secret_config(tmp_path, data, {"ha_token": HA_TOKEN})
    cfg = load_config(config)
    topics = Topics.for_config(cfg)
    observer = Probe(mosquitto.port, topics=[topics.availability, topics.state])
    assert not observer.connect().is_failure
    try:
        with caplog.at_level(logging.DEBUG), DaemonThread(cfg, tmp_path / "state"):
            wait_until(lambda: len(_session_ends(caplog.records)) >= 3, what="three attempts")
            attempts = _session_ends(caplog.records)
            wait_until(lambda: observer.last(topics.availability) == b"online", what="online")
            assert not observer.publish(topics.button("calm_now"), "PRESS").is_failure
            wait_until(
                lambda: (json_of(observer.last(topics.state)) or {}).get("mode") == "calm_now",
                what="a press while Home Assistant refuses cocoon",
            )
            assert main(["status", "--config", str(config)]) == 0
            status = capsys.readouterr().out
    finally:
        observer.close()
        # Collect the leaked connections here, under this test's warning filters, and not
        # in whichever test the garbage collector happens to run next.
        gc.collect()
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.9, gaps
    assert gaps[1] >= 1.8 * gaps[0] * 0.9, f"no backoff: {gaps}"
    said = [
        r
        for r in caplog.records
        if "refused the token" in r.getMessage() and r.levelno >= logging.WARNING
    ]
    assert len(said) == 1, [r.getMessage() for r in said]
    assert said[0].levelno == logging.WARNING
    assert "Problem       Home Assistant" in status, status
    assert leaks(caplog.text, status) == []
    knobs.record(
        "ha-token",
        attempts=len(attempts),
        gaps_s=gaps,
        status_problem=status.split("Problem")[1].splitlines()[0].strip(),
    )


def test_cocoon_status_says_the_token_was_refused(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from cocoon.core.events import Connection
    from cocoon.runtime.engine import Engine

    from ..fakes import FakeClock, FakeGateway, MemoryStore

    data = home(1883)
    cfg = config_of(data, tmp_path)
    engine = Engine(
        cfg,
        clock=FakeClock(datetime(2026, 11, 25, 20, tzinfo=UTC)),
        store=MemoryStore(),
        gateways=[FakeGateway()],
        arm=lambda moment: None,
    )
    detail = (
        "Home Assistant refused the token (expired or revoked?): create a new long-lived "
        "access token and put it in secrets.yaml"
    )
    engine.handle(Connection("Home Assistant", False, detail))
    assert engine.status is not None
    assert any("token" in problem for problem in engine.status.problems), engine.status.problems


def test_a_refused_attempt_closes_its_connection(
    refusing_home_assistant: HomeAssistant, tmp_path: Path
) -> None:
    data = home(1883, home_assistant={"url": refusing_home_assistant.url, "token": "refused-token"})
    data["devices"]["ceiling"] = {"entity": "light.ceiling_lights"}
    cfg = config_of(data, tmp_path)
    events: list[Event] = []

    async def one_refusal() -> None:
        gateway = HomeAssistantGateway(cfg, events.append)
        await gateway.start()
        for _ in range(500):
            if any(isinstance(e, Connection) for e in events):
                break
            await asyncio.sleep(0.01)
        await gateway.stop()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(one_refusal())
        gc.collect()
    assert any(isinstance(e, Connection) and not e.connected for e in events)
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []
