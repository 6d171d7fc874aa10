"""`python -m cocoon`: the same as the `cocoon` command."""

from __future__ import annotations

import sys

from cocoon.cli import main

if __name__ == "__main__":
    sys.exit(main())
