"""The build cache in the output folder: skip work whose inputs have not changed.

Stdlib only, and imported before anything heavy: an unchanged rebuild must answer in a
fraction of a second, without loading the dossier, Jinja2, pydantic or WeasyPrint.

Three records live in ``OUT/.report-cache/``:
- ``manifest.json``: the key of the last build and the outputs it wrote (name, edition
  kind, size, sha256, pages) with its located warnings. A build whose key matches, and whose outputs are
  still there byte for byte, has nothing to do.
- ``pagemap-KEY.json``: the PDF's `Layout` (page of every anchor, page count, located
  warnings, page starts). The EPUB takes its print page numbers from it, so `--epub`
  after any build of the same content and page options needs no layout (and never
  imports WeasyPrint).
- ``cover-KEY.png``: the drawn EPUB cover, slow to make and rarely changed.

A key digests the dossier folder (every file but hidden ones and the output folder),
the styles, the templates, the builder's own code and version, SOURCE_DATE_EPOCH and the
options. Anything not in the key must not change the output.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .errors import Diagnostic

if TYPE_CHECKING:
    from .writers.layout import Layout

CACHE_DIR = ".report-cache"
MANIFEST = "manifest.json"
PACKAGE = Path(__file__).resolve().parent
_CHUNK = 1 << 20


# The names the builder gives its editions (an ASCII stem from the title, then -handout.pdf,
# .pdf, .epub or .html): in an output folder that is the dossier folder itself, these are
# outputs, not sources, or every build would change the next one's key and build id.
EDITION_FILE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.(?:pdf|epub|html)$")


def _listed(folder: Path, exclude: tuple[Path, ...]) -> list[Path]:
    """Files under ``folder`` in a stable order, without hidden parts, caches and ``exclude``.

    A folder in ``exclude`` below ``folder`` is skipped whole; ``folder`` itself in ``exclude``
    (`--out` is the dossier folder) keeps everything but the editions written into it.
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and d != "__pycache__" and (here / d).resolve() not in exclude
        )
        outputs_here = here.resolve() in exclude
        found += [
            here / name
            for name in sorted(filenames)
            if not name.startswith(".") and not (outputs_here and EDITION_FILE.match(name))
        ]
    return found


def digest_files(folders: list[Path], *, exclude: tuple[Path, ...] = (), salt: str = "") -> str:
    """The sha256 of every file's path (relative to its folder) and bytes, folder by folder."""
    digest = hashlib.sha256(salt.encode())
    excluded = tuple(Path(p).resolve() for p in exclude)
    for number, folder in enumerate(folders):
        for path in _listed(Path(folder), excluded):
            digest.update(f"{number}:{path.relative_to(folder).as_posix()}\0".encode())
            _digest_content(digest, path)
            digest.update(b"\0")
    return digest.hexdigest()


_MAX_HASHED = 64 << 20


def _digest_content(digest: hashlib._Hash, path: Path) -> None:
    """A file's bytes; never open a FIFO or device (it would block or never end).

    A dossier folder is untrusted: a file there may be a FIFO, a link to /dev/zero or
    a huge file. Only regular files are read, and one over 64 MiB counts by its size
    and time (the loader refuses such files anyway).
    """
    try:
        info = os.stat(path)
    except OSError:
        digest.update(b"<missing>")
        return
    if not stat.S_ISREG(info.st_mode):
        digest.update(f"<not a file {stat.S_IFMT(info.st_mode)}>".encode())
        return
    if info.st_size > _MAX_HASHED:
        digest.update(f"<{info.st_size} {info.st_mtime_ns}>".encode())
        return
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)


def code_digest() -> str:
    """The builder's own code and version: a changed checkout must not reuse old outputs."""
    return digest_files([PACKAGE], salt=f"report {__version__}\n")


def build_key(content_digest: str, options: dict) -> str:
    """The key of one build: content, code, the reproducibility clock and the options."""
    text = json.dumps(
        {
            "content": content_digest,
            "code": code_digest(),
            "options": options,
            "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH", ""),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class CachedOutput:
    name: str  # file name inside the output folder
    kind: str
    size: int
    sha256: str
    pages: int | None


@dataclass(frozen=True)
class Manifest:
    key: str
    outputs: tuple[CachedOutput, ...]
    warnings: tuple[Diagnostic, ...]


class BuildCache:
    """The cache records of one output folder."""

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.folder = self.out_dir / CACHE_DIR

    def read_manifest(self) -> Manifest | None:
        try:
            data = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
            return Manifest(
                data["key"],
                tuple(CachedOutput(**o) for o in data["outputs"]),
                tuple(Diagnostic.from_dict(w) for w in data["warnings"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # no cache, or one from another version: build

    def hit(self, key: str, kinds: tuple[str, ...]) -> Manifest | None:
        """The manifest if it has this key and every wanted output is still there, unchanged."""
        manifest = self.read_manifest()
        if manifest is None or manifest.key != key:
            return None
        by_kind = {o.kind: o for o in manifest.outputs}
        for kind in kinds:
            cached = by_kind.get(kind)
            if cached is None:
                return None
            path = self.out_dir / cached.name
            try:
                if path.stat().st_size != cached.size or file_sha256(path) != cached.sha256:
                    return None
            except OSError:
                return None
        return Manifest(key, tuple(by_kind[k] for k in kinds), manifest.warnings)

    def write_manifest(
        self, key: str, outputs: list[tuple[str, str, bytes, int | None]], warnings: list[Diagnostic]
    ) -> None:
        """Record a finished build: (file name, kind, bytes, pages) of each output."""
        records = [
            {"name": name, "kind": kind, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "pages": pages}
            for name, kind, data, pages in outputs
        ]
        earlier = self.read_manifest()
        if earlier is not None and earlier.key == key:  # `--epub` after a full build keeps the PDF's record
            made = {kind for _, kind, _, _ in outputs}
            records += [vars(o) for o in earlier.outputs if o.kind not in made]
        self._write(
            MANIFEST,
            json.dumps(
                {"key": key, "outputs": records, "warnings": [w.as_dict() for w in warnings]}, sort_keys=True
            ).encode("utf-8"),
        )

    def read_layout(self, key: str) -> Layout | None:
        """The print layout of an earlier build with this key, or None."""
        from .writers.layout import Layout

        data = self.read_artifact("pagemap", key, ".json")
        if data is None:
            return None
        try:
            return Layout.from_json(data)
        except ValueError:
            return None  # a record of another version: lay out again

    def write_layout(self, key: str, layout: Layout) -> None:
        self.write_artifact("pagemap", key, ".json", layout.to_json())

    def read_artifact(self, kind: str, key: str, suffix: str) -> bytes | None:
        """An intermediate product of an earlier build with the same key, or None."""
        try:
            return (self.folder / f"{kind}-{key}{suffix}").read_bytes()
        except OSError:
            return None

    def write_artifact(self, kind: str, key: str, suffix: str, data: bytes) -> None:
        """Keep one artifact of each kind: older ones are removed so the folder does not grow."""
        name = f"{kind}-{key}{suffix}"
        self._write(name, data)
        for old in self.folder.glob(f"{kind}-*{suffix}"):
            if old.name != name:
                old.unlink(missing_ok=True)

    def _write(self, name: str, data: bytes) -> None:
        from .writers.files import write_atomic

        try:
            self.folder.mkdir(exist_ok=True)
            write_atomic(self.folder / name, data)
        except OSError:
            pass  # a cache that cannot be written only costs time next build
