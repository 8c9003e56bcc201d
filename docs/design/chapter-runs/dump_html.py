"""Capture the single-pass PDF HTML and PdfOptions the builder hands to WeasyPrint.

Usage: python dump_html.py DOSSIER OUT.html [briefing|book]
Runs report.pipeline.build in-process (no engine) with LocalSource patched to save its HTML,
then stops before layout. Writes OUT.html and OUT.html.json (options, base dir, styles dir).
"""

import json
import sys
from dataclasses import asdict
from pathlib import Path

from report import pipeline
from report.options import BuildOptions
from report.writers import layout as layout_mod
from report.writers.pdf import PdfOptions


class _Got(Exception):
    pass


def main() -> None:
    dossier, out = Path(sys.argv[1]), Path(sys.argv[2])
    lay = sys.argv[3] if len(sys.argv) > 3 else ""

    def init(self, html, *, root, styles_dir, options, identifier):
        out.write_text(html, encoding="utf-8")
        out.with_suffix(".json").write_text(
            json.dumps(
                {"root": str(root), "styles": str(styles_dir), "options": asdict(options), "identifier": identifier}
            )
        )
        raise _Got

    layout_mod.LocalSource.__init__ = init
    opts = BuildOptions(
        out_dir=Path("/tmp/spike16-out"), formats=("pdf",), force=True, parallel=False, pdf=PdfOptions(layout=lay)
    )
    try:
        pipeline.build(dossier, opts)
    except _Got:
        print("wrote", out)


if __name__ == "__main__":
    main()
