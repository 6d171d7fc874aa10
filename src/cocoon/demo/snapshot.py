"""Reading a frame of the demo from the running daemon and the simulated devices."""

from __future__ import annotations

from datetime import date, datetime

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.app import Daemon
from cocoon.config.schema import CocoonConfig
from cocoon.core.plants import reading_key
from cocoon.core.status import Status
from cocoon.core.sun import SunTimes, sun_times
from cocoon.demo.feed import Feed
from cocoon.demo.view import Frame, HeatLook, LightLook, PlantLook, Room

_FULL = 254
_UNITS = {"moisture": "%", "illuminance": "lx", "temperature": "°C"}
_OTHER_ROOM = "Elsewhere"


def sun_words(times: SunTimes, now: datetime) -> str:
    """Where the sun is at `now`, in a few words: `up, sets 16:52`, `dawn`, `down`."""
    if times.polar is not None:
        return times.polar
    zone = now.tzinfo

    def clock(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%H:%M")

    if times.sunrise is not None and now < times.sunrise:
        if times.dawn is not None and now >= times.dawn:
            return f"dawn, rises {clock(times.sunrise)}"
        return f"down, rises {clock(times.sunrise)}"
    if times.sunset is not None and now < times.sunset:
        return f"up, sets {clock(times.sunset)}"
    if times.dusk is not None and now < times.dusk:
        return "dusk"
    return "down"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class Snapshots:
    """Makes frames of the running demo: the daemon's status and what the devices report."""

    def __init__(
        self, cfg: CocoonConfig, daemon: Daemon, sim: Zigbee2MqttSimulator, feed: Feed, speed: float
    ) -> None:
        self.cfg = cfg
        self.daemon = daemon
        self.sim = sim
        self.feed = feed
        self.speed = speed
        self._sun: dict[date, SunTimes] = {}

    def frame(self) -> Frame:
        """What the home looks like now."""
        cfg = self.cfg
        now = self.daemon.clock.now().astimezone(cfg.home.zone)
        day = now.date()
        if day not in self._sun:
            self._sun[day] = sun_times(cfg.home, day)
        status = self.daemon.engine.status
        return Frame(
            home=cfg.home.name,
            now=now,
            speed=self.speed,
            sun=sun_words(self._sun[day], now),
            active=self._active(status),
            next_ritual=self._next(status, now),
            rooms=self._rooms(status),
            events=self.feed.latest(),
        )

    def _clock(self, moment: datetime) -> str:
        return moment.astimezone(self.cfg.home.zone).strftime("%H:%M")

    def _active(self, status: Status | None) -> tuple[str, ...]:
        if status is None or status.active_scene == "none":
            return ()
        cfg, runs = self.cfg, self.daemon.engine.state.runs
        found: list[str] = []
        for layer in status.active_scene.split(", "):
            kind, _, name = layer.partition(" ")
            if kind == "ritual" and name in cfg.rituals:
                run = runs.get(name)
                # Past its end a ritual is only handing back: it is not in force until then.
                until = "" if run is None else f" until {self._clock(run.end)}"
                if run is not None and run.end <= self.daemon.clock.now():
                    until = " (fading out)"
                found.append(f"{cfg.display_name('rituals', name)}{until}")
            elif kind == "plant" and name.removesuffix(" cue") in cfg.plants:
                found.append(f"{cfg.display_name('plants', name.removesuffix(' cue'))} cue")
            elif layer in cfg.calm_modes:
                end = status.calm_until.get(layer)
                ends = f" until {self._clock(end)}" if end is not None else " (fading out)"
                found.append(f"{cfg.display_name('calm_modes', layer)}{ends}")
            else:
                found.append(layer)
        return tuple(found)

    def _next(self, status: Status | None, now: datetime) -> str | None:
        if status is None or status.next_ritual is None or status.next_ritual_at is None:
            return None
        at = status.next_ritual_at.astimezone(self.cfg.home.zone)
        when = f"{at:%H:%M}" if at.date() == now.date() else f"{at:%a %H:%M}"
        return f"{self.cfg.display_name('rituals', status.next_ritual)} at {when}"

    def _rooms(self, status: Status | None) -> tuple[Room, ...]:
        cfg = self.cfg
        lights: dict[str, list[LightLook]] = {}
        heat: dict[str, list[HeatLook]] = {}
        plants: dict[str, list[PlantLook]] = {}
        order: list[str] = []
        for device_id, device in cfg.devices.items():
            room = device.room or _OTHER_ROOM
            if room not in order:
                order.append(room)
            if device.zigbee2mqtt is None or device.kind == "sensor":
                continue
            state = self.sim.state(device.zigbee2mqtt)
            name = cfg.display_name("devices", device_id)
            if device.kind == "light":
                brightness = _number(state.get("brightness")) or 0.0
                mireds = _number(state.get("color_temp"))
                light = LightLook(
                    name,
                    state.get("state") == "ON",
                    brightness * 100 / _FULL,
                    None if not mireds else 1e6 / mireds,
                )
                lights.setdefault(room, []).append(light)
            else:
                setpoint = _number(state.get("current_heating_setpoint"))
                current = _number(state.get("local_temperature"))
                heat.setdefault(room, []).append(HeatLook(name, setpoint, current))
        for plant_id, plant in cfg.plants.items():
            readings: list[str] = []
            room = _OTHER_ROOM
            for kind, threshold in plant.thresholds().items():
                sensor, key = reading_key(cfg, kind, threshold)
                device = cfg.devices[sensor]
                room = device.room or room
                value = _number(self.sim.state(device.zigbee2mqtt or "").get(key))
                if value is not None:
                    readings.append(f"{kind} {value:g} {_UNITS[kind]}")
            known = status.plants.get(plant_id) if status is not None else None
            words, needs = ("…", False) if known is None else (known.describe(), known.needs_care)
            look = PlantLook(
                cfg.display_name("plants", plant_id), words, needs, ", ".join(readings)
            )
            plants.setdefault(room, []).append(look)
            if room not in order:
                order.append(room)
        return tuple(
            Room(
                room,
                tuple(lights.get(room, ())),
                tuple(heat.get(room, ())),
                tuple(plants.get(room, ())),
            )
            for room in order
            if room in lights or room in heat or room in plants
        )
