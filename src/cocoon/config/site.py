"""A site: the homes of a building, with their one broker and Home Assistant, in one file.

A file with a top-level `homes:` key is a site:

    mqtt: {host: 127.0.0.1}            # once, for every home
    home_assistant: {token: !secret ha_token}
    settings: {rate_limit: 10}         # site-wide defaults
    homes:
      flat_01: flats/flat_01.yaml      # a file of its own, relative to the site file
      flat_02: {home: {...}, devices: {...}}   # or written here

A home's file is a single home's format without `mqtt:` and `home_assistant:`; its
`settings:` override the site's key by key, except `rate_limit`, which paces a whole
Zigbee network (`site_home` reads each home). Any other file is a single home's file,
read as a site of one. Every problem names the file and line it comes from: a home
file's its own, an inline home's the site file's under `homes.<id>`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from cocoon.config.checks import did_you_mean
from cocoon.config.load import described_errors, located, top_mapping, validate_home
from cocoon.config.messages import kind_of
from cocoon.config.positions import Document, FieldPath
from cocoon.config.reader import read_document
from cocoon.config.schema import CocoonConfig, HomeAssistant, Model, Mqtt, Settings
from cocoon.config.site_home import HOMES, SHARED, Source, home_config, home_source, split
from cocoon.errors import ConfigError, Located

__all__ = ["Site", "SiteReading", "load_site", "read_site"]

_LOGGER = logging.getLogger(__name__)

_SITE_KEYS = (*SHARED, HOMES)
_ID = re.compile(r"[a-z][a-z0-9_]*")
_ID_LENGTH = 64


class _SiteSections(Model):
    """The sections a site file holds besides its homes."""

    mqtt: Mqtt | None = None
    home_assistant: HomeAssistant | None = None
    settings: Settings = Settings()


@dataclass(frozen=True, slots=True)
class Site:
    """The homes cocoon serves, each a whole configuration with the site's connections."""

    path: Path
    homes: Mapping[str, CocoonConfig]
    """Each home by its id, in the order of the file; `home.id` is set to that id, the
    site's `mqtt` and `home_assistant` are in it, and its settings over the site's."""
    files: Mapping[str, Path]
    """The file each home was read from: its own, or the site file for a home written there."""
    mqtt: Mqtt | None
    home_assistant: HomeAssistant | None
    settings: Settings
    """The site-wide settings (`rate_limit` among them)."""
    single: bool = False
    """A single home's file (no `homes:`): its id is its name as an id, as ever."""

    @classmethod
    def of_home(cls, cfg: CocoonConfig, path: Path = Path("cocoon.yaml")) -> Site:
        """A single home's configuration (read from `path`) as a site of one."""
        ident = cfg.home.ident
        return cls(
            path=path,
            homes={ident: cfg},
            files={ident: path},
            mqtt=cfg.mqtt,
            home_assistant=cfg.home_assistant,
            settings=cfg.settings,
            single=True,
        )

    def home(self, ident: str | None = None) -> CocoonConfig:
        """The home `ident`; None for the only one of a site of one. Raises ConfigError."""
        if ident is None and len(self.homes) == 1:
            return next(iter(self.homes.values()))
        if ident is not None and ident in self.homes:
            return self.homes[ident]
        known = ", ".join(self.homes) or "none could be read"
        if ident is None:
            message = f"{len(self.homes)} homes here; say which one: {known}"
        else:
            hint = did_you_mean(ident, self.homes)
            message = f"no home '{ident}' here{hint} (homes here: {known})"
        raise ConfigError.at(str(self.path), message)


@dataclass(frozen=True, slots=True)
class SiteReading:
    """A site as far as it could be read: the homes that loaded, and those that did not."""

    site: Site
    broken: dict[str, ConfigError]
    """The homes whose file or entry has problems, each with all of them."""


@dataclass(frozen=True, slots=True)
class _Read:
    site: Site
    broken: dict[str, ConfigError]
    duplicates: list[Located]


def read_site(path: str | Path) -> SiteReading:
    """Read the site (or single home) at `path`; the homes with problems are set apart.

    Raises ConfigError for the problems of the site itself: its file (YAML, connections,
    settings, the shape of `homes:`), and a device in two homes; a single home's file
    with problems is one of those.
    """
    read = _read(Path(path))
    if read.duplicates:
        raise ConfigError(read.duplicates)
    return SiteReading(read.site, read.broken)


def load_site(path: str | Path) -> Site:
    """The site (or single home) at `path`; raises ConfigError with every problem of the
    site and of all its homes, each with its own file and line."""
    read = _read(Path(path))
    problems = [p for error in read.broken.values() for p in error.problems]
    if problems or read.duplicates:
        raise ConfigError([*problems, *read.duplicates])
    return read.site


