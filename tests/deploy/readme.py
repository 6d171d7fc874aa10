"""The code blocks of the README's sections, for tests that run what the README says."""

from __future__ import annotations

import re
import textwrap

from .example import ROOT

README = ROOT / "README.md"


def section(title: str) -> str:
    """The text of the README's `## title` section, up to the next `## ` heading."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"the README has no '## {title}' section"
    return match[1]


def blocks(title: str, language: str) -> list[str]:
    """The fenced ```language blocks of a README section, in order."""
    found = re.findall(rf"^( *)```{language}\n(.*?)^\1```$", section(title), re.M | re.S)
    return [textwrap.dedent(block) for _, block in found]


def commands(block: str) -> list[str]:
    """The commands of a shell block: one a line, comments dropped."""
    found = []
    for line in block.splitlines():
        command = re.sub(r"\s+#.*$", "", line).strip()
        if command and not command.startswith("#"):
            found.append(command)
    return found
