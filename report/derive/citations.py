"""Citations: Pandoc's `[@id, p. 12]` syntax in bodies, and CSL rendering through citeproc-py.

The markdown-it plugin only finds citations; `CitationEngine` turns every citation of the
dossier (bodies, quotes, events) into text in the dossier's CSL style and language, and the
sources appendix into entries in the style's order, each with the anchors that cite it.
Nothing here knows an edition's file names: links are anchors, resolved by the caller.
"""

from __future__ import annotations

import html
import json
import re
import types
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

KEY = r"[A-Za-z][A-Za-z0-9_-]*"
_KEY_RE = re.compile(KEY)
_ITEM_RE = re.compile(r"^(?P<prefix>.*?)(?P<minus>-?)@(?P<key>" + KEY + r")(?P<rest>.*)$", re.DOTALL)


# ---- the markdown-it plugin ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CiteItem:
    """One source of a citation: `see @key, p. 12`."""

    key: str
    prefix: str = ""
    locator: str = ""  # as written after the comma: "S. 12", "p. 3-4", "12"
    suppress_author: bool = False


@dataclass(frozen=True)
class CitationRef:
    """A citation in a body, where it stands, and the anchor it gets in every edition."""

    anchor: str
    items: tuple[CiteItem, ...]
    in_text: bool  # `@key` in running text (author named in the sentence)
    raw: str  # as written, to find it on its file line
    line: int  # body line, 0-based
    in_footnote: bool = False


def citation_plugin(md: MarkdownIt) -> None:
    """`[@a, p. 1; @b]` and `@a` (optionally `@a [p. 1]`) become `citation` tokens."""
    md.inline.ruler.before("link", "citation_bracket", _bracket_rule)
    md.inline.ruler.before("link", "citation_in_text", _in_text_rule)


