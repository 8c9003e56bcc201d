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


def make_cover_in_scripts(
    title: str,
    subtitle: str,
    publisher: str,
    footer: str,
    *,
    serif: tuple[str, ...],
    sans: tuple[str, ...],
    direction: str,
    language: str,
) -> bytes:
    """The same cover for text in any script: each run of text in the first family that draws it.

    The families are the PDF's (checked against every character before layout); Raqm shapes
    each run (Arabic joining, Indic conjuncts) and sets it in its own direction. Right to left,
    the band stands at the right (the spine of a right-to-left book) and lines align right.
    """
    from PIL import Image, ImageDraw

    from ..languages import fonts as font_files

    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    rtl = direction == "rtl"
    draw.rectangle([WIDTH - 70, 0, WIDTH, HEIGHT] if rtl else [0, 0, 70, HEIGHT], fill=ACCENT)
    left, right = (150, WIDTH - 200) if rtl else (200, WIDTH - 150)
    painter = _RunPainter(draw, font_files, direction, language)
    y = 300
    if publisher:
        painter.line(publisher, sans, "SemiBold", 44, ACCENT, left, right, y)
    y = 620
    size = 120
    lines = painter.wrap(title, sans, "Bold", size, right - left)
    while len(lines) > 6 and size > 60:
        size -= 10
        lines = painter.wrap(title, sans, "Bold", size, right - left)
    for line in lines:
        painter.line(line, sans, "Bold", size, INK, left, right, y)
        y += int(size * 1.15)
    if subtitle:
        y += 60
        for line in painter.wrap(subtitle, serif, "Italic", 56, right - left)[:8]:
            painter.line(line, serif, "Italic", 56, (60, 60, 60), left, right, y)
            y += 78
    if footer:
        painter.line(footer, sans, "Regular", 46, (60, 60, 60), left, right, HEIGHT - 260)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class _RunPainter:
    """Draws a line as runs, each in the first family of a stack that has its characters."""

    def __init__(self, draw: Any, font_files: Any, direction: str, language: str) -> None:
        self.draw, self.files, self.direction, self.language = draw, font_files, direction, language
        self._fonts: dict[tuple[str, str, int], Any] = {}

    def _font(self, family: str, style: str, size: int) -> Any:
        from PIL import ImageFont

        key = (family, style, size)
        if key not in self._fonts:
            path, index = self.files.face_file(family, style) or self.files.face_file(family)
            self._fonts[key] = ImageFont.truetype(str(path), size, index=index, layout_engine=ImageFont.Layout.RAQM)
        return self._fonts[key]

    def runs(self, text: str, families: tuple[str, ...]) -> list[tuple[str, str]]:
        runs: list[tuple[str, str]] = []
        for char in text:
            family = next((f for f in families if ord(char) in self.files.coverage(f)), None)
            if family is None or (char.isspace() and runs):
                family = runs[-1][0] if runs else families[0]
            if runs and runs[-1][0] == family:
                runs[-1] = (family, runs[-1][1] + char)
            else:
                runs.append((family, char))
        return runs

    def width(self, text: str, families: tuple[str, ...], style: str, size: int) -> float:
        return sum(
            self.draw.textlength(run, font=self._font(family, style, size), direction=self._dir(run))
            for family, run in self.runs(text, families)
        )

    def _dir(self, run: str) -> str:
        from ..languages.bidi import needs_isolation

        if self.direction == "rtl":
            return "ltr" if needs_isolation(run, "rtl") and not needs_isolation(run, "ltr") else "rtl"
        return "rtl" if needs_isolation(run, "ltr") else "ltr"

    def wrap(self, text: str, families: tuple[str, ...], style: str, size: int, width: int) -> list[str]:
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line = ""
            words = paragraph.split() if " " in paragraph else list(paragraph)  # no spaces: break anywhere
            joiner = " " if " " in paragraph else ""
            for word in words:
                trial = f"{line}{joiner}{word}" if line else word
                if self.width(trial, families, style, size) <= width or not line:
                    line = trial
                else:
                    lines.append(line)
                    line = word
            if line:
                lines.append(line)
        return lines

    def line(
        self,
        text: str,
        families: tuple[str, ...],
        style: str,
        size: int,
        fill: tuple[int, int, int],
        left: int,
        right: int,
        y: int,
    ) -> None:
        runs = self.runs(text, families)
        if self.direction == "rtl":  # runs from the right edge leftwards, in reading order
            x = float(right)
            for family, run in runs:
                font = self._font(family, style, size)
                x -= self.draw.textlength(run, font=font, direction=self._dir(run))
                self.draw.text((x, y), run, font=font, fill=fill, direction=self._dir(run), language=self.language)
        else:
            x = float(left)
            for family, run in runs:
                font = self._font(family, style, size)
                self.draw.text((x, y), run, font=font, fill=fill, direction=self._dir(run), language=self.language)
                x += self.draw.textlength(run, font=font, direction=self._dir(run))
