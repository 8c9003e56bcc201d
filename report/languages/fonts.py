"""Font stacks per script, the fonts behind them (shipped, or Debian's Noto via fontconfig), their cmaps.

A stack names its families explicitly, script by script: fontconfig alone does not understand
`zh-Hans` (it picks Japanese glyph forms) and prefers DejaVu Sans for Arabic. Latin, Greek and
Cyrillic come from the fonts shipped in styles/fonts; every other script from Noto, installed
from Debian (fonts-noto-core, fonts-noto-cjk) and found through fontconfig.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
# the wheel installs styles/ as report/styles; a checkout has it beside the package (as pipeline.styles_dir)
_STYLES = _PACKAGE / "styles" if (_PACKAGE / "styles" / "print.css").is_file() else _PACKAGE.parent / "styles"
SHIPPED = _STYLES / "fonts"

# The shipped families and the file that stands for each (its cmap is the family's coverage).
SHIPPED_FILES = {"Charis SIL": "CharisSIL-Regular.ttf", "Inter": "Inter-Regular.otf"}
# Ranges a shipped family's @font-face leaves out (styles/fonts.css): Charis SIL's partial Greek.
SHIPPED_EXCLUDED = {"Charis SIL": (range(0x0370, 0x0400), range(0x1F00, 0x2000))}

CJK_PACKAGE = "fonts-noto-cjk"
CORE_PACKAGE = "fonts-noto-core"
# Scripts whose Noto fonts come in fonts-noto-cjk; every other script's in fonts-noto-core.
_CJK_SCRIPTS = {"Hani", "Hans", "Hant", "Hira", "Kana", "Jpan", "Hang", "Kore", "Bopo"}


@dataclass(frozen=True)
class Stack:
    """The families of one text style (serif: reading text; sans: headings and furniture)."""

    serif: tuple[str, ...]
    sans: tuple[str, ...]


# Explicit stacks for the scripts of the languages with a table, by ISO 15924 code. The first
# family of a stack draws the language's own script; the shipped Latin fonts follow it for
# names and words in Latin script. "Jpan", "Kore", "Hans", "Hant" are the CJK writing systems.
SCRIPT_STACKS: dict[str, Stack] = {
    "Latn": Stack(("Charis SIL",), ("Inter",)),
    "Cyrl": Stack(("Charis SIL",), ("Inter",)),
    # Charis SIL has 22 of the 129 Greek letters: a Greek run would mix two typefaces letter by
    # letter. Greek text is set in Inter, which has all of them, in both styles.
    "Grek": Stack(("Inter",), ("Inter",)),
    "Arab": Stack(("Noto Naskh Arabic",), ("Noto Sans Arabic",)),
    "Hebr": Stack(("Noto Serif Hebrew",), ("Noto Sans Hebrew",)),
    "Deva": Stack(("Noto Serif Devanagari",), ("Noto Sans Devanagari",)),
    "Thai": Stack(("Noto Serif Thai",), ("Noto Sans Thai",)),
    "Hans": Stack(("Noto Serif CJK SC",), ("Noto Sans CJK SC",)),
    "Hant": Stack(("Noto Serif CJK TC",), ("Noto Sans CJK TC",)),
    "Jpan": Stack(("Noto Serif CJK JP",), ("Noto Sans CJK JP",)),
    "Kore": Stack(("Noto Serif CJK KR",), ("Noto Sans CJK KR",)),
}
LATIN = SCRIPT_STACKS["Latn"]

# A character of one script inside text of another language: the stack for that script.
# Han alone is read as Simplified Chinese; kana make it Japanese, Hangul Korean.
_SCRIPT_OF_CHARACTERS = {"Hani": "Hans", "Hira": "Jpan", "Kana": "Jpan", "Hang": "Kore", "Bopo": "Hant"}

# Symbols, arrows, mathematics: shared by every script (ICU script "Common").
SYMBOL_FAMILIES = ("Noto Sans Symbols", "Noto Sans Symbols 2", "Noto Sans Math", "Noto Color Emoji")
EMOJI_PACKAGE = "fonts-noto-color-emoji"


def stack_for_script(script: str) -> Stack:
    """The stack of a script: an explicit one, else Noto Serif/Sans named after the script."""
    script = _SCRIPT_OF_CHARACTERS.get(script, script)
    if script in SCRIPT_STACKS:
        return SCRIPT_STACKS[script]
    name = script_name(script).replace("_", " ")
    serif = tuple(f for f in (f"Noto Serif {name}", f"Noto Sans {name}") if installed(f))
    return Stack(serif or (f"Noto Sans {name}",), (f"Noto Sans {name}",))


def debian_package(script: str) -> str:
    """The Debian package that supplies fonts for a script."""
    if script in _CJK_SCRIPTS:
        return CJK_PACKAGE
    return CORE_PACKAGE


def script_of(char: str) -> str:
    """The ISO 15924 code of a character's script (ICU): 'Latn', 'Arab', 'Zyyy' (common)..."""
    import icu

    return icu.Script.getScript(char).getShortName()


