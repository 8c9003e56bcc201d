"""Validated source -> the Book: every anchor, index and rendered fragment, minted in one place.

The Book holds anchor ids, never page numbers: the PDF gets numbers from CSS
(target-counter), the EPUB from the PDF's layout, the HTML edition gets links.
"""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path
from urllib.parse import unquote

from ..errors import Collector, Location
from ..folder import is_inside
from ..languages import available_tags
from ..languages.coverage import FontPlan, check_coverage, language_fields, source_fields
from ..memo import Memo, digest
from ..source.loader import LoadedChapter, LoadedDossier
from ..source.model import PartialDate
from .appendices import APPENDICES, Appendix
from .citations import CitedSourceView, SourceRef
from .i18n import Language
from .markdown import (
    EDITIONS,
    MAX_NESTING,
    MAX_TABLE_COLUMNS,
    BodyPart,
    Footnote,
    ParsedBody,
    make_markdown,
    note_blocks,
)
from .sanitize import MAX_ELEMENT_DEPTH, element_depth, inspect, safe_link, table_columns
from .sources import derive_sources

MAX_IMAGE_BYTES = 10 * 1024 * 1024
# WeasyPrint 70's footnote layout grows faster than the notes (each line looks through the list
# of notes not yet set): 500 notes lay out in 6 s, 2000 in 37 s, tens of thousands in many minutes.
MAX_FOOTNOTES_PER_CHAPTER = 500
MAX_FOOTNOTES = 2000
MAX_IMAGE_PIXELS = 40_000_000  # a small file can declare a huge canvas that every renderer would allocate
_IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


@dataclass(frozen=True)
class Image:
    """An image file of the dossier, checked, with its name inside the EPUB."""

    # paths and bytes are not data for templates (report/sandbox.py): kept out of repr() too
    source: Path = field(repr=False)
    media_type: str
    epub_name: str
    data: bytes = field(repr=False)

    @property
    def uri(self) -> str:
        """The file's address for the PDF renderer (which serves only files in the dossier)."""
        return self.source.as_uri()


@dataclass(frozen=True)
class QuoteView:
    id: str
    anchor: str
    speakers: tuple[str, ...]
    text_html: str
    text_plain: str
    date: PartialDate | None
    date_label: str
    context_html: str
    chapter_anchor: str
    placed: bool
    source: SourceRef | None = None  # where the quotation is taken from


@dataclass(frozen=True)
class EventView:
    anchor: str
    date: PartialDate
    date_label: str
    date_in_year: str  # the date without its year, for lists set under year marks (CLDR pattern)
    title_html: str
    text_html: str
    chapter_anchor: str
    chapter_title: str
    order: int  # position in the source, to keep ties stable
    source: SourceRef | None = None


@dataclass(frozen=True)
class SourceView:
    """Where the dossier's facts come from, as printed: plain title, publisher, checked URL."""

    title: str
    publisher: str
    url: str


@dataclass(frozen=True)
class ChangeView:
    """One entry of the list of changes, ready for the imprint."""

    date: Date
    date_label: str
    version: str
    text_html: str


@dataclass(frozen=True)
class Expected:
    """Something of the source that every edition must show, by its anchor, and where it was written."""

    anchor: str
    what: str  # for the message: "paragraph", "footnote 3", "quote 'q1'", "image 'a.png'"
    location: Location
    call_anchor: str = ""  # a footnote's call: in the PDF the note stands on its page or the next


@dataclass(frozen=True)
class ChapterView:
    anchor: str
    number: int
    file_name: str  # XHTML document inside the EPUB
    title_html: str
    title_plain: str
    summary_html: str
    key_points: tuple[str, ...]  # inline HTML, one per point
    body: dict[str, tuple[BodyPart, ...]]  # per edition
    footnotes: dict[str, tuple[Footnote, ...]]
    quotes: dict[str, QuoteView]  # by id, in source order
    unplaced: tuple[QuoteView, ...]
    events: tuple[EventView, ...]
    source_path: Path = field(repr=False)
    expected: tuple[Expected, ...] = field(default=(), repr=False)  # checked in every edition (completeness.py)
    # the digest of everything the view was made from (memo.py): the same key, the same view
    key: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class IndexEntry:
    quote: QuoteView
    first_words: str
    others: tuple[str, ...]  # the other speakers of a joint statement


