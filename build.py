#!/usr/bin/env python3
"""Build the default dossier: `python build.py` (or any dossier: `python build.py PATH --out DIR`)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report.cli import main  # noqa: E402

if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        args = [str(HERE / "chapters"), *args]
    if "--out" not in args:
        args += ["--out", str(HERE / "dist")]
    sys.exit(main(["build", *args]))
