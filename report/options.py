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
        for name in ("out_dir", "formats", "force", "parallel"):
            shaping.pop(name)
        return shaping
