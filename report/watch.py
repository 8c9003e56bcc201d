"""`report watch`: serve the HTML edition on localhost, rebuild on save, reload the browser.

Only the HTML edition is rebuilt (no PDF layout), so a save shows in the page within a
moment. The reload script is injected when a page is served, never into the built file.
A source error keeps the server running: the page shows the diagnostics in an overlay.

With `--pdf`, a background thread keeps the PDF edition current as well (PdfPreview): one
PDF build at a time, saves made meanwhile coalesce into one more build after it, and the
HTML preview never waits for it. /pdf shows the last good PDF and reloads on a `pdf` event.
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
from .writers.pdf_engine import EngineScope

EVENTS_PATH = "/__report/events"
PDF_PAGE_PATH = "/pdf"
PDF_PATH = "/preview.pdf"
PDF_FOLDER = "pdf-preview"  # under the watch's output folder: its own build cache, never shared with the HTML's
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
_PDF_RELOAD_SCRIPT = """<script>/* report watch: reload when a new PDF is ready */
(function () {
  var shown = %d;
  new EventSource("%s").addEventListener("pdf", function (e) { if (+e.data !== shown) location.reload(); });
})();
</script>"""
_PDF_LINK = (
    f'<a id="report-pdf-link" href="{PDF_PAGE_PATH}" target="report-pdf" style="position:fixed;z-index:2147483646;'
    "inset-block-end:1rem;inset-inline-end:1rem;padding:.4rem .8rem;border-radius:.4rem;background:#202124;"
    'color:#fff;font:600 13px/1.2 system-ui,sans-serif;text-decoration:none;opacity:.88">PDF preview</a>'
)
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
    # the PDF preview (`--pdf`): the last good PDF, the last PDF build's failure, its own counter
    pdf_enabled: bool = False
    pdf: bytes = b""
    pdf_name: str = "preview.pdf"
    pdf_errors: list[str] = field(default_factory=list)
    pdf_number: int = 0

    def publish(self, page: str | None, errors: list[str]) -> None:
        with self.changed:
            if page is not None:
                self.page = page
            self.errors = errors
            self.build_number += 1
            self.changed.notify_all()

    def publish_pdf(self, pdf: bytes | None, name: str | None, errors: list[str]) -> None:
        with self.changed:
            if pdf is not None:
                self.pdf = pdf
                self.pdf_name = name or self.pdf_name
            self.pdf_errors = errors
            self.pdf_number += 1
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
        if self.pdf_enabled:
            extra = _PDF_LINK + extra
        if errors:
            extra = _overlay(errors) + extra
        if not page:
            page = (
                '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>report watch</title>'
                "</head><body></body></html>"
            )
        head, found, tail = page.rpartition("</body>")
        return head + extra + found + tail if found else page + extra

    def served_pdf(self) -> tuple[bytes, str]:
        """The last good PDF (empty before the first) and its file name."""
        with self.changed:
            return self.pdf, self.pdf_name

    def served_pdf_page(self) -> str:
        """The page that shows the PDF, with the error overlay when the last PDF build failed."""
        with self.changed:
            has_pdf, errors, number = bool(self.pdf), list(self.pdf_errors), self.pdf_number
        if has_pdf:  # the number in the address: a new PDF is never taken from the browser's cache
            shown = f'<iframe src="{PDF_PATH}?build={number}" title="PDF preview"></iframe>'
        else:
            shown = "<p>The PDF is being built; this page shows it when it is ready.</p>"
        overlay = _overlay(errors, shown="PDF") if errors else ""
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>report watch: PDF preview</title>'
            "<style>html,body{margin:0;height:100%;background:#525659}"
            "iframe{display:block;border:0;width:100%;height:100%}"
            "p{margin:0;padding:2rem;color:#f4f4f4;font:16px/1.5 system-ui,sans-serif}</style></head>"
            f'<body data-pdf-build="{number}">{shown}{overlay}{_PDF_RELOAD_SCRIPT % (number, EVENTS_PATH)}'
            "</body></html>"
        )


def _overlay(errors: list[str], shown: str = "page") -> str:
    items = "".join(f"<pre style='white-space:pre-wrap;margin:0 0 1.2rem'>{html.escape(e)}</pre>" for e in errors)
    count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
    return (
        f'<div id="report-error-overlay" role="alert" style="{_OVERLAY_STYLE}">'
        f"<h2 style='font:700 18px system-ui,sans-serif;color:#ff8a80;margin:0 0 1rem'>"
        f"report: {count} in the source; the {shown} shows the last good build</h2>{items}"
        "<p style='color:#bbb'>Fix the file and save: this page reloads by itself.</p></div>"
    )


def rebuild(root: Path, out_dir: Path, state: PreviewState, memo: Memo | None = None) -> bool:
    """Build the HTML edition and publish it, or publish the errors; True when it built.

    ``memo`` is kept across saves: only the chapters that changed are read and rendered again.
    """
    try:
        result = build(root, BuildOptions(out_dir=out_dir, formats=("html",)), memo=memo)
    except Exception as exc:  # a bug must not stop the preview either: show it, keep serving
        state.publish(None, _problems(exc))
        return False
    state.publish(result.outputs[0].path.read_text(encoding="utf-8"), [])
    return True


def _problems(exc: Exception) -> list[str]:
    """What an overlay says about a build that failed with ``exc``."""
    if isinstance(exc, SourceError):
        return [d.format(with_source=True) for d in exc.diagnostics]
    if isinstance(exc, ReportError):
        return [f"error: {exc}"]
    trace = "".join(traceback.format_exception(exc))
    return ["internal error (a bug in report, not in your dossier):\n" + trace]


class _Stopped(Exception):
    """Raised between two stages of a PDF build that is no longer wanted."""


class PdfPreview:
    """The PDF edition, kept current in a background thread beside the HTML preview.

    One build at a time, in its own output folder; request() during a build asks for one
    more after it (any number of saves coalesce into that one). stop() ends a running build
    at once, its engine process included, and waits for the thread, so nothing writes into
    the output folder afterwards.
    """

    def __init__(
        self, root: Path, out_dir: Path, state: PreviewState, on_build: Callable[[bool, float], None] | None = None
    ):
        self.root, self.out_dir, self.state = root, out_dir, state
        self.on_build = on_build or (lambda ok, seconds: None)
        self._wake = threading.Condition()
        self._wanted = False
        self._stopping = False
        self._scope: EngineScope | None = None  # the running build's engines
        self._thread = threading.Thread(target=self._run, name="report-watch-pdf", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request(self) -> None:
        """Ask for a PDF of the dossier as it is now: built at once if idle, else after the running build."""
        with self._wake:
            self._wanted = True
            self._wake.notify()

    def stop(self) -> None:
        """End the running build (and its engine) and the thread; return when both are gone."""
        with self._wake:
            self._stopping = True
            scope = self._scope
            self._wake.notify()
        if scope is not None:
            scope.cancel()
        if self._thread.ident is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not (self._wanted or self._stopping):
                    self._wake.wait()
                if self._stopping:
                    return
                self._wanted = False  # saves from now on ask for the next build
                scope = self._scope = EngineScope()
            start = time.perf_counter()
            ok = self._build(scope)
            with self._wake:
                self._scope = None
                if self._stopping:
                    return
            if ok is not None:
                self.on_build(ok, time.perf_counter() - start)

    def _build(self, scope: EngineScope) -> bool | None:
        """Build the PDF and publish it, or its errors; True when it built, None when stopped."""

        def stop_between_stages(stage: str, state: str) -> None:
            if self._stopping:
                raise _Stopped

        try:
            with scope:
                options = BuildOptions(out_dir=self.out_dir, formats=("pdf",))
                written = build(self.root, options, progress=stop_between_stages).outputs[0]
            pdf = written.path.read_bytes()
        except Exception as exc:  # a bug must not stop the preview either: shown in the PDF page
            if self._stopping:  # a cancelled engine fails its build: that is no error of the dossier
                return None
            self.state.publish_pdf(None, None, _problems(exc))
            return False
        self.state.publish_pdf(pdf, written.path.name, [])
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
            if state.pdf_enabled and path == PDF_PAGE_PATH:
                return self._send(HTTPStatus.OK, state.served_pdf_page().encode("utf-8"), "text/html; charset=utf-8")
            if state.pdf_enabled and path == PDF_PATH:
                return self._pdf()
            if path not in ("/", "/index.html"):
                return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
            return self._send(HTTPStatus.OK, state.served_page().encode("utf-8"), "text/html; charset=utf-8")

        def _send(self, status, body: bytes, content_type: str, headers: dict[str, str] | None = None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _pdf(self):
            pdf, name = state.served_pdf()
            if not pdf:
                body = b"the PDF is being built\n"
                return self._send(
                    HTTPStatus.SERVICE_UNAVAILABLE, body, "text/plain; charset=utf-8", {"Retry-After": "2"}
                )
            # the name comes from output_stem(): ascii letters, digits and hyphens, safe in a header
            disposition = {"Content-Disposition": f'inline; filename="{name}"'}
            return self._send(HTTPStatus.OK, pdf, "application/pdf", disposition)

        def _events(self):
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            seen, seen_pdf = -1, -1
            try:
                while True:
                    with state.changed:
                        if (state.build_number, state.pdf_number) == (seen, seen_pdf) and not state.stopping:
                            state.changed.wait(timeout=15)
                        if state.stopping:
                            return
                        number, pdf_number = state.build_number, state.pdf_number
                    message = b""
                    if number != seen:
                        message += f"event: build\ndata: {number}\n\n".encode()
                        seen = number
                    if state.pdf_enabled and pdf_number != seen_pdf:  # only the PDF page listens
                        message += f"event: pdf\ndata: {pdf_number}\n\n".encode()
                    seen_pdf = pdf_number
                    self.wfile.write(message or b": keep-alive\n\n")
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
    pdf: bool = False,
    on_ready: Callable[[str], None] | None = None,
    on_build: Callable[[bool, float, tuple[int, int]], None] | None = None,
    on_pdf_build: Callable[[bool, float], None] | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve and rebuild until ``stop_event`` is set, Ctrl-C or SIGTERM; ``pdf``: keep a PDF current too."""
    import watchfiles

    root = Path(root).resolve()
    if not root.is_dir():
        raise ReportError(f"{root}: no dossier folder there (create one with: report new {root})")
    state = PreviewState(pdf_enabled=pdf)
    try:  # bind first: a port in use is said at once, before any build
        server = make_server(state, host, port)
    except OSError as exc:
        raise ReportError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    temporary = out_dir is None
    out = Path(tempfile.mkdtemp(prefix="report-watch-")) if out_dir is None else Path(out_dir).resolve()
    stop = stop_event or threading.Event()
    # (ok, seconds, (files parsed again, files read)): a save parses only the file that changed
    report_build = on_build or (lambda ok, seconds, parsed: None)
    pdf_preview = PdfPreview(root, out / PDF_FOLDER, state, on_pdf_build) if pdf else None

    built_from: dict[str, tuple[int, int]] = {}
    memo = Memo()  # every chapter's parts, kept from save to save

    def timed_rebuild() -> None:
        nonlocal built_from
        built_from = _snapshot(root, out)
        start = time.perf_counter()
        ok = rebuild(root, out, state, memo)
        files = memo.counts().get("yaml", {"made": 0, "reused": 0})
        report_build(ok, time.perf_counter() - start, (files["made"], files["made"] + files["reused"]))
        if pdf_preview is not None:  # after the HTML build, so that a save's PDF never slows its page
            pdf_preview.request()

    # serve_forever runs before anything can fail, so the shutdown() below never waits for a loop
    # that was not started; until the first build is done the page is empty and then reloads.
    threading.Thread(target=server.serve_forever, name="report-watch-http", daemon=True).start()
    previous = _install_sigterm(stop)
    try:
        if pdf_preview is not None:
            pdf_preview.start()
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
        if pdf_preview is not None:  # before the folder goes: a running PDF build writes into it
            pdf_preview.stop()
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
