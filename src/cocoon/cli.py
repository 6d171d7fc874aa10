"""The `cocoon` command line: one program, a subcommand per task.

A subcommand is a `Command` in `_COMMANDS`: a function that adds its arguments and a
function that runs it and returns the exit status.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from cocoon.config.load import load_config
from cocoon.config.schema import CocoonConfig
from cocoon.errors import CocoonError, ConfigError
from cocoon.logs import LOG_FORMATS, setup_logging
from cocoon.report import day_timeline
from cocoon.report.picture import draw_day

_LOGGER = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
"""The configuration is invalid (also argparse's status for a wrong command line)."""

DEFAULT_CONFIG = "config/cocoon.yaml"
CONFIG_ENV = "COCOON_CONFIG"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True, slots=True)
class Command:
    """A subcommand: its name, help texts, arguments and what it does."""

    name: str
    summary: str
    """One line in `cocoon --help`."""
    description: str
    """The text at the top of `cocoon NAME --help`."""
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _version() -> str:
    try:
        return version("cocoon")
    except PackageNotFoundError:
        # Running from a source tree that was never installed.
        return "unknown"


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        metavar="FILE",
        default=Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG),
        help=f"the configuration file (default: ${CONFIG_ENV}, else {DEFAULT_CONFIG})",
    )


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


def _check(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG
    print(f"{args.config}: valid — {summary(cfg)}")
    return EXIT_OK


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema of the configuration file, for editors."""
    schema = CocoonConfig.model_json_schema()
    return {"$schema": JSON_SCHEMA_DIALECT, **schema, "title": "cocoon configuration"}


def _schema(args: argparse.Namespace) -> int:
    del args  # schema takes no options
    print(json.dumps(config_json_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-03-29") from None


def _plan_arguments(parser: argparse.ArgumentParser) -> None:
    _add_config_option(parser)
    parser.add_argument(
        "--date",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the day to show (default: today in the home's time zone)",
    )
    parser.add_argument(
        "--png",
        type=Path,
        metavar="FILE",
        help="also draw every light's brightness and colour over the day into FILE",
    )


def _plan(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG
    day = args.date or datetime.now(cfg.home.zone).date()
    print(day_timeline(cfg, day))
    if args.png is not None:
        try:
            draw_day(cfg, day, args.png)
        except CocoonError as exc:
            print(f"cocoon: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        print(f"picture of the day written to {args.png}")
    return EXIT_OK


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


_COMMANDS: tuple[Command, ...] = (
    Command(
        name="check",
        summary="validate the configuration",
        description=(
            "Read the configuration (with its !secret and !include files) and check it. "
            "Prints a one-line summary and exits 0 when it is valid; otherwise prints each "
            "problem as FILE:LINE:COLUMN: FIELD: MESSAGE on stderr and exits 2. "
            "Secret values are never printed."
        ),
        add_arguments=_add_config_option,
        run=_check,
    ),
    Command(
        name="plan",
        summary="show what the home will do on a day",
        description=(
            "Print the timeline of a day: sun times, each ritual's start and end, and what "
            "every device does when and why. DST changes and polar days are spelled out. "
            "With --png, also draw each light's brightness over the day, the line coloured "
            "by its colour temperature (needs matplotlib: pip install 'cocoon[plot]')."
        ),
        add_arguments=_plan_arguments,
        run=_plan,
    ),
    Command(
        name="schema",
        summary="print the JSON Schema of the configuration",
        description=(
            "Print the JSON Schema of cocoon.yaml, for editors that complete and check YAML. "
            "Save it with `cocoon schema > cocoon.schema.json` and put "
            "`# yaml-language-server: $schema=cocoon.schema.json` at the top of the file."
        ),
        add_arguments=_no_arguments,
        run=_schema,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `cocoon` program with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="cocoon",
        description=(
            "cocoon makes a home gentle and predictable: rituals, calm modes and\n"
            "plant care, driven through MQTT and Home Assistant."
        ),
        epilog=(
            "exit status: 0 success, 1 failure, 2 invalid configuration or command line.\n"
            "Run `cocoon COMMAND --help` for the options of a command."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages as well")
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="log as readable text (default) or as one JSON object per line",
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for command in _COMMANDS:
        sub = commands.add_parser(
            command.name, help=command.summary, description=command.description
        )
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `cocoon` program with `argv` (the process arguments when None); the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(logging.DEBUG if args.verbose else logging.INFO, args.log_format)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    _LOGGER.debug("Running %s", args.command)
    status: int = args.run(args)
    return status
