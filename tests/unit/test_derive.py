"""The Book, derived from small dossiers without any layout: anchors, order, words, indexes."""

from __future__ import annotations

import pytest

from report.derive.appendices import APPENDICES
from report.derive.i18n import Language
from report.derive.markdown import make_markdown
from report.derive.sanitize import safe_link
from report.languages import available_tags
from report.pipeline import check
from report.source.model import PartialDate

META_DE = 'title: Testakte\nlanguage: de\ndate: "2024-05-01"\n'


def _book(make_dossier, files: dict[str, str]):
    collector, book = check(make_dossier(files))
    assert not collector.errors, [d.format() for d in collector.errors]
    return collector, book


def test_anchors_numbers_and_epub_names_are_minted_once(make_dossier):
    _, book = _book(
        make_dossier,
        {
            "dossier.yaml": META_DE,
            "01-anfang.yaml": "title: Der *Anfang*\nbody: Text.\n",
            "02-ende.yaml": "title: Das Ende\nbody: Mehr Text.\n",
        },
    )
    assert [c.anchor for c in book.chapters] == ["ch-anfang", "ch-ende"]
    assert [c.number for c in book.chapters] == [1, 2]
    assert [c.file_name for c in book.chapters] == ["text/001-anfang.xhtml", "text/002-ende.xhtml"]
    assert book.chapters[0].title_html == "Der <em>Anfang</em>" and book.chapters[0].title_plain == "Der Anfang"
    # chapter anchors never meet an appendix's
    assert not {c.anchor for c in book.chapters} & {a.anchor for a in book.appendices}
    # every appendix of the table, but the sources appendix, which exists only when something is cited
    assert book.appendices == tuple(a for a in APPENDICES if a.anchor != "sources")


def test_timeline_sorts_partial_dates_across_chapters(make_dossier):
    _, book = _book(
        make_dossier,
        {
            "dossier.yaml": META_DE,
            "01-a.yaml": 'title: A\nbody: a\nevents:\n  - date: "2018-02-20"\n    title: Tag\n    text: t\n'
            '  - date: "2015"\n    title: Jahr\n    text: t\n',
            "02-b.yaml": 'title: B\nbody: b\nevents:\n  - date: "2018-02"\n    title: Monat\n    text: t\n'
            '  - date: "2018"\n    title: Jahr2018\n    text: t\n',
        },
    )
    assert [e.title_html for e in book.timeline] == ["Jahr", "Jahr2018", "Monat", "Tag"]
    assert [e.date_label for e in book.timeline] == ["2015", "2018", "Februar 2018", "20. Februar 2018"]
    assert book.timeline[0].chapter_anchor == "ch-a" and book.timeline[0].chapter_title == "A"


def test_quote_index_sorts_speakers_the_language_s_way_and_keeps_joint_statements(make_dossier):
    _, book = _book(
        make_dossier,
        {
            "dossier.yaml": META_DE,
            "01-a.yaml": "title: A\nbody: |\n  [[quote:q1]]\nquotes:\n"
            "  - id: q1\n    speaker: [Zoe Zander, Ärne Alt]\n    text: Gemeinsam gesagt\n"
            "  - id: q2\n    speaker: Bernd Berg\n    text: Nie platziert\n",
        },
    )
    assert [g.speaker for g in book.quote_index] == ["Ärne Alt", "Bernd Berg", "Zoe Zander"]  # Ä with A
    joint = book.quote_index[0].entries[0]
    assert joint.quote.id == "q1" and joint.others == ("Zoe Zander",)
    chapter = book.chapters[0]
    assert chapter.quotes["q1"].placed and not chapter.quotes["q2"].placed
    assert [q.id for q in chapter.unplaced] == ["q2"]


def test_a_quote_placed_nowhere_is_a_located_lint_warning(make_dossier):
    collector, _ = _book(
        make_dossier,
        {
            "dossier.yaml": META_DE,
            "01-a.yaml": "title: A\nbody: Text.\nquotes:\n  - id: lose\n    speaker: X\n    text: Ein Satz\n",
        },
    )
    (warning,) = collector.warnings
    assert warning.code == "unplaced-quote"
    assert (warning.location.path.name, warning.location.line) == ("01-a.yaml", 4)


def test_footnotes_differ_by_edition_only_in_how_they_are_shown(make_dossier):
    _, book = _book(
        make_dossier,
        {
            "dossier.yaml": META_DE,
            "01-a.yaml": "title: A\nbody: |\n  Satz mit Note.[^1]\n\n  [^1]: Die Note.\n",
        },
    )
    chapter = book.chapters[0]
    assert set(chapter.body) == {"pdf", "epub", "html"}
    (note,) = chapter.footnotes["epub"]
    assert note.number == 1 and "Die Note." in note.html
    epub_body = "".join(part.html for part in chapter.body["epub"])
    pdf_body = "".join(part.html for part in chapter.body["pdf"])
    assert f'href="#{note.anchor}"' in epub_body  # a link to the aside after the chapter
    assert "Die Note." in pdf_body  # the note's text at its call, for float: footnote


@pytest.mark.parametrize(
    "value,tag,label",
    [
        ("2018", "de", "2018"),
        ("2018-02", "de", "Februar 2018"),
        ("2018-02-20", "de", "20. Februar 2018"),
        ("2018-02", "en", "February 2018"),
        ("2018-02-20", "en", "February 20, 2018"),
    ],
)
def test_partial_dates_are_written_the_language_s_way(value, tag, label):
    assert Language(tag).format_date(PartialDate.parse(value)) == label


def test_words_and_quotation_marks_come_from_the_language():
    assert Language("de").strings["timeline"] == "Zeitleiste"
    assert "".join(Language("de-CH").quotes[:2]) == "«»" and "".join(Language("de").quotes[:2]) == "„“"
    assert Language("sw").strings == Language("en").strings  # a language without a table falls back
    for appendix in APPENDICES:  # every appendix has its title word in every language's table
        for tag in available_tags():
            assert Language(tag).strings[appendix.title_key], (tag, appendix.title_key)


def test_markdown_places_quotes_and_notes_their_lines():
    markdown = make_markdown("„“‚‘")
    parsed = markdown.parse_body("Eins.\n\n[[quote:q1]]\n\n![Bild](a.png)\n", "ch-a")
    assert [(r.quote_id, r.line) for r in parsed.quote_refs] == [("q1", 2)]
    assert [(i.src, i.alt, i.line) for i in parsed.images] == [("a.png", "Bild", 4)]
    assert markdown.inline('"Zitat"') == "„Zitat“"


@pytest.mark.parametrize(
    "url,ok",
    [
        ("#ch-a", True),
        ("https://example.org/", True),
        ("mailto:a@example.org", True),
        ("anhang.html", True),
        ("javascript:alert(1)", False),
        (" jAvA\tsCrIpT:x", False),
        ("file:///etc/passwd", False),
        ("data:text/html,x", False),
    ],
)
def test_only_safe_links_are_kept(url, ok):
    assert safe_link(url) is ok