@cache
def script_name(code: str) -> str:
    """The English name of a script code: 'Arab' -> 'Arabic'."""
    import icu

    names = {
        "Hans": "Han (Simplified)",
        "Hant": "Han (Traditional)",
        "Jpan": "Japanese",
        "Kore": "Korean",
        "Zyyy": "Common",
        "Zinh": "Inherited",
    }
    if code in names:
        return names[code]
    codes = icu.Script.getCode(code)
    return icu.Script(codes[0]).getName() if codes else code


@lru_cache(maxsize=1)
def _fontconfig_faces() -> dict[tuple[str, str], tuple[str, int]]:
    """Installed (family, style) -> (file, index in a collection), as fontconfig lists them."""
    if shutil.which("fc-list") is None:
        return {}
    out = subprocess.run(
        ["fc-list", "-f", "%{family[0]}|%{style[0]}|%{file}|%{index}\n"], capture_output=True, text=True, check=False
    ).stdout
    faces: dict[tuple[str, str], tuple[str, int]] = {}
    for line in sorted(out.splitlines()):
        parts = line.split("|")
        if len(parts) == 4:
            family, style, file, index = parts
            faces.setdefault((family, style), (file, int(index or 0)))
    return faces


@lru_cache(maxsize=1)
def _fontconfig_fonts() -> dict[str, tuple[str, int]]:
    """Installed families -> (file, index) of their regular face."""
    fonts: dict[str, tuple[str, int]] = {}
    for (family, style), found in sorted(_fontconfig_faces().items()):
        if family not in fonts or style in ("Regular", "Book"):
            fonts[family] = found
    return fonts


SHIPPED_STYLES = {
    ("Charis SIL", "Bold"): "CharisSIL-Bold.ttf",
    ("Charis SIL", "Italic"): "CharisSIL-Italic.ttf",
    ("Inter", "Bold"): "Inter-Bold.otf",
    ("Inter", "SemiBold"): "Inter-SemiBold.otf",
    ("Inter", "Italic"): "Inter-Italic.otf",
}


def face_file(family: str, style: str = "Regular") -> tuple[Path, int] | None:
    """The file of a family's face in a style ("Bold", "Italic"...), else its regular face."""
    if (family, style) in SHIPPED_STYLES:
        return SHIPPED / SHIPPED_STYLES[(family, style)], 0
    found = _fontconfig_faces().get((family, style))
    return (Path(found[0]), found[1]) if found else font_file(family)


def installed(family: str) -> bool:
    """True if the family is shipped or fontconfig knows it by this exact name."""
    return family in SHIPPED_FILES or family in _fontconfig_fonts()


def font_file(family: str) -> tuple[Path, int] | None:
    """The file (and index in a collection) of a family's regular face, or None if not installed."""
    if family in SHIPPED_FILES:
        return SHIPPED / SHIPPED_FILES[family], 0
    found = _fontconfig_fonts().get(family)
    return (Path(found[0]), found[1]) if found else None


@cache
def coverage(family: str) -> frozenset[int]:
    """The code points a family can draw (its cmap); empty when it is not installed."""
    from fontTools.ttLib import TTFont

    located = font_file(family)
    if located is None:
        return frozenset()
    path, index = located
    font = TTFont(str(path), fontNumber=index, lazy=True)
    try:
        code_points = set(font.getBestCmap() or ())
    finally:
        font.close()
    for excluded in SHIPPED_EXCLUDED.get(family, ()):
        code_points.difference_update(excluded)
    return frozenset(code_points)


def families_with(code_point: int, candidates: tuple[str, ...]) -> tuple[str, ...]:
    """The candidate families that can draw a code point."""
    return tuple(f for f in candidates if code_point in coverage(f))


def css_family_list(families: tuple[str, ...], generic: str) -> str:
    """A CSS font-family value: quoted names, then the generic family."""
    seen: list[str] = []
    for family in families:
        if family not in seen:
            seen.append(family)
    return ", ".join([f'"{f}"' for f in seen] + [generic])
