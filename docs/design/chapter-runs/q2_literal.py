"""Q2: page numbers as literals instead of target-counter(), and what the back matter costs.

Usage: python q2_literal.py data/d100-briefing.html
1. the single pass as today (target-counter in contents, timeline, quote index);
2. the same whole document with every page reference a literal (runs.run_html with the true
   pages, .toc a::after / a.pageref::after reading attr(data-page)): same pages? time saved?
3. the front matter alone with the numbers 0, the true ones and 99999: is its page count stable?
4. each back-matter part alone (timeline, quote index, sources, imprint) with literal numbers:
   what each costs (the back matter is the serial tail of the run design).
All in this one process, one after another (warm after the first).
"""

import json
import sys
from pathlib import Path

import runs


def main() -> None:
    source = Path(sys.argv[1])
    meta = json.loads(source.with_suffix(".json").read_text())
    layout = meta["options"]["layout"]
    html = source.read_text(encoding="utf-8")
    parts = runs.split(html)
    runs.lay_out_run(runs.single_pass_job(runs.run_html(parts, [], [parts.chapters[0]], [], None), meta))  # warm

    today = runs.lay_out_run(runs.single_pass_job(html, meta))
    pages, total = today["anchors"], today["pages"]
    whole = runs.single_pass_job(runs.run_html(parts, parts.front, parts.chapters, parts.back, pages), meta)
    whole["css"] = runs.run_css(parts, first_page=1, total=total, layout=layout, front=True, literal=True)
    literal = runs.lay_out_run(whole)
    same_anchors = literal["anchors"] == pages

    fronts = {}
    for label, numbers in (("zeros", {k: 0 for k in pages}), ("true", pages), ("99999", {k: 99999 for k in pages})):
        job = runs.single_pass_job(runs.run_html(parts, parts.front, [], [], numbers), meta, "front")
        job["css"] = runs.run_css(parts, first_page=1, total=total, layout=layout, front=True, literal=True)
        r = runs.lay_out_run(job)
        fronts[label] = {"pages": r["pages"], "layout_s": round(r["layout_s"], 3)}

    back = {}
    for part, anchor in zip(parts.back, parts.back_ids):
        job = runs.single_pass_job(runs.run_html(parts, [], [], [part], pages), meta, anchor)
        job["css"] = runs.run_css(
            parts, first_page=pages[anchor], total=total, layout=layout, front=False, literal=True
        )
        r = runs.lay_out_run(job)
        back[anchor] = {
            "pages": r["pages"],
            "layout_s": round(r["layout_s"], 2),
            "write_s": round(r["write_s"], 2),
            "links": part.count('href="#'),
            "chars": len(part),
        }

    print(
        json.dumps(
            {
                "source": str(source),
                "pages": total,
                "today_target_counter": {
                    "layout_s": round(today["layout_s"], 2),
                    "write_s": round(today["write_s"], 2),
                },
                "literal_numbers": {
                    "layout_s": round(literal["layout_s"], 2),
                    "write_s": round(literal["write_s"], 2),
                    "pages": literal["pages"],
                    "every_anchor_on_the_same_page": same_anchors,
                },
                "front_matter_pages_by_numbers": fronts,
                "back_matter_parts": back,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
