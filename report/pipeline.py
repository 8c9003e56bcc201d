"""The one module that wires the stages: load -> derive -> render -> write.

Everything is gathered and checked first; editions are produced in memory and only
written, each atomically, when all of them succeeded.
"""

from __future__ import annotations

import os
import re
import sys
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from . import __version__
from .cache import BuildCache, build_key, digest_files
from .errors import Collector, Diagnostic, SourceError
from .writers import files
from .writers.pdf import LaidOut, PdfOptions

# The heavy stages (pydantic, Jinja2, Markdown, WeasyPrint) are imported where they are
# used: an unchanged rebuild answers from the cache without loading any of them.
if TYPE_CHECKING:
    from .derive.book import Book
    from .render import Renderer, RenderSettings
    from .source.loader import LoadedDossier

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("pdf", "epub", "html")
# Findings about style rather than correctness: `report check` lists them, a build does not.
LINT_ONLY = {"unplaced-quote", "event-without-text", "speaker-variant"}


def styles_dir() -> Path:
    """The shipped styles: the package's own copy when installed, else the checkout's styles/.

    The wheel installs styles/ as report/styles; only a checkout has none there. Never
    look beside an installed package: that folder is site-packages, not ours.
    """
    here = Path(__file__).resolve().parent
    installed = here / "styles"
    return installed if (installed / "print.css").is_file() else here.parent / "styles"


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path
    formats: tuple[str, ...] = FORMATS
    pdf: PdfOptions = field(default_factory=PdfOptions)
    epub_fonts: bool = False
    handout: bool = False
    strict: bool = False
    force: bool = False  # ignore the build cache
    parallel: bool = True  # lay the PDF out in its own process while the other editions are made

    def cache_options(self) -> dict:
        """The options that shape the outputs (the formats are checked one by one)."""
        shaping = asdict(self)
        for name in ("out_dir", "formats", "force", "parallel"):
            shaping.pop(name)
        return shaping


@dataclass(frozen=True)
class Written:
    path: Path
    kind: str
    size: int
    pages: int | None = None


@dataclass
class BuildResult:
    outputs: list[Written] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    cached: bool = False  # nothing had changed: the outputs of the last build were kept


Progress = Callable[[str, str], None]  # (stage, state) where state is "start" or "done"


def check(root: Path) -> tuple[Collector, Book | None]:
    """Load and derive without rendering: every error and warning of the source."""
    from .derive.book import derive_book
    from .source.loader import load_dossier

    collector = Collector()
    dossier = load_dossier(Path(root), collector)
    book = derive_book(dossier, collector) if dossier is not None else None
    return collector, book


def source_digest(dossier: LoadedDossier, styles: Path, exclude: tuple[Path, ...] = ()) -> str:
    """A digest of everything that shapes the output: sources, styles, templates, version."""
    return content_digest(dossier.root, styles, exclude)


def content_digest(root: Path, styles: Path, exclude: tuple[Path, ...] = ()) -> str:
    """The same digest from the folder alone, before (and without) loading it."""
    return digest_files([Path(root), styles, TEMPLATES], exclude=exclude, salt=f"report {__version__}\n")


def output_stem(book: Book) -> str:
    """A file name from the title: ascii, lower case, at most about 48 characters."""
    text = unicodedata.normalize("NFKD", book.title.replace("ß", "ss")).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", text.lower())
    stem = ""
    for word in words:
        if len(stem) + len(word) + 1 > 48:
            break
        stem = f"{stem}-{word}" if stem else word
    return stem or "dossier"


