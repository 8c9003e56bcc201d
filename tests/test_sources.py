"""Sources: every quotation and event says where it comes from, bodies cite, every edition has the appendix."""

from __future__ import annotations

import json
import re
import tempfile
import textwrap
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from report.cli import main
from report.pipeline import BuildOptions, build, check
from tests.support.ace import ace_violations, format_ace_violations, run_ace
from tests.support.epubcheck import format_epubcheck_messages, run_epubcheck, summarize
from tests.support.pdftext import flatten, page_of, pdf_pages

from .conftest import DEFAULT_DOSSIER

XHTML = "{http://www.w3.org/1999/xhtml}"
OPS_TYPE = "{http://www.idpf.org/2007/ops}type"

META_DE = """\
title: Quellentest
language: de
date: "2024-05-01"
"""
META_EN = """\
title: Source test
language: en
date: "2024-05-01"
"""
SOURCES_YAML = """\
sources:
  - id: mueller
    type: article-newspaper
    title: Die Akte
    author: "Müller, Jörg"
    container: Tagesblatt
    date: "2020-03"
"""
# a note-class CSL style, as small as CSL allows: the note gives author, title and locator
NOTE_STYLE = """\
<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="note" version="1.0" default-locale="en-US">
  <info><title>Test notes</title><id>http://example.org/test-notes</id><updated>2024-01-01T00:00:00+00:00</updated></info>
  <citation>
    <layout suffix="." delimiter="; ">
      <group delimiter=", ">
        <names variable="author"><name name-as-sort-order="none"/></names>
        <text variable="title" font-style="italic"/>
        <group delimiter=" "><label variable="locator" form="short"/><text variable="locator"/></group>
      </group>
    </layout>
  </citation>
  <bibliography>
    <sort><key variable="title"/></sort>
    <layout suffix=".">
      <group delimiter=". ">
        <names variable="author"><name name-as-sort-order="all"/></names>
        <text variable="title" font-style="italic"/>
      </group>
    </layout>
  </bibliography>
</style>
"""


def chapter(body: str, extra: str = "") -> str:
    return "title: Kapitel\nbody: |\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "  ") + "\n" + extra


def diagnostics(root: Path, severity: str = "error") -> list[str]:
    collector, _ = check(root)
    return [d.format() for d in collector.diagnostics if d.severity == severity]


def book_of(root: Path):
    collector, book = check(root)
    assert collector.errors == [], [d.format() for d in collector.errors]
    return book


def body_html(book, edition: str = "html") -> str:
    return "".join(part.html for c in book.chapters for part in c.body[edition])


def built(root: Path, out: Path, *formats: str):
    result = build(root, BuildOptions(out_dir=out, formats=formats or ("pdf", "epub", "html")))
    return {w.kind: w.path for w in result.outputs}


