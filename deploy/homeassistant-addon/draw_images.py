"""Draw the app's icon.png (128×128) and logo.png (250×100) at the repository's root,
where the Supervisor looks for them beside config.yaml.

    .venv/bin/python deploy/homeassistant-addon/draw_images.py

Pillow only (it comes with the `plot` extra's matplotlib), the font Pillow carries
itself: the same Pillow draws the same bytes. The picture: a warm cocoon, wound in
three soft bands, on a cream tile; the logo adds the name.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
ICON, LOGO = ROOT / "icon.png", ROOT / "logo.png"
ICON_SIZE, LOGO_SIZE = (128, 128), (250, 100)

CREAM = (247, 238, 226, 255)
AMBER = (214, 140, 69, 255)
BAND = (240, 196, 140, 255)
INK = (92, 64, 51, 255)
SCALE = 8  # drawn this much larger, then scaled down: smooth edges without antialiasing


def _cocoon(size: int) -> Image.Image:
    """The mark alone, `size` pixels square, on a transparent ground."""
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=CREAM)
    # The cocoon: an upright oval hanging from its thread.
    left, top, right, bottom = big * 0.30, big * 0.17, big * 0.70, big * 0.85
    draw.ellipse((left, top, right, bottom), fill=AMBER)
    # Three bands wound round it: arcs of wide, flat ellipses clipped to the oval.
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).ellipse((left, top, right, bottom), fill=255)
    bands = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    band_draw = ImageDraw.Draw(bands)
    width = max(1, round(big * 0.035))
    for centre in (0.38, 0.52, 0.66):
        y = big * centre
        band_draw.arc(
            (left - big * 0.1, y - big * 0.09, right + big * 0.1, y + big * 0.09),
            start=20,
            end=160,
            fill=BAND,
            width=width,
        )
    image.paste(bands, (0, 0), Image.composite(bands, Image.new("RGBA", bands.size), mask))
    # The thread it hangs from.
    draw.line(
        (big * 0.5, big * 0.06, big * 0.5, top + width), fill=INK, width=max(1, round(big * 0.02))
    )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def icon() -> Image.Image:
    """icon.png: the mark, 128×128."""
    return _cocoon(ICON_SIZE[0])


def logo() -> Image.Image:
    """logo.png: the mark and the name, 250×100, on a transparent ground."""
    image = Image.new("RGBA", LOGO_SIZE, (0, 0, 0, 0))
    mark = _cocoon(84)
    image.paste(mark, (8, 8), mark)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    draw.text((104, 50), "cocoon", fill=INK, font=font, anchor="lm")
    return image


def main() -> int:
    """Write both pictures and say where."""
    for path, picture in ((ICON, icon()), (LOGO, logo())):
        picture.save(path, optimize=True)
        print(f"{path.relative_to(ROOT)}: {picture.width}×{picture.height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
