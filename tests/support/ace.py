"""Ace by DAISY (npm ``@daisy/ace``, installed in ``tools/``) on Debian's chromium, through Ace's puppeteer runner."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .tools import CHROMIUM_ARGS, find_chromium, node_file, which


def _chromium_wrapper(directory: Path) -> Path:
    """A script that runs Debian chromium with CHROMIUM_ARGS added.

    Ace's puppeteer runner hard-codes its launch args (--no-sandbox
    --disable-setuid-sandbox, headless) and offers no way to add more, so
    PUPPETEER_EXECUTABLE_PATH points at this wrapper instead.
    """
    chromium = find_chromium()
    extra = " ".join(a for a in CHROMIUM_ARGS if a != "--headless")  # puppeteer passes --headless=new
    wrapper = directory / "chromium-for-ace"
    wrapper.write_text(f'#!/bin/sh\nexec "{chromium}" "$@" {extra}\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return wrapper


def run_ace(epub: Path, outdir: Path, *, timeout: float = 600) -> dict[str, Any]:
    """Run Ace by DAISY on ``epub``; return the parsed ``outdir/report.json``.

    Uses the ``ace-puppeteer`` entry point: the package's plain ``ace`` bin
    runs Ace inside Electron, whose binary ``npm install --ignore-scripts``
    never downloads.
    """
    node = which("node", "apt-get install -y nodejs npm")
    ace_js = node_file("@daisy/ace/bin/ace-puppeteer.js")
    epub = Path(epub).resolve()
    if not epub.is_file():
        raise FileNotFoundError(epub)
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    report_path = outdir / "report.json"
    if report_path.exists():
        report_path.unlink()
    with tempfile.TemporaryDirectory(prefix="ace-run-") as tmp:
        env = dict(os.environ)
        env["PUPPETEER_EXECUTABLE_PATH"] = str(_chromium_wrapper(Path(tmp)))
        env["PUPPETEER_SKIP_DOWNLOAD"] = "true"
        env["TMPDIR"] = tmp  # Ace's unzipped copy and puppeteer's profile go here and are removed
        proc = subprocess.run(
            [node, str(ace_js), "--force", "--outdir", str(outdir), str(epub)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=tmp,
        )
    log = proc.stdout + proc.stderr
    # Ace exits 0 when it produced a report (violations or not) and 1 when it
    # could not (it also exits 1 with --silent if the browser cannot start).
    if proc.returncode != 0 or not report_path.is_file():
        raise RuntimeError(f"Ace failed on {epub} (exit {proc.returncode}):\n{log[-4000:]}")
    return json.loads(report_path.read_text(encoding="utf-8"))


_IMPACT_ORDER = ["minor", "moderate", "serious", "critical"]


def ace_violations(report: dict[str, Any], *, min_impact: str = "minor") -> list[dict[str, Any]]:
    """Flatten an Ace report into failed checks.

    Each item: ``rule`` (e.g. "image-alt", "metadata-accessmode"), ``impact``
    (minor/moderate/serious/critical), ``file`` (the content document or OPF),
    ``html`` (snippet of the offending element, "" for package checks),
    ``description``, ``selector`` (CSS), ``cfi``, ``help_url``, ``checker``
    ("aXe" or "Ace").
    """
    floor = _IMPACT_ORDER.index(min_impact)
    out = []
    for doc in report.get("assertions", []):
        subject = doc.get("earl:testSubject", {})
        for a in doc.get("assertions", []):
            result = a.get("earl:result", {})
            if result.get("earl:outcome") != "fail":
                continue
            test = a.get("earl:test", {})
            impact = test.get("earl:impact", "minor")
            if impact in _IMPACT_ORDER and _IMPACT_ORDER.index(impact) < floor:
                continue
            pointer = result.get("earl:pointer", {})
            out.append(
                {
                    "rule": test.get("dct:title"),
                    "impact": impact,
                    "file": subject.get("url"),
                    "html": result.get("html", ""),
                    "description": result.get("dct:description") or test.get("dct:description"),
                    "selector": ", ".join(pointer.get("css", [])),
                    "cfi": ", ".join(pointer.get("cfi", [])),
                    "help_url": test.get("help", {}).get("url"),
                    "checker": a.get("earl:assertedBy"),
                }
            )
    return out


def format_ace_violations(violations: list[dict[str, Any]]) -> str:
    """Readable text for assertion messages."""
    lines = []
    for v in violations:
        line = f"[{v['impact']}] {v['rule']} in {v['file']}"
        if v["selector"]:
            line += f" ({v['selector']})"
        line += f": {(v['description'] or '').splitlines()[0] if v['description'] else ''}"
        if v["html"]:
            line += f"\n    {v['html'][:300]}"
        lines.append(line)
    return "\n".join(lines)
