"""A home of a site file: where it is written, and its document with the site's parts.

A home is written under its id in the site file, or in a file of its own that the id
names. Either way it takes the site's connections (`mqtt:`, `home_assistant:`) and
settings: its own settings override the site's key by key, but for `rate_limit`, which
paces a whole Zigbee network; its own `mqtt:` names only the Zigbee2MQTT network its
devices are on. Every problem keeps the file and line it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cocoon.config.load import located, validate_home
from cocoon.config.messages import kind_of
from cocoon.config.positions import Document, FieldPath, Position, render_path
from cocoon.config.reader import SECRETS_FILE, read_document
from cocoon.config.schema import CocoonConfig
from cocoon.errors import ConfigError, Located

HOMES = "homes"
_CONNECTIONS = ("mqtt", "home_assistant")
_CONNECTION_PATHS = (("mqtt",), ("home_assistant",))
SHARED = (*_CONNECTIONS, "settings")
"""The sections of a site file that every home takes."""
_SITE_ONLY_SETTINGS = ("rate_limit",)
NETWORK = "zigbee2mqtt_topic"
"""The one setting of `mqtt:` a home may have: the Zigbee2MQTT network its devices are on."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a home was written: its part of a document, and its fields' prefix there."""

    doc: Document
    file: Path
    prefix: FieldPath
    """`homes.<id>` for a home written in the site file; nothing for a file of its own."""


@dataclass(frozen=True, slots=True)
class Inherited:
    """What every home of a site takes from the site file: its connections and settings."""

    sections: dict[str, object]
    positions: dict[FieldPath, Position]
    secrets: frozenset[str]
    secret_paths: frozenset[FieldPath]


def split(doc: Document) -> tuple[Inherited, dict[str, Document]]:
    """The site file's shared sections, and each home written in it as a document of its
    own (paths relative to the home), in one pass over the positions."""
    data = doc.data
    assert isinstance(data, dict)
    homes = data[HOMES]
    assert isinstance(homes, dict)
    shared: dict[FieldPath, Position] = {}
    parts: dict[str, dict[FieldPath, Position]] = {
        ident: {} for ident, entry in homes.items() if isinstance(entry, dict)
    }
    for path, at in doc.positions.items():
        if path[:1] == (HOMES,) and len(path) >= 2 and path[1] in parts:
            parts[str(path[1])][path[2:]] = at
        elif path and path[0] in SHARED:
            shared[path] = at
    secret_paths: dict[str, set[FieldPath]] = {ident: set() for ident in parts}
    for path in doc.secret_paths:
        if path[:1] == (HOMES,) and len(path) >= 2 and path[1] in parts:
            secret_paths[str(path[1])].add(path[2:])
    sections = {key: data[key] for key in SHARED if key in data}
    shared_secrets = frozenset(p for p in doc.secret_paths if p and p[0] in sections)
    inline = {
        ident: Document(homes[ident], positions, doc.secrets, frozenset(secret_paths[ident]))
        for ident, positions in parts.items()
    }
    return Inherited(sections, shared, doc.secrets, shared_secrets), inline


def home_source(
    site: Document, site_path: Path, ident: str, entry: object, inline: Mapping[str, Document]
) -> Source:
    """Where the home `ident` is written: under its id, or in the file its entry names."""
    prefix: FieldPath = (HOMES, ident)
    if not isinstance(entry, str):
        return Source(inline[ident], site_path, prefix)
    file = site_path.parent / entry
    try:
        doc = read_document(file, secrets_file=site_path.parent / SECRETS_FILE)
    except ConfigError as exc:
        if any(p.file != str(file) or p.line is not None for p in exc.problems):
            raise
        # The file cannot be read at all: the site file's entry is where to look.
        at = site.locate(prefix)
        raise ConfigError(
            Located(at.file, at.line, at.column, render_path(prefix), f"{file}: {p.message}")
            for p in exc.problems
        ) from None
    return Source(doc, file, ())


