"""`report watch`: serve the HTML edition on localhost, rebuild on save, reload the browser.

Only the HTML edition is rebuilt (no PDF layout), so a save shows in the page within a
moment. The reload script is injected when a page is served, never into the built file.
A source error keeps the server running: the page shows the diagnostics in an overlay.
"""

from __future__ import annotations

import html
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .errors import ReportError, SourceError
from .folder import is_inside
from .memo import Memo
from .pipeline import BuildOptions, build

EVENTS_PATH = "/__report/events"
_RELOAD_SCRIPT = """<script>/* report watch: live reload (not part of the built file) */
(function () {
  var build = %d, key = "report-watch-scroll:" + location.pathname;
  var saved = sessionStorage.getItem(key);
  if (saved !== null) { sessionStorage.removeItem(key); window.scrollTo(0, +saved); }
  var events = new EventSource("%s");
  events.addEventListener("build", function (e) {
    if (+e.data !== build) { sessionStorage.setItem(key, String(window.scrollY)); location.reload(); }
  });
})();
</script>"""
_OVERLAY_STYLE = (
    "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;padding:2rem;"
    "background:rgba(20,20,20,.94);color:#f4f4f4;font:14px/1.5 ui-monospace,Menlo,Consolas,monospace;"
)


@dataclass
class PreviewState:
    """What the server shows: the last good page, the last failure, and a build counter."""

    page: str = ""
    errors: list[str] = field(default_factory=list)
    build_number: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)
    stopping: bool = False

    def publish(self, page: str | None, errors: list[str]) -> None:
        with self.changed:
            if page is not None:
                self.page = page
            self.errors = errors
            self.build_number += 1
            self.changed.notify_all()

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()

    def served_page(self) -> str:
        """The page with the reload script, and the error overlay when the last build failed."""
        with self.changed:
            page, errors, number = self.page, list(self.errors), self.build_number
        extra = _RELOAD_SCRIPT % (number, EVENTS_PATH)
        if errors:
            extra = _overlay(errors) + extra
        if not page:
            page = (
                '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>report watch</title>'
                "</head><body></body></html>"
            )
        head, found, tail = page.rpartition("</body>")
        return head + extra + found + tail if found else page + extra


def _overlay(errors: list[str]) -> str:
    items = "".join(f"<pre style='white-space:pre-wrap;margin:0 0 1.2rem'>{html.escape(e)}</pre>" for e in errors)
    count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
    return (
        f'<div id="report-error-overlay" role="alert" style="{_OVERLAY_STYLE}">'
        f"<h2 style='font:700 18px system-ui,sans-serif;color:#ff8a80;margin:0 0 1rem'>"
        f"report: {count} in the source; the page shows the last good build</h2>{items}"
        "<p style='color:#bbb'>Fix the file and save: this page reloads by itself.</p></div>"
    )


def rebuild(root: Path, out_dir: Path, state: PreviewState, memo: Memo | None = None) -> bool:
    """Build the HTML edition and publish it, or publish the errors; True when it built.

    ``memo`` is kept across saves: only the chapters that changed are read and rendered again.
    """
    try:
        result = build(root, BuildOptions(out_dir=out_dir, formats=("html",)), memo=memo)
    except SourceError as exc:
        state.publish(None, [d.format(with_source=True) for d in exc.diagnostics])
        return False
    except ReportError as exc:
        state.publish(None, [f"error: {exc}"])
        return False
    except Exception:  # a bug must not stop the preview: show it, keep serving
        state.publish(None, ["internal error (a bug in report, not in your dossier):\n" + traceback.format_exc()])
        return False
    state.publish(result.outputs[0].path.read_text(encoding="utf-8"), [])
    return True


def make_server(state: PreviewState, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for the preview: the page at /, build events at EVENTS_PATH."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 - the quiet default is wanted
            pass

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == EVENTS_PATH:
                return self._events()
            if path == "/favicon.ico":  # browsers ask for it; "no content" keeps their console clean
                return self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            if path not in ("/", "/index.html"):
                return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
            return self._send(HTTPStatus.OK, state.served_page().encode("utf-8"), "text/html; charset=utf-8")

        def _send(self, status, body: bytes, content_type: str):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _events(self):
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            seen = -1
            try:
                while True:
                    with state.changed:
                        if state.build_number == seen and not state.stopping:
                            state.changed.wait(timeout=15)
                        if state.stopping:
                            return
                        number = state.build_number
                    if number != seen:
                        self.wfile.write(f"event: build\ndata: {number}\n\n".encode())
                        seen = number
                    else:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    out_dir: Path | None = None,
    on_ready: Callable[[str], None] | None = None,
    on_build: Callable[[bool, float, tuple[int, int]], None] | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve and rebuild until ``stop_event`` is set, Ctrl-C or SIGTERM."""
    import watchfiles

    root = Path(root).resolve()
    if not root.is_dir():
        raise ReportError(f"{root}: no dossier folder there (create one with: report new {root})")
    state = PreviewState()
    try:  # bind first: a port in use is said at once, before any build
        server = make_server(state, host, port)
    except OSError as exc:
        raise ReportError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    temporary = out_dir is None
    out = Path(tempfile.mkdtemp(prefix="report-watch-")) if out_dir is None else Path(out_dir).resolve()
    stop = stop_event or threading.Event()
    # (ok, seconds, (files parsed again, files read)): a save parses only the file that changed
    report_build = on_build or (lambda ok, seconds, parsed: None)

    built_from: dict[str, tuple[int, int]] = {}
    memo = Memo()  # every chapter's parts, kept from save to save

    def timed_rebuild() -> None:
        nonlocal built_from
        built_from = _snapshot(root, out)
        start = time.perf_counter()
        ok = rebuild(root, out, state, memo)
        files = memo.counts().get("yaml", {"made": 0, "reused": 0})
        report_build(ok, time.perf_counter() - start, (files["made"], files["made"] + files["reused"]))

    # serve_forever runs before anything can fail, so the shutdown() below never waits for a loop
    # that was not started; until the first build is done the page is empty and then reloads.
    threading.Thread(target=server.serve_forever, name="report-watch-http", daemon=True).start()
    previous = _install_sigterm(stop)
    try:
        timed_rebuild()
        if on_ready:
            on_ready(f"http://{host}:{server.server_address[1]}/")

        def relevant(change, path: str) -> bool:
            target = Path(path)
            # Our own output (when --out is inside the dossier) and editor backup files are not sources.
            return not (is_inside(target, out) or target.name.startswith((".", "#")) or target.name.endswith("~"))

        # The watcher starts after the first build: a save in between raises no event. A timeout
        # yields now and then, and a cheap look at the files' sizes and times catches such a save.
        for changes in watchfiles.watch(
            root,
            watch_filter=relevant,
            stop_event=stop,
            raise_interrupt=False,
            debounce=200,
            step=50,
            rust_timeout=1000,
            yield_on_timeout=True,
        ):
            if changes or _snapshot(root, out) != built_from:
                timed_rebuild()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        state.stop()
        server.shutdown()
        server.server_close()
        if temporary:
            shutil.rmtree(out, ignore_errors=True)


def _snapshot(root: Path, out: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every source file, to notice a change without an event."""
    found = {}
    for path in root.rglob("*"):
        try:
            if path.is_file() and not is_inside(path, out) and not path.name.startswith("."):
                stat = path.stat()
                found[str(path)] = (stat.st_size, stat.st_mtime_ns)
        except OSError:  # removed while we looked: the next look sees it gone
            continue
    return found


def _install_sigterm(stop: threading.Event):
    """SIGTERM ends the loop like Ctrl-C; only possible from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
