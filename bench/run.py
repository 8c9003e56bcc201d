"""The benchmark: the builder against its physical floor (WeasyPrint alone) and against Pandoc.

Every measurement is a whole process (wall time, CPU time of the process and its
children, peak resident set of the largest of them), repeated after a warm-up; the
table gives medians, and ratios as the median of ratios taken side by side in the same
round, because the machine may be shared and absolute times from two runs do not compare.

    python bench/run.py                     # full: 30, 100 and 300 chapters; writes BENCHMARKS.md
    python bench/run.py --quick             # 30 and 100 chapters, fewer runs
    python bench/run.py --smoke             # 3 tiny chapters, one run: checks that it all runs (CI)
    python bench/run.py --pdf-only --runs 2 # only the PDF by chapter runs against the peers (issue 16)
    python bench/run.py --pdf-only --sizes 3,10 --runs 1   # the same, small: does it run?

The generated parts of BENCHMARKS.md sit between markers, one pair for the rows and scale
table, one for the PDF by chapter runs (bench/pdf_runs.py); the text around them (the
profile notes) is kept, and `--pdf-only` rewrites only its own part.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from measure import PY, Series, Step, fmt_s, pages_of, ratio, rounds  # noqa: E402
from measure import met as _met  # noqa: E402
from measure import row as _row  # noqa: E402
from measure import table as _table  # noqa: E402
from pdf_runs import BEGIN as PDF_BEGIN  # noqa: E402
from pdf_runs import END as PDF_END  # noqa: E402
from pdf_runs import block_lines, measure_pdf_runs, typst_version  # noqa: E402

from tests.support.synthetic import write_dossier  # noqa: E402

BEGIN, END = "<!-- bench:begin (written by bench/run.py) -->", "<!-- bench:end -->"
BUILD = [PY, str(REPO / "build.py")]


def pandoc_path() -> str | None:
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError):
        return None


def stage_medians(series: Series) -> dict[str, float]:
    """Median of each stage of the builder's --json timings."""
    table: dict[str, list[float]] = {}
    for sample in series.samples:
        try:
            for stage, seconds in json.loads(sample.stdout)["timings"].items():
                table.setdefault(stage, []).append(seconds)
        except (ValueError, KeyError):
            pass
    return {stage: statistics.median(values) for stage, values in table.items()}


# -- the watch-mode measurement ---------------------------------------------------------------


def watch_available() -> bool:
    import contextlib
    import io

    from report.cli import _parser

    try:
        with contextlib.redirect_stderr(io.StringIO()):
            _parser().parse_args(["watch", "x", "--port", "1"])
    except SystemExit:
        return False
    return True


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read().decode("utf-8", "replace")
    except OSError:
        return None


class ReloadClient:
    """A browser's side of the reload channel: it listens to /__report/events as the page's script does.

    Each `build` event is kept with the moment it arrived, read in a thread of its own so that
    nothing else this process does delays it.
    """

    def __init__(self, url: str):
        self.url = url
        self.response = urllib.request.urlopen(url + "__report/events", timeout=600)
        self.arrived: queue.Queue[tuple[int, float]] = queue.Queue()
        threading.Thread(target=self._read, name="bench-reload-client", daemon=True).start()

    def _read(self) -> None:
        name = ""
        try:
            for raw in self.response:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: ") and name == "build":
                    self.arrived.put((int(line.removeprefix("data: ")), time.perf_counter()))
        except (OSError, ValueError):
            pass  # the server stopped

    def next_build(self, after: int, timeout: float = 300) -> tuple[int, float]:
        """The first `build` event with a number above ``after``: (number, when it arrived)."""
        deadline = time.perf_counter() + timeout
        while True:
            number, when = self.arrived.get(timeout=max(0.0, deadline - time.perf_counter()))
            if number > after:
                return number, when

    def settle(self, last: int, quiet: float = 0.5) -> int:
        """Wait until no event has come for ``quiet`` seconds; the last build number seen."""
        while True:
            try:
                last = max(last, self.arrived.get(timeout=quiet)[0])
            except queue.Empty:
                return last

    def close(self) -> None:
        self.response.close()


@dataclass
class WatchTimes:
    saves: list[float]  # seconds from the write to the reload event, the change in the page
    errors: list[float]  # seconds from writing a broken chapter to the event, the overlay in the page
    failed: int  # saves whose event came but whose page lacked the change (or the overlay)
    chapters: int  # how many different chapters were saved


