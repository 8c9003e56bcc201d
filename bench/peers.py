"""The peers' PDF on the builder's content: Pandoc -> HTML -> WeasyPrint, and Pandoc -> Typst.

    python bench/peers.py weasyprint PANDOC IN.md OUT.pdf   # pandoc to HTML, then `python -m weasyprint`
    python bench/peers.py typst PANDOC IN.md OUT.pdf        # pandoc to Typst markup, then typst.compile

One process each, measured whole by bench/run.py (Pandoc and WeasyPrint run as its
children). Both are set up alike and like the builder's print sheet where a user would
say so in a line: A4, the builder's margins, Charis SIL 10.5 pt with Inter headings from
styles/fonts, justified and hyphenated, a contents of the chapters, every chapter on a new
page, "x of y" at the foot. Nothing more: no running heads, no page numbers in the
contents of the WeasyPrint peer, Pandoc's footnotes at the end in its HTML, no PDF/UA
(Typst tags its PDF by default). Prints the seconds of each step as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FONTS = Path(__file__).resolve().parent.parent / "styles" / "fonts"

_FACES = [
    ("Charis SIL", "CharisSIL-Regular.ttf", 400, "normal"),
    ("Charis SIL", "CharisSIL-Italic.ttf", 400, "italic"),
    ("Charis SIL", "CharisSIL-Bold.ttf", 700, "normal"),
    ("Charis SIL", "CharisSIL-BoldItalic.ttf", 700, "italic"),
    ("Inter", "Inter-Regular.otf", 400, "normal"),
    ("Inter", "Inter-Italic.otf", 400, "italic"),
    ("Inter", "Inter-SemiBold.otf", 600, "normal"),
    ("Inter", "Inter-Bold.otf", 700, "normal"),
]

WEASYPRINT_CSS = "".join(
    f'@font-face {{ font-family: "{family}"; src: url("{(FONTS / file).as_uri()}"); '
    f"font-weight: {weight}; font-style: {style}; }}\n"
    for family, file, weight, style in _FACES
) + (
    "@page { size: A4; margin: 22mm 20mm 26mm 20mm;\n"
    '  @bottom-right { content: counter(page) " of " counter(pages); font: 8pt "Inter", sans-serif; } }\n'
    'html { font-family: "Charis SIL", serif; font-size: 10.5pt; line-height: 1.45; }\n'
    "body { margin: 0; }\n"
    "p { margin: 0 0 .45em; text-align: justify; hyphens: auto; }\n"
    'h1, h2, h3 { font-family: "Inter", sans-serif; font-weight: 600; line-height: 1.2; }\n'
    "h1 { font-size: 20pt; margin: 18mm 0 10mm; break-before: page; }\n"
    "blockquote { margin: .8em 1.5em; }\n"
)

# before pandoc's `#show: doc => conf(...)`, so they hold for the whole document
TYPST_HEADER = (
    '#show heading: set text(font: "Inter", weight: "semibold")\n'
    "#show heading.where(level: 1): it => { pagebreak(weak: true); it }\n"
    "#set par(justify: true)\n"
    "#set text(hyphenate: true)\n"
)
TYPST_META = (
    "papersize: a4\n"
    'mainfont: "Charis SIL"\n'
    "fontsize: 10.5pt\n"
    'page-numbering: "1 of 1"\n'
    "margin:\n  x: 20mm\n  top: 22mm\n  bottom: 26mm\n"
)


def _pandoc(pandoc: str, source: Path, target: Path, *options: str) -> float:
    start = time.perf_counter()
    subprocess.run([pandoc, str(source), "-s", "--toc", "--toc-depth=1", "-o", str(target), *options], check=True)
    return time.perf_counter() - start


def weasyprint(pandoc: str, source: Path, out: Path) -> dict[str, float]:
    """Pandoc's standalone HTML with the sheet above, then WeasyPrint's own command line."""
    with tempfile.TemporaryDirectory() as scratch:
        css = Path(scratch) / "print.css"
        css.write_text(WEASYPRINT_CSS, encoding="utf-8")
        html = Path(scratch) / "book.html"
        convert = _pandoc(pandoc, source, html, "--to", "html5", "--css", css.as_uri())
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "weasyprint", str(html), str(out)], check=True)
        return {"convert_s": convert, "pdf_s": time.perf_counter() - start}


def typst(pandoc: str, source: Path, out: Path) -> dict[str, float]:
    """Pandoc's Typst markup with the settings above, then the `typst` package's compiler."""
    with tempfile.TemporaryDirectory() as scratch:
        header = Path(scratch) / "header.typ"
        header.write_text(TYPST_HEADER, encoding="utf-8")
        meta = Path(scratch) / "meta.yaml"
        meta.write_text(TYPST_META, encoding="utf-8")
        markup = Path(scratch) / "book.typ"
        convert = _pandoc(pandoc, source, markup, "--to", "typst", "-H", str(header), "--metadata-file", str(meta))
        start = time.perf_counter()
        import typst as compiler  # timed: the import is part of the compiler's cost

        compiler.compile(str(markup), output=str(out), font_paths=[str(FONTS)])
        return {"convert_s": convert, "pdf_s": time.perf_counter() - start}


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in ("weasyprint", "typst"):
        raise SystemExit(__doc__)
    tool, pandoc_path, markdown, pdf = sys.argv[1:]
    step = weasyprint if tool == "weasyprint" else typst
    print(json.dumps(step(pandoc_path, Path(markdown), Path(pdf))))
