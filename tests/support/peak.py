"""Run a command; write its exit status and the peak resident memory of it and its descendants.

    python -m tests.support.peak RESULT.json COMMAND...

The peak is the launcher's RUSAGE_CHILDREN maximum: the largest resident set of any process
of the tree that was waited for (the builder waits for its PDF engine). Measured, not timed.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    result, command = Path(argv[0]), argv[1:]
    code = subprocess.run(command, check=False).returncode
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    result.write_text(json.dumps({"returncode": code, "peak_mib": peak_kib / 1024}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
