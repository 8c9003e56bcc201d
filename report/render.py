"""The Book -> HTML/XHTML documents per edition, through Jinja2 (pure: no file I/O here)."""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from datetime import date as Date
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from . import __version__
from .derive import book as views
from .derive.book import Book
from .errors import Diagnostic, Location, ReportError, SourceError
from .languages.bidi import isolate_for
from .languages.breaks import keep_korean_words_whole
from .languages.css import language_css
from .memo import Memo, digest
from .sandbox import DataOnlyEnvironment

TEMPLATES = Path(__file__).parent / "templates"
# what a chapter's section is rendered from (the memo's key holds their text); and what it may not read
_CHAPTER_TEMPLATES = ("chapter.html", "_macros.html")
_NOT_FOR_SECTIONS = ("pages", "build_id")
KEY_POINTS_DOCUMENT = "text/key-points.xhtml"  # the dossier's key points: the EPUB's first document


def _view_types() -> tuple[type, ...]:
    """What templates may read besides text, numbers, dates and containers: the derive stage's
    frozen dataclasses (the Book and every part of it), found, so that a new view is data at once.

    Their fields are still checked one by one (report/sandbox.py): a Path field is never handed out.
    Language is left out: it hands out Babel's Locale.
    """
    import importlib
    import pkgutil
    from dataclasses import is_dataclass

    from . import derive
    from .derive.i18n import Language

    found: list[type] = [views.PartialDate, Markup]
    for info in sorted(pkgutil.iter_modules(derive.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{derive.__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and is_dataclass(value)
                and value.__module__ == module.__name__
                and value.__dataclass_params__.frozen  # type: ignore[attr-defined]
                and value is not Language
            ):
                found.append(value)
    return tuple(found)


TEMPLATE_DATA = _view_types()


@dataclass(frozen=True)
class RenderSettings:
    """What the writers choose about the documents, beside the content."""

    timestamp: datetime  # fixed, for reproducible output
    build_id: str
    layout: str = "briefing"  # the PDF's layout: "briefing" or "book" (chapters on right-hand pages)


def css_string(value: str) -> Markup:
    """Quote text as a CSS string literal, safe inside a <style> element."""
    escaped = (
        str(value)
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\a ")
        .replace("<", "\\3c ")
        .replace(">", "\\3e ")
        .replace("&", "\\26 ")
    )
    return Markup(f'"{escaped}"')


def make_environment(override: Path | None = None) -> jinja2.Environment:
    """Jinja2 with autoescape everywhere and strict undefined; a dossier's templates/ first.

    Every template runs in the data-only sandbox (report/sandbox.py): it reads the Book's
    values and nothing else, and its work is metered.
    """
    search = [str(TEMPLATES)]
    if override is not None and override.is_dir():
        search.insert(0, str(override))
    env = DataOnlyEnvironment(
        searchpath=search,
        data_types=TEMPLATE_DATA,
        autoescape=True,  # every template, whatever its extension (.xhtml included)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["css_string"] = css_string
    return env


def _environment(override: Path, memo: Memo | None) -> jinja2.Environment:
    """The template environment; with a memo, one per state of the dossier's templates/ folder.

    Compiling the templates is a good part of an HTML build; a kept environment recompiles a
    template whose file changed (Jinja2's auto_reload) and a new folder listing makes a new one.
    """
    if memo is None:
        return make_environment(override)
    listing: list[tuple[str, int, int]] = []
    if override.is_dir():
        for path in sorted(override.rglob("*")):
            try:
                info = path.stat()
            except OSError:
                continue
            listing.append((path.relative_to(override).as_posix(), info.st_mtime_ns, info.st_size))
    return memo.step("templates", digest(str(override), listing), lambda own: make_environment(override))


class Renderer:
    """Renders the documents of every edition from one Book."""

    def __init__(
        self,
        book: Book,
        settings: RenderSettings,
        env: jinja2.Environment | None = None,
        memo: Memo | None = None,
    ):
        self.book = book
        self.settings = settings
        self._dossier_templates = (book.root / "templates").resolve()
        self.env = env or _environment(book.root / "templates", memo)
        # a chapter's section is rendered once and kept while it and the book's own fields stay
        # the same; a dossier that brings its own chapter template gets it rendered every time
        overridden = any((self._dossier_templates / name).exists() for name in _CHAPTER_TEMPLATES)
        self.memo = memo if memo is not None and not overridden else None
        # a document may print a few times the dossier's own text (see sandbox.MIN_OUTPUT)
        self._text_size = sum(
            len(part.html) for chapter in book.chapters for parts in chapter.body.values() for part in parts
        )
        marks = book.language.quotes
        s = book.strings
        self.env.filters["isolate"] = isolate_for(book.language.direction)
        self.common: dict[str, Any] = {
            "book": book,
            "s": s,
            "lang": book.language.tag,
            "direction": book.language.direction,  # "rtl" or "ltr": the EPUB sets dir on <html> and <body>
            "dir": book.language.direction,
            "language_css": Markup(language_css(book.language, book.fonts, "pdf")),
            "list_of": book.language.format_list,
            "quote_open": marks[0],
            "quote_close": marks[1],
            "version": __version__,
            # %Y is not padded for years before 1000 (glibc): PDF dates need four digits
            "timestamp": f"{settings.timestamp.year:04d}" + settings.timestamp.strftime("-%m-%dT%H:%M:%SZ"),
            "build_id": settings.build_id,
            "edition_date": book.language.format_full_date(book.date) if book.date else "",
            "epub_file": self._epub_file,
            # a draft says so in its title (the PDF's and the web page's), as on its cover
            "document_title": f"{book.title} ({s['draft']})" if book.draft else book.title,
            "pages": {},
            "chapter_section": self._chapter_section,
        }
        self._files = {c.anchor: c.file_name for c in book.chapters}
        self._files.update({a.anchor: a.epub_document for a in book.appendices})
        self._files["key-points"] = KEY_POINTS_DOCUMENT
        for chapter in book.chapters:
            for quote in chapter.quotes.values():
                self._files[quote.anchor] = chapter.file_name

    @jinja2.pass_context
    def _chapter_section(self, context: jinja2.runtime.Context, chapter: views.ChapterView) -> Markup:
        """`{{ chapter_section(chapter) }}`: the chapter as chapter.html renders it in this edition.

        The section may read the chapter, the book's own fields and the common context, never
        another chapter, the page numbers or the build id (it is kept while those change):
        those names are left out of its context, so a template that reads them fails loudly.
        """
        edition = context["edition"]
        section = {key: value for key, value in self.common.items() if key not in _NOT_FOR_SECTIONS}
        section.update(book=self._book_fields, edition=edition, chapter=chapter)

        def make(own: object = None) -> str:
            return self.env.get_template("chapter.html").render(section)

        if self.memo is None or not chapter.key:
            return Markup(make())
        key = digest("section", edition, chapter.key, self._section_inputs)
        return Markup(self.memo.step("section", key, make, disk=True))

    @cached_property
    def _book_fields(self) -> Book:
        """The book without its chapters and indexes: what a chapter's section may read of it."""
        return replace(self.book, chapters=(), timeline=(), quote_index=(), images=())

    @cached_property
    def _section_inputs(self) -> str:
        """Everything but the chapter that a chapter's section is made from, as one digest."""
        templates = tuple((TEMPLATES / name).read_text(encoding="utf-8") for name in _CHAPTER_TEMPLATES)
        shown = {
            key: value
            for key, value in self.common.items()
            if key not in _NOT_FOR_SECTIONS and key not in ("book", "list_of", "epub_file", "chapter_section")
        }
        return digest(
            repr(self._book_fields),
            sorted((key, repr(value)) for key, value in shown.items()),
            sorted(self._files.items()),
            templates,
        )

    def _epub_file(self, anchor: str) -> str:
        """The EPUB document (relative to text/) that holds an anchor."""
        return Path(self._files[anchor]).name

    def render(self, template: str, edition: str, **extra) -> str:
        context = {**self.common, **extra, "edition": edition}
        try:
            if isinstance(self.env, DataOnlyEnvironment):
                html = self.env.render_metered(template, context, text_size=self._text_size)
            else:
                html = self.env.get_template(template).render(context)
        except SourceError:
            raise
        except Exception as exc:  # RecursionError and MemoryError included
            located = dossier_template_error(exc, self._dossier_templates)
            if located is None:
                raise  # a fault of a shipped template alone is a bug in report
            raise SourceError([located]) from None
        if edition == "pdf" and self.book.language.script == "Kore":
            html = keep_korean_words_whole(html)  # WeasyPrint has no word-break: keep-all
        return html

    def pdf_document(self, run: dict[str, Any] | None = None) -> str:
        """The PDF's document; with ``run``, only its parts (writers/runs/plan.py: front, chapters, appendices)."""
        return self.render("pdf.html", "pdf", layout_classes=f"layout-{self.settings.layout}", run=run)

    def web_document(self, css: str) -> str:
        extra = language_css(self.book.language, self.book.fonts, "html")
        return self.render("web.html", "html", css=css + ("\n" + extra + "\n" if extra else ""))

    def epub_documents(self, pages: dict[str, int]) -> dict[str, str]:
        """Every XHTML document of the EPUB by its name inside the EPUB."""
        # the contents page first (after the cover, which the writer adds): the nav document stays out of the spine
        docs: dict[str, str] = {
            "text/contents.xhtml": self.render("epub/contents.xhtml", "epub", doc_title=self.book.strings["contents"])
        }
        if self.book.key_points:  # the dossier's key points come first, before chapter 1
            docs[KEY_POINTS_DOCUMENT] = self.render(
                "epub/appendix.xhtml",
                "epub",
                part="key_points.html",
                pages=pages,
                doc_title=self.book.strings["key_points"],
            )
        for chapter in self.book.chapters:
            docs[chapter.file_name] = self.render(
                "epub/chapter.xhtml", "epub", chapter=chapter, pages=pages, doc_title=chapter.title_plain
            )
        for appendix in self.book.appendices:
            docs[appendix.epub_document] = self.render(
                "epub/appendix.xhtml",
                "epub",
                part=appendix.template,
                pages=pages,
                doc_title=self.book.strings[appendix.title_key],
            )
        return docs

    def epub_cover(self, image_name: str) -> str:
        return self.render("epub/cover.xhtml", "epub", image_name=image_name, doc_title=self.book.title)

    def epub_nav(self, page_list: list[tuple[str, str]]) -> str:
        return self.render("epub/nav.xhtml", "epub", page_list=page_list, doc_title=self.book.title)


def dossier_template_error(exc: BaseException, folder: Path) -> Diagnostic | None:
    """A fault raised while a dossier's own template ran, as a located user error; else None.

    The place is the innermost frame of a template inside the dossier's templates/ folder
    (Jinja2 rewrites tracebacks to template file and line), or a syntax error's own place.
    """
    where = None
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        where = Location(Path(exc.filename), exc.lineno or 0)
    for frame in traceback.extract_tb(exc.__traceback__):
        try:
            inside = Path(frame.filename).resolve().is_relative_to(folder)
        except (OSError, ValueError):
            inside = False
        if inside:
            where = Location(Path(frame.filename), frame.lineno or 0)
    if where is None and isinstance(exc, jinja2.TemplateError):
        where = _overridden_template_named_in(str(exc), folder)
    try:
        if where is None or not Path(where.path).resolve().is_relative_to(folder):
            return None
    except (OSError, ValueError):
        return None
    if isinstance(exc, RecursionError):
        message = "the template calls or includes itself without end"
    elif isinstance(exc, MemoryError):
        message = "the template needs more memory than the machine has"
    elif isinstance(exc, jinja2.TemplateNotFound):
        message = (
            f"template '{exc.name}' not found: a template can include the dossier's own templates "
            "(by their name inside templates/) and the shipped ones"
        )
    elif isinstance(exc, jinja2.TemplateError):
        message = (str(exc).splitlines() or [type(exc).__name__])[0]
    else:
        message = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}".rstrip(": ")
    return Diagnostic(where, f"template error: {message}", field="templates")


# PDF and EPUB dates have four-digit years (the ZIP's own limit is the EPUB writer's).
_LAST_SECOND = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def _overridden_template_named_in(message: str, folder: Path) -> Location | None:
    """A shipped template that failed on a dossier's override it imports ("the template
    '_macros.html' ... does not export the requested name 'quote_block'"): the override is at fault."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.rglob("*")):
        if path.is_file() and f"'{path.relative_to(folder).as_posix()}'" in message:
            return Location(path, 1)
    return None


def fixed_timestamp(book_date: Date | None, source_date_epoch: str | None) -> datetime:
    """SOURCE_DATE_EPOCH if set, else the dossier's date, else 2000-01-01: never the clock."""
    if source_date_epoch:
        try:
            if not re.fullmatch(r"-?[0-9]+", source_date_epoch.strip()):
                raise ValueError(source_date_epoch)
            seconds = int(source_date_epoch)
        except ValueError:
            # the reproducible-builds convention: a bad value is an error, never silently ignored
            raise ReportError(
                f"SOURCE_DATE_EPOCH={source_date_epoch[:40]!r} is not a time in whole seconds "
                "since 1970 (e.g. 1700000000)"
            ) from None
        if not 0 <= seconds <= _LAST_SECOND.timestamp():
            raise ReportError(
                f"SOURCE_DATE_EPOCH={source_date_epoch[:40]!r} is outside what PDF and EPUB dates "
                f"hold: give 0 (1970-01-01) to {int(_LAST_SECOND.timestamp())} (9999-12-31)"
            )
        return datetime.fromtimestamp(seconds, tz=UTC)
    if book_date:
        return datetime(book_date.year, book_date.month, book_date.day, tzinfo=UTC)
    return datetime(2000, 1, 1, tzinfo=UTC)
