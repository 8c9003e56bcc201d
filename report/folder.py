"""The dossier folder: what lies inside it, and which of its files names a resource.

A dossier is untrusted: every path it gives (a chapter, an image, a template, a link)
is checked here, on resolved paths (links followed), never by comparing strings.
Stdlib only: the cache and the loader use it before anything heavy is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .errors import Location


def is_inside(path: Path | str, folder: Path | str) -> bool:
    """Whether ``path``, links followed, is ``folder`` or lies under it; False if it cannot be resolved."""
    try:
        return Path(path).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, RuntimeError, ValueError):
        return False


def find_reference(root: Path, needles: Sequence[str], *, tails: Sequence[str] = ()) -> Location | None:
    """The first line of a dossier file that names one of ``needles`` (else one of ``tails``).

    A dossier's own templates are searched first (chapter bodies are sanitised and their
    images checked before any renderer sees them), then its YAML files.
    """
    templates = root / "templates"
    sources = sorted(p for p in templates.rglob("*") if p.is_file()) if templates.is_dir() else []
    sources += sorted(root.glob("*.yaml"))
    for group in (needles, tails):  # the address as written first, its last part as a fallback
        group = [n for n in group if n]
        if not group:
            continue
        for source in sources:
            if not is_inside(source, root):
                continue  # a link out of the folder: its lines are not ours to show
            try:
                lines = source.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for number, line in enumerate(lines, start=1):
                for needle in group:
                    if needle in line:
                        return Location(source, number, line.index(needle) + 1)
    return None
