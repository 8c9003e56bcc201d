"""The EPUB through Calibre, the Kindle path: EPUB -> AZW3 (KF8), read back by Calibre's own parser.

Calibre is a second reading system that is no browser: it does not honour `hidden`, it
reads the EPUB 2 guide rather than the nav's landmarks, and it is how most people put a
non-Amazon EPUB on a Kindle. One conversion per dossier (module-scoped), then
`calibre-debug --explode-book` unpacks the AZW3 into the XHTML parts, the OPF (spine,
guide, page-progression-direction) and the NCX the Kindle reads.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html
from PIL import Image

from report.pipeline import BuildOptions, build, check
from tests.support.ace import ace_violations, format_ace_violations, run_ace
from tests.support.epubcheck import format_epubcheck_messages, run_epubcheck, summarize

from .conftest import DEFAULT_DOSSIER, EN_DOSSIER, write_files

pytestmark = pytest.mark.slow  # real builds and real Calibre

OPF = "http://www.idpf.org/2007/opf"
NCX = "http://www.daisy.org/z3986/2005/ncx/"
NS = {"opf": OPF, "ncx": NCX}

# A small fictional dossier in Arabic: right to left, two chapters, quotations, footnotes.
AR_DOSSIER = {
    "dossier.yaml": """\
        title: "مكتبة النهر"
        subtitle: "كيف قررت بلدة خيالية أن تبني مكتبة جديدة"
        language: ar
        authors:
          - "سلمى الحداد"
        publisher: "دار البلدة الخيالية"
        date: "2025-06-01"
        description: "ملف اختباري خيالي عن نقاش مجلس بلدي حول مكتبة جديدة."
        """,
    "01-al-iqtirah.yaml": """\
        title: "الاقتراح"
        id: al-iqtirah
        summary: "في عام 2019 اقترحت لجنة صغيرة بناء مكتبة جديدة على ضفة النهر."
        body: |
          كانت في البلدة مكتبة قديمة وصغيرة. في عام 2019 نشرت لجنة الثقافة ورقة قصيرة
          تقترح بناء مكتبة جديدة على ضفة النهر.[^1]

          قدّمت رئيسة اللجنة ليلى منصور الورقة في اجتماع عام مزدحم.

          [[quote:mansour-bidaya]]

          لم يقتنع الجميع، فقد طلب عضو المجلس كريم سعيد دراسة كاملة للتكاليف قبل أي تصويت.

          [^1]: أُضيفت خريطة الموقع إلى الورقة بطلب من مهندسة شابة.
        events:
          - date: "2019"
            title: "لجنة الثقافة تقترح مكتبة جديدة"
            text: "ورقة قصيرة تقترح بناء مكتبة على ضفة النهر."
        quotes:
          - id: mansour-bidaya
            speaker: "ليلى منصور"
            text: "هذه نقطة بداية، وليست خطة كاملة."
            date: "2019"
            context: "اجتماع عام للجنة الثقافة"
        """,
    "02-at-taswit.yaml": """\
        title: "التصويت"
        id: at-taswit
        summary: "في عام 2021 وافق المجلس على المشروع بأغلبية كبيرة."
        body: |
          بعد عامين من النقاش عُرضت الدراسة على المجلس، فوافق على المشروع بأغلبية كبيرة.[^1]

          [[quote:said-arqam]]

          [^1]: صوّت سبعة أعضاء لصالح المشروع وعارضه عضوان.
        events:
          - date: "2021-03-10"
            title: "المجلس يوافق على المكتبة"
            text: "تصويت المجلس على مشروع المكتبة الجديدة."
        quotes:
          - id: said-arqam
            speaker: "كريم سعيد"
            text: "الأرقام أقنعتني، وسأصوّت لصالح المكتبة."
            date: "2021-03-10"
            context: "جلسة المجلس البلدي"
        """,
}


def _calibre_env(home: Path) -> dict[str, str]:
    """Calibre run headless, with its configuration in the test's own folder."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "HOME": str(home),
        "CALIBRE_CONFIG_DIRECTORY": str(home / "config"),
        "CALIBRE_TEMP_DIR": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        "LANG": "C.UTF-8",
    }


