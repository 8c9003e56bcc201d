"""Located diagnostics and the two kinds of failure: the user's and ours."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

# Characters that would let a file name or a piece of source text forge or hide lines on a
# terminal: C0 and C1 controls (newline, ESC...), line and paragraph separators, and the
# bidi embedding, override and isolate controls (they reorder what a terminal shows).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: object) -> str:
    """Text for one line of a message: every control character shown as an escape (\\n, \\x1b, \\u202e)."""

    def escape(match: re.Match) -> str:
        ch = match.group()
        return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")

    return _UNPRINTABLE.sub(escape, str(text))


@dataclass(frozen=True, order=True)
class Location:
    """A place in a source file; line and column are 1-based."""

    path: Path
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return printable(self.path)
        return f"{printable(self.path)}:{self.line}:{self.column or 1}"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about the source: an error, or a warning."""

    location: Location
    message: str
    field: str = ""
    severity: str = "error"
    hint: str = ""
    code: str = ""  # a stable name for the kind of finding, e.g. "unplaced-quote"

    def format(self, *, with_source: bool = False) -> str:
        """One line (two more with the source line and a caret); nothing in it can start a line."""
        where = f"{self.location}: {self.severity}: "
        what = f"{self.field}: {self.message}" if self.field else self.message
        text = where + printable(what)
        if self.hint:
            text += f" ({printable(self.hint)})"
        if with_source and self.location.line:
            snippet = _source_line(self.location)
            if snippet is not None:
                column = self.location.column
                if len(snippet) > 160:  # show a window around the column, not a whole huge line
                    start = max(column - 80, 0)
                    snippet = ("…" if start else "") + snippet[start : start + 160] + "…"
                    column = column - start + (1 if start else 0)
                before = printable(snippet[: max(column - 1, 0)])  # the caret stays under its character
                caret = " " * len(before) + "^"
                text += f"\n    {printable(snippet)}\n    {caret}"
        return text

    def as_dict(self) -> dict:
        return {
            "file": str(self.location.path),
            "line": self.location.line,
            "column": self.location.column,
            "field": self.field,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "code": self.code,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Diagnostic:
        """The inverse of as_dict (for the build cache)."""
        location = Location(Path(data["file"]), int(data["line"]), int(data["column"]))
        return cls(
            location,
            str(data["message"]),
            str(data["field"]),
            str(data["severity"]),
            str(data["hint"]),
            str(data["code"]),
        )

    def promoted(self) -> Diagnostic:
        """The same finding as an error, in the same place (`--strict`)."""
        return replace(self, severity="error")


def _source_line(location: Location) -> str | None:
    try:
        lines = location.path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if 0 < location.line <= len(lines):
        return lines[location.line - 1].replace("\t", " ")
    return None


class ReportError(Exception):
    """Base of every error the builder raises on purpose."""


class SourceError(ReportError):
    """The dossier is wrong: one or more located diagnostics, all of them."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: (str(d.location.path), d.location.line, d.location.column))
        super().__init__("\n".join(d.format() for d in self.diagnostics))


class OutputError(ReportError):
    """An edition could not be written (output folder, disk, permissions)."""


@dataclass
class Collector:
    """Gathers diagnostics from every stage so all are reported at once."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, location: Location, message: str, *, field: str = "", hint: str = "") -> None:
        self.diagnostics.append(Diagnostic(location, message, field, "error", hint))

    def warning(self, location: Location, message: str, *, field: str = "", hint: str = "", code: str = "") -> None:
        self.diagnostics.append(Diagnostic(location, message, field, "warning", hint, code))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise SourceError(self.errors)
