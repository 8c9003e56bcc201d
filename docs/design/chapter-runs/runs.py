"""Chapter runs: split the builder's single-pass PDF HTML and lay each run out as its own document.

Shared by the question scripts (q1_*.py, q3_*.py, q6_*.py). What it shows:
- split(): the PDF HTML is <head> + front matter (section.cover, section.key-points, nav.toc, the
  direct children of <body> before <main>) + chapters (main > section.chapter) + back matter
  (main > section.appendix: timeline, quote index, sources; section.imprint).
- run_html(): a run is the same <head> with a <body> holding only its parts (chapters and back
  matter inside <main>, as in the single pass). Page references (toc entries, a.pageref) get their
  number as a literal data-page attribute; links whose target is in another run get the href
  `report-run:ID`, which WeasyPrint turns into a URI link annotation (with its Link/OBJR
  structure element) that the assembly rewrites into a named destination.
- run_css(): the per-run user sheet, added after page_css(): the first page's folio
  (`@page :first { counter-increment: page N }`, N = first page number: WeasyPrint 70 drops the
  implicit +1 of a page whose rule touches the page counter, layout/page.py), the total as a
  literal instead of counter(pages), the running strings the cover sets (string-set on body),
  and literal numbers instead of target-counter().
- lay_out_run(): one run laid out and written by report.writers.pdf.lay_out()/write() (same CSS,
  same options) in whatever process calls it; returns bytes, page count, its anchors' pages,
  timings and peak RSS.
"""

from __future__ import annotations

import html as htmlmod
import re
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html

STYLES = Path("/work/main/styles")


@dataclass
class Parts:
    head: str
    html_attrs: dict
    front: list[str]  # serialised elements
    chapters: list[str]
    back: list[str]
    strings: dict  # running strings set by the cover
    chapter_ids: list[str]
    front_ids: list[str] = field(default_factory=list)
    back_ids: list[str] = field(default_factory=list)


def split(html: str) -> Parts:
    root = lxml.html.document_fromstring(html)
    head = lxml.html.tostring(root.find("head"), encoding="unicode")
    body = root.find("body")
    front, chapters, back, chapter_ids, front_ids, back_ids = [], [], [], [], [], []
    strings = {}
    for element in body:
        if element.tag == "main":
            for child in element:
                text = lxml.html.tostring(child, encoding="unicode")
                if "chapter" in (child.get("class") or "").split():
                    chapters.append(text)
                    chapter_ids.append(child.get("id"))
                else:
                    back.append(text)
                    back_ids.append(child.get("id"))
        else:
            if element.get("class") == "cover":
                strings = {
                    "dossier": element.get("data-running-title") or "",
                    "page-word": element.get("data-page-word") or "",
                    "page-of": element.get("data-page-of") or "",
                    "marking": element.get("data-marking") or "",
                    "classification": element.get("data-classification") or "",
                }
            front.append(lxml.html.tostring(element, encoding="unicode"))
            front_ids.append(element.get("id"))
    return Parts(head, dict(root.attrib), front, chapters, back, strings, chapter_ids, front_ids, back_ids)


_HREF = re.compile(r'href="#([^"]+)"')
_ID = re.compile(r'\bid="([^"]+)"')


def run_html(parts: Parts, front: list[str], chapters: list[str], back: list[str], pages: dict[str, int] | None) -> str:
    """One run's document. pages: anchor -> true page (None: keep target-counter, no rewrite)."""
    inner = "".join(front)
    if chapters or back:
        inner += "<main>" + "".join(chapters) + "".join(back) + "</main>"
    if pages is not None:
        own = set(_ID.findall(inner))

        def anchor(m: re.Match) -> str:
            target = m.group(1)
            number = pages.get(target, 0)
            href = f'href="#{target}"' if target in own else f'href="report-run:{target}"'
            return f'{href} data-page="{number}"'

        inner = _HREF.sub(anchor, inner)
    attrs = " ".join(f'{k}="{htmlmod.escape(v)}"' for k, v in parts.html_attrs.items())
    return f"<!DOCTYPE html>\n<html {attrs}>\n{parts.head}\n<body>{inner}</body></html>"


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_css(parts: Parts, *, first_page: int, total: int, layout: str, front: bool, literal: bool) -> str:
    rules = []
    if first_page != 1:
        rules.append(f"@page :first {{ counter-increment: page {first_page}; }}")
    if not front:  # the cover sets these strings in the single pass
        sets = ", ".join(f"{k} {_css_string(v)}" for k, v in parts.strings.items())
        rules.append(f"body {{ string-set: {sets}; }}")
    if layout == "briefing":
        rules.append(
            '@page { @bottom-right { content: string(page-word) " " counter(page) " " string(page-of) '
            f'" {total}"; }} }}'
        )
    if literal:
        rules.append('.toc a::after { content: leader(". ") attr(data-page); }')
        rules.append("a.pageref::after { content: attr(data-page); }")
    return "\n".join(rules)


def lay_out_run(job: dict) -> dict:
    """job: html, css, options (dict), root, identifier. Runs in the calling process."""
    t0 = time.perf_counter()
    from report.writers import pdf as pdfmod

    t_import = time.perf_counter() - t0
    options = pdfmod.PdfOptions(**job["options"])
    original = pdfmod.page_css
    pdfmod.page_css = lambda o: original(o) + "\n" + job["css"]
    try:
        c1 = time.process_time()
        t1 = time.perf_counter()
        laid = pdfmod.lay_out(job["html"], base_dir=Path(job["root"]), styles_dir=STYLES, options=options)
        t2 = time.perf_counter()
        data = pdfmod.write(laid, identifier=job["identifier"], options=options)
        t3 = time.perf_counter()
        c3 = time.process_time()
    finally:
        pdfmod.page_css = original
    return {
        "name": job.get("name", ""),
        "pdf": data,
        "pages": laid.page_count,
        "anchors": laid.pages,
        "warnings": laid.warnings,
        "import_s": t_import,
        "layout_s": t2 - t1,
        "write_s": t3 - t2,
        "cpu_s": c3 - c1,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def single_pass_job(html: str, meta: dict, name: str = "single") -> dict:
    return {
        "name": name,
        "html": html,
        "css": "",
        "options": meta["options"],
        "root": meta["root"],
        "identifier": meta["identifier"],
    }
