"""Q3/Q4/Q5: assemble the run PDFs written by q1_split.py and check the result.

Usage: python q3_assemble.py /tmp/spike16/d30-briefing [--merge-fonts]
Reads OUTDIR/summary.json (run names and first pages), writes OUTDIR/merged.pdf (or
merged-fonts.pdf), then reports: pdfua findings (as tests/test_print.py runs it), pdfinfo's
Tagged/Pages, pdffonts (embedded, one row per font object), sizes, the text per page against
the single pass, every link annotation's target resolved to a page, and the bookmarks.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pikepdf

import assemble


def main() -> None:
    outdir = Path(sys.argv[1])
    merge = "--merge-fonts" in sys.argv
    summary = json.loads((outdir / "summary.json").read_text())
    paths = [outdir / f"run-{r['name']}.pdf" for r in summary["runs"]]
    starts = [r["start"] for r in summary["runs"]]
    target = outdir / ("merged-fonts.pdf" if merge else "merged.pdf")
    t0 = time.perf_counter()
    info = assemble.assemble(paths, starts, target, merge_fonts=merge)
    info["assemble_s"] = round(time.perf_counter() - t0, 3)

    from pdfua import validate

    report = validate(str(target))
    info["pdfua_findings"] = [(f.rule_id, f.message) for f in report.findings][:10]
    info["pdfua_exit"] = report.exit_code
    single = validate(str(outdir / "single.pdf"))
    info["pdfua_single_findings"] = [(f.rule_id, f.message) for f in single.findings][:10]
    pdfinfo = subprocess.run(["pdfinfo", str(target)], capture_output=True, text=True).stdout
    info["pdfinfo"] = [l for l in pdfinfo.splitlines() if l.split(":")[0] in ("Tagged", "Pages", "PDF version")]
    fonts = subprocess.run(["pdffonts", str(target)], capture_output=True, text=True).stdout.splitlines()[2:]
    info["pdffonts_rows"] = len(fonts)
    info["pdffonts_not_embedded"] = [f for f in fonts if f.split()[-5] != "yes"]
    info["pdffonts_names"] = sorted({f.split()[0] for f in fonts})
    single_fonts = subprocess.run(["pdffonts", str(outdir / "single.pdf")], capture_output=True, text=True).stdout
    info["pdffonts_rows_single"] = len(single_fonts.splitlines()[2:])
    info["size_single"] = (outdir / "single.pdf").stat().st_size
    info["size_runs_sum"] = sum(p.stat().st_size for p in paths)
    info["size_merged"] = target.stat().st_size

    def texts(p):
        return subprocess.run(["pdftotext", "-layout", str(p), "-"], capture_output=True, text=True).stdout.split("\f")

    info["text_pages_differing"] = [
        i + 1 for i, (a, b) in enumerate(zip(texts(outdir / "single.pdf"), texts(target))) if a != b
    ]

    def links(p):
        pdf = pikepdf.open(p)
        names = pikepdf.NameTree(pdf.Root.Names.Dests)
        index = {page.objgen: i + 1 for i, page in enumerate(pdf.pages)}
        found, broken = [], 0
        for number, page in enumerate(pdf.pages, start=1):
            for annot in page.obj.get("/Annots", []):
                dest = annot.get("/Dest")
                if dest is None:
                    continue
                name = str(dest)
                if name not in names:
                    broken += 1
                    continue
                found.append((number, name, index[names[name][0].objgen]))
        outline = []
        with pdf.open_outline() as o:

            def walk(items, level):
                for item in items:
                    outline.append(
                        (level, item.title[:30], index.get(item.destination[0].objgen) if item.destination else None)
                    )
                    walk(item.children, level + 1)

            walk(o.root, 0)
        return found, broken, outline

    a, broken_a, out_a = links(outdir / "single.pdf")
    b, broken_b, out_b = links(target)
    info["links_single"], info["links_merged"], info["links_broken_merged"] = len(a), len(b), broken_b
    info["links_equal_to_single"] = a == b
    info["bookmarks_equal_to_single"] = out_a == out_b
    info["bookmarks"] = len(out_b)
    print(json.dumps(info, indent=1, default=str))
    (outdir / ("q3-fonts.json" if merge else "q3.json")).write_text(json.dumps(info, indent=1, default=str))


if __name__ == "__main__":
    main()
