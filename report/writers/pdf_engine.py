"""The PDF layout in a separate process, so the other editions are made while it runs.

The engine process starts (and imports WeasyPrint) while the builder still loads the
dossier; it then lays the document out, sends the page map at once (the EPUB's print
page numbers) and the PDF bytes when written. A fresh interpreter rather than a fork:
the builder may run inside a threaded program (`report watch`), where fork is unsafe.
The engine runs the very same lay_out() and write() as the serial path, so the bytes
are the same.

Messages on the engine's stdout are pickles with a length prefix, only ever between
this process and its own child: (kind, payload) with kind "layout" (a Layout), "pdf"
(bytes and located warnings), "refused" or "error".

Bounds. The engine may use at most MEMORY_CEILING_MB of address space (RLIMIT_AS, set in
the child; REPORT_PDF_MEMORY_MB changes it): a 300-chapter dossier peaks at about 890 MB
of address space (645 MB resident), so the default of 3 GiB leaves room for about a
thousand chapters and keeps one runaway document from taking the machine. Running out
is reported as the user-facing error it is, naming the ceiling. The engine dies with
the builder whatever ends the builder: the kernel kills it when its parent goes
(PR_SET_PDEATHSIG, Linux), and a thread ends it when its stdin, which the builder holds
open until it no longer wants results, reaches end of file (any system). A builder that
runs in a background thread (`report watch --pdf`) is stopped from another thread through
an EngineScope: its engine is ended, and the builder's wait for the layout fails at once.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from contextvars import ContextVar, Token
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import Diagnostic, ReportError
from .pdf import PdfOptions

if TYPE_CHECKING:
    from .layout import Layout

_HEADER = struct.Struct("!Q")
MEMORY_CEILING_MB = 3072
_MEMORY_ENV = "REPORT_PDF_MEMORY_MB"
_PARENT_ENV = "REPORT_PDF_ENGINE_PARENT"


def memory_ceiling_mb() -> int:
    """The engine's address-space ceiling in MiB: REPORT_PDF_MEMORY_MB, else MEMORY_CEILING_MB."""
    value = os.environ.get(_MEMORY_ENV, "").strip()
    if not value:
        return MEMORY_CEILING_MB
    if not value.isdigit() or not 256 <= int(value) <= 1 << 22:
        raise ReportError(f"{_MEMORY_ENV}={value!r} is not a number of MiB from 256 to 4194304")
    return int(value)


def _send(stream: IO[bytes], kind: str, payload: object) -> None:
    data = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


