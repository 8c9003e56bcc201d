"""Every language and script: the same small dossier in 16 languages, built for real and checked.

Each dossier (tests/support/language_samples.py) has a footnote, two placed quotes (one with a
quotation inside it), two events dated by month and a joint statement. Every edition is built;
the EPUBs go through EPUBCheck (one JVM) and Ace; the PDFs through poppler. The language data
without builds (tables, order, fallbacks, the located missing-glyph error): tests/unit/test_languages.py.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from report.pipeline import BuildOptions, build, check
from tests.support.ace import ace_violations, format_ace_violations, run_ace
from tests.support.epubcheck import run_epubcheck, summarize
from tests.support.language_samples import MATRIX, SAMPLES, write_language_dossier
from tests.support.pdftext import flatten, pdf_pages
from tests.visual import compare as visual

pytestmark = pytest.mark.slow  # 16 real builds, EPUBCheck, Ace and poppler

MM = 72 / 25.4
RTL = {"ar", "he", "fa"}
BOOK = {"ar", "ja"}  # built in the book layout (duplex, mirrored margins); the rest as briefings
SHAPED = {"hi", "th"}  # scripts whose glyphs poppler cannot map back to text letter for letter
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")

# What a reader of each language expects, written here by hand (not read from the code under test):
# the primary and secondary quotation marks, the word for "Contents" and February 2018 in CLDR's
# month-year pattern.
EXPECTED = {
    "de": ("„“", "‚‘", "Inhalt", "Februar 2018"),
    "en": ("“”", "‘’", "Contents", "February 2018"),
    "fr": (("«\u202f", "\u202f»"), "“”", "Table des matières", "février 2018"),
    "pl": ("„”", "«»", "Spis treści", "luty 2018"),
    "cs": ("„“", "‚‘", "Obsah", "únor 2018"),
    "ru": ("«»", "„“", "Содержание", "февраль 2018"),
    "el": ("«»", "“”", "Περιεχόμενα", "Φεβρουάριος 2018"),
    "tr": ("“”", "‘’", "İçindekiler", "Şubat 2018"),
    "ar": ("«»", "“”", "المحتويات", "فبراير"),
    "he": ("””", "’’", "תוכן העניינים", "פברואר"),
    "fa": ("«»", "‹›", "فهرست مطالب", "فوریه"),
    "hi": ("“”", "‘’", "विषय-सूची", "फ़रवरी 2018"),
    "th": ("“”", "‘’", "สารบัญ", "กุมภาพันธ์ 2018"),
    "ja": ("「」", "『』", "目次", "2018年2月"),
    "zh-Hans": ("“”", "‘’", "目录", "2018年2月"),
    "ko": ("“”", "‘’", "목차", "2018년 2월"),
}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """Every language of the matrix built into all three editions (and the handout for two)."""
    base = tmp_path_factory.mktemp("languages")
    built: dict[str, dict[str, Path]] = {}
    for tag in MATRIX:
        root = write_language_dossier(base / tag, tag, layout="book" if tag in BOOK else "")
        formats = ("pdf", "epub", "html", "handout") if tag in ("ar", "ja") else ()
        result = build(root, BuildOptions(out_dir=base / f"out-{tag}", formats=formats))
        assert not result.warnings, (tag, result.warnings)
        built[tag] = {w.kind: w.path for w in result.outputs}
        built[tag]["root"] = root
    return built


def _pdf_text(pdf: Path) -> str:
    return flatten("\n".join(pdf_pages(pdf)))


def test_every_edition_builds_and_passes_epubcheck(matrix):
    for tag, files in matrix.items():
        assert {"pdf", "epub", "html"} <= set(files), tag
    results = run_epubcheck([files["epub"] for files in matrix.values()])
    for tag, files in matrix.items():
        assert summarize(results[files["epub"]]) == (0, 0, 0), (tag, results[files["epub"]])


def test_ace_finds_no_violation_in_any_language(matrix, tmp_path):
    def one(tag: str):
        return tag, ace_violations(run_ace(matrix[tag]["epub"], tmp_path / tag))

    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores: two Ace runs at a time
        for tag, violations in pool.map(one, MATRIX):
            assert not violations, (tag, format_ace_violations(violations))


@pytest.mark.parametrize("tag", MATRIX)
def test_pdf_embeds_its_fonts_and_gives_back_every_word(tag, matrix):
    pdf = matrix[tag]["pdf"]
    rows = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert rows
    for row in rows:
        assert row.split()[-5:-3] == ["yes", "yes"], row  # embedded, subset
    text = _pdf_text(pdf)
    assert "\ufffd" not in text
    title, chapter, paragraph, note, _, quote_b, event_a, event_b, name_a, name_b = SAMPLES[tag]
    for words in (chapter, note, quote_b, event_b, name_b):
        if tag in SHAPED:
            # WeasyPrint writes one ToUnicode entry per glyph, taken from the glyph's first use: a
            # Devanagari conjunct or reph, a Thai sara am, shared by two words reads back as the first
            # word's letters (the page itself is right: looked at). Every letter must still come back.
            assert set(words) - set(" .,।") <= set(text), (tag, set(words) - set(text))
        elif tag in RTL:
            # poppler may return a right-to-left or Thai line in another order of its words: every word must be there
            for word in re.findall(r"\w+", words):
                assert word in text, (tag, word)
        else:
            assert flatten(words) in text, (tag, words)


@pytest.mark.parametrize("tag", MATRIX)
def test_marks_words_and_months_of_the_language(tag, matrix):
    primary, secondary, contents, february = EXPECTED[tag]
    text = _BIDI_CONTROLS.sub("", _pdf_text(matrix[tag]["pdf"]))
    html = matrix[tag]["html"].read_text(encoding="utf-8")
    _, _, _, _, quote_a, quote_b, *_ = SAMPLES[tag]
    inner = re.search(r'"(.*?)"', quote_a).group(1)
    # primary marks around the quotation, secondary around the quotation inside it
    assert f"{primary[0]}{quote_b}{primary[-1]}" in html, (tag, primary)
    assert f"{secondary[0]}{inner}{secondary[-1]}" in html, (tag, secondary)
    if tag in RTL or tag in SHAPED:  # poppler gives these lines in visual order or with other letters
        assert all(mark in text for mark in (*primary, *secondary)), (tag, primary, secondary)
    else:
        assert flatten(f"{secondary[0]}{inner}{secondary[-1]}") in text, (tag, secondary)
        assert flatten(f"{primary[0]}{quote_b}{primary[-1]}") in text, (tag, primary)
    assert contents in text and contents in html, tag
    for word in february.split():
        assert word in text, (tag, february)
    assert '"' not in re.sub(r"<[^>]*>", "", html.split("<body", 1)[1]).replace("&#34;", '"'), tag


@pytest.mark.parametrize("tag", MATRIX)
def test_direction_and_language_on_every_root(tag, matrix):
    direction = "rtl" if tag in RTL else "ltr"
    html = matrix[tag]["html"].read_text(encoding="utf-8")
    assert re.search(rf'<html lang="{tag}" dir="{direction}"', html), tag
    with zipfile.ZipFile(matrix[tag]["epub"]) as epub:
        opf = epub.read("EPUB/content.opf").decode()
        spine = re.search(r"<spine[^>]*>", opf).group(0)
        assert ('page-progression-direction="rtl"' in spine) == (direction == "rtl"), spine
        for name in epub.namelist():
            if name.endswith(".xhtml"):
                root = re.search(r"<html [^>]*>", epub.read(name).decode()).group(0)
                assert f'xml:lang="{tag}"' in root and f'dir="{direction}"' in root, (name, root)


@pytest.mark.parametrize("tag", MATRIX)
def test_no_line_leaves_the_text_block(tag, matrix):
    """Every word of every page (but the cover) inside the page's text block, mirrored margins."""
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(matrix[tag]["pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    for number, page in enumerate(re.findall(r"<page [^>]*>(.*?)</page>", bbox, re.S), start=1):
        if number == 1:
            continue
        if tag in BOOK:  # right to left, page 1 is a left-hand page: the parity of left and right pages flips
            right_page = (number % 2 == 1) != (tag in RTL)
            left_edge, right_edge = (17 * MM, (210 - 24) * MM) if right_page else (24 * MM, (210 - 17) * MM)
        else:  # the briefing: the same margins on every page
            left_edge, right_edge = 20 * MM, (210 - 20) * MM
        for x_min, x_max, word in re.findall(r'xMin="([\d.]+)"[^>]*xMax="([\d.]+)"[^>]*>([^<]*)<', page):
            assert float(x_min) >= left_edge - 0.5 and float(x_max) <= right_edge + 0.5, (
                tag,
                number,
                word,
                float(x_min) / MM,
                float(x_max) / MM,
            )


def test_right_to_left_pages_are_mirrored(matrix):
    """The Arabic chapter heading stands at the right edge of the text block, the folio outside."""
    bbox = subprocess.run(
        ["pdftotext", "-bbox", "-f", "5", "-l", "5", str(matrix["ar"]["pdf"]), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    words = [
        (float(a), float(b), w) for a, b, w in re.findall(r'xMin="([\d.]+)"[^>]*xMax="([\d.]+)"[^>]*>([^<]*)<', bbox)
    ]
    heading = next(w for w in words if w[2] in ("القرار", "القرار"[::-1]))  # poppler: visual order
    folio = next(w for w in words if w[2] == "5")
    # page 5 of a right-to-left book is a left-hand page: text block from 24mm to 193mm
    assert abs(heading[1] - (210 - 17) * MM) < 2, heading
    assert folio[0] < 30 * MM, folio  # the folio on the outer (left) edge


def test_right_to_left_briefing_has_its_head_and_foot_mirrored(tmp_path):
    """A Persian briefing: the dossier's title at the top right, "page x of y" at the bottom left."""
    root = write_language_dossier(tmp_path / "fa", "fa")
    chapter = root / "01-chapter.yaml"
    paragraph = SAMPLES["fa"][2]
    long_body = "\n\n".join(f"  {paragraph} " * 6 for _ in range(14))  # a chapter of two pages or more
    chapter.write_text(
        chapter.read_text(encoding="utf-8").replace("body: |\n", f"body: |\n{long_body}\n\n", 1), encoding="utf-8"
    )
    result = build(root, BuildOptions(out_dir=tmp_path / "out", formats=("pdf",)))
    pdf = next(w.path for w in result.outputs if w.kind == "pdf")
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    half = 105 * MM
    title_words = {w[::-1] for w in SAMPLES["fa"][0].split()} | set(SAMPLES["fa"][0].split())
    heads = feet = 0
    for page in re.findall(r"<page [^>]*>(.*?)</page>", bbox, re.S)[1:]:  # the cover has no head or foot
        words = [
            (float(x0), float(y0), float(x1), w)
            for x0, y0, x1, w in re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"[^>]*>([^<]*)<', page)
        ]
        head = [w for w in words if w[1] < 18 * MM and w[3] in title_words]  # in the top margin
        foot = [w for w in words if w[1] > (297 - 26) * MM]
        assert all(w[0] > half for w in head), head  # the title on the right
        assert all(w[2] < half for w in foot), foot  # page x of y on the left
        heads += bool(head)
        feet += bool(foot)
    assert heads >= 1 and feet >= 3, (heads, feet)


def test_right_to_left_handout_is_bound_on_the_right(matrix):
    """Folded, an Arabic booklet opens from the right: page 1 on the left half of the first side."""
    from pypdf import PdfReader

    reader = PdfReader(matrix["ar"]["handout"])
    assert ":1|" in reader.page_labels[0], reader.page_labels[0]  # (left|right) on side 1a
    bbox = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(matrix["ar"]["handout"]), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    xs = [float(x) for x in re.findall(r'xMin="([\d.]+)"', bbox)]
    assert xs and max(xs) < 841.89 / 2, "page 1 of a right-to-left booklet belongs on the left half"


def test_thai_and_cjk_are_neither_justified_nor_hyphenated(matrix):
    for tag in ("th", "ja", "zh-Hans"):
        text = "\n".join(pdf_pages(matrix[tag]["pdf"]))
        assert "\u2010" not in text and "-\n" not in text, tag
    book = check(matrix["th"]["root"])[1]
    assert book is not None and not book.language.uses_spaces


@pytest.mark.parametrize("tag,page,reference", [("ar", 5, "ar-p05-chapter.png"), ("ja", 5, "ja-p05-chapter.png")])
def test_pages_look_as_designed(tag, page, reference, matrix, tmp_path):
    rendered = visual.render_page(matrix[tag]["pdf"], page, tmp_path)
    visual.compare(rendered, reference, tmp_path, update=visual.updating())


def test_other_scripts_in_a_latin_dossier_get_their_noto_fonts(make_dossier, tmp_path):
    root = make_dossier(
        {
            "dossier.yaml": "title: Test\nlanguage: de\n",
            "01-c.yaml": "title: Kapitel\nbody: |\n  Der Name नमस्ते steht neben 東京 und Ωμέγα λόγος αβγδεζηθ.\n",
        }
    )
    result = build(root, BuildOptions(out_dir=tmp_path / "out", formats=("pdf",)))
    pdf = next(w.path for w in result.outputs if w.kind == "pdf")
    fonts_used = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "Noto-Serif-Devanagari" in fonts_used and "CJK-SC" in fonts_used and "Inter" in fonts_used
    text = _pdf_text(pdf)
    assert "नमस्ते" in text and "東京" in text and "Ωμέγα" in text
    # one typeface for the Greek words: every Greek letter drawn with Inter, none with Charis SIL
    from pypdf import PdfReader

    greek_fonts: set[str] = set()

    def visit(text, cm, tm, font, size):
        if font and any("\u0370" <= ch <= "\u03ff" for ch in text):
            greek_fonts.add(str(font["/BaseFont"]).split("+")[-1])

    for page in PdfReader(pdf).pages:
        page.extract_text(visitor_text=visit)
    assert greek_fonts and all(name.startswith("Inter") for name in greek_fonts), greek_fonts


def test_greek_is_set_in_one_typeface(matrix):
    """Charis SIL has 22 of the Greek letters: Greek text is set in Inter alone, never mixed."""
    rows = subprocess.run(["pdffonts", str(matrix["el"]["pdf"])], capture_output=True, text=True).stdout
    names = {row.split()[0].split("+")[-1] for row in rows.splitlines()[2:]}
    assert not any(name.startswith("Charis") for name in names), names


def test_korean_lines_break_between_words(make_dossier, tmp_path):
    """Korean breaks at spaces, never between two syllables of a word (WeasyPrint has no keep-all)."""
    sentence = "오랜 토론 끝에 의회는 다리를 다시 짓기로 의결했다."
    root = make_dossier(
        {
            "dossier.yaml": "title: 다리\nlanguage: ko\n",
            "01-c.yaml": f"title: 결정\nbody: |\n  {sentence * 1} {sentence * 1}"
            f" {sentence} {sentence} {sentence} {sentence} {sentence} {sentence}\n",
        }
    )
    result = build(root, BuildOptions(out_dir=tmp_path / "out", formats=("pdf",)))
    assert not result.warnings
    pdf = next(w.path for w in result.outputs if w.kind == "pdf")
    words = set(sentence.split())
    lines = [line for line in "\n".join(pdf_pages(pdf)).splitlines() if "의결했다" in line or "토론" in line]
    assert len(lines) >= 2  # the paragraph runs over several lines
    for line in lines:
        assert "\u2060" not in line  # the joiners draw nothing and are not in the text
        for word in line.split():
            assert word in words, (word, line)  # every line holds whole words only


def test_an_empty_box_that_slips_past_the_check_stops_the_build(make_dossier, tmp_path, capsys):
    """Text the glyph check cannot see (a dossier's own template) and no font draws: an error, no PDF."""
    from report.cli import main

    root = make_dossier(
        {
            "dossier.yaml": "title: Test\nlanguage: de\n",
            "01-c.yaml": "title: Kapitel\nbody: Text.\n",
            "templates/imprint.html": '<section class="imprint" id="imprint"><h1>Impressum \u0378</h1></section>\n',
        }
    )
    out = tmp_path / "out"
    assert main(["build", str(root), "--out", str(out), "--pdf"]) == 1
    printed = capsys.readouterr()
    assert "error" in printed.err + printed.out and ".notdef" in printed.err + printed.out
    assert not list(out.glob("*.pdf"))


def test_a_draft_watermark_in_a_script_that_joins_is_shaped(tmp_path):
    """WeasyPrint's SVG text leaves Arabic unjoined: the Arabic draft word is drawn by Raqm (an image)."""
    counts = {}
    for tag in ("ar", "ja"):
        root = write_language_dossier(tmp_path / tag, tag)
        meta = root / "dossier.yaml"
        meta.write_text(meta.read_text(encoding="utf-8") + "status: draft\n", encoding="utf-8")
        result = build(root, BuildOptions(out_dir=tmp_path / f"out-{tag}", formats=("pdf",)))
        assert not result.warnings
        pdf = next(w.path for w in result.outputs if w.kind == "pdf")
        listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
        counts[tag] = len(listing.splitlines()[2:])
    assert counts["ar"] >= 1  # the shaped word, as a picture behind every page
    assert counts["ja"] == 0  # kana and kanji need no shaping: the SVG text draws them
