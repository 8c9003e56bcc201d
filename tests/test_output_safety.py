"""Outputs are never lost: killed, interrupted and concurrent builds; HTML rebuilds byte-identical."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from report.cli import main
from report.writers import files

from .conftest import DEFAULT_DOSSIER, EN_DOSSIER, REPO

pytestmark = pytest.mark.slow  # real builds

# Runs a build in a child process and says on stdout when each stage starts, so the
# test can kill it at a known point without guessing at timings.
HARNESS = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from report.pipeline import BuildOptions, build

def progress(stage, state):
    print(stage, state, flush=True)

try:
    build(Path(sys.argv[1]), BuildOptions(out_dir=Path(sys.argv[2])), progress)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(files.TEMP_SUFFIX)]


def changed_copy(source: Path, target: Path) -> Path:
    """The dossier with different text, so a finished rebuild would change every edition."""
    shutil.copytree(source, target)
    first = sorted(p for p in target.glob("*.yaml") if p.name != "dossier.yaml")[0]
    text = first.read_text(encoding="utf-8")
    first.write_text(text.replace("body: |\n", "body: |\n  A new first paragraph.\n\n", 1), encoding="utf-8")
    return target


def run_until(root: Path, out: Path, stage: str) -> subprocess.Popen:
    """Start a build in a child process and return once it reports ``stage`` started."""
    child = subprocess.Popen(
        [sys.executable, "-c", HARNESS, str(root), str(out), str(REPO)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == f"{stage} start":
            return child
    child.wait()
    raise AssertionError(f"the build never reached {stage}: {child.stderr.read() if child.stderr else ''}")


@pytest.fixture
def previous(default_build, tmp_path) -> tuple[Path, dict[str, bytes]]:
    """An output folder holding a good earlier build of the default dossier."""
    out = tmp_path / "out"
    out.mkdir()
    for path in (default_build.pdf, default_build.epub, default_build.html):
        shutil.copy2(path, out / path.name)
    return out, snapshot(out)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_build_killed_during_layout_leaves_earlier_outputs(how, previous, tmp_path):
    out, before = previous
    root = changed_copy(DEFAULT_DOSSIER, tmp_path / "dossier")
    child = run_until(root, out, "pdf layout")
    child.send_signal(how)
    child.communicate(timeout=120)
    assert child.returncode != 0, "the build finished before it was stopped"
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_build_killed_while_writing_leaves_whole_files_and_no_temporaries_after_the_next(previous, tmp_path):
    """SIGKILL cannot be caught: each edition is then the old or a complete new one, and the
    next build clears what the killed one left."""
    out, before = previous
    root = changed_copy(DEFAULT_DOSSIER, tmp_path / "dossier")
    child = run_until(root, out, "write")
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    for name, old in before.items():
        data = (out / name).read_bytes()
        if data == old:
            continue
        if name.endswith(".pdf"):
            assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
        elif name.endswith(".epub"):
            with zipfile.ZipFile(out / name) as epub:
                assert epub.testzip() is None
        else:
            assert data.rstrip().endswith(b"</html>")
    assert main(["build", str(root), "--out", str(out), "--html", "--quiet"]) == 0
    assert leftovers(out) == []


def test_interrupt_while_writing_temporaries_keeps_old_files(tmp_path, monkeypatch):
    """Ctrl-C before the renames: nothing replaced, no temporary file left."""
    targets = {tmp_path / f"book.{kind}": f"old {kind}".encode() for kind in ("pdf", "epub", "html")}
    for path, data in targets.items():
        path.write_bytes(data)
    calls = []
    real_fsync = os.fsync

    def fsync_then_interrupt(fd):
        calls.append(fd)
        real_fsync(fd)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", fsync_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        files.write_all({path: b"new" for path in targets})
    assert {p: p.read_bytes() for p in targets} == targets
    assert leftovers(tmp_path) == []


def test_interrupt_during_the_renames_is_held_until_all_are_done(tmp_path, monkeypatch):
    """Ctrl-C between two renames would leave a mix of old and new editions: it waits."""
    targets = [tmp_path / f"book.{kind}" for kind in ("pdf", "epub", "html")]
    for path in targets:
        path.write_bytes(b"old")
    real_replace = os.replace

    def replace_and_interrupt(source, target):
        real_replace(source, target)
        signal.raise_signal(signal.SIGINT)  # a real signal, as Ctrl-C sends it

    monkeypatch.setattr(files.os, "replace", replace_and_interrupt)
    with pytest.raises(KeyboardInterrupt):
        files.write_all({path: b"new" for path in targets})
    assert [p.read_bytes() for p in targets] == [b"new"] * 3
    assert leftovers(tmp_path) == []


def test_two_builds_into_one_folder_at_once(tmp_path):
    """Two builds of same-titled dossiers race for the same file names: one whole result wins."""
    roots = [EN_DOSSIER, changed_copy(EN_DOSSIER, tmp_path / "changed")]
    alone = []
    for number, root in enumerate(roots):
        out = tmp_path / f"alone{number}"
        assert main(["build", str(root), "--out", str(out), "--html", "--quiet"]) == 0
        alone.append(snapshot(out))
    assert alone[0] != alone[1]
    shared = tmp_path / "shared"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "report", "build", str(root), "--out", str(shared), "--html", "--quiet"],
            env=env,
            stderr=subprocess.PIPE,
        )
        for root in roots
        for _ in range(3)
    ]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    result = {k: v for k, v in snapshot(shared).items() if k != files.LOCK_NAME}
    assert result in ({k: v for k, v in a.items() if k != files.LOCK_NAME} for a in alone)
    assert leftovers(shared) == []


def test_html_is_byte_identical_build_to_build_and_alone_or_with_the_other_editions(en_build, tmp_path):
    """The HTML edition does not depend on the run, nor on which other editions were built."""
    outputs = []
    for number in range(2):
        out = tmp_path / f"html{number}"
        assert main(["build", str(EN_DOSSIER), "--out", str(out), "--html", "--quiet"]) == 0
        outputs.append((out / en_build.html.name).read_bytes())
    assert outputs[0] == outputs[1] == en_build.html.read_bytes()


def test_a_copied_dossier_builds_the_same_html_elsewhere(en_build, tmp_path):
    """Another folder (as on another machine) gives the same bytes: no path leaks into the output."""
    root = shutil.copytree(EN_DOSSIER, tmp_path / "somewhere" / "else")
    out = tmp_path / "out"
    assert main(["build", str(root), "--out", str(out), "--html", "--quiet"]) == 0
    data = (out / en_build.html.name).read_bytes()
    assert str(tmp_path).encode() not in data
    assert data == en_build.html.read_bytes()


def test_output_folder_inside_the_dossier_does_not_change_the_next_build(tmp_path):
    """The last build's files in `dossier/out` must not feed the build id of the next one."""
    root = shutil.copytree(EN_DOSSIER, tmp_path / "dossier")
    out = root / "out"
    builds = []
    for _ in range(2):
        assert main(["build", str(root), "--out", str(out), "--html", "--quiet"]) == 0
        builds.append(snapshot(out))
    assert builds[0] == builds[1]


