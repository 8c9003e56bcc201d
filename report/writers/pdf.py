"""HTML -> PDF through WeasyPrint: one layout pass, whose page map the EPUB reuses."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ReportError
from .edition import EditionContext, LayoutNeed, Made

PAGE_SIZES = {"A4": ("210mm", "297mm"), "A5": ("148mm", "210mm"), "Letter": ("8.5in", "11in")}
PAGE_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "Letter": (215.9, 279.4)}
PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3b", "none")
LAYOUTS = ("briefing", "book")
RUN_SIZE = 12  # chapters per run (writers/runs/): a book of more chapters is laid out in runs
# The layout's own sheet, after print.css; the handout is a booklet printed duplex, laid out as a book.
LAYOUT_SHEETS = {"briefing": "layout-briefing.css", "book": "layout-book.css", "handout": "layout-book.css"}


@dataclass(frozen=True)
class PdfOptions:
    page_size: str = "A4"
    variant: str = "pdf/ua-1"
    bleed: str = ""  # e.g. "3mm"
    marks: bool = False
    layout: str = ""  # "briefing", "book", "handout"; "" until the dossier's own choice is known
    run_size: int = RUN_SIZE  # chapters per run; 0: the whole book in one pass (writers/runs/plan.py)


@dataclass
class LaidOut:
    """A laid-out PDF document and what the layout found out."""

    document: Any  # weasyprint.Document (untyped library)
    pages: dict[str, int]  # anchor id -> 1-based page number where it stands
    page_count: int
    warnings: list[str] = field(default_factory=list)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def bleed_mm(bleed: str) -> float:
    """The bleed as millimetres ("3mm", "0.125in", "9pt"); a ReportError for anything else."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(mm|cm|in|pt)?\s*", bleed or "0")
    if match is None:
        raise ReportError(f"--bleed {bleed!r} is not a length such as 3mm")
    factor = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, None: 1.0}[match.group(2)]
    value = float(match.group(1)) * factor
    if value > 10:
        raise ReportError(f"--bleed {bleed!r} is more than 10mm")
    return value


def page_css(options: PdfOptions) -> str:
    """The page box from the options: size, bleed, crop marks, the cover's full height, the layout.

    This sheet comes after print.css, at the same (user) origin, so its rules win at equal specificity.
    """
    width, height = PAGE_SIZES[options.page_size]
    rules = [f"@page {{ size: {width} {height}; }}", f".cover {{ height: {height}; }}"]
    bleed = bleed_mm(options.bleed)
    if options.marks:
        # WeasyPrint draws crop marks in the outer half of the CSS bleed and caps the PDF BleedBox
        # at 10pt beyond the trim: a wider CSS bleed keeps the marks outside the artwork's bleed.
        rules.append(f"@page {{ marks: crop cross; bleed: {max(bleed, 3) + 6:.2f}mm; }}")
    elif bleed:
        rules.append(f"@page {{ bleed: {bleed:.2f}mm; }}")
    if options.page_size == "A5":
        margins = (
            "@page { margin: 17mm 15mm 20mm 15mm; }"
            if options.layout == "briefing"
            else "@page { margin: 17mm 14mm 20mm 14mm; } @page :left { margin-left: 17mm; margin-right: 13mm; }"
            " @page :right { margin-left: 13mm; margin-right: 17mm; }"
        )
        rules.append(
            margins + " html { font-size: 9.5pt; }"
            " .cover { padding: 28mm 16mm 20mm 20mm; } .cover-title { font-size: 22pt; }"
            " .cover-foot { bottom: 20mm; left: 20mm; right: 16mm; }"
            " .toc h1, .chapter h1, .appendix h1 { font-size: 17pt; margin: 8mm 0 7mm; }"
            " .timeline-list li { margin-left: 19mm; padding-left: 5mm; }"
            " .timeline-list time { left: -19mm; width: 15.5mm; }"
        )
    if bleed or options.marks:
        # The cover's band runs on into the bleed on three sides, so an off-register trim shows no paper.
        over = bleed or 3.0
        top, foot = (28, 20) if options.page_size == "A5" else (42, 30)
        page_mm = PAGE_MM[options.page_size][1]
        rules.append(
            f".cover {{ margin: -{over:.2f}mm 0 0 -{over:.2f}mm; height: {page_mm + 2 * over:.2f}mm;"
            f" border-left-width: {9 + over:.2f}mm; padding-top: {top + over:.2f}mm; }}"
            f" .cover-foot {{ bottom: {foot + over:.2f}mm; }}"
        )
    if options.layout == "handout":
        # A booklet: the first page opens with its own title block.
        rules.append(
            "@page :first { @top-left { content: none; } @top-right { content: none; } } html { font-size: 9pt; }"
        )
    return "\n".join(rules)


@dataclass(frozen=True)
class SheetEdits:
    """How a part of the book laid out apart changes the shipped sheets (writers/runs/).

    ``replace`` edits the text of print.css and the layout sheets (e.g. page references as
    literal numbers instead of target-counter); ``extra`` is a last sheet, after every other.
    The one-pass PDF has none: its sheets are loaded from their files, unchanged.
    """

    replace: tuple[tuple[str, str], ...] = ()
    extra: str = ""


