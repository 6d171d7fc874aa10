"""Home Assistant discovery configs, field by field against the documented keys."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cocoon.adapters.discovery import discovery_messages, stale_discovery
from cocoon.adapters.topics import Topics
from cocoon.config.schema import CocoonConfig
from cocoon.ports import Message

VERSION = "1.2.3"

# Keys every MQTT entity documents (https://www.home-assistant.io/integrations/<x>.mqtt/),
# written out in full: Home Assistant accepts abbreviations, cocoon never sends them.
COMMON = {
    "name",
    "unique_id",
    "object_id",
    "default_entity_id",
    "availability",
    "device",
    "origin",
    "icon",
    "qos",
}
DOCUMENTED = {
    "button": COMMON | {"command_topic", "payload_press", "command_template", "retain"},
    "select": COMMON | {"command_topic", "state_topic", "options"},
    "switch": COMMON
    | {"command_topic", "state_topic", "payload_on", "payload_off"}
    | {"state_on", "state_off"},
    "sensor": COMMON | {"state_topic", "device_class", "state_class"},
    "binary_sensor": COMMON
    | {"state_topic", "device_class", "payload_on", "payload_off"}
    | {"value_template", "json_attributes_topic", "entity_category"},
}
REQUIRED = {
    "button": {"command_topic", "payload_press"},
    "select": {"command_topic", "state_topic", "options"},
    "switch": {"command_topic", "state_topic", "payload_on", "payload_off"},
    "sensor": {"state_topic"},
    "binary_sensor": {"state_topic", "device_class", "payload_on", "payload_off"},
}
# The discovery topic's node_id and object_id may hold only these characters.
TOPIC_ID = re.compile(r"^[a-zA-Z0-9_-]+$")


def config(**changes: Any) -> CocoonConfig:
    """A Brussels flat with two calm modes, two rituals and two plants."""
    data: dict[str, Any] = {
        "home": {
            "name": "Flat",
            "latitude": 50.85,
            "longitude": 4.35,
            "timezone": "Europe/Brussels",
        },
        "mqtt": {},
        "devices": {
            "desk": {"zigbee2mqtt": "desk"},
            "soil": {"zigbee2mqtt": "soil", "kind": "sensor"},
        },
        "scenes": {"calm": {"lights": {"desk": {"brightness": 20}}}},
        "rituals": {
            "morning_tea": {"at": "07:15", "duration": "20min", "scene": "calm"},
            "evening": {"at": "sunset", "until": "22:30", "scene": "calm", "name": "Evening glow"},
        },
        "calm_modes": {
            "calm_now": {"scene": "calm"},
            "deep_calm": {"scene": "calm", "button": "Very calm"},
        },
        "plants": {
            "monstera": {"moisture": {"sensor": "soil", "below": 25}},
            "fern": {"moisture": {"sensor": "soil", "below": 30}, "name": "Little fern"},
        },
    }
    data.update(changes)
    return CocoonConfig.model_validate(data)


def announce(cfg: CocoonConfig) -> list[Message]:
    return discovery_messages(cfg, Topics.for_config(cfg), VERSION)


def parsed(messages: list[Message]) -> dict[str, tuple[str, dict[str, Any]]]:
    """unique_id → (component, config) of every discovery message."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for message in messages:
        payload = json.loads(message.payload)
        assert isinstance(payload, dict)
        component = message.topic.split("/")[1]
        found[payload["unique_id"]] = (component, payload)
    return found


def of(messages: list[Message], component: str) -> dict[str, dict[str, Any]]:
    """The configs of one component, by name."""
    return {c["name"]: c for comp, c in parsed(messages).values() if comp == component}


CFG = config()
TOPICS = Topics.for_config(CFG)
MESSAGES = announce(CFG)


def test_every_message_is_a_retained_json_object_on_a_per_entity_topic() -> None:
    assert MESSAGES
    for message in MESSAGES:
        assert message.retain is True
        assert message.qos == 1
        prefix, component, node_id, object_id, last = message.topic.split("/")
        assert (prefix, node_id, last) == ("homeassistant", TOPICS.node_id, "config")
        assert component in DOCUMENTED  # never the device-based `…/device/…` form
        assert TOPIC_ID.match(node_id)
        assert TOPIC_ID.match(object_id)
        payload = json.loads(message.payload.decode("utf-8"))
        assert isinstance(payload, dict)
        assert payload["object_id"] == object_id


def test_every_entity_uses_only_documented_full_keys_and_has_the_required_ones() -> None:
    for component, payload in parsed(MESSAGES).values():
        assert set(payload) <= DOCUMENTED[component], component
        assert REQUIRED[component] <= set(payload), component


