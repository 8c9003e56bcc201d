"""Writing outputs safely: complete files renamed into place, never half a file."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputError


def write_atomic(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target``, then rename it over the old one.

    A failure (or Ctrl-C) at any point leaves the previous file as it was and no
    temporary file behind.
    """
    target = Path(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def prepare_out_dir(out_dir: Path) -> Path:
    """Create the output folder, or fail with a user error that names it."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the output folder ({exc.strerror or exc})") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(f"{out_dir}: the output folder is not writable")
    return out_dir


@contextmanager
def build_lock(out_dir: Path):
    """One build at a time per output folder (a second one waits)."""
    import fcntl

    lock_path = Path(out_dir) / ".report.lock"
    try:
        handle = open(lock_path, "a")
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write in the output folder ({exc.strerror or exc})") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
