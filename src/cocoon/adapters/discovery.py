"""Home Assistant MQTT discovery: the "Cocoon" device and its entities, as messages.

Pure builders, no I/O: the link publishes what these return. Each entity gets its own
retained config on `<discovery_prefix>/<component>/<node_id>/<object_id>/config`, the
per-entity form every Home Assistant understands (the device-based `…/device/…` form
is not known to 2024.3). Keys are written out in full, never abbreviated.

Entity ids hold on every version: Home Assistant up to 2026.3 takes the id from
`object_id`, 2026.4 and later only from `default_entity_id` (2025.10 to 2026.3 warn
about `object_id` alone), so each config carries both, with the same id. Every config
also says where it comes from (`origin`), which Home Assistant shows in its log and
which its device-based form requires.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from cocoon.adapters.labels import mode_options
from cocoon.adapters.topics import Topics
from cocoon.config.schema import CocoonConfig
from cocoon.ports import Message

PAYLOAD_AVAILABLE = "online"
PAYLOAD_NOT_AVAILABLE = "offline"
PAYLOAD_PRESS = "PRESS"
PAYLOAD_ON = "ON"
PAYLOAD_OFF = "OFF"
# Discovery configs must outlive a restart of Home Assistant and of the broker's
# clients, so they are retained, and sent at least once.
_QOS = 1


@dataclass(frozen=True, slots=True)
class Entity:
    """One Home Assistant entity of the Cocoon device, before it becomes a message."""

    component: str
    """button, select, switch, sensor or binary_sensor."""
    stands_for: str
    """What it shows or does: `calm_modes.<id>`, `rituals.<id>`, `plants.<id>`, or one
    of `mode`, `hands_off`, `next_ritual`, `active_scene`, `plants_needing_care`, `problem`."""
    object_id: str
    """Built from config ids only; also the unique_id, so renaming a label keeps the entity."""
    config: dict[str, object]
    """The component's own keys (name, topics, payloads...), without the shared ones."""

    @property
    def entity_id(self) -> str:
        """The id Home Assistant gives the entity (sent as `default_entity_id`)."""
        return f"{self.component}.{self.object_id}"

    def topic(self, topics: Topics) -> str:
        """The entity's discovery config topic."""
        return (
            f"{topics.discovery_prefix}/{self.component}/{topics.node_id}/{self.object_id}/config"
        )


def device_block(cfg: CocoonConfig, topics: Topics, version: str) -> dict[str, object]:
    """The `device` mapping every entity carries, so Home Assistant groups them as one device."""
    return {
        "identifiers": [topics.node_id],
        "name": f"Cocoon {cfg.home.name}",
        "manufacturer": "cocoon",
        "model": "cocoon daemon",
        "sw_version": version,
    }


def origin_block(version: str) -> dict[str, object]:
    """The `origin` mapping every entity carries: the software that announced it."""
    return {"name": "cocoon", "sw_version": version}


PRESS_TEMPLATE = '{"press":"{{ value }}","at":{{ now().timestamp() | int }}}'
"""A fleet's buttons stamp their press with its time (`control.stamped_press`)."""


def _press(topics: Topics) -> dict[str, object]:
    """How a button presses: `PRESS`, or in a fleet a stamped press, retained, so that a
    home between two workers gets it from the broker when its next owner subscribes."""
    if not topics.fleet:
        return {"payload_press": PAYLOAD_PRESS}
    return {"payload_press": PAYLOAD_PRESS, "command_template": PRESS_TEMPLATE, "retain": True}


def _buttons(cfg: CocoonConfig, topics: Topics) -> list[Entity]:
    found = [
        Entity(
            "button",
            f"calm_modes.{mode}",
            f"{topics.node_id}_calm_{mode}",
            {
                "name": cfg.display_name("calm_modes", mode),
                "command_topic": topics.button(mode),
                **_press(topics),
                "icon": "mdi:meditation",
            },
        )
        for mode in cfg.calm_modes
    ]
    found += [
        Entity(
            "button",
            f"rituals.{ritual}",
            f"{topics.node_id}_ritual_{ritual}",
            {
                "name": f"{cfg.display_name('rituals', ritual)} now",
                "command_topic": topics.button(ritual),
                **_press(topics),
                "icon": "mdi:calendar-clock",
            },
        )
        for ritual in cfg.rituals
    ]
    return found


