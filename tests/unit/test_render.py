"""The Book -> the documents of each edition, rendered without layout (pure Jinja2, no files written)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from report.derive.appendices import APPENDICES
from report.errors import ReportError
from report.pipeline import check
from report.render import Renderer, RenderSettings, css_string, fixed_timestamp

META = (
    'title: A Test\nlanguage: en\ndate: "2024-05-01"\n'
    # a cited source, so that the sources appendix is there with the others
    "sources:\n  - id: s1\n    type: report\n    title: A report\n"
)
CHAPTERS = {
    "01-first.yaml": "title: First\nbody: |\n  Text with a note.[^1]\n\n  [[quote:q1]]\n\n  [^1]: The note.\n"
    "quotes:\n  - id: q1\n    speaker: Ann Example\n    text: Said once\n    source: s1\n"
    'events:\n  - date: "2020-03"\n    title: Something happened\n    text: t\n',
    "02-second.yaml": "title: Second\nbody: More text.\n",
}


@pytest.fixture
def renderer(make_dossier) -> Renderer:
    collector, book = check(make_dossier({"dossier.yaml": META, **CHAPTERS}))
    assert not collector.errors
    return Renderer(book, RenderSettings(datetime(2024, 5, 1, tzinfo=UTC), "0123456789abcdef"))


def _toc_links(document: str) -> list[str]:
    toc = re.search(r'<nav class="toc".*?</nav>', document, re.S).group(0)
    return re.findall(r'href="#([^"]+)"', toc)


@pytest.mark.parametrize("which", ["web", "pdf"])
def test_the_table_of_contents_lists_chapters_then_the_appendices(renderer, which):
    document = renderer.web_document("") if which == "web" else renderer.pdf_document()
    assert _toc_links(document) == ["ch-first", "ch-second", *(a.anchor for a in APPENDICES)]
    for appendix in APPENDICES:  # each appendix is there, under its id, titled in the dossier's language
        assert re.search(rf'<section [^>]*id="{appendix.anchor}"', document), appendix.anchor
        assert f">{renderer.book.strings[appendix.title_key]}</a></li>" in document


def test_every_appendix_is_an_epub_document_in_the_nav(renderer):
    documents = renderer.epub_documents({})
    names = list(documents)
    # the contents page leads the reading order (the nav document is not in the spine)
    assert names == [
        "text/contents.xhtml",
        "text/001-first.xhtml",
        "text/002-second.xhtml",
        *(a.epub_document for a in APPENDICES),
    ]
    contents = documents["text/contents.xhtml"]
    for appendix in APPENDICES:  # its links are relative to text/, where it lives
        assert f'href="{Path(appendix.epub_document).name}"' in contents
    nav = renderer.epub_nav([])
    for appendix in APPENDICES:
        assert f'href="{appendix.epub_document}"' in nav
        if appendix.landmark:
            assert f'epub:type="{appendix.landmark}" href="{appendix.epub_document}"' in nav
    assert 'epub:type="page-list"' not in nav  # no page list without a layout


def test_epub_links_cross_documents_and_print_page_numbers_when_given(renderer):
    index = renderer.epub_documents({"q-q1": 7})["text/quote-index.xhtml"]
    assert 'href="001-first.xhtml#q-q1"' in index
    assert re.search(r"\b7\b", re.sub(r"<[^>]+>", " ", index))
    assert not re.search(r"\b7\b", re.sub(r"<[^>]+>", " ", renderer.epub_documents({})["text/quote-index.xhtml"]))


def test_the_handout_has_the_summaries_timeline_and_key_quotes(renderer):
    handout = renderer.render("handout.html", "pdf")
    assert handout.count('class="handout-number"') == 2
    assert '<h2 id="handout-timeline-title">Timeline</h2>' in handout and "Something happened" in handout
    assert "Said once" in handout and "0123456789abcdef" in handout


def test_dates_and_build_id_are_the_settings_never_the_clock(renderer):
    document = renderer.pdf_document()
    assert '<meta name="dcterms.modified" content="2024-05-01T00:00:00Z" />' in document
    assert "0123456789abcdef" in document


@pytest.mark.parametrize(
    "text,literal",
    [
        ('say "hi"', r'"say \"hi\""'),
        ("a\\b", r'"a\\b"'),
        ("</style>", r'"\3c /style\3e "'),
        ("line\nbreak", r'"line\a break"'),
    ],
)
def test_css_strings_are_quoted_safely(text, literal):
    assert str(css_string(text)) == literal


def test_the_build_timestamp_comes_from_source_date_epoch_then_the_dossier():
    assert fixed_timestamp(date(2024, 5, 1), "1700000000") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert fixed_timestamp(date(2024, 5, 1), None) == datetime(2024, 5, 1, tzinfo=UTC)
    assert fixed_timestamp(None, "") == datetime(2000, 1, 1, tzinfo=UTC)
    with pytest.raises(ReportError, match="SOURCE_DATE_EPOCH"):
        fixed_timestamp(None, "yesterday")
