"""The measurement: whole processes, run side by side in rounds, and the cells of the tables.

Every measurement is a whole process (wall time, CPU time of the process and its
children, peak resident set of the largest of them), repeated after a warm-up; a table
gives medians, and ratios as the median of ratios taken side by side in the same round,
because the machine may be shared and absolute times from two runs do not compare.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PY = sys.executable
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    stdout: str = ""


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)


# A small launcher forks and execs the measured command and reads its rusage. Linux keeps a
# process's peak RSS across exec, so a command forked from this (large) runner would report
# the runner's own size; forked from the launcher, it starts from a few megabytes.
LAUNCHER = """
import os, sys, time
result, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(result, "w") as handle:
    handle.write(f"{wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def measure(cmd: list[str], *, cwd: Path = REPO, env: dict[str, str] | None = None) -> Sample:
    """Run one whole process; wall time, user+system CPU (children included), peak RSS."""
    with tempfile.TemporaryDirectory() as scratch, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        result = Path(scratch) / "result"
        subprocess.run(
            [PY, "-S", "-c", LAUNCHER, str(result), *map(str, cmd)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            check=True,
        )
        wall, cpu, rss_kb, code = result.read_text().split()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if int(code) != 0:
            raise RuntimeError(
                f"{' '.join(map(str, cmd))} failed ({code}):\n{err.read().decode('utf-8', 'replace')[-3000:]}"
            )
    return Sample(float(wall), float(cpu), int(rss_kb) / 1024, stdout)


# a step of a round: the command, and what to do before each run of it (an edit, a file removed)
Step = tuple[list[str], Callable[[], None] | None]


def rounds(
    runs: int,
    warmup: int,
    steps: Mapping[str, Step],
    failed: dict[str, str] | None = None,
    *,
    rotate: bool = False,
) -> dict[str, Series]:
    """Run every step once per round, side by side; warm-up rounds are not kept.

    A step whose process fails stops the benchmark, unless ``failed`` is given: then the
    step's reason is put there, it leaves the rounds and has no series (the others go on).
    With ``rotate``, each round starts one step later, so that no step is always the first
    (after the idle pause, or after another tool's large process) when there are several rounds.
    """
    series = {name: Series() for name in steps}
    names = list(steps)
    for number in range(warmup + runs):
        shift = number % len(names) if rotate and names else 0
        for name in names[shift:] + names[:shift]:
            cmd, before = steps[name]
            if name not in series:
                continue
            if before:
                before()
            try:
                sample = measure(cmd)
            except RuntimeError as error:
                if failed is None:
                    raise
                failed[name] = failure_text(str(error))
                del series[name]
                continue
            if number >= warmup:
                series[name].samples.append(sample)
    return series


def failure_text(message: str) -> str:
    """One table cell for a failed process (a `measure` error): its exit status and last line."""
    head, _, rest = message.partition("\n")
    status = re.search(r"failed \((-?\d+)\):$", head)
    lines = [line.strip() for line in rest.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]  # not a closing "please report" line
    last = (errors or lines or [""])[-1]
    if len(last) > 160:
        last = last[:157] + "..."
    text = f"failed (exit {status.group(1)})" if status else "failed"
    return (text + (f": {last}" if last else "")).replace("|", "\\|")


def ratio(a: Series, b: Series, attr: str = "wall") -> float:
    """The median of the per-round ratios a/b (both measured in the same rounds)."""
    return statistics.median(getattr(x, attr) / getattr(y, attr) for x, y in zip(a.samples, b.samples, strict=True))


def pages_of(pdf: Path) -> int:
    """The page count, as pdfinfo reads it (pypdf where poppler is not installed)."""
    try:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        found = re.search(r"^Pages:\s+(\d+)", info, re.M)
        if found:
            return int(found.group(1))
    except (OSError, subprocess.CalledProcessError):
        pass
    from pypdf import PdfReader

    return len(PdfReader(str(pdf)).pages)


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def met(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "**not met**")


def row(number: str, label: str, series: Series, ratio_text: str, target: str, ok: bool | None) -> list[str]:
    """A row of the rows table: #, measurement, wall, CPU, peak RSS, ratio, target, met."""
    return [
        number,
        label,
        fmt_s(series.median("wall")),
        fmt_s(series.median("cpu")),
        f"{series.median('rss_mb'):.0f} MB",
        ratio_text,
        target,
        met(ok),
    ]


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines
