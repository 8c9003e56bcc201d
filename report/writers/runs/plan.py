"""Which runs a book is laid out in, and each run's document and sheet edits.

Every chapter and every appendix opens on a new page, so consecutive chapters laid out as a
document of their own (a run) give the same pages as the one pass, but for what depends on
pages elsewhere: the folios (drawn afterwards by the page-number layer, folios.py), the page
references of the contents and the indexes (literal numbers, once the pages are known) and
links to another run (``report-run:ID``, made internal again by the assembly).

The runs of a book: the front matter (cover, key points, contents), the chapters in runs of
about ``run_size`` chapters of similar length, then the appendices (the timeline and the quote
index each alone, as the largest; the rest together). A book of at most ``run_size`` chapters,
or ``run_size`` 0, is laid out in one pass: below that size the runs cost more than they save.
"""

from __future__ import annotations

import html as htmlmod
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..pdf import RUN_SIZE, SheetEdits

if TYPE_CHECKING:
    from ...derive.book import Book
    from ...render import Renderer

__all__ = ["RUN_SIZE", "Run", "localize", "plan", "run_document", "run_edits"]
RUN_SCHEME = "report-run:"  # a link to an anchor in another run (assemble.py makes it internal)
# Page references in the front and back matter: the number given to the run, not target-counter.
_PAGE_REFERENCE = ("target-counter(attr(href url), page)", "attr(data-page)")


@dataclass(frozen=True)
class Run:
    """Consecutive parts of the book laid out as one document."""

    name: str  # "front", "chapters 1-12", "timeline": for progress and the bench
    kind: str  # "front", "chapters" or "back"
    front: bool = False
    chapters: tuple[int, ...] = ()  # indexes into book.chapters
    appendices: tuple[int, ...] = ()  # indexes into book.appendices
    weight: int = 0  # the size of its text: the larger runs are laid out first
    recto: bool = True  # opens on a right-hand page in the book layout (a blank page before it if need be)
    names: tuple[str, ...] = ()  # the anchors of its appendices

    @property
    def needs_pages(self) -> bool:
        """Whether its document shows page numbers of other parts (the contents, the indexes)."""
        return self.kind != "chapters"


