"""Glyph coverage before layout: every character of the source must have a font that draws it.

WeasyPrint draws a missing glyph as an empty box, logs one unlocated line per occurrence and
exits 0. This check runs on the source instead: it resolves the font stacks the editions will
use (the language's script first, the shipped Latin fonts, then a stack for every other script
the text holds), reads the fonts' cmaps, and reports a character that no font can draw at its
file:line:col, with its name, its script and the Debian package that supplies a font for it.
One error per script per field: a missing font is one problem, not one per glyph.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import Collector, Location
from . import fonts
from .language import Language

# Keys whose values never reach a reader.
_HIDDEN_KEYS = {"id", "date", "language", "chapters", "cover", "identifier", "raw_html"}
# Characters drawn by no glyph: spaces, controls, joiners and other format characters, variation selectors.
_INVISIBLE_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf"}
_CJK_SCRIPTS = {"Hans", "Hant", "Jpan", "Kore"}
_CJK_CHARACTERS = {"Hani", "Hira", "Kana", "Hang", "Bopo"}


@dataclass(frozen=True)
class FontPlan:
    """The font families of the editions, in order: what the stylesheets name, what was checked."""

    serif: tuple[str, ...]
    sans: tuple[str, ...]
    scripts: tuple[str, ...]  # the scripts of the text, beside Common and Inherited

    @property
    def is_latin_only(self) -> bool:
        """True when the shipped fonts alone set everything (the stylesheets need no change)."""
        return self.serif == fonts.LATIN.serif and self.sans == fonts.LATIN.sans

    def css_serif(self) -> str:
        return fonts.css_family_list(self.serif, "serif")

    def css_sans(self) -> str:
        return fonts.css_family_list(self.sans, "sans-serif")


@dataclass(frozen=True)
class Field:
    """A piece of text a reader sees, and where its value starts in its file."""

    path: Path
    field: str
    text: str
    start: Location


def _is_invisible(char: str) -> bool:
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES or 0xFE00 <= ord(char) <= 0xFE0F


_script_cache: dict[str, str] = {}


def _script(char: str) -> str:
    found = _script_cache.get(char)
    if found is None:
        found = _script_cache[char] = fonts.script_of(char)
    return found


def writing_system(char_script: str, language: Language) -> str:
    """The stack a character of a script uses in this language: Han in Japanese text is Japanese."""
    if char_script in _CJK_CHARACTERS and language.script in _CJK_SCRIPTS:
        if char_script == "Hang":
            return "Kore"
        if char_script in ("Hira", "Kana"):
            return "Jpan"
        return language.script
    return char_script


def plan_fonts(language: Language, texts: list[str]) -> FontPlan:
    """The stacks for the language and every script the texts hold."""
    scripts: list[str] = []
    for char in set().union(*map(set, texts)):  # each distinct character once (the order is sorted below)
        if _is_invisible(char) or char.isspace():
            continue
        script = writing_system(_script(char), language)
        if script in ("Zyyy", "Zinh", "Zzzz") or script in scripts:
            continue
        scripts.append(script)
    scripts.sort()
    own = language.stack
    serif = list(own.serif) + list(fonts.LATIN.serif)
    sans = list(own.sans) + list(fonts.LATIN.sans)
    for script in scripts:
        if script == language.script or script == "Latn":
            continue
        other = fonts.stack_for_script(script)
        serif += [f for f in other.serif if f not in serif]
        sans += [f for f in other.sans if f not in sans]
    return FontPlan(tuple(serif), tuple(sans), tuple(scripts))


def check_coverage(fields: list[Field], language: Language, collector: Collector) -> FontPlan:
    """Report every character no font can draw; return the font plan, symbol fonts added as needed."""
    plan = plan_fonts(language, [f.text for f in fields])
    families = list(dict.fromkeys(plan.serif + plan.sans))
    extra: list[str] = []
    raw_files: dict[Path, str] = {}
    drawn: set[str] = set()  # characters a family of the plan draws (families are only added to)
    for field in fields:
        reported: set[str] = set()
        # each distinct character once, in the order of its first occurrence (the order of the messages)
        for char in dict.fromkeys(field.text):
            if char in drawn or _is_invisible(char) or char.isspace():
                continue
            code = ord(char)
            if any(code in fonts.coverage(f) for f in families):
                drawn.add(char)
                continue
            symbol = fonts.families_with(code, fonts.SYMBOL_FAMILIES)
            if symbol:
                families.append(symbol[0])
                extra.append(symbol[0])
                drawn.add(char)
                continue
            script = writing_system(_script(char), language)
            if script in reported:
                continue
            reported.add(script)
            stack = fonts.stack_for_script(script) if script not in ("Zyyy", "Zinh") else None
            collector.error(
                _locate(field, field.text.index(char), raw_files),
                _message(char, script, stack),
                field=field.field,
                hint=_hint(char, script),
            )
    if extra:
        plan = FontPlan(plan.serif + tuple(extra), plan.sans + tuple(extra), plan.scripts)
    return plan


def _message(char: str, script: str, stack: fonts.Stack | None) -> str:
    name = unicodedata.name(char, "unnamed character")
    what = f"U+{ord(char):04X} {name} ({fonts.script_name(script)} script)"
    if stack is not None:
        missing = [f for f in dict.fromkeys(stack.serif + stack.sans) if not fonts.installed(f)]
        if missing:
            return f"{what} cannot be printed: its font {', '.join(missing)} is not installed"
    return f"{what} cannot be printed: no font of its stack has a glyph for it"


def _hint(char: str, script: str) -> str:
    package = fonts.debian_package(script)
    if script == "Zyyy" and unicodedata.category(char) == "So" and ord(char) >= 0x1F000:
        package = fonts.EMOJI_PACKAGE  # pictographs: an emoji font
    return f"install the Debian package {package}: apt-get install {package}"


def _locate(field: Field, index: int, raw_files: dict[Path, str]) -> Location:
    """The character's place in its file: searched from where the value starts."""
    char = field.text[index]
    before = field.text[:index].count(char)  # the same character earlier in the value
    if field.path not in raw_files:
        try:
            raw_files[field.path] = field.path.read_text(encoding="utf-8")
        except OSError:
            raw_files[field.path] = ""
    raw = raw_files[field.path]
    lines = raw.split("\n")
    line, column = field.start.line or 1, field.start.column or 1
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + column - 1
    found = offset - 1
    for _ in range(before + 1):
        found = raw.find(char, found + 1)
        if found < 0:
            return field.start
    at_line = raw.count("\n", 0, found) + 1
    at_column = found - (raw.rfind("\n", 0, found) + 1) + 1
    return Location(field.path, at_line, at_column)


def source_fields(docs) -> list[Field]:
    """Every text value of the dossier's YAML documents that a reader sees."""
    from ..source.yamlfile import dotted

    fields: list[Field] = []

    def walk(doc, value, here: tuple) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                if key not in _HIDDEN_KEYS:
                    walk(doc, child, here + (key,))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                walk(doc, child, here + (index,))
        elif isinstance(value, str) and value:
            fields.append(Field(doc.path, dotted(here), value, doc.locate(here)))

    for doc in docs:
        walk(doc, doc.data, ())
    return fields


def language_fields(language: Language, where: Location) -> list[Field]:
    """What the language itself puts on the page (its words, quotation marks, month names).

    Located at the dossier's `language:` key: that is what a user can change, not the table.
    """
    from datetime import date

    months = " ".join(language.format_date_in_year_of(date(2000, month, 1)) for month in range(1, 13))
    texts = {f"word '{key}'": word for key, word in language.strings.items()}
    texts["quotation marks"] = "".join(language.quotes)
    texts["month names"] = months
    return [Field(Path(where.path), f"language ({what})", text, where) for what, text in texts.items()]
