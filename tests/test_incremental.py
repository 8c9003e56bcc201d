"""Incremental builds equal cold builds, and an unchanged chapter is not read again (issue 15).

A sequence of edits is made to a copy of the English fixture (sources, citations, quotes,
events, footnotes) and, after each edit, the dossier is built twice: incrementally (the
output folder's disk memo, as `report build` does; or one memo kept in memory, as `report
watch` does) and cold (`--force`, in a new folder). Every edition's bytes and every
diagnostic must be the same; a step that breaks the source must fail with the same errors.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image as PILImage

from report.errors import SourceError
from report.memo import Memo
from report.options import BuildOptions
from report.pipeline import build

from .conftest import EN_DOSSIER, REPO, copy_dossier
from .support.synthetic import write_dossier

pytestmark = pytest.mark.slow  # real builds, the PDF included

NEW_CHAPTER = """title: "A Chapter Added Later"
id: added-later
summary: "Written after the first builds."
body: |
  The committee met once more, as the e-mail records [@clerk-email].

  [[quote:late-remark]]

  Nobody voted that evening.[^1]

  [^1]: The minutes say so on their last page.
quotes:
  - id: late-remark
    speaker: "Élodie Martin"
    text: "We are not done yet"
    date: "2022-01-10"
events:
  - date: "2022-01-10"
    title: "An extra meeting"
    text: "The committee meets without a vote."
"""


FOREWORD = """title: "Foreword"
body: |
  A short note before the first chapter.
events:
  - date: "2018"
    title: "Before it all"
    text: "Nothing yet."
