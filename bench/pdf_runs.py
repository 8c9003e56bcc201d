"""The PDF by chapter runs (issue 16): measured side by side with its single pass and the peers.

At each size, in the same rounds, cold: the builder's PDF alone in one pass (`--run-size 0`),
by runs with one worker and with two (`--jobs 1`, `--jobs 2`), Pandoc -> HTML -> WeasyPrint
and Pandoc -> Typst on the same content as Markdown (bench/peers.py). At the largest size,
the PDF alone and all editions after a one-word edit in the middle chapter. From the cold
`--jobs 1` builds, the projection to 8 and 16 cores (`Projection`), from each run's CPU
seconds in `report build --json` (`pdf_runs`) and the serial parts.

Until the builder has `--jobs`, `--run-size` or reports `pdf_runs`, the rows say so instead
of failing; without `--jobs`, the builder's PDF *is* today's single pass, and is measured as such.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from measure import (
    PY,
    REPO,
    Sample,
    Series,
    Step,
    failure_text,
    fmt_s,
    measure,
    met,
    pages_of,
    ratio,
    rounds,
    row,
    table,
)

from tests.support.synthetic import WORDS, write_dossier

BEGIN, END = "<!-- bench-pdf:begin (written by bench/run.py; alone: --pdf-only) -->", "<!-- bench-pdf:end -->"
BUILD = [PY, str(REPO / "build.py")]
GOAL_CHAPTERS = 300  # the goals are set at this size

# the steps of one round at every size, in the order they run and are shown
LABELS = {
    "single": "`report` PDF, single pass (`--run-size 0`)",
    "jobs1": "`report` PDF by runs, `--jobs 1`",
    "jobs2": "`report` PDF by runs, `--jobs 2`",
    "weasyprint": "Pandoc -> HTML -> WeasyPrint",
    "typst": "Pandoc -> Typst (PyPI `typst`)",
}


@dataclass(frozen=True)
class Builder:
    """What `report build` offers today: the issue-16 flags are added while this is written."""

    jobs: bool
    run_size: bool

    @classmethod
    def probe(cls) -> Builder:
        text = subprocess.run(
            [PY, "-m", "report", "build", "--help"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout
        return cls(jobs=re.search(r"--jobs\b", text) is not None, run_size=re.search(r"--run-size\b", text) is not None)

    def single_label(self) -> str:
        if self.run_size:
            return LABELS["single"]
        return "`report` PDF, today's builder (no runs yet: one pass)" if not self.jobs else LABELS["single"]

    def single_pass(self) -> list[str] | None:
        """The options for today's single pass; None where the builder has runs but no way to turn them off."""
        if self.run_size:
            return ["--run-size", "0"]
        return None if self.jobs else []

    def workers(self, count: int, run_size: int | None = None) -> list[str] | None:
        """``--jobs count`` (and ``--run-size``, if asked); None where the builder has no workers."""
        if not self.jobs:
            return None
        return ["--jobs", str(count)] + (["--run-size", str(run_size)] if run_size and self.run_size else [])


# -- what `report build --json` says about the runs -----------------------------------------------


@dataclass(frozen=True)
class RunCost:
    """One entry of `pdf_runs` in `report build --json`."""

    name: str
    kind: str  # front, chapters, back, blank, folios
    first_page: int
    pages: int
    cpu_s: float
    reused: bool


def build_report(sample: Sample) -> dict:
    try:
        data = json.loads(sample.stdout)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def runs_of(report: dict) -> list[RunCost] | None:
    """The `pdf_runs` list (empty: laid out in one pass); None if not reported in the agreed shape."""
    entries = report.get("pdf_runs")
    if not isinstance(entries, list):
        return None
    try:
        return [
            RunCost(
                name=str(entry["name"]),
                kind=str(entry["kind"]),
                first_page=int(entry["first_page"]),
                pages=int(entry["pages"]),
                cpu_s=float(entry["cpu_s"]),
                reused=bool(entry["reused"]),
            )
            for entry in entries
        ]
    except (KeyError, TypeError, ValueError):
        return None


# -- the projection --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """Runs that can all lay out at once: c cores take at least their sum / c, and at least the longest."""

    total_s: float
    longest_s: float
    count: int

    @classmethod
    def of(cls, runs: list[RunCost]) -> Phase:
        return cls(sum(r.cpu_s for r in runs), max((r.cpu_s for r in runs), default=0.0), len(runs))

    def on(self, cores: int) -> float:
        return max(self.total_s / cores, self.longest_s)

    def text(self) -> str:
        return f"{fmt_s(self.total_s)} ({self.count}, longest {fmt_s(self.longest_s)})" if self.count else "-"


