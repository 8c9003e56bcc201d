"""What a build is asked to do: which editions, where, and the choices that shape them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import ReportError
from .writers.pdf import PdfOptions


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path
    formats: tuple[str, ...] = ()  # kinds of the editions to make (see writers/edition.py); () the default ones
    pdf: PdfOptions = field(default_factory=PdfOptions)
    epub_fonts: bool = False
    strict: bool = False
    force: bool = False  # ignore the build cache
    parallel: bool = True  # lay the PDF out in its own process while the other editions are made
    jobs: int = 0  # PDF engine processes for a book laid out in runs; 0: one per core

    def __post_init__(self) -> None:
        from .writers.edition import default_kinds, editions

        known = [e.kind for e in editions()]
        unknown = [kind for kind in self.formats if kind not in known]
        if unknown:
            raise ReportError(f"no edition called {', '.join(unknown)} (known: {', '.join(known)})")
        # the registry's order, whatever order they were asked in
        kinds = tuple(kind for kind in known if kind in self.formats) or default_kinds()
        object.__setattr__(self, "formats", kinds)

    def cache_options(self) -> dict:
        """The options that shape the outputs (the editions are checked one by one)."""
        shaping = asdict(self)
        for name in ("out_dir", "formats", "force", "parallel", "jobs"):
            shaping.pop(name)
        return shaping


def cores() -> int:
    """The cores this process may run on."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