class EngineScope:
    """The engines this thread starts inside ``with scope:``; cancel() ends them, from any thread.

    A cancelled scope also ends at once any engine started in it afterwards, so a build
    stopped before it reached its engine cannot leave one running.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: list[PdfEngine] = []
        self._cancelled = False
        self._token: Token[EngineScope | None] | None = None

    def __enter__(self) -> EngineScope:
        self._token = _SCOPE.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _SCOPE.reset(self._token)

    def cancel(self) -> None:
        """End every engine of the scope; the builders waiting on them fail with a ReportError."""
        with self._lock:
            self._cancelled = True
            engines = list(self._engines)
        for engine in engines:
            engine.kill()

    def adopt(self, engine: PdfEngine) -> None:
        with self._lock:
            if not self._cancelled:
                self._engines.append(engine)
                return
        engine.kill()


# Context variables are per thread: a scope entered in one thread never holds another thread's engines.
_SCOPE: ContextVar[EngineScope | None] = ContextVar("report_pdf_engine_scope", default=None)


class PdfEngine:
    """A started engine process; give it the document with submit(), then ask for results."""

    def __init__(self) -> None:
        package_parent = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
        env[_MEMORY_ENV] = str(memory_ceiling_mb())
        env[_PARENT_ENV] = str(os.getpid())
        # The engine's temporary files (WeasyPrint copies the fonts of @font-face rules into a
        # folder it removes only when garbage-collected) go into a folder of ours, removed when the
        # engine is reaped: the engine ends by os._exit or SIGKILL, never by a clean shutdown.
        self._scratch = _new_scratch()
        env["TMPDIR"] = self._scratch
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "report.writers.pdf_engine"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                cwd=package_parent,
            )
        except BaseException:
            shutil.rmtree(self._scratch, ignore_errors=True)
            raise
        self._layout: Layout | None = None
        scope = _SCOPE.get()
        if scope is not None:
            scope.adopt(self)

    def submit(
        self, html: str, *, base_dir: Path, styles_dir: Path, options: PdfOptions, identifier: str, write_pdf: bool
    ) -> None:
        request = {
            "html": html,
            "base_dir": str(base_dir),
            "styles_dir": str(styles_dir),
            "options": options,
            "identifier": identifier,
            "write_pdf": write_pdf,
        }
        self.send(request)
        # stdin stays open: its end of file tells the engine that no one wants its results

    def send(self, request: dict) -> None:
        """Hand the engine a request (the one document, or one more run: writers/runs/work.py)."""
        assert self._process.stdin is not None  # made with stdin=PIPE
        try:
            _send(self._process.stdin, "request", request)
        except BrokenPipeError:
            pass  # the engine is gone already: waiting for its answer reports why

    def receive(self, kind: str) -> Any:
        """Wait for the engine's next answer, which must be of this kind (errors raise)."""
        return self._next(kind)

    def layout(self) -> Layout:
        """Wait for the layout."""
        if self._layout is None:
            self._layout = self._next("layout")
        return self._layout

    def pdf(self) -> tuple[bytes, tuple[Diagnostic, ...]]:
        """Wait for the written PDF: (bytes, warnings of the write)."""
        self.layout()
        return self._next("pdf")

    def kill(self) -> None:
        """End the engine process now (safe from another thread); close() still reaps it."""
        if self._process.poll() is None:
            self._process.kill()

    def close(self) -> None:
        """End the engine (at once if its results are no longer wanted) and reap it."""
        for stream in (self._process.stdin, self._process.stdout):
            if stream is None:
                continue
            try:
                stream.close()
            except OSError:
                pass
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def _next(self, expected: str) -> Any:
        try:
            assert self._process.stdout is not None  # made with stdout=PIPE
            kind, payload = _receive(self._process.stdout)
        except (EOFError, pickle.UnpicklingError):
            raise ReportError(_death_message(self._process.wait())) from None
        if kind == "error":
            raise ReportError(f"the PDF layout failed: {payload}")
        if kind == "memory":
            raise ReportError(
                f"the PDF layout needed more memory than its ceiling of {payload:,} MiB and was "
                f"stopped; the dossier is too large or holds something that multiplies the layout "
                f"(set {_MEMORY_ENV} to raise the ceiling)"
            )
        if kind == "refused":  # the dossier asked for a resource outside its folder: the user's error
            from .fetcher import RefusedResource

            raise RefusedResource(*payload)
        assert kind == expected, (kind, expected)
        return payload


_SCRATCH_PREFIX = "report-pdf-engine-"


def _new_scratch() -> str:
    """A temporary folder for one engine, named by this builder's pid.

    A builder that was killed (SIGKILL, or SIGTERM, which `report build` does not catch)
    could not remove its engine's folder: the folders of builders that are gone are removed here.
    """
    for old in Path(tempfile.gettempdir()).glob(f"{_SCRATCH_PREFIX}*-*"):
        pid = old.name.removeprefix(_SCRATCH_PREFIX).split("-", 1)[0]
        try:
            ours = not old.is_symlink() and old.is_dir() and old.stat().st_uid == os.getuid()
        except OSError:
            continue
        if ours and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _death_message(code: int) -> str:
    """Why the engine process ended without an answer, as far as its exit status tells."""
    if code >= 0:
        return f"the PDF engine process ended unexpectedly (exit status {code})"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    why = " most likely by the system for lack of memory;" if -code == signal.SIGKILL else ""
    return (
        f"the PDF engine process was ended by {name};{why} a library that cannot allocate memory ends it "
        f"so, and its memory ceiling is {memory_ceiling_mb():,} MiB ({_MEMORY_ENV})"
    )