@dataclass(frozen=True)
class Projection:
    """T(c) = P + chapters(c) + front and back(c) + folios(c) + U + O + A, from one cold `--jobs 1` build.

    The phases follow one another because each needs the page counts of the one before (the
    front and back matter print page numbers of the chapters; the folio layer needs every
    count). All terms but P and O are CPU seconds of the runs, which a shared machine distorts
    far less than wall times; P and O are wall seconds, so contention lands on the serial side.
    """

    serial_s: float  # P: the build's wall outside the parallel part and the assembly
    chapters: Phase  # S_ch
    edges: Phase  # F and the back runs
    folios: Phase  # L
    unknown_s: float  # U: runs of a kind this formula does not know, taken as serial
    overhead_s: float  # O: the parallel part's wall beyond its runs' CPU (start-up, transfers)
    assemble_s: float  # A
    longest_edge: str  # the name of the longest front or back run

    @classmethod
    def of(cls, sample: Sample) -> Projection | str:
        """The projection from one build, or why there is none."""
        report = build_report(sample)
        runs = runs_of(report)
        if runs is None:
            return "pdf_runs not reported"
        if not runs:
            return "laid out in one pass: no runs at this size (see `--run-size`)"
        timings = report.get("timings") or {}
        if "pdf runs" not in timings or "pdf assemble" not in timings:
            return "timings lack the `pdf runs` or `pdf assemble` stage"
        known = {"chapters", "blank", "front", "back", "folios"}
        edges = [r for r in runs if r.kind in ("front", "back")]
        parallel_s, assemble_s = float(timings["pdf runs"]), float(timings["pdf assemble"])
        return cls(
            serial_s=max(0.0, sample.wall - parallel_s - assemble_s),
            # the blank page of the book layout needs no page count: it lays out beside the chapters
            chapters=Phase.of([r for r in runs if r.kind in ("chapters", "blank")]),
            edges=Phase.of(edges),
            folios=Phase.of([r for r in runs if r.kind == "folios"]),
            unknown_s=sum(r.cpu_s for r in runs if r.kind not in known),
            overhead_s=max(0.0, parallel_s - sum(r.cpu_s for r in runs)),
            assemble_s=assemble_s,
            longest_edge=max(edges, key=lambda r: r.cpu_s).name if edges else "-",
        )

    def at(self, cores: int) -> float:
        return (
            self.serial_s
            + self.chapters.on(cores)
            + self.edges.on(cores)
            + self.folios.on(cores)
            + self.unknown_s
            + self.overhead_s
            + self.assemble_s
        )


def median_projection(found: list[Projection]) -> Projection:
    """Each term the median over the builds (the longest-run name from the first)."""

    def mid(get: Callable[[Projection], float]) -> float:
        return statistics.median(get(p) for p in found)

    def phase(get: Callable[[Projection], Phase]) -> Phase:
        return Phase(mid(lambda p: get(p).total_s), mid(lambda p: get(p).longest_s), get(found[0]).count)

    return Projection(
        serial_s=mid(lambda p: p.serial_s),
        chapters=phase(lambda p: p.chapters),
        edges=phase(lambda p: p.edges),
        folios=phase(lambda p: p.folios),
        unknown_s=mid(lambda p: p.unknown_s),
        overhead_s=mid(lambda p: p.overhead_s),
        assemble_s=mid(lambda p: p.assemble_s),
        longest_edge=found[0].longest_edge,
    )


FORMULA = "T(c) = P + max(S_ch/c, C_max) + max((F + ΣB)/c, max(F, B_max)) + max(L/c, L_max) + U + O + A"
FORMULA_TERMS = [
    "P: the build's wall time outside the parallel part and the assembly (start-up, loading, HTML, "
    "writing; `--jobs 1` wall minus the `pdf runs` and `pdf assemble` stages), taken as serial;",
    "S_ch, C_max: the CPU seconds of all chapter runs (with the book layout's blank page, which needs "
    "no page count either), and of the longest one;",
    "F, ΣB, B_max: the CPU of the front matter, of all back-matter runs, and of the longest of them "
    "(front and back lay out together once the chapters' page counts are known);",
    "L, L_max: the CPU of the folio layer's runs, and of the longest (after every page count is known);",
    "U: runs of any other kind, taken as serial; O: the `pdf runs` stage's wall beyond its runs' CPU "
    "at one worker (worker start, transfers), taken as serial; A: the `pdf assemble` stage;",
    "each max(sum/c, longest) is the least time c cores need for a set of independent runs: the "
    "projection is a lower bound for this split into runs, and T(1) is the measured `--jobs 1` wall.",
]