@dataclass(frozen=True)
class SpeakerGroup:
    speaker: str
    anchor: str
    entries: tuple[IndexEntry, ...]


@dataclass(frozen=True)
class Book:
    """Everything the templates need, finished and frozen."""

    root: Path = field(repr=False)  # not handed to templates (report/sandbox.py)
    language: Language
    title_html: str
    title: str
    subtitle: str
    authors: tuple[str, ...]
    publisher: str
    date: Date | None
    description: str
    identifier: str
    source: SourceView | None
    cover: Image | None
    chapters: tuple[ChapterView, ...]
    timeline: tuple[EventView, ...]
    quote_index: tuple[SpeakerGroup, ...]
    images: tuple[Image, ...]
    appendices: tuple[Appendix, ...] = APPENDICES  # after the chapters, in this order, in every edition
    layout: str = "briefing"  # the dossier's PDF layout: "briefing" or "book"
    classification: str = ""  # the marking, in the user's words; "" for none
    draft: bool = False
    version: str = ""
    changes: tuple[ChangeView, ...] = ()
    key_points: tuple[str, ...] = ()  # the dossier's own key points, inline HTML
    fonts: FontPlan | None = None  # the font stacks of the PDF, checked against every character
    # the sources appendix: every cited source once, in the citation style's order (empty: no appendix)
    sources: tuple[CitedSourceView, ...] = ()
    citation_class: str = ""  # "in-text" or "note": how the style cites

    @property
    def strings(self) -> dict[str, str]:
        return self.language.strings

    @property
    def marking(self) -> str:
        """What every page and every document carries at its top: the draft word and the classification."""
        return " · ".join(x for x in (self.strings["draft"] if self.draft else "", self.classification) if x)

    def quote(self, quote_id: str) -> QuoteView:
        for chapter in self.chapters:
            if quote_id in chapter.quotes:
                return chapter.quotes[quote_id]
        raise KeyError(quote_id)

    @property
    def all_quotes(self) -> dict[str, QuoteView]:
        return {q.id: q for c in self.chapters for q in c.quotes.values()}


