"""Where runs are laid out: a pool of engine processes, or this process one run at a time.

Both give the same RunOutput for the same request, so the assembled PDF has the same bytes
whatever the number of workers (tests/test_runs.py). The engines are the PDF engine
processes of pdf_engine.py (spawned interpreters, memory ceiling, ended with the builder),
started before the dossier is loaded so that WeasyPrint is imported meanwhile; each serves
runs until the pool closes. A thread per engine hands it the next waiting run, the largest
first.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Protocol

from .work import RunOutput, RunRequest, lay_out_run

if TYPE_CHECKING:
    from ..pdf_engine import PdfEngine


class RunPool(Protocol):
    def submit(self, request: RunRequest, weight: int) -> Future[RunOutput]:
        """Lay the run out when a worker is free (heavier first); the future holds its output."""
        ...

    def close(self) -> None: ...


class LocalPool:
    """Runs laid out in this process, when their output is first asked for."""

    def submit(self, request: RunRequest, weight: int) -> Future[RunOutput]:
        future: Future[RunOutput] = _LazyFuture(lambda: lay_out_run(request.as_message()))
        return future

    def close(self) -> None:
        pass


class _LazyFuture(Future[RunOutput]):
    """A future computed in the thread that first asks for its result."""

    def __init__(self, make: Callable[[], RunOutput]):
        super().__init__()
        self._make = make

    def result(self, timeout: float | None = None) -> RunOutput:
        if not self.done():
            try:
                self.set_result(self._make())
            except BaseException as exc:
                self.set_exception(exc)
        return super().result(timeout)


class EnginePool:
    """Runs laid out by engine processes, as many at once as there are engines."""

    def __init__(self, engines: list[PdfEngine]):
        self._engines = engines
        self._lock = threading.Condition()
        self._queue: list[tuple[int, int, RunRequest, Future[RunOutput]]] = []
        self._order = itertools.count()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._serve, args=(engine,), name=f"pdf-run-{n}", daemon=True)
            for n, engine in enumerate(engines)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, request: RunRequest, weight: int) -> Future[RunOutput]:
        future: Future[RunOutput] = Future()
        with self._lock:
            heapq.heappush(self._queue, (-weight, next(self._order), request, future))
            self._lock.notify()
        return future

    def _serve(self, engine: PdfEngine) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                _, _, request, future = heapq.heappop(self._queue)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                engine.send(request.as_message())
                future.set_result(engine.receive("run"))
            except BaseException as exc:  # the engine's error, or its death: the builder raises it
                future.set_exception(exc)
                self._fail_waiting(exc)
                return

    def _fail_waiting(self, exc: BaseException) -> None:
        """An engine is gone: the runs still waiting fail with its error rather than wait forever."""
        with self._lock:
            if len([t for t in self._threads if t.is_alive()]) > 1:
                return  # another engine serves them
            waiting, self._queue = self._queue, []
        for _, _, _, future in waiting:
            if future.set_running_or_notify_cancel():
                future.set_exception(exc)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiting, self._queue = self._queue, []
            self._lock.notify_all()
        for _, _, _, future in waiting:
            future.cancel()
        for engine in self._engines:
            engine.close()
