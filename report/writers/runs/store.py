"""Laid-out runs kept between builds, keyed by everything that shapes them.

A run's key is the digest of its document (HTML), its sheet edits, the PDF options, the
shipped styles, the files its document points at (images, by their bytes), the builder's
code and WeasyPrint's version. A run whose key is unchanged is not laid out again: a
one-chapter edit lays out that chapter's run, and whatever the changed page numbers change
(the contents, the indexes, the page-number layer), nothing else.

Kept in OUT/.report-cache/runs/: <key>.pdf and <key>.json (the RunOutput without its bytes),
and the original files of the fonts the runs use in fonts/ (the assembly re-subsets them).
Records of the last two builds are kept, the others (and font files no record names) removed
after a build. A record that
cannot be read is laid out again; nothing in it is code (no pickle): the PDF is read by
qpdf and the JSON by json.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ...errors import Diagnostic
from ..page_starts import PageStart
from .work import RunOutput, RunRequest

_KEEP_BUILDS = 2
_FILE_URL = re.compile(r"file://[^\s\"'<>)]+")


def _styles_digest(styles: Path) -> str:
    from ...cache import digest_files

    return digest_files([styles])


class RunStore:
    """The runs of earlier builds in one output folder; ``read`` False (--force) uses none of them."""

    def __init__(self, folder: Path, styles: Path, *, read: bool = True):
        self.folder = folder
        self.fonts = folder / "fonts"
        self.read = read
        self._styles = _styles_digest(styles)
        self._used: set[str] = set()

    def key(self, request: RunRequest) -> str:
        import weasyprint

        from ...cache import code_digest

        digest = hashlib.sha256()
        for part in (
            code_digest(),
            weasyprint.__version__,
            self._styles,
            repr(request.options),
            repr(request.edits),
            request.base_dir,
            request.identifier,
            request.html,
        ):
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
        for url in sorted(set(_FILE_URL.findall(request.html))):
            digest.update(url.encode() + b"\0" + _file_digest(Path(unquote(urlsplit(url).path))).encode() + b"\0")
        return digest.hexdigest()

    def get(self, key: str) -> RunOutput | None:
        self._used.add(key)
        if not self.read:
            return None
        try:
            data = (self.folder / f"{key}.pdf").read_bytes()
            record = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            output = RunOutput(
                data,
                int(record["page_count"]),
                {str(k): int(v) for k, v in record["anchors"].items()},
                tuple(PageStart(int(p), str(e), int(w)) for p, e, w in record["starts"]),
                tuple(str(kind) for kind in record["page_kinds"]),
                tuple(Diagnostic.from_dict(w) for w in record["warnings"]),
                {str(k): str(v) for k, v in record["fonts"].items()},
                float(record["cpu_s"]),
                float(record["wall_s"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if hashlib.sha256(data).hexdigest() != record.get("sha256") or not self._fonts_present(output):
            return None
        return output

    def _fonts_present(self, output: RunOutput) -> bool:
        return all((self.fonts / ref.split(":", 1)[0]).is_file() for ref in output.fonts.values())

    def put(self, key: str, output: RunOutput) -> None:
        self._used.add(key)
        record = {
            "page_count": output.page_count,
            "anchors": output.anchors,
            "starts": [[s.page, s.element_id, s.words_before] for s in output.starts],
            "page_kinds": list(output.page_kinds),
            "warnings": [w.as_dict() for w in output.warnings],
            "fonts": output.fonts,
            "cpu_s": output.cpu_s,
            "wall_s": output.wall_s,
            "sha256": hashlib.sha256(output.pdf).hexdigest(),
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, data in ((f"{key}.pdf", output.pdf), (f"{key}.json", json.dumps(record, sort_keys=True).encode())):
            partial = self.folder / f".{name}.{os.getpid()}"
            partial.write_bytes(data)
            os.replace(partial, self.folder / name)

    def font_file(self, ref: str) -> tuple[bytes, int]:
        """The original font file of a run's font reference ("digest:face index")."""
        digest, _, index = ref.partition(":")
        return (self.fonts / digest).read_bytes(), int(index or 0)

    def finish(self) -> None:
        """Forget the records that neither this build nor the one before used."""
        if not self.folder.is_dir():
            return
        index = self.folder / "builds.json"
        try:
            builds = json.loads(index.read_text(encoding="utf-8"))
            if not isinstance(builds, list):
                builds = []
        except (OSError, ValueError):
            builds = []
        builds = ([sorted(self._used)] + [b for b in builds if isinstance(b, list)])[:_KEEP_BUILDS]
        keep = {key for build in builds for key in build}
        fonts: set[str] = set()
        for path in self.folder.iterdir():
            if path.suffix in (".pdf", ".json") and path.stem not in keep and path.name != "builds.json":
                path.unlink(missing_ok=True)
            elif path.suffix == ".json" and path.name != "builds.json":
                try:
                    record = json.loads(path.read_text(encoding="utf-8"))
                    fonts.update(str(ref).split(":", 1)[0] for ref in record["fonts"].values())
                except (OSError, ValueError, KeyError, TypeError, AttributeError):
                    path.unlink(missing_ok=True)
        if self.fonts.is_dir():  # the font files no kept run uses
            for path in self.fonts.iterdir():
                if path.name not in fonts:
                    path.unlink(missing_ok=True)
        index.write_text(json.dumps(builds), encoding="utf-8")


def _file_digest(path: Path) -> str:
    try:
        if not path.is_file():
            return "-"
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "-"
