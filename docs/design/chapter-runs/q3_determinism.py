"""Q3: are the runs and the assembly byte-identical across processes and repeats?

Usage: python q3_determinism.py data/d30-briefing.html /tmp/spike16/d30-briefing
Lays every run of OUTDIR/summary.json out again in a fresh spawned process each, compares the
bytes with OUTDIR/run-*.pdf (laid out by q1_split.py in one process after the single pass),
then assembles twice and compares.
"""

import hashlib
import json
import multiprocessing as mp
import sys
from pathlib import Path

import assemble
import runs
from q1_split import first_id, plan_runs


def main() -> None:
    source, outdir = Path(sys.argv[1]), Path(sys.argv[2])
    meta = json.loads(source.with_suffix(".json").read_text())
    summary = json.loads((outdir / "summary.json").read_text())
    parts = runs.split(source.read_text(encoding="utf-8"))
    import pikepdf

    single = pikepdf.open(outdir / "single.pdf")
    # the true pages again, from the single pass's named destinations
    names = pikepdf.NameTree(single.Root.Names.Dests)
    index = {p.objgen: i + 1 for i, p in enumerate(single.pages)}
    pages = {k: index[v[0].objgen] for k, v in names.items()}
    total = len(single.pages)
    jobs = []
    for name, front, chapters, back in plan_runs(parts, len(summary["runs"]) - 2):
        start = pages[first_id(parts, front, chapters, back)]
        job = runs.single_pass_job(runs.run_html(parts, front, chapters, back, pages), meta, name)
        job["css"] = runs.run_css(
            parts, first_page=start, total=total, layout=meta["options"]["layout"], front=bool(front), literal=True
        )
        jobs.append(job)
    with mp.get_context("spawn").Pool(2, maxtasksperchild=1) as pool:
        results = pool.map(runs.lay_out_run, jobs, chunksize=1)
    same = {r["name"]: r["pdf"] == (outdir / f"run-{r['name']}.pdf").read_bytes() for r in results}
    paths = [outdir / f"run-{r['name']}.pdf" for r in summary["runs"]]
    starts = [r["start"] for r in summary["runs"]]
    digests = []
    for i in range(2):
        target = Path(f"/tmp/spike16/det-{i}.pdf")
        assemble.assemble(paths, starts, target, merge_fonts=True)
        digests.append(hashlib.sha256(target.read_bytes()).hexdigest()[:16])
    print(
        json.dumps(
            {
                "runs_identical_in_fresh_processes": same,
                "assembly_digests": digests,
                "assembly_identical": digests[0] == digests[1],
            }
        )
    )


if __name__ == "__main__":
    main()
