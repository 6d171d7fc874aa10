"""The commands that run cocoon or talk to it running: run, status, trigger, demo.

Each is an arguments function and a run function that returns the exit status;
`cocoon.cli` puts them in its table of commands.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

from cocoon import remote
from cocoon.adapters.etcd_common import parse_endpoints
from cocoon.adapters.labels import button_id
from cocoon.adapters.topics import Topics
from cocoon.app import process
from cocoon.app.fleet_options import DEFAULT_LEASE, FleetOptions, default_worker
from cocoon.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    adapters_quiet,
    add_config_option,
    add_home_option,
    choose_home,
    day,
    load,
    load_sited,
)
from cocoon.config.schema import CocoonConfig
from cocoon.config.values import parse_duration
from cocoon.demo.runner import DemoOptions, run_demo
from cocoon.demo.screen import Live, Plain, Screen
from cocoon.errors import CocoonError
from cocoon.report import render_status

STATE_ENV = "COCOON_STATE_DIR"


def _default_state_dir() -> Path:
    # systemd's StateDirectory= sets STATE_DIRECTORY.
    chosen = os.environ.get(STATE_ENV) or os.environ.get("STATE_DIRECTORY")
    return Path(chosen) if chosen else Path.home() / ".local" / "state" / "cocoon"


def run_arguments(parser: argparse.ArgumentParser) -> None:
    """`cocoon run [--state-dir DIR] [--fleet URL [--worker NAME] [--lease SECONDS]]`."""
    add_config_option(parser)
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
    fleet = parser.add_argument_group(
        "a fleet", "several cocoon run, on several machines, sharing a site's homes (docs/fleet.md)"
    )
    fleet.add_argument(
        "--fleet",
        metavar="URL",
        help=(
            "etcd://HOST:PORT[,HOST:PORT…][/NAME]: be a worker of the fleet NAME (default: "
            "default) whose etcd is there; serve the share of the site's homes it owns"
        ),
    )
    fleet.add_argument(
        "--worker",
        metavar="NAME",
        help="this worker's name in the fleet, unique in it (default: the machine's name)",
    )
    fleet.add_argument(
        "--lease",
        metavar="SECONDS",
        type=int,
        help=(
            f"how long the worker's homes stay its without a word from it (default: "
            f"{DEFAULT_LEASE}): a dead worker's homes are taken over after about this, and "
            "a worker that cannot reach etcd stops driving after half of it"
        ),
    )


def _fleet(args: argparse.Namespace) -> FleetOptions | None:
    """The fleet `cocoon run` is a worker of, or None; raises ValueError saying what is
    wrong with the options."""
    if args.fleet is None:
        for given, option in ((args.worker, "--worker"), (args.lease, "--lease")):
            if given is not None:
                raise ValueError(f"{option} is a worker's of a fleet: give --fleet too")
        return None
    lease = DEFAULT_LEASE if args.lease is None else args.lease
    endpoints, name = parse_endpoints(args.fleet)
    worker = args.worker or default_worker()
    if not worker or not all(c.isalnum() or c in "-_." for c in worker):
        raise ValueError(f"--worker {worker!r}: letters, digits, - _ . only")
    if not 2 <= lease <= 3600:
        raise ValueError(f"--lease {lease}: from 2 to 3600 seconds")
    return FleetOptions(endpoints, name, worker, lease)


def run(args: argparse.Namespace) -> int:
    """Run the daemon until it is stopped."""
    try:
        fleet = _fleet(args)
    except ValueError as exc:
        print(f"cocoon run: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    site = load_sited(args.config)
    if site is None:
        return EXIT_CONFIG
    if fleet is not None and site.single:
        print(
            f"cocoon run: --fleet shares the homes of a site file (homes:), and "
            f"{args.config} is a home of its own (docs/building.md)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        return asyncio.run(process.run(args.config, args.state_dir, site=site, fleet=fleet))
    except CocoonError as exc:
        print(f"cocoon: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def status_arguments(parser: argparse.ArgumentParser) -> None:
    """`cocoon status [--home ID]`."""
    add_config_option(parser)
    add_home_option(parser)


def trigger_arguments(parser: argparse.ArgumentParser) -> None:
    """`cocoon trigger [--home ID] NAME`."""
    add_config_option(parser)
    add_home_option(parser)
    parser.add_argument(
        "name", help='a calm mode or ritual, by its id (calm_now) or its name ("Calm now")'
    )


def _home(args: argparse.Namespace) -> tuple[CocoonConfig, Topics] | None:
    """The home `--home` names (or the only one) and its topics, or None after saying why."""
    site = load_sited(args.config)
    cfg = None if site is None else choose_home(site, args.home)
    if site is None or cfg is None:
        return None
    return cfg, Topics.for_config(cfg) if site.single else Topics.for_building(cfg)


def trigger(args: argparse.Namespace) -> int:
    """Press a calm mode's or ritual's button over MQTT."""
    chosen = _home(args)
    if chosen is None:
        return EXIT_CONFIG
    cfg, topics = chosen
    try:
        with adapters_quiet(args.verbose):
            topic = asyncio.run(remote.trigger(cfg, args.name, topics))
    except remote.UnknownButton as exc:
        print(f"cocoon: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CocoonError as exc:
        print(f"cocoon: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"pressed {_button_name(cfg, args.name)} ({topic})")
    return EXIT_OK


def _button_name(cfg: CocoonConfig, name: str) -> str:
    """The name the configuration shows for the button `name` presses (by id or name)."""
    identifier = button_id(cfg, name) or name
    section = "calm_modes" if identifier in cfg.calm_modes else "rituals"
    return cfg.display_name(section, identifier)


def status(args: argparse.Namespace) -> int:
    """Print the running daemon's status, read from the broker."""
    chosen = _home(args)
    if chosen is None:
        return EXIT_CONFIG
    cfg, topics = chosen
    try:
        with adapters_quiet(args.verbose):
            document, online = asyncio.run(remote.fetch_status(cfg, topics=topics))
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


def demo_arguments(parser: argparse.ArgumentParser) -> None:
    """`cocoon demo [--speed S] [--duration D] [--date YYYY-MM-DD] [--no-color]`."""
    add_config_option(parser)
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
        type=day,
        metavar="YYYY-MM-DD",
        help="the day to simulate, from 06:00 (default: today in the home's time zone)",
    )
    parser.add_argument(
        "--no-color",
        action="store_true",
        help="print a line per update instead of the live view (also when not on a terminal)",
    )


def demo(args: argparse.Namespace) -> int:
    """Play the simulated home against an embedded broker."""
    cfg = load(args.config)
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