"""


def _png(colour: tuple[int, int, int]) -> bytes:
    data = io.BytesIO()
    PILImage.new("RGB", (40, 30), colour).save(data, "PNG")
    return data.getvalue()


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _edits(root: Path) -> list[tuple[str, Callable[[], None]]]:
    first, second, third = (root / n for n in sorted(p.name for p in root.glob("0*.yaml")))
    added = root / "04-added-later.yaml"
    foreword = root / "00-foreword.yaml"
    return [
        ("change a body", lambda: _replace(first, "*eleven minutes*", "*twelve minutes*")),
        ("rename a quote id", lambda: _replace(first, "martin-starting-point", "martin-first-step")),
        ("add a chapter", lambda: added.write_text(NEW_CHAPTER, encoding="utf-8")),
        # every later chapter's number, EPUB file name and event order shift by one
        ("add a chapter before the others", lambda: foreword.write_text(FOREWORD, encoding="utf-8")),
        (
            "move an event to another year",
            lambda: _replace(second, 'date: "2021-04"\n    title: "Cost', 'date: "2016-04"\n    title: "Cost'),
        ),
        (
            "add an image",
            lambda: (
                (root / "figure.png").write_bytes(_png((200, 30, 30))),
                _replace(added, "Nobody voted", "![A red square](figure.png)\n\n  Nobody voted"),
            ),
        ),
        ("change the image's bytes", lambda: (root / "figure.png").write_bytes(_png((30, 30, 200)))),
        ("introduce an error", lambda: _replace(third, "\nbody: |\n", "\nbody: |\n  [[quote:no-such-quote]]\n\n")),
        ("fix the error", lambda: _replace(third, "  [[quote:no-such-quote]]\n\n", "")),
        (
            "change the dossier's title",
            lambda: _replace(root / "dossier.yaml", "Riverside Tram Decision", "Riverside Tram Debate"),
        ),
        ("remove a chapter", lambda: added.unlink()),
        ("remove the first chapter", lambda: foreword.unlink()),
    ]


def _outcome(root: Path, options: BuildOptions, memo: Memo | None = None) -> tuple[str, object]:
    """("ok", (bytes of each edition by kind, warnings)) or ("error", the located diagnostics)."""
    try:
        result = build(root, options, memo=memo)
    except SourceError as exc:
        return "error", [d.as_dict() for d in exc.diagnostics]
    editions = {w.kind: w.path.read_bytes() for w in result.outputs}
    return "ok", (editions, [w.as_dict() for w in result.warnings])


def _compare(step: str, incremental: tuple[str, object], cold: tuple[str, object]) -> None:
    assert incremental[0] == cold[0], f"after '{step}': incremental {incremental[0]}, cold {cold[0]}"
    if incremental[0] == "error":
        assert incremental[1] == cold[1], f"after '{step}': the diagnostics differ"
        return
    (inc_files, inc_warnings), (cold_files, cold_warnings) = incremental[1], cold[1]  # type: ignore[misc]
    assert inc_files.keys() == cold_files.keys()
    for kind in cold_files:
        assert inc_files[kind] == cold_files[kind], f"after '{step}': the {kind} differs from a cold build"
    assert inc_warnings == cold_warnings, f"after '{step}': the warnings differ"


def test_incremental_build_equals_cold_build_after_every_edit(tmp_path):
    root = copy_dossier(EN_DOSSIER, tmp_path / "dossier")
    incremental_out = tmp_path / "incremental"
    build(root, BuildOptions(out_dir=incremental_out))  # the first build leaves its parts on disk
    assert (incremental_out / ".report-cache" / "parts.pickle").is_file()
    failures_seen = 0
    for number, (step, edit) in enumerate(_edits(root)):
        edit()
        incremental = _outcome(root, BuildOptions(out_dir=incremental_out))
        cold = _outcome(root, BuildOptions(out_dir=tmp_path / f"cold-{number}", force=True))
        _compare(step, incremental, cold)
        failures_seen += incremental[0] == "error"
    assert failures_seen == 1  # the broken step did fail, in both builds


def test_a_memo_kept_in_memory_equals_cold_builds_and_reads_only_the_changed_file(tmp_path):
    """As `report watch` builds: one memo across saves, the HTML edition."""
    root = copy_dossier(EN_DOSSIER, tmp_path / "dossier")
    memo = Memo()
    out = tmp_path / "watch"
    build(root, BuildOptions(out_dir=out, formats=("html",)), memo=memo)
    for number, (step, edit) in enumerate(_edits(root)):
        edit()
        incremental = _outcome(root, BuildOptions(out_dir=out, formats=("html",)), memo)
        cold = _outcome(root, BuildOptions(out_dir=tmp_path / f"cold-{number}", formats=("html",), force=True))
        _compare(step, incremental, cold)
        counts = memo.counts()
        if step == "change a body":
            assert counts["yaml"] == {"made": 1, "reused": 3}  # dossier.yaml and two chapters not parsed again
            assert counts["markdown"] == {"made": 1, "reused": 2}
            assert counts["section"]["made"] == 1  # one chapter's HTML section rendered again
        if step == "change the dossier's title":  # the two added chapters are there too: five chapters
            assert counts["yaml"] == {"made": 1, "reused": 5}
            assert counts["markdown"]["made"] == 0  # no chapter's Markdown parsed again


def test_report_build_in_a_new_process_parses_only_the_changed_chapter(tmp_path):
    root = write_dossier(tmp_path / "dossier", chapters=6)
    out = tmp_path / "out"

    def cli_build() -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "report", "build", str(root), "--out", str(out), "--html", "--json"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["reused"]

    first = cli_build()
    assert first["yaml"] == {"made": 7, "reused": 0} and first["markdown"] == {"made": 6, "reused": 0}
    chapter = sorted(root.glob("0*.yaml"))[3]
    _replace(chapter, "body: |\n", "body: |\n  A sentence added in a later edit.\n\n")
    second = cli_build()
    assert second["yaml"] == {"made": 1, "reused": 6}
    assert second["markdown"] == {"made": 1, "reused": 5}
    assert second["section"] == {"made": 1, "reused": 5}
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert "A sentence added in a later edit." in html