def derive_book(dossier: LoadedDossier, collector: Collector, memo: Memo | None = None) -> Book | None:
    """Build the Book; report located errors (dangling quotes, bad images) to ``collector``.

    Two stages: each chapter alone (its Markdown parsed, each edition's body rendered, its
    view made), then the whole book (numbering, cross-chapter checks, timeline, quote index).
    With a memo, a chapter step whose inputs did not change is not done again (memo.py).
    """
    memo = memo or Memo()
    meta = dossier.meta
    language = Language(meta.language)
    straight = language.script in ("Hans", "Hant", "Jpan", "Kore")
    # a quotation stands inside the language's primary marks: a quotation inside it takes the secondary ones
    marks = language.quotes
    markdown = _markdown(memo, tuple(language.quotes), meta.raw_html, straight)
    quoted = _markdown(memo, (marks[2], marks[3], marks[0], marks[1]), meta.raw_html, straight)
    if language.table is None:
        collector.warning(
            dossier.meta_doc.locate(("language",)),
            f"report has no table for language "
            f"'{meta.language}': the editions use English words (tables: "
            f"{', '.join(available_tags())})",
            field="language",
            code="language-without-table",
        )
    # before layout: a character no font can draw would print as an empty box
    font_plan = check_coverage(
        source_fields([dossier.meta_doc] + [c.doc for c in dossier.chapters])
        + language_fields(language, dossier.meta_doc.locate(("language",))),
        language,
        collector,
    )
    images: dict[Path, Image] = {}

    quote_ids = {q.id for c in dossier.chapters for q in c.model.quotes} | dossier.unvalidated_quote_ids
    placed_ids: set[str] = set()
    parsed_bodies: list[ParsedBody] = []
    footnotes_so_far = 0
    parse_keys: list[str] = []
    for loaded in dossier.chapters:
        parse_key = digest("parse", markdown.config, loaded.model.body, chapter_anchor(loaded))
        parse = functools.partial(_parse, markdown, loaded.model.body, chapter_anchor(loaded))
        parsed = memo.step("markdown", parse_key, parse, disk=True)
        parsed_bodies.append(parsed)
        parse_keys.append(parse_key)
        first_line = loaded.body_line()
        seen_here: set[str] = set()
        for ref in parsed.quote_refs:
            where = Location(loaded.path, first_line + ref.line, 1)
            if ref.quote_id not in quote_ids:
                collector.error(
                    where,
                    f"[[quote:{ref.quote_id}]] names no quote of the dossier",
                    field="body",
                    hint=_hint(ref.quote_id, quote_ids),
                )
            elif ref.quote_id in placed_ids or ref.quote_id in seen_here:
                collector.error(where, f"quote '{ref.quote_id}' is placed twice", field="body")
            seen_here.add(ref.quote_id)
        placed_ids |= seen_here
        note_refs = sorted(note_blocks(parsed, chapter_anchor(loaded)), key=lambda block: block.line)
        if len(note_refs) > MAX_FOOTNOTES_PER_CHAPTER:
            collector.error(
                Location(loaded.path, first_line + note_refs[MAX_FOOTNOTES_PER_CHAPTER].line, 1),
                f"the chapter has {len(note_refs):,} footnotes; the limit is {MAX_FOOTNOTES_PER_CHAPTER} "
                "a chapter (this is the first one over it)",
                field="body",
            )
        elif footnotes_so_far <= MAX_FOOTNOTES < footnotes_so_far + len(note_refs):
            collector.error(
                Location(loaded.path, first_line + note_refs[MAX_FOOTNOTES - footnotes_so_far].line, 1),
                f"the dossier has more than {MAX_FOOTNOTES:,} footnotes, the limit for a whole "
                "dossier (this is the first one over it)",
                field="body",
            )
        footnotes_so_far += len(note_refs)
        for line in parsed.too_deep:
            collector.error(
                Location(loaded.path, first_line + line, 1),
                f"lists and block quotes nest more than {MAX_NESTING} levels deep here; the limit "
                f"keeps every line of the body in every edition",
                field="body",
            )
        for line, columns in parsed.too_wide:
            collector.error(
                Location(loaded.path, first_line + line, 1),
                f"this table has {columns:,} columns; the limit is {MAX_TABLE_COLUMNS}",
                field="body",
            )
        for image in parsed.images:
            where = Location(loaded.path, first_line + image.line, 1)
            checked = _check_image(dossier.root, image.src, where, collector, memo=memo)
            if not image.alt:
                collector.error(
                    where,
                    f"image '{image.src}' has no alt text: describe it for readers who "
                    "cannot see it (![description](file))",
                    field="body",
                )
            if checked:
                images.setdefault(checked.source, checked)
        for link in parsed.links:
            if not safe_link(link.src):
                collector.error(
                    Location(loaded.path, first_line + link.line, 1),
                    f"link '{link.src[:80]}' is not allowed: use #anchors, http(s), mailto or relative links",
                    field="body",
                )
        for raw in parsed.raw_html:
            where = Location(loaded.path, first_line + raw.line, 1)
            for finding in inspect(raw.html):
                if finding.image_src:
                    checked = _check_image(dossier.root, finding.image_src, where, collector, memo=memo)
                    if checked:
                        images.setdefault(checked.source, checked)
                else:
                    collector.warning(where, finding.message, field="body", code="raw-html-removed")

    cited = derive_sources(dossier, parsed_bodies, markdown, language, collector)

    cover = None
    if meta.cover:
        cover = _check_image(
            dossier.root, meta.cover, dossier.meta_doc.locate(("cover",)), collector, field="cover", memo=memo
        )
    if collector.errors:
        return None

    def image_url_for(edition: str):
        def address(image: Image) -> str:
            if edition == "epub":
                return f"../{image.epub_name}"
            if edition == "html":
                import base64

                return f"data:{image.media_type};base64,{base64.b64encode(image.data).decode()}"
            return image.source.as_uri()

        produced = {address(image) for image in images.values()}

        def url(src: str) -> str:
            if src in produced:  # the sanitiser sees the addresses given out here once more
                return src
            if _is_url(src):
                return ""
            try:
                image = images.get((dossier.root / unquote(src)).resolve())
            except (OSError, RuntimeError, ValueError):
                return ""
            return address(image) if image else ""

        return url

    urls = {edition: image_url_for(edition) for edition in EDITIONS}
    # what a body's rendering reads besides its parse: the images (files and their bytes) and the root
    images_key = digest(str(dossier.root), tuple((str(p), i.epub_name, i.media_type) for p, i in images.items()))
    source_hrefs = {edition: _source_href(edition) for edition in EDITIONS}

    def render(edition: str, parsed: ParsedBody, parse_key: str, anchor: str) -> tuple[str, tuple, tuple]:
        """One edition's body of one chapter: (its key, body parts, footnotes)."""
        # the citations the chapter makes, as the whole dossier's style rendered them
        cites = tuple((ref.anchor, cited.citations.get(ref.anchor)) for ref in parsed.citations)
        key = digest("body", parse_key, edition, anchor, cites, images_key, cited.citation_class)
        parts, notes = memo.step(
            "body",
            key,
            lambda own: markdown.render_body(
                parsed, anchor, edition, urls[edition], cited.citations, source_hrefs[edition]
            ),
            disk=True,
        )
        return key, parts, notes

    chapters: list[ChapterView] = []
    events: list[EventView] = []
    order = 0
    for number, (loaded, parsed, parse_key) in enumerate(
        zip(dossier.chapters, parsed_bodies, parse_keys, strict=True), start=1
    ):
        anchor = chapter_anchor(loaded)
        rendered = {edition: render(edition, parsed, parse_key, anchor) for edition in EDITIONS}
        placed = tuple(quote.id in placed_ids for quote in loaded.model.quotes)
        quote_sources = tuple(cited.quote_sources.get(quote.id) for quote in loaded.model.quotes)
        event_sources = tuple(cited.event_sources.get((loaded.anchor, i)) for i in range(len(loaded.model.events)))
        view_key = digest(
            "chapter",
            loaded.doc.key,
            loaded.anchor,
            number,
            order,
            language.tag,
            markdown.config,
            quoted.config,
            placed,
            quote_sources,
            event_sources,
            tuple(key for key, _, _ in rendered.values()),
        )
        make_view = functools.partial(
            _chapter_view,
            loaded,
            parsed,
            number,
            order,
            {edition: (parts, notes) for edition, (_, parts, notes) in rendered.items()},
            placed_ids,
            cited,
            language,
            markdown,
            quoted,
            raw_html=meta.raw_html,
            key=view_key,
        )
        view = memo.step("chapter", view_key, make_view, collector, disk=True)
        order += len(view.events)
        events.extend(view.events)
        chapters.append(view)

    timeline = tuple(sorted(events, key=lambda e: (e.date, e.order)))
    source = None
    if meta.source is not None and (meta.source.title or meta.source.publisher or meta.source.url):
        source = SourceView(
            title=markdown.plain(meta.source.title), publisher=meta.source.publisher or "", url=meta.source.url or ""
        )
    return Book(
        root=dossier.root,
        language=language,
        title_html=markdown.inline(meta.title),
        title=markdown.plain(meta.title),
        subtitle=markdown.plain(meta.subtitle),
        authors=tuple(meta.authors),
        publisher=meta.publisher or "",
        date=meta.date,
        description=markdown.plain(meta.description),
        identifier=meta.stable_identifier(),
        source=source,
        cover=cover,
        chapters=tuple(chapters),
        timeline=timeline,
        quote_index=_quote_index(chapters, language, meta.sort_as),
        images=tuple(images.values()),
        fonts=font_plan,
        layout=meta.layout,
        classification=meta.classification or "",
        draft=meta.status == "draft",
        version=meta.version or "",
        changes=tuple(
            ChangeView(c.date, language.format_full_date(c.date), c.version or "", markdown.inline(c.text))
            for c in meta.changes
        ),
        key_points=tuple(markdown.inline(point) for point in meta.key_points),
        sources=cited.sources,
        citation_class=cited.citation_class,
        appendices=tuple(a for a in APPENDICES if not a.only_with or getattr(cited, a.only_with)),
    )


