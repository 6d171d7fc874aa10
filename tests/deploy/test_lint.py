"""The Python under deploy/ (the image's healthcheck, the add-on's config writer) is
held to the same ruff rules as src/, which scripts/test does not look at."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .example import ROOT

RUFF = Path(sys.executable).parent / "ruff"


def test_ruff_checks_and_formats_deploy() -> None:
    for arguments in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [str(RUFF), *arguments, "deploy"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