def epub_docs(path: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(path) as z:
        return {n: etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith(".xhtml")}


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


# ---- the default dossier: its one source, everywhere --------------------------------------------------


def test_default_dossier_cites_its_article_for_every_quotation_and_event():
    book = book_of(DEFAULT_DOSSIER)
    quotes = list(book.all_quotes.values())
    assert quotes and all(q.source and q.source.anchor == "src-all-ai" for q in quotes)
    assert book.timeline and all(e.source and e.source.short == "All-AI.de" for e in book.timeline)
    assert [s.id for s in book.sources] == ["all-ai"]
    entry = book.sources[0].entry_html
    assert "„Elon Musk und OpenAI: Die E-Mails hinter dem Bruch“" in entry and "All-AI.de" in entry
    # the article gives no author, date or address: nothing of the kind is invented
    assert "ohne Datum" in entry and "http" not in entry


@pytest.mark.slow  # real builds
def test_a_cited_quote_shows_its_source_in_every_edition(default_build):
    quote_words = "Wenn sie gewinnen, wird es wirklich schlechte Nachrichten sein"  # beyond the index's first words
    # HTML: the caption names the source and links to its entry
    page = default_build.html.read_text(encoding="utf-8")
    tree = etree.HTML(page)
    figure = tree.xpath('//figure[@id="q-musk-deepmind-belastung"]')[0]
    caption = text_of(figure.find(".//figcaption"))
    assert "Quelle: All-AI.de" in caption
    assert figure.xpath(".//figcaption//a/@href") == ["#src-all-ai"]
    assert tree.xpath('//li[@id="src-all-ai"]')
    # EPUB: the same, linked into the sources document
    docs = epub_docs(default_build.epub)
    chapter_doc = next(d for d in docs.values() if d.xpath('//*[@id="q-musk-deepmind-belastung"]'))
    figure = chapter_doc.xpath('//*[@id="q-musk-deepmind-belastung"]')[0]
    assert "Quelle: All-AI.de" in text_of(figure)
    assert figure.xpath('.//*[local-name()="a"]/@href') == ["sources.xhtml#src-all-ai"]
    assert docs["EPUB/text/sources.xhtml"].xpath('//*[@id="src-all-ai"]')
    # PDF: on the quote's page, beneath it
    pages = pdf_pages(default_build.pdf)
    quote_page = page_of(pages, quote_words)
    assert len(quote_page) == 1
    assert "Quelle: All-AI.de" in flatten(pages[quote_page[0] - 1])


@pytest.mark.slow  # real builds
def test_timeline_and_quote_index_show_each_entrys_source(default_build):
    tree = etree.HTML(default_build.html.read_text(encoding="utf-8"))
    events = tree.xpath('//section[@id="timeline"]//li[contains(@class, "event")]')
    assert events and all(e.xpath('.//span[@class="event-source"]//a/@href') == ["#src-all-ai"] for e in events)
    entries = tree.xpath('//section[@id="quote-index"]//li[contains(@class, "index-entry")]')
    assert entries and all("All-AI.de" in text_of(e.xpath('.//span[@class="index-source"]')[0]) for e in entries)


# ---- the appendix: every cited source once, in the style's order, with true pages --------------------


@pytest.mark.slow  # real builds
def test_appendix_in_contents_nav_and_landmarks(en_build):
    tree = etree.HTML(en_build.html.read_text(encoding="utf-8"))
    assert tree.xpath('//nav[@id="toc"]//a[@href="#sources"]/text()') == ["Sources"]
    with zipfile.ZipFile(en_build.epub) as z:
        nav = etree.fromstring(z.read("EPUB/nav.xhtml"))
    toc = nav.xpath('//*[local-name()="nav"][@id="toc"]//*[local-name()="a"]')
    assert [a.get("href") for a in toc if a.text == "Sources"] == ["text/sources.xhtml"]
    landmarks = nav.xpath('//*[local-name()="nav"][@id="landmarks"]//*[local-name()="a"]')
    assert [(a.get(OPS_TYPE), a.get("href")) for a in landmarks if a.text == "Sources"] == [
        ("bibliography", "text/sources.xhtml")
    ]
    pages = pdf_pages(en_build.pdf)
    contents = next(flatten(p) for p in pages if p.lstrip().startswith("Contents"))
    assert re.search(r"Sources[ .]+\d+", contents), contents


@pytest.mark.slow  # real builds
def test_appendix_lists_every_cited_source_once_in_style_order_with_true_pages(en_build):
    pages = pdf_pages(en_build.pdf)
    appendix = [n for n, text in enumerate(pages, start=1) if text.lstrip().startswith("Sources")]
    assert len(appendix) == 1
    text = flatten(pages[appendix[0] - 1])
    # Harvard sorts by author (a court case by its title): the style's order, each once
    firsts = [
        "Abernathy, R. (2021)",
        "Marsh, D. (2019)",
        "Okonkwo-Hale, P. and Brückner, J. (2021)",
        "Riverside Traders' Association v. Hollowmere Town Council (2022)",
    ]
    positions = [text.find(first) for first in firsts]
    assert -1 not in positions and positions == sorted(positions), text
    assert all(text.count(first) == 1 for first in firsts)
    # the back references are the pages where each source is cited
    expected = {
        "Abernathy, R. (2021)": ["(Abernathy, 2021, p. 12)", "Cost study published"],
        "Marsh, D. (2019)": ["Transport committee proposes a Riverside tram"],
        "Okonkwo-Hale, P. and Brückner, J. (2021)": ["Okonkwo-Hale & Brückner (2021, p. 1)"],
        "Riverside Traders' Association v. Hollowmere Town Council (2022)": [
            "Source: Traders v. Council 2022, para. 4",
            "para. 12)",
        ],
    }
    for index, first in enumerate(firsts):
        end = positions[index + 1] if index + 1 < len(firsts) else len(text)
        entry = text[positions[index] : end]
        cited = [int(n) for n in re.findall(r"p\. (\d+)", entry.split("Cited:")[1])]
        found = [page_of(pages, needle) for needle in expected[first]]
        assert all(len(f) == 1 for f in found), (first, found)
        assert cited == [f[0] for f in found], (first, entry)


@pytest.mark.slow  # real builds
def test_epub_backrefs_carry_the_printed_pages(en_build):
    docs = epub_docs(en_build.epub)
    sources = docs["EPUB/text/sources.xhtml"]
    entry = sources.xpath('//*[@id="src-clerk-email"]')[0]
    links = entry.xpath('.//*[local-name()="span"][@class="backrefs"]//*[local-name()="a"]')
    assert [a.get("href").split("#")[0] for a in links] == ["timeline.xhtml"]
    pdf_page = page_of(pdf_pages(en_build.pdf), "Transport committee proposes a Riverside tram")
    assert links[0].text == f"p.\u00a0{pdf_page[0]}"


# ---- citing in bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "meta,locator,expected",
    [
        (META_DE, "S. 12", "(Müller, 2020, S. 12)"),
        (META_EN, "p. 12", "(Müller, 2020, p. 12)"),
        (META_DE, "Abs. 4", "(Müller, 2020, Abs. 4)"),
        (META_EN, "para. 4", "(Müller, 2020, para. 4)"),
    ],
)
def test_locator_renders_per_style_and_language(make_dossier, meta, locator, expected):
    root = make_dossier({"dossier.yaml": meta + SOURCES_YAML, "01-a.yaml": chapter(f"Erstens [@mueller, {locator}].")})
    html = body_html(book_of(root))
    assert f'<a class="cite" href="#src-mueller">{expected}</a>' in html