def _chapter_view(
    loaded: LoadedChapter,
    parsed: ParsedBody,
    number: int,
    order: int,
    rendered: dict[str, tuple[tuple[BodyPart, ...], tuple[Footnote, ...]]],
    placed_ids: set[str],
    cited,
    language: Language,
    markdown,
    quoted,
    collector: Collector,
    *,
    raw_html: bool,
    key: str,
) -> ChapterView:
    """One chapter's view: its quotes, events, bodies and what every edition must show of it.

    Reads the chapter and the few whole-dossier facts passed in (all of them in its memo key).
    """

    def fmt(value: PartialDate | None) -> str:
        return language.format_date(value) if value else ""

    model = loaded.model
    anchor = chapter_anchor(loaded)
    title_plain = markdown.plain(model.title)
    quotes: dict[str, QuoteView] = {}
    placed_here = {ref.quote_id for ref in parsed.quote_refs}
    for quote in model.quotes:
        quotes[quote.id] = QuoteView(
            id=quote.id,
            anchor=f"q-{quote.id}",
            speakers=tuple(quote.speaker),
            text_html=quoted.inline(quote.text),
            text_plain=quoted.plain(quote.text),
            date=quote.date,
            date_label=fmt(quote.date),
            context_html=markdown.inline(quote.context),
            chapter_anchor=anchor,
            placed=quote.id in placed_here,
            source=cited.quote_sources.get(quote.id),
        )
    for index, quote in enumerate(model.quotes):
        if quote.id not in placed_ids:
            collector.warning(
                loaded.doc.locate(("quotes", index, "id")),
                f"quote '{quote.id}' is not placed in any body; it follows the chapter's text",
                field=f"quotes[{index}]",
                code="unplaced-quote",
            )
    chapter_events = []
    for index, event in enumerate(model.events):
        order += 1
        if not event.text:
            collector.warning(
                loaded.doc.locate(("events", index)),
                "event has no text",
                field=f"events[{index}]",
                code="event-without-text",
            )
        event_anchor = event.id or f"ev-{loaded.anchor}-{index + 1}"
        chapter_events.append(
            EventView(
                anchor=event_anchor,
                date=event.date,
                date_label=fmt(event.date),
                date_in_year=language.format_date_in_year(event.date),
                title_html=markdown.inline(event.title),
                text_html=markdown.inline(event.text),
                chapter_anchor=anchor,
                chapter_title=title_plain,
                order=order,
                source=cited.event_sources.get((loaded.anchor, index)),
            )
        )
    expected = [Expected(f"{anchor}-title", "chapter title", loaded.doc.locate(("title",)))]
    first_line = loaded.body_line()
    for block in [*parsed.blocks, *note_blocks(parsed, anchor)]:
        if block.kind == "html_block":
            continue  # raw HTML keeps no id of ours; its words are inside its neighbours' checks
        what = {"footnote": f"footnote {block.anchor.rsplit('-fn', 1)[-1]}"}.get(
            block.kind, block.kind.replace("_", " ")
        )
        call = "-fnref".join(block.anchor.rsplit("-fn", 1)) if block.kind == "footnote" else ""
        expected.append(Expected(block.anchor, what, Location(loaded.path, first_line + block.line, 1), call))
    expected += [
        Expected(f"q-{quote.id}", f"quote '{quote.id}'", loaded.doc.locate(("quotes", index, "text")))
        for index, quote in enumerate(model.quotes)
    ]
    if model.summary:
        expected.append(Expected(f"{anchor}-summary", "summary", loaded.doc.locate(("summary",))))
    if model.key_points:
        expected.append(Expected(f"{anchor}-key-points", "key points", loaded.doc.locate(("key_points",))))
    expected += [
        Expected(
            f"tl-{view.anchor}", f"event '{view.date_label}' in the timeline", loaded.doc.locate(("events", index))
        )
        for index, view in enumerate(chapter_events)
    ]
    bodies = {edition: parts for edition, (parts, _) in rendered.items()}
    notes = {edition: footnotes for edition, (_, footnotes) in rendered.items()}
    if raw_html and parsed.raw_html:
        depth = max(element_depth(part.html) for part in bodies["html"])
        if depth > MAX_ELEMENT_DEPTH:
            collector.error(
                Location(loaded.path, first_line + parsed.raw_html[0].line, 1),
                f"raw HTML nests elements {depth} deep in this chapter; the limit is {MAX_ELEMENT_DEPTH}",
                field="body",
            )
        columns = max(table_columns(part.html) for part in bodies["html"])
        if columns > MAX_TABLE_COLUMNS and not parsed.too_wide:
            collector.error(
                Location(loaded.path, first_line + parsed.raw_html[0].line, 1),
                f"raw HTML makes a table of {columns:,} columns in this chapter; the limit is {MAX_TABLE_COLUMNS}",
                field="body",
            )
    return ChapterView(
        anchor=anchor,
        number=number,
        file_name=f"text/{number:03d}-{loaded.anchor}.xhtml",
        title_html=markdown.inline(model.title),
        title_plain=title_plain,
        summary_html=markdown.inline(model.summary),
        key_points=tuple(markdown.inline(point) for point in model.key_points),
        body=bodies,
        footnotes=notes,
        quotes=quotes,
        unplaced=tuple(q for q in quotes.values() if not q.placed),
        events=tuple(chapter_events),
        source_path=loaded.path,
        expected=tuple(expected),
        key=key,
    )


