"""cocoon's own command topics in, its status out."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cocoon.adapters.control import (
    PRESS_KEEP,
    Control,
    passed_on,
    stamped_press,
    status_messages,
)
from cocoon.adapters.topics import Topics
from cocoon.core.events import Announce, Press, SelectMode, SetHandsOff
from cocoon.core.model import NO_READINGS
from cocoon.core.planner import Planner
from cocoon.core.plants import PlantStatus
from cocoon.core.state import RuntimeState
from cocoon.core.status import describe
from cocoon.core.transitions import press
from cocoon.ports import Message

from ..core.homes import at, home_config

CFG = home_config(
    calm_modes={
        "calm_now": {"scene": "calm"},
        "deep_calm": {"scene": "calm", "button": "Very calm"},
    },
    rituals={"tea": {"at": "07:15", "duration": "20min", "scene": "tea", "name": "Morning tea"}},
)
TOPICS = Topics.for_config(CFG)
CONTROL = Control(CFG, TOPICS)


def test_topics_live_under_the_home() -> None:
    assert TOPICS.availability == "cocoon/flat/status"
    assert TOPICS.button("calm_now") == "cocoon/flat/button/calm_now/press"
    assert TOPICS.ha_status in TOPICS.commands(CFG)
    assert not any("#" in t or "+" in t for t in TOPICS.commands(CFG))


@pytest.mark.parametrize(
    ("topic", "payload", "event"),
    [
        ("cocoon/flat/button/calm_now/press", "PRESS", Press("calm_now")),
        ("cocoon/flat/button/tea/press", "PRESS", Press("tea")),
        ("cocoon/flat/mode/set", "off", SelectMode("off")),
        ("cocoon/flat/mode/set", "calm_now", SelectMode("calm_now")),
        # Home Assistant's select sends what it shows: the name.
        ("cocoon/flat/mode/set", "Off", SelectMode("off")),
        ("cocoon/flat/mode/set", "Calm now", SelectMode("calm_now")),
        ("cocoon/flat/mode/set", "Very calm", SelectMode("deep_calm")),
        ("cocoon/flat/mode/set", "very calm", SelectMode("deep_calm")),
        ("cocoon/flat/mode/set", "deep_calm", SelectMode("deep_calm")),
        ("cocoon/flat/hands_off/set", "ON", SetHandsOff(True)),
        ("cocoon/flat/hands_off/set", "off", SetHandsOff(False)),
        ("homeassistant/status", "online", Announce("Home Assistant is online")),
        ("homeassistant/status", "offline", None),
    ],
)
def test_commands_become_events(topic: str, payload: str, event: object) -> None:
    assert CONTROL.handles(topic)
    assert CONTROL.decode(Message.text(topic, payload)) == event


def test_a_retained_press_is_never_replayed() -> None:
    message = Message.text(TOPICS.button("calm_now"), "PRESS", retain=True)
    assert CONTROL.decode(message) is None
    stamped = Message(TOPICS.button("calm_now"), stamped_press(1000), retain=True)
    assert CONTROL.decode(stamped, now=1000) is None


def test_a_stamped_press_is_a_press() -> None:
    message = Message(TOPICS.button("tea"), stamped_press(1000.7))
    assert json.loads(message.payload) == {"press": "PRESS", "at": 1000}
    assert CONTROL.decode(message, now=5000) == Press("tea")


FLEET = Control(CFG, Topics.for_worker(CFG, "w1"))


@pytest.mark.parametrize(
    ("payload", "retain", "made", "event"),
    [
        # Live presses act whenever they were made.
        (b"PRESS", False, None, Press("calm_now")),
        (None, False, -3600, Press("calm_now")),
        # A press retained while the home had no owner acts if it is recent.
        (None, True, -5, Press("calm_now")),
        (None, True, -PRESS_KEEP + 1, Press("calm_now")),
        (None, True, -PRESS_KEEP - 1, None),
        (None, True, 3600, None),
        # An unstamped retained press says nothing of its age: never replayed.
        (b"PRESS", True, None, None),
        # What clears a press taken: no press.
        (b"", False, None, None),
        (b"", True, None, None),
    ],
)
def test_a_fleet_takes_recent_retained_presses(
    payload: bytes | None, retain: bool, made: float | None, event: object
) -> None:
    now = 1_800_000_000.0
    body = payload if payload is not None else stamped_press(now + (made or 0))
    message = Message(TOPICS.button("calm_now"), body, retain=retain)
    assert FLEET.topics.button("calm_now") == TOPICS.button("calm_now")
    assert FLEET.decode(message, now=now) == event


def test_a_press_passed_on_by_several_workers_acts_once() -> None:
    control = Control(CFG, Topics.for_worker(CFG, "w1"))
    topic = TOPICS.button("calm_now")
    first = Message(topic, stamped_press(1000, "01HX"))
    again = Message(topic, stamped_press(1001, "01HX"), retain=True)
    other = Message(topic, stamped_press(1002, "01HY"))
    assert control.decode(first, now=1000) == Press("calm_now")
    assert control.decode(again, now=1001) is None
    assert control.decode(other, now=1002) == Press("calm_now")


def test_a_cocoon_trigger_is_passed_on_as_its_buttons_press_with_the_events_id() -> None:
    topics = Topics.for_worker(CFG, "w1")
    event = {"data": {"name": "Very calm", "home": "flat"}, "context": {"id": "01HZ"}}
    press = passed_on(CFG, topics, event, 1000.4)
    assert press is not None
    assert (press.topic, press.retain) == (topics.button("deep_calm"), True)
    assert json.loads(press.payload) == {"press": "PRESS", "at": 1000, "id": "01HZ"}
    assert passed_on(CFG, topics, {"data": {"name": "party"}}, 1000) is None
    assert passed_on(CFG, topics, {"data": {}}, 1000) is None


def test_a_fleet_still_never_replays_a_retained_mode_or_switch() -> None:
    assert FLEET.decode(Message.text(TOPICS.mode_set, "Calm now", retain=True)) is None
    assert FLEET.decode(Message.text(TOPICS.hands_off_set, "ON", retain=True)) is None


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("cocoon/flat/button/calm_now/press", b"{not json"),
        ("cocoon/flat/button/calm_now/press", b'{"press":"PRESS","at":"noon"}'),
        ("cocoon/flat/button/calm_now/press", b'{"press":"PRESS","at":true}'),
        ("cocoon/flat/button/calm_now/press", b'{"press":"HOLD","at":1}'),
        ("cocoon/flat/button/calm_now/press", b'{"press":"PRESS","at":1e999}'),
        ("cocoon/flat/mode/set", b"party"),
        ("cocoon/flat/hands_off/set", b"maybe"),
        ("cocoon/flat/button/calm_now/press", b"\xff\xfe"),
    ],
)
def test_junk_on_a_command_topic_is_an_error_saying_what(topic: str, payload: bytes) -> None:
    with pytest.raises(ValueError, match=r".+"):
        CONTROL.decode(Message(topic, payload))


def test_status_messages_are_retained_and_describe_the_state() -> None:
    planner = Planner(CFG)
    state = RuntimeState(plants={"fern": PlantStatus(frozenset({"moisture"}))})
    state, _ = press(planner, "calm_now", at("2026-11-25 20:00"), state, NO_READINGS)
    status = describe(planner, at("2026-11-25 20:05"), state, {})
    messages = {m.topic: m for m in status_messages(CFG, TOPICS, status)}
    assert all(m.retain for m in messages.values())
    # The select and the sensor show names; the whole status keeps the ids.
    assert messages[TOPICS.mode].payload == b"Calm now"
    assert messages[TOPICS.active_scene].payload == b"Calm now"
    assert messages[TOPICS.plants_needing_care].payload == b"1"
    assert messages[TOPICS.plant("fern")].payload == b"ON"
    assert messages[TOPICS.next_ritual].payload.decode().startswith("2026-11-26T06:15")
    document = json.loads(messages[TOPICS.state].payload)
    assert document["calm_until"] == {"calm_now": "2026-11-25T19:45:00+00:00"}
    assert document["mode"] == document["active_scene"] == "calm_now"
    assert document["plants"] == {"fern": "thirsty"}


def test_the_active_scene_names_each_layer_in_force_highest_first() -> None:
    planner = Planner(CFG)
    quiet = describe(planner, at("2026-11-25 14:00"), RuntimeState(), {})
    assert quiet.active_scene == "none"
    messages = {m.topic: m for m in status_messages(CFG, TOPICS, quiet)}
    assert messages[TOPICS.active_scene].payload == b"Nothing"
    assert messages[TOPICS.mode].payload == b"Off"

    state, _ = press(planner, "tea", at("2026-11-25 14:00"), RuntimeState(), NO_READINGS)
    state, _ = press(planner, "deep_calm", at("2026-11-25 14:00"), state, NO_READINGS)
    both = describe(planner, at("2026-11-25 14:05"), state, {})
    assert both.active_scene == "deep_calm, ritual tea"
    messages = {m.topic: m for m in status_messages(CFG, TOPICS, both)}
    assert messages[TOPICS.active_scene].payload == b"Very calm, Morning tea"
    assert messages[TOPICS.mode].payload == b"Very calm"


def test_an_unknown_mode_is_refused_naming_the_names_and_the_ids() -> None:
    message = Message.text("cocoon/flat/mode/set", "party")
    with pytest.raises(ValueError, match=r"Off, Calm now, Very calm; or the ids off, calm_now"):
        CONTROL.decode(message)


def test_problems_are_published_for_home_assistants_problem_sensor() -> None:
    planner = Planner(CFG)
    status = describe(planner, at("2026-11-25 20:05"), RuntimeState(), {})
    messages = {m.topic: m for m in status_messages(CFG, TOPICS, status)}
    assert json.loads(messages[TOPICS.problems].payload) == {"problems": []}
    troubled = replace(status, problems=("state not saved: Read-only file system (since 20:05)",))
    messages = {m.topic: m for m in status_messages(CFG, TOPICS, troubled)}
    assert messages[TOPICS.problems].retain
    assert json.loads(messages[TOPICS.problems].payload) == {
        "problems": ["state not saved: Read-only file system (since 20:05)"]
    }
