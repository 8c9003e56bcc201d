"""`report watch`: serves the page, rebuilds on save, shows errors in the page, stops cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow  # a live server and rebuilds

WAIT = 60.0  # seconds before giving up on a rebuild: generous for a loaded CI machine


class Watcher:
    """`python -m report watch` in a subprocess, on a free port of 127.0.0.1."""

    def __init__(self, root: Path, out: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "report", "watch", str(root), "--port", "0", "--out", str(out)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.stderr: list[str] = []
        threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True).start()
        line = self.process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert match, f"no URL in {line!r}; stderr: {''.join(self.stderr)}"
        self.url = match.group(1)

    def page(self) -> str:
        with urllib.request.urlopen(self.url, timeout=10) as response:
            assert response.status == 200
            return response.read().decode("utf-8")

    def wait_for(self, predicate, what: str) -> str:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            page = self.page()
            if predicate(page):
                return page
            time.sleep(0.1)
        pytest.fail(f"the served page never showed {what}; stderr: {''.join(self.stderr)}")

    def stop(self, how: signal.Signals = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(how)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()


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
