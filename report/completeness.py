"""Nothing lost: every paragraph, footnote, quote and image of the source is in every edition.

Runs after layout and before anything is written. The Book lists what each chapter must
show, by anchor, with the file and line it was written on; this looks for each anchor
among the ids of the HTML edition, of the EPUB's documents and of the PDF layout's page
map (which holds only anchors laid out on a page, see writers/pdf.py). A template, a
stylesheet or a layout that drops one of them stops the build with a located error that
names what was lost and from which editions, instead of exiting 0 with text missing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection, Mapping

from .derive.book import Book
from .errors import Diagnostic, SourceError

_ID = re.compile(rb"""\sid\s*=\s*["']([^"']+)["']""")


def ids_in_markup(data: bytes) -> set[str]:
    """Every id attribute value in an HTML or XHTML document."""
    return {match.decode("utf-8", "replace") for match in _ID.findall(data)}


def ids_in_epub(data: bytes) -> set[str]:
    """Every id attribute value in the EPUB's XHTML documents."""
    found: set[str] = set()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.endswith((".xhtml", ".html")):
                found |= ids_in_markup(archive.read(name))
    return found


def check_complete(
    book: Book, *, html: bytes | None = None, epub: bytes | None = None, pdf_anchors: Mapping[str, int] | None = None
) -> list[Diagnostic]:
    """Raise a SourceError naming each expected element that an edition made here lacks.

    Returns warnings: footnotes the PDF sets on neither the page of their call nor the next.
    """
    editions: dict[str, Collection[str]] = {}
    if pdf_anchors is not None:
        editions["PDF"] = pdf_anchors
    if epub is not None:
        editions["EPUB"] = ids_in_epub(epub)
    if html is not None:
        editions["HTML"] = ids_in_markup(html)
    lost = []
    for chapter in book.chapters:
        for expected in chapter.expected:
            missing = [name for name, anchors in editions.items() if expected.anchor not in anchors]
            if missing:
                lost.append(
                    Diagnostic(
                        expected.location,
                        f"{expected.what} is missing from the {' and '.join(missing)} "
                        f"edition{'s' if len(missing) > 1 else ''} (anchor '{expected.anchor}')",
                        hint=_hint(expected.what, missing),
                        code="lost",
                    )
                )
    if lost:
        raise SourceError(lost)
    return _misplaced_notes(book, pdf_anchors) if pdf_anchors is not None else []


def _misplaced_notes(book: Book, pages: Mapping[str, int]) -> list[Diagnostic]:
    found = []
    for chapter in book.chapters:
        for expected in chapter.expected:
            note, call = pages.get(expected.anchor), pages.get(expected.call_anchor)
            if expected.call_anchor and note is not None and call is not None and note not in (call, call + 1):
                found.append(
                    Diagnostic(
                        expected.location,
                        f"{expected.what} is set on page {note} of the PDF, its call on page {call}",
                        severity="warning",
                        code="footnote-page",
                    )
                )
    return found


def _hint(what: str, missing: list[str]) -> str:
    if what.startswith("footnote") and missing == ["PDF"]:
        return (
            "a footnote must fit on one page of the PDF with the line that calls it; shorten it "
            "or move part of it into the body"
        )
    return "a template or stylesheet of the dossier may hide it"
