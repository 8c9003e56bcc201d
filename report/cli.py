"""The `report` command: build, check, schema (and more), testable as main(argv) -> int."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

from . import __version__
from .errors import OutputError, ReportError, SourceError, printable
from .writers.pdf import RUN_SIZE

EXIT_OK, EXIT_USER, EXIT_INTERNAL = 0, 1, 2
ISSUES_URL = "the project's issue tracker"

EXAMPLES = """examples:
  report new my-dossier            start a dossier that builds as it is
  report watch my-dossier          preview on http://127.0.0.1:8000/, reloads when you save
  report watch my-dossier --pdf    and the PDF beside it, on http://127.0.0.1:8000/pdf
  report check my-dossier          list every error at once, like a compiler
  report build my-dossier --out out
  report build my-dossier --pdf --json    only the PDF; a summary for CI
  report schema > dossier.schema.json     for completion in your editor
"""


def _jobs(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes from 1 to 64")
    return int(text)


def _run_size(text: str) -> int:
    if not text.isdigit() or int(text) > 10_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of chapters from 0 to 10000")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="report",
        description="Build a PDF briefing, an EPUB and a web page from a dossier of YAML files.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"report {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    build = sub.add_parser(
        "build",
        help="build the editions of a dossier",
        description="Build the PDF, EPUB and HTML editions of a dossier folder.",
    )
    build.add_argument("path", nargs="?", default="chapters", type=Path, help="dossier folder (default: chapters)")
    build.add_argument("--out", type=Path, default=Path("dist"), help="output folder (default: dist)")
    from .writers.edition import editions

    for edition in editions():
        build.add_argument(
            f"--{edition.kind}",
            action="store_true",
            dest=f"edition_{edition.kind}",
            help=f"build the {edition.title} edition (default: all)"
            if edition.default
            else f"also write the {edition.title}",
        )
    build.add_argument("--page-size", choices=["A4", "A5", "Letter"], default="A4", help="PDF page size")
    build.add_argument(
        "--pdf-variant",
        choices=["pdf/ua-1", "pdf/a-3b", "none"],
        default="pdf/ua-1",
        help="PDF standard to follow (default: pdf/ua-1, tagged and accessible)",
    )
    build.add_argument("--bleed", default="", help="bleed for a print shop, e.g. 3mm")
    build.add_argument("--marks", action="store_true", help="crop marks for a print shop")
    build.add_argument(
        "--layout",
        choices=["briefing", "book"],
        default="",
        help="PDF layout, overriding the dossier's `layout:`: briefing (for the screen and one-sided "
        "print: no blank pages, 'page x of y') or book (duplex: chapters on right-hand pages)",
    )
    # the briefing layout's old name, kept so that existing scripts still work
    build.add_argument("--screen", action="store_const", dest="layout", const="briefing", help=argparse.SUPPRESS)
    build.add_argument(
        "--jobs",
        type=_jobs,
        default=0,
        metavar="N",
        help="PDF layout processes for a long dossier, laid out in runs of chapters (default: one per core)",
    )
    build.add_argument(
        "--run-size",
        type=_run_size,
        default=RUN_SIZE,
        metavar="N",
        help=f"chapters per PDF run (default: {RUN_SIZE}); a dossier of at most N chapters, or 0, "
        "is laid out in one pass",
    )
    build.add_argument("--epub-fonts", action="store_true", help="embed the shipped fonts in the EPUB")
    build.add_argument("--strict", action="store_true", help="treat warnings as errors")
    build.add_argument(
        "--force",
        action="store_true",
        help="build even if nothing changed since the last build (ignore the build cache)",
    )
    build.add_argument("--quiet", action="store_true", help="print nothing but errors")
    build.add_argument("--json", action="store_true", help="print a machine-readable summary")
    build.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    check = sub.add_parser(
        "check",
        help="check a dossier without building it",
        description="Validate everything and report all errors and warnings at once.",
    )
    check.add_argument("path", nargs="?", default="chapters", type=Path)
    check.add_argument("--json", action="store_true", help="print the diagnostics as JSON")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    watch = sub.add_parser(
        "watch",
        help="preview the HTML edition in the browser, rebuilt on every save",
        description="Serve the HTML edition on localhost; rebuild it when a file of the dossier "
        "is saved and reload the page. Errors show in the page. With --pdf, keep the PDF current beside "
        "it. Stop with Ctrl-C.",
    )
    watch.add_argument("path", nargs="?", default="chapters", type=Path)
    watch.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0: any free port)")
    watch.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the HTML, and with --pdf the PDF in OUT/pdf-preview (default: a temporary folder)",
    )
    watch.add_argument("--open", action="store_true", help="open the page in the web browser")
    watch.add_argument(
        "--pdf",
        action="store_true",
        help="also keep the PDF edition current, built in the background after each save and shown "
        "at /pdf (reloaded when it is ready); the HTML preview never waits for it",
    )
    watch.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    from .scaffold import LANGUAGES

    new = sub.add_parser(
        "new",
        help="create a new dossier folder",
        description="Write a new dossier folder: dossier.yaml, one example chapter with an event "
        "and a quote, and the JSON Schema for your editor. It builds as it is.",
    )
    new.add_argument("path", type=Path, help="the folder to create (must not exist, or be empty)")
    new.add_argument(
        "--language",
        choices=LANGUAGES,
        default="en",
        metavar="TAG",
        help=f"language of the example text and the editions' words: {', '.join(LANGUAGES)}",
    )

    from .schema import KINDS

    schema = sub.add_parser(
        "schema",
        help="print the JSON Schema of the source format",
        description="Print the JSON Schema of dossier.yaml and chapter files, generated from "
        "the models that validate them.",
    )
    schema.add_argument(
        "--kind",
        choices=KINDS,
        default="any",
        help="any (default: told apart by the `language` key), dossier or chapter",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse says 2 for a usage mistake; 2 is kept for our bugs
        if exc.code in (0, None):  # --help, --version
            raise
        return EXIT_USER
    if args.command is None:
        parser.print_help()
        return EXIT_USER
    try:
        if args.command == "build":
            return _build(args)
        if args.command == "check":
            return _check(args)
        if args.command == "schema":
            from .schema import json_schema

            print(json.dumps(json_schema(args.kind), indent=2, ensure_ascii=False))
            return EXIT_OK
        if args.command == "new":
            return _new(args)
        if args.command == "watch":
            return _watch(args)
    except SourceError as exc:
        if getattr(args, "json", False):
            print(
                json.dumps(
                    {"ok": False, "outputs": [], "warnings": [], "errors": [d.as_dict() for d in exc.diagnostics]},
                    indent=2,
                    ensure_ascii=False,
                )
            )
            return EXIT_USER
        for diagnostic in exc.diagnostics:
            print(diagnostic.format(with_source=True), file=sys.stderr)
        print(f"report: {_count(len(exc.diagnostics), 'error')}; nothing was written", file=sys.stderr)
        return EXIT_USER
    except OutputError as exc:
        if getattr(args, "json", False):
            print(
                json.dumps(
                    {"ok": False, "outputs": [], "warnings": [], "errors": [{"message": str(exc)}]},
                    indent=2,
                    ensure_ascii=False,
                )
            )
        print(f"report: error: {printable(exc)}", file=sys.stderr)
        return EXIT_USER
    except ReportError as exc:
        print(f"report: error: {printable(exc)}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("report: interrupted; earlier outputs are unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so, and where to report it
        # `report --debug build`: the subcommand's own --debug default would hide the global one
        if getattr(args, "debug", False) or "--debug" in (argv or sys.argv[1:]) or os.environ.get("REPORT_DEBUG"):
            traceback.print_exc()
        print(
            f"report: internal error: {type(exc).__name__}: {printable(exc)}\n"
            f"This is a bug in report {__version__}, not in your dossier. Please report it at {ISSUES_URL}"
            " (run with --debug for the traceback).",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return EXIT_USER


def _build(args) -> int:
    from .pipeline import BuildOptions, build
    from .writers.edition import editions
    from .writers.pdf import PdfOptions

    named = [e for e in editions() if getattr(args, f"edition_{e.kind}")]
    if not any(e.default for e in named):  # `--handout` alone: the default editions and the handout
        named += [e for e in editions() if e.default]
    options = BuildOptions(
        out_dir=args.out,
        formats=tuple(e.kind for e in named),
        pdf=PdfOptions(
            page_size=args.page_size,
            variant=args.pdf_variant,
            bleed=args.bleed,
            marks=args.marks,
            layout=args.layout,
            run_size=args.run_size,
        ),
        epub_fonts=args.epub_fonts,
        strict=args.strict,
        force=args.force,
        jobs=args.jobs,
    )
    display = None if (args.json or args.quiet) else make_progress_display()
    try:
        result = build(args.path, options, progress=display.update if display else None)
    finally:
        if display:
            display.close()
    if args.json:
        print(
            json.dumps(
                {
                    "ok": True,
                    "cached": result.cached,
                    "outputs": [
                        {"path": str(w.path), "kind": w.kind, "bytes": w.size, "pages": w.pages} for w in result.outputs
                    ],
                    "warnings": [w.as_dict() for w in result.warnings],
                    "errors": [],
                    "timings": {k: round(v, 3) for k, v in result.timings.items()},
                    # per chapter step: results made in this build, and reused from an earlier one
                    "reused": result.reused,
                    # the PDF laid out in runs (writers/runs/): each part, its pages and CPU time
                    "pdf_runs": result.pdf_runs,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    if not args.quiet:
        for warning in result.warnings:
            print(warning.format(with_source=True), file=sys.stderr)
        verb = "up to date" if result.cached else "wrote"  # nothing changed: the last build's files were kept
        for written in result.outputs:
            pages = f", {written.pages} pages" if written.pages else ""
            print(f"{verb} {printable(written.path)} ({written.size:,} bytes{pages})")
        if result.cached:
            print("nothing changed since the last build (use --force to build again)")
    return EXIT_OK


class PlainProgress:
    """One line per finished stage, with its time: for logs and pipes."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.started: dict[str, float] = {}

    def update(self, stage: str, state: str) -> None:
        if state == "start":
            self.started[stage] = time.perf_counter()
            return
        seconds = time.perf_counter() - self.started.get(stage, time.perf_counter())
        mark = "" if state == "done" else f" {state}"
        print(f"  {stage:<11} {seconds:6.2f} s{mark}", file=self.stream, flush=True)

    def close(self) -> None:
        pass