# -- the measurement -------------------------------------------------------------------------------


def change_one_word(dossier: Path) -> Callable[[], None]:
    """A step's `before`: one word of the middle chapter's first paragraph, a different word every time."""
    chapters = sorted(dossier.glob("[0-9]*.yaml"))
    chapter = chapters[len(chapters) // 2]
    head, body = chapter.read_text(encoding="utf-8").split("body: |\n", 1)
    first, rest = body.split("\n", 1)
    words = first.split(" ")
    position = [i for i, word in enumerate(words) if word.isalpha()][3]  # inside the first sentence
    others = iter([w for w in dict.fromkeys(WORDS) if w.isalpha() and w != words[position]] * 10)

    def edit() -> None:
        words[position] = next(others)
        chapter.write_text(head + "body: |\n" + " ".join(words) + "\n" + rest, encoding="utf-8")

    return edit


@dataclass
class SizeResult:
    chapters: int
    series: dict[str, Series]
    pages: dict[str, int]
    missing: dict[str, str]  # step -> why it was not measured
    projection: Projection | None
    projection_missing: str
    runs: list[RunCost] = field(default_factory=list)  # of the last `--jobs 1` build
    reused_cold: int = 0  # runs a cold (`--force`) build took from a cache


@dataclass
class EditResult:
    chapters: int
    series: dict[str, Series]
    missing: dict[str, str]  # step -> why it was not measured
    workers_missing: str  # why `--jobs 2` was not used, if it was not
    laid_out: dict[str, str]  # step -> "k of n runs laid out again" (or why unknown)
    cached: list[str]  # steps whose build after the edit answered from the build cache


@dataclass
class PdfRunsResult:
    builder: Builder
    sizes: list[SizeResult]
    edit: EditResult | None


def typst_version() -> str | None:
    try:
        import typst
    except ImportError:
        return None
    return str(getattr(typst, "__version__", "unknown"))


def measure_sizes(
    sizes: tuple[int, ...],
    work: Path,
    runs: int,
    big_runs: int,
    warmup: int,
    pandoc: str | None,
    builder: Builder,
    run_size: int | None,
    log: Callable[[str], None],
) -> list[SizeResult]:
    """The cold side-by-side rounds at each size (``big_runs`` and no warm-up from 100 chapters)."""
    results = []
    for chapters in sizes:
        log(f"PDF by runs, {chapters} chapters: single pass, --jobs 1 and 2, Pandoc -> WeasyPrint, Pandoc -> Typst")
        source = write_dossier(work / f"pdf-{chapters}", chapters)
        markdown = work / f"pdf-{chapters}.md"
        subprocess.run([PY, str(Path(__file__).parent / "markdown.py"), str(source), str(markdown)], check=True)
        steps: dict[str, Step] = {}
        outputs: dict[str, Path] = {}
        missing: dict[str, str] = {}
        options = {
            "single": builder.single_pass(),
            "jobs1": builder.workers(1, run_size),
            "jobs2": builder.workers(2, run_size),
        }
        for key, extra in options.items():
            folder = work / f"pdf-{chapters}-{key}-out"
            if extra is None:
                flag = "--run-size" if key == "single" else "--jobs"
                missing[key] = f"not available: `report build` has no `{flag}` yet"
                continue
            # a new output folder each time, so that no cache of runs there can make a cold build warm
            steps[key] = (
                BUILD + [str(source), "--pdf", "--force", "--json", "--out", str(folder), *extra],
                functools.partial(shutil.rmtree, folder, ignore_errors=True),
            )
            outputs[key] = folder
        for peer in ("weasyprint", "typst"):
            if not pandoc:
                missing[peer] = "not available: pandoc not installed (pip install pypandoc-binary)"
                continue
            if peer == "typst" and not typst_version():
                missing[peer] = "not available: typst not installed (pip install typst)"
                continue
            pdf = work / f"pdf-{chapters}-{peer}.pdf"
            steps[peer] = ([PY, str(Path(__file__).parent / "peers.py"), peer, pandoc, str(markdown), str(pdf)], None)
            outputs[peer] = pdf
        count = big_runs if chapters >= 100 else runs
        series = rounds(count, warmup if chapters < 100 else 0, steps, missing, rotate=True)
        pages = {
            key: pages_of(path if path.suffix == ".pdf" else next(path.glob("*.pdf")))
            for key, path in outputs.items()
            if key in series
        }
        result = SizeResult(chapters, series, pages, missing, None, "")
        if "jobs1" not in series:
            result.projection_missing = f"no `--jobs 1` build to project from ({missing.get('jobs1', '')})"
        else:
            found = [Projection.of(sample) for sample in series["jobs1"].samples]
            projections = [p for p in found if isinstance(p, Projection)]
            if projections:
                result.projection = median_projection(projections)
            else:
                result.projection_missing = str(found[0])
            result.runs = runs_of(build_report(series["jobs1"].samples[-1])) or []
        for key in ("jobs1", "jobs2"):
            for sample in series[key].samples if key in series else []:
                result.reused_cold += sum(r.reused for r in runs_of(build_report(sample)) or [])
        results.append(result)
    return results


def measure_edit(
    chapters: int, work: Path, runs: int, builder: Builder, run_size: int | None, log: Callable[[str], None]
) -> EditResult:
    """After a full build, one word changed in the middle chapter: the PDF alone, and all editions."""
    log(f"PDF by runs: a one-word edit at {chapters} chapters")
    source = write_dossier(work / f"pdf-edit-{chapters}", chapters)
    edit = change_one_word(source)
    workers = builder.workers(2, run_size)
    steps: dict[str, Step] = {}
    missing: dict[str, str] = {}
    for kind, formats in (("pdf", ["--pdf"]), ("all", [])):
        folder = work / f"pdf-edit-{chapters}-{kind}-out"
        command = BUILD + [str(source), "--out", str(folder), *formats, *(workers or [])]
        try:
            measure(command + ["--quiet"])  # the full build that warms the caches, not a sample
        except RuntimeError as error:
            missing[kind] = "the full build before the edit " + failure_text(str(error))
            continue
        steps[kind] = (command + ["--json"], edit)
    series = rounds(runs, 0, steps, missing)
    laid_out: dict[str, str] = {}
    cached = []
    for kind, found in series.items():
        reports = [build_report(sample) for sample in found.samples]
        if any(report.get("cached") for report in reports):
            cached.append(kind)
        listed = runs_of(reports[-1])
        if listed is None:
            laid_out[kind] = "pdf_runs not reported"
        elif not listed:
            laid_out[kind] = "one pass, no runs"
        else:
            laid_out[kind] = f"{sum(not r.reused for r in listed)} of {len(listed)} runs laid out again"
    return EditResult(chapters, series, missing, "" if workers else "`--jobs` not available", laid_out, cached)


def measure_pdf_runs(
    sizes: tuple[int, ...],
    work: Path,
    runs: int,
    big_runs: int,
    warmup: int,
    pandoc: str | None,
    run_size: int | None,
    log: Callable[[str], None],
) -> PdfRunsResult:
    """Everything of this part: the side-by-side rounds at every size, then the edit at the largest.

    ``run_size`` goes to the `--jobs` builds as `--run-size` (None: the builder's default).
    """
    builder = Builder.probe()
    results = measure_sizes(sizes, work, runs, big_runs, warmup, pandoc, builder, run_size, log)
    edit = measure_edit(max(sizes), work, big_runs if max(sizes) >= 100 else runs, builder, run_size, log)
    return PdfRunsResult(builder, results, edit)


# -- the text --------------------------------------------------------------------------------------


def _ratio_text(result: SizeResult, key: str, base: str, name: str) -> str:
    if key == base or key not in result.series or base not in result.series:
        return ""
    return f"{ratio(result.series[key], result.series[base]):.2f}x {name}"


def side_by_side_rows(results: list[SizeResult], builder: Builder) -> list[list[str]]:
    lines = []
    for result in results:
        for key, label in LABELS.items():
            label = builder.single_label() if key == "single" else label
            if key in result.missing:
                lines.append([str(result.chapters), label, result.missing[key], "", "", "", "", "", ""])
                continue
            found = result.series[key]
            wall, pages = found.median("wall"), result.pages[key]
            lines.append(
                [
                    str(result.chapters),
                    label,
                    fmt_s(wall),
                    fmt_s(found.median("cpu")),
                    f"{found.median('rss_mb'):.0f} MB",
                    str(pages),
                    f"{wall / pages * 1000:.1f} ms",
                    _ratio_text(result, key, "single", "single pass"),
                    _ratio_text(result, key, "typst", "Typst"),
                ]
            )
    return lines


def _typst_wall(result: SizeResult) -> float | None:
    return result.series["typst"].median("wall") if "typst" in result.series else None


def _typst_compile(result: SizeResult) -> float | None:
    """Typst's compile alone (the `typst` import included), Pandoc's conversion left out."""
    steps = [_peer_steps(sample) for sample in result.series["typst"].samples] if "typst" in result.series else []
    return statistics.median(step["pdf_s"] for step in steps) if steps and all(steps) else None


def projection_rows(results: list[SizeResult]) -> list[list[str]]:
    lines = []
    for result in results:
        p = result.projection
        if p is None:
            lines.append([str(result.chapters), result.projection_missing] + [""] * 13)
            continue
        typst_wall = _typst_wall(result)
        measured = {
            key: fmt_s(result.series[key].median("wall")) if key in result.series else "-" for key in ("jobs1", "jobs2")
        }
        lines.append(
            [
                str(result.chapters),
                fmt_s(p.serial_s),
                p.chapters.text(),
                p.edges.text(),
                p.folios.text(),
                fmt_s(p.unknown_s + p.overhead_s),
                fmt_s(p.assemble_s),
                f"{fmt_s(p.at(1))} ({measured['jobs1']})",
                f"{fmt_s(p.at(2))} ({measured['jobs2']})",
                fmt_s(p.at(8)),
                fmt_s(p.at(16)),
                fmt_s(typst_wall) if typst_wall else "-",
                f"{p.at(8) / typst_wall:.1f}x" if typst_wall else "-",
                f"{p.at(16) / typst_wall:.1f}x" if typst_wall else "-",
                p.longest_edge,
            ]
        )
    return lines


def goal_rows(result: PdfRunsResult) -> list[list[str]]:
    """The issue's three goals, at the largest size measured (marked only at the goal's own size)."""
    largest = result.sizes[-1]
    at_goal = largest.chapters >= GOAL_CHAPTERS
    where = f"{largest.chapters} chapters" + ("" if at_goal else f" (the goal is set at {GOAL_CHAPTERS})")
    lines = []
    single, two = largest.series.get("single"), largest.series.get("jobs2")
    label = f"Cold PDF at {where}, `--jobs 2`, against today's single pass"
    if single and two:
        share = ratio(two, single)
        lines.append(
            row("9a", label, two, f"{share:.2f}x single pass", "<= 0.6x single pass", share <= 0.6 if at_goal else None)
        )
    else:
        why = largest.missing.get("jobs2") or largest.missing.get("single", "")
        lines.append(["9a", label, why, "", "", "", "<= 0.6x single pass", ""])
    if single:
        label = f"Cold PDF at {where}, " + result.builder.single_label().removeprefix("`report` PDF, ")
        lines.append(row("9b", label, single, "1.00", "", None))
    edit = result.edit
    if edit:
        workers = edit.workers_missing or "`--jobs 2`"
        for number, kind, what, target in (
            ("10a", "pdf", "PDF alone (`--pdf`)", "< 5 s"),
            ("10b", "all", "all editions", ""),
        ):
            label = f"Build after a one-word edit in the middle chapter at {edit.chapters} chapters, {what}, {workers}"
            if kind not in edit.series:
                lines.append([number, label, edit.missing.get(kind, ""), "", "", "", target, ""])
                continue
            found = edit.series[kind]
            ok = found.median("wall") < 5 if target and edit.chapters >= GOAL_CHAPTERS else None
            lines.append(row(number, label, found, edit.laid_out[kind], target, None if kind in edit.cached else ok))
    p, typst_wall = largest.projection, _typst_wall(largest)
    label = f"On paper at 16 cores, {where}: T(16) of the projection against Typst's wall"
    if p and typst_wall:
        share = p.at(16) / typst_wall
        compile_s = _typst_compile(largest)
        alone = f"; {p.at(16) / compile_s:.1f}x its compile alone" if compile_s else ""
        lines.append(
            [
                "11",
                label,
                fmt_s(p.at(16)),
                "",
                "",
                f"{share:.1f}x Typst ({fmt_s(typst_wall)}{alone})",
                "<= 2x Typst",
                met(share <= 2 if at_goal else None),
            ]
        )
    else:
        lines.append(["11", label, largest.projection_missing or "Typst not measured", "", "", "", "<= 2x Typst", ""])
    return lines


def _peer_steps(sample: Sample) -> dict[str, float]:
    """The seconds bench/peers.py prints for its two steps (empty if it printed something else)."""
    try:
        steps = json.loads(sample.stdout.strip().splitlines()[-1])
        return {"convert_s": float(steps["convert_s"]), "pdf_s": float(steps["pdf_s"])}
    except (IndexError, ValueError, KeyError, TypeError):
        return {}


def why_lines(result: PdfRunsResult) -> list[str]:
    """Where the time goes at the largest size: the terms of T(16), and the costliest runs."""
    largest = result.sizes[-1]
    p = largest.projection
    lines = []
    if p:
        total = p.at(16)
        terms = [
            ("P (serial build)", p.serial_s),
            ("chapter runs", p.chapters.on(16)),
            (f"front and back (longest: {p.longest_edge})", p.edges.on(16)),
            ("folio layer", p.folios.on(16)),
            ("U + O (serial)", p.unknown_s + p.overhead_s),
            ("assembly", p.assemble_s),
        ]
        shares = ", ".join(f"{name} {fmt_s(s)} ({s / total:.0%})" for name, s in terms if s > 0)
        lines.append(f"- T(16) at {largest.chapters} chapters = {fmt_s(total)}: {shares}.")
    if largest.runs:
        costly = sorted(largest.runs, key=lambda r: -r.cpu_s)[:5]
        lines.append(
            f"- Costliest runs at {largest.chapters} chapters (`--jobs 1`, CPU): "
            + ", ".join(
                f"{r.name} ({r.kind}, {r.pages} p.) {fmt_s(r.cpu_s)} = {1000 * r.cpu_s / max(r.pages, 1):.0f} ms/page"
                for r in costly
            )
            + "."
        )
    for size in result.sizes:
        compile_s, typst_wall = _typst_compile(size), _typst_wall(size)
        if compile_s and typst_wall:
            lines.append(
                f"- Pandoc -> Typst at {size.chapters} chapters: {fmt_s(typst_wall)}, of which Typst's compile "
                f"(its import included) {fmt_s(compile_s)}; the rest is Pandoc's conversion and process start."
            )
        if size.reused_cold:
            lines.append(
                f"- **{size.reused_cold} runs came from a cache in the cold (`--force`) builds at {size.chapters} "
                "chapters**: those rows are not cold."
            )
    if result.edit:
        for kind in result.edit.cached:
            lines.append(
                f"- row 10 ({kind}): a build after the edit answered from the build cache: nothing was measured"
            )
    return lines


def block_lines(result: PdfRunsResult) -> list[str]:
    """The tables of the generated block (its heading lines and markers are the caller's)."""
    lines = ["", "### Goals", ""]
    lines += table(["#", "measurement", "wall", "CPU", "peak RSS", "ratio", "target", ""], goal_rows(result))
    lines += ["", "### Side by side, cold, the same content (PDF alone; Markdown for the peers)", ""]
    lines += table(
        ["chapters", "measurement", "wall", "CPU", "peak RSS", "pages", "per page", "vs single pass", "vs Typst"],
        side_by_side_rows(result.sizes, result.builder),
    )
    lines += [
        "",
        "Wall and CPU are for the whole process tree (workers, Pandoc and WeasyPrint's command line "
        "included); peak RSS is that of the largest single process (with `--jobs 2`, the larger worker or "
        "the builder, not their sum). Every builder row is cold: `--force` into an output folder removed "
        "before each build.",
    ]
    lines += ["", "### Projection to 8 and 16 cores, from the cold `--jobs 1` builds", "", f"`{FORMULA}`", ""]
    lines += [f"- {term}" for term in FORMULA_TERMS]
    lines += [""]
    lines += table(
        [
            "chapters",
            "P",
            "S_ch (runs, longest)",
            "F + ΣB (runs, longest)",
            "L (runs, longest)",
            "U + O",
            "A",
            "T(1) (measured)",
            "T(2) (measured)",
            "T(8)",
            "T(16)",
            "Typst",
            "T(8)/Typst",
            "T(16)/Typst",
            "longest front/back run",
        ],
        projection_rows(result.sizes),
    )
    lines += ["", "Where the time goes:", ""]
    lines += why_lines(result) or ["- (nothing reported: see the rows above)"]
    builder = result.builder
    if not (builder.jobs and builder.run_size):
        lines.append(
            "- `report build` here has "
            + ", ".join(
                f"{'' if have else 'no '}`{flag}`"
                for flag, have in (("--jobs", builder.jobs), ("--run-size", builder.run_size))
            )
            + ": the rows that need them say so."
        )
    return lines
