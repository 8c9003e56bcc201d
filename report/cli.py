"""The `report` command: build, check, schema (and more), testable as main(argv) -> int."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from . import __version__
from .errors import OutputError, ReportError, SourceError

EXIT_OK, EXIT_USER, EXIT_INTERNAL = 0, 1, 2
ISSUES_URL = "the project's issue tracker"

EXAMPLES = """examples:
  report build                     build the dossier in ./chapters into ./dist
  report build my-dossier --out out --pdf
  report check my-dossier          list every error at once, like a compiler
  report schema > dossier.schema.json
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="report", description="Build a PDF briefing, an EPUB and a web page from a dossier of YAML files.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"report {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    build = sub.add_parser("build", help="build the editions of a dossier",
                           description="Build the PDF, EPUB and HTML editions of a dossier folder.")
    build.add_argument("path", nargs="?", default="chapters", type=Path, help="dossier folder (default: chapters)")
    build.add_argument("--out", type=Path, default=Path("dist"), help="output folder (default: dist)")
    for fmt in ("pdf", "epub", "html"):
        build.add_argument(f"--{fmt}", action="store_true", help=f"build the {fmt.upper()} edition (default: all)")
    build.add_argument("--handout", action="store_true", help="also write the A5 handout booklet, imposed on A4")
    build.add_argument("--page-size", choices=["A4", "A5", "Letter"], default="A4", help="PDF page size")
    build.add_argument("--pdf-variant", choices=["pdf/ua-1", "pdf/a-3b", "none"], default="pdf/ua-1",
                       help="PDF standard to follow (default: pdf/ua-1, tagged and accessible)")
    build.add_argument("--bleed", default="", help="bleed for a print shop, e.g. 3mm")
    build.add_argument("--marks", action="store_true", help="crop marks for a print shop")
    build.add_argument("--screen", action="store_true", help="screen layout: no blank pages, chapters on any page")
    build.add_argument("--epub-fonts", action="store_true", help="embed the shipped fonts in the EPUB")
    build.add_argument("--strict", action="store_true", help="treat warnings as errors")
    build.add_argument("--quiet", action="store_true", help="print nothing but errors")
    build.add_argument("--json", action="store_true", help="print a machine-readable summary")
    build.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    check = sub.add_parser("check", help="check a dossier without building it",
                           description="Validate everything and report all errors and warnings at once.")
    check.add_argument("path", nargs="?", default="chapters", type=Path)
    check.add_argument("--json", action="store_true", help="print the diagnostics as JSON")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    sub.add_parser("schema", help="print the JSON Schema of the source format")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
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

            print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
            return EXIT_OK
    except SourceError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        n = len(exc.diagnostics)
        print(f"report: {n} error{'s' if n != 1 else ''}; nothing was written", file=sys.stderr)
        return EXIT_USER
    except OutputError as exc:
        print(f"report: error: {exc}", file=sys.stderr)
        return EXIT_USER
    except ReportError as exc:
        print(f"report: error: {exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("report: interrupted; earlier outputs are unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so, and where to report it
        if getattr(args, "debug", False) or os.environ.get("REPORT_DEBUG"):
            traceback.print_exc()
        print(f"report: internal error: {type(exc).__name__}: {exc}\n"
              f"This is a bug in report {__version__}, not in your dossier. Please report it at {ISSUES_URL}"
              " (run with --debug for the traceback).", file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_USER


def _build(args) -> int:
    from .pipeline import FORMATS, BuildOptions, build
    from .writers.pdf import PdfOptions

    formats = tuple(f for f in FORMATS if getattr(args, f)) or FORMATS
    options = BuildOptions(
        out_dir=args.out, formats=formats,
        pdf=PdfOptions(page_size=args.page_size, variant=args.pdf_variant, bleed=args.bleed, marks=args.marks,
                       layout="screen" if args.screen else "print"),
        epub_fonts=args.epub_fonts, handout=args.handout, strict=args.strict,
    )
    result = build(args.path, options)
    if args.json:
        print(json.dumps({
            "ok": True,
            "outputs": [{"path": str(w.path), "kind": w.kind, "bytes": w.size, "pages": w.pages}
                        for w in result.outputs],
            "warnings": result.warnings, "errors": [],
            "timings": {k: round(v, 3) for k, v in result.timings.items()},
        }, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not args.quiet:
        for warning in result.warnings:
            print(warning, file=sys.stderr)
        for written in result.outputs:
            pages = f", {written.pages} pages" if written.pages else ""
            print(f"wrote {written.path} ({written.size:,} bytes{pages})")
    return EXIT_OK


def _check(args) -> int:
    from .pipeline import check

    collector, _ = check(args.path)
    diagnostics = sorted(collector.diagnostics, key=lambda d: (str(d.location.path), d.location.line,
                                                                  d.location.column))
    errors = [d for d in diagnostics if d.severity == "error" or args.strict]
    if args.json:
        print(json.dumps({"ok": not errors, "errors": len(errors), "warnings": len(diagnostics) - len(errors),
                          "diagnostics": [d.as_dict() for d in diagnostics]}, indent=2, ensure_ascii=False))
    else:
        for diagnostic in diagnostics:
            print(diagnostic.format(with_source=True), file=sys.stderr)
        print(f"{len(errors)} error(s), {len(diagnostics) - len(errors)} warning(s)", file=sys.stderr)
    return EXIT_USER if errors else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