def _controls(cfg: CocoonConfig, topics: Topics) -> list[Entity]:
    mode = Entity(
        "select",
        "mode",
        f"{topics.node_id}_mode",
        {
            "name": "Mode",
            "command_topic": topics.mode_set,
            "state_topic": topics.mode,
            # The calm modes by name; the command topic takes a name or an id.
            "options": mode_options(cfg),
            "icon": "mdi:weather-night",
        },
    )
    hands_off = Entity(
        "switch",
        "hands_off",
        f"{topics.node_id}_hands_off",
        {
            "name": "Hands off",
            "command_topic": topics.hands_off_set,
            "state_topic": topics.hands_off,
            "payload_on": PAYLOAD_ON,
            "payload_off": PAYLOAD_OFF,
            # The switch reports what cocoon says, not what was pressed: state_on/off
            # default to the payloads, stated here so the contract is visible.
            "state_on": PAYLOAD_ON,
            "state_off": PAYLOAD_OFF,
            "icon": "mdi:hand-back-right-off",
        },
    )
    return [mode, hands_off]


def _sensors(cfg: CocoonConfig, topics: Topics) -> list[Entity]:
    next_ritual = Entity(
        "sensor",
        "next_ritual",
        f"{topics.node_id}_next_ritual",
        {
            "name": "Next ritual",
            "state_topic": topics.next_ritual,
            "device_class": "timestamp",
            "icon": "mdi:calendar-clock",
        },
    )
    # A home without rituals has no next one: no sensor that could only say "unknown".
    found = [next_ritual] if cfg.rituals else []
    found += [
        Entity(
            "sensor",
            "active_scene",
            f"{topics.node_id}_active_scene",
            {"name": "Active scene", "state_topic": topics.active_scene, "icon": "mdi:palette"},
        ),
        Entity(
            "sensor",
            "plants_needing_care",
            f"{topics.node_id}_plants_needing_care",
            {
                "name": "Plants needing care",
                "state_topic": topics.plants_needing_care,
                "state_class": "measurement",
                "icon": "mdi:flower",
            },
        ),
        Entity(
            "binary_sensor",
            "problem",
            f"{topics.node_id}_problem",
            {
                # On while anything keeps cocoon from doing its work (the state disk,
                # Home Assistant, a device Zigbee2MQTT does not know); the reasons are
                # its attributes.
                "name": "Problem",
                "state_topic": topics.problems,
                "value_template": "{{ 'ON' if value_json.problems else 'OFF' }}",
                "json_attributes_topic": topics.problems,
                "device_class": "problem",
                "entity_category": "diagnostic",
                "payload_on": PAYLOAD_ON,
                "payload_off": PAYLOAD_OFF,
            },
        ),
    ]
    found += [
        Entity(
            "binary_sensor",
            f"plants.{plant}",
            f"{topics.node_id}_plant_{plant}",
            {
                "name": cfg.display_name("plants", plant),
                "state_topic": topics.plant(plant),
                "device_class": "problem",
                "payload_on": PAYLOAD_ON,
                "payload_off": PAYLOAD_OFF,
            },
        )
        for plant in cfg.plants
    ]
    return found


def entities(cfg: CocoonConfig, topics: Topics) -> list[Entity]:
    """Every entity of the Cocoon device: buttons, the mode select, the switch, the sensors."""
    return [*_buttons(cfg, topics), *_controls(cfg, topics), *_sensors(cfg, topics)]


def config_payload(
    entity: Entity, cfg: CocoonConfig, topics: Topics, version: str
) -> dict[str, object]:
    """The whole discovery config of one entity: its own keys plus the shared ones."""
    return {
        **entity.config,
        "unique_id": entity.object_id,
        "object_id": entity.object_id,
        "default_entity_id": entity.entity_id,
        "availability": [
            {
                "topic": topic,
                "payload_available": PAYLOAD_AVAILABLE,
                "payload_not_available": PAYLOAD_NOT_AVAILABLE,
            }
            for topic in topics.availabilities
        ],
        # In a building: available while the process and the home both say so.
        **({"availability_mode": "all"} if topics.process else {}),
        "qos": _QOS,
        "device": device_block(cfg, topics, version),
        "origin": origin_block(version),
    }


def discovery_messages(cfg: CocoonConfig, topics: Topics, version: str) -> list[Message]:
    """The retained discovery configs of every entity of the Cocoon device."""
    return [
        Message(
            entity.topic(topics),
            json.dumps(config_payload(entity, cfg, topics, version), ensure_ascii=False).encode(),
            qos=_QOS,
            retain=True,
        )
        for entity in entities(cfg, topics)
    ]


def stale_discovery(previous: Iterable[str], current: list[Message]) -> list[Message]:
    """Empty retained configs for topics announced before but not now.

    An empty retained payload both removes the entity from Home Assistant and clears
    the broker's retained copy, so an entity dropped from the config does not linger.
    """
    announced = {message.topic for message in current}
    gone = dict.fromkeys(topic for topic in previous if topic not in announced)
    return [Message(topic, b"", qos=_QOS, retain=True) for topic in gone]
