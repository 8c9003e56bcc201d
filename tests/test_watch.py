"""`report watch`: serves the page, rebuilds on save, shows errors in the page, stops cleanly.

With --pdf it keeps a PDF current beside the page. That the HTML is never held back by a PDF
build is shown without any timing: the engine process of a PDF build is stopped (SIGSTOP), so
that build cannot finish, and saves made meanwhile must still reach the page.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import REPO
from .support.pdftext import flatten, pdf_pages

pytestmark = pytest.mark.slow  # a live server and rebuilds

WAIT = 60.0  # seconds before giving up on a rebuild: generous for a loaded CI machine


class Watcher:
    """`python -m report watch` in a subprocess, on a free port of 127.0.0.1."""

    def __init__(self, root: Path, out: Path | None, *options: str, env: dict[str, str] | None = None):
        where = ["--out", str(out)] if out is not None else []  # None: the watch's own temporary folder
        self.process = subprocess.Popen(
            [sys.executable, "-m", "report", "watch", str(root), "--port", "0", *where, *options],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.stderr: list[str] = []
        self.scratch = tempfile.TemporaryDirectory(prefix="watch-test-")
        threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True).start()
        line = self.process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert match, f"no URL in {line!r}; stderr: {''.join(self.stderr)}"
        self.url = match.group(1)

    def page(self, path: str = "") -> str:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            assert response.status == 200
            return response.read().decode("utf-8")

    def wait_for(self, predicate, what: str, path: str = "") -> str:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            page = self.page(path)
            if predicate(page):
                return page
            time.sleep(0.1)
        pytest.fail(f"the served page {path or '/'} never showed {what}; stderr: {''.join(self.stderr)}")

    def pdf_build(self) -> int:
        """The number of the last PDF build, as the PDF page says it."""
        match = re.search(r'data-pdf-build="(\d+)"', self.page("pdf"))
        assert match
        return int(match.group(1))

    def pdf_text(self) -> str:
        """The text of the served PDF ("" before the first one is ready)."""
        try:
            with urllib.request.urlopen(self.url + "preview.pdf", timeout=10) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            assert exc.code == 503  # not built yet
            return ""
        assert data.startswith(b"%PDF-")
        scratch = Path(self.scratch.name) / "preview.pdf"
        scratch.write_bytes(data)
        return flatten("\n".join(pdf_pages(scratch)))

    def wait_for_pdf(self, text: str) -> str:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            found = self.pdf_text()
            if text in found:
                return found
            time.sleep(0.2)
        pytest.fail(f"the served PDF never showed {text!r}; stderr: {''.join(self.stderr)}")

    def freeze_next_pdf_build(self, chapter: Path, body: str) -> int:
        """Save ``body`` and stop (SIGSTOP) the engine of the PDF build that follows; its pid.

        An engine caught after its build was done is no use: then the save is made again.
        """
        for attempt in range(5):
            before = self.pdf_build()
            save(chapter, f"{body} ({attempt})")
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                engines = engines_of(self.process.pid)
                if engines:
                    if stopped(engines[0]) and self.pdf_build() == before:
                        return engines[0]
                    if process_state(engines[0]) == "T":
                        os.kill(engines[0], signal.SIGCONT)
                    break
                if self.pdf_build() != before:
                    break  # built before its engine was seen
                time.sleep(0.005)
        pytest.fail(f"no PDF build was caught running; stderr: {''.join(self.stderr)}")

    def stop(self, how: signal.Signals = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(how)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.scratch.cleanup()


def save(chapter: Path, body: str) -> None:
    chapter.write_text(f"title: A chapter\nbody: |\n  {body}\n", encoding="utf-8")


def engines_of(pid: int) -> list[int]:
    """The PDF engine processes among the children of ``pid``, in any of its threads (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
        for child in children:
            try:
                if b"report.writers.pdf_engine" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def stopped(pid: int) -> bool:
    """Stop ``pid`` (SIGSTOP); True once it is stopped, False if it ended first."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return False
    while (state := process_state(pid)) not in ("T", "Z", "gone"):  # the signal is on its way
        time.sleep(0.001)
    return state == "T"


def process_state(pid: int) -> str:
    """R, S, T (stopped), Z (a zombie)...; "gone" when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return "gone"


@pytest.fixture
def watcher(minimal, tmp_path):
    root = minimal()
    started = Watcher(root, tmp_path / "out")
    started.root = root
    started.out = tmp_path / "out"
    yield started
    started.stop()


def test_watch_serves_rebuilds_shows_errors_and_stops_cleanly(watcher):
    chapter = watcher.root / "01-chapter.yaml"
    first = watcher.page()
    assert "Some text." in first and "EventSource" in first
    assert "report-pdf-link" not in first  # no PDF preview without --pdf
    for path in ("pdf", "preview.pdf"):
        with pytest.raises(urllib.error.HTTPError) as missing:
            watcher.page(path)
        assert missing.value.code == 404

    chapter.write_text("title: A chapter\nbody: |\n  Changed while watching.\n", encoding="utf-8")
    watcher.wait_for(lambda page: "Changed while watching." in page, "the saved change")

    chapter.write_text("title: A chapter\nbodyy: |\n  Broken.\n", encoding="utf-8")
    broken = watcher.wait_for(lambda page: "report-error-overlay" in page, "the error overlay")
    assert f"{chapter}:2:1: error: bodyy: unknown key &#x27;bodyy&#x27; (did you mean &#x27;body&#x27;?)" in broken
    assert "Changed while watching." in broken  # the last good build stays under the overlay
    assert watcher.process.poll() is None  # the error did not stop the server

    chapter.write_text("title: A chapter\nbody: |\n  Fixed again.\n", encoding="utf-8")
    fixed = watcher.wait_for(lambda page: "Fixed again." in page, "the fixed page")
    assert "report-error-overlay" not in fixed

    # the reload script is served, never written into the built edition
    built = list(watcher.out.glob("*.html"))
    assert len(built) == 1 and "Fixed again." in built[0].read_text(encoding="utf-8")
    assert "EventSource" not in built[0].read_text(encoding="utf-8")
    assert not list(watcher.out.glob("*.pdf")) and not list(watcher.out.glob("*.epub"))

    assert watcher.stop() == 0
    assert "stopped" in "".join(watcher.stderr)


def test_a_save_parses_only_the_file_that_changed(minimal, tmp_path):
    """The watch process keeps every chapter's parts: a save reads one file again, not the dossier."""
    chapters = {f"0{n}-part{n}__yaml": f"title: Chapter {n}\nbody: |\n  Text {n}.\n" for n in range(2, 6)}
    root = minimal(**chapters)
    watching = Watcher(root, tmp_path / "out")
    try:

        def logged(what: str) -> str:
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                found = [line for line in "".join(watching.stderr).splitlines() if what in line]
                if found:
                    return found[-1]
                time.sleep(0.05)
            pytest.fail(f"never logged {what!r}; stderr: {''.join(watching.stderr)}")

        assert "(files parsed: 6 of 6)" in logged("rebuilt in")  # the first build reads everything
        save(root / "03-part3.yaml", "Saved once.")
        watching.wait_for(lambda page: "Saved once." in page, "the saved change")
        assert logged("(files parsed: 1 of 6)")
        page = watching.page()
        assert all(f"Text {n}." in page for n in (2, 4, 5))  # the chapters not read again are all there
    finally:
        assert watching.stop() == 0


def test_watch_sends_a_build_event_after_each_rebuild(watcher):
    with urllib.request.urlopen(watcher.url + "__report/events", timeout=WAIT) as events:
        assert events.headers["Content-Type"] == "text/event-stream"
        assert events.readline() == b"event: build\n"
        first = int(events.readline().decode().removeprefix("data: "))
        (watcher.root / "01-chapter.yaml").write_text("title: B\nbody: |\n  New.\n", encoding="utf-8")
        lines = []
        while b"event: build\n" not in lines:
            lines.append(events.readline())
        assert int(events.readline().decode().removeprefix("data: ")) > first


def test_ctrl_c_stops_watch_cleanly(watcher):
    assert "Some text." in watcher.page()
    assert watcher.stop(signal.SIGINT) == 0
    stderr = "".join(watcher.stderr)
    assert "stopped" in stderr and "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


def test_a_save_right_after_start_is_not_missed(minimal, tmp_path):
    root = minimal()
    watcher = Watcher(root, tmp_path / "out")
    try:
        # written before the file watcher may be running: seen by the periodic look at the files
        (root / "01-chapter.yaml").write_text("title: A chapter\nbody: |\n  Saved at once.\n", encoding="utf-8")
        watcher.wait_for(lambda page: "Saved at once." in page, "a save made right at start")
    finally:
        assert watcher.stop() == 0


def test_watch_refuses_a_missing_folder_and_a_port_in_use(tmp_path, minimal, capsys):
    import socket

    from report.cli import main

    assert main(["watch", str(tmp_path / "nowhere"), "--port", "0"]) == 1
    assert "no dossier folder there" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["watch", str(minimal()), "--port", str(port)]) == 1
    assert f"cannot serve on 127.0.0.1:{port}" in capsys.readouterr().err


