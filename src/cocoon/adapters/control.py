"""cocoon's own MQTT surface: presses and switches in, its status out (pure)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from cocoon.adapters.labels import (
    MODE_OFF,
    active_label,
    button_id,
    mode_from_option,
    mode_label,
    mode_options,
)
from cocoon.adapters.topics import Topics
from cocoon.config.schema import CocoonConfig
from cocoon.core.events import Announce, Event, Press, SelectMode, SetHandsOff
from cocoon.core.status import Status
from cocoon.ports import Message

PRESS = "PRESS"
PRESS_KEEP = 60.0
"""Seconds a retained press waits for a fleet's next owner of its home."""


SEEN_PRESSES = 64
"""Presses by id a home remembers, so that one told by several workers acts once."""


def stamped_press(at: float, ident: str | None = None) -> bytes:
    """A press that says when it was made (`at`, seconds since the epoch): what `cocoon
    trigger` sends, and Home Assistant's buttons in a fleet. One with an `ident` (a Home
    Assistant event's) acts once, however many workers pass it on."""
    document: dict[str, Any] = {"press": PRESS, "at": int(at)}
    if ident is not None:
        document["id"] = ident
    return json.dumps(document, separators=(",", ":")).encode()


def _pressed_at(text: str) -> tuple[float | None, str | None]:
    """When a press was made and its id: a stamped press's; None for a bare `PRESS`.
    Anything else raises ValueError."""
    if text in (PRESS, ""):
        return None, None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested past any press
        document = None
    at = document.get("at") if isinstance(document, dict) else None
    if (
        not isinstance(document, dict)
        or document.get("press") != PRESS
        or isinstance(at, bool)
        or not isinstance(at, int | float)
        or not math.isfinite(at)
    ):
        raise ValueError(
            f'a button press is {PRESS!r} or {{"press":"PRESS","at":…}}, not {text[:40]!r}'
        )
    ident = document.get("id")
    return float(at), ident if isinstance(ident, str) else None


class Control:
    """Turns messages on cocoon's command topics into events.

    In a fleet (`topics.fleet`), a press may be retained: made while its home was between two
    workers, it is taken by the next owner when it subscribes, if it is younger than
    `PRESS_KEEP` seconds (`now` is the time, in seconds since the epoch).
    """

    def __init__(self, cfg: CocoonConfig, topics: Topics) -> None:
        self.cfg = cfg
        self.topics = topics
        self.fleet = topics.fleet
        self.seen: dict[str, None] = {}
        """The ids of the latest presses acted on, oldest first."""
        self._buttons = {topics.button(name): name for name in (*cfg.calm_modes, *cfg.rituals)}

    def button(self, topic: str) -> bool:
        """Whether `topic` is a button's (a calm mode's or ritual's press)."""
        return topic in self._buttons

    def handles(self, topic: str) -> bool:
        """Whether `topic` is one of cocoon's command topics."""
        return topic in self._buttons or topic in (
            self.topics.mode_set,
            self.topics.hands_off_set,
            self.topics.ha_status,
        )

    def decode(self, message: Message, now: float = 0.0) -> Event | None:
        """The event a command message asks for.

        Retained commands are ignored (a reconnect must never replay a press), but for a
        fleet's recent stamped presses. Junk raises ValueError saying what was wrong.
        """
        topic = message.topic
        if message.retain and topic != self.topics.ha_status and not self.fleet:
            return None
        text = message.payload.decode("utf-8", errors="strict").strip()
        if topic == self.topics.ha_status:
            return Announce("Home Assistant is online") if text == "online" else None
        if topic in self._buttons:
            at, ident = _pressed_at(text)
            if (
                self.fleet
                and (not message.payload or message.retain)
                and (at is None or not now - PRESS_KEEP <= at <= now + PRESS_KEEP)
            ):
                return None  # a press taken already (cleared), or too old to act on
            if ident is not None:
                if ident in self.seen:
                    return None  # told again by another worker
                self.seen[ident] = None
                if len(self.seen) > SEEN_PRESSES:
                    del self.seen[next(iter(self.seen))]
            return Press(self._buttons[topic])
        if message.retain:
            return None
        if topic == self.topics.mode_set:
            mode = mode_from_option(self.cfg, text)
            if mode is None:
                names = ", ".join(mode_options(self.cfg))
                ids = ", ".join([MODE_OFF, *self.cfg.calm_modes])
                raise ValueError(f"unknown mode {text[:40]!r} (known: {names}; or the ids {ids})")
            return SelectMode(mode)
        if text.upper() not in ("ON", "OFF"):
            raise ValueError(f"hands off is ON or OFF, not {text[:40]!r}")
        return SetHandsOff(text.upper() == "ON")


def status_document(status: Status) -> dict[str, Any]:
    """The status as JSON, for `cocoon status` and anything else that wants it."""
    return {
        "at": status.at.isoformat(),
        "mode": status.mode,
        "hands_off": status.hands_off,
        "active_scene": status.active_scene,
        "next_ritual": status.next_ritual,
        "next_ritual_at": None
        if status.next_ritual_at is None
        else status.next_ritual_at.isoformat(),
        "calm_until": {name: end.isoformat() for name, end in status.calm_until.items()},
        "plants": {name: plant.describe() for name, plant in status.plants.items()},
        "problems": list(status.problems),
        "devices": [{"device": d.device, "doing": d.doing, "why": d.why} for d in status.devices],
    }


def status_messages(cfg: CocoonConfig, topics: Topics, status: Status) -> list[Message]:
    """The retained state messages behind the Cocoon device's entities.

    The mode and the active scene are sent by name, as the select and the sensor show
    them; the whole status (`topics.state`) keeps the ids, for programs.
    """

    def retained(topic: str, payload: str) -> Message:
        return Message.text(topic, payload, qos=1, retain=True)

    next_at = "None" if status.next_ritual_at is None else status.next_ritual_at.isoformat()
    messages = [
        retained(topics.mode, mode_label(cfg, status.mode)),
        retained(topics.hands_off, "ON" if status.hands_off else "OFF"),
        retained(topics.active_scene, active_label(cfg, status.active_scene)),
        retained(topics.plants_needing_care, str(status.plants_needing_care)),
    ]
    if cfg.rituals:
        messages.append(retained(topics.next_ritual, next_at))
    for name, plant in status.plants.items():
        messages.append(retained(topics.plant(name), "ON" if plant.needs_care else "OFF"))
    problems = json.dumps({"problems": list(status.problems)}, separators=(",", ":"))
    messages.append(retained(topics.problems, problems))
    document = status_document(status)
    messages.append(retained(topics.state, json.dumps(document, separators=(",", ":"))))
    return messages


def passed_on(
    cfg: CocoonConfig, topics: Topics, event: Mapping[str, Any], now: float
) -> Message | None:
    """A `cocoon_trigger` event as its button's press in a fleet (stamped with `now`,
    seconds since the epoch; retained; with the event's id, so that the home's owner
    acts on it once however many workers pass it on); None when it names no button."""
    name = (event.get("data") or {}).get("name")
    button = button_id(cfg, name) if isinstance(name, str) else None
    if button is None:
        return None
    context = event.get("context")
    ident = context.get("id") if isinstance(context, dict) else None
    press = stamped_press(now, ident if isinstance(ident, str) else None)
    return Message(topics.button(button), press, qos=1, retain=True)
