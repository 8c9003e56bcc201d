"""A briefing, not only a book: the layouts, the marking, drafts, versions and key points.

The default dossier is built as a briefing (the default) and as a book; a copy of the English
dossier is marked (classification, draft, version, changes) and built in every edition.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import lxml.etree
import lxml.html
import pytest

from report.cli import main
from report.pipeline import BuildOptions, build, check
from tests.support.ace import ace_violations, format_ace_violations, run_ace
from tests.support.epubcheck import format_epubcheck_messages, run_epubcheck, summarize
from tests.support.pdftext import flatten, loose, pdf_pages
from tests.visual import compare as visual

from .conftest import DEFAULT_DOSSIER, EN_DOSSIER, SEED, copy_dossier

pytestmark = pytest.mark.slow  # real builds, pdfua, EPUBCheck, Ace

MARKING = "TLP:AMBER"
MARKED_META = """
classification: "TLP:AMBER"
status: draft
version: "1.10"
changes:
  - date: "2025-05-20"
    version: "1.0"
    text: First circulated to the council's *transport committee*.
  - date: 2025-06-01
    version: "1.10"
    text: Cost figures of the second study added.
"""
XHTML = "{http://www.w3.org/1999/xhtml}"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


class Marked:
    def __init__(self, root: Path, outputs: dict[str, Path]):
        self.root = root
        self.pdf, self.epub, self.html, self.handout = (outputs[k] for k in ("pdf", "epub", "html", "handout"))


@pytest.fixture(scope="module")
def marked(tmp_path_factory) -> Marked:
    """The English dossier as a classified draft with a version and changes: every edition and the handout."""
    base = tmp_path_factory.mktemp("marked")
    root = copy_dossier(EN_DOSSIER, base / "dossier")
    with (root / "dossier.yaml").open("a", encoding="utf-8") as meta:
        meta.write(MARKED_META)
    result = build(root, BuildOptions(out_dir=base / "out", formats=("pdf", "epub", "html", "handout")))
    return Marked(root, {w.kind: w.path for w in result.outputs})


@pytest.fixture(scope="module")
def marked_final_pdf(tmp_path_factory) -> Path:
    """The same marked dossier with `status: final`: its PDF."""
    base = tmp_path_factory.mktemp("marked-final")
    root = copy_dossier(EN_DOSSIER, base / "dossier")
    with (root / "dossier.yaml").open("a", encoding="utf-8") as meta:
        meta.write(MARKED_META.replace("status: draft", "status: final"))
    return build(root, BuildOptions(out_dir=base / "out", formats=("pdf",))).outputs[0].path


def _run(*args: str) -> str:
    tool = shutil.which(args[0])
    if tool is None:  # a missing tool fails the test: it must never pass by skipping
        raise AssertionError(f"{args[0]} is missing: apt-get install poppler-utils")
    return subprocess.run([tool, *args[1:]], check=True, capture_output=True).stdout.decode()


def _openings(pages: list[str], book) -> dict[str, int]:
    """The page each chapter opens on: its number and title at the top of the page's text."""
    found = {}
    for chapter in book.chapters:
        hits = [
            n
            for n, text in enumerate(pages, start=1)
            if re.match(rf"\s*{chapter.number}\s+{re.escape(chapter.title_plain)}", flatten(text))
        ]
        assert len(hits) == 1, (chapter.title_plain, hits)
        found[chapter.anchor] = hits[0]
    return found


def _xobjects_with_text(resources, seen=None) -> bool:
    """True when a form XObject among ``resources`` (or nested in one) shows text."""
    seen = seen if seen is not None else set()
    for ref in (resources or {}).get("/XObject", {}).values():
        xobject = ref.get_object()
        if id(xobject) in seen or xobject.get("/Subtype") != "/Form":
            continue
        seen.add(id(xobject))
        if b"BT" in xobject.get_data() or _xobjects_with_text(xobject.get("/Resources"), seen):
            return True
    return False