def lay_out(
    html: str,
    *,
    base_dir: Path,
    styles_dir: Path,
    options: PdfOptions,
    stylesheet: str = "print.css",
    edits: SheetEdits | None = None,
) -> LaidOut:
    """Lay the document out once; collect WeasyPrint's warnings instead of losing them."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from . import watermark
    from .fetcher import FolderFetcher
    from .footnote_fix import install

    install()
    fetcher = FolderFetcher([base_dir, styles_dir])
    capture = _Capture()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(capture)
    try:
        fonts = FontConfiguration()

        def sheet(name: str) -> Any:
            path = styles_dir / name
            if edits is None or not edits.replace:
                return CSS(filename=str(path), font_config=fonts, url_fetcher=fetcher)
            text = path.read_text(encoding="utf-8")
            for old, new in edits.replace:
                text = text.replace(old, new)
            return CSS(string=text, base_url=path.resolve().as_uri(), font_config=fonts, url_fetcher=fetcher)

        stylesheets = [
            sheet(stylesheet),
            sheet(LAYOUT_SHEETS[options.layout]),
            CSS(string=page_css(options), font_config=fonts, url_fetcher=fetcher),
        ]
        variant = None if options.variant == "none" else options.variant
        source = HTML(string=html, base_url=str(base_dir.resolve()) + "/", url_fetcher=fetcher)
        if source.etree_element.get("dir") == "rtl" and options.layout == "briefing":
            # right to left: head and foot mirrored (the book layout's outer edges mirror by themselves)
            stylesheets.insert(2, sheet("layout-briefing-rtl.css"))
        word = watermark.requested_word(source.etree_element)
        if word:
            stylesheets.append(CSS(string=watermark.stylesheet(word), font_config=fonts, url_fetcher=fetcher))
        if edits is not None and edits.extra:
            stylesheets.append(CSS(string=edits.extra, font_config=fonts, url_fetcher=fetcher))
        document = source.render(
            stylesheets=stylesheets,
            font_config=fonts,
            pdf_variant=variant,
            pdf_tags=variant is not None and variant.startswith("pdf/ua"),
        )
        _add_xmp(document.metadata)
    finally:
        logger.removeHandler(capture)
    return LaidOut(document, _page_map(document, options), len(document.pages), capture.messages + fetcher.refused)


def _page_map(document: Any, options: PdfOptions) -> dict[str, int]:
    """The page of each anchor, leaving out boxes the page cuts off (a note taller than the page).

    The cover runs into the bleed on purpose: a box may reach that far beyond the trim.
    """
    slack = max(bleed_mm(options.bleed), 3.0 if options.bleed or options.marks else 0.0) * 96 / 25.4 + 0.5
    pages: dict[str, int] = {}
    for number, page in enumerate(document.pages, start=1):
        for anchor, (_, top, _, bottom) in page.anchors.items():
            if top >= -slack and bottom <= page.height + slack:
                pages.setdefault(anchor, number)
    return pages


def _add_xmp(metadata: Any) -> None:  # weasyprint.DocumentMetadata (untyped library)
    """Put what the document's <meta> elements say beyond WeasyPrint's own fields into its XMP.

    The version becomes xmpMM:VersionID and the classification dc:rights: both are in schemas
    every XMP reader knows, so PDF/A needs no extension schema for them. They go into
    WeasyPrint's one rdf:RDF element: its `xmp_metadata` list would add a second one after it,
    which readers such as pikepdf (and the XMP specification) do not look at.
    WeasyPrint writes XMP only for the PDF/UA, PDF/A and PDF/X variants.
    """
    from xml.sax.saxutils import escape

    custom = metadata.custom
    version = custom.get("version", "").strip()
    rights = custom.get("dcterms.accessrights", "").strip()  # WeasyPrint lower-cases meta names
    if not (version or rights):
        return
    parts = [
        '<rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
    ]
    if version:
        parts.append(f"<xmpMM:VersionID>{escape(version)}</xmpMM:VersionID>")
    if rights:
        parts.append(
            f'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{escape(rights)}</rdf:li></rdf:Alt></dc:rights>'
        )
    parts.append("</rdf:Description>")
    extra = "".join(parts).encode()
    generate = metadata.generate_rdf_metadata

    def generate_with_ours(*args: Any, **kwargs: Any) -> bytes:
        rdf = generate(*args, **kwargs)
        end = rdf.rindex(b"</rdf:RDF>")
        return rdf[:end] + extra + rdf[end:]

    metadata.generate_rdf_metadata = generate_with_ours


def write(laid_out: LaidOut, *, identifier: str, options: PdfOptions) -> bytes:
    """Serialise the laid-out document; the file identifier is fixed for reproducible bytes."""
    variant = None if options.variant == "none" else options.variant
    pdf_id = hashlib.md5(identifier.encode("utf-8")).hexdigest().encode("ascii")
    capture = _Capture()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(capture)
    try:
        data = laid_out.document.write_pdf(pdf_identifier=pdf_id, pdf_variant=variant)
    finally:
        logger.removeHandler(capture)
    laid_out.warnings.extend(capture.messages)
    return data


class PdfEdition:
    """The print edition: the one layout (made by the build's layout source), written out."""

    kind = "pdf"
    suffix = ".pdf"
    title = "PDF"
    default = True
    layout = LayoutNeed.DOCUMENT

    def make(self, ctx: EditionContext) -> Made:
        page_count = ctx.layout().page_count
        assert ctx.layout_source is not None
        with ctx.stage("pdf write"):
            data, warnings = ctx.layout_source.write_pdf()
        return Made(data, page_count, warnings)


EDITION = PdfEdition()
