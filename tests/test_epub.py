"""The EPUB edition as validators, the printed edition and a reading engine see it."""

from __future__ import annotations

import html
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from report.pipeline import BuildOptions, build, check
from report.writers.pdf import PdfOptions
from tests.support.ace import ace_violations, format_ace_violations, run_ace
from tests.support.epubcheck import format_epubcheck_messages, run_epubcheck, summarize
from tests.support.epubjs import render_epub_page
from tests.support.pdftext import flatten, page_of, pdf_pages

from .conftest import DEFAULT_DOSSIER, EN_DOSSIER, MINIMAL_META

pytestmark = pytest.mark.slow  # real builds, EPUBCheck, Ace and epub.js

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "epub"
OPS = "http://www.idpf.org/2007/ops"
XHTML = "http://www.w3.org/1999/xhtml"
OPF = "http://www.idpf.org/2007/opf"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EPUB_TYPE = f"{{{OPS}}}type"
NS = {"h": XHTML, "opf": OPF, "dc": "http://purl.org/dc/elements/1.1/", "epub": OPS}
BUILDS = [("default_build", DEFAULT_DOSSIER), ("en_build", EN_DOSSIER)]
# the same dossiers with the PDF laid out in runs (writers/runs/): the page numbers must hold there too
WITH_RUNS = [*BUILDS, ("default_runs_build", DEFAULT_DOSSIER), ("en_runs_build", EN_DOSSIER)]


@dataclass
class Epub:
    """An EPUB opened for reading: its package and its spine documents, parsed."""

    path: Path
    names: list[str]
    opf: etree._Element
    spine: list[str]  # names inside the ZIP, in reading order
    docs: dict[str, etree._Element]  # every XHTML document by name inside the ZIP
    raw: dict[str, str]

    @classmethod
    def open(cls, path: Path) -> Epub:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            opf = etree.fromstring(z.read("EPUB/content.opf"))
            manifest = {i.get("id"): i.get("href") for i in opf.iterfind(".//opf:manifest/opf:item", NS)}
            spine = [f"EPUB/{manifest[r.get('idref')]}" for r in opf.iterfind(".//opf:spine/opf:itemref", NS)]
            raw = {n: z.read(n).decode("utf-8") for n in names if n.endswith(".xhtml")}
        docs = {n: etree.fromstring(text.encode("utf-8")) for n, text in raw.items()}
        return cls(path, names, opf, spine, docs, raw)

    def meta(self, prop: str) -> list[str]:
        return [m.text for m in self.opf.iterfind(f".//opf:meta[@property='{prop}']", NS)]

    def page_labels(self) -> dict[str, str]:
        """The page label a reader is shown for each id: the last page marker before it."""
        labels: dict[str, str] = {}
        label = ""
        for name in self.spine:
            for element in self.docs[name].iter(f"{{{XHTML}}}*"):
                if element.get(EPUB_TYPE) == "pagebreak":
                    label = element.get("aria-label")
                elif element.get("id") and label:
                    labels[element.get("id")] = label
        return labels


def _epub(which: str, request) -> Epub:
    return Epub.open(request.getfixturevalue(which).epub)


def _text(element) -> str:
    return re.sub(r"[ \t\r\n]+", " ", "".join(element.itertext())).strip()  # no-break spaces stay


def _printed_labels(pages: list[str], strings: dict[str, str]) -> list[str]:
    """The page number each PDF page prints as its folio, read from the page's text.

    The folio is the page's last line ("7"; "Seite 7 von 24" is read too). Pages that
    print none (the cover, blank left pages) count all the same, as in any book: they
    get the number between their neighbours'.
    """
    long_form = re.compile(re.escape(strings["page"]) + r"\s+(\d+)\s+" + re.escape(strings["page_of"]) + r"\s+\d+")
    found: list[int | None] = []
    for text in pages:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        match = long_form.search(text)
        if match:
            found.append(int(match.group(1)))
        elif lines and re.fullmatch(r"\d+", lines[-1]):
            found.append(int(lines[-1]))
        else:
            found.append(None)
    numbered = [(i, n) for i, n in enumerate(found) if n is not None]
    assert numbered, "the PDF prints no page numbers"
    # every printed folio agrees with one count from the first page; the gaps follow it
    first_index, first_number = numbered[0]
    offset = first_number - first_index
    assert all(n - i == offset for i, n in numbered), numbered
    return [str(i + offset) for i in range(len(pages))]