class RichProgress:
    """A live table of stages on a terminal: a spinner while running, then the time taken."""

    def __init__(self, console=None):
        from rich.console import Console
        from rich.live import Live

        self.console = console or Console(stderr=True)
        self.rows: dict[str, list] = {}  # stage -> [state, start, seconds]
        self.live = Live(self._render(), console=self.console, refresh_per_second=10, transient=False)
        self.live.start()

    def _render(self):
        from rich.spinner import Spinner
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        table.add_column(width=2)
        table.add_column(min_width=11)
        table.add_column(justify="right")
        for stage, (state, start, seconds) in self.rows.items():
            if state == "start":
                table.add_row(Spinner("dots"), stage, f"{time.perf_counter() - start:.1f} s")
            elif state == "done":
                table.add_row("[green]✓[/]", stage, f"{seconds:.2f} s")
            else:
                table.add_row("[red]✗[/]", stage, f"[red]{state}[/]")
        return table

    def update(self, stage: str, state: str) -> None:
        now = time.perf_counter()
        if state == "start":
            self.rows[stage] = ["start", now, 0.0]
        else:
            start = self.rows.get(stage, ["", now, 0.0])[1]
            self.rows[stage] = [state, start, now - start]
        self.live.update(self._render(), refresh=True)

    def close(self) -> None:
        self.live.stop()


