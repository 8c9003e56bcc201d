"""Writing outputs safely: complete files renamed into place, never half a file."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import OutputError

TEMP_SUFFIX = ".tmp"
LOCK_NAME = ".report.lock"


def _temp_prefix(target: Path) -> str:
    return f".{target.name}."


def write_atomic(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target``, then rename it over the old one.

    A failure (or Ctrl-C) at any point leaves the previous file as it was and no
    temporary file behind.
    """
    write_all({Path(target): data})


def write_all(outputs: dict[Path, bytes]) -> None:
    """Write every file to a temporary name first, then rename them all into place.

    Nothing is renamed until every temporary file is complete and on disk, and Ctrl-C
    is held back during the renames, so a failed or interrupted build leaves either all
    the old editions or all the new ones, and no temporary file.
    """
    for target in outputs:
        if target.is_dir():  # found now, not between two renames
            raise OutputError(f"{target}: a folder stands where an edition is to be written")
    temps: dict[Path, Path] = {}
    try:
        for target, data in outputs.items():
            fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent)
            temps[target] = Path(tmp_name)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, 0o644)
        with _interrupts_deferred():
            for target, tmp in list(temps.items()):
                os.replace(tmp, target)
                del temps[target]
    except OSError as exc:
        raise OutputError(f"{exc.filename or next(iter(outputs), '')}: cannot write ({exc.strerror or exc})") from None
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back for a few renames; deliver them afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous: dict[signal.Signals, Any] = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        previous[number] = signal.signal(number, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for signum in received:
            signal.raise_signal(signum)


def prepare_out_dir(out_dir: Path) -> Path:
    """Create the output folder, or fail with a user error that names it."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: the output folder is a file, not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the output folder ({exc.strerror or exc})") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(f"{out_dir}: the output folder is not writable")
    return out_dir


@contextmanager
def build_lock(out_dir: Path, suffixes: Sequence[str] = (".pdf", ".epub", ".html")) -> Iterator[None]:
    """One build at a time per output folder (a second one waits); stale temporary files are removed.

    Temporary files are only made while the lock is held, so any found on taking it were
    left by a build that was killed (SIGKILL, power loss).
    """
    import fcntl

    lock_path = Path(out_dir) / LOCK_NAME
    try:
        # O_NOFOLLOW: a planted link (an output folder inside a dossier) must not create a file elsewhere
        handle = os.fdopen(os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644), "w")
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write in the output folder ({exc.strerror or exc})") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        for extension in sorted({Path("x" + suffix).suffix for suffix in suffixes}):  # the editions' file names
            for stale in Path(out_dir).glob(f".*{extension}.*{TEMP_SUFFIX}"):
                if stale.is_file() and not stale.is_symlink():
                    stale.unlink(missing_ok=True)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
