"""One object per language: from a BCP 47 tag, every word, mark, pattern, order and font.

The UI words come from one table file per language (tables/*.yaml, written for this project);
dates, month names, list patterns and text direction from CLDR through Babel; quotation marks
and collation from CLDR through ICU (PyICU), with the overrides a table names where typographic
practice differs; fonts from the script (fonts.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date as Date
from functools import cache, cached_property
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date, format_skeleton
from babel.lists import format_list

from . import fonts

TABLES = Path(__file__).parent / "tables"
FALLBACK = "en"

# Scripts that break lines without spaces and are not hyphenated or justified word by word.
NO_SPACES = {"Thai", "Hans", "Hant", "Jpan", "Lao", "Khmr", "Mymr"}
# Scripts whose fonts have no italic: emphasis stays upright (bold), never a slanted fake.
NO_ITALIC = {
    "Arab",
    "Hebr",
    "Deva",
    "Thai",
    "Hans",
    "Hant",
    "Jpan",
    "Kore",
    "Beng",
    "Taml",
    "Telu",
    "Knda",
    "Mlym",
    "Gujr",
    "Guru",
    "Orya",
    "Sinh",
    "Khmr",
    "Lao",
    "Mymr",
    "Tibt",
    "Ethi",
    "Geor",
    "Armn",
}


@cache
def _read_table(name: str) -> dict:
    path = TABLES / f"{name}.yaml"
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def available_tags() -> tuple[str, ...]:
    """The tags of every language that has a table, sorted."""
    return tuple(sorted(p.stem for p in TABLES.glob("*.yaml")))


def _maximize(tag: str) -> tuple[str, str, str]:
    """(language, script, region) of a tag, the missing parts from CLDR's likely subtags."""
    parts = tag.replace("_", "-").split("-")
    language = parts[0].lower()
    script = next((p.title() for p in parts[1:] if len(p) == 4 and p.isalpha()), "")
    region = next((p.upper() for p in parts[1:] if (len(p) == 2 and p.isalpha()) or (len(p) == 3 and p.isdigit())), "")
    likely = get_global("likely_subtags")
    for probe in (
        f"{language}_{script}_{region}" if script and region else "",
        f"{language}_{region}" if region else "",
        f"{language}_{script}" if script else "",
        language,
    ):
        if probe and probe in likely:
            found = likely[probe].split("_")
            full_script = next((p for p in found[1:] if len(p) == 4), "")
            full_region = next((p for p in found[1:] if len(p) in (2, 3)), "")
            return language, script or full_script, region or full_region
    return language, script, region


def table_name(tag: str) -> str | None:
    """The table a tag uses: the tag itself, its language with its script (zh-TW -> zh-Hant), its language."""
    names = set(available_tags())
    language, script, _ = _maximize(tag)
    for candidate in (tag, f"{language}-{script}", language):
        if candidate in names:
            return candidate
    return None


