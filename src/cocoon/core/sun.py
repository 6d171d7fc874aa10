"""Sun times for one day, safe at any latitude: an event that does not happen is `None`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from astral import Observer
from astral import sun as astral_sun

from cocoon.config.schema import Home
from cocoon.config.values import SunEvent


@dataclass(frozen=True, slots=True)
class SunTimes:
    """The sun events (UTC instants) of one local date; `None` for one that does not happen."""

    day: date
    dawn: datetime | None
    sunrise: datetime | None
    noon: datetime
    sunset: datetime | None
    dusk: datetime | None
    elevation_at_noon: float

    def get(self, event: SunEvent) -> datetime | None:
        """The time of one event by name."""
        value: datetime | None = getattr(self, event)
        return value

    @property
    def polar(self) -> str | None:
        """'polar day' or 'polar night' when the sun neither rises nor sets, else None."""
        if self.sunrise is not None or self.sunset is not None:
            return None
        return "polar day" if self.elevation_at_noon > 0 else "polar night"


def _observer(home: Home) -> Observer:
    return Observer(latitude=home.latitude, longitude=home.longitude, elevation=home.elevation)


def _event(name: str, observer: Observer, day: date, zone: ZoneInfo) -> datetime | None:
    function = getattr(astral_sun, name)
    try:
        value: datetime = function(observer, day, tzinfo=zone)
    except ValueError:
        # astral raises when the sun does not cross the event's elevation that day.
        return None
    return value.astimezone(UTC)


def sun_times(home: Home, day: date) -> SunTimes:
    """Dawn, sunrise, noon, sunset and dusk of `day` in the home's time zone.

    astral answers for an evening event that falls after midnight with the *previous*
    evening's time (Oslo in June: dusk 00:30 on the same date, before dawn). An evening
    event before noon therefore belongs to the night before; this day's one is taken
    from the next date when it also falls after midnight.
    """
    zone = home.zone
    observer = _observer(home)
    noon = astral_sun.noon(observer, day, tzinfo=zone).astimezone(UTC)
    morning = {name: _event(name, observer, day, zone) for name in ("dawn", "sunrise")}
    evening: dict[str, datetime | None] = {}
    for name in ("sunset", "dusk"):
        value = _event(name, observer, day, zone)
        if value is not None and value < noon:
            following = _event(name, observer, day + timedelta(days=1), zone)
            next_noon = noon + timedelta(days=1)
            value = following if following is not None and following < next_noon else None
        evening[name] = value
    for name, value in morning.items():
        if value is not None and value > noon:
            morning[name] = None
    return SunTimes(
        day=day,
        dawn=morning["dawn"],
        sunrise=morning["sunrise"],
        noon=noon,
        sunset=evening["sunset"],
        dusk=evening["dusk"],
        elevation_at_noon=astral_sun.elevation(observer, noon),
    )
