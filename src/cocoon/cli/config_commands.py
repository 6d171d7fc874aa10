"""The commands that work from the configuration: check, plan, dashboard, schema.

Each is an arguments function and a run function that returns the exit status;
`cocoon.cli` puts them in its table of commands.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
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
    day,
    load,
)
from cocoon.config.load import load_config
from cocoon.config.schema import CocoonConfig
from cocoon.errors import CocoonError, ConfigError
from cocoon.report import day_timeline
from cocoon.report.picture import draw_day

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def summary(cfg: CocoonConfig) -> str:
    """What a configuration holds, in one line: `9 devices, 4 scenes, …`."""
    return ", ".join(
        (
            _count(len(cfg.devices), "device"),
            _count(len(cfg.scenes), "scene"),
            _count(len(cfg.rituals), "ritual"),
            _count(len(cfg.calm_modes), "calm mode"),
            _count(len(cfg.plants), "plant"),
        )
    )


def file_arguments(parser: argparse.ArgumentParser) -> None:
    """The configuration, as --config FILE or as the one argument."""
    add_config_option(parser)
    parser.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="the configuration file, as with --config",
    )


def check_arguments(parser: argparse.ArgumentParser) -> None:
    """`cocoon check [FILE] [--live [--wait SECONDS]]`."""
    file_arguments(parser)
    parser.add_argument(
        "--live",
        action="store_true",
        help="once the file is valid, also hold every device against the real Zigbee2MQTT "
        "(on the MQTT broker) and Home Assistant",
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
    """Validate the file; with --live, also hold it against Zigbee2MQTT and Home Assistant."""
    path = args.file or args.config
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG
    print(f"{path}: valid — {summary(cfg)}")
    if not args.live:
        return EXIT_OK
    with adapters_quiet(args.verbose):
        report = asyncio.run(live_check.check_live(cfg, args.wait))
    for line in report.lines():
        print(line)
    return EXIT_OK if report.ok else EXIT_FAILURE


def dashboard(args: argparse.Namespace) -> int:
    """Print the Home Assistant dashboard of the configured home."""
    path = args.file or args.config
    cfg = load(path)
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


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """A command without arguments of its own."""
    del parser


def schema(args: argparse.Namespace) -> int:
    """Print the configuration's JSON Schema."""
    del args  # schema takes no options
    print(json.dumps(config_json_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


def plan_arguments(parser: argparse.ArgumentParser) -> None:
    """`cocoon plan [--date YYYY-MM-DD] [--png FILE]`."""
    add_config_option(parser)
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
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
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