# --------------------------------------------------------------------------- validators


@pytest.fixture(scope="module")
def ace_reports(default_build, en_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("ace")
    return {
        which: run_ace(request_build.epub, out / which)
        for which, request_build in (("default_build", default_build), ("en_build", en_build))
    }


@pytest.mark.parametrize("which", ["default_build", "en_build"])
def test_ace_reports_no_violations(which, ace_reports):
    report = ace_reports[which]
    violations = ace_violations(report)
    assert violations == [], format_ace_violations(violations)
    # Ace read the whole book: every spine document was checked
    checked = {a.get("earl:testSubject", {}).get("url") for a in report["assertions"]}
    assert any(url and url.endswith("quote-index.xhtml") for url in checked), checked


@pytest.mark.parametrize("which", ["default_build", "en_build"])
def test_ace_finds_the_accessibility_metadata(which, ace_reports):
    metadata = ace_reports[which]["a11y-metadata"]
    # only a third-party certifier's credential and report are left out (none exists), and the
    # certifier itself when the dossier names neither publisher nor authors
    allowed = {"a11y:certifierCredential", "a11y:certifierReport"}
    if which == "default_build":
        allowed.add("a11y:certifiedBy")
    assert set(metadata["missing"]) <= allowed, metadata["missing"]
    assert "schema:accessibilitySummary" in metadata["present"]


@pytest.fixture(scope="module")
def variant_builds(tmp_path_factory, default_build):
    """The default dossier with --epub-fonts and in A5, a small dossier with a described image, a long one."""
    base = tmp_path_factory.mktemp("variants")
    fonts = build(DEFAULT_DOSSIER, BuildOptions(out_dir=base / "fonts", formats=("epub",), epub_fonts=True))
    root = base / "with-image"
    root.mkdir()
    (root / "dossier.yaml").write_text(MINIMAL_META, encoding="utf-8")
    (root / "01-chapter.yaml").write_text(
        "title: A chapter\nbody: |\n  Some text.\n\n  ![A red square on white](red.png)\n", encoding="utf-8"
    )
    (root / "red.png").write_bytes(_png(40, 40))
    image = build(root, BuildOptions(out_dir=base / "image", formats=("pdf", "epub")))
    long_root = _write_long_dossier(base / "long-dossier")
    long_build = build(long_root, BuildOptions(out_dir=base / "long", formats=("pdf", "epub")))
    long = {w.kind: w.path for w in long_build.outputs}
    a5 = {
        w.kind: w.path
        for w in build(
            DEFAULT_DOSSIER, BuildOptions(out_dir=base / "a5", formats=("pdf", "epub"), pdf=PdfOptions(page_size="A5"))
        ).outputs
    }
    return {
        "a5": a5["epub"],
        "a5-pdf": a5["pdf"],
        "fonts": fonts.outputs[0].path,
        "image": next(w.path for w in image.outputs if w.kind == "epub"),
        "long": long["epub"],
        "long-pdf": long["pdf"],
        "long-source": long_root,
    }


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 20, 20)).save(out, format="PNG")
    return out.getvalue()


def test_variants_pass_epubcheck(variant_builds):
    results = run_epubcheck([variant_builds[k] for k in ("a5", "fonts", "image", "long")])
    for path, messages in results.items():
        assert summarize(messages) == (0, 0, 0), f"{path}:\n{format_epubcheck_messages(messages)}"


@pytest.mark.parametrize("variant", ["image", "long"])
def test_variants_pass_ace(variant, variant_builds, tmp_path):
    violations = ace_violations(run_ace(variant_builds[variant], tmp_path / "ace"))
    assert violations == [], format_ace_violations(violations)


def test_image_edition_declares_visual_content(variant_builds):
    book = Epub.open(variant_builds["image"])
    assert "visual" in book.meta("schema:accessMode")
    assert "alternativeText" in book.meta("schema:accessibilityFeature")
    images = [img for name in book.spine for img in book.docs[name].iter(f"{{{XHTML}}}img")]
    assert any(img.get("alt") == "A red square on white" for img in images)


def test_image_without_alt_text_is_a_source_error(minimal):
    root = minimal(**{"01-chapter__yaml": "title: A chapter\nbody: |\n  Some text.\n\n  ![](red.png)\n"})
    (root / "red.png").write_bytes(_png(10, 10))
    collector, book = check(root)
    errors = [d.format() for d in collector.errors]
    assert book is None
    assert len(errors) == 1, errors
    assert "01-chapter.yaml:5" in errors[0] and "no alt text" in errors[0], errors