def _parse(markdown, body: str, anchor: str, collector: Collector) -> ParsedBody:
    return markdown.parse_body(body, anchor)  # reports nothing: book.py locates what the parse found


def _markdown(memo: Memo, quotes: tuple[str, ...], raw_html: bool, straight: bool):
    """A configured Markdown parser, made once per configuration (its inline results are kept)."""
    return memo.step(
        "markdown-parser",
        digest(quotes, raw_html, straight),
        lambda own: make_markdown(quotes, raw_html=raw_html, straight_quotes=straight),
    )


def _source_href(edition: str):
    """A link from a chapter to an entry of the sources appendix, in one edition."""
    if edition != "epub":
        return None
    document = next(a.epub_document for a in APPENDICES if a.anchor == "sources")
    return lambda source_anchor: f"{Path(document).name}#{source_anchor}"


def chapter_anchor(loaded: LoadedChapter) -> str:
    """The chapter's id in every edition; prefixed so it never meets an appendix's id."""
    return f"ch-{loaded.anchor}"


def _quote_index(
    chapters: list[ChapterView], language: Language, sort_as: dict[str, str] | None = None
) -> tuple[SpeakerGroup, ...]:
    by_speaker: dict[str, list[IndexEntry]] = {}
    for chapter in chapters:
        for quote in chapter.quotes.values():
            for speaker in quote.speakers:
                others = tuple(s for s in quote.speakers if s != speaker)
                by_speaker.setdefault(speaker, []).append(IndexEntry(quote, _first_words(quote.text_plain), others))
    groups = []
    readings = sort_as or {}
    for number, speaker in enumerate(
        sorted(by_speaker, key=lambda s: language.sort_key(readings.get(s) or s)), start=1
    ):
        entries = by_speaker[speaker]  # reading order within a speaker
        groups.append(SpeakerGroup(speaker, f"speaker-{number}", tuple(entries)))
    return tuple(groups)


