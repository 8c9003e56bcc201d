"""Language-aware words, dates, quotation marks and sorting."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date as Date

from babel import Locale
from babel.dates import format_date, format_skeleton

from ..source.model import PartialDate

# UI strings per base language; other languages fall back to English.
STRINGS: dict[str, dict[str, str]] = {
    "de": {
        "contents": "Inhalt",
        "timeline": "Zeitleiste",
        "quote_index": "Zitatverzeichnis",
        "page": "Seite",
        "page_of": "von",
        "page_short": "S.",
        "chapter": "Kapitel",
        "source": "Quelle",
        "edition": "Ausgabe",
        "build": "Build",
        "imprint": "Impressum",
        "footnotes": "Fußnoten",
        "back_to_text": "Zurück zum Text",
        "cover": "Titelseite",
        "publisher": "Herausgeber",
        "authors": "Autoren",
        "joint_with": "gemeinsam mit",
        "quotes_in_chapter": "Weitere Zitate",
        "landmarks": "Orientierungspunkte",
        "page_list": "Seitenliste",
        "start": "Beginn",
        "identifier": "Kennung",
        "made_with": "Erstellt mit report",
        "key_quotes": "Schlüsselzitate",
        "summaries": "Zusammenfassung",
        "handout": "Handout",
        "draft": "Entwurf",
        "version": "Version",
        "changes": "Änderungen",
        "key_points": "Das Wichtigste in Kürze",
        "classification": "Einstufung",
        "sources": "Quellen",
        "cited_at": "Zitiert",
    },
    "en": {
        "contents": "Contents",
        "timeline": "Timeline",
        "quote_index": "Index of Quotations",
        "page": "Page",
        "page_of": "of",
        "page_short": "p.",
        "chapter": "Chapter",
        "source": "Source",
        "edition": "Edition",
        "build": "Build",
        "imprint": "Imprint",
        "footnotes": "Notes",
        "back_to_text": "Back to text",
        "cover": "Cover",
        "publisher": "Publisher",
        "authors": "Authors",
        "joint_with": "jointly with",
        "quotes_in_chapter": "Further quotations",
        "landmarks": "Landmarks",
        "page_list": "Pages",
        "start": "Start",
        "identifier": "Identifier",
        "made_with": "Made with report",
        "key_quotes": "Key quotations",
        "summaries": "Summary",
        "handout": "Handout",
        "draft": "Draft",
        "version": "Version",
        "changes": "Changes",
        "key_points": "Key points",
        "classification": "Classification",
        "sources": "Sources",
        "cited_at": "Cited",
    },
}

# Primary and secondary quotation marks, as markdown-it's typographer takes them.
QUOTES: dict[str, str] = {
    "de": "„“‚‘",
    "de-CH": "«»‹›",
    "en": "“”‘’",
    "en-GB": "‘’“”",
    "fr": ["« ", " »", "‹ ", " ›"],  # type: ignore[dict-item]
    "es": "«»“”",
    "it": "«»“”",
    "nl": "“”‘’",
}


@dataclass(frozen=True)
class Language:
    """Everything the pipeline needs to know about the dossier's language."""

    tag: str

    @property
    def base(self) -> str:
        return self.tag.split("-")[0].lower()

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.tag, sep="-")

    @property
    def direction(self) -> str:
        """The script's direction, "rtl" or "ltr" (CLDR, through Babel)."""
        return "rtl" if self.locale.text_direction == "rtl" else "ltr"

    @property
    def strings(self) -> dict[str, str]:
        """The words of the editions in this language (English when the language has no table)."""
        return STRINGS.get(self.base, STRINGS["en"])

    @property
    def quotes(self):
        return QUOTES.get(self.tag) or QUOTES.get(self.base) or "“”‘’"

    def format_date(self, value: PartialDate) -> str:
        """A date the reader's way: '2018', 'Februar 2018', '20. Februar 2018'."""
        if value.precision == "year":
            return str(value.year)
        if value.precision == "month":
            return format_skeleton("yMMMM", Date(value.year, value.month, 1), locale=self.locale)
        return format_date(Date(value.year, value.month, value.day), format="long", locale=self.locale)

    def format_full_date(self, value: Date) -> str:
        return format_date(value, format="long", locale=self.locale)

    def sort_key(self, text: str) -> tuple:
        """Alphabetical order by the language's rules for Latin script (DIN 5007-1 for German).

        Letters with diacritics sort with their base letter (ä with a, é with e), ß as ss;
        case and accents only break ties.
        """
        folded = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
        base = "".join(ch for ch in folded if not unicodedata.combining(ch))
        base = "".join(ch for ch in base if ch.isalnum() or ch.isspace())
        return (base, folded, text)
