"""The `cocoon` command line: one program, a subcommand per task.

A subcommand is a `Command` in `_COMMANDS`: a function that adds its arguments and a
function that runs it and returns the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cocoon import app, install_hint, installed_version, live_check, remote
from cocoon.adapters.dashboard import HOW_TO_ADD, dashboard_yaml
from cocoon.config.load import load_config
from cocoon.config.schema import CocoonConfig
from cocoon.config.values import parse_duration
from cocoon.demo.runner import DemoOptions, run_demo
from cocoon.demo.screen import Live, Plain, Screen
from cocoon.errors import CocoonError, ConfigError
from cocoon.logs import LOG_FORMATS, setup_logging
from cocoon.report import day_timeline, render_status
from cocoon.report.picture import draw_day

_LOGGER = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
"""The configuration is invalid (also argparse's status for a wrong command line)."""

DEFAULT_CONFIG = "config/cocoon.yaml"
CONFIG_ENV = "COCOON_CONFIG"
STATE_ENV = "COCOON_STATE_DIR"
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


def _file_arguments(parser: argparse.ArgumentParser) -> None:
    """The configuration, as --config FILE or as the one argument."""
    _add_config_option(parser)
    parser.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="the configuration file, as with --config",
    )


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    _file_arguments(parser)
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


@contextlib.contextmanager
def _adapters_quiet(verbose: bool) -> Iterator[None]:
    """Leave the adapters' log out of a one-shot command's answer (unless -v).

    The command says in one line why the broker or Home Assistant cannot be had; the
    adapters' log would say it again, in the words meant for a daemon that retries.
    """
    adapters = logging.getLogger("cocoon.adapters")
    level = adapters.level
    if not verbose:
        adapters.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        adapters.setLevel(level)


def _check(args: argparse.Namespace) -> int:
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
    with _adapters_quiet(args.verbose):
        report = asyncio.run(live_check.check_live(cfg, args.wait))
    for line in report.lines():
        print(line)
    return EXIT_OK if report.ok else EXIT_FAILURE


def _dashboard(args: argparse.Namespace) -> int:
    path = args.file or args.config
    cfg = _load(path)
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
        help="also draw every light's brightness and colour, and every setpoint, into FILE",
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


def _default_state_dir() -> Path:
    # systemd's StateDirectory= sets STATE_DIRECTORY.
    chosen = os.environ.get(STATE_ENV) or os.environ.get("STATE_DIRECTORY")
    return Path(chosen) if chosen else Path.home() / ".local" / "state" / "cocoon"


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    _add_config_option(parser)
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        default=_default_state_dir(),
        help=(
            f"where the runtime state is kept (default: ${STATE_ENV}, else $STATE_DIRECTORY,"
            " else ~/.local/state/cocoon)"
        ),
    )


