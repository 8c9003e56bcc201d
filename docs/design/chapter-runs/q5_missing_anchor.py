"""Q5: what WeasyPrint 70 does with internal links whose anchor is in another run.

Usage: python q5_missing_anchor.py data/d30-briefing.html
Lays the front matter out twice: hrefs left as "#id" (targets in other runs), and rewritten to
"report-run:id" (runs.run_html). Counts the logged messages, link annotations and Link
structure elements of each.
"""

import json
import sys
from pathlib import Path

import pikepdf

import runs


def count(pdf_bytes: bytes) -> dict:
    import io

    pdf = pikepdf.open(io.BytesIO(pdf_bytes))
    annots = sum(len(p.obj.get("/Annots", [])) for p in pdf.pages)
    links = 0

    def walk(e):
        nonlocal links
        if str(e.get("/S")) == "/Link":
            links += 1
        kids = e.get("/K")
        for k in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
            if isinstance(k, pikepdf.Dictionary) and "/S" in k:
                walk(k)

    for top in pdf.Root.StructTreeRoot.K:
        walk(top)
    return {"annotations": annots, "link_elements": links}


def main() -> None:
    source = Path(sys.argv[1])
    meta = json.loads(source.with_suffix(".json").read_text())
    parts = runs.split(source.read_text(encoding="utf-8"))
    out = {}
    for label, pages in (
        ("hash_hrefs", None),
        ("report_run_hrefs", {}),
    ):
        job = runs.single_pass_job(runs.run_html(parts, parts.front, [], [], pages), meta, label)
        job["css"] = runs.run_css(
            parts, first_page=1, total=99, layout="briefing", front=True, literal=pages is not None
        )
        r = runs.lay_out_run(job)
        out[label] = count(r["pdf"]) | {"messages": len(r["warnings"]), "first_message": r["warnings"][:1]}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
