"""A Home Assistant dashboard for one home's Cocoon device, as data (pure).

`cocoon dashboard` prints it as YAML, ready for the raw configuration editor. The
entity ids come from the discovery builders themselves (`discovery.entities`), so the
dashboard names exactly the entities cocoon announces, and each card carries the name
the entity has there (the configured names of calm modes, rituals and plants). The
lights and thermostats cocoon reaches through Home Assistant are added under their
own entity ids, a section per room; those reached through Zigbee2MQTT are left out,
as their Home Assistant entity ids are Home Assistant's to choose.

One view in the sections layout (`type: sections`), written for Home Assistant 2024.3
(where sections were new) and every release since:

- a section's `title` is what 2024.3 shows; later releases turn it into a heading card
  when they load the dashboard;
- tap actions are `call-service`, the name 2024.3 knows (2024.8 renamed it
  `perform-action` and still accepts this one);
- card sizes are `layout_options` (2024.3's); later releases read them as `grid_options`;
- tile features are ones 2024.3 has: `select-options`, `light-brightness`,
  `target-temperature`.
"""

from __future__ import annotations

import textwrap

import yaml

from cocoon.adapters.discovery import Entity, entities
from cocoon.adapters.topics import Topics
from cocoon.config.schema import CocoonConfig

OTHER_ROOM = "Lights and heating"
"""The section of the devices that have no room."""

Card = dict[str, object]


def _press(entity: Entity) -> dict[str, object]:
    return {
        "action": "call-service",
        "service": "button.press",
        "target": {"entity_id": entity.entity_id},
    }


def _name(entity: Entity) -> str:
    return str(entity.config["name"])


def _tile(entity: Entity, **extra: object) -> Card:
    return {"type": "tile", "entity": entity.entity_id, "name": _name(entity), **extra}


def _calm_button(entity: Entity) -> Card:
    # The one thing to find when it is all too much: large, one tap, nothing to
    # confirm, no state to read.
    return {
        "type": "button",
        "entity": entity.entity_id,
        "name": _name(entity),
        "icon": "mdi:meditation",
        "show_name": True,
        "show_icon": True,
        "show_state": False,
        "tap_action": _press(entity),
        "hold_action": {"action": "none"},
        "layout_options": {"grid_columns": 4, "grid_rows": 3},
    }


def _section(title: str, cards: list[Card]) -> dict[str, object]:
    return {"type": "grid", "title": title, "cards": cards}


def _rooms(cfg: CocoonConfig) -> list[dict[str, object]]:
    rooms: dict[str, list[Card]] = {}
    for device_id, device in cfg.devices.items():
        if device.entity is None or device.kind == "sensor":
            continue
        card: Card = {
            "type": "tile",
            "entity": device.entity,
            "name": cfg.display_name("devices", device_id),
        }
        if device.kind == "light":
            card["features"] = [{"type": "light-brightness"}]
        else:
            card["features"] = [{"type": "target-temperature"}]
        rooms.setdefault(device.room or OTHER_ROOM, []).append(card)
    return [_section(room, cards) for room, cards in rooms.items()]


def _plants(cfg: CocoonConfig, shown: dict[str, Entity]) -> list[Card]:
    cards: list[Card] = []
    for plant_id, plant in cfg.plants.items():
        cards.append(_tile(shown[f"plants.{plant_id}"]))
        for kind, threshold in plant.thresholds().items():
            sensor = cfg.devices.get(threshold.sensor)
            if sensor is not None and sensor.entity is not None:
                name = f"{cfg.display_name('plants', plant_id)} {kind}"
                cards.append({"type": "tile", "entity": sensor.entity, "name": name})
    return cards


def dashboard(cfg: CocoonConfig) -> dict[str, object]:
    """The dashboard of `cfg`'s home: calm, now, rituals, plants, then a section per room."""
    shown = {entity.stands_for: entity for entity in entities(cfg, Topics.for_config(cfg))}
    calm = [_calm_button(shown[f"calm_modes.{mode}"]) for mode in cfg.calm_modes]
    calm += [
        _tile(shown["mode"], features=[{"type": "select-options"}]),
        _tile(shown["hands_off"], tap_action={"action": "toggle"}),
    ]
    now = [_tile(shown[key]) for key in ("active_scene", "next_ritual") if key in shown]
    if cfg.plants:
        now.append(_tile(shown["plants_needing_care"]))
    now.append(_tile(shown["problem"]))
    sections = [_section("Calm", calm), _section("Now", now)]
    if cfg.rituals:
        # A button's state is when it was last pressed: nothing a person needs to read.
        rituals = [
            _tile(button, hide_state=True, tap_action=_press(button))
            for button in (shown[f"rituals.{ritual}"] for ritual in cfg.rituals)
        ]
        sections.append(_section("Rituals", rituals))
    if cfg.plants:
        sections.append(_section("Plants", _plants(cfg, shown)))
    sections += _rooms(cfg)
    view = {
        "title": "Cocoon",
        "path": "cocoon",
        "icon": "mdi:meditation",
        "type": "sections",
        "sections": sections,
    }
    return {"title": f"Cocoon {cfg.home.name}", "views": [view]}


HOW_TO_ADD = (
    "Settings → Dashboards → Add dashboard → New dashboard from scratch; open it,"
    " ⋮ (or the pencil) → Edit dashboard → ⋮ → Raw configuration editor, replace"
    " everything with this text, Save."
)


def dashboard_yaml(cfg: CocoonConfig) -> str:
    """The dashboard as YAML under a short comment that says how to add it."""
    header = textwrap.wrap(
        f'Home Assistant dashboard for cocoon\'s home "{cfg.home.name}", made by'
        f" `cocoon dashboard`. To add it: {HOW_TO_ADD} Its entity ids are the ones cocoon"
        " announces through MQTT discovery: run `cocoon dashboard` again after changing"
        " the configuration.",
        width=86,
        break_on_hyphens=False,
    )
    body = yaml.safe_dump(
        dashboard(cfg), sort_keys=False, allow_unicode=True, default_flow_style=False, width=88
    )
    return "".join(f"# {line}\n" for line in header) + body