def _artifact_text_per_page(pdf: Path) -> list[bool]:
    """For each page: does an /Artifact marked-content sequence draw a form that shows text?

    That is how the watermark stands in the file: a page background, which WeasyPrint paints
    as an artifact, outside the structure tree.
    """
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(pdf)
    found = []
    for page in reader.pages:
        resources = page["/Resources"]
        stack: list[str] = []
        hit = False
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator in (b"BMC", b"BDC"):
                stack.append(str(operands[0]))
            elif operator == b"EMC":
                stack.pop()
            elif operator == b"Do" and "/Artifact" in stack:
                xobject = resources["/XObject"][operands[0]].get_object()
                wrapper = {"/XObject": {operands[0]: xobject}}
                hit = hit or _xobjects_with_text(wrapper)
        found.append(hit)
    return found


def _watermark_letters(pdf: Path, min_height: float = 30.0) -> list[str]:
    """The capital letters set larger than ``min_height`` points, sorted, page by page.

    pdftotext cuts a word set at an angle into pieces ("DR", "AF", "T"): the letters tell the word.
    """
    bbox = _run("pdftotext", "-bbox", str(pdf), "-")
    pages = []
    for page in re.findall(r"<page [^>]*>(.*?)</page>", bbox, re.S):
        words = re.findall(r'<word xMin="[-\d.]+" yMin="([-\d.]+)" xMax="[-\d.]+" yMax="([-\d.]+)">([^<]*)<', page)
        pages.append(
            "".join(sorted("".join(w[2] for w in words if float(w[1]) - float(w[0]) > min_height and w[2].isupper())))
        )
    return pages


# Layouts ----------------------------------------------------------------------------------------


def test_briefing_is_the_default_and_has_no_blank_page(default_build):
    _, book = check(DEFAULT_DOSSIER)
    assert book.layout == "briefing"
    pages = pdf_pages(default_build.pdf)
    blank = [n for n, text in enumerate(pages, start=1) if not text.strip()]
    assert blank == []
    openings = _openings(pages, book)
    assert sorted(openings.values()) == list(openings.values())  # one after another, any page parity
    assert any(n % 2 == 0 for n in openings.values())  # a chapter opens on a left page too: no padding
    # "Seite x von y" at the foot of every page but the cover
    for number, text in enumerate(pages[1:], start=2):
        assert f"Seite {number} von {len(pages)}" in text, number


def test_book_opens_chapters_on_odd_pages(book_pdf, default_build):
    _, book = check(DEFAULT_DOSSIER)
    pages = pdf_pages(book_pdf)
    assert all(n % 2 == 1 for n in _openings(pages, book).values())
    assert any(not text.strip() for text in pages)  # the padding before right-hand openings
    assert len(pages) > len(pdf_pages(default_build.pdf))
    assert not any("Seite" in text for text in pages[1:])  # folios only


def test_layout_from_the_dossier_and_the_command_line(minimal, tmp_path):
    two_chapters = {
        "01-chapter.yaml": "title: One\nbody: |\n  Some text.\n",
        "02-other.yaml": "title: Two\nbody: |\n  More text.\n",
    }
    root = minimal(
        dossier__yaml="title: Test dossier\nlanguage: en\nlayout: book\n",
        **{k.replace(".", "__"): v for k, v in two_chapters.items()},
    )
    as_book = tmp_path / "book"
    assert main(["build", str(root), "--out", str(as_book), "--pdf", "--quiet"]) == 0
    book_pages = pdf_pages(next(as_book.glob("*.pdf")))
    assert any(not text.strip() for text in book_pages)
    overridden = tmp_path / "briefing"
    assert main(["build", str(root), "--out", str(overridden), "--pdf", "--quiet", "--layout", "briefing"]) == 0
    briefing_pages = pdf_pages(next(overridden.glob("*.pdf")))
    assert all(text.strip() for text in briefing_pages)
    assert f"Page 2 of {len(briefing_pages)}" in briefing_pages[1]


def test_epub_page_numbers_name_the_layout_they_follow(tmp_path):
    """The EPUB's print page numbers come from the PDF of the layout that was asked for."""
    out = tmp_path / "book"
    assert main(["build", str(DEFAULT_DOSSIER), "--out", str(out), "--epub", "--quiet", "--layout", "book"]) == 0
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        opf = z.read("EPUB/content.opf").decode()
        nav = z.read("EPUB/nav.xhtml").decode()
    assert re.search(r"<dc:source[^>]*>[^<]*#pdf-a4-book</dc:source>", opf)
    labels = re.findall(r'<a href="[^"]+#page-\d+">(\d+)</a>', nav)
    assert labels[-1] == "26"  # the book's page count (sources appendix included), not the briefing's