def test_appendix_order_is_alphabetical_the_languages_way(make_dossier):
    names = ["Musk, Elon", "Müller, Jörg", "de Vries, Anna", "Zander, Kai", "Mueller, Ina"]
    sources = "".join(
        f'  - id: s{n}\n    type: report\n    title: "R{n}"\n    author: "{name}"\n    date: "2020"\n'
        for n, name in enumerate(names)
    )
    body = " ".join(f"[@s{n}]" for n in range(len(names)))
    book = book_of(make_dossier({"dossier.yaml": META_DE + "sources:\n" + sources, "01-a.yaml": chapter(body)}))
    # Harvard sorts by author; ü with u (DIN 5007-1), case ignored
    assert [s.entry_html.split(" (")[0] for s in book.sources] == [
        "de Vries, A.",
        "Mueller, I.",
        "Müller, J.",
        "Musk, E.",
        "Zander, K.",
    ]


def test_several_sources_prefix_and_author_in_text(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": META_EN
            + SOURCES_YAML
            + """\
  - id: clerk
    type: email
    title: "Re: rails"
    author: "Marsh, Dorothy"
    date: "2019-03-04"
""",
            "01-a.yaml": chapter("""\
    Both [see @mueller, p. 3; @clerk]. As @mueller [p. 7] says, and @mueller too [-@clerk].
    Write to someone@example.org; @nobody is a handle.
    """),
        }
    )
    collector, book = check(root)
    assert collector.errors == []
    html = body_html(book)
    assert "(Marsh, 2019; see Müller, 2020, p. 3)" in html  # Harvard sorts the items of a citation
    assert "Müller (2020, p. 7)" in html and "Müller (2020)" in html
    assert '<a class="cite" href="#src-clerk">(2019)</a>' in html  # [-@clerk]: the author is in the sentence
    assert "someone@example.org" in html and "@nobody is a handle" in html
    assert [d.code for d in collector.warnings] == ["unknown-citation"]


