"""The print layout as a value, and the one interface behind which it is made or found.

The PDF edition is laid out once by WeasyPrint. Every paged edition reads that one
layout: the PDF writes it out, the EPUB takes its print page numbers and page starts
from it. A `Layout` is frozen and typed and survives a JSON round trip (the build
cache keeps it); a `LayoutSource` hands it out, from one of three places:

- `EngineSource`: the PDF engine process (lays out while the builder makes the other editions),
- `LocalSource`: the same lay_out() and write() in this process, one after the other,
- `CachedSource`: the layout of an earlier build of the same content and page options.

All three give the same Layout, so the bytes of every edition are the same whichever is used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

from ..errors import Diagnostic, Location, ReportError
from ..folder import find_reference, is_inside
from .page_starts import PageStart

if TYPE_CHECKING:
    from .pdf import LaidOut, PdfOptions
    from .pdf_engine import PdfEngine


@dataclass(frozen=True)
class Layout:
    """What the print layout found out: where every anchor stands, and what went wrong."""

    pages: dict[str, int]  # anchor id -> 1-based page where it stands (read only)
    page_count: int
    warnings: tuple[Diagnostic, ...]  # WeasyPrint's, located where they can be traced
    page_starts: tuple[PageStart, ...]  # pages that begin inside a block of text

    def to_json(self) -> bytes:
        record = {
            "pages": self.pages,
            "page_count": self.page_count,
            "warnings": [w.as_dict() for w in self.warnings],
            "starts": [[s.page, s.element_id, s.words_before] for s in self.page_starts],
        }
        return json.dumps(record, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Layout:
        """The layout of to_json(); ValueError for anything else."""
        try:
            record = json.loads(data)
            return cls(
                {str(k): int(v) for k, v in record["pages"].items()},
                int(record["page_count"]),
                tuple(Diagnostic.from_dict(w) for w in record["warnings"]),
                tuple(PageStart(int(page), str(element), int(words)) for page, element, words in record["starts"]),
            )
        except (TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"not a layout record: {exc}") from None


def layout_of(laid_out: LaidOut, root: Path) -> Layout:
    """The Layout of a laid-out WeasyPrint document of the dossier at ``root``."""
    from .page_starts import page_starts

    return Layout(
        dict(laid_out.pages),
        laid_out.page_count,
        located(laid_out.warnings, root),
        tuple(page_starts(laid_out.document, laid_out.pages)),
    )


_FILE_URL = re.compile(r"file://[^\s'\"`<>)]+")


def located(messages: list[str] | tuple[str, ...], root: Path, *, field: str = "weasyprint") -> tuple[Diagnostic, ...]:
    """WeasyPrint's log lines as warnings, each at the dossier line that names its file, if one does."""
    return tuple(_locate(message, root, field) for message in messages)


def _locate(message: str, root: Path, field: str) -> Diagnostic:
    where = Location(root)
    for url in _FILE_URL.findall(message):
        path = Path(unquote(urlsplit(url).path))
        if not is_inside(path, root):
            continue  # the shipped styles and fonts: nothing the user wrote
        relative = path.resolve().relative_to(Path(root).resolve()).as_posix()
        found = find_reference(Path(root), [relative], tails=[path.name])
        if found is not None:
            where = found
            break
    return Diagnostic(where, message, field=field, severity="warning", code="weasyprint")


class LayoutSource(Protocol):
    """Where the print layout comes from; asked at most once for each."""

    fresh: bool  # laid out by this build (worth a stage of its own, and keeping in the cache)

    def layout(self) -> Layout:
        """The layout (waits for it)."""
        ...

    def write_pdf(self) -> tuple[bytes, tuple[Diagnostic, ...]]:
        """The PDF of that layout, and the warnings of writing it."""
        ...


class EngineSource:
    """The layout made by the PDF engine process, which was started early and given the document."""

    fresh = True

    def __init__(
        self,
        engine: PdfEngine,
        html: str,
        *,
        root: Path,
        styles_dir: Path,
        options: PdfOptions,
        identifier: str,
        write_pdf: bool,
    ):
        self._engine = engine
        engine.submit(
            html, base_dir=root, styles_dir=styles_dir, options=options, identifier=identifier, write_pdf=write_pdf
        )

    def layout(self) -> Layout:
        return self._engine.layout()

    def write_pdf(self) -> tuple[bytes, tuple[Diagnostic, ...]]:
        return self._engine.pdf()


class LocalSource:
    """The layout made here, when first asked for; the PDF written from the same layout."""

    fresh = True

    def __init__(self, html: str, *, root: Path, styles_dir: Path, options: PdfOptions, identifier: str):
        self._html, self._root, self._styles, self._options = html, root, styles_dir, options
        self._identifier = identifier
        self._laid_out: LaidOut | None = None
        self._layout: Layout | None = None

    def layout(self) -> Layout:
        if self._layout is None:
            from .pdf import lay_out

            self._laid_out = lay_out(self._html, base_dir=self._root, styles_dir=self._styles, options=self._options)
            self._layout = layout_of(self._laid_out, self._root)
        return self._layout

    def write_pdf(self) -> tuple[bytes, tuple[Diagnostic, ...]]:
        from .pdf import write

        self.layout()
        assert self._laid_out is not None
        before = len(self._laid_out.warnings)
        data = write(self._laid_out, identifier=self._identifier, options=self._options)
        return data, located(self._laid_out.warnings[before:], self._root)


class CachedSource:
    """The layout of an earlier build of the same content and page options (no PDF to write)."""

    fresh = False

    def __init__(self, layout: Layout):
        self._layout = layout

    def layout(self) -> Layout:
        return self._layout

    def write_pdf(self) -> tuple[bytes, tuple[Diagnostic, ...]]:
        raise ReportError("a cached layout has no document to write (the PDF edition needs a fresh layout)")
