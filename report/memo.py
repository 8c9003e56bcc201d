"""The per-chapter memo: results of pure steps, kept by the digest of everything that shapes them.

A build reads each chapter through steps that depend on that chapter alone (the YAML
parse, validation, the hidden-character check, the Markdown parse, each edition's body)
plus a few whole-dossier inputs named in their keys (the language, the citations the
chapter makes, the images). A step's result is found again by its key: an unchanged
chapter is never parsed again. The whole-book assembly (numbering, timeline, quote
index, cross-chapter checks) always runs; it is cheap.

- In memory, a `Memo` lives as long as its owner: `report watch` keeps one across saves.
- On disk, `report build` keeps the steps marked ``disk=True`` in OUT/.report-cache/parts.pickle.
  The file is a pickle, so it is read only when its HMAC-SHA256, made with a secret that
  never leaves the user's own cache folder (``$XDG_CACHE_HOME/report/memo.key``), matches:
  a cache shipped inside a dossier folder (or written by anyone else) is ignored, never
  unpickled. Without a usable secret there is no disk memo, only a slower build.

Diagnostics are part of a result: a step records what it reported, and a reused result
reports the same diagnostics again, in the same order, at the same file:line:col.

Keys are built from the inputs themselves, never from time stamps; a key also holds the
builder's own code digest (cache.code_digest), so another version never reads these results.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import pickle
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .cache import code_digest
from .errors import Collector, Diagnostic

T = TypeVar("T")

DISK_FILE = "parts.pickle"
_MAGIC = b"report-memo-1\n"
# Results unused for this many builds in a row are dropped: a long `report watch` stays bounded,
# and a save that breaks one chapter (so that later steps do not run) does not evict the rest.
KEEP_BUILDS = 3


def digest(*parts: object) -> str:
    """A key from values whose repr is stable (str, int, tuples and frozen views of them)."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


class Memo:
    """Step results by (step, key), with the diagnostics each step reported.

    Thread-safe for lookups; one build at a time uses a memo (`report watch` builds in one thread).
    """

    def __init__(self, disk: Path | None = None, *, read: bool = True):
        self._entries: dict[tuple[str, str], tuple[Any, tuple[Diagnostic, ...], int, bool]] = {}
        self._lock = threading.Lock()
        self._build = 0
        self.disk = disk  # the file behind the disk steps, or None
        self.made: Counter[str] = Counter()  # steps computed in the current build, by step name
        self.reused: Counter[str] = Counter()
        if disk is not None and read:
            self._load(disk)

    # -- one build -------------------------------------------------------------------------

    def begin(self) -> None:
        """Start counting a new build."""
        with self._lock:
            self._build += 1
            self.made.clear()
            self.reused.clear()

    def finish(self, *, save: bool = True) -> None:
        """Drop what recent builds did not use; write the disk steps of this build if ``save``."""
        with self._lock:
            self._entries = {key: entry for key, entry in self._entries.items() if self._build - entry[2] < KEEP_BUILDS}
            kept = {key: (e[0], e[1]) for key, e in self._entries.items() if e[3] and e[2] == self._build}
        if self.disk is not None and save:
            self._save(self.disk, kept)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per step: how many results were made and how many reused in this build."""
        steps = sorted(set(self.made) | set(self.reused))
        return {step: {"made": self.made[step], "reused": self.reused[step]} for step in steps}

    # -- steps -----------------------------------------------------------------------------

    def step(
        self,
        name: str,
        key: str,
        make: Callable[[Collector], T],
        collector: Collector | None = None,
        *,
        disk: bool = False,
    ) -> T:
        """The result of ``make`` for this key: made once, then reused with its diagnostics.

        ``make`` reports to the collector it is given; those diagnostics are kept with the
        result and reported again to ``collector`` each time the result is used.
        """
        slot = (name, key)
        with self._lock:
            entry = self._entries.get(slot)
            if entry is not None:
                value, diagnostics, _, on_disk = entry
                self._entries[slot] = (value, diagnostics, self._build, on_disk or disk)
                self.reused[name] += 1
        if entry is not None:
            if collector is not None:
                collector.diagnostics.extend(diagnostics)
            return value
        own = Collector()
        value = make(own)
        with self._lock:
            self._entries[slot] = (value, tuple(own.diagnostics), self._build, disk)
            self.made[name] += 1
        if collector is not None:
            collector.diagnostics.extend(own.diagnostics)
        return value

    # -- disk --------------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        secret = _secret()
        if secret is None:
            return
        try:
            if not path.is_file() or path.is_symlink():
                return
            blob = path.read_bytes()
        except OSError:
            return
        head = len(_MAGIC)
        if not blob.startswith(_MAGIC) or len(blob) < head + 32:
            return
        signature, body = blob[head : head + 32], blob[head + 32 :]
        if not hmac.compare_digest(signature, hmac.new(secret, body, hashlib.sha256).digest()):
            return  # not ours (or damaged): never unpickled
        try:
            stored = pickle.loads(body)
        except Exception:  # a record of another version: build without it
            return
        if not isinstance(stored, dict) or stored.get("code") != code_digest():
            return  # made by other code: its results may differ from this code's
        for slot, (value, diagnostics) in stored["entries"].items():
            self._entries[slot] = (value, diagnostics, self._build, True)

    def _save(self, path: Path, kept: dict) -> None:
        secret = _secret()
        if secret is None:
            return
        from .writers.files import write_atomic

        buffer = io.BytesIO()
        try:
            pickle.dump({"code": code_digest(), "entries": kept}, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return  # a value that cannot be kept only costs time next build
        body = buffer.getvalue()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, _MAGIC + hmac.new(secret, body, hashlib.sha256).digest() + body)
        except OSError:
            pass


_SECRET: list[bytes] = []


def secret_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "report" / "memo.key"


def _secret() -> bytes | None:
    """The user's own memo secret, made once (mode 0600); None if it cannot be had."""
    if _SECRET:
        return _SECRET[0]
    path = secret_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(32))
        info = os.lstat(path)
        if not os.path.isfile(path) or os.path.islink(path) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None  # a link, or a key others can read or write, is no secret
        secret = path.read_bytes()
    except OSError:
        return None
    if len(secret) < 32:
        return None
    _SECRET.append(secret)
    return secret
