"""The `cocoon` command line: one program, a subcommand per task.

A subcommand is a `Command` in `_COMMANDS`: a function that adds its arguments and a
function that runs it and returns the exit status. The commands that work from the
configuration are in `config_commands`, those that run cocoon or talk to it running in
`daemon_commands`, and what they share in `common`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cocoon import install_hint, installed_version
from cocoon.adapters.dashboard import HOW_TO_ADD
from cocoon.cli import config_commands, daemon_commands
from cocoon.cli.common import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
)
from cocoon.cli.config_commands import JSON_SCHEMA_DIALECT, config_json_schema, summary
from cocoon.cli.daemon_commands import STATE_ENV
from cocoon.logs import LOG_FORMATS, setup_logging

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "EXIT_CONFIG",
    "EXIT_FAILURE",
    "EXIT_OK",
    "JSON_SCHEMA_DIALECT",
    "STATE_ENV",
    "Command",
    "build_parser",
    "config_json_schema",
    "main",
    "summary",
]

_LOGGER = logging.getLogger(__name__)


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


_COMMANDS: tuple[Command, ...] = (
    Command(
        name="check",
        summary="validate the configuration",
        description=(
            "Read the configuration (with its !secret and !include files) and check it: a "
            "home's file, or a site file (homes:) with every home in it. Prints a one-line "
            "summary and exits 0 when it is valid; otherwise prints every problem found, each "
            "as FILE:LINE:COLUMN: FIELD: MESSAGE (the file the problem is in: a home's own "
            "file, or the site file under homes.ID), on stderr and exits 2. "
            "Secret values are never printed. With --live, a valid file is then held against "
            "what is really there (in a site of several homes, for the home given with "
            "--home): Zigbee2MQTT's device list on the MQTT broker and Home "
            "Assistant's entities. Prints a line per device (a name that is not there, with "
            "the closest real one; a light that does not dim or whose colour range does not "
            "fit; a thermostat without a setpoint; an entity of the wrong kind) and a line per "
            "service that cannot be reached, then a summary. Exit status: 0 valid (and with "
            "--live everything matches), 1 with --live a device or service problem, "
            "2 invalid configuration."
        ),
        add_arguments=config_commands.check_arguments,
        run=config_commands.check,
    ),
    Command(
        name="run",
        summary="run the daemon",
        description=(
            "Run cocoon: connect to the MQTT broker, announce the Cocoon device to Home "
            "Assistant, and drive the devices through the day; with a site file (homes:), "
            "every home of it, each its own Cocoon device. SIGTERM or SIGINT stop it "
            "(it says offline first); SIGHUP reloads the configuration, keeping the old one "
            "when the new one is invalid (in a site, home by home: a home whose file broke "
            "keeps its last good one). While another cocoon runs the same home on the "
            "broker, it says so, drives nothing and takes over when that one stops. It keeps "
            "trying a broker it cannot reach, and says why in its log. With --fleet it is a "
            "worker of a fleet: several cocoon run, on several machines, share the homes of "
            "a site through etcd, each serving its share and taking over those of a worker "
            "that dies (docs/fleet.md). Exits 0 when stopped, 2 for an invalid configuration "
            "or options, 1 for any other failure."
        ),
        add_arguments=daemon_commands.run_arguments,
        run=daemon_commands.run,
    ),
    Command(
        name="status",
        summary="show what the running daemon is doing and why",
        description=(
            "Read the running daemon's status from the broker (its retained state topic): "
            "the mode, active scenes, next ritual, plants, and per device what cocoon wants "
            "of it and why, or why it leaves it alone. In a site file of several homes, "
            "--home ID says which home (exit 2 without it, naming the ids)."
        ),
        add_arguments=daemon_commands.status_arguments,
        run=daemon_commands.status,
    ),
    Command(
        name="trigger",
        summary="press a calm mode's or ritual's button",
        description=(
            "Press a button over MQTT, as the Home Assistant dashboard does: a calm mode "
            "starts (or extends), a ritual starts now. Only while `cocoon run` is online on "
            "the broker: otherwise nothing is pressed. In a site file of several homes, "
            "--home ID says in which home. Exits 0 when pressed, 1 when cocoon "
            "is not running or the broker cannot be reached, 2 for an unknown name or home "
            "or an invalid configuration."
        ),
        add_arguments=daemon_commands.trigger_arguments,
        run=daemon_commands.trigger,
    ),
    Command(
        name="plan",
        summary="show what the home will do on a day",
        description=(
            "Print the timeline of a day: sun times, each ritual's start and end, and what "
            "every device does when and why. DST changes and polar days are spelled out. "
            "A setpoint does not fade: it is shown at the instant it is given. "
            "In a site file of several homes, --home ID says which home. "
            "With --png, also draw each light's brightness over the day on one 0-100 % "
            "scale, the line coloured by its colour temperature, and the thermostats' "
            f"setpoints as steps (needs matplotlib: {install_hint('plot')})."
        ),
        add_arguments=config_commands.plan_arguments,
        run=config_commands.plan,
    ),
    Command(
        name="demo",
        summary="play a simulated home for a day, in a minute",
        description=(
            "Run the whole daemon against an embedded MQTT broker (on 127.0.0.1 only) and "
            "simulated Zigbee2MQTT devices, with the example home and a clock that runs a "
            "day in a minute: rituals fade in, a plant gets thirsty and is cued during the "
            'morning tea, and "Calm now" is pressed at 20:30 (three quarters into a run '
            f"too short to reach the evening). Needs the demo extra: {install_hint('demo')}."
        ),
        add_arguments=daemon_commands.demo_arguments,
        run=daemon_commands.demo,
    ),
    Command(
        name="dashboard",
        summary="print a Home Assistant dashboard for this home",
        description=(
            "Print a Home Assistant dashboard (YAML, one view in the sections layout) for "
            "the configured home: a large button per calm mode, the Mode select and the "
            "Hands off switch, the active scene, the next ritual, plants needing care and "
            "problems, a button per ritual, each plant, and per room the lights and "
            "thermostats reached through Home Assistant (Zigbee2MQTT ones are left out: Home "
            "Assistant names their entities). Every card shows its configured name; cocoon's "
            "own entities are named by the ids its MQTT discovery gives them. Save it with "
            "`cocoon dashboard > dashboard.yaml`. In a site file of several homes, --home ID "
            "says which home. To add it to Home Assistant (2024.3 or "
            f"later): {HOW_TO_ADD} Exits 0, or 2 for an invalid configuration or one "
            "without an mqtt: section."
        ),
        add_arguments=config_commands.file_arguments,
        run=config_commands.dashboard,
    ),
    Command(
        name="schema",
        summary="print the JSON Schema of the configuration",
        description=(
            "Print the JSON Schema of cocoon.yaml, for editors that complete and check YAML. "
            "Save it with `cocoon schema > cocoon.schema.json` and put "
            "`# yaml-language-server: $schema=cocoon.schema.json` at the top of the file. "
            "With --site, the schema of a site file (homes:) instead."
        ),
        add_arguments=config_commands.schema_arguments,
        run=config_commands.schema,
    ),
)


_CHATTY = frozenset({"run", "demo"})
"""Commands that log their decisions at INFO; the others log warnings and errors only."""


def _logging_options(parser: argparse.ArgumentParser, default: object) -> None:
    """-v and --log-format; `default` is the program's, or SUPPRESS for a command's own."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log everything, debug messages included (by default run and demo log their "
        "decisions, the other commands only warnings and errors)",
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text" if default is False else default,
        help="log as readable text (default) or as one JSON object per line",
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    _logging_options(parser, default=False)
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for command in _COMMANDS:
        sub = commands.add_parser(
            command.name, help=command.summary, description=command.description
        )
        command.add_arguments(sub)
        # Also after the command (`cocoon check -v FILE`); given there, they win.
        _logging_options(sub, default=argparse.SUPPRESS)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `cocoon` program with `argv` (the process arguments when None); the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # The daemon and the demo tell what they decide; a one-shot command prints its answer
    # and logs only what went wrong, unless asked (-v).
    quiet = args.command not in _CHATTY
    level = logging.DEBUG if args.verbose else logging.WARNING if quiet else logging.INFO
    setup_logging(level, args.log_format)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    _LOGGER.debug("Running %s", args.command)
    status: int = args.run(args)
    return status
