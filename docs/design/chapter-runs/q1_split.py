"""Q1/Q2: lay a dossier out as runs (front, R chapter runs, back) and compare with the single pass.

Usage: python q1_split.py data/d30-briefing.html [RUNS] [OUTDIR]
(the .json beside the HTML comes from dump_html.py; its layout option picks briefing or book).

The runs get their first page number and the total from the single pass (the question here is
whether a run lays out like the same pages of the single pass, not how to learn the numbers).
Runs are concatenated page by page with pikepdf (no structure merge: that is q3_assemble.py);
in the book layout a blank page is put between runs where the single pass has one. Then:
pdftotext per page and pdftoppm -r 60 PNGs of both PDFs are compared page by page.
Prints a JSON summary; writes OUTDIR/single.pdf, OUTDIR/run-*.pdf, OUTDIR/concat.pdf.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pikepdf
from PIL import Image, ImageChops

import runs


def chunks(items: list, count: int) -> list[list]:
    size, extra = divmod(len(items), count)
    out, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return [c for c in out if c]


def plan_runs(parts: runs.Parts, count: int) -> list[tuple[str, list, list, list]]:
    """(name, front, chapters, back) for each run, in page order."""
    indices = list(range(len(parts.chapters)))
    plan = [("front", parts.front, [], [])]
    for i, group in enumerate(chunks(indices, count)):
        plan.append((f"ch{i + 1}", [], [parts.chapters[j] for j in group], []))
    plan.append(("back", [], [], parts.back))
    return plan


def first_id(parts: runs.Parts, front: list, chapters: list, back: list) -> str:
    import re

    text = (front or chapters or back)[0]
    return re.search(r'\bid="([^"]+)"', text).group(1)


def page_texts(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


def pngs(pdf: Path, prefix: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(prefix)], check=True)
    return sorted(prefix.parent.glob(prefix.name + "-*.png"))


def main() -> None:
    source = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    outdir = Path(sys.argv[3]) if len(sys.argv) > 3 else Path("/tmp/spike16") / source.stem
    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.glob("*"):
        old.unlink()
    meta = json.loads(source.with_suffix(".json").read_text())
    layout = meta["options"]["layout"]
    html = source.read_text(encoding="utf-8")
    parts = runs.split(html)

    single = runs.lay_out_run(runs.single_pass_job(html, meta))
    (outdir / "single.pdf").write_bytes(single["pdf"])
    pages, total = single["anchors"], single["pages"]

    results = []
    for name, front, chapters, back in plan_runs(parts, count):
        start = pages[first_id(parts, front, chapters, back)]
        job = runs.single_pass_job(runs.run_html(parts, front, chapters, back, pages), meta, name)
        job["css"] = runs.run_css(parts, first_page=start, total=total, layout=layout, front=bool(front), literal=True)
        result = runs.lay_out_run(job)
        result["start"] = start
        (outdir / f"run-{name}.pdf").write_bytes(result["pdf"])
        results.append(result)

    concat = pikepdf.new()
    blanks = []
    for result in results:
        src = pikepdf.open(outdir / f"run-{result['name']}.pdf")
        while len(concat.pages) + 1 < result["start"]:  # the single pass has a blank page here
            box = src.pages[0].mediabox
            concat.add_blank_page(page_size=(float(box[2]), float(box[3])))
            blanks.append(len(concat.pages))
        concat.pages.extend(src.pages)
    concat.save(outdir / "concat.pdf")

    texts_a, texts_b = page_texts(outdir / "single.pdf"), page_texts(outdir / "concat.pdf")
    text_diff = [i + 1 for i, (a, b) in enumerate(zip(texts_a, texts_b)) if a != b]
    png_a, png_b = pngs(outdir / "single.pdf", outdir / "s"), pngs(outdir / "concat.pdf", outdir / "c")
    png_diff = []
    for i, (a, b) in enumerate(zip(png_a, png_b)):
        diff = ImageChops.difference(Image.open(a).convert("RGB"), Image.open(b).convert("RGB"))
        if diff.getbbox() is not None:
            png_diff.append((i + 1, diff.getbbox()))
    summary = {
        "layout": layout,
        "single_pages": total,
        "concat_pages": len(concat.pages),
        "blank_pages_inserted": blanks,
        "runs": [
            {k: r[k] for k in ("name", "start", "pages", "layout_s", "write_s")}
            | {"errors": [w for w in r["warnings"] if "anchor" in w.lower()][:3]}
            for r in results
        ],
        "single_layout_s": single["layout_s"],
        "single_write_s": single["write_s"],
        "text_pages_differing": text_diff,
        "png_pages_differing": png_diff[:20],
        "png_pages_differing_count": len(png_diff),
    }
    print(json.dumps(summary, indent=1))
    (outdir / "summary.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