def test_every_entity_has_availability_and_the_one_cocoon_device() -> None:
    for _component, payload in parsed(MESSAGES).values():
        # The list form, with the payloads in the list's item (not at the top level).
        assert payload["availability"] == [
            {
                "topic": "cocoon/flat/status",
                "payload_available": "online",
                "payload_not_available": "offline",
            }
        ]
        assert TOPICS.availability == "cocoon/flat/status"
        assert payload["device"] == {
            "identifiers": ["cocoon_flat"],
            "name": "Cocoon Flat",
            "manufacturer": "cocoon",
            "model": "cocoon daemon",
            "sw_version": VERSION,
        }


def test_every_entity_names_its_entity_id_both_ways() -> None:
    # 2024.3 reads object_id; 2026.4 and later read only default_entity_id.
    for component, payload in parsed(MESSAGES).values():
        assert payload["default_entity_id"] == f"{component}.{payload['object_id']}"
        assert payload["object_id"] == payload["unique_id"]
    buttons = of(MESSAGES, "button")
    assert buttons["Calm now"]["default_entity_id"] == "button.cocoon_flat_calm_calm_now"
    (care,) = [c for c in of(MESSAGES, "sensor").values() if c["name"] == "Plants needing care"]
    assert care["default_entity_id"] == "sensor.cocoon_flat_plants_needing_care"


def test_every_entity_says_where_it_comes_from() -> None:
    for _component, payload in parsed(MESSAGES).values():
        origin = payload["origin"]
        assert origin == {"name": "cocoon", "sw_version": VERSION}


def test_a_button_per_calm_mode_and_per_ritual() -> None:
    buttons = of(MESSAGES, "button")
    assert set(buttons) == {"Calm now", "Very calm", "Morning tea now", "Evening glow now"}
    assert buttons["Calm now"]["command_topic"] == "cocoon/flat/button/calm_now/press"
    assert buttons["Morning tea now"]["command_topic"] == TOPICS.button("morning_tea")
    assert buttons["Evening glow now"]["command_topic"] == TOPICS.button("evening")
    assert all(b["payload_press"] == "PRESS" for b in buttons.values())


def test_in_a_fleet_buttons_stamp_their_press_and_keep_it_for_the_next_owner() -> None:
    fleet = discovery_messages(CFG, Topics.for_worker(CFG, "w1"), VERSION)
    for component, payload in parsed(fleet).values():
        assert set(payload) <= DOCUMENTED[component] | {"availability_mode"}, component
        assert [a["topic"] for a in payload["availability"]] == [
            "cocoon/workers/w1/status",
            "cocoon/flat/status",
        ]
        assert payload["availability_mode"] == "all"
    for button in of(fleet, "button").values():
        assert button["retain"] is True
        assert button["payload_press"] == "PRESS"
        assert button["command_template"] == (
            '{"press":"{{ value }}","at":{{ now().timestamp() | int }}}'
        )
    assert not any(
        "retain" in b or "command_template" in b for b in of(MESSAGES, "button").values()
    )


def test_the_mode_select_offers_off_and_each_calm_mode_by_name() -> None:
    (select,) = of(MESSAGES, "select").values()
    assert select["name"] == "Mode"
    # The button's label where one is given, else the id made readable.
    assert select["options"] == ["Off", "Calm now", "Very calm"]
    assert select["command_topic"] == TOPICS.mode_set == "cocoon/flat/mode/set"
    assert select["state_topic"] == TOPICS.mode


def test_the_hands_off_switch() -> None:
    (switch,) = of(MESSAGES, "switch").values()
    assert switch["name"] == "Hands off"
    assert switch["command_topic"] == TOPICS.hands_off_set
    assert switch["state_topic"] == TOPICS.hands_off
    assert (switch["payload_on"], switch["payload_off"]) == ("ON", "OFF")
    assert switch["icon"].startswith("mdi:")


def test_the_sensors() -> None:
    sensors = of(MESSAGES, "sensor")
    assert set(sensors) == {"Next ritual", "Active scene", "Plants needing care"}
    assert sensors["Next ritual"]["device_class"] == "timestamp"
    assert sensors["Next ritual"]["state_topic"] == TOPICS.next_ritual
    assert sensors["Active scene"]["state_topic"] == TOPICS.active_scene
    care = sensors["Plants needing care"]
    assert care["state_topic"] == TOPICS.plants_needing_care
    assert care["state_class"] == "measurement"
    assert care["icon"] == "mdi:flower"


def test_a_problem_binary_sensor_per_plant() -> None:
    plants = of(MESSAGES, "binary_sensor")
    del plants["Problem"]
    assert set(plants) == {"Monstera", "Little fern"}
    assert plants["Monstera"]["state_topic"] == TOPICS.plant("monstera")
    assert plants["Little fern"]["state_topic"] == "cocoon/flat/plant/fern"
    for plant in plants.values():
        assert plant["device_class"] == "problem"
        assert (plant["payload_on"], plant["payload_off"]) == ("ON", "OFF")


