"""The commands that work from the configuration: check, plan, dashboard, schema.

Each is an arguments function and a run function that returns the exit status;
`cocoon.cli` puts them in its table of commands.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from cocoon import live_check
from cocoon.adapters.dashboard import dashboard_yaml
from cocoon.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    adapters_quiet,
    add_config_option,
    add_home_option,
    choose_home,
    day,
    load_home,
    load_sited,
)
from cocoon.config.schema import CocoonConfig
from cocoon.config.site import Site
from cocoon.errors import CocoonError
from cocoon.report import day_timeline
from cocoon.report.picture import draw_day

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def summary(cfg: CocoonConfig) -> str:
    """What a configuration holds, in one line: `9 devices, 4 scenes, …`."""
    return _counts((cfg,))


def _counts(homes: Collection[CocoonConfig]) -> str:
    return ", ".join(
        (
            _count(sum(len(cfg.devices) for cfg in homes), "device"),
            _count(sum(len(cfg.scenes) for cfg in homes), "scene"),
            _count(sum(len(cfg.rituals) for cfg in homes), "ritual"),
            _count(sum(len(cfg.calm_modes) for cfg in homes), "calm mode"),
            _count(sum(len(cfg.plants) for cfg in homes), "plant"),
        )
    )


def site_summary(site: Site) -> str:
    """What a site holds, in one line: `20 homes: 160 devices, 80 scenes, …`; a single
    home's file as `summary` says it."""
    if site.single:
        return _counts(list(site.homes.values()))
    return f"{_count(len(site.homes), 'home')}: {_counts(list(site.homes.values()))}"


def file_arguments(parser: argparse.ArgumentParser) -> None:
    """The configuration, as --config FILE or as the one argument, and --home ID."""
    add_config_option(parser)
    parser.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="the configuration file (a home's or a site's), as with --config",
    )
    add_home_option(parser)


def check_arguments(parser: argparse.ArgumentParser) -> None:
    """`cocoon check [FILE] [--live [--wait SECONDS]]`."""
    file_arguments(parser)
    parser.add_argument(
        "--live",
        action="store_true",
        help="once the file is valid, also hold every device against the real Zigbee2MQTT "
        "(on the MQTT broker) and Home Assistant; in a site of several homes, those of the "
        "home given with --home",
    )
    parser.add_argument(
        "--wait",
        type=_seconds,
        default=live_check.DEFAULT_WAIT,
        metavar="SECONDS",
        help=f"with --live, how long to wait for Zigbee2MQTT's retained device list "
        f"(default: {live_check.DEFAULT_WAIT:g})",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds from 0 to 600")
    return value


def check(args: argparse.Namespace) -> int:
    """Validate the file (every home of a site); with --live, also hold a home against
    Zigbee2MQTT and Home Assistant."""
    path = args.file or args.config
    site = load_sited(path)
    if site is None:
        return EXIT_CONFIG
    cfg = None
    if args.home is not None or args.live:
        cfg = choose_home(site, args.home)
        if cfg is None:
            return EXIT_CONFIG
    print(f"{path}: valid — {site_summary(site)}")
    if cfg is None or not args.live:
        return EXIT_OK
    with adapters_quiet(args.verbose):
        report = asyncio.run(live_check.check_live(cfg, args.wait))
    for line in report.lines():
        print(line)
    return EXIT_OK if report.ok else EXIT_FAILURE


def dashboard(args: argparse.Namespace) -> int:
    """Print the Home Assistant dashboard of the configured home."""
    path = args.file or args.config
    cfg = load_home(path, args.home)
    if cfg is None:
        return EXIT_CONFIG
    if cfg.mqtt is None:
        print(
            f"{path}: cocoon's entities reach Home Assistant through MQTT discovery:"
            " add an mqtt: section (the broker Home Assistant uses)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    sys.stdout.write(dashboard_yaml(cfg))
    return EXIT_OK


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema of the configuration file, for editors."""
    schema = CocoonConfig.model_json_schema()
    return {"$schema": JSON_SCHEMA_DIALECT, **schema, "title": "cocoon configuration"}


def site_json_schema() -> dict[str, Any]:
    """The JSON Schema of a site file (homes:), for editors."""
    home = CocoonConfig.model_json_schema()
    defs = home.pop("$defs")
    sections = home["properties"]
    own = {k: v for k, v in sections.items() if k not in ("mqtt", "home_assistant")}
    defs["SiteHome"] = {
        **home,
        "title": "A home of the site",
        "description": "A home without connections: those are the site's.",
        "properties": own,
    }
    entry = {
        "anyOf": [
            {"type": "string", "description": "The home's file, relative to the site file"},
            {"$ref": "#/$defs/SiteHome"},
        ]
    }
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "cocoon site",
        "description": "The homes of a building, with their one broker and Home Assistant.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mqtt": sections["mqtt"],
            "home_assistant": sections["home_assistant"],
            "settings": sections["settings"],
            "homes": {
                "type": "object",
                "description": "Each home by its id: its file, or its sections written here",
                "minProperties": 1,
                "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64},
                "additionalProperties": entry,
            },
        },
        "required": ["homes"],
        "$defs": defs,
    }


def schema_arguments(parser: argparse.ArgumentParser) -> None:
    """`cocoon schema [--site]`."""
    parser.add_argument(
        "--site",
        action="store_true",
        help="the schema of a site file (homes:) instead of a home's",
    )


def schema(args: argparse.Namespace) -> int:
    """Print the configuration's JSON Schema (a site file's with --site)."""
    chosen = site_json_schema() if args.site else config_json_schema()
    print(json.dumps(chosen, indent=2, ensure_ascii=False))
    return EXIT_OK


def plan_arguments(parser: argparse.ArgumentParser) -> None:
    """`cocoon plan [--home ID] [--date YYYY-MM-DD] [--png FILE]`."""
    add_config_option(parser)
    add_home_option(parser)
    parser.add_argument(
        "--date",
        type=day,
        metavar="YYYY-MM-DD",
        help="the day to show (default: today in the home's time zone)",
    )
    parser.add_argument(
        "--png",
        type=Path,
        metavar="FILE",
        help="also draw every light's brightness and colour, and every setpoint, into FILE",
    )


def plan(args: argparse.Namespace) -> int:
    """Print a day's timeline; with --png, also draw it."""
    cfg = load_home(args.config, args.home)
    if cfg is None:
        return EXIT_CONFIG
    when = args.date or datetime.now(cfg.home.zone).date()
    print(day_timeline(cfg, when))
    if args.png is not None:
        try:
            draw_day(cfg, when, args.png)
        except CocoonError as exc:
            print(f"cocoon: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        print(f"picture of the day written to {args.png}")
    return EXIT_OK