def spread(count: int, among: int) -> list[int]:
    """``count`` different indices spread evenly over ``among`` (repeating only if there are too few)."""
    if count > among:
        return [i % among for i in range(count)]
    return [int((k + 0.5) * among / count) for k in range(count)]


def measure_watch(dossier: Path, edits: int, warmup: int, options: tuple[str, ...] = ()) -> WatchTimes:
    """Save to reload in `report watch`, as a browser sees it, in different chapters each time.

    Each sample runs from the file write to the `build` event with a new number reaching a
    client of /__report/events; the page is then fetched and must have the change, else the
    save counts as failed, not as a sample. Then as many broken chapters (an unknown key):
    the write to the event, with the error overlay in the page; each is fixed again after.
    ``options`` go to `report watch` as they are (``("--pdf",)``: saves while PDF builds run).
    """
    process = subprocess.Popen(
        [PY, "-m", "report", "watch", str(dossier), "--port", "0", *options],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    client = None
    try:
        line = process.stdout.readline() if process.stdout else ""  # printed after the first build
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if not found:
            raise RuntimeError(f"report watch did not start serving: {line!r}")
        url = found.group(1)
        client = ReloadClient(url)
        last = client.settle(-1)
        chapters = sorted(dossier.glob("[0-9]*.yaml"))
        picked = [chapters[i] for i in spread(warmup + 2 * edits, len(chapters))]
        times = WatchTimes([], [], 0, len(set(picked)))

        def timed_save(chapter: Path, text: str, present: str) -> float | None:
            nonlocal last
            start = time.perf_counter()
            chapter.write_text(text, encoding="utf-8")
            last, arrived = client.next_build(last)
            page = fetch(url) or ""
            last = client.settle(last)  # let any further rebuild of this save pass first
            return arrived - start if present in page else None

        for number, chapter in enumerate(picked[: warmup + edits]):
            marker = f"Benchmarkmarker{number}x{os.getpid()}"
            text = chapter.read_text(encoding="utf-8").replace("body: |\n", f"body: |\n  {marker} opens this.\n", 1)
            seconds = timed_save(chapter, text, marker)
            if number < warmup:
                continue
            if seconds is None:
                times.failed += 1
            else:
                times.saves.append(seconds)
        for chapter in picked[warmup + edits :]:
            original = chapter.read_text(encoding="utf-8")
            seconds = timed_save(chapter, original.replace("body: |\n", "bodyy: |\n", 1), "report-error-overlay")
            if seconds is None:
                times.failed += 1
            else:
                times.errors.append(seconds)
            timed_save(chapter, original, "")  # fixed again: not a sample
        return times
    finally:
        if client is not None:
            client.close()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def edit_middle_chapter(dossier: Path) -> Callable[[], None]:
    """A step's `before`: a new sentence in the middle chapter, different every time."""
    chapter = sorted(dossier.glob("[0-9]*.yaml"))[len(list(dossier.glob("[0-9]*.yaml"))) // 2]
    count = iter(range(1_000_000))

    def edit() -> None:
        text = chapter.read_text(encoding="utf-8")
        chapter.write_text(text.replace("body: |\n", f"body: |\n  Edit number {next(count)} opens this.\n", 1))

    return edit


# -- the run ------------------------------------------------------------------------------------


def machine() -> list[str]:
    mem_kb = 0
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import weasyprint

    return [
        f"{os.cpu_count()} cores ({model}), {mem_kb / 1024 / 1024:.1f} GiB memory",
        f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, {platform.system()} "
        f"{platform.release()}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the builder; write BENCHMARKS.md.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="30 and 100 chapters, fewer runs")
    mode.add_argument("--smoke", action="store_true", help="3 tiny chapters, one run (CI: it must run)")
    parser.add_argument("--runs", type=int, help="measured runs per row (default: 5, quick 3, smoke 1)")
    parser.add_argument(
        "--pdf-only",
        action="store_true",
        help="only the PDF by chapter runs against its single pass and the peers (issue 16; default 2 runs)",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        help="chapter counts instead of the mode's, e.g. 3,10 (the edit rows take the largest)",
    )
    parser.add_argument(
        "--pdf-run-size",
        type=int,
        metavar="N",
        help="`--run-size N` for the builds by runs (default: the builder's), e.g. 3 to have runs at 10 chapters",
    )
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="the file to write")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--note", default="", help="a line about the conditions, e.g. 'machine shared'")
    args = parser.parse_args(argv)

    # watch rows: at every size of `scales`, at least 5 saves (smoke: one); edit rows: at the largest size
    scales: tuple[int, ...]
    if args.smoke:
        runs, warmup, big_runs, scales, default = args.runs or 1, 0, 1, (3,), None
        saves = runs
    elif args.quick:
        runs, warmup, big_runs, scales = args.runs or 3, 1, 2, (30, 100)
        default, saves = REPO / "chapters", max(args.runs or 3, 5)
    else:
        runs, warmup, big_runs, scales = args.runs or 5, 1, 3, (30, 100, 300)
        default, saves = REPO / "chapters", max(args.runs or 5, 5)
    scales = args.sizes or scales
    # the PDF by runs: each round at 300 chapters costs about 5 minutes (five cold PDFs), so at
    # most 3 rounds below 100 chapters and 2 from there; alone (--pdf-only), 2 unless --runs says
    if args.pdf_only:
        pdf_runs_small = pdf_runs_big = args.runs or (1 if args.smoke else 2)
    else:
        pdf_runs_small, pdf_runs_big = min(runs, 3), min(big_runs, 2)
    work = args.work or Path(tempfile.mkdtemp(prefix="report-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()[0]
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[bench {time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    def pdf_by_runs(pandoc: str | None) -> None:
        mode = " --smoke" if args.smoke else " --quick" if args.quick else ""
        sizes = f" --sizes {','.join(map(str, scales))}" if args.sizes else ""
        command = f"python bench/run.py{mode}" + (" --pdf-only" if args.pdf_only else "") + sizes
        command += f" --runs {args.runs}" if args.runs else ""
        command += f" --pdf-run-size {args.pdf_run_size}" if args.pdf_run_size else ""
        pdf_warmup = 0 if args.smoke else 1
        block = _pdf_runs_document(
            scales, work, pdf_runs_small, pdf_runs_big, pdf_warmup, pandoc, args.pdf_run_size, log, command, args.note
        )
        _write(args.out, block, PDF_BEGIN, PDF_END)
        log(f"wrote the PDF by runs into {args.out}")

    if args.pdf_only:
        pdf_by_runs(pandoc_path())
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    if default is None:  # smoke: a tiny generated dossier stands in for the default one
        default = write_dossier(work / "default-src", 3)

    rows: list[list[str]] = []
    notes: list[str] = []

    # 1 and 2: the default dossier, all editions, cold, against the floor
    log("default dossier vs floor")
    out = work / "default-out"
    floor_dir = work / "floor-default"
    subprocess.run([PY, str(HERE / "floor.py"), "dump", str(default), str(floor_dir)], check=True)
    steps: dict[str, Step] = {
        "build": (BUILD + [str(default), "--out", str(out), "--force", "--json"], None),
        "floor": ([PY, str(HERE / "floor.py"), "run", str(floor_dir), str(floor_dir / "floor.pdf")], None),
    }
    result = rounds(runs, warmup, steps)
    build_ratio = ratio(result["build"], result["floor"])
    rows.append(
        _row(
            "1",
            "Default dossier, all editions, cold process (`--force`)",
            result["build"],
            f"{build_ratio:.2f}x floor",
            "<= 1.25x floor",
            build_ratio <= 1.25,
        )
    )
    rows.append(
        _row("2", "Floor: WeasyPrint alone lays out and writes the builder's HTML", result["floor"], "1.00", "", None)
    )
    stages = stage_medians(result["build"])

    # 3: the EPUB alone, beside Pandoc
    log("EPUB alone vs pandoc")
    pandoc = pandoc_path()
    epub_file = next(out.glob("*.epub"))
    markdown_file = work / "default.md"
    subprocess.run([PY, str(HERE / "markdown.py"), str(default), str(markdown_file)], check=True)
    steps = {
        "epub": (
            BUILD + [str(default), "--out", str(out), "--epub", "--json"],
            lambda: epub_file.unlink(missing_ok=True),
        ),
        "epub-cold": (BUILD + [str(default), "--out", str(work / "epub-cold"), "--epub", "--force", "--json"], None),
    }
    if pandoc:
        steps["pandoc"] = ([pandoc, str(markdown_file), "-o", str(work / "pandoc.epub"), "--toc"], None)
    result = rounds(runs, warmup, steps)
    if pandoc:
        epub_ratio = ratio(result["epub"], result["pandoc"])
        cold_ratio = ratio(result["epub-cold"], result["pandoc"])
        rows.append(
            _row(
                "3a",
                "EPUB alone, page map in the build cache (after a full build)",
                result["epub"],
                f"{epub_ratio:.2f}x pandoc",
                "<= 5x pandoc",
                epub_ratio <= 5,
            )
        )
        rows.append(
            _row(
                "3b",
                "EPUB alone, no cache: lays the PDF out for the page numbers",
                result["epub-cold"],
                f"{cold_ratio:.2f}x pandoc",
                "(none: a layout is the floor)",
                None,
            )
        )
        rows.append(_row("3c", "Pandoc: the same content as Markdown -> EPUB", result["pandoc"], "1.00", "", None))
    else:
        rows.append(
            _row(
                "3a",
                "EPUB alone, page map in the build cache (after a full build)",
                result["epub"],
                "pandoc not installed",
                "<= 5x pandoc",
                None,
            )
        )
        rows.append(
            _row(
                "3b",
                "EPUB alone, no cache: lays the PDF out for the page numbers",
                result["epub-cold"],
                "pandoc not installed",
                "",
                None,
            )
        )
        rows.append(["3c", "Pandoc", "pandoc not installed (pip install pypandoc-binary)", "", "", "", "", ""])
    epub_stages = stage_medians(result["epub"])

    # 4: scale
    scale_rows = []
    per_page: dict[int, float] = {}
    cold_wall: dict[int, float] = {}
    for chapters in scales:
        log(f"{chapters} chapters")
        source = write_dossier(work / f"gen-{chapters}", chapters)
        scale_out = work / f"gen-{chapters}-out"
        scale_floor = work / f"floor-{chapters}"
        subprocess.run([PY, str(HERE / "floor.py"), "dump", str(source), str(scale_floor)], check=True)
        steps = {
            "build": (BUILD + [str(source), "--out", str(scale_out), "--force", "--json"], None),
            "floor": ([PY, str(HERE / "floor.py"), "run", str(scale_floor), str(scale_floor / "floor.pdf")], None),
        }
        result = rounds(big_runs if chapters >= 100 else runs, warmup if chapters < 300 else 0, steps)
        pages = pages_of(next(scale_out.glob("*.pdf")))
        build_wall, floor_wall = result["build"].median("wall"), result["floor"].median("wall")
        per_page[chapters] = build_wall / pages
        cold_wall[chapters] = build_wall
        scale_rows.append(
            [
                str(chapters),
                str(pages),
                fmt_s(build_wall),
                f"{build_wall / pages * 1000:.1f} ms",
                fmt_s(floor_wall),
                f"{floor_wall / pages * 1000:.1f} ms",
                f"{ratio(result['build'], result['floor']):.2f}x",
                f"{result['build'].median('rss_mb'):.0f} MB",
                f"{result['floor'].median('rss_mb'):.0f} MB",
                _stages_text(stage_medians(result["build"])),
            ]
        )
    largest = max(scales)
    largest_ratio = float(scale_rows[-1][6].rstrip("x"))
    largest_rss = float(scale_rows[-1][7].split()[0])
    rows.append(
        [
            "4a",
            f"{largest} chapters, all editions: wall time against the floor",
            scale_rows[-1][2],
            "",
            scale_rows[-1][7],
            f"{largest_ratio:.2f}x floor",
            "<= 1.3x floor",
            _met(largest_ratio <= 1.3),
        ]
    )
    if len(scales) > 1:
        growth = per_page[largest] / per_page[min(scales)]
        rows.append(
            [
                "4b",
                f"time per page at {largest} chapters / at {min(scales)}",
                "",
                "",
                "",
                f"{growth:.2f}",
                "<= 1.2",
                _met(growth <= 1.2),
            ]
        )
    rows.append(
        [
            "4c",
            f"peak memory at {largest} chapters (largest process)",
            "",
            "",
            scale_rows[-1][7],
            "",
            "<= 2 GB",
            _met(largest_rss <= 2048),
        ]
    )

    # 5: unchanged rebuild
    log("unchanged rebuild")
    steps = {
        "default": (BUILD + [str(default), "--out", str(out), "--json"], None),
        "largest": (BUILD + [str(work / f"gen-{largest}"), "--out", str(work / f"gen-{largest}-out"), "--json"], None),
    }
    result = rounds(runs, 1, steps)
    for name, label in (("default", "default dossier"), ("largest", f"{largest} chapters")):
        wall = result[name].median("wall")
        rows.append(_row("5", f"Rebuild with nothing changed, {label}", result[name], "", "< 0.3 s", wall < 0.3))
        if '"cache"' not in result[name].samples[0].stdout:
            notes.append(f"row 5 ({label}): the build did not report a cache stage")

    # 6 and 7: watch mode, save to reload (and to the error overlay) as a browser sees it
    log("watch mode")
    if not watch_available():
        rows.append(
            [
                "6",
                "`report watch`: save to reload event",
                "not measured: watch mode not merged yet",
                "",
                "",
                "",
                "< 0.5 s",
                "",
            ]
        )
    else:
        error_rows: list[list[str]] = []
        for chapters in scales:
            log(f"watch mode, {chapters} chapters")
            times = measure_watch(write_dossier(work / f"watch-{chapters}", chapters), saves, warmup)
            failed = f"; **{times.failed} failed** (page without the change)" if times.failed else ""
            for number, samples, what in (
                ("6", times.saves, "save to reload event, the change in the page"),
                ("7", times.errors, "broken save to reload event, the error overlay in the page"),
            ):
                median = statistics.median(samples) if samples else None
                target_rows = rows if number == "6" else error_rows
                target_rows.append(
                    [
                        number,
                        f"`report watch` at {chapters} chapters: {what}",
                        fmt_s(median) if median is not None else "no sample",
                        "",
                        "",
                        f"{_saves(len(samples))}, max {fmt_s(max(samples))}" + failed
                        if samples
                        else failed.lstrip("; "),
                        "< 0.5 s",
                        _met(median is not None and median < 0.5 and not times.failed),
                    ]
                )
            if times.chapters < saves * 2 + warmup:
                notes.append(f"rows 6 and 7 at {chapters} chapters: too few chapters, some saved twice")
        rows += error_rows

    # 8: a build after a one-chapter edit, the cache warm from a full build of the same output folder
    edited = max(scales)
    log(f"build after a one-chapter edit, {edited} chapters")
    source = write_dossier(work / f"edit-{edited}", edited)
    edit = edit_middle_chapter(source)
    kinds = {"html": "HTML alone (`--html`)", "epub": "EPUB alone (`--epub`)", "pdf": "PDF alone (`--pdf`)"}
    kinds["all"] = "all editions"
    steps = {}
    for kind in kinds:
        folder = work / f"edit-{edited}-{kind}-out"
        subprocess.run(BUILD + [str(source), "--out", str(folder), "--quiet"], check=True)  # full: the cache warm
        steps[kind] = (
            BUILD + [str(source), "--out", str(folder), "--json"] + ([] if kind == "all" else [f"--{kind}"]),
            edit,
        )
    result = rounds(big_runs if edited >= 100 else runs, 0, steps)
    for kind, label in kinds.items():
        ratio_text = f"{result[kind].median('wall') / cold_wall[edited]:.2f}x cold" if edited in cold_wall else ""
        rows.append(
            _row(
                "8", f"Build after a one-chapter edit at {edited} chapters, {label}", result[kind], ratio_text, "", None
            )
        )
        if any('"cached": true' in sample.stdout for sample in result[kind].samples):
            notes.append(f"row 8 ({label}): a build after the edit answered from the cache: nothing was measured")
    notes.append(
        "rows 6 and 7: from the write of a chapter file to the `build` event reaching a client of "
        "/__report/events (what the page's script listens to), a different chapter each time; the page "
        "is then fetched and must hold the change (or the error overlay), else the save is counted as "
        "failed, not as a sample. Row 8: the middle chapter edited, then the build into an output folder "
        "that a full build made first; the ratio is against the cold all-editions build of the scale table."
    )

    load_end = os.getloadavg()[0]
    mode_flag = "--smoke" if args.smoke else "--quick" if args.quick else ""
    command = f"python bench/run.py {mode_flag}".strip() + (f" --runs {args.runs}" if args.runs else "")
    command += f" --sizes {','.join(map(str, scales))}" if args.sizes else ""
    text = _document(
        rows, scale_rows, stages, epub_stages, notes, command, runs, warmup, load_start, load_end, args.note, pandoc
    )
    _write(args.out, text)
    log(f"wrote {args.out}")
    pdf_by_runs(pandoc)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"chapter counts separated by commas, not {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"chapter counts of at least 1, not {text!r}")
    return sizes


def _pdf_runs_document(
    sizes: tuple[int, ...],
    work: Path,
    runs: int,
    big_runs: int,
    warmup: int,
    pandoc: str | None,
    run_size: int | None,
    log: Callable[[str], None],
    command: str,
    note: str,
) -> str:
    """The generated block of the PDF by chapter runs: measured, then written out with its conditions."""
    load_start = os.getloadavg()[0]
    result = measure_pdf_runs(sizes, work, runs, big_runs, warmup, pandoc, run_size, log)
    load_end = os.getloadavg()[0]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rounds_text = f"{runs} measured round{'s' if runs > 1 else ''}" + (
        f" ({big_runs} from 100 chapters)" if big_runs != runs else ""
    )
    lines = [
        PDF_BEGIN,
        "",
        f"Made {now} by `{command}` ({rounds_text} after {warmup} warm-up below 100 chapters; "
        "medians; ratios are medians of per-round ratios measured side by side).",
        "",
    ]
    lines += [f"- Machine: {m}" for m in machine()]
    lines += [
        f"- Pandoc: {_pandoc_version(pandoc)}; Typst: PyPI `typst` {typst_version() or 'not installed'}",
        f"- Load average (1 min) at start / end: {load_start:.2f} / {load_end:.2f}" + (f"; {note}" if note else ""),
    ]
    lines += block_lines(result)
    lines += ["", PDF_END]
    return "\n".join(lines) + "\n"


def _pandoc_version(pandoc: str | None) -> str:
    if not pandoc:
        return "not installed"
    first = subprocess.run([pandoc, "--version"], capture_output=True, text=True).stdout.splitlines()
    return first[0] if first else "unknown"


def _saves(count: int) -> str:
    return "1 save" if count == 1 else f"{count} saves in {count} chapters"


def _stages_text(stages: dict[str, float]) -> str:
    return ", ".join(f"{name} {fmt_s(seconds)}" for name, seconds in stages.items() if seconds >= 0.005)


def _document(
    rows, scale_rows, stages, epub_stages, notes, command, runs, warmup, load_start, load_end, note, pandoc
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    pandoc_version = _pandoc_version(pandoc)
    lines = [
        BEGIN,
        "",
        f"Made {now} by `{command}` ({runs} measured runs after {warmup} warm-up per row; "
        "medians; ratios are medians of per-round ratios measured side by side).",
        "",
    ]
    lines += [f"- Machine: {m}" for m in machine()]
    lines += [
        f"- Pandoc: {pandoc_version}",
        f"- Load average (1 min) at start / end: {load_start:.2f} / {load_end:.2f}" + (f"; {note}" if note else ""),
    ]
    lines += ["", "### The rows", ""]
    lines += _table(["#", "measurement", "wall", "CPU", "peak RSS", "ratio", "target", ""], rows)
    lines += ["", "### Scale (all editions, cold, against the floor on the same HTML)", ""]
    lines += _table(
        [
            "chapters",
            "PDF pages",
            "builder wall",
            "per page",
            "floor wall",
            "per page",
            "builder/floor",
            "builder peak RSS",
            "floor peak RSS",
            "builder stages (median)",
        ],
        scale_rows,
    )
    lines += [
        "",
        f"Builder stages, default dossier (median): {_stages_text(stages)}.",
        f"Builder stages, EPUB alone with the page map cached (median): {_stages_text(epub_stages)}.",
        "",
        "Wall and CPU are for the whole process tree (the builder's PDF engine process included); peak "
        "RSS is that of the largest single process. `pdf layout` and `pdf write` in the builder's stages "
        "are the time the builder waited for its PDF engine, which runs beside it.",
    ]
    lines += [f"- {n}" for n in notes]
    lines += ["", END]
    return "\n".join(lines) + "\n"


def _write(path: Path, block: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace one generated block, keep everything else (the notes); a new block goes at the end."""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            tail = rest.split(end, 1)[1]
            path.write_text(head + block.rstrip("\n") + tail, encoding="utf-8")
        else:
            path.write_text(text.rstrip("\n") + "\n\n" + block, encoding="utf-8")
        return
    path.write_text(
        "# Benchmarks\n\nRegenerate with `python bench/run.py` (full) or `python bench/run.py --quick`"
        " whenever performance work lands.\n\n" + block,
        encoding="utf-8",
    )


if __name__ == "__main__":
    raise SystemExit(main())