def _die_with_parent() -> None:
    """Have the kernel end this process when the builder ends, however it ends (SIGKILL included)."""
    import ctypes

    parent = int(os.environ.get(_PARENT_ENV) or 0)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: Linux only; elsewhere stdin below
    except (OSError, AttributeError):
        pass
    if parent and os.getppid() != parent:
        os._exit(1)  # the builder was gone before the line above took effect


def _watch_stdin(requests: Any) -> None:
    """After the first request: queue the next ones, and end at once when stdin reaches end of file.

    End of file means the builder is done with this engine or has died: nothing it sent is
    wanted any more, so the engine stops even in the middle of a layout.
    """
    import threading

    def watch_stdin() -> None:
        try:
            while True:
                _, request = _receive(sys.stdin.buffer)
                requests.put(request)
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            pass
        os._exit(1)  # end of file: the builder has closed our stdin or has died

    threading.Thread(target=watch_stdin, name="stdin-watchdog", daemon=True).start()


def _limit_memory() -> int:
    """Cap this process's address space; return the ceiling in MiB."""
    import resource

    ceiling = int(os.environ.get(_MEMORY_ENV) or MEMORY_CEILING_MB)
    limit = ceiling * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    global _limit_bytes
    _limit_bytes = limit
    return ceiling


_limit_bytes = 0  # the address-space limit _limit_memory() set in this engine
# An allocation that fails a little under the limit (a fragment of a page's box tree) leaves
# this much or less unused: a failure with the peak within it is the ceiling's doing.
_EXHAUSTED_SHARE = 0.9


def _exhausted(exc: BaseException) -> bool:
    """Whether a failure is the engine running out of its address space, however it surfaced.

    Python raises MemoryError, but a C function whose allocation fails may return an error
    without setting one (SystemError "error return without exception set", seen in CI inside
    WeasyPrint's layout at a 300 MiB ceiling) or a library may report its own failure. So a
    failure counts as exhaustion when a MemoryError is in its chain or when this process's
    peak address space (VmPeak, Linux) came within a tenth of the limit.
    """
    seen: set[int] = set()
    chain: BaseException | None = exc
    while chain is not None and id(chain) not in seen:
        if isinstance(chain, MemoryError):
            return True
        seen.add(id(chain))
        chain = chain.__cause__ or chain.__context__
    return _limit_bytes > 0 and _peak_address_space() >= _EXHAUSTED_SHARE * _limit_bytes


