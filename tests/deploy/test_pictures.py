"""The README's pictures in docs/pictures/ exist and are as new as what they show.

`scripts/pictures` makes them (never the test suite: it needs Chromium and a Home
Assistant) and records in docs/pictures/SOURCES a digest of the files each was made
from; here the digests are recomputed. A picture whose inputs changed since is named,
with the command that makes it again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from .pictures import COMMAND, PICTURES_MADE, SOURCES, Picture, digest, recorded


def test_sources_records_each_picture_and_nothing_else() -> None:
    assert SOURCES.exists(), f"{SOURCES} is missing: run {COMMAND}"
    assert set(recorded()) == {picture.name for picture in PICTURES_MADE}


@pytest.mark.parametrize("picture", PICTURES_MADE, ids=lambda picture: picture.name)
def test_each_picture_is_there_and_made_from_the_inputs_of_now(picture: Picture) -> None:
    assert picture.path.exists(), f"{picture.path} is missing: run {COMMAND}"
    with Image.open(picture.path) as image:
        assert image.format == "PNG"
        assert image.width >= 800
        assert image.height >= 500
    entry = recorded().get(picture.name, {})
    assert entry.get("inputs") == digest(picture), (
        f"{picture.name} was made from other versions of {', '.join(picture.inputs)}: "
        f"run {COMMAND} (it takes about half a minute) and commit docs/pictures/"
    )


def test_the_digest_follows_every_input_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("a = 1\n")
    (tmp_path / "src" / "b.py").write_text("b = 2\n")
    (tmp_path / "home.yaml").write_text("home: {}\n")
    (tmp_path / "unrelated.txt").write_text("x\n")
    picture = Picture("p.png", ("home.yaml", "src/*.py"))
    first = digest(picture, tmp_path)
    (tmp_path / "unrelated.txt").write_text("y\n")
    assert digest(picture, tmp_path) == first
    (tmp_path / "src" / "b.py").write_text("b = 3\n")
    changed = digest(picture, tmp_path)
    assert changed != first
    (tmp_path / "src" / "c.py").write_text("")  # a new module counts too
    assert digest(picture, tmp_path) != changed
    # The same bytes under another name are another input.
    (tmp_path / "src" / "c.py").rename(tmp_path / "src" / "d.py")
    assert digest(picture, tmp_path) != changed


def test_an_input_that_is_gone_is_an_error_not_a_smaller_digest(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothing\.yaml"):
        digest(Picture("p.png", ("nothing.yaml",)), tmp_path)