def _first_words(text: str, count: int = 8) -> str:
    words = text.split()
    if len(words) <= count:
        return " ".join(words)
    return " ".join(words[:count]).rstrip(",;:–—-") + " …"


def _hint(word: str, choices: set[str]) -> str:
    import difflib

    match = difflib.get_close_matches(word, sorted(choices), n=1)
    return f"did you mean '{match[0]}'?" if match else ""


def _is_url(src: str) -> bool:
    return "://" in src or bool(re.match(r"^\s*[a-z][a-z0-9+.-]*:", src, re.IGNORECASE))


def _check_image(
    root: Path, src: str, where: Location, collector: Collector, *, field: str = "body", memo: Memo | None = None
) -> Image | None:
    """A real PNG, JPEG or GIF file inside the dossier folder, of bounded size; else a located error."""
    shown = src[:80]
    if _is_url(src) or src.startswith("//"):
        collector.error(
            where,
            f"image '{shown}' is a URL; images must be files in the dossier folder (nothing is fetched from a network)",
            field=field,
        )
        return None
    name = unquote(src)  # Markdown percent-encodes spaces and non-ASCII letters
    if not name.strip() or "\0" in name:
        collector.error(where, "image without a file name", field=field)
        return None
    if Path(name).is_absolute():
        collector.error(where, f"image '{shown}' is outside the dossier folder", field=field)
        return None
    try:
        resolved = (root / name).resolve()
    except (OSError, RuntimeError, ValueError):
        collector.error(where, f"image '{shown}' cannot be read", field=field)
        return None
    # containment first: the answer must not tell whether a file outside the folder exists
    if not is_inside(resolved, root):
        collector.error(where, f"image '{shown}' is outside the dossier folder (links are followed)", field=field)
        return None
    if not resolved.exists():
        collector.error(where, f"image file '{shown}' not found", field=field)
        return None
    if not resolved.is_file():  # a folder, a FIFO or a device would hang or crash the read
        collector.error(where, f"image '{shown}' is not a regular file", field=field)
        return None
    size = resolved.stat().st_size
    if size > MAX_IMAGE_BYTES:
        collector.error(where, f"image '{shown}' is {size:,} bytes; the limit is {MAX_IMAGE_BYTES:,}", field=field)
        return None
    data = resolved.read_bytes()
    media_type = next((t for magic, t in _IMAGE_MAGIC.items() if data.startswith(magic)), None)
    if media_type is None:
        guessed = mimetypes.guess_type(name)[0] or "unknown type"
        collector.error(where, f"'{shown}' is not a PNG, JPEG or GIF image (named as {guessed})", field=field)
        return None
    digest_hex = hashlib.sha256(data).hexdigest()
    if memo is None:
        problem = _decode_problem(data)
    else:  # decoding every pixel is the slow part: once per distinct file content
        problem = memo.step("image", digest_hex, lambda own: _decode_problem(data), disk=True)
    if problem:
        collector.error(where, f"image '{shown}' {problem}", field=field)
        return None
    extension = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}[media_type]
    return Image(resolved, media_type, f"images/{digest_hex[:16]}.{extension}", data)


def _decode_problem(data: bytes) -> str:
    """Why an image that starts right still cannot be used (broken, or a decompression bomb)."""
    import io
    import warnings

    from PIL import Image as PILImage
    from PIL import ImageFile

    too_many = f"declares too many pixels; the limit is {MAX_IMAGE_PIXELS:,} pixels"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as picture:
                width, height = picture.size
                if width * height > MAX_IMAGE_PIXELS:
                    return f"is {width}x{height} pixels: {too_many}"
                picture.verify()  # chunk checksums and structure; it decodes no pixels
            with PILImage.open(io.BytesIO(data)) as picture:
                # every pixel, as the renderers will (bounded by the cap above); importing WeasyPrint
                # sets LOAD_TRUNCATED_IMAGES for the whole process, which accepts broken pixel data
                truncated, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
                try:
                    picture.load()
                finally:
                    ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        return too_many
    except Exception as exc:  # Pillow raises many kinds for a broken file: all mean the same to the user
        return f"cannot be decoded ({type(exc).__name__}: {str(exc)[:80]})"
    return ""
