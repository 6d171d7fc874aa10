"""Reading a frame of the demo from the running daemon and the simulated devices."""

from __future__ import annotations

from datetime import date, datetime

from cocoon.adapters.simulator import Zigbee2MqttSimulator
from cocoon.adapters.z2m_bridge import FULL_BRIGHTNESS
from cocoon.app import Daemon
from cocoon.config.schema import CocoonConfig, Threshold
from cocoon.core.model import SensorReading
from cocoon.core.names import layer_name
from cocoon.core.plants import PlantStatus
from cocoon.core.status import Status
from cocoon.core.sun import SunTimes, sun_times
from cocoon.demo.feed import Feed
from cocoon.demo.view import Frame, HeatLook, LightLook, PlantLook, Room

_UNITS = {"moisture": "%", "illuminance": "lx", "temperature": "°C"}
_OTHER_ROOM = "Elsewhere"
# What a plant needs when a reading passes each bound, in a newcomer's words.
_NEED = {
    ("moisture", "below"): "thirsty",
    ("moisture", "above"): "too wet",
    ("illuminance", "below"): "too dark",
    ("illuminance", "above"): "too bright",
    ("temperature", "below"): "too cold",
    ("temperature", "above"): "too hot",
}


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


def reading_words(kind: str, threshold: Threshold, value: float, out: bool) -> str:
    """A reading with the threshold that tells how it stands: `moisture 22 % (below 25 %)`.

    `out` is cocoon's verdict (with its hysteresis); the words in brackets agree with it:
    the bound passed, how far back a plant in need must come, or where need begins.
    """
    unit = _UNITS[kind]

    def amount(number: float) -> str:
        return f"{number:g} {unit}"

    below, above = threshold.below, threshold.above
    if out and below is not None and value < below:
        why = f"below {amount(below)}"
    elif out and above is not None and value > above:
        why = f"above {amount(above)}"
    elif out and below is not None and value < below + threshold.hysteresis:
        why = f"fine again at {amount(below + threshold.hysteresis)} or more"
    elif out and above is not None:
        why = f"fine again at {amount(above - threshold.hysteresis)} or less"
    else:
        bounds = [f"{_NEED[(kind, 'below')]} below {amount(below)}"] if below is not None else []
        if above is not None:
            bounds.append(f"{_NEED[(kind, 'above')]} above {amount(above)}")
        why = ", ".join(bounds)
    return f"{kind} {amount(value)} ({why})"


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
            rooms=self._rooms(),
            events=self.feed.latest(),
        )

    def _clock(self, moment: datetime) -> str:
        return moment.astimezone(self.cfg.home.zone).strftime("%H:%M")

    def _active(self, status: Status | None) -> tuple[str, ...]:
        if status is None or status.active_scene == "none":
            return ()
        return tuple(
            layer_name(self.cfg, layer) + self._until(layer)
            for layer in status.active_scene.split(", ")
        )

    def _until(self, layer: str) -> str:
        """Until when a ritual or calm mode in force lasts, or that it is fading out."""
        state, now = self.daemon.engine.state, self.daemon.clock.now()
        kind, _, name = layer.partition(" ")
        if kind == "ritual" and name in self.cfg.rituals:
            run = state.runs.get(name)
            if run is None:
                return ""
            # Past its end a ritual is only handing back: it is not in force until then.
            return " (fading out)" if run.end <= now else f" until {self._clock(run.end)}"
        if layer in self.cfg.calm_modes:
            # The state, not the status: the status is drawn after each step and may
            # still name an end that the view's clock has passed.
            calm = state.calm.get(layer)
            if calm is not None and calm.end > now:
                return f" until {self._clock(calm.end)}"
            return " (fading out)"
        return ""

    def _next(self, status: Status | None, now: datetime) -> str | None:
        if status is None or status.next_ritual is None or status.next_ritual_at is None:
            return None
        name = self.cfg.display_name("rituals", status.next_ritual)
        at = status.next_ritual_at.astimezone(self.cfg.home.zone)
        if at <= now:
            # The status is drawn after each step: its next ritual may be starting now.
            return f"{name}, starting now"
        when = f"{at:%H:%M}" if at.date() == now.date() else f"{at:%H:%M} on {at:%a}"
        return f"{name} at {when}"

    def _reading(
        self, kind: str, threshold: Threshold, reading: SensorReading, known: PlantStatus | None
    ) -> str:
        if known is not None and kind in known.stale:
            return f"{kind} {reading.value:g} {_UNITS[kind]} (last heard {self._clock(reading.at)})"
        return reading_words(
            kind, threshold, reading.value, known is not None and kind in known.needs
        )

    def _rooms(self) -> tuple[Room, ...]:
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
                    brightness * 100 / FULL_BRIGHTNESS,
                    None if not mireds else 1e6 / mireds,
                )
                lights.setdefault(room, []).append(light)
            else:
                setpoint = _number(state.get("current_heating_setpoint"))
                current = _number(state.get("local_temperature"))
                heat.setdefault(room, []).append(HeatLook(name, setpoint, current))
        # The words and the numbers both come from what cocoon knows (its readings and the
        # plant statuses it drew from them, updated together): a sensor's newer value that
        # cocoon has not taken in yet would contradict the words for a moment.
        engine = self.daemon.engine
        for plant_id, plant in cfg.plants.items():
            known = engine.state.plants.get(plant_id)
            readings: list[str] = []
            unheard: set[str] = set()
            room = _OTHER_ROOM
            for kind, threshold in plant.thresholds().items():
                sensor = threshold.sensor
                room = cfg.devices[sensor].room or room
                reading = engine.readings.sensors.get((sensor, kind))
                if reading is not None:
                    readings.append(self._reading(kind, threshold, reading, known))
                else:
                    unheard.add(kind)
            words, needs = ("…", False) if known is None else (known.describe(), known.needs_care)
            for kind in sorted(unheard):
                # Right after the start nothing has reported yet: that is not a silence.
                words = words.replace(f"{kind} sensor silent", f"no {kind} reading yet")
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
