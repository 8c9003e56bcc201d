#!/usr/bin/env python3
"""Regenerate the pictures in README.md from real builds: `python scripts/readme_images.py`.

Builds the default dossier, renders a few PDF pages (pdftoppm), an EPUB page (epub.js in
Debian's chromium, as the tests do) and the HTML edition at phone and desktop width, and
writes small PNGs to docs/images/. Needs poppler-utils, chromium and tools/node_modules.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402

from report.pipeline import BuildOptions, build  # noqa: E402
from tests.support.epubjs import render_epub_page  # noqa: E402
from tests.support.tools import CHROMIUM_ARGS, find_chromium  # noqa: E402

IMAGES = REPO / "docs" / "images"
# the briefing: key points and contents on page 2; a chapter opening and the timeline are found below
PDF_PAGES = {"pdf-title": 1, "pdf-contents": 2}


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="readme-images-") as scratch:
        work = Path(scratch)
        result = build(REPO / "chapters", BuildOptions(out_dir=work / "out"))
        outputs = {w.kind: w.path for w in result.outputs}
        pages = {
            **PDF_PAGES,
            **_find_pages(outputs["pdf"], {"pdf-chapter": "Worum geht es?", "pdf-timeline": "Zeitleiste"}),
        }
        for name, page in pages.items():
            _pdf_page(outputs["pdf"], page, work / name, IMAGES / f"{name}.png")
        render_epub_page(outputs["epub"], work / "epub.png", spine_index=3, width=480, height=640)
        _save(Image.open(work / "epub.png"), IMAGES / "epub-page.png", 360)
        _html_shots(outputs["html"], work)
        _language_pages(work)
    for path in sorted(IMAGES.glob("*.png")):
        print(f"wrote {path.relative_to(REPO)} ({path.stat().st_size:,} bytes)")
    return 0


def _language_pages(work: Path) -> None:
    """A chapter page of the Arabic and the Japanese sample dossiers of the tests."""
    from tests.support.language_samples import write_language_dossier

    for tag in ("ar", "ja"):
        root = write_language_dossier(work / f"sample-{tag}", tag)
        built = build(root, BuildOptions(out_dir=work / f"out-{tag}", formats=("pdf",)))
        pdf = next(w.path for w in built.outputs if w.kind == "pdf")
        _pdf_page(pdf, 5, work / f"pdf-{tag}-chapter", IMAGES / f"pdf-{tag}-chapter.png")


def _find_pages(pdf: Path, wanted: dict[str, str]) -> dict[str, int]:
    """The first page whose text starts a line with each heading, after the contents (page 2)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    found = {}
    for name, heading in wanted.items():
        for number, page in enumerate(text.split("\f"), start=1):
            if number > 2 and any(line.strip() == heading for line in page.splitlines()):
                found[name] = number
                break
        else:
            raise SystemExit(f"no page starts with {heading!r} in {pdf}")
    return found


def _pdf_page(pdf: Path, page: int, stem: Path, target: Path) -> None:
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem)],
        check=True,
    )
    image = Image.open(stem.with_suffix(".png"))
    framed = Image.new("RGB", (image.width + 2, image.height + 2), (190, 190, 190))  # a hairline edge
    framed.paste(image, (1, 1))
    _save(framed, target, image.width + 2)


def _html_shots(html: Path, work: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        for name, viewport, scheme, width in (
            ("html-desktop", {"width": 1280, "height": 800}, "light", 640),
            ("html-phone-dark", {"width": 390, "height": 780}, "dark", 260),
        ):
            page = browser.new_page(viewport=viewport, color_scheme=scheme)
            page.goto(html.as_uri())
            page.screenshot(path=str(work / f"{name}.png"))
            _save(Image.open(work / f"{name}.png"), IMAGES / f"{name}.png", width)
        browser.close()


def _save(image: Image.Image, target: Path, width: int) -> None:
    """Scale to ``width`` and store with a small palette: the README should stay light."""
    image = image.convert("RGB")
    if image.width != width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(target, optimize=True)


if __name__ == "__main__":
    sys.exit(main())
