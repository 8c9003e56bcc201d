"""Q6: the PyPI `typst` package on comparable content, for a side-by-side number.

Usage: python q6_typst.py data/d100-briefing.html
Turns the builder's PDF HTML into Typst markup (no Pandoc): cover title, an outline (contents
with page numbers, Typst's own), each chapter's h1/h2/h3, paragraphs, block quotes and list
items, footnotes as #footnote, then the timeline and quote index as plain text; fonts Charis SIL
and Inter from the repository's styles/fonts, A4, the same margins, justified and hyphenated,
page "x of y" in the footer. Compiles 3 times in one process (typst.compile, fresh each time),
prints the wall times, pages and peak RSS. This is comparable content, not the same document:
no tags (Typst 0.15 writes no PDF/UA unless asked), no running heads by chapter.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lxml.html
import typst

FONTS = "/work/main/styles/fonts"
_SPECIAL = re.compile(r"([\\#$*_`<>@\[\]=~/'\"+-])")


def esc(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def inline(element) -> str:
    out = [esc(element.text or "")]
    for child in element:
        cls = child.get("class") or ""
        if child.tag == "span" and "footnote" in cls:
            out.append(f"#footnote[{inline(child)}]")
        elif child.tag in ("em", "i"):
            out.append(f"#emph[{inline(child)}]")
        elif child.tag in ("strong", "b"):
            out.append(f"#strong[{inline(child)}]")
        else:
            out.append(inline(child))
        out.append(esc(child.tail or ""))
    return "".join(out)


def blocks(element, out: list[str]) -> None:
    for child in element:
        tag = child.tag
        if tag == "h1":
            out.append(f"#pagebreak(weak: true)\n= {inline(child)}\n")
        elif tag in ("h2", "h3", "h4"):
            out.append("=" * int(tag[1]) + f" {inline(child)}\n")
        elif tag == "p":
            out.append(inline(child) + "\n")
        elif tag == "blockquote":
            out.append(f"#quote(block: true)[{inline(child)}]\n")
        elif tag == "li":
            out.append(f"- {inline(child)}\n")
        elif tag in ("section", "div", "ol", "ul", "figure", "header", "aside", "dl", "dd", "dt", "nav"):
            blocks(child, out)
        out.append("\n")


def markup(html: str) -> str:
    root = lxml.html.document_fromstring(html)
    title = esc(root.findtext(".//title") or "")
    out = [
        '#set page(paper: "a4", margin: (top: 22mm, bottom: 26mm, x: 20mm), '
        "footer: context [#h(1fr) Seite #counter(page).display() von #counter(page).final().first()])",
        '#set text(font: "Charis SIL", size: 10.5pt, lang: "en", hyphenate: true)',
        "#set par(justify: true, leading: 0.65em)",
        '#show heading: set text(font: "Inter")',
        f"#align(center)[#text(size: 30pt)[{title}]]\n#pagebreak()\n#outline(depth: 1)\n",
    ]
    main = root.find(".//main")
    blocks(main, out)
    return "\n".join(out)


def main() -> None:
    source = Path(sys.argv[1])
    text = markup(source.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        typ = Path(tmp) / "doc.typ"
        typ.write_text(text, encoding="utf-8")
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            data = typst.compile(str(typ), font_paths=[FONTS])
            times.append(round(time.perf_counter() - t0, 3))
        pdf = Path(tmp) / "doc.pdf"
        pdf.write_bytes(data)
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    print(
        {
            "source": str(source),
            "typst": typst.__version__,
            "markup_chars": len(text),
            "compile_s": times,
            "pages": pages,
            "ms_per_page": round(1000 * min(times) / pages, 1),
            "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    )


if __name__ == "__main__":
    main()