@pytest.mark.slow  # real builds
def test_note_style_puts_the_citation_in_a_footnote_on_the_citing_page(make_dossier, tmp_path):
    filler = "\n\n".join(["Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 6] * 8)
    root = make_dossier(
        {
            "dossier.yaml": META_DE + SOURCES_YAML + "citation_style: notes.csl\n",
            "notes.csl": NOTE_STYLE,
            "01-a.yaml": chapter(
                filler + "\n\nDer entscheidende Satz steht hier [@mueller, S. 12]. Ein zweiter "
                "Satz.[^1]\n\n[^1]: Eine gewöhnliche Fußnote.\n"
            ),
        }
    )
    book = book_of(root)
    assert book.citation_class == "note"
    notes = [n.inline_html for n in book.chapters[0].footnotes["html"]]
    assert len(notes) == 2 and "Jörg Müller, <i>Die Akte</i>, S. 12." in notes[0] and "gewöhnliche" in notes[1]
    files = built(root, tmp_path / "out")
    pages = pdf_pages(files["pdf"])
    call = page_of(pages, "Der entscheidende Satz steht hier")
    note = page_of(pages, "Jörg Müller, Die Akte, S. 12.")
    assert len(call) == 1 and call == note, (call, note)
    assert "(Müller" not in flatten(pages[call[0] - 1])  # a note style has no parenthetical citation
    # EPUB: a noteref to an aside of the chapter; EPUBCheck finds nothing
    docs = epub_docs(files["epub"])
    chapter_doc = next(d for name, d in docs.items() if "text/0" in name)
    refs = chapter_doc.xpath('//*[local-name()="a"][@class="noteref"]')
    asides = chapter_doc.xpath('//*[local-name()="aside"]')
    assert [a.text for a in refs] == ["1", "2"] and "Jörg Müller, Die Akte, S. 12." in text_of(asides[0])
    messages = run_epubcheck([files["epub"]])[files["epub"]]
    assert summarize(messages) == (0, 0, 0), format_epubcheck_messages(messages)
    violations = ace_violations(run_ace(files["epub"], tmp_path / "ace"))
    assert violations == [], format_ace_violations(violations)
    from pdfua import validate  # the tagged PDF with citation notes and the appendix

    report = validate(str(files["pdf"]))
    assert [(f.rule_id, f.message) for f in report.findings] == [] and report.exit_code == 0


# ---- bibliography files -------------------------------------------------------------------------------

ZOTERO_BIB = r"""
@article{mueller_ki_2024,
	title = {K{\"u}nstliche {Intelligenz} und {OpenAI}: {\"U}ber die {E}-{Mails} -- ein {\"U}berblick},
	shorttitle = {K{\"u}nstliche {Intelligenz}},
	author = {M{\"u}ller, J{\"o}rg and Garc{\'\i}a, Ana and {Société Générale}},
	journal = {Revue d'{\'E}conomie},
	year = {2024},
	month = mar,
	pages = {12--34},
	url = {https://example.org/a_b?x=1&y=2},
	urldate = {2024-03-09},
	note = {Stra{\ss}e \& 50\,\%},
}
"""
SAME_AS_CSL_JSON = [
    {
        "id": "mueller_ki_2024",
        "type": "article-journal",
        "title": "Künstliche Intelligenz und OpenAI: Über die E-Mails – ein Überblick",
        "title-short": "Künstliche Intelligenz",
        "author": [
            {"family": "Müller", "given": "Jörg"},
            {"family": "García", "given": "Ana"},
            {"literal": "Société Générale"},
        ],
        "container-title": "Revue d'Économie",
        "issued": {"date-parts": [[2024, 3]]},
        "page": "12–34",
        "URL": "https://example.org/a_b?x=1&y=2",
        "accessed": {"date-parts": [[2024, 3, 9]]},
        "note": "Straße & 50\u202f%",
        "abstract": "Zotero exports more than a style prints.",
    }
]


def _bib_dossier(make_dossier, name: str, file_name: str, content: str) -> Path:
    return make_dossier(
        {
            "dossier.yaml": META_DE + f"bibliography: {file_name}\n",
            file_name: content,
            "01-a.yaml": chapter("Laut [@mueller_ki_2024, S. 14]."),
        },
        name=name,
    )


def test_csl_json_and_bibtex_give_the_same_appendix(make_dossier):
    from_bib = book_of(_bib_dossier(make_dossier, "bib", "library.bib", ZOTERO_BIB))
    from_json = book_of(
        _bib_dossier(make_dossier, "json", "library.json", json.dumps(SAME_AS_CSL_JSON, ensure_ascii=False, indent=2))
    )
    assert [s.entry_html for s in from_bib.sources] == [s.entry_html for s in from_json.sources]
    assert body_html(from_bib) == body_html(from_json)


def test_zotero_bibtex_with_unicode_braces_and_latex_accents_renders_right(make_dossier):
    book = book_of(_bib_dossier(make_dossier, "bib", "library.bib", ZOTERO_BIB))
    entry = book.sources[0].entry_html
    for words in (
        "Müller, J., García, A. und Société Générale (2024)",
        "„Künstliche Intelligenz und OpenAI: Über die E-Mails – ein Überblick“",
        "<i>Revue d'Économie</i>",
        "S. 12–34",
        "Straße &amp; 50\u202f%",
        '<a class="url" href="https://example.org/a_b?x=1&amp;y=2">https://example.org/a_b?x=1&amp;y=2</a>',
    ):
        assert words in entry, (words, entry)
    assert "{" not in entry and "\\" not in entry
    assert "(Müller, García und Société Générale, 2024, S. 14)" in body_html(book)


def test_a_source_title_cannot_inject_markup(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": META_EN
            + """\
sources:
  - id: evil
    type: webpage
    title: "<img src=x onerror=alert(1)> & co"
    url: "https://example.org/?a=1&b=<2>"
""",
            "01-a.yaml": chapter("See [@evil, <b>bold</b>]."),
        }
    )
    book = book_of(root)
    entry = book.sources[0].entry_html
    assert "<img" not in entry and "&lt;img src=x onerror=alert(1)&gt; &amp; co" in entry
    assert "<b>" not in body_html(book)


# ---- located errors -----------------------------------------------------------------------------------


def test_unknown_id_in_a_body_is_located_at_the_citation(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": META_EN + SOURCES_YAML,
            "01-a.yaml": chapter("""\
    First line.
    Then a claim [@mueler, p. 3] that cites a typo.
    """),
        }
    )
    (error,) = diagnostics(root)
    assert error.startswith(f"{root / '01-a.yaml'}:4:16: error: body: @mueler names no source of the dossier")
    assert "did you mean 'mueller'?" in error


