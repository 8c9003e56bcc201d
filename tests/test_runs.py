"""The PDF by chapter runs (writers/runs/): the same book as the one pass, whatever the workers.

Runs are laid out as documents of their own and assembled: these tests hold the assembled PDF
to the one pass of the same dossier (page count, text of every page, rendered pages, fonts,
links, bookmarks, PDF/UA), to itself (the same bytes for one worker, two workers and runs kept
from an earlier build) and to its page numbers (contents, timeline, quote index). The page-truth
tests of the other files run on multi-run builds too (conftest: default_runs_build, en_runs_build).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from report.pipeline import BuildOptions, build, check
from report.writers.pdf import PdfOptions
from tests.support import synthetic
from tests.support.pdftext import loose, pdf_pages

from .conftest import DEFAULT_DOSSIER, EN_DOSSIER

pytestmark = pytest.mark.slow  # real builds by runs and by one pass


def _pdf(root: Path, out: Path, *, run_size: int, jobs: int = 2, layout: str = "", force: bool = True, **more):
    options = BuildOptions(
        out_dir=out,
        formats=("pdf",),
        pdf=PdfOptions(layout=layout, run_size=run_size, **more),
        force=force,
        jobs=jobs,
    )
    result = build(root, options)
    return result.outputs[0].path, result


@pytest.fixture(scope="module")
def long_dossier(tmp_path_factory) -> Path:
    return synthetic.write_dossier(tmp_path_factory.mktemp("long") / "d", 20)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory, long_dossier):
    """(one pass, runs) PDFs of three dossiers: briefing, book, and 20 chapters in runs of 5."""
    made = {}
    for name, root, layout, size in (
        ("default", DEFAULT_DOSSIER, "", 1),
        ("en-book", EN_DOSSIER, "book", 1),
        ("long", long_dossier, "", 5),
    ):
        one, _ = _pdf(root, tmp_path_factory.mktemp(f"{name}-one"), run_size=0, layout=layout)
        runs, result = _pdf(root, tmp_path_factory.mktemp(f"{name}-runs"), run_size=size, layout=layout)
        assert len({r["name"] for r in result.pdf_runs if r["kind"] == "chapters"}) > 1, "not laid out in runs"
        made[name] = (one, runs, result)
    return made


def _assert_pages_look_alike(one: Path, runs: Path, folder: Path) -> None:
    """Rendered at 60 dpi, every page matches (at most 0.1% of pixels moved by more than 64/255:
    anti-aliasing of re-subset fonts)."""
    for pdf, name in ((one, "one"), (runs, "runs")):
        (folder / name / "png").mkdir(parents=True)
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(folder / name / "png" / "p")], check=True)
    pages = sorted((folder / "one" / "png").glob("*.png"))
    assert pages and len(pages) == len(list((folder / "runs" / "png").glob("*.png")))
    for png in pages:
        a = Image.open(png).convert("L")
        b = Image.open(folder / "runs" / "png" / png.name).convert("L")
        strong = sum(ImageChops.difference(a, b).histogram()[64:])
        assert strong <= a.width * a.height * 0.001, (png.name, strong)


NAMES = ["default", "en-book", "long"]


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("name", NAMES)
def test_runs_give_the_pages_of_the_one_pass(pairs, name):
    one, runs, _ = pairs[name]
    first, second = pdf_pages(one), pdf_pages(runs)
    assert len(second) == len(first)
    for number, (a, b) in enumerate(zip(first, second, strict=True), start=1):
        assert b == a, f"page {number} differs"


@pytest.mark.parametrize("name", NAMES)
def test_runs_look_like_the_one_pass(pairs, name, tmp_path):
    """Rendered at 60 dpi, every page matches (anti-aliasing of re-subset fonts at most)."""
    one, runs, _ = pairs[name]
    _assert_pages_look_alike(one, runs, tmp_path)


@pytest.mark.parametrize("name", NAMES)
def test_runs_are_tagged_pdfua_clean_with_each_font_once(pairs, name):
    from pdfua import validate

    one, runs, _ = pairs[name]
    info = _run("pdfinfo", str(runs))
    assert re.search(r"Tagged:\s+yes", info)
    report = validate(str(runs))
    assert [(f.rule_id, f.message) for f in report.findings] == []
    fonts = [row.split() for row in _run("pdffonts", str(runs)).splitlines()[2:]]
    names = [row[0] for row in fonts]
    assert len(names) == len(set(names)), names  # no font written once per run
    assert all(row[-5] == "yes" for row in fonts), fonts  # embedded
    single = sorted(row.split()[0] for row in _run("pdffonts", str(one)).splitlines()[2:])
    assert sorted(names) == single


def _links_and_bookmarks(pdf: Path):
    import pikepdf

    with pikepdf.open(pdf) as doc:
        index = {page.objgen: n for n, page in enumerate(doc.pages, start=1)}
        dests = {}
        if "/Names" in doc.Root and "/Dests" in doc.Root.Names:
            dests = {name: dest for name, dest in pikepdf.NameTree(doc.Root.Names.Dests).items()}

        def page_of(dest):
            if isinstance(dest, pikepdf.String | str):
                dest = dests[str(dest)]
            if isinstance(dest, pikepdf.Dictionary):
                dest = dest.D
            return index[dest[0].objgen]

        links = []
        for number, page in enumerate(doc.pages, start=1):
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") != "/Link":
                    continue
                if "/Dest" in annot:
                    links.append((number, page_of(annot.Dest)))
                elif "/A" in annot and annot.A.get("/S") == "/GoTo":
                    links.append((number, page_of(annot.A.D)))
                else:
                    links.append((number, str(annot.A.get("/URI", ""))))
        marks = []
        with doc.open_outline() as outline:

            def walk(items, level):
                for item in items:
                    marks.append((level, item.title, page_of(item.destination) if item.destination else None))
                    walk(item.children, level + 1)

            walk(outline.root, 0)
    return links, marks


@pytest.mark.parametrize("name", NAMES)
def test_links_and_bookmarks_lead_where_the_one_pass_leads(pairs, name):
    one, runs, _ = pairs[name]
    links, marks = _links_and_bookmarks(runs)
    expected_links, expected_marks = _links_and_bookmarks(one)
    assert links and marks
    assert not [target for _, target in links if isinstance(target, str) and target.startswith("report-run:")]
    assert links == expected_links
    assert marks == expected_marks


def test_contents_timeline_and_quote_index_numbers_are_true(pairs, long_dossier):
    """In the 20-chapter PDF of 7 runs: every number printed points at the page of its target."""
    _, runs, _ = pairs["long"]
    _, book = check(long_dossier)
    pages = pdf_pages(runs)
    toc = "\n".join(p for p in pages[:4] if book.strings["contents"] in p or re.search(r"\.\s*\.", p))
    for chapter in book.chapters:
        match = re.search(re.escape(chapter.title_plain[:30]) + r"[^\n]*?(\d+)\s*$", toc, re.M)
        assert match, chapter.title_plain
        number = int(match.group(1))
        assert loose(chapter.title_plain) in loose(pages[number - 1]), (chapter.title_plain, number)
    short = re.escape(book.strings["page_short"])
    index_start = next(i for i, p in enumerate(pages) if p.lstrip().startswith(book.strings["quote_index"]))
    printed = [int(n) for p in pages[index_start:] for n in re.findall(short + r"\s(\d+)", p)]
    entries = [e for group in book.quote_index for e in group.entries]
    assert len(printed) >= len(entries) > 20
    marks = book.language.quotes
    for entry, number in zip(entries, printed, strict=False):
        first = loose(f"{marks[0]}{entry.quote.text_plain}{marks[1]}")[:60]
        assert first in loose(pages[number - 1]), (entry.quote.id, number)


@pytest.mark.parametrize(
    "name,root,layout,size",
    [
        ("default", DEFAULT_DOSSIER, "", 1),
        ("en-book", EN_DOSSIER, "book", 1),
        ("long", None, "book", 5),
    ],
)
def test_the_same_bytes_for_one_worker_two_workers_and_kept_runs(name, root, layout, size, tmp_path, long_dossier):
    root = root or long_dossier
    serial, result = _pdf(root, tmp_path / "one", run_size=size, jobs=1, layout=layout)
    parallel, _ = _pdf(root, tmp_path / "two", run_size=size, jobs=2, layout=layout)
    assert serial.read_bytes() == parallel.read_bytes()
    assert not any(r["reused"] for r in result.pdf_runs)
    # the build cache forgotten, the runs kept: nothing is laid out again, the bytes are the same
    (tmp_path / "two" / ".report-cache" / "manifest.json").unlink()
    kept, again = _pdf(root, tmp_path / "two", run_size=size, jobs=2, layout=layout, force=False)
    assert not again.cached and again.pdf_runs
    assert all(r["reused"] for r in again.pdf_runs), [r["name"] for r in again.pdf_runs if not r["reused"]]
    assert kept.read_bytes() == serial.read_bytes()
    # and laid out in this process (no engine) as well
    local = build(
        root,
        BuildOptions(
            out_dir=tmp_path / "local",
            formats=("pdf",),
            pdf=PdfOptions(layout=layout, run_size=size),
            force=True,
            parallel=False,
        ),
    )
    assert local.outputs[0].path.read_bytes() == serial.read_bytes()


def test_a_one_chapter_edit_lays_out_its_run_and_equals_a_cold_build(long_dossier, tmp_path):
    root = tmp_path / "d"
    shutil.copytree(long_dossier, root)
    out = tmp_path / "out"
    _, first = _pdf(root, out, run_size=5)
    chapter = sorted(root.glob("*-chapter.yaml"))[11]  # chapter 12
    (own,) = [
        r["name"]
        for r in first.pdf_runs
        if r["kind"] == "chapters" and int(r["name"].split()[1].split("-")[0]) <= 12 <= int(r["name"].split("-")[-1])
    ]
    text = chapter.read_text(encoding="utf-8")
    chapter.write_text(text.replace("body: |", "body: |\n  Ein neuer Satz steht hier.\n", 1), encoding="utf-8")
    edited, result = _pdf(root, out, run_size=5, force=False)
    laid_out = [r["name"] for r in result.pdf_runs if not r["reused"]]
    assert own in laid_out
    assert not [n for n in laid_out if n.startswith("chapters") and n != own], laid_out
    cold, _ = _pdf(root, tmp_path / "cold", run_size=5)
    assert edited.read_bytes() == cold.read_bytes()
    assert "Ein neuer Satz steht hier." in " ".join(pdf_pages(edited))


def test_a_marked_draft_book_keeps_marking_and_watermark_on_blank_pages_between_runs(tmp_path):
    """The blank left page before a chapter carries the marking and the watermark, as in the one pass."""
    from .test_briefing import MARKED_META

    root = tmp_path / "d"
    shutil.copytree(EN_DOSSIER, root)
    with (root / "dossier.yaml").open("a", encoding="utf-8") as meta:
        meta.write(MARKED_META)
    one, _ = _pdf(root, tmp_path / "one", run_size=0, layout="book")
    runs, result = _pdf(root, tmp_path / "runs", run_size=1, layout="book")
    first, second = pdf_pages(one), pdf_pages(runs)
    assert second == first
    covered = {
        p
        for r in result.pdf_runs
        if r["kind"] != "folios"
        for p in range(r["first_page"], r["first_page"] + r["pages"])
    }
    between = [n for n in range(1, len(first) + 1) if n not in covered]
    assert between, "no blank page between runs in this book"
    for number in between:
        assert first[number - 1].count("TLP:AMBER") == 2, first[number - 1]  # the marking, head and foot
        images = []
        for pdf in (one, runs):
            prefix = tmp_path / f"{pdf.parent.name}-{number}"
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "60",
                    "-f",
                    str(number),
                    "-l",
                    str(number),
                    "-singlefile",
                    str(pdf),
                    str(prefix),
                ],
                check=True,
            )
            images.append(Image.open(f"{prefix}.png").convert("L"))
        assert ImageChops.difference(*images).getbbox() is None, f"blank page {number} differs"


def test_json_reports_every_run(tmp_path, long_dossier):
    out = subprocess.run(
        [
            "python",
            "-m",
            "report",
            "build",
            str(long_dossier),
            "--out",
            str(tmp_path),
            "--pdf",
            "--run-size",
            "5",
            "--jobs",
            "2",
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    record = json.loads(out)
    kinds = [r["kind"] for r in record["pdf_runs"]]
    assert kinds.count("chapters") == 4 and kinds[0] == "front" and "folios" in kinds
    pages = record["outputs"][0]["pages"]
    covered = sum(r["pages"] for r in record["pdf_runs"] if r["kind"] != "folios")
    assert covered <= pages  # blank pages between runs are the rest
    assert sum(r["pages"] for r in record["pdf_runs"] if r["kind"] == "folios") == pages
    assert {"pdf runs", "pdf assemble"} <= set(record["timings"])


def _language_book(root: Path, tag: str, layout: str, chapters: int = 3) -> Path:
    """A dossier in the language ``tag`` with a few chapters (each its own run at run size 1)."""
    from tests.support.language_samples import write_language_dossier

    write_language_dossier(root, tag, layout=layout)
    first = root / "01-chapter.yaml"
    text = first.read_text(encoding="utf-8")
    for number in range(2, chapters + 1):
        copy = text
        for quote in ("a", "b"):
            copy = copy.replace(f"[[quote:{quote}]]", f"[[quote:{quote}{number}]]")
            copy = copy.replace(f"- id: {quote}\n", f"- id: {quote}{number}\n")
        (root / f"{number:02d}-part-{number}.yaml").write_text(copy, encoding="utf-8")
    return root


@pytest.mark.parametrize("tag,layout", [("ar", "book"), ("ja", "briefing"), ("hi", "book")])
def test_runs_in_other_scripts_and_directions_equal_the_one_pass(tag, layout, tmp_path):
    """Right to left (the first page is a left page, still a recto), CJK and Devanagari fonts."""
    root = _language_book(tmp_path / "d", tag, layout)
    one, _ = _pdf(root, tmp_path / "one", run_size=0, layout=layout)
    runs, result = _pdf(root, tmp_path / "runs", run_size=1, layout=layout)
    assert [r["kind"] for r in result.pdf_runs].count("chapters") == 3
    if tag == "hi":
        # WeasyPrint maps each glyph to one text (ToUnicode), that of the last place it draws it: a
        # Devanagari glyph drawn in different clusters (a reph) reads differently in one pass and in
        # runs, as it reads wrongly somewhere in both. The rest of the text must be the same.
        def latin(pages: list[str]) -> list[str]:
            return [re.sub(r"[\u0900-\u097f\s]+", "", page) for page in pages]

        assert latin(pdf_pages(runs)) == latin(pdf_pages(one))
    else:
        assert pdf_pages(runs) == pdf_pages(one)
    _assert_pages_look_alike(one, runs, tmp_path / "png")
    names = [row.split()[0] for row in _run("pdffonts", str(runs)).splitlines()[2:]]
    assert len(names) == len(set(names)), names
    assert sorted(names) == sorted(row.split()[0] for row in _run("pdffonts", str(one)).splitlines()[2:])


def test_print_shop_and_archive_variants_in_runs_equal_the_one_pass(tmp_path):
    """PDF/A-3b, A5, bleed and crop marks, book layout: the runs keep the archive's metadata and
    output intent, each run page its boxes and marks, the layer adds no second set of marks."""
    import pikepdf

    options = {"variant": "pdf/a-3b", "page_size": "A5", "bleed": "3mm", "marks": True}
    one, _ = _pdf(EN_DOSSIER, tmp_path / "one", run_size=0, layout="book", **options)
    runs, _ = _pdf(EN_DOSSIER, tmp_path / "runs", run_size=1, layout="book", **options)
    assert pdf_pages(runs) == pdf_pages(one)
    with pikepdf.open(runs) as doc, pikepdf.open(one) as reference:
        xmp = doc.Root.Metadata.read_bytes().decode()
        assert re.search(r"pdfaid:part(>|=\")3", xmp) and re.search(r"pdfaid:conformance(>|=\")B", xmp)
        assert "/OutputIntents" in doc.Root
        for page, expected in zip(doc.pages, reference.pages, strict=True):
            for box in ("/MediaBox", "/TrimBox", "/BleedBox"):
                assert [float(v) for v in page.obj[box]] == [float(v) for v in expected.obj[box]], box
    for row in _run("pdffonts", str(runs)).splitlines()[2:]:
        assert row.split()[-5] == "yes", row
    _assert_pages_look_alike(one, runs, tmp_path / "png")
