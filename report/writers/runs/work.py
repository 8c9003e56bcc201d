"""One run laid out and written: what a worker does, in an engine process or in the builder.

A run is a document of its own (plan.py made its HTML and its sheet edits): laid out by the
same lay_out() and written by the same write() as the one-pass PDF. What comes back is all
the builder needs to place it in the book without the WeasyPrint document: the PDF bytes,
where its anchors stand and where its pages begin inside a block (for the EPUB), what kind
each page is (the page-number layer draws no folio on a cover or a blank page), and which
font files its subsets were made from (the assembly merges the subsets of one font).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import Diagnostic
from ..page_starts import PageStart
from ..pdf import PdfOptions, SheetEdits


@dataclass(frozen=True)
class RunRequest:
    """What a worker is given: one run's document and how to lay it out."""

    name: str
    html: str
    base_dir: str
    styles_dir: str
    options: PdfOptions
    edits: SheetEdits
    identifier: str
    fonts_dir: str  # where the original files of the fonts it uses are kept, by digest

    def as_message(self) -> dict[str, Any]:
        return {"kind": "run", "run": self}


@dataclass(frozen=True)
class RunOutput:
    """A laid-out and written run, without its WeasyPrint document."""

    pdf: bytes
    page_count: int
    anchors: dict[str, int]  # anchor id -> 1-based page inside the run
    starts: tuple[PageStart, ...]  # pages inside the run that begin inside a block
    page_kinds: tuple[str, ...]  # per page: the named page ("" for none), "blank" for a blank page
    warnings: tuple[Diagnostic, ...]
    fonts: dict[str, str]  # BaseFont as written (no slash) -> "digest:face index" of the original font file
    cpu_s: float
    wall_s: float


def lay_out_run(message: dict[str, Any]) -> RunOutput:
    """Lay out and write the run of a ``RunRequest.as_message()``."""
    from .. import pdf
    from ..layout import located
    from ..page_starts import page_starts

    request: RunRequest = message["run"]
    wall, cpu = time.perf_counter(), time.process_time()
    root = Path(request.base_dir)
    laid_out = pdf.lay_out(
        request.html,
        base_dir=root,
        styles_dir=Path(request.styles_dir),
        options=request.options,
        edits=request.edits,
    )
    starts = tuple(page_starts(laid_out.document, laid_out.pages))
    kinds = tuple(_page_kind(page) for page in laid_out.document.pages)
    data = pdf.write(laid_out, identifier=request.identifier, options=request.options)  # adds its warnings
    fonts = _keep_fonts(laid_out.document, Path(request.fonts_dir))
    return RunOutput(
        data,
        laid_out.page_count,
        dict(laid_out.pages),
        starts,
        kinds,
        located(laid_out.warnings, root),
        fonts,
        time.process_time() - cpu,
        time.perf_counter() - wall,
    )


def _page_kind(page: Any) -> str:
    """The named page of a laid-out page, or "blank" (WeasyPrint 70: Page._page_box.page_type)."""
    page_type = page._page_box.page_type
    return "blank" if page_type.blank else (page_type.name or "")


def _keep_fonts(document: Any, folder: Path) -> dict[str, str]:
    """BaseFont -> "digest:face index" of the font file each subset was made from, kept in ``folder``.

    WeasyPrint replaces a font's bytes by its subset when it writes; the HarfBuzz face it
    made them from still holds the original.
    """
    from .fonts import used_fonts

    found: dict[str, str] = {}
    for name, (digest, data, index) in used_fonts(document).items():
        found[name] = f"{digest}:{index}"
        target = folder / digest
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / f".{digest}.{os.getpid()}"
            partial.write_bytes(data)
            os.replace(partial, target)
    return found