def home_config(site: Inherited, source: Source, ident: str) -> CocoonConfig:
    """The home written at `source`, with the site's connections and settings in it."""
    doc = source.doc
    if not isinstance(doc.data, dict):
        at = doc.positions[()]
        field = render_path(source.prefix)
        message = f"a home is a mapping (home:, devices:, …), not {kind_of(doc.data)}"
        raise ConfigError.at(at.file, message, line=at.line, column=at.column, field=field)
    own: list[tuple[FieldPath, str]] = []
    data = dict(doc.data)
    network = _network(data)
    for key in _CONNECTIONS:
        if key in data:
            message = "connections belong in the site file, once for all homes"
            if key == "mqtt":
                message += f" (a home names only its Zigbee2MQTT network: mqtt: {{{NETWORK}: …}})"
            own.append(((key,), message))
            del data[key]
    settings = data.get("settings")
    if isinstance(settings, dict):
        for key in _SITE_ONLY_SETTINGS:
            if key in settings:
                message = f"{key} paces a whole Zigbee network: set it in the site file's settings"
                own.append((("settings", key), message))
        settings = {k: v for k, v in settings.items() if k not in _SITE_ONLY_SETTINGS}
        data["settings"] = settings
    home = data.get("home")
    if isinstance(home, dict):
        given = home.get("id")
        if given is not None and given != ident:
            message = f"a site's home has its key under homes: as id, here '{ident}': leave id out"
            own.append((("home", "id"), message))
        # Unnamed, a flat is called by its id (flat_07: "Flat 07"), not "Home" like the rest.
        name = home.get("name", ident.replace("_", " ").capitalize())
        data["home"] = {**home, "id": ident, "name": name}
    merged = _with_site(site, doc, data, network)
    problems = located(doc, own, source.prefix)
    try:
        cfg = validate_home(merged, source.prefix)
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        main = doc.positions[()].file
        problems.sort(key=lambda p: (p.file != main, p.file, p.line or 0, p.column or 0))
        raise ConfigError(problems)
    return cfg


def _network(data: dict[str, object]) -> object | None:
    """The Zigbee2MQTT network a home names (`mqtt: {zigbee2mqtt_topic: …}`, and nothing
    else under `mqtt:`), taken out of `data`; None when it names none."""
    mqtt = data.get("mqtt")
    if not isinstance(mqtt, dict) or set(mqtt) != {NETWORK}:
        return None
    del data["mqtt"]
    network: object = mqtt[NETWORK]
    return network


def _with_site(
    site: Inherited, home: Document, data: dict[str, object], network: object | None
) -> Document:
    """The home's document with the site's connections and settings under its own, and
    the home's Zigbee2MQTT `network` (when it names one) in place of the site's."""
    for key in _CONNECTIONS:
        if key in site.sections:
            data[key] = site.sections[key]
    own_network = ("mqtt", NETWORK)
    if network is not None:
        mqtt = data.get("mqtt")
        data["mqtt"] = {**(mqtt if isinstance(mqtt, dict) else {}), NETWORK: network}
    own_settings = data.get("settings")
    site_settings = site.sections.get("settings")
    if isinstance(site_settings, dict):
        if "settings" not in data:
            data["settings"] = dict(site_settings)
        elif isinstance(own_settings, dict):
            data["settings"] = {**site_settings, **own_settings}
    overridden = set(own_settings) if isinstance(own_settings, dict) else set()

    def from_site(path: FieldPath) -> bool:
        if path == own_network:
            return network is None
        if path[0] != "settings":
            return True  # a connection
        if len(path) == 1:
            return ("settings",) not in home.positions
        return path[1] not in overridden

    positions = {
        p: at
        for p, at in home.positions.items()
        if p[:1] not in _CONNECTION_PATHS or (p == own_network and network is not None)
    }
    positions.update((p, at) for p, at in site.positions.items() if from_site(p))
    return Document(
        data=data,
        positions=positions,
        secrets=home.secrets | site.secrets,
        secret_paths=frozenset(
            [
                *(p for p in home.secret_paths if p[:1] not in _CONNECTION_PATHS),
                *(p for p in site.secret_paths if from_site(p)),
            ]
        ),
    )