def read_events(events, wanted: str, after: int) -> int:
    """Read the event stream up to an event ``wanted`` with a number above ``after``; that number."""
    name = ""
    while True:
        line = events.readline().decode()
        assert line, "the event stream ended"
        if line.startswith("event: "):
            name = line.removeprefix("event: ").strip()
        elif line.startswith("data: ") and name == wanted and int(line.removeprefix("data: ")) > after:
            return int(line.removeprefix("data: "))


def test_watch_pdf_serves_the_pdf_shows_its_errors_and_keeps_the_last_good_one(minimal, tmp_path):
    root = minimal()
    chapter = root / "01-chapter.yaml"
    out = tmp_path / "out"
    watcher = Watcher(root, out, "--pdf")
    try:
        assert f"the PDF at {watcher.url}pdf" in watcher.process.stdout.readline()
        page = watcher.page()
        assert 'id="report-pdf-link" href="/pdf"' in page  # a visible link, served with the page only

        assert "Some text." in watcher.wait_for_pdf("Some text.")
        with urllib.request.urlopen(watcher.url + "preview.pdf", timeout=10) as response:
            assert response.headers["Content-Type"] == "application/pdf"
            assert response.headers["Cache-Control"] == "no-store"
            assert response.read().startswith(b"%PDF-")
        shown = watcher.page("pdf")
        number = watcher.pdf_build()
        assert f'<iframe src="/preview.pdf?build={number}"' in shown and 'addEventListener("pdf"' in shown

        # a save: an event `pdf` with a new number says that the new PDF is served
        with urllib.request.urlopen(watcher.url + "__report/events", timeout=WAIT) as events:
            shown_number = read_events(events, "pdf", -1)
            save(chapter, "Changed for the PDF.")
            read_events(events, "pdf", shown_number)
            assert "Changed for the PDF." in watcher.pdf_text()

        # a source error: the PDF page's overlay says it, over the last good PDF, which stays served
        chapter.write_text("title: A chapter\nbodyy: |\n  Broken.\n", encoding="utf-8")
        broken = watcher.wait_for(lambda page: "report-error-overlay" in page, "the error overlay", path="pdf")
        assert f"{chapter}:2:1: error: bodyy: unknown key &#x27;bodyy&#x27;" in broken
        assert "the PDF shows the last good build" in broken and '<iframe src="/preview.pdf' in broken
        assert "Changed for the PDF." in watcher.pdf_text()
        assert watcher.process.poll() is None

        save(chapter, "Fixed for the PDF.")
        watcher.wait_for_pdf("Fixed for the PDF.")
        assert "report-error-overlay" not in watcher.wait_for(
            lambda page: "report-error-overlay" not in page, "the overlay gone", path="pdf"
        )

        # the link is injected when served, never written into the built HTML; the PDF has its own folder
        built = out.glob("*.html")
        assert "report-pdf-link" not in next(built).read_text(encoding="utf-8")
        assert not list(out.glob("*.pdf")) and len(list((out / "pdf-preview").glob("*.pdf"))) == 1
        assert watcher.stop() == 0
        assert not [p.name for p in (out / "pdf-preview").iterdir() if p.name.endswith(".tmp")]
    finally:
        watcher.stop()


