"""A typographic cover image for stores and reading systems (PNG, deterministic)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1600, 2400
PAPER = (244, 239, 230)
ACCENT = (138, 28, 28)
INK = (26, 26, 26)


def _wrap(draw: Any, text: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}".strip()
            if draw.textlength(trial, font=font) <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
    return lines


def make_cover(title: str, subtitle: str, publisher: str, footer: str, fonts_dir: Path) -> bytes:
    """Draw the cover with the shipped fonts; the same text gives the same bytes."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 70, HEIGHT], fill=ACCENT)
    left, right = 200, WIDTH - 150
    width = right - left
    y = 300
    if publisher:
        small = ImageFont.truetype(str(fonts_dir / "Inter-SemiBold.otf"), 44)
        draw.text((left, y), publisher.upper(), font=small, fill=ACCENT)
    y = 620
    size = 120
    bold = ImageFont.truetype(str(fonts_dir / "Inter-Bold.otf"), size)
    lines = _wrap(draw, title, bold, width)
    while len(lines) > 6 and size > 60:
        size -= 10
        bold = ImageFont.truetype(str(fonts_dir / "Inter-Bold.otf"), size)
        lines = _wrap(draw, title, bold, width)
    for line in lines:
        draw.text((left, y), line, font=bold, fill=INK)
        y += int(size * 1.15)
    if subtitle:
        y += 60
        italic = ImageFont.truetype(str(fonts_dir / "CharisSIL-Italic.ttf"), 56)
        for line in _wrap(draw, subtitle, italic, width)[:8]:
            draw.text((left, y), line, font=italic, fill=(60, 60, 60))
            y += 78
    if footer:
        regular = ImageFont.truetype(str(fonts_dir / "Inter-Regular.otf"), 46)
        draw.text((left, HEIGHT - 260), footer, font=regular, fill=(60, 60, 60))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