@pytest.fixture(scope="module")
def calibre_home(tmp_path_factory) -> Path:
    if shutil.which("ebook-convert") is None or shutil.which("calibre-debug") is None:
        message = "Calibre's ebook-convert is not installed (Debian package calibre; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # in CI a missing reading system is a failure, never a skip
        pytest.skip(message)
    return tmp_path_factory.mktemp("calibre-home")


@dataclass
class Kindle:
    """An AZW3 made by Calibre from one of our EPUBs, exploded back by Calibre."""

    epub: Path
    azw3: Path
    root: Path  # the exploded book
    opf: etree._Element
    spine: list[Path]  # the text parts, in reading order
    docs: dict[Path, etree._Element]
    ncx: etree._Element

    def text(self, doc: Path | None = None) -> str:
        parts = [doc] if doc else self.spine
        return "\n".join(_text(self.docs[p]) for p in parts)

    def h1(self, doc: Path) -> str:
        heading = self.docs[doc].find(".//h1")
        return _text(heading) if heading is not None else ""


def _text(element) -> str:
    return re.sub(r"\s+", " ", element.text_content()).strip()


def _page_list_labels(epub: Path) -> list[str]:
    """The labels of the EPUB's page list, in order."""
    with zipfile.ZipFile(epub) as z:
        nav = etree.fromstring(z.read("EPUB/nav.xhtml"))
    xhtml = "{http://www.w3.org/1999/xhtml}"
    return [
        a.text
        for n in nav.iter(f"{xhtml}nav")
        if n.get("{http://www.idpf.org/2007/ops}type") == "page-list"
        for a in n.iter(f"{xhtml}a")
    ]


def _words(text: str) -> str:
    """Words separated by one space (a no-break space between number and title counts as one)."""
    return " ".join(text.split())