def plan(book: Book, run_size: int) -> list[Run] | None:
    """The runs of the book in page order, or None for the one pass."""
    count = len(book.chapters)
    if run_size <= 0 or count <= run_size:
        return None
    sizes = [_chapter_weight(chapter) for chapter in book.chapters]
    runs = [Run("front", "front", front=True, weight=len(book.chapters) * 200)]
    groups = -(-count // run_size)
    for first, last in _balanced(sizes, groups):
        name = f"chapters {first + 1}-{last}"
        runs.append(Run(name, "chapters", chapters=tuple(range(first, last)), weight=sum(sizes[first:last])))
    weights = {"timeline": len(book.timeline) * 300, "quote-index": len(book.quote_index) * 300}
    for index, appendix in enumerate(book.appendices):
        anchor = appendix.anchor
        together = anchor not in _ALONE and runs[-1].kind == "back" and runs[-1].recto
        if together and not set(runs[-1].names) & set(_ALONE) and anchor not in _NOT_RECTO:
            before = runs.pop()
            joined = (*before.appendices, index)
            runs.append(
                Run(
                    f"{before.name}, {anchor}",
                    "back",
                    appendices=joined,
                    weight=before.weight,
                    names=(*before.names, anchor),
                )
            )
        else:
            recto = anchor not in _NOT_RECTO
            weight = weights.get(anchor, 0)
            runs.append(Run(anchor, "back", appendices=(index,), weight=weight, recto=recto, names=(anchor,)))
    return runs


# The largest appendices, each a run of its own; the others share one.
_ALONE = ("timeline", "quote-index")
# The imprint opens a new page, but not a right-hand one (print.css): a run of its own (it changes
# with every build: it prints the build id), which starts on a left page when it must
# (`html { break-before: verso }` makes WeasyPrint's first page a left page).
_NOT_RECTO = ("imprint",)


def _chapter_weight(chapter: Any) -> int:
    return sum(len(part.html) for part in chapter.body.get("pdf", ())) + len(chapter.title_html) + 400


def _balanced(sizes: Sequence[int], groups: int) -> list[tuple[int, int]]:
    """``groups`` ranges of consecutive items with sums as even as a greedy cut makes them."""
    total = sum(sizes)
    cuts: list[tuple[int, int]] = []
    first, running = 0, 0
    for index, size in enumerate(sizes):
        running += size
        left = groups - len(cuts) - 1  # groups still to make after the current one
        remaining_items = len(sizes) - index - 1
        if left and (running >= total * (len(cuts) + 1) / groups or remaining_items == left):
            cuts.append((first, index + 1))
            first = index + 1
    cuts.append((first, len(sizes)))
    return cuts


def run_document(renderer: Renderer, run: Run) -> str:
    """The run's HTML as the one-pass document has it, with only the run's parts."""
    book = renderer.book
    parts = {
        "front": run.front,
        "chapters": [book.chapters[i] for i in run.chapters],
        "appendices": [book.appendices[i] for i in run.appendices],
    }
    return renderer.pdf_document(run=parts)


_HREF = re.compile(r'href="#([^"]*)"')
_ID = re.compile(r'\sid="([^"]*)"')


def ids_of(html: str) -> set[str]:
    """The ids in a document of ours (as written, escaped)."""
    return set(_ID.findall(html))


def localize(html: str, every_id: set[str], pages: Mapping[str, int] | None) -> str:
    """Links to other runs as ``report-run:ID``, and page references with their number.

    ``every_id`` holds the ids of the whole book (escaped as written): a link to an id that is
    nowhere stays as it is, so WeasyPrint reports it as the one pass does. ``pages`` (anchor ->
    page of the book) is given to runs that show page numbers: every internal link gets a
    ``data-page`` attribute, which the run's sheet shows where the one pass has target-counter.
    """
    own = ids_of(html)

    def link(match: re.Match[str]) -> str:
        target = match.group(1)
        href = match.group(0)
        if target not in own and target in every_id:
            href = f'href="{RUN_SCHEME}{target}"'
        if pages is not None:
            number = pages.get(htmlmod.unescape(target))
            href += f' data-page="{number if number is not None else ""}"'
        return href

    return _HREF.sub(link, html)


def css_string(value: str) -> str:
    """A CSS string literal for any text."""
    escaped = "".join(ch if ch.isprintable() and ch not in '"\\' else f"\\{ord(ch):x} " for ch in value)
    return f'"{escaped}"'


def running_strings(book: Book) -> dict[str, str]:
    """The strings the cover sets for the running heads and folios (print.css, .cover)."""
    strings = book.strings
    return {
        "dossier": book.title,
        "page-word": strings["page"],
        "page-of": strings["page_of"],
        "marking": book.marking or "",
        "classification": book.classification or "",
    }


def run_edits(book: Book, run: Run, *, verso: bool = False) -> SheetEdits:
    """The sheet edits of a run: strings the cover would set, no folios, literal page references.

    ``verso``: the run starts on a left-hand page of the book layout (only one that does not open
    on a right-hand page can).
    """
    rules = ["html { break-before: verso; }"] if verso else []
    if not run.front:
        rules.append(_string_set(book))
    # the folios stand in the bottom corners; the page-number layer draws them over the run
    rules.append("@page { @bottom-left { content: none !important; } @bottom-right { content: none !important; } }")
    replace = (_PAGE_REFERENCE,) if run.needs_pages else ()
    return SheetEdits(replace=replace, extra="\n".join(rules))


def _string_set(book: Book) -> str:
    sets = ", ".join(f"{name} {css_string(value)}" for name, value in running_strings(book).items())
    return f"body {{ string-set: {sets}; }}"
