"""Q1 (start page unknown before layout): cost of laying out the folios alone, for stamping.

Usage: python q1_folios.py data/d100-briefing.html
A run's first page number depends on the page counts of every run before it, and "von y" on all
of them: parallel runs cannot know them when they start. Only the margin boxes depend on them
(the folio and the total; the running heads are run-local). This lays out a document of P empty
pages with the same sheets and the true total, whose pages carry only the page furniture, to
see what a serial "folio layer" pass would cost (it would be overlaid on the runs' pages as
artifacts, the runs laid out with the folio boxes empty).
"""

import json
import sys
from pathlib import Path

import runs


def main() -> None:
    source = Path(sys.argv[1])
    meta = json.loads(source.with_suffix(".json").read_text())
    layout = meta["options"]["layout"]
    parts = runs.split(source.read_text(encoding="utf-8"))
    runs.lay_out_run(runs.single_pass_job(runs.run_html(parts, [], [parts.chapters[0]], [], None), meta))  # warm
    out = {}
    for pages in (77, 244):
        body = '<div class="folio-page"></div>' + '<div class="folio-page" style="break-before: page"></div>' * (
            pages - 1
        )
        html = runs.run_html(parts, [body], [], [], None)
        job = runs.single_pass_job(html, meta, "folios")
        job["css"] = runs.run_css(parts, first_page=1, total=pages, layout=layout, front=False, literal=False)
        r = runs.lay_out_run(job)
        out[pages] = {
            "pages": r["pages"],
            "layout_s": round(r["layout_s"], 2),
            "write_s": round(r["write_s"], 2),
            "ms_per_page": round(1000 * (r["layout_s"] + r["write_s"]) / r["pages"], 1),
            "bytes": len(r["pdf"]),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
