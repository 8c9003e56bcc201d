"""The page-number layer: the folios of the whole book, drawn over the assembled pages.

Runs are laid out without their folios (plan.run_edits empties the bottom corners, where
every layout has them), so that a run's PDF depends on its own content alone. Once every
page is known, the folios are laid out by WeasyPrint too, from the same sheets: a document
of empty pages, one per page of the book, each of the named page its run page had (so the
cover has none), "report-blank" for a blank page (none either). Only the bottom corners are
drawn: no background, watermark, crop marks, running heads or marking (the runs have those).
The layer is split into parts of CHUNK pages laid out apart (parallel, and cached); each part
starts on an odd page, so its left and right pages are the book's, and shows the total as a
literal instead of counter(pages). The assembly draws each layer page over its page as a
pagination artifact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..pdf import SheetEdits
from .plan import css_string, running_strings

CHUNK = 64  # even: every part starts on an odd page
BLANK = "report-blank"


@dataclass(frozen=True)
class LayerPart:
    first_page: int
    html: str
    edits: SheetEdits


def layer_parts(empty_document: str, book: object, kinds: Sequence[str]) -> list[LayerPart]:
    """The layer for a book whose pages are of ``kinds`` (work.RunOutput.page_kinds, in page order).

    ``empty_document`` is the PDF document with no parts (its <head> and an empty <body>).
    """
    total = len(kinds)
    end = empty_document.rindex("</body>")
    strings = ", ".join(f"{name} {css_string(value)}" for name, value in running_strings(book).items())  # type: ignore[arg-type]
    parts = []
    for first in range(1, total + 1, CHUNK):
        pages = kinds[first - 1 : first - 1 + CHUNK]
        body = "".join(_page(kind) for kind in pages)
        html = empty_document[:end] + body + empty_document[end:]
        rules = [
            f"body {{ string-set: {strings}; }}",
            "html, body { background: none !important; }",
            ".report-folio { margin: 0; padding: 0; height: 0; }",
            ".report-folio + .report-folio { break-before: page; }",
            "@page { background: none !important; marks: none !important;"
            " @top-left { content: none !important; } @top-right { content: none !important; }"
            " @top-center { content: none !important; } @bottom-center { content: none !important; } }",
            f"@page {BLANK} {{ @bottom-left {{ content: none !important; }}"
            " @bottom-right { content: none !important; } }",
        ]
        if first > 1:
            rules.append(f"@page :first {{ counter-increment: page {first}; }}")
        edits = SheetEdits(replace=(("counter(pages)", f'"{total}"'),), extra="\n".join(rules))
        parts.append(LayerPart(first, html, edits))
    return parts


def _page(kind: str) -> str:
    name = BLANK if kind == "blank" else kind
    style = f' style="page: {name}"' if name else ""
    return f'<div class="report-folio"{style}></div>'