@dataclass(frozen=True)
class Language:
    """Everything the pipeline needs to know about the dossier's language."""

    tag: str

    # --- which data ---------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return self.tag.split("-")[0].lower()

    @cached_property
    def table(self) -> str | None:
        """The name of the table this language uses; None: none, English words."""
        return table_name(self.tag)

    @cached_property
    def _data(self) -> dict:
        return _read_table(self.table or FALLBACK)

    @cached_property
    def locale(self) -> Locale:
        """Babel's locale (CLDR); English for a language CLDR does not know."""
        try:
            return Locale.parse(self.tag, sep="-")
        except (UnknownLocaleError, ValueError):
            try:
                return Locale.parse(self.base)
            except (UnknownLocaleError, ValueError):
                return Locale.parse(FALLBACK)

    @cached_property
    def script(self) -> str:
        """The writing system (ISO 15924): 'Latn', 'Arab', 'Jpan', 'Kore', 'Hans', 'Hant'..."""
        language, script, _ = _maximize(self.tag)
        if language == "ja":
            return "Jpan"
        if language == "ko":
            return "Kore"
        return script or "Latn"

    # --- words ----------------------------------------------------------------------------------

    @cached_property
    def strings(self) -> dict[str, str]:
        """Every UI word; a word a table lacks is the English one."""
        return {**_read_table(FALLBACK)["words"], **self._data["words"]}

    def t(self, key: str) -> str:
        """A UI string in this language (English when the language has no table)."""
        return self.strings[key]

    @property
    def name(self) -> str:
        """The language's own name for itself."""
        return self._data.get("name", self.tag)

    # --- direction, marks, patterns -------------------------------------------------------------

    @cached_property
    def direction(self) -> str:
        """'rtl' or 'ltr', from CLDR."""
        return "rtl" if self.locale.text_direction == "rtl" else "ltr"

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"

    @cached_property
    def quotes(self) -> tuple[str, str, str, str]:
        """Primary and secondary quotation marks: a table's override, else CLDR's (through ICU)."""
        _, _, region = _maximize(self.tag) if "-" in self.tag else ("", "", "")
        override = self._data.get("regional_quotes", {}).get(region) or self._data.get("quotes")
        if override:
            opening, closing, inner_opening, inner_closing = override
            return opening, closing, inner_opening, inner_closing
        return cldr_quotes(self.tag)

    def quote(self, text: str) -> str:
        marks = self.quotes
        return f"{marks[0]}{text}{marks[1]}"

    def format_date(self, value) -> str:
        """A date the reader's way: '2018', 'Februar 2018', '20. Februar 2018' (CLDR patterns)."""
        if value.precision == "year":
            return format_skeleton("y", Date(value.year, 1, 1), locale=self.locale)
        if value.precision == "month":
            return format_skeleton("yMMMM", Date(value.year, value.month, 1), locale=self.locale)
        return format_date(Date(value.year, value.month, value.day), format="long", locale=self.locale)

    def format_date_in_year(self, value) -> str:
        """The date without its year, for a list set under year marks: 'Februar', '20. Februar', '2月20日'."""
        if value.precision == "year":
            return ""
        if value.precision == "month":
            # CLDR's stand-alone month name (a pattern field, not a skeleton: no skeleton has it alone)
            return format_date(Date(value.year, value.month, 1), "LLLL", locale=self.locale)
        return format_skeleton("MMMMd", Date(value.year, value.month, value.day), locale=self.locale)

    def format_date_in_year_of(self, value: Date) -> str:
        """A full date's month name as the timeline sets it (CLDR's stand-alone month)."""
        return format_date(value, "LLLL", locale=self.locale)

    def format_full_date(self, value: Date) -> str:
        return format_date(value, format="long", locale=self.locale)

    def format_list(self, items) -> str:
        """'A, B und C': CLDR's list pattern for the language."""
        items = list(items)
        if not items:
            return ""
        return format_list(items, style="standard", locale=self.locale)

    # --- order ------------------------------------------------------------------------------------

    @cached_property
    def _collator(self):
        import icu

        collator = icu.Collator.createInstance(icu.Locale(self.tag.replace("-", "_")))
        return collator

    def sort_key(self, text: str) -> tuple:
        """Alphabetical order by the language's rules (CLDR collation through ICU).

        German is DIN 5007-1 (ä with a, ß as ss), Swedish puts å ä ö after z, Spanish ñ after
        n, Czech ch after h, Turkish ı before i. Ties break on the text itself.
        """
        return (self._collator.getSortKey(unicodedata.normalize("NFC", text)), text)

    # --- typesetting ------------------------------------------------------------------------------

    @property
    def uses_spaces(self) -> bool:
        """False for scripts set without spaces between words (Thai, Chinese, Japanese)."""
        return self.script not in NO_SPACES

    @property
    def has_italic(self) -> bool:
        return self.script not in NO_ITALIC

    @cached_property
    def stack(self) -> fonts.Stack:
        """The font stack of the language's own script."""
        return fonts.stack_for_script(self.script)


def cldr_quotes(tag: str) -> tuple[str, str, str, str]:
    """CLDR's quotation delimiters for a tag (ICU's locale data; root's for a language it lacks)."""
    import icu

    data = icu.LocaleData(tag.replace("-", "_"))
    kinds = icu.ULocaleDataDelimiterType
    return (
        data.getDelimiter(kinds.QUOTATION_START),
        data.getDelimiter(kinds.QUOTATION_END),
        data.getDelimiter(kinds.ALT_QUOTATION_START),
        data.getDelimiter(kinds.ALT_QUOTATION_END),
    )
