"""The benchmark runs end to end on a tiny dossier (no times are asserted: timings belong in bench/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the benchmark

REPO = Path(__file__).resolve().parent.parent


def test_bench_smoke_writes_the_table(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "run.py"),
            "--smoke",
            "--out",
            str(out),
            "--work",
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert "<!-- bench:begin" in text and "<!-- bench:end -->" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    numbers = {row.split("|")[1].strip() for row in rows}
    assert {"1", "2", "3a", "3b", "3c", "4a", "4c", "5", "6", "7", "8"} <= numbers
    assert "| 3 | " in text  # the scale table has the 3-chapter row
    # every measured row has a wall time; the watch rows saw the change (or the overlay) in the page
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if cells[0] in {"1", "2", "3a", "3b", "5", "6", "7", "8"}:
            assert cells[2].endswith(("ms", " s")), row
        if cells[0] in {"6", "7"}:
            assert "failed" not in cells[5], row
    edits = [row for row in rows if row.startswith("| 8 |")]
    assert len(edits) == 4 and all("one-chapter edit at 3 chapters" in row for row in edits)
    assert "answered from the cache" not in text  # each build after the edit did build


def test_generator_is_deterministic(tmp_path):
    from tests.support.synthetic import write_dossier

    a = write_dossier(tmp_path / "a", 4)
    b = write_dossier(tmp_path / "b", 4)
    files_a = sorted(p.name for p in a.iterdir())
    assert files_a == sorted(p.name for p in b.iterdir()) and len(files_a) == 5
    for name in files_a:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    chapter = (a / "0002-chapter.yaml").read_text(encoding="utf-8")
    assert "[^1]" in chapter and "[[quote:" in chapter and "speaker:" in chapter
