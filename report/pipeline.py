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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .cache import BuildCache, build_key, digest_files
from .errors import Collector, Diagnostic, SourceError
from .folder import find_reference, is_inside
from .memo import DISK_FILE, Memo
from .options import BuildOptions
from .writers import files
from .writers.edition import Edition, EditionContext, LayoutNeed, Made, edition, editions
from .writers.layout import CachedSource, EngineSource, Layout, LayoutSource, LocalSource

# The heavy stages (pydantic, Jinja2, Markdown, WeasyPrint) are imported where they are
# used: an unchanged rebuild answers from the cache without loading any of them.
if TYPE_CHECKING:
    from .derive.book import Book
    from .render import Renderer
    from .writers.pdf_engine import PdfEngine
    from .writers.runs.source import RunsSource

__all__ = ["BuildOptions", "BuildResult", "Written", "build", "check", "content_digest", "output_stem", "styles_dir"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Findings about style rather than correctness: `report check` lists them, a build does not.
LINT_ONLY = {"unplaced-quote", "event-without-text", "speaker-variant", "unused-source"}


def styles_dir() -> Path:
    """The shipped styles: the package's own copy when installed, else the checkout's styles/.

    The wheel installs styles/ as report/styles; only a checkout has none there. Never
    look beside an installed package: that folder is site-packages, not ours.
    """
    here = Path(__file__).resolve().parent
    installed = here / "styles"
    return installed if (installed / "print.css").is_file() else here.parent / "styles"


@dataclass(frozen=True)
class Written:
    path: Path
    kind: str
    size: int
    pages: int | None = None


@dataclass
class BuildResult:
    outputs: list[Written] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    cached: bool = False  # nothing had changed: the outputs of the last build were kept
    # per chapter step (memo.py): how many results were made and how many reused
    reused: dict[str, dict[str, int]] = field(default_factory=dict)
    # the PDF's runs when laid out in runs (writers/runs/source.py RunReport.as_dict), else empty
    pdf_runs: list[dict[str, object]] = field(default_factory=list)


Progress = Callable[[str, str], None]  # (stage, state) where state is "start" or "done"


def check(root: Path, memo: Memo | None = None) -> tuple[Collector, Book | None]:
    """Load and derive without rendering: every error and warning of the source."""
    from .derive.book import derive_book
    from .source.loader import load_dossier

    collector = Collector()
    dossier = load_dossier(Path(root), collector, memo)
    book = derive_book(dossier, collector, memo) if dossier is not None else None
    return collector, book


def content_digest(root: Path, styles: Path, exclude: tuple[Path, ...] = ()) -> str:
    """A digest of everything that shapes the output (sources, styles, templates, version), before loading."""
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


def build(
    root: Path, options: BuildOptions, progress: Progress | None = None, *, memo: Memo | None = None
) -> BuildResult:
    """Build the requested editions of the dossier at ``root`` into ``options.out_dir``.

    An unchanged dossier (same content, styles, templates, code and options) with its
    outputs in place is answered from the cache; `force` builds anyway. Chapters that did
    not change since the last build are not read again: from ``memo`` when given (`report
    watch` keeps one across saves), else from the output folder's disk memo (memo.py).
    """
    report = progress or (lambda stage, state: None)
    result = BuildResult()
    root = Path(root)

    def stage(name: str) -> _Stage:
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

    if memo is None:  # `--force` trusts nothing kept: the parts are made again, then kept for next time
        memo = Memo(cache.folder / DISK_FILE, read=not options.force)
    requested = [edition(kind) for kind in options.formats]
    # The EPUB's print page numbers come from the PDF layout of the same content and page options.
    layout_key = build_key(digest, {"pdf": asdict(options.pdf)})
    plan = _LayoutPlan.for_build(root, requested, options, cache, layout_key)
    memo.begin()
    produced = False
    try:
        with _dossier_code_errors(root):
            stem, made, warnings, layout = _produce(root, options, requested, plan, styles, digest, cache, stage, memo)
        produced = True
    finally:
        if plan.runs is not None and plan.runs.done:
            outcome = plan.runs.outcome()
            result.pdf_runs = [report.as_dict() for report in outcome.reports]
            result.timings.update(outcome.timings)
        plan.close()
        memo.finish(save=produced)  # a failed build writes nothing, not even its parts
        result.reused = memo.counts()
    result.warnings += warnings
    if layout is not None:
        cache.write_layout(layout_key, layout)

    with stage("write"), files.build_lock(out_dir, [e.suffix for e in editions()]):
        targets = {kind: out_dir / f"{stem}{edition(kind).suffix}" for kind in made}
        files.write_all({targets[kind]: m.data for kind, m in made.items()})
        for kind, m in made.items():
            result.outputs.append(Written(targets[kind], kind, len(m.data), m.pages))
        cache.write_manifest(key, [(targets[k].name, k, m.data, m.pages) for k, m in made.items()], result.warnings)
    return result


_NEEDS = [LayoutNeed.NONE, LayoutNeed.PAGES, LayoutNeed.DOCUMENT]


@dataclass
class _LayoutPlan:
    """Where this build's print layout comes from, decided before the dossier is loaded."""

    need: LayoutNeed  # the most any requested edition needs
    cached: Layout | None  # an earlier build's layout, when the page map is all that is needed
    # engine processes, started at once so WeasyPrint loads beside the dossier: one for the one
    # pass, one per job when the dossier looks long enough to be laid out in runs (writers/runs/)
    engines: list[PdfEngine]
    runs: RunsSource | None = None  # the source, when the book is laid out in runs

    @classmethod
    def for_build(
        cls, root: Path, requested: list[Edition], options: BuildOptions, cache: BuildCache, layout_key: str
    ) -> _LayoutPlan:
        need = max((e.layout for e in requested), key=_NEEDS.index)
        cached = None
        if need is LayoutNeed.PAGES and not options.force:
            cached = cache.read_layout(layout_key)
        engines: list[PdfEngine] = []
        if need is not LayoutNeed.NONE and cached is None and options.parallel:
            from .options import cores
            from .writers.pdf_engine import PdfEngine

            # a guess from the chapter files (a dossier.yaml may list others): the bytes do not depend on it
            chapter_files = sum(1 for p in root.glob("*.yaml") if p.name != "dossier.yaml")
            runs = 0 < options.pdf.run_size < chapter_files
            count = (options.jobs or cores()) if runs else 1
            engines = [PdfEngine() for _ in range(count)]
        return cls(need, cached, engines)

    def source(
        self,
        renderer: Renderer,
        options: BuildOptions,
        styles: Path,
        cache: BuildCache,
        stage: Callable[[str], _Stage],
    ) -> LayoutSource | None:
        """The layout source for the rendered book: the cache, the engine or this process; None if unneeded."""
        if self.cached is not None:
            return CachedSource(self.cached)
        if self.need is LayoutNeed.NONE:
            return None
        book = renderer.book
        from .writers.runs import plan

        runs = plan.plan(book, options.pdf.run_size)
        if runs is not None:
            from .writers.runs.pool import EnginePool, LocalPool
            from .writers.runs.source import RunsSource
            from .writers.runs.store import RunStore

            pool = EnginePool(self.engines) if self.engines else LocalPool()
            self.engines = []  # the pool's now
            store = RunStore(cache.folder / "runs", styles, read=not options.force)
            with stage("pdf html"):
                self.runs = RunsSource(
                    renderer,
                    runs,
                    pool=pool,
                    store=store,
                    root=book.root,
                    styles_dir=styles,
                    options=options.pdf,
                    identifier=book.identifier,
                    write_pdf=self.need is LayoutNeed.DOCUMENT,
                )
            return self.runs
        for spare in self.engines[1:]:
            spare.close()
        del self.engines[1:]
        with stage("pdf html"):
            html = renderer.pdf_document()
        if self.engines:
            return EngineSource(
                self.engines[0],
                html,
                root=book.root,
                styles_dir=styles,
                options=options.pdf,
                identifier=book.identifier,
                write_pdf=self.need is LayoutNeed.DOCUMENT,
            )
        return LocalSource(html, root=book.root, styles_dir=styles, options=options.pdf, identifier=book.identifier)

    def close(self) -> None:
        if self.runs is not None:
            self.runs.close()
        for engine in self.engines:
            engine.close()


def _produce(
    root: Path,
    options: BuildOptions,
    requested: list[Edition],
    plan: _LayoutPlan,
    styles: Path,
    digest: str,
    cache: BuildCache,
    stage: Callable[[str], _Stage],
    memo: Memo,
) -> tuple[str, dict[str, Made], list[Diagnostic], Layout | None]:
    """Load, derive and make every requested edition in memory; nothing is written here.

    Editions that need no print layout are made first, while the PDF engine lays out;
    the bytes are the same when the layout is made here (no engine) or read from the cache.
    Returns the file stem, the editions in the registry's order, the warnings, and a fresh
    layout for the cache.
    """
    from .completeness import check_complete
    from .derive.book import derive_book
    from .render import Renderer, RenderSettings, fixed_timestamp
    from .source.loader import load_dossier

    with stage("load"):
        collector = Collector()
        dossier = load_dossier(root, collector, memo)
        book = derive_book(dossier, collector, memo) if dossier is not None else None
        collector.raise_if_errors()
        assert dossier is not None and book is not None
    warnings = [d for d in collector.warnings if d.code not in LINT_ONLY]
    # the PDF layout: the command line's choice, else the dossier's own (briefing unless it says book)
    options = replace(options, pdf=replace(options.pdf, layout=options.pdf.layout or book.layout))

    settings = RenderSettings(
        timestamp=fixed_timestamp(book.date, os.environ.get("SOURCE_DATE_EPOCH")),
        build_id=digest[:16],
        layout=options.pdf.layout,
    )
    renderer = Renderer(book, settings, memo=memo)
    source = plan.source(renderer, options, styles, cache, stage)
    ctx = EditionContext(book, renderer, settings, options, styles, cache, digest, stage, source)
    made: dict[str, Made] = {}
    # no layout first (made while the PDF lays out), then the page map's readers, then the PDF itself
    for wanted in sorted(requested, key=lambda e: _NEEDS.index(e.layout)):
        made[wanted.kind] = wanted.make(ctx)
    layout = ctx.layout() if source is not None else None
    warnings += layout.warnings if layout is not None else ()
    for kind in options.formats:
        warnings += made[kind].warnings
    # nothing lost: every paragraph, note, quote and image of the source is in every edition made
    warnings += check_complete(
        book,
        html=made["html"].data if "html" in made else None,
        epub=made["epub"].data if "epub" in made else None,
        pdf_anchors=layout.pages if "pdf" in made and layout is not None else None,
    )
    if options.strict and warnings:
        raise SourceError([w.promoted() for w in warnings])  # each where it arose
    # the glyph check before layout should have stopped this; an empty box printed is never a warning
    tofu = [w.promoted() for w in warnings if ".notdef glyph rendered" in w.message]
    if tofu:
        raise SourceError(tofu)
    fresh = layout if source is not None and source.fresh else None
    return output_stem(book), {kind: made[kind] for kind in options.formats}, warnings, fresh


def _check_dossier_templates(root: Path) -> None:
    """A dossier's templates/ may hold no link that leaves the dossier (Jinja2's loader follows links)."""
    from .errors import Location

    folder = root / "templates"
    if not folder.is_dir():
        return
    outside = [
        Diagnostic(Location(p), "template is a link to a file outside the dossier folder", field="templates")
        for p in sorted(folder.rglob("*"))
        if not is_inside(p, root)
    ]
    if not is_inside(folder, root):
        outside.append(Diagnostic(Location(folder), "templates/ is a link to a folder outside the dossier folder"))
    if outside:
        raise SourceError(outside)


@contextmanager
def _dossier_code_errors(root: Path) -> Iterator[None]:
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
            if is_inside(frame.filename, folder):
                where = Location(Path(frame.filename), frame.lineno or 0)
        if where is None or not is_inside(where.path, folder):
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
    where = find_reference(
        root, [n for n in (url, unquote(url), path) if n.strip("/")], tails=[path.rsplit("/", 1)[-1]]
    )
    if where is None:
        return Diagnostic(Location(root), f"resource '{url}' refused: {why}")
    return Diagnostic(where, f"resource '{url}' refused: {why}; only files in the dossier folder are used")


class _Stage:
    def __init__(self, name: str, report: Progress, timings: dict[str, float]):
        self.name, self.report, self.timings = name, report, timings

    def __enter__(self) -> _Stage:
        self.start = time.perf_counter()
        self.report(self.name, "start")
        return self

    def __exit__(self, *exc: object) -> None:  # never swallows the exception
        self.timings[self.name] = time.perf_counter() - self.start
        self.report(self.name, "done" if exc[0] is None else "failed")
