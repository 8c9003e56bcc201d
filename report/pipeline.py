"""The one module that wires the stages: load -> derive -> render -> write.

Everything is gathered and checked first; editions are produced in memory and only
written, each atomically, when all of them succeeded.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import __version__
from .derive.book import Book, derive_book
from .errors import Collector, Diagnostic, SourceError
from .render import TEMPLATES, Renderer, RenderSettings, fixed_timestamp
from .source.loader import LoadedDossier, load_dossier
from .writers import files
from .writers.pdf import LaidOut, PdfOptions

FORMATS = ("pdf", "epub", "html")
# Findings about style rather than correctness: `report check` lists them, a build does not.
LINT_ONLY = {"unplaced-quote", "event-without-text", "speaker-variant"}


def styles_dir() -> Path:
    """The shipped styles: beside the package in a checkout, inside it when installed."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "styles", here / "styles"):
        if (candidate / "print.css").is_file():
            return candidate
    from importlib.resources import files as resource_files

    return Path(str(resource_files("report.styles")))


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path
    formats: tuple[str, ...] = FORMATS
    pdf: PdfOptions = field(default_factory=PdfOptions)
    epub_fonts: bool = False
    handout: bool = False
    strict: bool = False


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


Progress = Callable[[str, str], None]  # (stage, state) where state is "start" or "done"


def check(root: Path) -> tuple[Collector, Book | None]:
    """Load and derive without rendering: every error and warning of the source."""
    collector = Collector()
    dossier = load_dossier(Path(root), collector)
    book = derive_book(dossier, collector) if dossier is not None else None
    return collector, book


def source_digest(dossier: LoadedDossier, styles: Path, *, out_dir: Path | None = None) -> str:
    """A digest of everything that shapes the output: sources, styles, templates, version."""
    digest = hashlib.sha256(f"report {__version__}\n".encode())
    skip = Path(out_dir).resolve() if out_dir is not None else None
    # an output folder inside the dossier holds the last build: it must not change the next one
    paths = sorted(p for p in dossier.root.rglob("*") if p.is_file() and not p.name.startswith(".")
                   and not (skip and p.resolve().is_relative_to(skip)))
    for folder in (styles, TEMPLATES):
        paths += sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in paths:
        digest.update(str(path.name).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


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
    """Build the requested editions of the dossier at ``root`` into ``options.out_dir``."""
    with _dossier_code_errors(Path(root)):
        return _build(root, options, progress)


def _build(root: Path, options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    report = progress or (lambda stage, state: None)
    result = BuildResult()

    def stage(name: str):
        return _Stage(name, report, result.timings)

    with stage("load"):
        collector = Collector()
        dossier = load_dossier(Path(root), collector)
        book = derive_book(dossier, collector) if dossier is not None else None
        collector.raise_if_errors()
        assert dossier is not None and book is not None
    result.warnings += [d.format() for d in collector.warnings if d.code not in LINT_ONLY]

    styles = styles_dir()
    digest = source_digest(dossier, styles, out_dir=options.out_dir)
    settings = RenderSettings(
        timestamp=fixed_timestamp(book.date, os.environ.get("SOURCE_DATE_EPOCH")),
        build_id=digest[:16],
        layout=options.pdf.layout,
    )
    renderer = Renderer(book, settings)
    out_dir = files.prepare_out_dir(options.out_dir)
    stem = output_stem(book)
    produced: dict[str, tuple[bytes, int | None]] = {}

    laid_out = None
    if "pdf" in options.formats or "epub" in options.formats:
        from .writers import pdf as pdf_writer

        with stage("pdf layout"):
            laid_out = pdf_writer.lay_out(renderer.pdf_document(), base_dir=book.root, styles_dir=styles,
                                          options=options.pdf)
        if "pdf" in options.formats:
            with stage("pdf write"):
                produced["pdf"] = (pdf_writer.write(laid_out, identifier=book.identifier, options=options.pdf),
                                   laid_out.page_count)
        result.warnings += [f"weasyprint: {w}" for w in laid_out.warnings]

    if "epub" in options.formats:
        with stage("epub"):
            produced["epub"] = (_epub(book, renderer, settings, styles, laid_out, options), None)

    if "html" in options.formats:
        with stage("html"):
            css = (styles / "web.css").read_text(encoding="utf-8")
            produced["html"] = (renderer.web_document(css).encode("utf-8"), None)

    if options.handout:
        from .writers import handout as handout_writer

        with stage("handout"):
            handout = handout_writer.build_handout(renderer.render("handout.html", "pdf"), base_dir=book.root,
                                                   styles_dir=styles, identifier=book.identifier)
            produced["handout"] = (handout.data, handout.sheets * 2)
        result.warnings += [f"weasyprint (handout): {w}" for w in handout.warnings]

    if options.strict and result.warnings:
        raise SourceError([Diagnostic(_location(book), w, severity="error") for w in result.warnings])

    with stage("write"), files.build_lock(out_dir):
        targets = {kind: out_dir / (f"{stem}-handout.pdf" if kind == "handout" else f"{stem}.{kind}")
                   for kind in produced}
        files.write_all({targets[kind]: data for kind, (data, _) in produced.items()})
        for kind, (data, pages) in produced.items():
            result.outputs.append(Written(targets[kind], kind, len(data), pages))
    return result


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
    from .writers.fetcher import RefusedResource

    _check_dossier_templates(root)
    folder = (root / "templates").resolve()
    try:
        yield
    except RefusedResource as refused:
        raise SourceError([_refused_diagnostic(root, refused.url, refused.why)]) from None
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


def _location(book: Book):
    from .errors import Location

    return Location(book.root / "dossier.yaml")


def _epub(book: Book, renderer: Renderer, settings: RenderSettings, styles: Path, laid_out: LaidOut,
          options: BuildOptions) -> bytes:
    from .writers import epub as epub_writer
    from .writers.cover import make_cover
    from .writers.page_starts import page_starts

    # the PDF's one layout gives the print page numbers: no second layout pass
    pages = laid_out.pages
    documents = renderer.epub_documents(pages)
    documents, page_list = epub_writer.insert_page_breaks(documents, pages,
                                                          page_starts(laid_out.document, pages))
    footer = " · ".join(x for x in (", ".join(book.authors), renderer.common["edition_date"]) if x)
    cover_png = (book.cover.data if book.cover and book.cover.media_type == "image/png" else
                 make_cover(book.title, book.subtitle, book.publisher, footer, styles / "fonts"))
    css = (styles / "epub.css").read_text(encoding="utf-8")
    fonts = {}
    if options.epub_fonts:
        fonts = epub_writer.read_font_files(styles)
        css = (styles / "fonts.css").read_text(encoding="utf-8").replace("url(fonts/", "url(../fonts/") + "\n" + css
        css += '\nbody { font-family: "Charis SIL", serif; }\nh1, h2, h3, h4 { font-family: "Inter", sans-serif; }\n'
    parts = epub_writer.EpubParts(
        documents=documents, nav=renderer.epub_nav(page_list), cover_xhtml=renderer.epub_cover("images/cover.png"),
        cover_png=cover_png, css=css, fonts=fonts,
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
