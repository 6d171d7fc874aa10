"""cocoon: a home that co-regulates, through MQTT and Home Assistant."""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "cocoon-home"
"""The name cocoon is installed under (`pip install cocoon-home`; the command is `cocoon`).
A distribution called plain `cocoon` on PyPI is another project."""


def installed_version() -> str:
    """The installed version of cocoon, or "unknown" from a source tree never installed."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"
