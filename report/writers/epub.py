"""XHTML documents -> EPUB 3 through EbookLib, then a ZIP rewrite for reproducible bytes."""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import Diagnostic, Location
from .edition import EditionContext, LayoutNeed, Made
from .page_starts import PageStart

if TYPE_CHECKING:
    from ..derive.book import Book

# Elements a page-break marker (a span) may not stand before: it goes inside them instead.
_INSIDE_ONLY = {"li", "dt", "dd", "tr", "td", "th", "tbody", "thead", "figcaption", "summary"}
# Elements whose place in the EPUB is not their place in the PDF: never page markers.
_OUT_OF_FLOW = {"aside"}
_ID_RE = re.compile(r'<([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?\sid="([^"]+)"[^>]*>')


@dataclass(frozen=True)
class EpubParts:
    """Everything to be packed, in reading order."""

    documents: dict[str, str]  # name inside the EPUB (under EPUB/) -> XHTML, in spine order
    nav: str
    cover_xhtml: str
    cover_png: bytes
    css: str
    fonts: dict[str, bytes]  # name inside the EPUB -> font bytes (empty: no embedding)
    cover_name: str = "images/cover.png"  # .png, or .jpg for a dossier's own JPEG cover


def insert_page_breaks(
    documents: dict[str, str], pages: dict[str, int], starts: Sequence[PageStart] = ()
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Mark where each printed page begins, from the PDF's layout.

    A page that begins inside a block (``starts``, from the layout's boxes) gets its
    marker between the same two words as in print. Otherwise, walking the documents in
    reading order, an element whose id the PDF puts on a later page than the current
    one gets, just before it, a marker for each page that began since. Pages that began
    before a new document starts (a blank left page, a page of footnotes) are marked at
    the end of the document before it. Footnote asides are skipped: the EPUB gathers
    them at the chapter's end, the PDF prints them at the foot of a page.
    Returns the documents with markers and the page list (label, href) for the nav.
    """
    inside = _positions_inside(documents, starts)
    out: dict[str, str] = {}
    page_list: list[tuple[str, str]] = []
    current: int | None = None
    previous: str | None = None

    def markers(name: str, first: int, last: int) -> str:
        page_list.extend((str(n), f"{name}#page-{n}") for n in range(first, last + 1))
        return "".join(
            f'<span epub:type="pagebreak" role="doc-pagebreak" id="page-{n}" aria-label="{n}"></span>'
            for n in range(first, last + 1)
        )

    for name, text in documents.items():
        events: list[tuple[int, int, int]] = []  # (where in the text, insert at, page)
        for match in _ID_RE.finditer(text):
            tag = match.group(1).lower()
            page = pages.get(match.group(2))
            if page is None or tag in _OUT_OF_FLOW:
                continue
            if 'aria-hidden="true"' in match.group(0):
                # inside, a marker would be hidden from screen readers too: a hidden list
                # item (a year heading of the timeline) gets it at the end of the item before
                close = text.rfind("</li>", 0, match.start()) if tag == "li" else -1
                if close >= 0:
                    events.append((match.start(), close, page))
                continue
            events.append((match.start(), match.end() if tag in _INSIDE_ONLY else match.start(), page))
        events += [(at, at, page) for at, page in inside.get(name, [])]
        pieces: list[str] = []
        last = 0
        for _, at, page in sorted(events):
            if current is None:
                current = page - 1
            if page <= current:
                continue
            if not pieces and previous is not None and page - 1 > current:
                # pages that ended the document before: close them there, before </body>
                body_end = out[previous].rindex("</body>")
                out[previous] = (
                    out[previous][:body_end] + markers(previous, current + 1, page - 1) + out[previous][body_end:]
                )
                current = page - 1
            at = max(at, last)
            pieces.append(text[last:at])
            pieces.append(markers(name, current + 1, page))
            current = page
            last = at
        pieces.append(text[last:])
        out[name] = "".join(pieces)
        previous = name
    return out, page_list


_TOKEN_RE = re.compile(r"<[^>]*>|&[#\w]+;|[^<&]")


def _positions_inside(documents: dict[str, str], starts: Sequence[PageStart]) -> dict[str, list[tuple[int, int]]]:
    """For each page that begins inside an element: (document, offset of its first word)."""
    where: dict[str, tuple[str, re.Match[str]]] = {}
    for name, text in documents.items():
        for match in _ID_RE.finditer(text):
            where.setdefault(match.group(2), (name, match))
    found: dict[str, list[tuple[int, int]]] = {}
    for start in starts:
        if start.element_id not in where or start.words_before < 1:
            continue
        name, match = where[start.element_id]
        if match.group(1).lower() in _OUT_OF_FLOW:
            continue
        offset = _word_offset(documents[name], match.end(), start.words_before)
        if offset is not None:
            found.setdefault(name, []).append((offset, start.page))
    return found


def _word_offset(text: str, begin: int, words_before: int) -> int | None:
    """Offset of the word after ``words_before`` words of the element whose tag ends at ``begin``.

    Counts words as the layout does: the text of the element, without the note
    references (in print they are generated footnote calls); None if it has fewer words.
    """
    depth = 0
    in_noteref = 0
    space_before = True
    count = 0
    for token in _TOKEN_RE.finditer(text, begin):
        piece = token.group(0)
        if piece.startswith("<"):
            if piece.startswith("</"):
                depth -= 1
                if depth < 0:
                    return None  # the element ended first
                if in_noteref and depth < in_noteref:
                    in_noteref = 0
            elif not piece.endswith("/>"):
                depth += 1
                if not in_noteref and 'epub:type="noteref"' in piece:
                    in_noteref = depth
            continue
        if in_noteref:
            continue
        char = html.unescape(piece)
        if char.isspace():
            space_before = True
        elif space_before:
            space_before = False
            if count == words_before:
                return token.start()
            count += 1
    return None


def build_epub(
    book: Book, parts: EpubParts, *, timestamp: datetime, print_identifier: str, has_page_list: bool
) -> bytes:
    """Pack the EPUB with EbookLib and return normalised, reproducible bytes."""
    from ebooklib import epub

    ebook = epub.EpubBook()
    ebook.set_identifier(book.identifier)
    # the PDF (Creator, XMP CreatorTool) and the HTML (meta generator) name us too, not the library
    ebook.set_unique_metadata("OPF", "generator", "", {"name": "generator", "content": f"report {__version__}"})
    ebook.set_title(book.title)
    ebook.set_language(book.language.tag)
    if book.language.rtl:
        ebook.set_direction("rtl")  # the spine's page-progression-direction
    for number, author in enumerate(book.authors, start=1):
        ebook.add_author(author, uid=f"creator-{number}")  # distinct ids (EbookLib gives all "creator")
    if book.publisher:
        ebook.add_metadata("DC", "publisher", book.publisher)
    if book.description:
        ebook.add_metadata("DC", "description", book.description)
    if book.date:
        ebook.add_metadata("DC", "date", book.date.isoformat())
    if book.version:
        ebook.add_metadata(None, "meta", book.version, {"property": "schema:version"})
    if book.classification:  # who may read it: Dublin Core's "security status" term
        ebook.add_metadata(None, "meta", book.classification, {"property": "dcterms:accessRights"})
    if book.subtitle:
        ebook.add_metadata("DC", "title", book.subtitle, {"id": "subtitle"})
        ebook.add_metadata(None, "meta", "subtitle", {"refines": "#subtitle", "property": "title-type"})
    for prop, value in _accessibility(book, has_page_list):
        ebook.add_metadata(None, "meta", value, {"property": prop})
    if has_page_list:
        # the printed edition this EPUB's page numbers come from
        ebook.add_metadata("DC", "source", print_identifier, {"id": "print-source"})
        ebook.add_metadata(None, "meta", "pagination", {"refines": "#print-source", "property": "source-of"})
        ebook.add_metadata(None, "meta", print_identifier, {"property": "pageBreakSource"})

    css = epub.EpubItem(uid="css", file_name="styles/epub.css", media_type="text/css", content=parts.css.encode())
    ebook.add_item(css)
    for number, (name, data) in enumerate(sorted(parts.fonts.items()), start=1):
        media = "font/otf" if name.endswith(".otf") else "font/ttf"
        ebook.add_item(epub.EpubItem(uid=f"font-{number}", file_name=name, media_type=media, content=data))
    for image in book.images:
        ebook.add_item(
            epub.EpubItem(
                uid=f"img-{image.epub_name.split('/')[-1].split('.')[0]}",
                file_name=image.epub_name,
                media_type=image.media_type,
                content=image.data,
            )
        )
    ebook.set_cover(parts.cover_name, parts.cover_png, create_page=False)

    cover_page = _document("cover", "text/cover.xhtml", parts.cover_xhtml)
    ebook.add_item(cover_page)
    # The nav document is in the manifest, not in the spine: reading systems find it by its
    # property, and Calibre's conversion to AZW3 (and readers that ignore `hidden`, or the
    # book's CSS when "publisher styles" are off) would show its landmarks and page list
    # as text. The visible contents is a page of its own among the documents.
    ebook.add_item(_document("nav", "nav.xhtml", parts.nav, properties=["nav"]))
    spine = [cover_page]
    toc = []
    contents_page = None
    for number, (name, text) in enumerate(parts.documents.items(), start=1):
        item = _document(f"doc-{number:03d}", name, text)
        ebook.add_item(item)
        spine.append(item)
        if contents_page is None and 'role="doc-toc"' in text:
            contents_page = name  # the NCX lists what the nav's contents lists, not the contents itself
        else:
            toc.append(epub.Link(name, _doc_title(text), f"doc-{number:03d}"))
    if parts.fonts:
        # Apple Books uses embedded fonts only when this file says so
        ebook.add_item(
            epub.EpubItem(
                file_name="META-INF/com.apple.ibooks.display-options.xml", content=APPLE_DISPLAY_OPTIONS, manifest=False
            )
        )
    ebook.add_item(epub.EpubNcx())
    ebook.toc = toc
    ebook.spine = spine
    if book.language.direction == "rtl":
        ebook.set_direction("rtl")  # the spine's page-progression-direction
    # The EPUB 2 guide: converters read it, not the nav's landmarks. Kindle conversions take
    # the cover page from it; Calibre adds a contents page of its own ("Table of Contents" in
    # Calibre's interface language, at the end of the book) unless the guide names ours.
    ebook.guide = [{"type": "cover", "href": "text/cover.xhtml", "title": _doc_title(parts.cover_xhtml)}]
    if contents_page:
        ebook.guide.append({"type": "toc", "href": contents_page, "title": _doc_title(parts.documents[contents_page])})

    buffer = io.BytesIO()
    writer = _package_writer(
        buffer,
        ebook,
        {
            "mtime": _FourDigitYear.of(timestamp),
            "raise_exceptions": True,
            "epub3_pages": False,
            "epub2_guide": True,
            "play_order": {"enabled": True, "start_from": 1},
        },
    )
    writer.process()
    writer.write()
    return normalise_zip(buffer.getvalue(), timestamp)


APPLE_DISPLAY_OPTIONS = b"""<?xml version="1.0" encoding="UTF-8"?>
<display_options>
<platform name="*">
<option name="specified-fonts">true</option>
</platform>
</display_options>
"""


def _package_writer(output: io.BytesIO, ebook: Any, options: dict) -> Any:
    """EbookLib's writer, adding xml:lang to <package> (EbookLib writes none: Ace's `epub-lang`)."""
    from ebooklib import epub

    class Writer(epub.EpubWriter):
        def _write_opf_file(self, root: Any) -> None:
            root.set("{http://www.w3.org/XML/1998/namespace}lang", self.book.language)
            super()._write_opf_file(root)

    return Writer(output, ebook, options)


def _document(uid: str, name: str, text: str, properties: list[str] | None = None) -> Any:
    """A document item whose bytes are ours (EbookLib's EpubHtml would rebuild the head)."""
    from ebooklib import epub

    item = epub.EpubItem(uid=uid, file_name=name, media_type="application/xhtml+xml", content=text.encode("utf-8"))
    item.properties = list(properties or [])
    if "<svg" in text and "svg" not in item.properties:
        item.properties.append("svg")
    return item


def _doc_title(text: str) -> str:
    match = re.search(r"<title>(.*?)</title>", text, re.S)
    return html.unescape(match.group(1).strip()) if match else ""


def _accessibility(book: Book, has_page_list: bool) -> list[tuple[str, str]]:
    """EPUB Accessibility 1.1 metadata, true of what this builder makes."""
    features = ["tableOfContents", "readingOrder", "structuralNavigation", "index"]
    if has_page_list:
        # printPageNumbers is the older name of pageBreakMarkers: both, for old and new tools
        features += ["pageBreakMarkers", "printPageNumbers", "pageNavigation"]
    if book.images:
        features.append("alternativeText")
    modes = ["textual"] + (["visual"] if book.images else [])
    words = book.language.strings
    summary = words["a11y_summary"].replace("{pages}", words["a11y_page_markers"] if has_page_list else "")
    rows = [("schema:accessMode", mode) for mode in modes]
    rows.append(("schema:accessModeSufficient", "textual"))
    rows += [("schema:accessibilityFeature", feature) for feature in features]
    rows.append(("schema:accessibilityHazard", "none"))
    rows.append(("schema:accessibilitySummary", summary))
    rows.append(("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"))
    # who makes the claim (EPUB Accessibility 1.1, evaluator information): the party that
    # publishes the dossier; the checks behind it are this builder's EPUBCheck and Ace runs
    certifier = book.publisher or ", ".join(book.authors)
    if certifier:
        rows.append(("a11y:certifiedBy", certifier))
    return rows


class _FourDigitYear(datetime):
    """EbookLib writes dcterms:modified with strftime, whose %Y gives '1' for year 1 (glibc): pad it."""

    @classmethod
    def of(cls, value: datetime) -> _FourDigitYear:
        return cls(value.year, value.month, value.day, value.hour, value.minute, value.second, tzinfo=value.tzinfo)

    def strftime(self, fmt: str) -> str:
        return super().strftime(fmt.replace("%Y", f"{self.year:04d}"))


# A ZIP entry's time (MS-DOS format) runs from 1980-01-01 to 2107-12-31.
ZIP_FIRST = datetime(1980, 1, 1, tzinfo=UTC)
ZIP_LAST = datetime(2107, 12, 31, 23, 59, 58, tzinfo=UTC)


def zip_time(timestamp: datetime) -> datetime:
    """The build's time as a ZIP entry can hold it: clamped to 1980-01-01 ... 2107-12-31."""
    return min(max(timestamp, ZIP_FIRST), ZIP_LAST)


def zip_time_note(timestamp: datetime) -> str:
    """A warning when the EPUB's file times cannot be the build's time (empty when they can)."""
    clamped = zip_time(timestamp)
    if clamped == timestamp:
        return ""

    def day(moment: datetime) -> str:  # %Y is not padded before year 1000 (glibc)
        return f"{moment.year:04d}-{moment:%m-%d}"

    return (
        f"the EPUB's file times are {day(clamped)}, not {day(timestamp)}: a ZIP holds times from "
        "1980-01-01 to 2107-12-31 (the dates inside the EPUB and the PDF are kept)"
    )


def normalise_zip(data: bytes, timestamp: datetime) -> bytes:
    """Rewrite an EPUB ZIP: mimetype first and stored, the rest sorted, fixed timestamps.

    EbookLib stamps every entry with the current time and keeps insertion order; both
    would make two builds of the same source differ.
    """
    stamp = zip_time(timestamp).timetuple()[:6]
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    rest = sorted(n for n in names if n not in ("mimetype", "META-INF/container.xml"))
    order = ["mimetype"] + (["META-INF/container.xml"] if "META-INF/container.xml" in names else []) + rest
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            if name == "mimetype":  # must be the first entry, stored, no extra field
                info.compress_type = zipfile.ZIP_STORED
                target.writestr(info, b"application/epub+zip")
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, source.read(name), compresslevel=9)
    return out.getvalue()


def read_font_files(styles_dir: Path) -> dict[str, bytes]:
    """The shipped fonts, for `--epub-fonts`."""
    fonts = {}
    for path in sorted((styles_dir / "fonts").glob("*")):
        if path.suffix.lower() in (".ttf", ".otf"):
            fonts[f"fonts/{path.name}"] = path.read_bytes()
    return fonts


class EpubEdition:
    """The e-reader edition, with the print edition's page numbers from its layout."""

    kind = "epub"
    suffix = ".epub"
    title = "EPUB"
    default = True
    layout = LayoutNeed.PAGES

    def make(self, ctx: EditionContext) -> Made:
        with ctx.stage("epub parts"):  # made while the PDF lays out
            cover_name, cover_data = _cover(ctx)
            css, fonts = _stylesheet(ctx)
        layout = ctx.layout()
        with ctx.stage("epub"):
            # the PDF's one layout gives the print page numbers and where each page begins: no second pass
            documents = ctx.renderer.epub_documents(layout.pages)
            documents, page_list = insert_page_breaks(documents, layout.pages, layout.page_starts)
            parts = EpubParts(
                documents=documents,
                nav=ctx.renderer.epub_nav(page_list),
                cover_xhtml=ctx.renderer.epub_cover(cover_name),
                cover_png=cover_data,
                css=css,
                fonts=fonts,
                cover_name=cover_name,
            )
            data = build_epub(
                ctx.book,
                parts,
                timestamp=ctx.settings.timestamp,
                print_identifier=print_identifier(ctx),
                has_page_list=bool(page_list),
            )
        note = zip_time_note(ctx.settings.timestamp)
        where = Location(ctx.book.root / "dossier.yaml")  # the dossier's date, or SOURCE_DATE_EPOCH
        return Made(data, warnings=(Diagnostic(where, note, severity="warning", code="zip-time"),) if note else ())


def _cover(ctx: EditionContext) -> tuple[str, bytes]:
    """The cover image (name inside the EPUB, bytes): the dossier's own PNG or JPEG, else one drawn."""
    book = ctx.book
    if book.cover and book.cover.media_type in ("image/png", "image/jpeg"):  # what every store shows
        name = "images/cover.jpg" if book.cover.media_type == "image/jpeg" else "images/cover.png"
        return name, book.cover.data
    footer = " · ".join(x for x in (", ".join(book.authors), ctx.renderer.common["edition_date"]) if x)
    text = [book.title, book.subtitle, book.publisher, footer]

    def draw() -> bytes:
        from .cover import make_cover, make_cover_in_scripts

        plan = book.fonts
        if plan is None or plan.is_latin_only:
            return make_cover(book.title, book.subtitle, book.publisher, footer, ctx.styles / "fonts")
        # the PDF's font stacks, checked against every character of the title before layout
        return make_cover_in_scripts(
            book.title,
            book.subtitle,
            book.publisher,
            footer,
            serif=plan.serif,
            sans=plan.sans,
            direction=book.language.direction,
            language=book.language.tag,
        )

    return "images/cover.png", ctx.artifact("cover", text, ".png", draw)


def _stylesheet(ctx: EditionContext) -> tuple[str, dict[str, bytes]]:
    """The EPUB's one stylesheet, and the fonts it embeds (`--epub-fonts`; else none)."""
    from ..languages.css import language_css

    css = (ctx.styles / "epub.css").read_text(encoding="utf-8")
    extra = language_css(ctx.book.language, ctx.book.fonts, "epub")  # a script's typesetting (no italics...)
    css += "\n" + extra + "\n" if extra else ""
    if not ctx.options.epub_fonts:
        return css, {}
    fonts = read_font_files(ctx.styles)
    css = (ctx.styles / "fonts.css").read_text(encoding="utf-8").replace("url(fonts/", "url(../fonts/") + "\n" + css
    css += '\nbody { font-family: "Charis SIL", serif; }\nh1, h2, h3, h4 { font-family: "Inter", sans-serif; }\n'
    return css, fonts


def print_identifier(ctx: EditionContext) -> str:
    """The PDF edition the EPUB's page numbers come from: its page size and layout change them."""
    pdf = ctx.options.pdf
    return f"{ctx.book.identifier}#pdf-{pdf.page_size.lower()}-{pdf.layout}"


EDITION = EpubEdition()