def test_embedded_fonts_are_declared_for_every_reading_system(variant_builds):
    book = Epub.open(variant_builds["fonts"])
    fonts = [i for i in book.opf.iterfind(".//opf:manifest/opf:item", NS) if i.get("href").startswith("fonts/")]
    assert fonts and all(i.get("media-type") in ("font/otf", "font/ttf") for i in fonts)
    with zipfile.ZipFile(variant_builds["fonts"]) as z:
        options = z.read("META-INF/com.apple.ibooks.display-options.xml").decode()
        css = z.read("EPUB/styles/epub.css").decode()
    assert '<option name="specified-fonts">true</option>' in options
    for item in fonts:
        assert f"url(../{item.get('href')})" in css
    assert "META-INF/com.apple.ibooks.display-options.xml" not in Epub.open(variant_builds["image"]).names


# --------------------------------------------------------------------------- accessibility


@pytest.mark.parametrize("which", ["default_build", "en_build"])
def test_accessibility_metadata(which, request):
    book = _epub(which, request)
    assert book.opf.get(XML_LANG) == book.opf.findtext(".//dc:language", namespaces=NS)
    assert book.meta("schema:accessMode") == ["textual"]
    assert book.meta("schema:accessModeSufficient") == ["textual"]
    features = set(book.meta("schema:accessibilityFeature"))
    assert {
        "tableOfContents",
        "readingOrder",
        "structuralNavigation",
        "index",
        "printPageNumbers",
        "pageBreakMarkers",
        "pageNavigation",
    } <= features
    assert book.meta("schema:accessibilityHazard") == ["none"]
    assert len(book.meta("schema:accessibilitySummary")[0]) > 80
    assert book.meta("dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]
    _, source = check(DEFAULT_DOSSIER if which == "default_build" else EN_DOSSIER)
    certifier = source.publisher or ", ".join(source.authors)
    assert book.meta("a11y:certifiedBy") == ([certifier] if certifier else [])
    # the pagination source: the printed edition, named as dc:source refined as source-of pagination
    source = book.opf.find(".//dc:source", NS)
    assert source is not None and book.meta("pageBreakSource") == [source.text]
    assert source.text == f"{book.opf.findtext('.//dc:identifier', namespaces=NS)}#pdf-a4-briefing"
    refines = book.opf.find(f".//opf:meta[@refines='#{source.get('id')}'][@property='source-of']", NS)
    assert refines is not None and refines.text == "pagination"


def _nav_of(link):
    """The <nav> around a link of a nav list (nav > ol > li > a)."""
    return link.getparent().getparent().getparent()


@pytest.mark.parametrize("which", ["default_build", "en_build"])
def test_every_document_has_its_language_and_roles(which, request):
    book = _epub(which, request)
    lang = book.opf.findtext(".//dc:language", namespaces=NS)
    for name, root in book.docs.items():
        assert root.get("lang") == lang and root.get(XML_LANG) == lang, name
        assert "<script" not in book.raw[name], name  # nothing may need JavaScript
    roles = {}
    for name in book.spine:
        for element in book.docs[name].iter(f"{{{XHTML}}}*"):
            if element.tag == f"{{{XHTML}}}a" and _nav_of(element).get(EPUB_TYPE) == "landmarks":
                continue  # landmark links name what they point at, they are not that thing
            roles.setdefault((element.get(EPUB_TYPE), element.get("role")), name)
    for pair in [
        ("chapter", "doc-chapter"),
        ("index", "doc-index"),
        ("toc", "doc-toc"),
        ("noteref", "doc-noteref"),
        ("footnote", "doc-footnote"),
        ("pagebreak", "doc-pagebreak"),
        ("appendix", "doc-appendix"),
        ("colophon", "doc-colophon"),
        ("cover", None),
    ]:
        assert pair in roles, pair
    # every epub:type that has a DPUB-ARIA counterpart carries it
    for epub_type, role in roles:
        if epub_type in ("chapter", "index", "toc", "noteref", "footnote", "pagebreak", "appendix"):
            assert role == f"doc-{epub_type}", (epub_type, role)


@pytest.mark.parametrize("which", ["default_build", "en_build"])
def test_footnotes_are_popup_asides_with_a_way_back(which, request):
    book = _epub(which, request)
    notes = 0
    for name in book.spine:
        root = book.docs[name]
        ids = {e.get("id"): e for e in root.iter() if e.get("id")}
        for ref in root.iterfind(".//h:a[@role='doc-noteref']", NS):
            assert ref.get(EPUB_TYPE) == "noteref"
            target = ids[ref.get("href").lstrip("#")]
            # reading systems pop up an aside typed footnote: not a div, not a li
            assert target.tag == f"{{{XHTML}}}aside" and target.get(EPUB_TYPE) == "footnote"
            back = target.find(".//h:a[@role='doc-backlink']", NS)
            assert back is not None and back.get("href") == f"#{ref.get('id')}"
            assert _text(target).startswith(_text(ref)), (_text(target), _text(ref))
            notes += 1
    assert notes > 0


def test_the_cover_is_where_every_store_and_reader_looks(default_build):
    book = Epub.open(default_build.epub)
    items = {i.get("id"): i for i in book.opf.iterfind(".//opf:manifest/opf:item", NS)}
    cover_items = [i for i in items.values() if "cover-image" in (i.get("properties") or "").split()]
    assert len(cover_items) == 1
    cover = cover_items[0]
    # EPUB 2 readers and Kindle's converter: <meta name="cover"> and the guide
    legacy = book.opf.find(".//opf:meta[@name='cover']", NS)
    assert legacy is not None and items[legacy.get("content")] is cover
    assert book.opf.find(".//opf:guide/opf:reference[@type='cover']", NS).get("href") == "text/cover.xhtml"
    # the cover page comes first in reading order and shows that image with a description
    assert book.spine[0] == "EPUB/text/cover.xhtml"
    img = book.docs["EPUB/text/cover.xhtml"].find(".//h:img", NS)
    assert img.get("src") == f"../{cover.get('href')}" and img.get("alt")
    with zipfile.ZipFile(default_build.epub) as z:
        png = z.read(f"EPUB/{cover.get('href')}")
    width, height = struct.unpack(">II", png[16:24])
    assert min(width, height) >= 1400 and height > width  # Apple's minimum; portrait for every store


@pytest.mark.parametrize("which", ["default_build", "en_build"])
def test_navigation_is_never_reading_matter(which, request):
    """The nav document stays out of the spine; a contents page of its own follows the cover.

    Readers that ignore `hidden` (and Calibre's conversion to AZW3) show a nav document in
    the spine with its landmarks and page list as text (tests/test_calibre.py reads that path).
    """
    book = _epub(which, request)
    items = {i.get("href"): i for i in book.opf.iterfind(".//opf:manifest/opf:item", NS)}
    assert "nav" in items["nav.xhtml"].get("properties").split()
    assert "EPUB/nav.xhtml" not in book.spine
    contents = book.spine[1]
    assert contents == "EPUB/text/contents.xhtml"
    toc = book.docs[contents].find(".//h:nav[@role='doc-toc']", NS)
    nav_toc = book.docs["EPUB/nav.xhtml"].find(".//h:nav[@epub:type='toc']", NS)
    # the same entries, to the same documents (each href relative to its own document)
    assert [(_text(a), f"EPUB/text/{a.get('href')}") for a in toc.iterfind(".//h:a", NS)] == [
        (_text(a), f"EPUB/{a.get('href')}") for a in nav_toc.iterfind(".//h:a", NS)
    ]
    assert [f"EPUB/text/{a.get('href')}" for a in toc.iterfind(".//h:a", NS)] == book.spine[2:]
    # no spine document links to the nav document (a converter would pull it back in)
    assert not any("nav.xhtml" in text for name, text in book.raw.items() if name in book.spine)
    # converters read the EPUB 2 guide, not the landmarks: both name the cover and the contents
    guide = {r.get("type"): r.get("href") for r in book.opf.iterfind(".//opf:guide/opf:reference", NS)}
    assert guide == {"cover": "text/cover.xhtml", "toc": "text/contents.xhtml"}
    landmarks = book.docs["EPUB/nav.xhtml"].find(".//h:nav[@epub:type='landmarks']", NS)
    assert landmarks.get("hidden") is not None
    marks = {a.get(EPUB_TYPE): a.get("href") for a in landmarks.iterfind(".//h:a", NS)}
    assert marks["cover"] == "text/cover.xhtml" and marks["toc"] == "text/contents.xhtml"
    # a reading system that opens the nav document anyway does not show its hidden navs
    with zipfile.ZipFile(book.path) as z:
        css = z.read("EPUB/styles/epub.css").decode()
    assert re.search(r"(^|[},])\s*nav\[hidden\]\s*\{\s*display:\s*none", css, re.M)


def test_css_leaves_size_and_margins_to_the_reader(default_build):
    with zipfile.ZipFile(default_build.epub) as z:
        css = z.read("EPUB/styles/epub.css").decode()
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    lengths = re.findall(r"(?<![\w.-])(\d*\.?\d+)(px|pt|pc|cm|mm|in)\b", css)
    assert set(lengths) <= {("1", "px")}, lengths  # hairline rules only; sizes in em and %
    for forbidden in (
        "@page",
        "position:",
        "float: footnote",
        "string-set",
        "leader(",
        "background",
        "!important",
        "font-size: 1em",
        "vw",
        "line-height: 1.",
    ):
        if forbidden == "line-height: 1.":
            # body text keeps the reader's line spacing (Kindle): only headings set one
            assert not re.search(r"(^|[},])\s*(body|p)\s*\{[^}]*line-height", css), "line-height on body text"
            continue
        assert forbidden not in css, forbidden
    assert not re.search(r"(^|[},])\s*body\s*\{[^}]*font-(size|family)", css), "the reader's font must win"
    for name, text in Epub.open(default_build.epub).raw.items():
        assert " style=" not in text, name


# --------------------------------------------------------------------------- print page numbers


@pytest.mark.parametrize("which,root", WITH_RUNS)
def test_page_list_matches_the_markers(which, root, request):
    book = _epub(which, request)
    nav = book.docs["EPUB/nav.xhtml"]
    page_list = nav.find(".//h:nav[@epub:type='page-list']", NS)
    assert page_list is not None
    entries = [(a.text, a.get("href")) for a in page_list.iterfind(".//h:a", NS)]
    labels = [int(label) for label, _ in entries]
    assert labels == list(range(labels[0], labels[-1] + 1)), labels
    markers = []
    for name in book.spine:
        for element in book.docs[name].iter(f"{{{XHTML}}}*"):
            if element.get(EPUB_TYPE) == "pagebreak":
                assert element.get("role") == "doc-pagebreak"
                assert element.getparent().tag != f"{{{XHTML}}}aside"
                markers.append((element.get("aria-label"), f"{name[len('EPUB/') :]}#{element.get('id')}"))
    assert entries == markers  # one entry per marker, in reading order
    pages = pdf_pages(request.getfixturevalue(which).pdf)
    assert labels[-1] == len(pages)


@pytest.mark.parametrize("which,root", WITH_RUNS)
def test_every_page_marker_stands_where_that_pdf_page_begins(which, root, request):
    built = request.getfixturevalue(which)
    _, source = check(root)
    assert _check_markers(built.epub, built.pdf, source.strings) >= 5


def test_page_markers_follow_the_page_size(variant_builds):
    """An A5 PDF has other page breaks (in the timeline, before a year heading); the EPUB follows it."""
    _, source = check(DEFAULT_DOSSIER)
    assert _check_markers(variant_builds["a5"], variant_builds["a5-pdf"], source.strings) >= 5
    book = Epub.open(variant_builds["a5"])
    assert book.opf.findtext(".//dc:source", namespaces=NS).endswith("#pdf-a5-briefing")
    for name in book.spine:  # never inside an element hidden from screen readers
        for marker in book.docs[name].iterfind(".//h:span[@role='doc-pagebreak']", NS):
            assert all(a.get("aria-hidden") != "true" for a in marker.iterancestors()), name


def _words(tag: str, count: int) -> str:
    return " ".join(f"{tag}w{i}" for i in range(count))


def _write_long_dossier(root: Path) -> Path:
    """Paragraphs, a list and a paragraph longer than a page, split over many PDF pages."""
    body = []
    for n in range(14):
        body.append(_words(f"para{n}", 90) + (f"[^n{n}]" if n % 5 == 0 else ""))
        if n == 6:
            body.append("\n".join(f"- item{i} " + _words(f"li{i}", 8) for i in range(45)))
        if n == 9:
            body.append("[[quote:long-q]]")
            body.append(_words("giant", 1100))  # longer than a page
    notes = [f"[^n{n}]: note{n} " + _words(f"fn{n}", 12) for n in range(0, 14, 5)]
    chapter = (
        "title: A long chapter\nquotes:\n  - id: long-q\n    text: quoted words here\n"
        "    speaker: Ann Example\nbody: |\n"
        + "".join(f"  {line}\n" if line else "\n" for block in body + notes for line in (block.split("\n") + [""]))
    )
    root.mkdir(parents=True)
    (root / "dossier.yaml").write_text(MINIMAL_META, encoding="utf-8")
    (root / "01-long.yaml").write_text(chapter, encoding="utf-8")
    (root / "02-short.yaml").write_text("title: After\nbody: |\n  " + _words("after", 30) + "\n", encoding="utf-8")
    return root


def test_page_markers_in_a_long_chapter(variant_builds):
    root, epub, pdf = variant_builds["long-source"], variant_builds["long"], variant_builds["long-pdf"]
    _, source = check(root)
    pages = pdf_pages(pdf)
    assert len(pages) >= 9
    assert _check_markers(epub, pdf, source.strings) >= 5
    book = Epub.open(epub)
    labels = book.page_labels()
    # pages that begin inside a paragraph or a list get their marker between two words
    chapter = book.raw[f"EPUB/{source.chapters[0].file_name}"]
    assert len(re.findall(r'\w <span epub:type="pagebreak"', chapter)) >= 4
    assert re.search(r'<li><span epub:type="pagebreak"[^>]*></span>item\d', chapter) or re.search(
        r'li\d+w\d+ <span epub:type="pagebreak"', chapter
    )
    # the paragraph longer than a page holds a marker for each page it begins
    giant = [i + 1 for i, p in enumerate(pages) if "giantw" in p]
    inside = re.search(r"giantw0 .*giantw1099", chapter, re.S).group(0)
    assert re.findall(r'aria-label="(\d+)"', inside) == [str(n) for n in giant[1:]]
    # and the block after it has the page it starts on
    after = next(i for i, p in enumerate(pages) if "para10w0" in p)
    assert labels[f"{source.chapters[0].anchor}-b{_block_of(book, 'para10w0')}"] == str(after + 1)


def _block_of(book: Epub, word: str) -> int:
    for name in book.spine:
        match = re.search(r'id="[^"]*-b(\d+)"[^>]*>' + word, book.raw[name])
        if match:
            return int(match.group(1))
    raise AssertionError(word)


def _split_at_break(words: list[str], page: str, next_page: str) -> bool:
    """The words end ``page`` but the last, which print hyphenated across the page break.

    Its first letters (two or more) follow the others on ``page``, the rest stands on ``next_page``.
    """
    joined = "".join(words[:-1])
    last = words[-1]
    for found in re.finditer(re.escape(joined), page):
        rest = page[found.end() :]
        if any(rest.startswith(last[:k]) and last[k:] in next_page for k in range(2, len(last))):
            return True
    return False


def _in_order(words: list[str], text: str, gap: int = 12) -> bool:
    """The words stand in ``text`` in this order, each at most ``gap`` letters after the one before.

    A little room for what print sets beside the flow (a year mark on the timeline's line).
    """
    joined = "".join(words)
    if joined in text:
        return True
    for start in [m.start() for m in re.finditer(re.escape(words[0]), text)]:
        at = start + len(words[0])
        for word in words[1:]:
            found = text.find(word, at, at + gap + len(word))
            if found < 0:
                break
            at = found + len(word)
        else:
            return True
    return False


def _check_markers(epub: Path, pdf: Path, strings: dict[str, str]) -> int:
    """Assert that each page marker stands where its PDF page begins; return how many had text after.

    The words after a marker are printed on the page it names, and the words before it
    (in the same document) on an earlier page: the marker is neither early nor late.
    """
    book = Epub.open(epub)
    pages = pdf_pages(pdf)
    printed = _printed_labels(pages, strings)

    def words_of(fragment: str) -> list[str]:
        # footnotes stand elsewhere in print; timeline dates and year marks are set apart there
        # (a year is not repeated in the date, pdftotext reads the date column on its own)
        fragment = re.sub(r'<aside.*?</aside>|<time.*?</time>|<li class="year".*?</li>', " ", fragment, flags=re.S)
        return re.findall(r"\w+", html.unescape(re.sub(r"<[^>]+>", " ", fragment)).casefold())

    def on(page_index: int) -> str:
        # letters only: a word hyphenated at a line end reads the same as the EPUB's whole word
        return "".join(re.findall(r"\w+", pages[page_index])).casefold()  # print may set capitals

    checked = 0
    for name in book.spine:
        text = book.raw[name]
        body = text.index("<body")
        for match in re.finditer(r'<span epub:type="pagebreak"[^>]*aria-label="([^"]+)"></span>', text):
            pdf_page = printed.index(match.group(1))
            after = words_of(text[match.end() :])[:5]
            before = words_of(text[body : match.start()])[-3:]
            if before:
                assert any(
                    _in_order(before, on(i)) or _split_at_break(before, on(i), on(pdf_page)) for i in range(pdf_page)
                ), (name, match.group(1), before)
            if not after:
                # closing a document: that page holds no new block (a blank page or the chapter's end)
                continue
            assert _in_order(after, on(pdf_page)), (name, match.group(1), after)
            checked += 1
    return checked


@pytest.mark.parametrize("which,root", WITH_RUNS)
def test_every_quote_has_the_page_the_pdf_prints_it_on(which, root, request):
    built = request.getfixturevalue(which)
    _, source = check(root)
    book = Epub.open(built.epub)
    labels = book.page_labels()
    pages = pdf_pages(built.pdf)
    printed = _printed_labels(pages, source.strings)
    marks = source.language.quotes
    # the quote index of the EPUB: entry -> (locator text, link target)
    index = book.docs["EPUB/text/quote-index.xhtml"]
    locators = {a.get("href").split("#")[1]: _text(a) for a in index.iterfind(".//h:a[@class='pageref']", NS)}
    assert source.all_quotes
    for quote in source.all_quotes.values():
        start = flatten(f"{marks[0]}{quote.text_plain}{marks[1]}")[:60]
        found = page_of(pages, start)
        assert found, quote.id
        pdf_label = printed[found[0] - 1]  # a short quote is also printed whole in the index, later
        assert labels[quote.anchor] == pdf_label, (quote.id, labels[quote.anchor], pdf_label)
        assert locators[quote.anchor] == f"{source.strings['page_short']}\u00a0{pdf_label}", quote.id


@pytest.mark.parametrize("which,root", WITH_RUNS)
def test_index_and_timeline_show_the_pdf_page_numbers_as_links(which, root, request):
    built = request.getfixturevalue(which)
    _, source = check(root)
    book = Epub.open(built.epub)
    labels = book.page_labels()
    pages = pdf_pages(built.pdf)
    short = re.escape(source.strings["page_short"])
    for part, heading in (("timeline", "timeline"), ("quote-index", "quote_index")):
        doc = book.docs[f"EPUB/text/{part}.xhtml"]
        links = list(doc.iterfind(".//h:a[@class='pageref']", NS))
        assert links
        epub_numbers = []
        for a in links:
            file, anchor = a.get("href").split("#")
            target = book.docs[f"EPUB/text/{file}"]
            assert target.find(f".//*[@id='{anchor}']") is not None, a.get("href")
            number = re.fullmatch(short + r"\u00a0(\S+)", _text(a)).group(1)
            assert labels[anchor] == number, (a.get("href"), labels[anchor], number)
            epub_numbers.append(number)
        # the same numbers, in the same order, as the PDF prints in its own appendix
        title = source.strings[heading]
        first = next(i for i, p in enumerate(pages) if p.lstrip().startswith(title))
        end = next(
            (
                i
                for i, p in enumerate(pages)
                if i > first
                and not p.lstrip().startswith(title)
                and re.match(r"\s*\S", p)
                and _appendix_start(p, source)
            ),
            len(pages),
        )
        pdf_numbers = re.findall(short + r"\s(\d+)", flatten("\n".join(pages[first:end])))
        assert pdf_numbers[: len(epub_numbers)] == epub_numbers, (part, pdf_numbers, epub_numbers)


def _appendix_start(page: str, source) -> bool:
    return any(page.lstrip().startswith(source.strings[a.title_key]) for a in source.appendices)


# --------------------------------------------------------------------------- a real reading engine


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nepub.js screenshots in {ARTIFACTS}")
    return ARTIFACTS


@pytest.mark.parametrize("which,root", BUILDS)
def test_epubjs_shows_a_chapter_page(which, root, request, artifacts):
    built = request.getfixturevalue(which)
    _, source = check(root)
    book = Epub.open(built.epub)
    chapter = source.chapters[0]
    index = book.spine.index(f"EPUB/{chapter.file_name}")
    result = render_epub_page(built.epub, artifacts / f"{which}-chapter.png", spine_index=index)
    assert result.console_errors == [] and result.blocked_requests == []
    assert chapter.title_plain in result.visible_text
    assert result.location["pages"] >= 1
    # the first words of the body are on the first screen, not pushed off by the heading
    first_words = " ".join(_text(book.docs[f"EPUB/{chapter.file_name}"].find(".//h:p", NS)).split()[:4])
    assert first_words in result.visible_text


@pytest.mark.parametrize("which,root", BUILDS)
def test_epubjs_follows_a_noteref_to_its_note(which, root, request, artifacts):
    built = request.getfixturevalue(which)
    _, source = check(root)
    book = Epub.open(built.epub)
    chapter = next(c for c in source.chapters if "noteref" in book.raw[f"EPUB/{c.file_name}"])
    index = book.spine.index(f"EPUB/{chapter.file_name}")
    result = render_epub_page(
        built.epub, artifacts / f"{which}-footnote.png", spine_index=index, click_first_noteref=True
    )
    assert result.console_errors == [] and result.blocked_requests == []
    note = result.noteref
    assert note["target_found"] and note["target_visible"], note
    assert note["target_text"].startswith(note["text"])
    assert note["target_text"][len(note["text"]) :].strip()[:30] in result.visible_text


def test_epubjs_on_a_phone_sized_screen(en_build, artifacts):
    """360 x 640: the text reflows into more pages, nothing is cut off at the side."""
    _, source = check(EN_DOSSIER)
    chapter = source.chapters[1]
    book = Epub.open(en_build.epub)
    index = book.spine.index(f"EPUB/{chapter.file_name}")
    result = render_epub_page(en_build.epub, artifacts / "en_build-phone.png", spine_index=index, width=360, height=640)
    assert chapter.title_plain in result.visible_text
    assert result.location["pages"] >= 2
    # every word of the first screen is inside the screen: the first paragraph reads whole
    first = _text(book.docs[f"EPUB/{chapter.file_name}"].find(".//h:p[@class='summary']", NS))
    assert first in result.visible_text


def test_epubjs_shows_the_quote_index_with_page_numbers(default_build, artifacts):
    _, source = check(DEFAULT_DOSSIER)
    book = Epub.open(default_build.epub)
    index = book.spine.index("EPUB/text/quote-index.xhtml")
    result = render_epub_page(default_build.epub, artifacts / "default_build-quote-index.png", spine_index=index)
    assert source.strings["quote_index"] in result.visible_text
    assert re.search(re.escape(source.strings["page_short"]) + r"\s\d+", result.visible_text)


def test_a_dossiers_jpeg_cover_is_the_epub_cover(make_dossier, tmp_path):
    """Stores show the cover-image: a dossier's own JPEG is used as it is, not replaced."""
    import io

    from PIL import Image

    from report.pipeline import BuildOptions, build

    picture = io.BytesIO()
    Image.new("RGB", (600, 900), (20, 60, 120)).save(picture, format="JPEG")
    root = make_dossier(
        {
            "dossier.yaml": "title: Cover test\nlanguage: en\ndate: '2024-01-02'\ncover: cover.jpg\n",
            "01-a.yaml": "title: A\nbody: Text.\n",
            "cover.jpg": picture.getvalue(),
        }
    )
    result = build(root, BuildOptions(out_dir=tmp_path / "out", formats=("epub",)))
    epub = result.outputs[0].path
    with zipfile.ZipFile(epub) as z:
        assert z.read("EPUB/images/cover.jpg") == picture.getvalue()
        opf = z.read("EPUB/content.opf").decode()
        cover_page = z.read("EPUB/text/cover.xhtml").decode()
    assert re.search(r'<item[^>]*href="images/cover.jpg"[^>]*properties="cover-image"', opf) or re.search(
        r'<item[^>]*properties="cover-image"[^>]*href="images/cover.jpg"', opf
    ), opf
    assert "image/jpeg" in opf and 'src="../images/cover.jpg"' in cover_page
    messages = run_epubcheck([epub])[epub]
    assert summarize(messages) == (0, 0, 0), format_epubcheck_messages(messages)
