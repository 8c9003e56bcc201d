"""The floor: what laying out and writing the builder's own final HTML costs in WeasyPrint alone.

    python bench/floor.py dump DOSSIER WORK_DIR   # once, untimed: the builder's HTML and page CSS
    python bench/floor.py run WORK_DIR OUT.pdf     # timed: imports WeasyPrint only, lays out, writes

The timed process uses the same stylesheets, fonts, PDF variant, tags and identifier as
the builder, and WeasyPrint's own URL fetcher; nothing of `report` is imported.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def dump(dossier: Path, work: Path) -> None:
    """Write the builder's final PDF HTML and the settings the floor needs into ``work``."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import hashlib
    import os

    from report.derive.book import derive_book
    from report.errors import Collector
    from report.pipeline import content_digest, styles_dir
    from report.render import Renderer, RenderSettings, fixed_timestamp
    from report.source.loader import load_dossier
    from report.writers.pdf import LAYOUT_SHEETS, PdfOptions, page_css

    collector = Collector()
    dossier_root = Path(dossier).resolve()
    loaded = load_dossier(dossier_root, collector)
    book = derive_book(loaded, collector)
    collector.raise_if_errors()
    styles = styles_dir()
    settings = RenderSettings(
        timestamp=fixed_timestamp(book.date, os.environ.get("SOURCE_DATE_EPOCH")),
        build_id=content_digest(dossier_root, styles)[:16],
    )
    work.mkdir(parents=True, exist_ok=True)
    (work / "document.html").write_text(Renderer(book, settings).pdf_document(), encoding="utf-8")
    (work / "floor.json").write_text(
        json.dumps(
            {
                "base_url": str(book.root) + "/",
                "print_css": str(styles / "print.css"),
                "layout_css": str(styles / LAYOUT_SHEETS[book.layout]),
                "page_css": page_css(PdfOptions(layout=book.layout)),
                "variant": PdfOptions().variant,
                "identifier": hashlib.md5(book.identifier.encode()).hexdigest(),
            }
        ),
        encoding="utf-8",
    )


def _memoise_page_references() -> None:
    """The builder's PDF engine caches pydyf's page references (a quadratic); so does the floor."""
    if os.environ.get("FLOOR_UNPATCHED"):
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from report.writers.pdf_engine import _memoise_page_references as memoise

    memoise()


def run(work: Path, out: Path) -> None:
    """Lay out and write the dumped HTML with WeasyPrint, as the builder drives it."""
    import gc

    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    # as the builder's PDF engine does: the floor is the best WeasyPrint can do, not a straw man
    gc.freeze()
    gc.disable()
    _memoise_page_references()
    settings = json.loads((work / "floor.json").read_text(encoding="utf-8"))
    fonts = FontConfiguration()
    stylesheets = [
        CSS(filename=settings["print_css"], font_config=fonts),
        CSS(filename=settings["layout_css"], font_config=fonts),
        CSS(string=settings["page_css"], font_config=fonts),
    ]
    html = (work / "document.html").read_text(encoding="utf-8")
    document = HTML(string=html, base_url=settings["base_url"]).render(
        stylesheets=stylesheets, font_config=fonts, pdf_variant=settings["variant"], pdf_tags=True
    )
    data = document.write_pdf(pdf_identifier=settings["identifier"].encode(), pdf_variant=settings["variant"])
    out.write_bytes(data)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "dump":
        dump(Path(rest[0]), Path(rest[1]))
    elif command == "run":
        run(Path(rest[0]), Path(rest[1]))
    else:
        raise SystemExit(__doc__)
