"""The print layout by runs: laid out apart (in parallel, or kept from an earlier build), then assembled.

The order of work, each step as parallel as its inputs allow:
1. the chapter runs, and the front matter with the page numbers of the last build (or none)
   to learn how many pages it takes;
2. the appendices, with the chapters' page numbers (they show them: timeline, quote index,
   sources);
3. the front matter with every page number, and the page-number layer for the whole book;
4. the check that every page number shown is the page its target stands on (a front matter
   that grew by a page shifts every number: then 2 and 3 again, at most a few times);
5. the assembly (assemble.py) of the runs, the blank pages the book layout needs before a
   chapter opening on a left page, and the layer into one PDF.
The Layout (page of every anchor, pages beginning inside a block) is the runs' own, shifted by
each run's first page: the same as the one pass lays out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import Diagnostic, ReportError
from ..layout import Layout
from ..page_starts import PageStart
from ..pdf import PdfOptions, SheetEdits
from . import folios, plan
from .pool import RunPool
from .store import RunStore
from .work import RunOutput, RunRequest

if TYPE_CHECKING:
    from ...render import Renderer

_MAX_ROUNDS = 4


@dataclass
class RunReport:
    """One laid-out part, for --json and the bench."""

    name: str
    kind: str  # "front", "chapters", "back", "blank" or "folios"
    first_page: int
    pages: int
    cpu_s: float
    reused: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "first_page": self.first_page,
            "pages": self.pages,
            "cpu_s": round(self.cpu_s, 3),
            "reused": self.reused,
        }


@dataclass
class RunsOutcome:
    layout: Layout
    pdf: bytes | None
    reports: list[RunReport] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class RunsSource:
    """A LayoutSource (writers/layout.py) that lays the book out in runs."""

    fresh = True

    def __init__(
        self,
        renderer: Renderer,
        runs: list[plan.Run],
        *,
        pool: RunPool,
        store: RunStore,
        root: Path,
        styles_dir: Path,
        options: PdfOptions,
        identifier: str,
        write_pdf: bool,
        stage: Callable[[str], object] | None = None,
    ):
        self._renderer, self._runs, self._pool, self._store = renderer, runs, pool, store
        self._root, self._styles, self._options, self._identifier = root, styles_dir, options, identifier
        self._write_pdf = write_pdf
        self._outcome: RunsOutcome | None = None
        # the chapter runs need nothing but their own content: started at once
        self._documents = {run.name: plan.run_document(renderer, run) for run in runs}
        self._every_id: set[str] = set().union(*(plan.ids_of(html) for html in self._documents.values()))
        self._pending: dict[str, tuple[RunRequest, Future[RunOutput] | RunOutput, bool]] = {}
        self._layers: dict[RunRequest, tuple[Future[RunOutput] | RunOutput, bool]] = {}
        self._empty_document = renderer.pdf_document(run={"front": False, "chapters": [], "appendices": []})
        for run in sorted(runs, key=lambda r: -r.weight):
            if run.kind == "chapters":
                self._start(run, None)

    # -- LayoutSource ---------------------------------------------------------------------------
    def layout(self) -> Layout:
        return self.outcome().layout

    def write_pdf(self) -> tuple[bytes, tuple[Diagnostic, ...]]:
        outcome = self.outcome()
        assert outcome.pdf is not None, "asked for the PDF of a layout made without it"
        return outcome.pdf, ()

    def close(self) -> None:
        self._pool.close()
        self._store.finish()

    @property
    def done(self) -> bool:
        """Whether the book was laid out (outcome() then answers at once)."""
        return self._outcome is not None

    # -- the work -------------------------------------------------------------------------------
    def outcome(self) -> RunsOutcome:
        if self._outcome is None:
            self._outcome = self._lay_out()
        return self._outcome

    def _request(self, name: str, html: str, edits: SheetEdits, options: PdfOptions | None = None) -> RunRequest:
        return RunRequest(
            name,
            html,
            str(self._root),
            str(self._styles),
            options or self._options,
            edits,
            self._identifier,
            str(self._store.fonts),
        )

    def _submit(self, request: RunRequest, weight: int) -> tuple[Future[RunOutput] | RunOutput, bool]:
        key = self._store.key(request)
        kept = self._store.get(key)
        if kept is not None:
            return kept, True
        future = self._pool.submit(request, weight)
        # kept when done, even if a later request replaces it (a front matter laid out to count its pages)
        future.add_done_callback(lambda done: self._keep(key, done))
        return future, False

    def _keep(self, key: str, done: Future[RunOutput]) -> None:
        if not done.cancelled() and done.exception() is None:
            self._store.put(key, done.result())

    def _start(self, run: plan.Run, pages: dict[str, int] | None, first_page: int = 1) -> RunRequest:
        request = self._expected(run, pages or {}, first_page)
        known = self._pending.get(run.name)
        if known is not None and known[0] == request:
            return request  # the same document: its layout stands
        result, reused = self._submit(request, run.weight)
        self._pending[run.name] = (request, result, reused)
        return request

    def _output(self, name: str) -> tuple[RunRequest, RunOutput, bool]:
        request, result, reused = self._pending[name]
        if isinstance(result, Future):
            result = result.result()
            self._pending[name] = (request, result, reused)
        return request, result, reused

    def _lay_out(self) -> RunsOutcome:
        started = time.perf_counter()
        front = [r for r in self._runs if r.kind == "front"]
        chapters = [r for r in self._runs if r.kind == "chapters"]
        back = [r for r in self._runs if r.kind == "back"]
        book_layout = self._options.layout == "book"
        for run in front:
            self._start(run, {})  # laid out beside the chapters to learn its page count; numbers follow
        blank = self._submit(self._blank_request(), 0)[0] if book_layout and self._write_pdf else None
        placed: list[tuple[plan.Run, int]] = []
        for _ in range(_MAX_ROUNDS):
            # where each run starts, from the page counts laid out so far
            pages: dict[str, int] = {}
            placed = []
            page = 1
            for run in front + chapters + back:
                if book_layout and page % 2 == 0 and run.kind != "front" and run.recto:
                    page += 1  # the one pass has a blank left page here: chapters open on a right page
                if run.kind == "back" and run.name not in self._pending:
                    self._start(run, pages, page)  # the chapters' numbers are known: the appendices can start
                _, output, _ = self._output(run.name)
                placed.append((run, page))
                for anchor, local in output.anchors.items():
                    pages.setdefault(anchor, page + local - 1)
                page += output.page_count
            if self._write_pdf:  # the layer for these pages, laid out beside a front matter laid out again
                self._layer(self._kinds(placed, page - 1))
            # every run that shows page numbers shows these ones, or is laid out again
            first = {run.name: start for run, start in placed}
            stale = [
                run for run in front + back if self._pending[run.name][0] != self._expected(run, pages, first[run.name])
            ]
            if not stale:
                break
            for run in stale:
                self._start(run, pages, first[run.name])
        else:
            raise ReportError(f"the page numbers of the PDF did not settle after {_MAX_ROUNDS} layouts")
        return self._finish(placed, page - 1, started, blank)

    def _expected(self, run: plan.Run, pages: dict[str, int], first_page: int) -> RunRequest:
        """The request of a run that starts on ``first_page`` of a book whose anchors stand on ``pages``."""
        html = plan.localize(self._documents[run.name], self._every_id, pages if run.needs_pages else None)
        verso = self._options.layout == "book" and first_page % 2 == 0
        return self._request(run.name, html, plan.run_edits(self._renderer.book, run, verso=verso))

    def _kinds(self, placed: list[tuple[plan.Run, int]], total: int) -> list[str]:
        """What kind each page of the book is (work.RunOutput.page_kinds); "blank" between runs."""
        kinds = ["blank"] * total
        for run, first in placed:
            output = self._output(run.name)[1]
            kinds[first - 1 : first - 1 + output.page_count] = output.page_kinds
        return kinds

    def _finish(
        self,
        placed: list[tuple[plan.Run, int]],
        total: int,
        started: float,
        blank: Future[RunOutput] | RunOutput | None,
    ) -> RunsOutcome:
        from .assemble import RunPdf, assemble

        timings: dict[str, float] = {}
        reports: list[RunReport] = []
        anchors: dict[str, int] = {}
        starts: list[PageStart] = []
        warnings: list[Diagnostic] = []
        pdfs: list[RunPdf] = []
        covered: set[int] = set()
        for run, first in placed:
            _, output, reused = self._output(run.name)
            reports.append(RunReport(run.name, run.kind, first, output.page_count, output.cpu_s, reused))
            for anchor, local in output.anchors.items():
                anchors.setdefault(anchor, first + local - 1)
            starts += [PageStart(first + s.page - 1, s.element_id, s.words_before) for s in output.starts]
            warnings += output.warnings
            pdfs.append(RunPdf(output.pdf, first, output.fonts))
            covered.update(range(first, first + output.page_count))
        if not self._write_pdf:
            timings["pdf runs"] = time.perf_counter() - started
            return RunsOutcome(Layout(anchors, total, tuple(warnings), tuple(starts)), None, reports, timings)
        layers: list[RunPdf] = []
        for part, result, reused in self._layer(self._kinds(placed, total)):
            output = result.result() if isinstance(result, Future) else result
            name = f"folios {part.first_page}"
            reports.append(RunReport(name, "folios", part.first_page, output.page_count, output.cpu_s, reused))
            warnings += output.warnings
            layers.append(RunPdf(output.pdf, part.first_page, output.fonts))
        between = [page for page in range(1, total + 1) if page not in covered]
        if between:
            assert blank is not None, "a blank page between runs outside the book layout"
            blank_output = blank.result() if isinstance(blank, Future) else blank
            page_pdf = self._blank_page(blank_output)
            pdfs += [RunPdf(page_pdf, page, blank_output.fonts) for page in between]
            pdfs.sort(key=lambda p: p.first_page)
        timings["pdf runs"] = time.perf_counter() - started
        assembled = time.perf_counter()
        try:
            data = assemble(
                pdfs, layers, page_count=total, identifier=self._identifier, font_file=self._store.font_file
            )
        except ValueError as exc:
            raise ReportError(f"the PDF runs could not be assembled: {exc}") from None
        timings["pdf assemble"] = time.perf_counter() - assembled
        return RunsOutcome(Layout(anchors, total, tuple(warnings), tuple(starts)), data, reports, timings)

    def _layer(self, kinds: list[str]) -> list[tuple[folios.LayerPart, Future[RunOutput] | RunOutput, bool]]:
        """The parts of the page-number layer for pages of these kinds (each laid out once)."""
        untagged = replace(self._options, variant="none")
        made = []
        for part in folios.layer_parts(self._empty_document, self._renderer.book, kinds):
            request = self._request(f"folios {part.first_page}", part.html, part.edits, untagged)
            if request not in self._layers:
                self._layers[request] = self._submit(request, folios.CHUNK)
            result, reused = self._layers[request]
            made.append((part, result, reused))
        return made

    def _blank_request(self) -> RunRequest:
        """A blank left page as the book layout has it before a chapter (marking and watermark kept).

        Laid out by WeasyPrint with the book's sheets as the second page of a document whose first
        page ends with a break to a right page: a genuine :blank page, as in the one pass.
        """
        html = self._empty_document.replace("</body>", '<div style="break-after: recto"></div><div></div></body>')
        return self._request("blank page", html, plan.run_edits(self._renderer.book, plan.Run("blank", "chapters")))

    def _blank_page(self, output: RunOutput) -> bytes:
        """The blank page of _blank_request() alone, its structure empty: it holds artifacts only."""
        import io

        import pikepdf

        if output.page_count != 3 or output.page_kinds[1] != "blank":
            raise ReportError(f"the blank page of the book layout came out as {output.page_kinds}")
        with pikepdf.open(io.BytesIO(output.pdf)) as pdf:
            alone = pikepdf.new()
            alone.pages.append(pdf.pages[1])
            page = alone.pages[0].obj
            for key in ("/StructParents", "/Annots"):
                if key in page:
                    del page[key]
            if "/StructTreeRoot" in pdf.Root:  # tagged like the runs it stands between, with nothing in it
                document = alone.make_indirect(
                    pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Document, K=pikepdf.Array())
                )
                tree = alone.make_indirect(
                    pikepdf.Dictionary(
                        Type=pikepdf.Name.StructTreeRoot,
                        K=pikepdf.Array([document]),
                        ParentTree=alone.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array())),
                    )
                )
                document.P = tree
                alone.Root.StructTreeRoot = tree
            for key in ("/Lang", "/MarkInfo", "/ViewerPreferences"):
                if key in pdf.Root:
                    alone.Root[key] = alone.copy_foreign(pdf.make_indirect(pdf.Root[key]))
            buffer = io.BytesIO()
            alone.save(buffer, static_id=True)
        return buffer.getvalue()