def _read(path: Path) -> _Read:
    doc = read_document(path)
    data = top_mapping(doc)
    if HOMES not in data:
        return _Read(Site.of_home(validate_home(doc), path), {}, [])
    sections = _site_sections(doc, data)
    homes = data[HOMES]
    assert isinstance(homes, dict)  # checked with the sections
    loaded: dict[str, CocoonConfig] = {}
    sources: dict[str, Source] = {}
    broken: dict[str, ConfigError] = {}
    shared, inline = split(doc)
    for ident, entry in homes.items():
        try:
            source = home_source(doc, path, ident, entry, inline)
            loaded[ident] = home_config(shared, source, ident)
        except ConfigError as exc:
            broken[ident] = exc
        else:
            sources[ident] = source
    site = Site(
        path=path,
        homes=loaded,
        files={ident: source.file for ident, source in sources.items()},
        mqtt=sections.mqtt,
        home_assistant=sections.home_assistant,
        settings=sections.settings,
    )
    _LOGGER.debug("Read the site %s: %d homes, %d with problems", path, len(loaded), len(broken))
    return _Read(site, broken, _duplicates(loaded, sources))


def _site_sections(doc: Document, data: dict[str, object]) -> _SiteSections:
    """The site's connections and settings; raises ConfigError for every problem of the
    site file outside its homes (and for a `homes:` that is not a mapping of ids)."""
    problems: list[tuple[FieldPath, str]] = []
    for key in data:
        if key in _SITE_KEYS:
            continue
        if key in CocoonConfig.model_fields:
            message = "belongs in a home: in the home's file, or under homes: <id>:"
            problems.append(((key,), message))
        else:
            hint = did_you_mean(key, _SITE_KEYS)
            valid = hint or f" (a site file holds {', '.join(_SITE_KEYS)})"
            problems.append(((key,), f"unknown key '{key}'{valid}"))
    sections = None
    try:
        sections = _SiteSections.model_validate({k: data[k] for k in SHARED if k in data})
    except ValidationError as exc:
        problems += described_errors(doc, exc)
    homes = data[HOMES]
    if not isinstance(homes, dict) or not homes:
        found = "there is none" if isinstance(homes, dict) else f"not {kind_of(homes)}"
        problems.append(
            (
                (HOMES,),
                "name each home by its id: a file of its own (flat_01: flats/flat_01.yaml) "
                f"or its home:, devices:, … written under the id; {found}",
            )
        )
    else:
        for ident, entry in homes.items():
            if not _ID.fullmatch(ident) or len(ident) > _ID_LENGTH:
                message = (
                    f"'{ident}' is not a valid home id: use lower-case letters, digits and _,"
                    f" from a letter on, {_ID_LENGTH} at most"
                )
                problems.append(((HOMES, ident), message))
            elif not isinstance(entry, str | dict):
                message = (
                    "expected the path of the home's file, or its home:, devices:, … written "
                    f"here; not {kind_of(entry)}"
                )
                problems.append(((HOMES, ident), message))
    if problems or sections is None:
        raise ConfigError(located(doc, problems))
    return sections


def _duplicates(homes: Mapping[str, CocoonConfig], sources: Mapping[str, Source]) -> list[Located]:
    """A Zigbee2MQTT device or Home Assistant entity in two homes, named in the second."""
    first: dict[tuple[str, ...], tuple[str, str]] = {}
    problems: list[Located] = []
    for ident, cfg in homes.items():
        source = sources[ident]
        found: list[tuple[FieldPath, str]] = []
        for name, device in cfg.devices.items():
            if device.zigbee2mqtt is not None:
                network = cfg.mqtt.zigbee2mqtt_topic if cfg.mqtt else ""
                key: tuple[str, ...] = ("zigbee2mqtt", network, device.zigbee2mqtt)
                what = f"Zigbee2MQTT device '{device.zigbee2mqtt}'"
            else:
                key = ("entity", str(device.entity))
                what = f"Home Assistant entity {device.entity}"
            other_home, other_name = first.setdefault(key, (ident, name))
            if other_home == ident:
                continue
            at = sources[other_home].doc.locate(("devices", other_name))
            found.append(
                (
                    ("devices", name),
                    f"{what} is in two homes: {other_home} (its device {other_name},"
                    f" {at.file}:{at.line}) and {ident}; a device belongs to one home",
                )
            )
        problems += located(source.doc, found, source.prefix)
    return problems
