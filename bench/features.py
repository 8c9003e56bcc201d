"""What each feature of the print edition costs per page (issue 16, part 5).

The builder's one-pass PDF HTML of a generated dossier is laid out and written by WeasyPrint
with one feature taken away at a time, each in a fresh process (so no variant warms another),
in rounds; the table gives the median CPU seconds and the difference to the full document:

- tags: the PDF/UA structure tree (pdf_tags, the variant none);
- page references: target-counter() in the contents and the indexes, against literal numbers;
- footnotes: notes at the foot of the page (float: footnote) against notes left in the flow;
- hyphenation: hyphens: auto against manual;
- shipped fonts: Charis and Inter (OpenType, subset and embedded) against the DejaVu fonts fontconfig
  finds first for serif and sans-serif.

    python bench/features.py --chapters 100 --rounds 3

Prints a Markdown table (and --json FILE writes the numbers); BENCHMARKS.md keeps the last one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VARIANTS = {
    "full": "everything the builder uses",
    "no-tags": "no PDF/UA tags",
    "no-page-references": "literal numbers for target-counter()",
    "no-footnotes": "notes in the flow, not at the foot of the page",
    "no-hyphenation": "hyphens: manual",
    "no-shipped-fonts": "fontconfig's serif and sans-serif instead of Charis and Inter",
}


def _html(chapters: int, folder: Path) -> tuple[str, Path]:
    sys.path.insert(0, str(REPO))
    from report.pipeline import check
    from report.render import Renderer, RenderSettings, fixed_timestamp
    from tests.support import synthetic

    root = synthetic.write_dossier(folder / "dossier", chapters)
    _, book = check(root)
    assert book is not None
    settings = RenderSettings(timestamp=fixed_timestamp(book.date, None), build_id="0" * 16, layout="briefing")
    return Renderer(book, settings).pdf_document(), root


def _one(variant: str, html_file: Path, root: Path) -> dict[str, float]:
    """Lay out and write one variant in this process."""
    import gc

    sys.path.insert(0, str(REPO))
    from report.pipeline import styles_dir
    from report.writers import pdf
    from report.writers.pdf_engine import _memoise_page_references

    _memoise_page_references()
    gc.freeze()
    gc.disable()  # as the engine process does
    html = html_file.read_text(encoding="utf-8")
    options = pdf.PdfOptions(layout="briefing", variant="none" if variant == "no-tags" else "pdf/ua-1")
    replace: tuple[tuple[str, str], ...] = ()
    extra = ""
    if variant == "no-page-references":
        replace = (("target-counter(attr(href url), page)", '"0"'),)
    elif variant == "no-footnotes":
        extra = ".footnote { float: none !important; }"
    elif variant == "no-hyphenation":
        extra = "* { hyphens: manual !important; }"
    elif variant == "no-shipped-fonts":
        replace = (('"Charis SIL"', "serif"), ('"Inter"', "sans-serif"), ("@import url(fonts.css);", ""))
    edits = pdf.SheetEdits(replace=replace, extra=extra) if (replace or extra) else None
    cpu, wall = time.process_time(), time.perf_counter()
    laid = pdf.lay_out(html, base_dir=root, styles_dir=styles_dir(), options=options, edits=edits)
    layout_cpu = time.process_time() - cpu
    pdf.write(laid, identifier="bench", options=options)
    return {
        "cpu": time.process_time() - cpu,
        "layout_cpu": layout_cpu,
        "wall": time.perf_counter() - wall,
        "pages": laid.page_count,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--one", nargs=3, metavar=("VARIANT", "HTML", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one[0], Path(args.one[1]), Path(args.one[2]))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        html, root = _html(args.chapters, Path(tmp))
        html_file = Path(tmp) / "book.html"
        html_file.write_text(html, encoding="utf-8")
        samples: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
        for round_number in range(args.rounds):
            order = list(VARIANTS)[round_number % len(VARIANTS) :] + list(VARIANTS)[: round_number % len(VARIANTS)]
            for variant in order:
                out = subprocess.run(
                    [sys.executable, __file__, "--one", variant, str(html_file), str(root)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                samples[variant].append(json.loads(out.strip().splitlines()[-1]))
    medians = {
        v: {k: statistics.median(s[k] for s in runs) for k in ("cpu", "layout_cpu", "wall", "pages")}
        for v, runs in samples.items()
    }
    full = medians["full"]
    lines = [
        f"Feature costs: the one-pass PDF of {args.chapters} generated chapters, laid out and written by WeasyPrint "
        f"alone in a fresh process per variant, {args.rounds} rounds, medians of CPU seconds.",
        "",
        "| variant | pages | CPU | of which layout | ms per page | cost of the feature |",
        "|---|---|---|---|---|---|",
    ]
    for variant, m in medians.items():
        cost = (
            ""
            if variant == "full"
            else f"{full['cpu'] - m['cpu']:+.2f} s ({(full['cpu'] - m['cpu']) / full['cpu']:+.0%})"
        )
        lines.append(
            f"| {variant}: {VARIANTS[variant]} | {m['pages']:.0f} | {m['cpu']:.2f} s | {m['layout_cpu']:.2f} s | "
            f"{1000 * m['cpu'] / m['pages']:.0f} | {cost} |"
        )
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(medians, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
