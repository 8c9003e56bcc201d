"""The three editions of real dossiers: validators, text, order and page numbers."""

from __future__ import annotations

import re
import zipfile

import pytest

from report.pipeline import check
from tests.support.epubcheck import format_epubcheck_messages, run_epubcheck, summarize
from tests.support.pdftext import flatten, loose, pdf_pages

from .conftest import DEFAULT_DOSSIER, EN_DOSSIER

pytestmark = pytest.mark.slow  # real builds and EPUBCheck


@pytest.fixture(scope="module")
def epubcheck_results(default_build, en_build):
    return run_epubcheck([default_build.epub, en_build.epub])


@pytest.mark.parametrize("which", ["default_build", "en_build"])
def test_epubcheck_clean(which, request, epubcheck_results):
    built = request.getfixturevalue(which)
    messages = epubcheck_results[built.epub]
    assert summarize(messages) == (0, 0, 0), format_epubcheck_messages(messages)


@pytest.mark.parametrize("which,root", [("default_build", DEFAULT_DOSSIER), ("en_build", EN_DOSSIER)])
def test_pdf_holds_every_chapter_title_and_quote(which, root, request):
    built = request.getfixturevalue(which)
    _, book = check(root)
    text = loose("\n".join(pdf_pages(built.pdf)))
    for chapter in book.chapters:
        assert loose(chapter.title_plain) in text
    for quote in book.all_quotes.values():
        assert loose(quote.text_plain) in text, quote.id


def test_default_quotes_are_word_for_word_from_the_article(default_build):
    from .conftest import SEED

    article = SEED.read_text(encoding="utf-8")
    _, book = check(DEFAULT_DOSSIER)
    for quote in book.all_quotes.values():
        assert quote.text_plain in article, quote.id


@pytest.mark.parametrize("which,root", [("default_build", DEFAULT_DOSSIER), ("en_build", EN_DOSSIER)])
def test_timeline_in_date_order(which, root, request):
    built = request.getfixturevalue(which)
    _, book = check(root)
    pages = pdf_pages(built.pdf)
    heading = book.strings["timeline"]
    start = next(i for i, p in enumerate(pages) if p.lstrip().startswith(heading))
    index_heading = book.strings["quote_index"]
    end = next(i for i, p in enumerate(pages) if p.lstrip().startswith(index_heading))
    timeline_text = flatten("\n".join(pages[start:end]))
    positions = [timeline_text.find(flatten(_plain(e.title_html))) for e in book.timeline]
    assert all(p >= 0 for p in positions), positions
    assert positions == sorted(positions)
    dates = [e.date for e in book.timeline]
    assert dates == sorted(dates)


def _plain(html: str) -> str:
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


@pytest.mark.parametrize(
    "which,root",
    [
        ("default_build", DEFAULT_DOSSIER),
        ("en_build", EN_DOSSIER),
        ("default_runs_build", DEFAULT_DOSSIER),  # the PDF laid out in runs
        ("en_runs_build", EN_DOSSIER),
    ],
)
def test_quote_index_page_numbers_are_where_quotes_stand(which, root, request):
    built = request.getfixturevalue(which)
    _, book = check(root)
    pages = pdf_pages(built.pdf)
    index_start = next(i for i, p in enumerate(pages) if p.lstrip().startswith(book.strings["quote_index"]))
    index_text = flatten("\n".join(pages[index_start : index_start + 3]))
    short = re.escape(book.strings["page_short"])
    printed = [int(n) for n in re.findall(short + r"\s(\d+)", index_text)]
    entries = [e for g in book.quote_index for e in g.entries]
    assert len(printed) >= len(entries)
    for entry, number in zip(entries, printed, strict=False):  # the index's pages may print more numbers
        # the quote's block (its words inside the marks) stands on that page
        marks = book.language.quotes
        block = f"{marks[0]}{entry.quote.text_plain}{marks[1]}"
        first = loose(block)[:60]
        where = [n for n, page in enumerate(pages, start=1) if first in loose(page)]
        assert number in where, (entry.quote.id, number, where)


def test_epub_has_a_document_per_chapter_nav_and_ncx(default_build):
    _, book = check(DEFAULT_DOSSIER)
    with zipfile.ZipFile(default_build.epub) as z:
        names = z.namelist()
        assert names[0] == "mimetype" and z.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        for chapter in book.chapters:
            assert f"EPUB/{chapter.file_name}" in names
        opf = z.read("EPUB/content.opf").decode()
        nav = z.read("EPUB/nav.xhtml").decode()
    assert "EPUB/toc.ncx" in names
    assert "<dc:language>de</dc:language>" in opf and "dcterms:modified" in opf
    assert 'epub:type="landmarks"' in nav and 'epub:type="toc"' in nav


def test_html_edition_internal_links_resolve(default_build, en_build):
    for built in (default_build, en_build):
        page = built.html.read_text(encoding="utf-8")
        ids = set(re.findall(r'\sid="([^"]+)"', page))
        targets = set(re.findall(r'href="#([^"]+)"', page))
        assert targets, "no internal links"
        assert targets <= ids, targets - ids