# Marking ----------------------------------------------------------------------------------------


def test_marking_on_every_pdf_page_head_and_foot_cover_included(marked):
    pages = pdf_pages(marked.pdf)
    assert len(pages) >= 6
    for number, text in enumerate(pages, start=1):
        assert text.count(MARKING) >= 2, (number, text[:200])  # in the head and in the foot
        assert f"Draft · {MARKING}" in text, number  # the head says "Draft" too


def test_marking_on_every_page_of_the_book_blank_pages_included(marked, tmp_path):
    out = tmp_path / "book"
    assert main(["build", str(marked.root), "--out", str(out), "--pdf", "--quiet", "--layout", "book"]) == 0
    pages = pdf_pages(next(out.glob("*.pdf")))
    # a page with nothing but the marking and the watermark's letters (pdftotext cuts it into pieces)
    padding = [
        n for n, text in enumerate(pages, start=1) if not re.sub(rf"Draft|{MARKING}|·|\b(DR|AF|T)\b|\s", "", text)
    ]
    assert padding and all(n % 2 == 0 for n in padding)  # the blank left pages before chapters
    for number, text in enumerate(pages, start=1):
        assert text.count(MARKING) >= 2 and f"Draft · {MARKING}" in text, number


def test_marking_on_every_handout_page(marked):
    from pypdf import PdfReader

    from report.writers.handout import A4_LANDSCAPE

    width, height = int(A4_LANDSCAPE[0] / 2), int(A4_LANDSCAPE[1])
    halves = 0
    for index, label in enumerate(PdfReader(marked.handout).page_labels):
        for half, number in enumerate(label.split(":")[1].split("|")):
            if number == "-":
                continue
            text = _run(
                "pdftotext",
                "-f",
                str(index + 1),
                "-l",
                str(index + 1),
                "-x",
                str(half * width),
                "-y",
                "0",
                "-W",
                str(width),
                "-H",
                str(height),
                str(marked.handout),
                "-",
            )
            assert text.count(MARKING) >= 2 and f"Draft · {MARKING}" in text, (label, half)
            halves += 1
    assert halves >= 3


def test_marking_heads_the_html_and_every_epub_document(marked):
    page = lxml.html.document_fromstring(marked.html.read_text(encoding="utf-8"))
    banner = page.xpath('//header[@class="masthead"]/p[@role="note"]')
    assert banner and banner[0].text_content() == f"Draft · {MARKING}"
    assert page.xpath('//header[@class="masthead"]/*')[0] is banner[0]  # the first thing in the page's head
    assert page.findtext(".//title") == "The Riverside Tram Decision (Draft)"
    assert page.xpath('//meta[@name="dcterms.accessRights"]')[0].get("content") == MARKING
    assert page.xpath('//meta[@name="version"]')[0].get("content") == "1.10"
    with zipfile.ZipFile(marked.epub) as z:
        opf = lxml.etree.fromstring(z.read("EPUB/content.opf"))
        spine = [
            item.get("href")
            for ref in opf.iter("{http://www.idpf.org/2007/opf}itemref")
            for item in opf.iter("{http://www.idpf.org/2007/opf}item")
            if item.get("id") == ref.get("idref")
        ]
        assert len(spine) >= 6
        for name in spine:
            body = lxml.etree.fromstring(z.read(f"EPUB/{name}")).find(f"{XHTML}body")
            first = body[0]
            assert first.tag == f"{XHTML}p" and first.get("class") == "marking marking-draft", name
            assert "".join(first.itertext()) == f"Draft · {MARKING}", name
    metas = {m.get("property"): m.text for m in opf.iter("{http://www.idpf.org/2007/opf}meta") if m.get("property")}
    assert metas["dcterms:accessRights"] == MARKING
    assert metas["schema:version"] == "1.10"


def test_marked_epub_passes_epubcheck_and_ace(marked, tmp_path):
    messages = run_epubcheck([marked.epub])[marked.epub]
    assert summarize(messages) == (0, 0, 0), format_epubcheck_messages(messages)
    violations = ace_violations(run_ace(marked.epub, tmp_path / "ace"))
    assert violations == [], format_ace_violations(violations)