def test_unknown_id_in_a_quote_and_an_event(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": META_EN + SOURCES_YAML,
            "01-a.yaml": chapter(
                "Text.",
                """\
quotes:
  - id: q
    speaker: Someone
    text: Words
    source: nobody
events:
  - date: "2020"
    title: Something
    source: mueler
""",
            ),
        }
    )
    errors = diagnostics(root)
    assert errors == [
        f"{root / '01-a.yaml'}:8:13: error: quotes[0].source: source 'nobody' names no source of the dossier "
        "(add it to `sources` in dossier.yaml or to the bibliography file)",
        f"{root / '01-a.yaml'}:12:13: error: events[0].source: source 'mueler' names no source of the dossier "
        "(did you mean 'mueller'?)",
    ]


def test_duplicate_ids_across_the_list_and_the_file(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": META_EN + SOURCES_YAML + "bibliography: refs.bib\n",
            "refs.bib": "\n@book{mueller,\n  title = {Another},\n  year = {2001},\n}\n",
            "01-a.yaml": chapter("[@mueller]"),
        }
    )
    (error,) = diagnostics(root)
    assert error.startswith(
        f"{root / 'refs.bib'}:1:1: error: sources: source id 'mueller' is used twice "
        f"(first at {root / 'dossier.yaml'}:5:9)"
    )


def test_duplicate_keys_bad_dates_and_broken_entries_in_files(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": META_EN + "bibliography: refs.bib\n",
            "refs.bib": """\
@book{a,
  title = {One},
  year = {2001},
}
@book{a,
  title = {Two},
}
@book{b,
  title = {Three},
  year = {2001},
  month = {13},
}
@misc{c,
  title = {unclosed
""",
            "01-a.yaml": chapter("[@a; @b]"),
        }
    )
    errors = diagnostics(root)
    bib = root / "refs.bib"
    assert f"{bib}:5:1: error: a: BibTeX: entry key 'a' is used twice in the file" in errors
    assert f"{bib}:11:1: error: b: month '13' is not a month (1-12 or jan ... dec)" in errors
    assert f"{bib}:13:1: error: BibTeX: cannot read the entry '@misc{{c,' (an unclosed brace or quote?)" in errors
    assert len(errors) == 3, errors  # the citation of the broken entry is not reported again


def test_csl_json_errors_are_located(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": META_EN + "bibliography: refs.json\n",
            "refs.json": '[\n  {"id": "a", "type": "book", "title": "A",\n'
            '   "issued": {"date-parts": [[2018, 2, 30]]}}\n]\n',
            "01-a.yaml": chapter("[@a]"),
        }
    )
    (error,) = diagnostics(root)
    assert error == f"{root / 'refs.json'}:2:1: error: a: issued: 2018-2-30 is not a day of the calendar"
    (root / "refs.json").write_text('[{"id": "a", "type": "book",, "title": "A"}]')
    (error,) = diagnostics(root)
    assert error.startswith(f"{root / 'refs.json'}:1:29: error: CSL-JSON: Expecting property name")


def test_bad_date_in_the_sources_list(make_dossier):
    root = make_dossier(
        {"dossier.yaml": META_EN + SOURCES_YAML.replace('"2020-03"', '"2020-13"'), "01-a.yaml": chapter("[@mueller]")}
    )
    (error,) = diagnostics(root)
    assert error.startswith(f"{root / 'dossier.yaml'}:10:11: error: sources[0].date: '2020-13' has no month 13")


def test_unreadable_bibliography(make_dossier):
    root = make_dossier({"dossier.yaml": META_EN + "bibliography: missing.bib\n", "01-a.yaml": chapter("x")})
    (error,) = diagnostics(root)
    assert error.startswith(f"{root / 'dossier.yaml'}:4:15: error: bibliography: file 'missing.bib' not found")
    (root / "latin1.bib").write_bytes(b"@book{a, title = {M\xfcller}}\n")
    (root / "dossier.yaml").write_text(META_EN + "bibliography: latin1.bib\n")
    (error,) = diagnostics(root)
    assert error.startswith(f"{root / 'latin1.bib'}:1:1: error: bibliography is not UTF-8 (byte 0xfc)")


def test_a_csl_file_outside_the_dossier_folder_is_refused(tmp_path, make_dossier):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "style.csl").write_text(NOTE_STYLE)
    for path in ("../elsewhere/style.csl", str(outside / "style.csl")):
        root = make_dossier(
            {"dossier.yaml": META_EN + SOURCES_YAML + f"citation_style: {path}\n", "01-a.yaml": chapter("[@mueller]")}
        )
        (error,) = diagnostics(root)
        assert error.startswith(
            f"{root / 'dossier.yaml'}:11:17: error: citation_style: '{path}' is outside the dossier folder"
        )
    (root / "link.csl").symlink_to(outside / "style.csl")
    (root / "dossier.yaml").write_text(META_EN + SOURCES_YAML + "citation_style: link.csl\n")
    (error,) = diagnostics(root)
    assert "'link.csl' is outside the dossier folder" in error


