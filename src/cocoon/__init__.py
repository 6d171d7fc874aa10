"""cocoon: a home that co-regulates, through MQTT and Home Assistant."""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "cocoon-home"
"""The name cocoon is installed under (`pip install cocoon-home`; the command is `cocoon`).
A distribution called plain `cocoon` on PyPI is another project."""


def install_hint(extra: str) -> str:
    """How to install cocoon with an extra, from the package index or from a clone."""
    return f"pip install '{DISTRIBUTION}[{extra}]' (from a clone: pip install '.[{extra}]')"


def installed_version() -> str:
    """The installed version of cocoon, or "unknown" from a source tree never installed."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"
