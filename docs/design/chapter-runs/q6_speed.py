"""Q6: wall time of the single pass against runs in W worker processes plus assembly.

Usage: python q6_speed.py data/d100-briefing.html [WORKERS] [CHAPTER_RUNS]
- single: one spawned process laying out + writing the builder's HTML (as pdf_engine does);
- runs: a spawn Pool of WORKERS processes (started first, WeasyPrint imported in each, as the
  engine is started early today); phase A the CHAPTER_RUNS chapter runs (largest first), phase B
  front and back matter (their page numbers need the chapters' page counts), then the assembly
  (assemble.py with merged fonts) in the parent. The first page numbers come from the single
  pass here (see chapter-runs.md: the real design must learn them without it).
Prints per-run layout/write seconds, peak RSS per worker, the phase times and a projection
T(c) = spawn + sum(chapter runs)/c (bounded below by the largest run) + max(front, back) + assembly.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import runs
from q1_split import chunks, first_id


def _warm(job: dict) -> int:
    """Import WeasyPrint and lay out a one-paragraph document with the same sheets (fonts, hyphenation loaded)."""
    runs.lay_out_run(job)
    return os.getpid()


def _job(job: dict) -> dict:
    result = runs.lay_out_run(job)
    result["pid"] = os.getpid()
    return result


def main() -> None:
    source = Path(sys.argv[1])
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    count = int(sys.argv[3]) if len(sys.argv) > 3 else workers
    meta = json.loads(source.with_suffix(".json").read_text())
    layout = meta["options"]["layout"]
    html = source.read_text(encoding="utf-8")
    parts = runs.split(html)
    ctx = mp.get_context("spawn")

    t0 = time.perf_counter()
    with ctx.Pool(1) as pool:
        single = pool.apply(_job, (runs.single_pass_job(html, meta),))
    single_wall = time.perf_counter() - t0
    pages, total = single["anchors"], single["pages"]

    def job(name, front, chapters, back):
        start = pages[first_id(parts, front, chapters, back)]
        j = runs.single_pass_job(runs.run_html(parts, front, chapters, back, pages), meta, name)
        j["css"] = runs.run_css(parts, first_page=start, total=total, layout=layout, front=bool(front), literal=True)
        j["start"] = start
        return j

    warm = runs.single_pass_job(
        runs.run_html(parts, [], [parts.chapters[0][:1500] + "</section>"], [], pages), meta, "warm"
    )
    groups = chunks(list(range(len(parts.chapters))), count)
    chapter_jobs = [job(f"ch{i + 1}", [], [parts.chapters[k] for k in g], []) for i, g in enumerate(groups)]
    edge_jobs = [job("front", parts.front, [], []), job("back", [], [], parts.back)]

    t0 = time.perf_counter()
    with ctx.Pool(workers) as pool:
        pool.map(_warm, [warm] * workers, chunksize=1)
        t_spawn = time.perf_counter() - t0
        ta = time.perf_counter()
        order = sorted(chapter_jobs, key=lambda j: -len(j["html"]))
        chapter_results = pool.map(_job, order, chunksize=1)
        t_a = time.perf_counter() - ta
        tb = time.perf_counter()
        edge_results = pool.map(_job, edge_jobs, chunksize=1)
        t_b = time.perf_counter() - tb
    by_name = {r["name"]: r for r in chapter_results + edge_results}
    ordered = [by_name["front"]] + [by_name[j["name"]] for j in chapter_jobs] + [by_name["back"]]
    starts = [edge_jobs[0]["start"]] + [j["start"] for j in chapter_jobs] + [edge_jobs[1]["start"]]
    import assemble

    tc = time.perf_counter()
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        paths = []
        for r in ordered:
            p = Path(tmp) / f"{r['name']}.pdf"
            p.write_bytes(r["pdf"])
            paths.append(p)
        info = assemble.assemble(paths, starts, Path(tmp) / "merged.pdf", merge_fonts=True)
        merged_size = (Path(tmp) / "merged.pdf").stat().st_size
    t_c = time.perf_counter() - tc
    runs_wall = time.perf_counter() - t0

    cost = {r["name"]: round(r["layout_s"] + r["write_s"], 3) for r in ordered}
    cpu = {r["name"]: round(r["cpu_s"], 3) for r in ordered}
    chapter_sum = sum(cost[j["name"]] for j in chapter_jobs)
    per_page_ms = 1000 * chapter_sum / sum(by_name[j["name"]]["pages"] for j in chapter_jobs)

    cpu_sum = sum(cpu[j["name"]] for j in chapter_jobs)
    cpu_serial = max(cpu["front"], cpu["back"])

    def project(c: int) -> float:
        """From CPU seconds (contention-free): chapter runs shared by c cores, then the edges, then assembly."""
        return cpu_sum / c + cpu_serial + t_c

    result = {
        "source": str(source),
        "layout": layout,
        "pages": total,
        "workers": workers,
        "chapter_runs": count,
        "single": {
            "wall_s": round(single_wall, 2),
            "layout_s": round(single["layout_s"], 2),
            "write_s": round(single["write_s"], 2),
            "cpu_s": round(single["cpu_s"], 2),
            "maxrss_mb": round(single["maxrss_mb"]),
        },
        "runs": {
            "wall_s": round(runs_wall, 2),
            "spawn_import_s": round(t_spawn, 2),
            "phase_chapters_s": round(t_a, 2),
            "phase_front_back_s": round(t_b, 2),
            "assemble_s": round(t_c, 2),
            "cost_per_run_s": cost,
            "cpu_per_run_s": cpu,
            "pages_per_run": {r["name"]: r["pages"] for r in ordered},
            "maxrss_mb_per_worker": {str(r["pid"]): round(r["maxrss_mb"]) for r in ordered},
            "merged_size": merged_size,
            "assembly": {k: info[k] for k in ("pages", "blanks", "bookmarks")},
        },
        "chapter_wall_ms_per_page": round(per_page_ms, 1),
        "parent_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "projection_s": {c: round(project(c), 2) for c in (1, 2, 8, 16)},
        "projection_inputs": {
            "chapter_cpu_sum_s": round(cpu_sum, 2),
            "front_back_cpu_max_s": cpu_serial,
            "assemble_s": round(t_c, 2),
            "spawn_warm_s_not_counted": round(t_spawn, 2),
        },
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
