"""What the commands share: exit statuses, the --config and --home options, loading the
file quietly.

A command prints a configuration's problems and returns `EXIT_CONFIG`; one that talks
to the broker or Home Assistant keeps the adapters' log out of its answer.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from cocoon.config.load import load_config
from cocoon.config.schema import CocoonConfig
from cocoon.config.site import Site, load_site
from cocoon.errors import ConfigError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
"""The configuration is invalid (also argparse's status for a wrong command line)."""

DEFAULT_CONFIG = "config/cocoon.yaml"
CONFIG_ENV = "COCOON_CONFIG"


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """-c/--config FILE, by default $COCOON_CONFIG, else config/cocoon.yaml."""
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        metavar="FILE",
        default=Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG),
        help=(
            f"the configuration file, a home's or a site's (default: ${CONFIG_ENV}, else"
            f" {DEFAULT_CONFIG})"
        ),
    )


def add_home_option(parser: argparse.ArgumentParser) -> None:
    """--home ID: which home of a site file (needed when it has several)."""
    parser.add_argument(
        "--home",
        metavar="ID",
        help="in a site file, the home to work on, by its id under homes: "
        "(needed when the site has several)",
    )


def print_problems(error: ConfigError) -> None:
    """Each of a configuration's problems on a line of stderr."""
    for problem in error.problems:
        print(problem, file=sys.stderr)


def load_sited(path: Path) -> Site | None:
    """The site (or single home) at `path`, or None after printing its problems on stderr."""
    try:
        return load_site(path)
    except ConfigError as exc:
        print_problems(exc)
        return None


def choose_home(site: Site, ident: str | None) -> CocoonConfig | None:
    """The home `ident` of the site (None: its only one), or None after saying why not."""
    if ident is None and len(site.homes) > 1:
        print(
            f"{site.path}: {len(site.homes)} homes here: choose one with --home"
            f" ({', '.join(site.homes)})",
            file=sys.stderr,
        )
        return None
    try:
        return site.home(ident)
    except ConfigError as exc:
        print_problems(exc)
        return None


def load_home(path: Path, ident: str | None) -> CocoonConfig | None:
    """The home `ident` of the site (or the single home) at `path`, or None after printing
    why not (its problems, or which homes there are) on stderr."""
    site = load_sited(path)
    return None if site is None else choose_home(site, ident)


def load(path: Path) -> CocoonConfig | None:
    """The configuration at `path`, or None after printing its problems on stderr."""
    try:
        return load_config(path)
    except ConfigError as exc:
        print_problems(exc)
        return None


def day(text: str) -> date:
    """An argument type: a day as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-03-29") from None


@contextlib.contextmanager
def adapters_quiet(verbose: bool) -> Iterator[None]:
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