def test_no_marking_when_none_is_given(default_build):
    page = default_build.html.read_text(encoding="utf-8")
    assert 'class="marking' not in page
    with zipfile.ZipFile(default_build.epub) as z:
        assert not any(b'class="marking' in z.read(n) for n in z.namelist() if n.endswith(".xhtml"))


# Drafts -----------------------------------------------------------------------------------------


def test_draft_watermark_on_every_page_as_an_artifact(marked):
    from pdfua import validate

    pages = pdf_pages(marked.pdf)
    assert _artifact_text_per_page(marked.pdf) == [True] * len(pages)
    assert _watermark_letters(marked.pdf) == ["".join(sorted("DRAFT"))] * len(pages)  # one big word a page
    report = validate(str(marked.pdf))
    assert [(f.rule_id, f.message) for f in report.findings] == []
    assert "Draft" in _run("pdfinfo", str(marked.pdf)).split("Title:")[1].splitlines()[0]


def test_the_watermark_adds_nothing_to_the_structure_tree(marked, marked_final_pdf):
    """The same dossier as a draft and as final: the same tagged structure, only the draft has the word."""
    tags = _structure_tags(marked.pdf)
    assert len(tags) > 100
    assert tags == _structure_tags(marked_final_pdf)
    assert not any(_artifact_text_per_page(marked_final_pdf))
    assert not any(_watermark_letters(marked_final_pdf))
    pages = pdf_pages(marked_final_pdf)
    assert all(text.count(MARKING) >= 2 for text in pages) and "Draft" not in "\n".join(pages)


def _structure_tags(pdf: Path) -> list[str]:
    """The structure tree's element types, depth first."""
    from pypdf import PdfReader

    tags: list[str] = []

    def walk(node):
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            for kid in node:
                walk(kid)
        elif hasattr(node, "get") and node.get("/S") is not None:
            tags.append(str(node["/S"]))
            if "/K" in node:
                walk(node["/K"])

    walk(PdfReader(pdf).trailer["/Root"]["/StructTreeRoot"]["/K"])
    return tags


def test_watermark_is_light(marked, tmp_path):
    """The watermark is light: the page keeps nearly all of its ink where there is no text."""
    from PIL import Image, ImageStat

    rendered = visual.render_page(marked.pdf, 3, tmp_path, dpi=30)
    grey = ImageStat.Stat(Image.open(rendered).convert("L")).mean[0]
    assert grey > 200, grey  # a light page, not a dark stamp


def test_final_edition_has_no_watermark_and_no_draft_word(default_build):
    pages = pdf_pages(default_build.pdf)
    assert _artifact_text_per_page(default_build.pdf) == [False] * len(pages)
    assert not any(_watermark_letters(default_build.pdf))
    assert "Entwurf" not in "\n".join(pages)
    assert "Entwurf" not in default_build.html.read_text(encoding="utf-8")


# Version and changes ----------------------------------------------------------------------------


def test_version_and_changes_in_the_imprint_on_the_cover_and_in_the_xmp(marked, marked_final_pdf):
    pages = pdf_pages(marked_final_pdf)  # the text without the draft's watermark letters between its lines
    imprint = flatten(pages[-1])
    assert "Imprint" in imprint and "VERSION 1.10" in imprint.upper()
    assert "Changes May 20, 2025 · Version 1.0: First circulated to the council’s transport committee." in imprint
    assert "June 1, 2025 · Version 1.10: Cost figures of the second study added." in imprint
    assert imprint.index("May 20, 2025") < imprint.index("June 1, 2025 · Version 1.10")  # in the source's order
    assert "Version 1.10" in flatten(pages[0])  # the cover
    # XMP as a reader takes it: the one rdf:RDF element of the packet (a second one would go unread)
    from pypdf import PdfReader

    xmp = PdfReader(marked.pdf).xmp_metadata
    rdf = xmp.rdf_root
    assert rdf.localName == "RDF" and len(rdf.ownerDocument.getElementsByTagNameNS(RDF, "RDF")) == 1
    assert [n.firstChild.data for n in rdf.getElementsByTagNameNS("http://ns.adobe.com/xap/1.0/mm/", "VersionID")] == [
        "1.10"
    ]
    rights = rdf.getElementsByTagNameNS("http://purl.org/dc/elements/1.1/", "rights")
    assert [li.firstChild.data for r in rights for li in r.getElementsByTagNameNS(RDF, "li")] == [MARKING]
    with zipfile.ZipFile(marked.epub) as z:
        epub_imprint = z.read("EPUB/text/imprint.xhtml").decode()
    assert "Cost figures of the second study added." in epub_imprint and "1.10" in epub_imprint