def test_watch_pdf_never_holds_the_page_back_and_stops_its_build_on_sigterm(minimal, tmp_path):
    root = minimal()
    chapter = root / "01-chapter.yaml"
    temporary = tmp_path / "tmp"  # the watch's own temporary folder goes here: it must be gone at the end
    temporary.mkdir()
    watcher = Watcher(root, None, "--pdf", env={"TMPDIR": str(temporary)})
    engine = None
    try:
        watcher.wait_for_pdf("Some text.")
        engine = watcher.freeze_next_pdf_build(chapter, "Saved while the PDF build waits")
        frozen_number, frozen_text = watcher.pdf_build(), watcher.pdf_text()

        # the PDF build cannot finish; the page still follows every save
        for body in ("Second save.", "Third save."):
            save(chapter, body)
            watcher.wait_for(lambda page, body=body: body in page, f"{body!r} while a PDF build runs")
        assert watcher.pdf_build() == frozen_number and watcher.pdf_text() == frozen_text

        # let it go: the saves made meanwhile coalesced into one more build after it, not one each
        os.kill(engine, signal.SIGCONT)
        watcher.wait_for_pdf("Third save.")
        assert watcher.pdf_build() <= frozen_number + 2

        # SIGTERM in the middle of a PDF build: it ends, its engine too, and the temporary folder goes
        engine = watcher.freeze_next_pdf_build(chapter, "Saved just before the end")
        assert watcher.stop() == 0
        assert process_state(engine) == "gone", "the PDF engine outlived the watch"
        assert list(temporary.iterdir()) == []
        stderr = "".join(watcher.stderr)
        assert "stopped" in stderr and "Traceback" not in stderr
    finally:
        if engine is not None and process_state(engine) not in ("gone", "Z"):
            os.kill(engine, signal.SIGKILL)
        watcher.stop()