def _peak_address_space() -> int:
    """This process's peak virtual memory size in bytes (0 where /proc/self/status is not)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1]) * 1024
    return 0


def _memoise_page_references() -> None:
    """Make pydyf's PDF.page_references a cached value instead of a rebuilt tuple.

    WeasyPrint's PDF/UA tagging reads ``pdf.page_references[n]`` for every tagged
    element, and pydyf 0.13 rebuilds the tuple of all pages on each read: elements x
    pages, 58 million steps and about a third of the PDF write at 300 chapters. The
    values are the same, so the bytes are too (tests compare with the serial path,
    which runs unpatched). Pages are only ever appended, so the length keys the cache.
    """
    import pydyf

    original = getattr(pydyf.PDF, "page_references", None)
    if not isinstance(original, property) or original.fget is None:
        return  # another pydyf: leave it as it is
    rebuild = original.fget

    def page_references(self: Any) -> Any:
        kids = self.pages["Kids"]
        cached = self.__dict__.get("_report_page_references")
        if cached is None or cached[0] != len(kids):
            cached = (len(kids), rebuild(self))
            self.__dict__["_report_page_references"] = cached
        return cached[1]

    pydyf.PDF.page_references = property(page_references)


def _serve() -> int:
    """The engine side: import WeasyPrint now, then lay out the one document it is given."""
    # Ctrl-C in a terminal reaches the whole process group: it is the builder's to handle (it
    # ends this process), never a KeyboardInterrupt traceback from the middle of a layout here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the message stream
    ceiling = _limit_memory()
    _die_with_parent()
    try:
        return _serve_one(out)
    except MemoryError:
        pass  # out of the handler first: the traceback holds the layout, whose memory the message needs
    import gc

    gc.enable()
    gc.collect()
    try:
        _send(out, "memory", ceiling)
    except BrokenPipeError:
        pass
    return 1


def _serve_one(out: IO[bytes]) -> int:
    """Serve requests until the builder closes stdin: one document, or the runs of one (writers/runs/)."""
    import gc
    import queue

    import weasyprint  # noqa: F401  (imported while the builder is still loading the dossier)

    from . import pdf  # noqa: F401

    # The cyclic collector walks WeasyPrint's whole box tree again and again as it grows:
    # a quarter of the layout time at 300 chapters, for 10% less memory. It stays off while
    # a document is laid out; between the runs of a book one collection frees the last run.
    gc.freeze()
    gc.disable()
    _memoise_page_references()

    try:
        _, request = _receive(sys.stdin.buffer)
    except EOFError:
        return 0  # the builder stopped early (an error in the dossier): nothing to do
    requests: queue.Queue[dict] = queue.Queue()
    requests.put(request)
    _watch_stdin(requests)
    while True:
        request = requests.get()
        if request.get("kind", "layout") == "layout":
            return _lay_out_and_send(request, out)
        status = _run_and_send(request, out)
        if status:
            return status
        gc.collect()


def _run_and_send(request: dict, out: IO[bytes]) -> int:
    """Lay out and write one run of a book (writers/runs/work.py), and send what it found."""
    from .runs.work import lay_out_run

    try:
        _send(out, "run", lay_out_run(request))
    except BrokenPipeError:
        return 1
    except MemoryError:
        raise
    except BaseException as exc:
        if _exhausted(exc):
            raise MemoryError from None  # to _serve(), which frees the layout and says so
        return _send_failure(exc, out)
    return 0


def _lay_out_and_send(request: dict, out: IO[bytes]) -> int:
    """Lay the document out and send the results; errors go to the builder as messages."""
    from . import pdf

    try:
        laid_out = pdf.lay_out(
            request["html"],
            base_dir=Path(request["base_dir"]),
            styles_dir=Path(request["styles_dir"]),
            options=request["options"],
        )
        from .layout import layout_of, located

        root = Path(request["base_dir"])
        _send(out, "layout", layout_of(laid_out, root))
        if request["write_pdf"]:
            before = len(laid_out.warnings)
            data = pdf.write(laid_out, identifier=request["identifier"], options=request["options"])
            _send(out, "pdf", (data, located(laid_out.warnings[before:], root)))
    except BrokenPipeError:
        return 0
    except MemoryError:
        raise
    except BaseException as exc:
        if _exhausted(exc):
            raise MemoryError from None  # to _serve(), which frees the layout and says so
        return _send_failure(exc, out)
    return 0


def _send_failure(exc: BaseException, out: IO[bytes]) -> int:
    """Report an error to the builder, which raises it as its own; a refused resource is the user's."""
    from .fetcher import RefusedResource

    if isinstance(exc, RefusedResource):
        _send(out, "refused", (exc.url, exc.why))
        return 1
    if not isinstance(exc, Exception):
        raise exc
    import traceback

    traceback.print_exc()
    try:
        _send(out, "error", f"{type(exc).__name__}: {exc}")
    except BrokenPipeError:
        pass
    return 1


if __name__ == "__main__":
    status = _serve()
    sys.stdout.flush()
    sys.stderr.flush()
    # No interpreter shutdown: the stdin watchdog thread holds stdin's lock, and finalising
    # the stream under it aborts the process ("could not acquire lock ... at interpreter shutdown").
    os._exit(status)
