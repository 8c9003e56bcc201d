"""What the validator helpers share: where the tools are, Debian's chromium, and a clear failure.

A missing tool raises :class:`ToolMissingError` (a ``RuntimeError``) that names the tool
and the command that installs it: tests must fail, not skip. See ``tools/README.md``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO_ROOT / "tools"
NODE_MODULES = TOOLS_DIR / "node_modules"

# Flags every chromium started by these helpers gets (on top of what
# puppeteer / Playwright pass themselves; both also give a fresh temporary
# --user-data-dir per launch).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

NPM_INSTALL_HINT = "cd tools && npm ci --ignore-scripts"


class ToolMissingError(RuntimeError):
    """A validator or the reading engine is not installed."""


def missing(tool: str, install: str) -> ToolMissingError:
    return ToolMissingError(f"{tool} is not available; install it with: {install}")


def which(name: str, install: str) -> str:
    path = shutil.which(name)
    if not path:
        raise missing(f"`{name}`", install)
    return path


def find_chromium() -> str:
    """Path of Debian's chromium (override with the CHROMIUM_PATH env var)."""
    override = os.environ.get("CHROMIUM_PATH")
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise missing(f"chromium at CHROMIUM_PATH={override}", "apt-get install -y chromium")
        return override
    return which("chromium", "apt-get update && apt-get install -y chromium")


def node_file(rel: str) -> Path:
    path = NODE_MODULES / rel
    if not path.is_file():
        raise missing(f"{path}", NPM_INSTALL_HINT)
    return path