def test_no_version_no_changes_when_none_are_given(default_build):
    last = flatten(pdf_pages(default_build.pdf)[-1])
    assert "Änderungen" not in last and "VERSION" not in last.upper()
    assert "VersionID" not in _run("pdfinfo", "-meta", str(default_build.pdf))


# Key points -------------------------------------------------------------------------------------


def test_default_key_points_are_the_articles_words_and_stand_first(default_build):
    article = SEED.read_text(encoding="utf-8")
    _, book = check(DEFAULT_DOSSIER)
    assert len(book.key_points) == 5
    for point in book.key_points:
        assert re.search(rf"^- {re.escape(point)}$", article, re.M), point  # the article's summary list, word for word
    body = (DEFAULT_DOSSIER / "01-worum-es-geht.yaml").read_text(encoding="utf-8")
    assert "Wichtigste" not in body  # moved, not copied
    front = pdf_pages(default_build.pdf)[1]
    assert loose(front).startswith(loose("Das Wichtigste in Kürze").upper())  # a box heading, in capitals
    for point in book.key_points:
        assert loose(point) in loose(front)
    assert loose(front).index(loose(book.key_points[-1])) < loose(front).index("Inhalt")
    html = lxml.html.document_fromstring(default_build.html.read_text(encoding="utf-8"))
    box = html.xpath('//main/section[@class="key-points"]')[0]
    assert html.xpath("//main/*")[0] is box and box.get("role") == "doc-abstract"
    assert [li.text_content() for li in box.xpath(".//li")] == list(book.key_points)
    with zipfile.ZipFile(default_build.epub) as z:
        opf = z.read("EPUB/content.opf").decode()
        doc = z.read("EPUB/text/key-points.xhtml").decode()
    first_doc = re.findall(r'<itemref idref="([^"]+)"', opf)[2]  # after the cover and the nav
    assert re.search(
        rf'<item [^>]*href="text/key-points.xhtml"[^>]*id="{first_doc}"|<item [^>]*id="{first_doc}"'
        r'[^>]*href="text/key-points.xhtml"',
        opf,
    )
    assert all(point in doc for point in book.key_points)


def test_german_words_come_from_the_language_table(tmp_path, minimal):
    from report.languages import Language, available_tags

    for key in ("draft", "version", "changes", "key_points", "page", "page_of"):
        for tag in available_tags():  # every table (report/languages/tables) has the word
            assert Language(tag).strings[key], (tag, key)
    root = minimal(
        dossier__yaml="title: T\nlanguage: de\nstatus: draft\nversion: '2'\nclassification: Intern\n"
        "changes:\n  - date: 2024-05-02\n    text: Neu\n"
    )
    out = tmp_path / "out"
    assert main(["build", str(root), "--out", str(out), "--pdf", "--quiet"]) == 0
    pages = pdf_pages(next(out.glob("*.pdf")))
    assert "Entwurf · Intern" in pages[1] and f"Seite 2 von {len(pages)}" in pages[1]
    assert "Änderungen" in pages[-1] and "2. Mai 2024" in pages[-1] and "Version 2" in flatten(pages[0])
    assert _watermark_letters(next(out.glob("*.pdf")))[1] == "".join(sorted("ENTWURF"))


# The look of pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "which,page,reference",
    [
        ("default_build", 2, "briefing-p02-key-points.png"),
        ("default_build", 3, "briefing-p03-chapter.png"),
        ("marked", 3, "draft-p03-chapter.png"),
    ],
)
def test_briefing_pages_look_as_designed(which, page, reference, request, tmp_path):
    fixture = request.getfixturevalue(which)
    rendered = visual.render_page(fixture.pdf, page, tmp_path)
    visual.compare(rendered, reference, tmp_path, update=visual.updating())


# The source format ------------------------------------------------------------------------------