def test_a_file_that_is_not_a_csl_style(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": META_EN + SOURCES_YAML + "citation_style: style.csl\n",
            "style.csl": "<html><body>not a style</body></html>",
            "01-a.yaml": chapter("[@mueller]"),
        }
    )
    (error,) = diagnostics(root)
    assert "citation_style: 'style.csl' is not a CSL style" in error


def test_a_style_with_entities_is_refused_before_citeproc_reads_it(tmp_path, make_dossier):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-LINE")
    style = NOTE_STYLE.replace(
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE style [<!ENTITY s SYSTEM "file://{secret}">]>\n',
    ).replace("<title>Test notes</title>", "<title>&s;</title>")
    root = make_dossier(
        {
            "dossier.yaml": META_EN + SOURCES_YAML + "citation_style: evil.csl\n",
            "evil.csl": style,
            "01-a.yaml": chapter("[@mueller]"),
        }
    )
    (error,) = diagnostics(root)
    assert "'evil.csl' has a DOCTYPE; CSL styles have none" in error and "TOP-SECRET" not in error


def test_unused_source_is_a_warning_in_check(make_dossier, capsys):
    root = make_dossier({"dossier.yaml": META_EN + SOURCES_YAML, "01-a.yaml": chapter("No citation.")})
    assert main(["check", str(root)]) == 0
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert f"{root / 'dossier.yaml'}:5:9: warning: sources: source 'mueller' is cited nowhere" in out
    assert main(["check", str(root), "--strict"]) == 1


# ---- the format is known to the schema and to `report new` --------------------------------------------


def test_schema_and_new_know_the_source_keys(tmp_path, capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    meta = schema["definitions"]["DossierMeta"]["properties"]
    assert {"sources", "bibliography", "citation_style"} <= set(meta)
    entry = schema["definitions"]["SourceEntry"]["properties"]
    assert {"id", "type", "title", "author", "container", "publisher", "date", "url", "accessed", "note"} <= set(entry)
    assert {"source", "locator"} <= set(schema["definitions"]["Quote"]["properties"])
    assert {"source", "locator"} <= set(schema["definitions"]["Event"]["properties"])
    for language in ("en", "de"):
        folder = tmp_path / language
        assert main(["new", str(folder), "--language", language]) == 0
        collector, book = check(folder)
        assert collector.diagnostics == []
        assert len(book.sources) == 1 and book.sources[0].backrefs


# ---- whatever a body holds around @ and brackets: text or a located finding, never a crash ------------

_PIECES = st.sampled_from(
    [
        "@mueller",
        "@nobody",
        "[@mueller",
        "]",
        "[",
        "; ",
        ", p. 3",
        "-@",
        "@",
        "x@y.org",
        "[see @mueller, S. 4; @mueller]",
        "[^1]",
        "`@code`",
        "\\@",
        " ",
        "\n",
        "Wort",
        "ü",
        "(",
    ]
)


@pytest.mark.slow  # many generated dossiers
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_any_body_around_citations_is_text_or_a_located_finding(body):
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "dossier.yaml").write_text(META_EN + SOURCES_YAML, encoding="utf-8")
        (root / "01-a.yaml").write_text(f"title: A\nbody: {json.dumps(body + ' end')}\n", encoding="utf-8")
        collector, book = check(root)
        for finding in collector.diagnostics:
            assert finding.location.path.name in ("01-a.yaml", "dossier.yaml"), finding.format()
            assert finding.location.line >= 1, finding.format()
        if book is not None:
            text = re.sub(r"<[^>]+>", "", body_html(book))
            assert "end" in text  # nothing after a citation is lost
