"""The meeting handout: an A5 booklet laid out by WeasyPrint, imposed two-up on A4 with pypdf.

Printed duplex (flip on the short edge) and folded once, the A4 sheets give the booklet.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from ..errors import Diagnostic
from .edition import EditionContext, LayoutNeed, Made
from .pdf import PdfOptions, lay_out

A4_LANDSCAPE = (841.89, 595.28)  # points
A5 = (420.94, 595.28)


@dataclass(frozen=True)
class Handout:
    """The imposed handout and how it was made."""

    data: bytes
    booklet_pages: int  # A5 pages with content
    sheets: int  # A4 sheets, each printed on both sides
    warnings: tuple[Diagnostic, ...]


def booklet_order(page_count: int) -> list[tuple[int | None, int | None]]:
    """The A5 pages (1-based; None for padding) on each A4 side: (left, right), sheet by sheet.

    Pages are padded to a multiple of four; sheet i carries, front then back,
    (n-2i, 2i+1) and (2i+2, n-2i-1): the outermost pages on the first sheet.
    """
    total = max(4, -(-page_count // 4) * 4)

    def real(number: int) -> int | None:
        return number if number <= page_count else None

    sides = []
    for sheet in range(total // 4):
        sides.append((real(total - 2 * sheet), real(2 * sheet + 1)))
        sides.append((real(2 * sheet + 2), real(total - 2 * sheet - 1)))
    return sides


def impose(booklet_pdf: bytes, right_to_left: bool = False) -> tuple[bytes, int]:
    """Put the A5 pages two-up on A4 landscape sides in booklet order; returns (pdf, A5 page count).

    A right-to-left booklet is bound on its right: every side is mirrored (page 1 on the left half).
    """
    from pypdf import PageObject, PdfReader, PdfWriter, Transformation
    from pypdf.generic import NameObject

    reader = PdfReader(io.BytesIO(booklet_pdf))
    pages = list(reader.pages)
    writer = PdfWriter()
    half = A4_LANDSCAPE[0] / 2
    for index, (left, right) in enumerate(booklet_order(len(pages))):
        if right_to_left:
            left, right = right, left
        side = PageObject.create_blank_page(width=A4_LANDSCAPE[0], height=A4_LANDSCAPE[1])
        for number, x in ((left, 0.0), (right, half)):
            if number is None:
                continue
            page = pages[number - 1]
            box = page.mediabox
            # Centre the A5 page in its half, whatever its exact box.
            dx = x + (half - float(box.width)) / 2 - float(box.left)
            dy = (A4_LANDSCAPE[1] - float(box.height)) / 2 - float(box.bottom)
            side.merge_transformed_page(page, Transformation().translate(dx, dy))
        writer.add_page(side)
        sheet, face = divmod(index, 2)
        labels = "|".join(str(n) if n else "-" for n in (left, right))
        # Page labels name the A5 pages on each side, so the order can be checked without printing.
        writer.set_page_label(index, index, prefix=f"{sheet + 1}{'ab'[face]}:{labels}")
    for key, value in (reader.metadata or {}).items():
        writer.add_metadata({key: value})
    catalog = reader.root_object
    if "/Lang" in catalog:  # keep the document language for text tools
        writer.root_object[NameObject("/Lang")] = catalog["/Lang"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), len(pages)


def build_handout(
    html: str, *, base_dir: Path, styles_dir: Path, identifier: str, right_to_left: bool = False
) -> Handout:
    """Lay out the handout document on A5 and impose it on A4 sheets."""
    from .pdf import write

    options = PdfOptions(page_size="A5", variant="none", layout="handout")
    from .layout import located

    laid_out = lay_out(html, base_dir=base_dir, styles_dir=styles_dir, options=options)
    booklet = write(laid_out, identifier=f"{identifier}#handout", options=options)
    data, count = impose(booklet, right_to_left)
    return Handout(data, count, -(-count // 4), located(laid_out.warnings, base_dir, field="weasyprint (handout)"))


class HandoutEdition:
    """The A5 booklet for meetings: its own small layout, so it needs none of the print edition's."""

    kind = "handout"
    suffix = "-handout.pdf"
    title = "A5 handout booklet, imposed on A4"
    default = False
    layout = LayoutNeed.NONE

    def make(self, ctx: EditionContext) -> Made:
        with ctx.stage("handout"):
            handout = build_handout(
                ctx.renderer.render("handout.html", "pdf"),
                base_dir=ctx.book.root,
                styles_dir=ctx.styles,
                identifier=ctx.book.identifier,
                right_to_left=ctx.book.language.rtl,
            )
        return Made(handout.data, handout.sheets * 2, handout.warnings)


EDITION = HandoutEdition()
