"""The HTML edition in a real browser (Playwright on Debian's chromium): phone and desktop, light and dark."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from .support.tools import CHROMIUM_ARGS, find_chromium
from .test_watch import Watcher

pytestmark = pytest.mark.slow  # real builds in headless chromium

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Opened:
    """A page of the HTML edition, with the console errors it logged."""

    def __init__(self, browser, url: str, viewport: dict, scheme: str = "light"):
        self.context = browser.new_context(viewport=viewport, color_scheme=scheme)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url)

    def js(self, expression: str):
        return self.page.evaluate(expression)

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("which", ["default_build", "en_build"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_html_edition_renders_cleanly(browser, request, tmp_path, which, scheme, size):
    built = request.getfixturevalue(which)
    opened = Opened(browser, built.html.as_uri(), PHONE if size == "phone" else DESKTOP, scheme)
    try:
        shot = tmp_path / f"{which}-{size}-{scheme}.png"
        opened.page.screenshot(path=str(shot), full_page=False)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert opened.errors == []
        # nothing wider than the screen: no sideways scrolling on a phone
        assert opened.js("document.documentElement.scrollWidth <= window.innerWidth")
        background = opened.js("getComputedStyle(document.documentElement).backgroundColor")
        red, green, blue = (int(x) for x in background[background.index("(") + 1 : -1].split(",")[:3])
        luminance = (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255
        assert (luminance < 0.2) if scheme == "dark" else (luminance > 0.9), background
        # the stylesheet arrives intact (quotes not turned into entities): fonts and timeline dots
        assert opened.js("document.querySelector('style').textContent.includes('&#34;')") is False
        assert "Charis SIL" in opened.js("getComputedStyle(document.documentElement).fontFamily")
        assert (
            opened.js("getComputedStyle(document.querySelector('.timeline-list li.event'), '::before').content") == '""'
        )
        back_to_toc = opened.js("getComputedStyle(document.querySelector('.to-toc')).display")
        assert (back_to_toc == "none") == (size == "desktop")
    finally:
        opened.close()


@pytest.mark.parametrize("which", ["default_build", "en_build"])
def test_every_internal_link_resolves_and_the_toc_stays_in_view(browser, request, which):
    built = request.getfixturevalue(which)
    opened = Opened(browser, built.html.as_uri(), DESKTOP)
    try:
        dangling = opened.js("""[...document.querySelectorAll('a[href^="#"]')]
            .map(a => a.getAttribute('href').slice(1))
            .filter(id => !document.getElementById(decodeURIComponent(id)))""")
        assert dangling == []
        assert opened.js("document.querySelectorAll('a[href^=\"#\"]').length") > 30
        # the timeline and the quote index are navigation: their links lead into the chapters
        for selector in (".timeline-list a.event-title", ".quote-index .locator a"):
            link = opened.page.locator(selector).first
            target = link.get_attribute("href")[1:]
            link.click()
            opened.page.wait_for_function(
                "id => { const r = document.getElementById(id).getBoundingClientRect();"
                " return r.top >= -2 && r.top < window.innerHeight; }",
                arg=target,
            )
        # the table of contents is sticky: still on screen at the end of the page
        opened.page.locator("#toc a[href='#imprint']").click()
        opened.page.wait_for_function("window.scrollY > 2000")
        box = opened.page.locator("#toc").bounding_box()
        assert box is not None and 0 <= box["y"] <= 10 and box["height"] > 100
        assert opened.errors == []
    finally:
        opened.close()


def test_watch_reloads_the_open_page_by_itself(browser, minimal, tmp_path):
    root = minimal()
    watcher = Watcher(root, tmp_path / "out")
    try:
        opened = Opened(browser, watcher.url, PHONE)
        assert "Some text." in opened.page.inner_text("main")
        (root / "01-chapter.yaml").write_text(
            "title: A chapter\nbody: |\n  Seen without reloading by hand.\n", encoding="utf-8"
        )
        opened.page.wait_for_function(
            "document.body.innerText.includes('Seen without reloading by hand.')", timeout=60_000
        )
        (root / "01-chapter.yaml").write_text("title: A chapter\nbody: [unclosed\n", encoding="utf-8")
        overlay = opened.page.locator("#report-error-overlay")
        overlay.wait_for(state="visible", timeout=60_000)
        assert "01-chapter.yaml:" in overlay.inner_text()
        assert opened.errors == []
        opened.close()
    finally:
        assert watcher.stop() == 0