def _bracket_rule(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "[" or src.startswith("[^", start) or "@" not in src[start : start + 400]:
        return False
    end = src.find("]", start + 1)
    if end < 0 or "[" in src[start + 1 : end]:
        return False
    if src.startswith("(", end + 1) or src.startswith("[", end + 1):  # a link or reference link, not a citation
        return False
    items = _parse_items(src[start + 1 : end])
    if not items:
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.content = src[start : end + 1]
        token.meta = {"items": items, "in_text": False, "offset": start}
    state.pos = end + 1
    return True


def _in_text_rule(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "@" or (start > 0 and (src[start - 1].isalnum() or src[start - 1] in "_.-@/")):
        return False  # an e-mail address or a handle inside a word
    match = _KEY_RE.match(src, start + 1)
    if not match:
        return False
    end = match.end()
    while end > start + 1 and src[end - 1] in "-_":  # `@key-` : the dash is punctuation
        end -= 1
    key = src[start + 1 : end]
    locator = ""
    bracket = re.match(r"[ \t]?\[([^\]\[@]*)\](?![(\[])", src[end:])
    if bracket:
        locator = bracket.group(1).strip()
        end += bracket.end()
    if not silent:
        token = state.push("citation", "", 0)
        token.content = src[start:end]
        token.meta = {"items": (CiteItem(key, locator=locator),), "in_text": True, "offset": start}
    state.pos = end
    return True


def _parse_items(inner: str) -> tuple[CiteItem, ...]:
    items = []
    for part in inner.split(";"):
        match = _ITEM_RE.match(part.strip())
        if not match or (match.group("prefix") and not match.group("prefix").endswith((" ", "\t", "\n"))):
            return ()  # every part names a source, and `x@y` is an address, not a citation
        rest = match.group("rest").strip()
        if rest and not rest.startswith(","):
            return ()
        items.append(
            CiteItem(
                match.group("key"),
                " ".join(match.group("prefix").split()),
                " ".join(rest[1:].split()),
                bool(match.group("minus")),
            )
        )
    return tuple(items)


# ---- locators -----------------------------------------------------------------------------------------

# CSL locator types; their words ("S.", "Seite", "p.", "pp.", "para.") come from the CSL locale files.
LOCATOR_TYPES = (
    "page",
    "paragraph",
    "section",
    "chapter",
    "line",
    "note",
    "figure",
    "volume",
    "column",
    "verse",
    "part",
    "book",
    "issue",
    "folio",
    "table",
    "version",
    "appendix",
    "article-locator",
    "equation",
    "rule",
    "scene",
    "sub-verbo",
    "supplement",
    "timestamp",
    "title-locator",
    "opus",
)


@dataclass(frozen=True)
class Locator:
    label: str  # a CSL locator type, or "" for free text
    value: str


@lru_cache(maxsize=16)
def _locator_words(locale: str) -> tuple[tuple[str, str], ...]:
    """(word, locator type) from a CSL locale file, longest word first."""
    from lxml import etree

    path = locales_dir() / f"locales-{locale}.xml"
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.parse(str(path), parser).getroot()
    ns = {"c": "http://purl.org/net/xbiblio/csl"}
    words: dict[str, str] = {}
    for term in root.iterfind(".//c:terms/c:term", ns):
        name = term.get("name")
        if name not in LOCATOR_TYPES:
            continue
        forms = [term.text or ""] + [child.text or "" for child in term]
        for form in forms:
            form = form.strip().casefold()
            if form:
                words.setdefault(form, name)
    return tuple(sorted(words.items(), key=lambda kv: -len(kv[0])))


def parse_locator(text: str, locale: str) -> Locator:
    """'S. 12' -> page 12 in German, 'p. 12' in English, '12' -> page 12; other text is kept as it is."""
    text = " ".join(text.split())
    if not text:
        return Locator("", "")
    folded = text.casefold()
    for locale_name in dict.fromkeys((locale, "en-US")):
        for word, label in _locator_words(locale_name):
            if folded.startswith(word) and (len(text) == len(word) or not text[len(word)].isalpha()):
                value = text[len(word) :].strip()
                if value:
                    return Locator(label, value)
    if re.match(r"^\d", text):
        return Locator("page", text)
    return Locator("", text)


# ---- CSL ----------------------------------------------------------------------------------------------


def locales_dir() -> Path:
    import citeproc

    return Path(citeproc.__file__).parent / "data" / "locales"


def default_style() -> Path:
    """The author-date style citeproc-py ships (Harvard, Cite Them Right)."""
    import citeproc

    return Path(citeproc.__file__).parent / "data" / "styles" / "harvard-cite-them-right.csl"


def csl_locale(language_tag: str) -> str:
    """The CSL locale for a BCP 47 tag: itself if shipped, else its language's primary dialect, else en-US."""
    folder = locales_dir()
    if (folder / f"locales-{language_tag}.xml").is_file():
        return language_tag
    base = language_tag.split("-")[0].lower()
    dialects = json.loads((folder / "locales.json").read_text(encoding="utf-8"))["primary-dialects"]
    candidate = dialects.get(base, "")
    return candidate if candidate and (folder / f"locales-{candidate}.xml").is_file() else "en-US"


def _formatter() -> types.SimpleNamespace:
    """citeproc-py's HTML formatter without inline styles (Kobo) or the non-HTML <l> element."""

    def wrap(open_tag: str, close_tag: str):
        return lambda text: f"{open_tag}{text}{close_tag}"

    return types.SimpleNamespace(
        preformat=lambda text: html.escape(str(text), quote=False),
        Italic=wrap("<i>", "</i>"),
        Oblique=wrap("<i>", "</i>"),
        Bold=wrap("<b>", "</b>"),
        Light=wrap('<span class="light">', "</span>"),
        Underline=wrap('<span class="underline">', "</span>"),
        Superscript=wrap("<sup>", "</sup>"),
        Subscript=wrap("<sub>", "</sub>"),
        SmallCaps=wrap('<span class="small-caps">', "</span>"),
    )


class StyleError(Exception):
    """citeproc-py cannot process the dossier's style (a user error: the style file is named)."""


@dataclass(frozen=True)
class BackRef:
    """A place that cites a source: an anchor and the document (chapter or appendix) holding it."""

    anchor: str
    doc_anchor: str
    label: str  # chapter number, or the appendix's word


@dataclass(frozen=True)
class CitedSourceView:
    """An entry of the sources appendix."""

    id: str
    anchor: str
    entry_html: str  # the bibliography entry in the style, its URL linked
    short: str  # short form for the timeline, the quote index, captions
    backrefs: tuple[BackRef, ...]


@dataclass(frozen=True)
class SourceRef:
    """A quote's or an event's source: the appendix entry, its short form and the locator."""

    anchor: str
    short: str
    locator: str
    cited_html: str  # the citation in the style (e.g. "(Redaktion, 2024, S. 12)")


@dataclass(frozen=True)
class CitationHtml:
    """A body citation, rendered: its text and the appendix anchor it links to."""

    text_html: str
    source_anchor: str
    note: bool  # a note style: shown as a footnote
    author_html: str = ""  # `@key` with a note style: the author named in the text, before the note


@dataclass
class CitationEngine:
    """All citations of a dossier through one citeproc-py bibliography, in document order."""

    records: dict[str, dict]  # source id -> CSL item (without id)
    urls: dict[str, str]
    style_path: Path
    locale: str
    _keys: dict[str, str] = field(default_factory=dict)  # source id -> citeproc key (it lower-cases keys)
    _pending: list = field(default_factory=list)

    def __post_init__(self):
        from citeproc import CitationStylesBibliography, CitationStylesStyle
        from citeproc.source.json import CiteProcJSON

        self._keys = {source_id: f"s{number}" for number, source_id in enumerate(self.records)}
        # citeproc-py's HTML formatter escapes only the style's own words: an item's title or URL would
        # reach the page raw (`<img onerror=...>`), so every value is escaped before it is handed over
        items = [{**_escaped(csl), "id": self._keys[source_id]} for source_id, csl in self.records.items()]
        try:
            self.style = CitationStylesStyle(str(self.style_path), locale=self.locale, validate=False)
            self.bibliography = CitationStylesBibliography(self.style, CiteProcJSON(items), _formatter())
            # citeproc-py sorts on the formatted text: "<i>Title</i>" sorts before "Abernathy". A second
            # bibliography of the same citations in plain text gives the style's true order. Its text is
            # folded (ü as u, case ignored): citeproc-py compares code points, which puts "Musk" before
            # "Müller" and "Zander" before "de Vries"; CSL asks for the locale's alphabetical order.
            from citeproc import formatter

            plain_style = CitationStylesStyle(str(self.style_path), locale=self.locale, validate=False)
            self._plain = CitationStylesBibliography(
                plain_style,
                CiteProcJSON(
                    [{**_folded(csl), "id": self._keys[source_id]} for source_id, csl in self.records.items()]
                ),
                formatter.plain,
            )
        except Exception as exc:  # citeproc-py raises many kinds for a style it cannot read
            raise StyleError(f"citeproc-py cannot use this style: {type(exc).__name__}: {str(exc)[:120]}") from None
        self.is_note = self.style.root.get("class") == "note"
        # citeproc-py spends ~5 ms on a citation (XPath on every render). A style that never asks a
        # citation's position (first, subsequent, ibid) renders the same citation the same way
        # every time, so each distinct one is rendered once.
        self._memo: dict[tuple, str] | None = None if self.style.root.xpath("//*[@position]") else {}

    def citation(self, items: tuple[CiteItem, ...]):
        """Register a citation (in document order) and return its handle for `render`."""
        from citeproc import Citation, CitationItem
        from citeproc import Locator as CslLocator

        cite_items = []
        for item in items:
            located = parse_locator(item.locator, self.locale)
            options = {}
            value = html.escape(located.value, quote=False)
            if located.label:
                options["locator"] = CslLocator(located.label, value)
            elif located.value:
                options["suffix"] = f", {value}"
            if item.prefix:
                options["prefix"] = f"{html.escape(item.prefix, quote=False)} "
            cite_items.append(CitationItem(self._keys[item.key], **options))
        citation = Citation(cite_items)
        self.bibliography.register(citation)
        self._plain.register(Citation([CitationItem(item.key) for item in cite_items]))
        return (items, citation)

    def render(self, handle) -> str:
        """The citation of a handle from `citation`, as HTML; call in reading order."""
        items, citation = handle
        if self._memo is not None and items in self._memo:
            return self._memo[items]
        try:
            text = str(self.bibliography.cite(citation, lambda item: None)).strip()
        except Exception as exc:
            raise StyleError(f"citeproc-py failed on a citation: {type(exc).__name__}: {str(exc)[:120]}") from None
        if self._memo is not None:
            self._memo[items] = text
        return text

    def entries(self) -> list[tuple[str, str]]:
        """(source id, entry HTML) of every cited source, in the style's order."""
        by_key = {key: source_id for source_id, key in self._keys.items()}
        try:
            if self.style.has_bibliography():
                self._plain.sort()
                items = {item.key: item for item in self.bibliography.items}
                self.bibliography.items = [items[key] for key in self._plain.keys]
                self.bibliography.keys = list(self._plain.keys)
                rendered = [str(entry) for entry in self.bibliography.bibliography()]
            else:  # a style without a bibliography: its citations, in order of citation
                rendered = [""] * len(self.bibliography.keys)
        except Exception as exc:
            raise StyleError(
                f"citeproc-py failed on the bibliography: {type(exc).__name__}: {str(exc)[:120]}"
            ) from None
        out = []
        for key, text in zip(self.bibliography.keys, rendered, strict=True):
            source_id = by_key[key]
            text = text.strip() or html.escape(self.records[source_id].get("title", source_id), quote=False)
            note = self.records[source_id].get("note", "")
            if note and html.escape(note, quote=False) not in text:  # the dossier's remark, if the style has none
                text = f'{text} <span class="source-note">{html.escape(note, quote=False)}</span>'
            out.append((source_id, link_url(text, self.urls.get(source_id, ""))))
        return out


def _folded(value):
    """A CSL item with every text folded for sorting: letters without diacritics, case folded, ß as ss."""
    if isinstance(value, str):
        decomposed = unicodedata.normalize("NFKD", value.casefold().replace("ß", "ss"))
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    if isinstance(value, dict):
        return {key: _folded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_folded(item) for item in value]
    return value


def _escaped(value):
    """A CSL item with every text escaped for HTML (names and dates included)."""
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, dict):
        return {key: _escaped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_escaped(item) for item in value]
    return value


def link_url(entry_html: str, url: str) -> str:
    """Make the printed URL a link (it is never fetched); print it if the style left it out."""
    if not url:
        return entry_html
    shown = html.escape(url, quote=False)
    link = f'<a class="url" href="{html.escape(url, quote=True)}">{shown}</a>'
    if shown in entry_html:
        return entry_html.replace(shown, link, 1)
    return f"{entry_html} {link}"


def who_short(csl: dict) -> str:
    """The authors, short ('Müller', 'Müller & García', 'Okafor et al.'), else where it appeared, else the title."""
    names = csl.get("author") or []
    families = [n.get("family") or n.get("literal") for n in names if n.get("family") or n.get("literal")]
    if families:
        return (
            families[0]
            if len(families) == 1
            else (f"{families[0]} & {families[1]}" if len(families) == 2 else f"{families[0]} et al.")
        )
    title = csl.get("title-short") or csl.get("title", "")
    if csl.get("type") not in ("legal_case", "legislation", "bill", "treaty") and csl.get("container-title"):
        return csl["container-title"]
    return title if csl.get("title-short") or len(title) <= 40 else title.split(":")[0].strip()


def short_form(csl: dict) -> str:
    """Short form for the timeline, the quote index and captions: 'Müller 2020', 'All-AI.de', 'Musk v. Altman 2024'."""
    parts = (csl.get("issued") or {}).get("date-parts") or [[]]
    year = str(parts[0][0]) if parts and parts[0] else ""
    return f"{who_short(csl)} {year}".strip()