def _load(path: Path) -> CocoonConfig | None:
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def _run(args: argparse.Namespace) -> int:
    if _load(args.config) is None:
        return EXIT_CONFIG
    try:
        return asyncio.run(app.run(args.config, args.state_dir))
    except CocoonError as exc:
        print(f"cocoon: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def _trigger_arguments(parser: argparse.ArgumentParser) -> None:
    _add_config_option(parser)
    parser.add_argument(
        "name", help='a calm mode or ritual, by its id (calm_now) or its name ("Calm now")'
    )


def _trigger(args: argparse.Namespace) -> int:
    cfg = _load(args.config)
    if cfg is None:
        return EXIT_CONFIG
    try:
        with _adapters_quiet(args.verbose):
            topic = asyncio.run(remote.trigger(cfg, args.name))
    except remote.UnknownButton as exc:
        print(f"cocoon: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CocoonError as exc:
        print(f"cocoon: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"pressed {args.name} ({topic})")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    cfg = _load(args.config)
    if cfg is None:
        return EXIT_CONFIG
    try:
        with _adapters_quiet(args.verbose):
            document, online = asyncio.run(remote.fetch_status(cfg))
    except CocoonError as exc:
        print(f"cocoon: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if document is None:
        print("cocoon has not published a status yet: is `cocoon run` running?", file=sys.stderr)
        return EXIT_FAILURE
    print(render_status(document, online, cfg))
    return EXIT_OK


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' is not a speed like 1440 (times real time)")
    return value


def _real_duration(text: str) -> timedelta:
    try:
        value = parse_duration(float(text) if text.replace(".", "", 1).isdigit() else text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration like 60s or 2min") from None
    if value <= timedelta(0):
        raise argparse.ArgumentTypeError("the duration must be longer than 0")
    return value


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    _add_config_option(parser)
    parser.add_argument(
        "--speed",
        type=_speed,
        default=1440.0,
        metavar="S",
        help="simulated seconds per real second (default: 1440, a day in a minute)",
    )
    parser.add_argument(
        "--duration",
        type=_real_duration,
        default=timedelta(seconds=60),
        metavar="D",
        help="how long the demo runs in real time: 60s, 2min (default: 60s)",
    )
    parser.add_argument(
        "--date",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the day to simulate, from 06:00 (default: today in the home's time zone)",
    )
    parser.add_argument(
        "--no-color",
        action="store_true",
        help="print a line per update instead of the live view (also when not on a terminal)",
    )


def _demo(args: argparse.Namespace) -> int:
    cfg = _load(args.config)
    if cfg is None:
        return EXIT_CONFIG
    # A live view needs a terminal that understands colours; anything else gets the log.
    live = (
        not args.no_color
        and sys.stdout.isatty()
        and "NO_COLOR" not in os.environ
        and os.environ.get("TERM") != "dumb"
    )
    screen: Screen = Live(sys.stdout) if live else Plain(sys.stdout)
    options = DemoOptions(speed=args.speed, duration=args.duration, day=args.date)
    try:
        return asyncio.run(run_demo(cfg, options, screen))
    except CocoonError as exc:
        print(f"cocoon: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


_COMMANDS: tuple[Command, ...] = (
    Command(
        name="check",
        summary="validate the configuration",
        description=(
            "Read the configuration (with its !secret and !include files) and check it. "
            "Prints a one-line summary and exits 0 when it is valid; otherwise prints every "
            "problem found, each as FILE:LINE:COLUMN: FIELD: MESSAGE, on stderr and exits 2. "
            "Secret values are never printed. With --live, a valid file is then held against "
            "what is really there: Zigbee2MQTT's device list on the MQTT broker and Home "
            "Assistant's entities. Prints a line per device (a name that is not there, with "
            "the closest real one; a light that does not dim or whose colour range does not "
            "fit; a thermostat without a setpoint; an entity of the wrong kind) and a line per "
            "service that cannot be reached, then a summary. Exit status: 0 valid (and with "
            "--live everything matches), 1 with --live a device or service problem, "
            "2 invalid configuration."
        ),
        add_arguments=_check_arguments,
        run=_check,
    ),
    Command(
        name="run",
        summary="run the daemon",
        description=(
            "Run cocoon: connect to the MQTT broker, announce the Cocoon device to Home "
            "Assistant, and drive the devices through the day. SIGTERM or SIGINT stop it "
            "(it says offline first); SIGHUP reloads the configuration, keeping the old one "
            "when the new one is invalid. While another cocoon runs the same home on the "
            "broker, it says so, drives nothing and takes over when that one stops. It keeps "
            "trying a broker it cannot reach, and says why in its log. Exits 0 when stopped, "
            "2 for an invalid configuration, 1 for any other failure."
        ),
        add_arguments=_run_arguments,
        run=_run,
    ),
    Command(
        name="status",
        summary="show what the running daemon is doing and why",
        description=(
            "Read the running daemon's status from the broker (its retained state topic): "
            "the mode, active scenes, next ritual, plants, and per device what cocoon wants "
            "of it and why, or why it leaves it alone."
        ),
        add_arguments=_add_config_option,
        run=_status,
    ),
    Command(
        name="trigger",
        summary="press a calm mode's or ritual's button",
        description=(
            "Press a button over MQTT, as the Home Assistant dashboard does: a calm mode "
            "starts (or extends), a ritual starts now. Only while `cocoon run` is online on "
            "the broker: otherwise nothing is pressed. Exits 0 when pressed, 1 when cocoon "
            "is not running or the broker cannot be reached, 2 for an unknown name or an "
            "invalid configuration."
        ),
        add_arguments=_trigger_arguments,
        run=_trigger,
    ),
    Command(
        name="plan",
        summary="show what the home will do on a day",
        description=(
            "Print the timeline of a day: sun times, each ritual's start and end, and what "
            "every device does when and why. DST changes and polar days are spelled out. "
            "A setpoint does not fade: it is shown at the instant it is given. "
            "With --png, also draw each light's brightness over the day on one 0-100 % "
            "scale, the line coloured by its colour temperature, and the thermostats' "
            f"setpoints as steps (needs matplotlib: {install_hint('plot')})."
        ),
        add_arguments=_plan_arguments,
        run=_plan,
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
        add_arguments=_demo_arguments,
        run=_demo,
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
            "`cocoon dashboard > dashboard.yaml`. To add it to Home Assistant (2024.3 or "
            f"later): {HOW_TO_ADD} Exits 0, or 2 for an invalid configuration or one "
            "without an mqtt: section."
        ),
        add_arguments=_file_arguments,
        run=_dashboard,
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
