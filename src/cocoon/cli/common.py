"""What the commands share: exit statuses, the --config option, loading the file quietly.

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
        help=f"the configuration file (default: ${CONFIG_ENV}, else {DEFAULT_CONFIG})",
    )


def load(path: Path) -> CocoonConfig | None:
    """The configuration at `path`, or None after printing its problems on stderr."""
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
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