def make_progress_display(stream=None):
    """Rich progress on a terminal, plain lines otherwise (CI logs, pipes, tests)."""
    stream = stream or sys.stderr
    if stream.isatty() and os.environ.get("TERM") != "dumb":
        return RichProgress()
    return PlainProgress(stream)


def _new(args) -> int:
    from .scaffold import new_dossier

    written = new_dossier(args.path, args.language)
    for path in written:
        print(f"wrote {path}")
    print(f"\nnext: report watch {args.path}    (or: report build {args.path})")
    return EXIT_OK


def _watch(args) -> int:
    import logging

    from .watch import PDF_PAGE_PATH, serve

    # watchfiles logs a warning of its own on Ctrl-C; we say "stopped" instead
    logging.getLogger("watchfiles").setLevel(logging.ERROR)

    def ready(url: str) -> None:
        print(f"serving {args.path} at {url}  (Ctrl-C to stop)", flush=True)
        if args.pdf:
            print(f"the PDF at {url}{PDF_PAGE_PATH.lstrip('/')}  (built in the background after each save)", flush=True)
        if args.open:
            import webbrowser

            webbrowser.open(url)

    def built(ok: bool, seconds: float, parsed: tuple[int, int]) -> None:
        stamp = time.strftime("%H:%M:%S")
        again, files = parsed
        print(
            f"[{stamp}] {'rebuilt' if ok else 'source has errors, shown in the page'} in {seconds:.2f} s"
            f" (files parsed: {again} of {files})",
            file=sys.stderr,
            flush=True,
        )

    def pdf_built(ok: bool, seconds: float) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(
            f"[{stamp}] {'PDF rebuilt' if ok else 'PDF not rebuilt: errors, shown in the PDF page'} in {seconds:.2f} s",
            file=sys.stderr,
            flush=True,
        )

    try:
        serve(
            args.path,
            port=args.port,
            out_dir=args.out,
            pdf=args.pdf,
            on_ready=ready,
            on_build=built,
            on_pdf_build=pdf_built,
        )
    except KeyboardInterrupt:  # Ctrl-C during a rebuild, not inside the file watcher: the same stop
        pass
    print("stopped", file=sys.stderr)
    return EXIT_OK


def _count(n: int, word: str) -> str:
    return f"{'no' if n == 0 else n} {word}{'' if n == 1 else 's'}"


def _check(args) -> int:
    from .pipeline import check

    collector, _ = check(args.path)
    diagnostics = sorted(
        collector.diagnostics, key=lambda d: (str(d.location.path), d.location.line, d.location.column)
    )
    errors = [d for d in diagnostics if d.severity == "error" or args.strict]
    if args.json:
        print(
            json.dumps(
                {
                    "ok": not errors,
                    "errors": len(errors),
                    "warnings": len(diagnostics) - len(errors),
                    "diagnostics": [d.as_dict() for d in diagnostics],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        for diagnostic in diagnostics:
            print(diagnostic.format(with_source=True), file=sys.stderr)
        counts = f"{_count(len(errors), 'error')}, {_count(len(diagnostics) - len(errors), 'warning')}"
        print(f"{printable(args.path)}: {counts}", file=sys.stderr)
    return EXIT_USER if errors else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