def build(root: Path, options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    """Build the requested editions of the dossier at ``root`` into ``options.out_dir``.

    An unchanged dossier (same content, styles, templates, code and options) with its
    outputs in place is answered from the cache; `force` builds anyway.
    """
    report = progress or (lambda stage, state: None)
    result = BuildResult()
    root = Path(root)

    def stage(name: str):
        return _Stage(name, report, result.timings)

    styles = styles_dir()
    out_dir = files.prepare_out_dir(options.out_dir)
    cache = BuildCache(out_dir)
    with stage("cache"):
        # the output folder may sit inside the dossier folder: its files are not sources
        digest = content_digest(root, styles, exclude=(out_dir,))
        key = build_key(digest, options.cache_options())
        hit = None if options.force else cache.hit(key, options.formats)
    if hit is not None:
        result.outputs = [Written(out_dir / o.name, o.kind, o.size, o.pages) for o in hit.outputs]
        result.warnings = list(hit.warnings)
        result.cached = True
        return result
    with _dossier_code_errors(root):
        return _build_uncached(root, options, styles, out_dir, cache, digest, key, stage, result)


def _build_uncached(root: Path, options: BuildOptions, styles: Path, out_dir: Path, cache: BuildCache,
                    digest: str, key: str, stage: Callable, result: BuildResult) -> BuildResult:
    """Everything a build does when the cache cannot answer."""

    # The EPUB's print page numbers come from the PDF layout of the same content and page options.
    layout_key = build_key(digest, {"pdf": asdict(options.pdf)})
    page_map = None if options.force else cache.read_page_map(layout_key)
    needs_layout = "pdf" in options.formats or ("epub" in options.formats and page_map is None)
    engine = None
    if needs_layout and options.parallel:
        from .writers.pdf_engine import PdfEngine

        engine = PdfEngine()  # starts now: WeasyPrint is imported while the dossier loads
    try:
        produced = _produce(root, options, styles, digest, cache, engine, page_map, stage, result)
    finally:
        if engine is not None:
            engine.close()
    if produced.layout is not None:
        cache.write_page_map(layout_key, *produced.layout)

    with stage("write"), files.build_lock(out_dir):
        stem = produced.stem
        targets = {kind: out_dir / (f"{stem}-handout.pdf" if kind == "handout" else f"{stem}.{kind}")
                   for kind in produced.editions}
        files.write_all({targets[kind]: data for kind, (data, _) in produced.editions.items()})
        records = []
        for kind, (data, pages) in produced.editions.items():
            result.outputs.append(Written(targets[kind], kind, len(data), pages))
            records.append((targets[kind].name, kind, data, pages))
        cache.write_manifest(key, records, result.warnings)
    return result


@dataclass(frozen=True)
class _Produced:
    stem: str
    editions: dict[str, tuple[bytes, int | None]]  # kind -> (bytes, pages)
    layout: tuple | None  # a fresh layout (pages, page count, warnings, page starts), for the cache


def _produce(root: Path, options: BuildOptions, styles: Path, digest: str, cache: BuildCache, engine,
             page_map, stage: Callable, result: BuildResult) -> _Produced:
    """Load, derive and make every edition in memory; nothing is written here.

    With an engine the PDF lays out in its own process while the HTML edition and the
    EPUB's parts are made here; the EPUB is finished when the page map arrives. Without
    one, the same steps run one after another; the bytes are the same either way.
    """
    from .derive.book import derive_book
    from .render import Renderer, RenderSettings, fixed_timestamp
    from .source.loader import load_dossier

    with stage("load"):
        collector = Collector()
        dossier = load_dossier(root, collector)
        book = derive_book(dossier, collector) if dossier is not None else None
        collector.raise_if_errors()
        assert dossier is not None and book is not None
    result.warnings += [d.format() for d in collector.warnings if d.code not in LINT_ONLY]

    settings = RenderSettings(
        timestamp=fixed_timestamp(book.date, os.environ.get("SOURCE_DATE_EPOCH")),
        build_id=digest[:16],
        layout=options.pdf.layout,
    )
    renderer = Renderer(book, settings)
    produced: dict[str, tuple[bytes, int | None]] = {}
    write_pdf = "pdf" in options.formats
    fresh_layout = None
    laid_out = None
    pdf_html = None
    if write_pdf or ("epub" in options.formats and page_map is None):
        with stage("pdf html"):
            pdf_html = renderer.pdf_document()
        if engine is not None:
            engine.submit(pdf_html, base_dir=book.root, styles_dir=styles, options=options.pdf,
                          identifier=book.identifier, write_pdf=write_pdf)

    def lay_out_here():
        from .writers import pdf as pdf_writer

        with stage("pdf layout"):
            done = pdf_writer.lay_out(pdf_html, base_dir=book.root, styles_dir=styles, options=options.pdf)
        return done

    if "html" in options.formats:
        with stage("html"):
            css = (styles / "web.css").read_text(encoding="utf-8")
            produced["html"] = (renderer.web_document(css).encode("utf-8"), None)

    if "epub" in options.formats:
        with stage("epub parts"):
            parts = _epub_parts(book, renderer, styles, options, cache, digest)
        if page_map is None:
            if engine is not None:
                with stage("pdf layout"):
                    page_map = engine.layout()
            else:
                laid_out = lay_out_here()
                page_map = _layout_facts(laid_out)
            fresh_layout = page_map
        with stage("epub"):
            produced["epub"] = (_epub(book, renderer, settings, parts, page_map[0], page_map[3], options), None)

    layout_warnings: list[str] = []
    if write_pdf:
        if engine is not None:
            if fresh_layout is None:
                with stage("pdf layout"):
                    fresh_layout = engine.layout()
            with stage("pdf write"):
                data, write_warnings = engine.pdf()
            page_count, layout_warnings = fresh_layout[1], fresh_layout[2] + write_warnings
        else:
            from .writers import pdf as pdf_writer

            if laid_out is None:
                laid_out = lay_out_here()
                fresh_layout = _layout_facts(laid_out)
            with stage("pdf write"):
                data = pdf_writer.write(laid_out, identifier=book.identifier, options=options.pdf)
            page_count, layout_warnings = laid_out.page_count, list(laid_out.warnings)
        produced["pdf"] = (data, page_count)
    elif page_map is not None and "epub" in options.formats:
        layout_warnings = list(page_map[2])
    result.warnings += [f"weasyprint: {w}" for w in layout_warnings]

    if options.handout:
        from .writers import handout as handout_writer

        with stage("handout"):
            handout = handout_writer.build_handout(renderer.render("handout.html", "pdf"), base_dir=book.root,
                                                   styles_dir=styles, identifier=book.identifier)
            produced["handout"] = (handout.data, handout.sheets * 2)
        result.warnings += [f"weasyprint (handout): {w}" for w in handout.warnings]

    if options.strict and result.warnings:
        raise SourceError([Diagnostic(_location(book), w, severity="error") for w in result.warnings])
    # editions in a fixed order, whatever order they were finished in
    ordered = {kind: produced[kind] for kind in (*FORMATS, "handout") if kind in produced}
    return _Produced(output_stem(book), ordered, fresh_layout)


def _check_dossier_templates(root: Path) -> None:
    """A dossier's templates/ may hold no link that leaves the dossier (Jinja2's loader follows links)."""
    from .errors import Location

    folder = root / "templates"
    if not folder.is_dir():
        return
    outside = [Diagnostic(Location(p), "template is a link to a file outside the dossier folder", field="templates")
               for p in sorted(folder.rglob("*")) if not p.resolve().is_relative_to(root.resolve())]
    if not folder.resolve().is_relative_to(root.resolve()):
        outside.append(Diagnostic(Location(folder), "templates/ is a link to a folder outside the dossier folder"))
    if outside:
        raise SourceError(outside)


@contextmanager
def _dossier_code_errors(root: Path):
    """Errors a dossier's own templates cause, and refused resources, as located user errors.

    A refused resource stops WeasyPrint by a BaseException (anything less it swallows).
    """
    import traceback

    import jinja2

    from .errors import Location

    _check_dossier_templates(root)
    folder = (root / "templates").resolve()
    try:
        yield
    except jinja2.TemplateError as exc:
        where = None
        if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
            where = Location(Path(exc.filename), exc.lineno or 0)
        for frame in traceback.extract_tb(exc.__traceback__):
            if Path(frame.filename).resolve().is_relative_to(folder):
                where = Location(Path(frame.filename), frame.lineno or 0)
        if where is None or not Path(where.path).resolve().is_relative_to(folder):
            raise  # an error in a shipped template is a bug, not the user's
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError([Diagnostic(where, f"template error: {message}", field="templates")]) from None
    except BaseException as exc:
        # the fetcher module imports WeasyPrint: look for its exception only if it was loaded
        fetcher = sys.modules.get(f"{__package__}.writers.fetcher")
        if fetcher is not None and isinstance(exc, fetcher.RefusedResource):
            raise SourceError([_refused_diagnostic(root, exc.url, exc.why)]) from None
        raise


def _refused_diagnostic(root: Path, url: str, why: str) -> Diagnostic:
    """Name the dossier file (and line) that asked for a refused resource."""
    from urllib.parse import unquote, urlsplit

    from .errors import Location

    path = unquote(urlsplit(url).path)
    full = [n for n in (url, unquote(url), path) if n.strip("/")]
    tail = [n for n in (path.rsplit("/", 1)[-1],) if n]
    # a dossier's own templates first: bodies are sanitised and their images checked before this
    templates = root / "templates"
    sources = sorted(p for p in templates.rglob("*") if p.is_file()) if templates.is_dir() else []
    sources += sorted(root.glob("*.yaml"))
    for needles in (full, tail):  # the address as written first, its last part as a fallback
        for source in sources:
            try:
                lines = source.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for number, line in enumerate(lines, start=1):
                for needle in needles:
                    if needle in line:
                        return Diagnostic(Location(source, number, line.index(needle) + 1),
                                          f"resource '{url}' refused: {why}; only files in the dossier folder "
                                          "are used")
    return Diagnostic(Location(root), f"resource '{url}' refused: {why}")


def _layout_facts(laid_out) -> tuple:
    """What the EPUB and the cache need of a layout: pages, page count, warnings, page starts."""
    from .writers.page_starts import page_starts

    return (laid_out.pages, laid_out.page_count, list(laid_out.warnings),
            page_starts(laid_out.document, laid_out.pages))


def _location(book: Book):
    from .errors import Location

    return Location(book.root / "dossier.yaml")


@dataclass(frozen=True)
class _EpubParts:
    """What the EPUB needs besides the page map, made while the PDF lays out."""

    cover_png: bytes  # the cover image's bytes (PNG, or the dossier's own JPEG)
    css: str
    fonts: dict[str, bytes]
    cover_name: str = "images/cover.png"


def _epub_parts(book: Book, renderer: Renderer, styles: Path, options: BuildOptions, cache: BuildCache,
                digest: str) -> _EpubParts:
    from .writers import epub as epub_writer

    cover_name = "images/cover.png"
    if book.cover and book.cover.media_type in ("image/png", "image/jpeg"):  # what every store shows
        cover_png = book.cover.data
        cover_name = "images/cover.jpg" if book.cover.media_type == "image/jpeg" else cover_name
    else:
        footer = " · ".join(x for x in (", ".join(book.authors), renderer.common["edition_date"]) if x)
        text = [book.title, book.subtitle, book.publisher, footer]
        cover_key = build_key(digest, {"cover": text})  # the digest covers the fonts and the code
        cover_png = None if options.force else cache.read_artifact("cover", cover_key, ".png")
        if cover_png is None:
            from .writers.cover import make_cover

            cover_png = make_cover(*text, styles / "fonts")
            cache.write_artifact("cover", cover_key, ".png", cover_png)
    css = (styles / "epub.css").read_text(encoding="utf-8")
    fonts = {}
    if options.epub_fonts:
        fonts = epub_writer.read_font_files(styles)
        css = (styles / "fonts.css").read_text(encoding="utf-8").replace("url(fonts/", "url(../fonts/") + "\n" + css
        css += '\nbody { font-family: "Charis SIL", serif; }\nh1, h2, h3, h4 { font-family: "Inter", sans-serif; }\n'
    return _EpubParts(cover_png, css, fonts, cover_name)


def _epub(book: Book, renderer: Renderer, settings: RenderSettings, prepared: _EpubParts,
          pages: dict[str, int], starts: list, options: BuildOptions) -> bytes:
    from .writers import epub as epub_writer

    # the PDF's one layout gives the print page numbers and where each page begins: no second pass
    documents = renderer.epub_documents(pages)
    documents, page_list = epub_writer.insert_page_breaks(documents, pages, starts)
    parts = epub_writer.EpubParts(
        documents=documents, nav=renderer.epub_nav(page_list), cover_xhtml=renderer.epub_cover(prepared.cover_name),
        cover_png=prepared.cover_png, css=prepared.css, fonts=prepared.fonts, cover_name=prepared.cover_name,
    )
    return epub_writer.build_epub(book, parts, timestamp=settings.timestamp,
                                  print_identifier=_print_identifier(book, options), has_page_list=bool(page_list))


def _print_identifier(book: Book, options: BuildOptions) -> str:
    """The PDF edition the EPUB's page numbers come from: its page size and layout change them."""
    return f"{book.identifier}#pdf-{options.pdf.page_size.lower()}-{options.pdf.layout}"


class _Stage:
    def __init__(self, name: str, report: Progress, timings: dict[str, float]):
        self.name, self.report, self.timings = name, report, timings

    def __enter__(self):
        self.start = time.perf_counter()
        self.report(self.name, "start")
        return self

    def __exit__(self, *exc):
        self.timings[self.name] = time.perf_counter() - self.start
        self.report(self.name, "done" if exc[0] is None else "failed")
        return False
