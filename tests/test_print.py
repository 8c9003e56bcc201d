"""The print edition: fonts, tags, page design, print-shop output, the handout and the look of pages."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from report.cli import main
from report.pipeline import BuildOptions, build, check
from report.writers.handout import A4_LANDSCAPE, booklet_order
from tests.support.pdftext import flatten, page_of, pdf_pages
from tests.visual import compare as visual

from .conftest import DEFAULT_DOSSIER, EN_DOSSIER

pytestmark = pytest.mark.slow  # real builds, poppler and page images

MM = 72 / 25.4  # points per millimetre


def _pages(pdf: Path) -> list[str]:
    """Page texts with hyphenation undone: WeasyPrint breaks words with U+2010, unlike a hard "-"."""
    return [text.replace("\u2010\n", "") for text in pdf_pages(pdf)]


def _opening_page(pages: list[str], heading: str) -> int:
    """The page (1-based) a chapter or appendix opens on: the one whose text starts with its heading."""
    return next(n for n, text in enumerate(pages, start=1) if text.lstrip().startswith(heading))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:  # a missing tool fails the test: it must never pass by skipping
        raise AssertionError(f"{name} is missing: apt-get install poppler-utils")
    return path


def _run(*args: str) -> str:
    return subprocess.run([_tool(args[0]), *args[1:]], check=True, capture_output=True).stdout.decode()


def _pdfinfo(pdf: Path, *extra: str) -> dict[str, str]:
    info = {}
    for line in _run("pdfinfo", *extra, str(pdf)).splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def _page_boxes(pdf: Path, page: int) -> dict[str, tuple[float, ...]]:
    out = _run("pdfinfo", "-box", "-f", str(page), "-l", str(page), str(pdf))
    boxes = {}
    for match in re.finditer(r"Page\s+\d+\s+(\w+Box):\s+([-\d.\s]+)", out):
        boxes[match.group(1)] = tuple(float(x) for x in match.group(2).split())
    return boxes


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> dict[str, Path]:
    """The English dossier built with the print options: A5 for a print shop, Letter on screen as PDF/A."""
    out = tmp_path_factory.mktemp("variants")
    built = {}
    for name, flags in {
        "a5-shop": ["--page-size", "A5", "--bleed", "3mm", "--marks"],
        "letter-screen-pdfa": ["--page-size", "Letter", "--screen", "--pdf-variant", "pdf/a-3b"],
    }.items():
        assert main(["build", str(EN_DOSSIER), "--out", str(out / name), "--pdf", "--quiet", *flags]) == 0
        built[name] = next((out / name).glob("*.pdf"))
    return built


@pytest.fixture(scope="module")
def handout(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("handout")
    result = build(DEFAULT_DOSSIER, BuildOptions(out_dir=out, formats=("html", "handout")))
    (path,) = [w.path for w in result.outputs if w.kind == "handout"]
    assert path.name.endswith("-handout.pdf")
    return path


# Fonts, tags, standards -------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["default_build", "en_build"])
def test_every_font_is_a_shipped_font_embedded_and_subset(which, request):
    pdf = request.getfixturevalue(which).pdf
    rows = _run("pdffonts", str(pdf)).splitlines()[2:]
    assert rows
    for row in rows:
        name, emb, sub = row.split()[0], row.split()[-5], row.split()[-4]
        assert (emb, sub) == ("yes", "yes"), row
        assert re.match(r"[A-Z]{6}\+(Charis-SIL|Inter)", name), row  # no machine font slipped in


def test_handout_fonts_are_embedded(handout):
    for row in _run("pdffonts", str(handout)).splitlines()[2:]:
        assert row.split()[-5] == "yes", row


@pytest.mark.parametrize("which,lang", [("default_build", "de"), ("en_build", "en")])
def test_pdf_is_tagged_with_language_and_title(which, lang, request):
    from pypdf import PdfReader

    built = request.getfixturevalue(which)
    _, book = check(built.root)
    info = _pdfinfo(built.pdf)
    assert info["Tagged"] == "yes"
    assert info["Title"] == book.title
    root = PdfReader(built.pdf).trailer["/Root"]
    assert root["/Lang"] == lang
    assert root["/MarkInfo"]["/Marked"]
    assert "/StructTreeRoot" in root


@pytest.mark.parametrize("which", ["default_build", "en_build", "default_runs_build", "en_runs_build"])
def test_pdfua_checker_finds_nothing(which, request):
    from pdfua import validate

    report = validate(str(request.getfixturevalue(which).pdf))
    assert [(f.rule_id, f.message) for f in report.findings] == []
    assert report.exit_code == 0


def test_pdfa_3b_on_request(variants):
    from pypdf import PdfReader

    reader = PdfReader(variants["letter-screen-pdfa"])
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp) and re.search(r"pdfaid:conformance(>|=\")B", xmp), xmp[:500]
    for row in _run("pdffonts", str(variants["letter-screen-pdfa"])).splitlines()[2:]:
        assert row.split()[-5] == "yes", row


# Page design ------------------------------------------------------------------------------------


def test_page_sizes_as_asked(default_build, variants):
    assert _pdfinfo(default_build.pdf)["Page size"].startswith("595.276 x 841.89")  # A4
    assert _pdfinfo(variants["letter-screen-pdfa"])["Page size"].startswith("612 x 792")  # Letter
    trim = _page_boxes(variants["a5-shop"], 2)["TrimBox"]
    assert (round((trim[2] - trim[0]) / MM), round((trim[3] - trim[1]) / MM)) == (148, 210)  # A5


def test_bleed_and_crop_marks_for_the_print_shop(variants):
    boxes = _page_boxes(variants["a5-shop"], 3)
    media, bleed, trim = boxes["MediaBox"], boxes["BleedBox"], boxes["TrimBox"]
    for side in range(4):
        outward = 1 if side < 2 else -1  # left and bottom grow down, right and top up
        assert (trim[side] - bleed[side]) * outward >= 3 * MM - 0.1  # at least 3mm of bleed on every side
        assert (bleed[side] - media[side]) * outward >= 5 * MM  # and room outside it for the crop marks


def test_bad_bleed_is_a_user_error(capsys, tmp_path):
    assert main(["build", str(EN_DOSSIER), "--out", str(tmp_path), "--pdf", "--bleed", "lots"]) == 1
    assert "--bleed 'lots'" in capsys.readouterr().err


def test_book_chapters_open_on_right_hand_pages_and_blank_pages_stay_blank(book_pdf):
    _, book = check(DEFAULT_DOSSIER)
    pages = pdf_pages(book_pdf)
    for chapter in book.chapters:
        openings = [
            n
            for n, text in enumerate(pages, start=1)
            if re.match(rf"\s*{chapter.number}\s+{re.escape(chapter.title_plain)}", flatten(text))
        ]
        assert len(openings) == 1 and openings[0] % 2 == 1, (chapter.title_plain, openings)
    blank = [n for n, text in enumerate(pages, start=1) if not text.strip()]
    assert blank, "the print layout pads with blank left pages"
    assert all(n % 2 == 0 for n in blank)  # no head or folio on them (they would have text)


def test_screen_layout_has_no_blank_pages(variants):
    pages = pdf_pages(variants["letter-screen-pdfa"])
    assert all(text.strip() for text in pages)
    assert "Page 2 of" in pages[1]


def test_book_running_heads_and_outer_folios(book_pdf):
    """Left pages carry the dossier title, right pages the chapter; the folio is on every text page."""
    _, book = check(DEFAULT_DOSSIER)
    pages = pdf_pages(book_pdf)
    continuation = page_of(pages, book.timeline[-1].title_html.split("<")[0].strip())[-1]
    timeline_start = _opening_page(pages, book.strings["timeline"])
    assert continuation % 2 == 0 and continuation > timeline_start  # the timeline runs on to a left page
    assert pages[continuation - 1].lstrip().startswith(book.title)
    assert not pages[timeline_start - 1].lstrip().startswith(book.title)  # opening pages have no head
    assert not re.search(r"(^|\n)1\s*$", pages[0].rstrip())  # the cover carries no folio
    for number, text in enumerate(pages[1:], start=2):
        if text.strip():
            assert re.search(rf"(^|\n){number}\s*$", text.rstrip()), f"page {number} has no folio"


def test_footnote_stands_on_the_page_of_its_call(default_build):
    pages = _pages(default_build.pdf)
    call = page_of(pages, "mitgegründeten KI-Unternehmen führten.")
    note = page_of(pages, "Grundlage dieses Dossiers ist der Artikel")
    assert call == note == [3]  # the briefing: cover, key points and contents, chapter 1
    assert "„Elon Musk und OpenAI: Die E-Mails hinter dem Bruch“ von All-AI.de." in flatten(pages[2])


@pytest.mark.parametrize("which,marks", [("default_build", "„“"), ("en_build", "“”")])
def test_quotations_use_the_languages_marks(which, marks, request):
    built = request.getfixturevalue(which)
    _, book = check(built.root)
    text = flatten("\n".join(pdf_pages(built.pdf)))
    quote = next(iter(book.all_quotes.values()))
    assert f"{marks[0]}{quote.text_plain[:30]}" in text


@pytest.mark.parametrize("which", ["default_build", "book_pdf"])
def test_german_text_is_hyphenated_and_no_line_overflows(which, request):
    fixture = request.getfixturevalue(which)
    pdf = fixture if isinstance(fixture, Path) else fixture.pdf
    text = "\n".join(pdf_pages(pdf))
    assert len(re.findall(r"[a-zäöüß]\u2010\n[a-zäöüß]", text)) >= 5, "too few hyphenated line ends"
    # Every word ends inside the text block of its page: 20mm on both sides in the briefing; the book's
    # margins mirror (the outer margin is 24mm on right pages).
    bbox = _run("pdftotext", "-bbox", str(pdf), "-")
    for number, page in enumerate(re.findall(r"<page [^>]*>(.*?)</page>", bbox, re.S), start=1):
        if number == 1:
            continue  # the cover has its own layout
        right_edge = (210 - (20 if which == "default_build" else 24 if number % 2 else 17)) * MM
        for x_max, word in re.findall(r'xMax="([\d.]+)"[^>]*>([^<]*)<', page):
            assert float(x_max) <= right_edge + 0.5, (number, word, float(x_max) / MM)


def test_imprint_names_source_edition_date_and_build(default_build):
    _, book = check(DEFAULT_DOSSIER)
    last = flatten(pdf_pages(default_build.pdf)[-1])
    assert book.strings["imprint"] in last and "All-AI.de" in last and "25. November 2026" in last
    assert re.search(r"\b[0-9a-f]{16}\b", last)  # the build identifier


# Handout ----------------------------------------------------------------------------------------


def test_booklet_order_pads_to_a_multiple_of_four():
    assert booklet_order(8) == [(8, 1), (2, 7), (6, 3), (4, 5)]
    assert booklet_order(5) == [(None, 1), (2, None), (None, 3), (4, 5)]


def _half_text(pdf: Path, page: int, half: int) -> str:
    width, height = int(A4_LANDSCAPE[0] / 2), int(A4_LANDSCAPE[1])
    return _run(
        "pdftotext",
        "-r",
        "72",
        "-f",
        str(page),
        "-l",
        str(page),
        "-x",
        str(half * width),
        "-y",
        "0",
        "-W",
        str(width),
        "-H",
        str(height),
        "-layout",
        str(pdf),
        "-",
    )


def test_handout_sheets_and_page_order(handout):
    from pypdf import PdfReader

    reader = PdfReader(handout)
    sides = len(reader.pages)
    assert sides % 2 == 0 and 1 <= sides // 2 <= 2  # the default dossier fits on one or two A4 sheets
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)
    labels = reader.page_labels
    booklet_pages = max(int(n) for label in labels for n in re.findall(r"\d+", label.split(":")[1]))
    order = booklet_order(booklet_pages)
    assert len(order) == sides
    for index, (label, (left, right)) in enumerate(zip(labels, order, strict=True)):
        assert label == f"{index // 2 + 1}{'ab'[index % 2]}:{left or '-'}|{right or '-'}"
        # The folio printed on each half agrees with the label: the imposition really is in that order.
        for half, number in enumerate((left, right)):
            text = _half_text(handout, index + 1, half)
            if number is None:
                assert not text.strip(), (label, half)
            else:
                assert text.rstrip().splitlines()[-1].strip() == str(number), (label, half, text[-200:])


def test_handout_holds_summaries_timeline_and_placed_quotes(handout):
    from pypdf import PdfReader

    _, book = check(DEFAULT_DOSSIER)
    halves = {}  # A5 page number -> its text, read from the imposed sheets
    for index, label in enumerate(PdfReader(handout).page_labels):
        for half, number in enumerate(label.split(":")[1].split("|")):
            if number != "-":
                halves[int(number)] = _half_text(handout, index + 1, half)
    text = flatten("\n".join(halves[n] for n in sorted(halves)).replace("\u2010\n", ""))
    for chapter in book.chapters:
        assert chapter.title_plain in text
    for event in book.timeline:
        assert flatten(re.sub(r"<[^>]+>", "", event.title_html)).replace("&quot;", '"')[:25] in text
    placed = [q for q in book.all_quotes.values() if q.placed]
    assert placed
    quotes_part = text[text.index(book.strings["key_quotes"].upper()) :]  # the heading is set in capitals
    for quote in book.all_quotes.values():
        assert (quote.text_plain[:40] in quotes_part) == quote.placed, quote.id


# The look of pages ------------------------------------------------------------------------------

VISUAL_PAGES = [  # (fixture, page, reference image); briefing pages are in test_briefing.py
    ("book_pdf", 1, "default-p01-cover.png"),
    ("book_pdf", 3, "default-p03-toc.png"),
    ("book_pdf", 5, "default-p05-chapter.png"),
    ("book_pdf", 21, "default-p21-timeline.png"),
    ("en_build", 5, "en-p05-chapter.png"),  # the briefing layout
    ("handout", 2, "handout-side2.png"),
]


@pytest.mark.parametrize("which,page,reference", VISUAL_PAGES)
def test_pages_look_as_designed(which, page, reference, request, tmp_path):
    fixture = request.getfixturevalue(which)
    pdf = fixture if isinstance(fixture, Path) else fixture.pdf
    rendered = visual.render_page(pdf, page, tmp_path)
    visual.compare(rendered, reference, tmp_path, update=visual.updating())


# A long generated dossier -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_build(tmp_path_factory) -> tuple[Path, Path]:
    from tests.support.synthetic import write_dossier

    root = write_dossier(tmp_path_factory.mktemp("long") / "dossier", chapters=12)
    result = build(root, BuildOptions(out_dir=root.parent / "out", formats=("pdf",)))
    return root, result.outputs[0].path


def test_long_timeline_breaks_cleanly_across_pages(long_build):
    root, pdf = long_build
    _, book = check(root)
    pages = _pages(pdf)
    start = _opening_page(pages, book.strings["timeline"])
    end = _opening_page(pages, book.strings["quote_index"])
    timeline_pages = pages[start - 1 : end - 1]
    assert len([p for p in timeline_pages if p.strip()]) >= 2, "the timeline should run over several pages"
    years = {str(e.date.year) for e in book.timeline}
    for number, text in enumerate(timeline_pages, start=start):
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        if not lines:
            continue
        body = lines[:-1]  # without the foot ("Page 3 of 9")
        assert body[-1] not in years, f"page {number} ends with a year mark"
        if number > start:  # the briefing's head names the year each page starts in, on every page
            # pdftotext may read the date column before the head at the right: look at the first lines
            head = [line for line in lines[:5] if line.startswith(book.strings["timeline"] + " · ")]
            assert head and re.fullmatch(rf"{book.strings['timeline']} · (\d{{4}})", head[0]), (number, lines[:5])
            assert head[0][-4:] in years
    # Every event stands whole on one page: its title and the start of its text together.
    for event in book.timeline:
        title = re.sub(r"<[^>]+>", "", event.title_html)
        hits = [n for n in page_of(pages, title) if start <= n < end]
        assert hits, title
        assert any(flatten(re.sub(r"<[^>]+>", "", event.text_html))[:30] in flatten(pages[n - 1]) for n in hits)


def test_no_page_ends_with_a_heading(long_build):
    root, pdf = long_build
    _, book = check(root)
    for number, text in enumerate(_pages(pdf), start=1):
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        if len(lines) > 1:
            assert not any(lines[-2] == c.title_plain for c in book.chapters), number