def _convert(epub: Path, work: Path, home: Path) -> Kindle:
    env = _calibre_env(home)
    azw3 = work / "book.azw3"
    for command in (
        ["ebook-convert", str(epub), str(azw3)],
        ["calibre-debug", "--explode-book", str(azw3), str(work / "exploded")],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
    root = work / "exploded"
    opf = etree.parse(str(next(root.glob("*.opf")))).getroot()
    manifest = {i.get("id"): i.get("href") for i in opf.iterfind(".//opf:manifest/opf:item", NS)}
    spine = [root / manifest[r.get("idref")] for r in opf.iterfind(".//opf:spine/opf:itemref", NS)]
    docs = {p: lxml_html.document_fromstring(p.read_bytes()) for p in spine}
    ncx = etree.parse(str(root / "toc.ncx")).getroot()
    return Kindle(epub, azw3, root, opf, spine, docs, ncx)


@pytest.fixture(scope="module")
def ar_build(tmp_path_factory) -> tuple[Path, Path]:
    """The Arabic dossier's EPUB (only the EPUB: this test is about the Kindle path)."""
    root = write_files(tmp_path_factory.mktemp("ar") / "dossier", AR_DOSSIER)
    result = build(root, BuildOptions(out_dir=root.parent / "out", formats=("epub",)))
    return root, next(w.path for w in result.outputs if w.kind == "epub")


@pytest.fixture(scope="module")
def kindles(request, calibre_home, tmp_path_factory, ar_build) -> dict[str, tuple[Path, Kindle]]:
    """Each dossier's EPUB converted once: {name: (dossier folder, Calibre's AZW3 read back)}."""
    sources = {
        "default": (DEFAULT_DOSSIER, request.getfixturevalue("default_build").epub),
        "en": (EN_DOSSIER, request.getfixturevalue("en_build").epub),
        "ar": ar_build,
    }
    return {
        name: (root, _convert(epub, tmp_path_factory.mktemp(f"kindle-{name}"), calibre_home))
        for name, (root, epub) in sources.items()
    }


DOSSIERS = ["default", "en", "ar"]


def _book(kindles, which):
    root, kindle = kindles[which]
    _, book = check(root)
    return book, kindle


@pytest.mark.parametrize("which", DOSSIERS)
def test_no_hidden_navigation_shows_as_text(which, kindles):
    book, kindle = _book(kindles, which)
    s = book.strings
    text = kindle.text()
    # the landmarks and the page list are navigation for the reading system, never text
    assert s["landmarks"] not in text
    assert s["page_list"] not in text
    landmark_run = re.compile(r"\s*".join(re.escape(w) for w in (s["cover"], s["contents"], s["start"])))
    assert not landmark_run.search(text)
    # no run of the page list's labels ("5 6 7 ... 24", as the page list showed them)
    labels = _page_list_labels(kindle.epub)
    assert len(labels) >= 3  # the EPUB has a page list to leak
    for window in zip(labels, labels[1:], labels[2:], strict=False):  # the windows of three
        assert not re.search(r"(?<!\S)" + r"\s+".join(window) + r"(?!\S)", text), window
    # nor Calibre's own inline contents (an English "Table of Contents" at the end)
    assert not any(kindle.docs[d].find(".//body[@id='calibre_generated_inline_toc']") is not None for d in kindle.spine)


@pytest.mark.parametrize("which", DOSSIERS)
def test_contents_shown_once_first_and_chapters_in_order(which, kindles):
    book, kindle = _book(kindles, which)
    s = book.strings
    expected = (
        ([s["key_points"]] if book.key_points else [])
        + [f"{c.number}\u00a0{c.title_plain}" for c in book.chapters]
        + [s[a.title_key] for a in book.appendices]
    )
    headings = [_words(kindle.h1(doc)) for doc in kindle.spine]
    # reading order: the contents, the key points, the chapters, the appendices; the contents only once
    assert headings[0] == s["contents"]
    assert headings.count(s["contents"]) == 1
    assert headings[1:] == [_words(e) for e in expected]
    contents = kindle.docs[kindle.spine[0]]
    assert [_words(_text(a)) for a in contents.iter("a")] == [_words(e) for e in expected]
    # the Kindle's "Go to" menu (the NCX of the AZW3) lists the same
    ncx = [t.text for t in kindle.ncx.iterfind(".//ncx:navPoint/ncx:navLabel/ncx:text", NS)]
    assert [_words(n) for n in ncx] == [_words(e) for e in expected]
    # the contents is the guide's toc: Calibre made no contents page of its own
    toc = kindle.opf.find(".//opf:guide/opf:reference[@type='toc']", NS)
    assert toc is not None and (kindle.root / toc.get("href").partition("#")[0]) == kindle.spine[0]


@pytest.mark.parametrize("which", DOSSIERS)
def test_contents_links_lead_to_their_chapters(which, kindles):
    _, kindle = _book(kindles, which)
    contents_doc = kindle.spine[0]
    links = list(kindle.docs[contents_doc].iter("a"))
    assert links
    for link in links:
        href, _, fragment = link.get("href").partition("#")
        target = (contents_doc.parent / href).resolve()
        assert target in kindle.docs, link.get("href")
        root = kindle.docs[target]
        if fragment:
            anchor = root.get_element_by_id(fragment, None)
            assert anchor is not None, link.get("href")
        # the entry's title is the heading of the document it leads to
        assert _words(kindle.h1(target)) == _words(_text(link)), link.get("href")


@pytest.mark.parametrize("which", DOSSIERS)
def test_every_quotation_verbatim(which, kindles):
    book, kindle = _book(kindles, which)
    text = kindle.text()
    quotes = [q for c in book.chapters for q in c.quotes.values()]
    assert quotes
    for quote in quotes:
        assert quote.text_plain in text, quote.id


@pytest.mark.parametrize("which", DOSSIERS)
def test_footnotes_stay_footnotes(which, kindles):
    book, kindle = _book(kindles, which)
    expected = sum(len(c.footnotes["epub"]) for c in book.chapters)
    found = 0
    for doc in kindle.spine:
        root = kindle.docs[doc]
        for ref in root.xpath(".//a[@role='doc-noteref']"):
            href, _, fragment = ref.get("href").partition("#")
            assert (doc.parent / href).resolve() == doc.resolve()  # the note is in the same part
            note = root.get_element_by_id(fragment)
            # still an aside typed footnote (what a Kindle pops up), with its way back
            assert note.tag == "aside" and note.get("type") == "footnote", note.tag
            back = note.xpath(".//a[@role='doc-backlink']")
            assert back and back[0].get("href").partition("#")[2] == ref.get("id")
            assert _text(note).startswith(_text(ref))
            found += 1
    assert found == expected and found > 0


@pytest.mark.parametrize("which", DOSSIERS)
def test_the_cover_is_the_books_cover_image(which, kindles):
    _, kindle = _book(kindles, which)
    cover = kindle.opf.find(".//opf:guide/opf:reference[@type='cover']", NS)
    assert cover is not None
    image_path = kindle.root / cover.get("href")
    # the first resource of the AZW3 (the Kindle's cover record) ...
    images = sorted(p.name for p in (kindle.root / "images").iterdir())
    assert image_path.name == images[0]
    # ... is the EPUB's cover image, pixel for pixel
    with zipfile.ZipFile(kindle.epub) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
        item = next(
            i
            for i in opf.iterfind(".//opf:manifest/opf:item", NS)
            if "cover-image" in (i.get("properties") or "").split()
        )
        original = Image.open(BytesIO(z.read(f"EPUB/{item.get('href')}"))).convert("RGB")
    converted = Image.open(image_path).convert("RGB")
    assert converted.size == original.size
    if item.get("href").endswith(".png"):
        assert converted.tobytes() == original.tobytes()
    # Calibre keeps no second, HTML cover page in the text: the Kindle shows the cover record
    assert not any(doc.find(".//img") is not None and not _text(doc) for doc in kindle.docs.values())


def _css_rules(kindle: Kindle) -> dict[str, str]:
    """Calibre's flattened stylesheets: {class name: declarations}."""
    css = "\n".join(p.read_text(encoding="utf-8") for p in sorted((kindle.root / "styles").glob("*.css")))
    return {m.group(1): m.group(2) for m in re.finditer(r"\.([\w-]+)\s*\{([^}]*)\}", css)}


@pytest.mark.parametrize("which,direction", [("default", "ltr"), ("en", "ltr"), ("ar", "rtl")])
def test_direction_survives(which, direction, kindles):
    _, kindle = _book(kindles, which)
    # the Kindle turns pages the book's way (EXTH page-progression-direction)
    spine = kindle.opf.find(".//opf:spine", NS)
    assert (spine.get("page-progression-direction") or "ltr") == direction
    # Calibre's KF8 skeleton drops <html dir> (it keeps lang, class, style): the body holds it
    rules = _css_rules(kindle)
    for doc in kindle.spine:
        assert kindle.docs[doc].find(".//body").get("dir") == direction, doc.name
        if direction == "rtl":  # and no heading forced to the left
            for heading in kindle.docs[doc].iter("h1", "h2", "h3"):
                declared = " ".join(rules.get(c, "") for c in (heading.get("class") or "").split())
                assert "text-align: left" not in declared, (doc.name, _text(heading))


def test_arabic_epub_is_right_to_left_and_valid(ar_build):
    _, epub = ar_build
    with zipfile.ZipFile(epub) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
        assert opf.find(".//opf:spine", NS).get("page-progression-direction") == "rtl"
        for name in z.namelist():
            if name.endswith(".xhtml"):
                root = etree.fromstring(z.read(name))
                assert root.get("dir") == "rtl" and root.get("lang") == "ar", name
                assert root.find("{http://www.w3.org/1999/xhtml}body").get("dir") == "rtl", name
    messages = run_epubcheck([epub])[epub]
    assert summarize(messages) == (0, 0, 0), format_epubcheck_messages(messages)


def test_arabic_epub_passes_ace(ar_build, tmp_path):
    _, epub = ar_build
    violations = ace_violations(run_ace(epub, tmp_path / "ace"))
    assert violations == [], format_ace_violations(violations)