def test_a_planted_lock_link_creates_nothing_elsewhere(tmp_path, capsys):
    """`--out dossier/dist` with a dossier that ships `dist/.report.lock` as a link elsewhere."""
    root = shutil.copytree(EN_DOSSIER, tmp_path / "dossier")
    (root / "dist").mkdir()
    target = tmp_path / "created-by-the-build"
    (root / "dist" / files.LOCK_NAME).symlink_to(target)
    assert main(["build", str(root), "--out", str(root / "dist"), "--html", "--quiet"]) == 1
    assert "cannot write in the output folder" in capsys.readouterr().err
    assert not target.exists()


def _editions(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".pdf", ".epub", ".html")}


@pytest.mark.parametrize("where", ["equal", "inside"])
def test_out_equal_to_or_inside_the_dossier_is_reproducible_and_cached(where, tmp_path, capsys):
    """Editions written into the dossier folder are outputs, not sources: the next build is the
    same bytes as a build elsewhere, and is answered from the cache."""
    reference = tmp_path / "reference"
    root = shutil.copytree(EN_DOSSIER, tmp_path / "dossier")
    assert main(["build", str(root), "--out", str(reference), "--quiet"]) == 0
    out = root if where == "equal" else root / "dist"
    assert main(["build", str(root), "--out", str(out), "--quiet"]) == 0
    first = _editions(out)
    assert len(first) == 3 and first == _editions(reference)
    capsys.readouterr()
    assert main(["build", str(root), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.count("up to date") == 3 and "nothing changed since the last build" in said, said
    assert main(["build", str(root), "--out", str(out), "--force", "--quiet"]) == 0
    assert _editions(out) == first


# --- Bounded resources (issue 10): the PDF engine's memory ceiling, and it dies with its parent ---

from report.writers.pdf_engine import MEMORY_CEILING_MB  # noqa: E402

from .conftest import MINIMAL_META, write_files  # noqa: E402
from .support.synthetic import write_dossier as write_long_dossier  # noqa: E402


def build_measured(root: Path, out: Path, tmp_path: Path, *extra: str, env: dict | None = None):
    """Build in a child process under the peak-memory launcher: (exit status, stderr, peak MiB)."""
    import json

    result = tmp_path / "peak.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.support.peak",
            str(result),
            sys.executable,
            "-m",
            "report",
            "build",
            str(root),
            "--out",
            str(out),
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )
    measured = json.loads(result.read_text())
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    return measured["returncode"], run.stderr, measured["peak_mib"]


def chapter(body_lines: list[str]) -> str:
    return "title: A\nbody: |\n" + "".join(f"  {line}\n" if line else "\n" for line in body_lines)


@pytest.mark.parametrize("case", ["span", "footnotes", "nesting"])
def test_resource_bombs_stay_below_the_memory_ceiling(case, previous, tmp_path):
    """Each case once drove a build to all memory or to minutes of layout; now each is capped
    (a located warning) or refused (a located error) and the whole build stays far below the ceiling."""
    out, before = previous
    meta = MINIMAL_META + ("raw_html: true\n" if case == "span" else "")
    if case == "span":
        body = ['<table><tr><td colspan="1000000000" rowspan="1000000000">x</td></tr></table>']
    elif case == "footnotes":
        body = [f"T{n}.[^{n}]" for n in range(1, 20001)] + [f"[^{n}]: N{n}." for n in range(1, 20001)]
    else:
        body = [("  " * level) + "- deeper" for level in range(400)]
    root = write_files(tmp_path / "bomb", {"dossier.yaml": meta, "01-bomb.yaml": chapter(body)})
    code, err, peak = build_measured(root, out if case != "span" else tmp_path / "new", tmp_path)
    where = f"{root / '01-bomb.yaml'}:"
    if case == "span":
        assert code == 0, err
        assert f"{where}3:1: warning: body: raw HTML colspan='1000000000' on <td>" in err, err
    else:
        assert code == 1, err
        line = 3 + 20000 + 500 if case == "footnotes" else 3 + 16
        assert f"{where}{line}:1: error: body: " in err, err
        assert snapshot(out) == before
    assert peak < MEMORY_CEILING_MB / 2, peak


def test_the_engine_running_out_of_its_ceiling_is_a_user_error(previous, tmp_path):
    out, before = previous
    root = write_long_dossier(tmp_path / "long", chapters=60)
    code, err, peak = build_measured(root, out, tmp_path, env={"REPORT_PDF_MEMORY_MB": "300"})
    assert code == 1, err
    assert "report: error: the PDF " in err and "ceiling" in err and "300 MiB" in err, err
    assert snapshot(out) == before and leftovers(out) == []


def engines_of(builder: int) -> list[int]:
    """The pids of the builder's PDF engine children (Linux /proc): one per job for a book in runs."""
    children = []
    for task in Path(f"/proc/{builder}/task").iterdir():
        children += (task / "children").read_text().split()
    engines = [
        int(pid) for pid in children if b"report.writers.pdf_engine" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert engines, children
    return engines


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_pdf_engine_dies_with_the_builder(how, tmp_path):
    """`timeout` sends SIGTERM, the OOM killer SIGKILL: either way the kernel ends the engine.

    The engine is stopped (SIGSTOP) before its builder is killed, so it cannot finish or fail
    on its own: only PR_SET_PDEATHSIG's SIGKILL, which reaches a stopped process, ends it.
    """
    import time

    root = write_long_dossier(tmp_path / "long", chapters=120)  # laid out in runs: an engine per core
    child = run_until(root, tmp_path / "out", "pdf layout")
    engines = engines_of(child.pid)
    for engine in engines:
        os.kill(engine, signal.SIGSTOP)
    try:
        child.send_signal(how)
        child.communicate(timeout=60)
        deadline = time.monotonic() + 30  # a bound for the kernel to deliver, not a timing goal
        while not all(gone(engine) for engine in engines) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(gone(engine) for engine in engines), f"a PDF engine of {engines} outlived its builder"
    finally:
        for engine in engines:
            if not gone(engine):
                os.kill(engine, signal.SIGKILL)


def test_the_pdf_engine_stops_when_its_stdin_closes(tmp_path):
    """Where the kernel has no parent-death signal: the end of stdin ends the engine at once,
    before it sends the layout of a 120-chapter dossier it was in the middle of."""
    from report.pipeline import check, styles_dir
    from report.render import Renderer, RenderSettings, fixed_timestamp
    from report.writers.pdf import PdfOptions
    from report.writers.pdf_engine import PdfEngine

    root = write_long_dossier(tmp_path / "long", chapters=120)
    _, book = check(root)
    assert book is not None
    html = Renderer(book, RenderSettings(fixed_timestamp(book.date, None), "test", layout=book.layout)).pdf_document()
    engine = PdfEngine()
    try:
        engine.submit(
            html,
            base_dir=root,
            styles_dir=styles_dir(),
            options=PdfOptions(layout=book.layout),
            identifier=book.identifier,
            write_pdf=True,
        )
        process = engine._process
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()  # what the builder's death does to the pipe
        assert process.stdout.read() == b"", "the engine laid out for a builder that was gone"
        assert process.wait(timeout=60) == 1
    finally:
        engine.close()


def test_an_engine_scope_ends_its_engines_from_another_thread(tmp_path):
    """`report watch --pdf` stops its background PDF build so: the engine ends, the wait fails at once."""
    import threading

    from report.errors import ReportError
    from report.writers.pdf_engine import EngineScope, PdfEngine

    scope = EngineScope()
    failed: list[BaseException] = []

    def builder() -> None:
        with scope:
            engine = PdfEngine()
        try:
            engine.layout()  # never submitted: only the scope's cancel() can end this wait
        except ReportError as exc:
            failed.append(exc)
        finally:
            engine.close()

    thread = threading.Thread(target=builder)
    thread.start()
    while not scope._engines and thread.is_alive():  # the engine is started and adopted
        thread.join(timeout=0.01)
    scope.cancel()
    thread.join(timeout=60)
    assert not thread.is_alive() and len(failed) == 1 and "SIGKILL" in str(failed[0])

    # an engine started in a scope that was cancelled already is ended at once
    with scope:
        late = PdfEngine()
    try:
        assert late._process.wait(timeout=60) == -signal.SIGKILL
    finally:
        late.close()


def test_a_pdf_build_leaves_no_temporary_files(tmp_path):
    """The engine ends by os._exit: its temporary files (WeasyPrint's font folder) are removed by the builder,
    and those a killed builder left are removed by the next one."""
    root = write_files(tmp_path / "dossier", {"dossier.yaml": MINIMAL_META, "01-a.yaml": "title: A\nbody: Text.\n"})
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = temporary / f"report-pdf-engine-{int(gone.stdout)}-x1y2z3"  # a builder that is gone
    (left / "weasyprint-abc").mkdir(parents=True)
    living = temporary / f"report-pdf-engine-{os.getpid()}-a1b2c3"  # a builder at work (this test)
    living.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "report", "build", str(root), "--out", str(tmp_path / "out"), "--pdf"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(temporary)},
    )
    assert run.returncode == 0, run.stderr
    assert list(temporary.iterdir()) == [living]
