"""What an edition is, and the one registry of them.

An edition says, in a few declarative attributes, what it is (kind, file name, whether
the default build makes it, whether it needs the print layout) and makes its bytes,
with located warnings, from one `EditionContext`. The PDF, the EPUB, the HTML page and
the handout are peers: each is one module in writers/ that ends in `EDITION = ...`.
The command line's edition flags, the build cache's manifest, the README's list and
the order of the outputs all come from this registry.

To add an edition: write writers/NAME.py with a class like `HtmlEdition` (writers/html.py
is the smallest) and name its module in `_BUILT_IN` (or call `register()`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import Diagnostic

if TYPE_CHECKING:
    from ..cache import BuildCache
    from ..derive.book import Book
    from ..options import BuildOptions
    from ..render import Renderer, RenderSettings
    from .layout import Layout, LayoutSource


class LayoutNeed(Enum):
    """How much of the print layout an edition needs."""

    NONE = "none"  # nothing: made while the PDF lays out
    PAGES = "pages"  # the page map (a cached one will do): the EPUB's print page numbers
    DOCUMENT = "document"  # the laid-out document itself, to write: the PDF


@dataclass(frozen=True)
class Made:
    """One edition's bytes, in memory, and what its making found."""

    data: bytes
    pages: int | None = None  # pages, for the editions that have them
    warnings: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class EditionContext:
    """Everything an edition may use: the one context every edition is made from."""

    book: Book
    renderer: Renderer
    settings: RenderSettings
    options: BuildOptions
    styles: Path  # the shipped styles folder
    cache: BuildCache
    digest: str  # of the content, styles, templates and version: keys for cached artifacts
    stage: Callable[[str], AbstractContextManager]  # `with ctx.stage("epub"):` times and reports a step
    layout_source: LayoutSource | None  # None when no requested edition needs the print layout
    _layout: list[Layout] = field(default_factory=list, repr=False, compare=False)  # filled once

    def layout(self) -> Layout:
        """The print layout (waits for it the first time)."""
        if self.layout_source is None:
            raise RuntimeError("this build has no print layout: declare `layout` on the edition")
        if not self._layout and not self.layout_source.fresh:
            self._layout.append(self.layout_source.layout())
        if not self._layout:
            with self.stage("pdf layout"):
                self._layout.append(self.layout_source.layout())
        return self._layout[0]

    def artifact(self, kind: str, inputs: object, suffix: str, make: Callable[[], bytes]) -> bytes:
        """An intermediate product kept in the build cache: made again only when ``inputs`` change."""
        from ..cache import build_key

        key = build_key(self.digest, {kind: inputs})  # the digest covers the fonts, templates and code
        data = None if self.options.force else self.cache.read_artifact(kind, key, suffix)
        if data is None:
            data = make()
            self.cache.write_artifact(kind, key, suffix, data)
        return data


class Edition(Protocol):
    """One output format (mdBook's Renderer: a name and a render method, plus Sphinx-like attributes)."""

    kind: str  # its name: the command-line flag (--kind), the cache record, the JSON summary
    suffix: str  # file name after the dossier's stem: ".pdf", "-handout.pdf"
    title: str  # for --help: "build the PDF edition"
    default: bool  # made when no edition is named; others are made only when asked for
    layout: LayoutNeed

    def make(self, ctx: EditionContext) -> Made:
        """The edition's bytes; nothing is written here."""
        ...


_BUILT_IN = ("pdf", "epub", "html", "handout")  # modules of writers/, in the order of the outputs
_registry: dict[str, Edition] = {}


def _load() -> dict[str, Edition]:
    if not _registry:
        from importlib import import_module

        for name in _BUILT_IN:
            edition = import_module(f"{__package__}.{name}").EDITION
            _registry.setdefault(edition.kind, edition)
    return _registry


def register(edition: Edition) -> None:
    """Add an edition after the built-in ones (an edition of the same kind is replaced)."""
    _load()[edition.kind] = edition


def unregister(kind: str) -> None:
    _load().pop(kind, None)


def editions() -> Iterator[Edition]:
    """Every registered edition, in the order of the outputs."""
    return iter(tuple(_load().values()))


def edition(kind: str) -> Edition:
    return _load()[kind]


def default_kinds() -> tuple[str, ...]:
    return tuple(e.kind for e in editions() if e.default)