def test_a_diagnostic_problem_sensor_carries_the_reasons_as_attributes() -> None:
    problem = of(MESSAGES, "binary_sensor")["Problem"]
    assert problem["device_class"] == "problem"
    assert problem["entity_category"] == "diagnostic"
    assert problem["state_topic"] == problem["json_attributes_topic"] == TOPICS.problems
    assert problem["default_entity_id"] == "binary_sensor.cocoon_flat_problem"


def test_unique_ids_are_unique_and_built_from_config_ids() -> None:
    ids = [json.loads(m.payload)["unique_id"] for m in MESSAGES]
    assert len(ids) == len(set(ids))
    assert set(ids) == {
        "cocoon_flat_calm_calm_now",
        "cocoon_flat_calm_deep_calm",
        "cocoon_flat_ritual_morning_tea",
        "cocoon_flat_ritual_evening",
        "cocoon_flat_mode",
        "cocoon_flat_hands_off",
        "cocoon_flat_next_ritual",
        "cocoon_flat_active_scene",
        "cocoon_flat_plants_needing_care",
        "cocoon_flat_plant_monstera",
        "cocoon_flat_plant_fern",
        "cocoon_flat_problem",
    }


def test_renaming_labels_keeps_unique_ids_and_topics() -> None:
    renamed = config(
        calm_modes={
            "calm_now": {"scene": "calm", "button": "Breathe"},
            "deep_calm": {"scene": "calm"},
        },
        plants={
            "monstera": {"moisture": {"sensor": "soil", "below": 25}, "name": "Big leaf"},
            "fern": {"moisture": {"sensor": "soil", "below": 30}},
        },
    )
    again = announce(renamed)
    assert [m.topic for m in again] == [m.topic for m in MESSAGES]
    assert set(parsed(again)) == set(parsed(MESSAGES))
    assert "Breathe" in of(again, "button")


def test_the_same_config_gives_the_same_bytes() -> None:
    assert announce(config()) == MESSAGES


def test_the_discovery_prefix_and_base_topic_come_from_the_config() -> None:
    cfg = config(mqtt={"discovery_prefix": "ha", "base_topic": "calm"})
    messages = announce(cfg)
    assert all(m.topic.startswith("ha/") for m in messages)
    (select,) = of(messages, "select").values()
    assert select["command_topic"] == "calm/flat/mode/set"


def test_a_home_without_rituals_modes_or_plants_still_has_its_controls() -> None:
    cfg = config(rituals={}, calm_modes={}, plants={})
    components = sorted(comp for comp, _ in parsed(announce(cfg)).values())
    # No next ritual: its sensor could only ever say "unknown" (Home Assistant 2024.3
    # warns at each "None" for a timestamp).
    assert components == ["binary_sensor", "select", "sensor", "sensor", "switch"]
    assert not any("next_ritual" in topic for topic in parsed(announce(cfg)))
    (select,) = of(announce(cfg), "select").values()
    assert select["options"] == ["Off"]


def test_non_ascii_names_are_valid_utf8_json() -> None:
    cfg = config(calm_modes={"calm_now": {"scene": "calm", "button": "Rust · kalmte"}})
    buttons = of(announce(cfg), "button")
    assert "Rust · kalmte" in buttons


def test_removed_entities_get_empty_retained_configs() -> None:
    smaller = config(
        plants={"monstera": {"moisture": {"sensor": "soil", "below": 25}}},
        rituals={"morning_tea": {"at": "07:15", "duration": "20min", "scene": "calm"}},
    )
    now = announce(smaller)
    previous = [m.topic for m in MESSAGES]
    gone = stale_discovery(previous, now)
    assert gone == [
        Message(
            "homeassistant/button/cocoon_flat/cocoon_flat_ritual_evening/config",
            b"",
            qos=1,
            retain=True,
        ),
        Message(
            "homeassistant/binary_sensor/cocoon_flat/cocoon_flat_plant_fern/config",
            b"",
            qos=1,
            retain=True,
        ),
    ]


@pytest.mark.parametrize(
    "previous",
    [[], [m.topic for m in MESSAGES], [m.topic for m in MESSAGES[:3]]],
)
def test_nothing_to_remove_when_nothing_was_dropped(previous: list[str]) -> None:
    assert stale_discovery(previous, MESSAGES) == []


def test_a_topic_announced_twice_is_cleared_once() -> None:
    old = "homeassistant/button/cocoon_flat/cocoon_flat_calm_gone/config"
    assert stale_discovery([old, old], MESSAGES) == [Message(old, b"", qos=1, retain=True)]
