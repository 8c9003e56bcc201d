"""An EPUB in the epub.js reading engine (npm ``epubjs``) inside headless Debian chromium, driven by Playwright.

Renders a spine item paginated, takes a screenshot and returns the text that is visible.
The reader page and the scripts evaluated in it are files of their own in ``epubjs/``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .tools import CHROMIUM_ARGS, find_chromium, missing, node_file

_ORIGIN = "http://epub-render.test"  # never resolved: every request is answered by page.route

_HERE = Path(__file__).resolve().parent / "epubjs"
_READER_HTML = (_HERE / "reader.html").read_text(encoding="utf-8")  # %(width)d, %(height)d, %(spine_index)d
_VISIBLE_TEXT_JS = (_HERE / "visible_text.js").read_text(encoding="utf-8")  # words inside the viewer box
_CHAPTER_TEXT_JS = (_HERE / "chapter_text.js").read_text(encoding="utf-8")  # the displayed document(s)
_FIND_NOTEREF_JS = (_HERE / "find_noteref.js").read_text(encoding="utf-8")  # first noteref and its centre
_TARGET_JS = (_HERE / "target.js").read_text(encoding="utf-8")  # where a link's target sits after a click


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
        raise missing(
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
        "/epub.min.js": (node_file("epubjs/dist/epub.min.js"), "application/javascript"),
        "/jszip.min.js": (node_file("jszip/dist/jszip.min.js"), "application/javascript"),
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
        path = url[len(_ORIGIN) :].split("?", 1)[0].split("#", 1)[0]
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
