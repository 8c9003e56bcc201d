"""The back half's two ideas: editions are peers behind one interface; the layout is one typed value.

An edition added in this file alone builds (through `build()` and the command line) and
reads the print layout; the layout survives the cache's JSON; a warning keeps its place
to the end (`--strict`, `--json`).
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from report.cache import CACHE_DIR
from report.cli import main
from report.pipeline import BuildOptions, build, check
from report.writers.edition import EditionContext, LayoutNeed, Made, editions, register, unregister
from report.writers.layout import Layout
from tests.support.pdftext import loose, pdf_pages

from .conftest import EN_DOSSIER, REPO, copy_dossier

pytestmark = pytest.mark.slow  # real builds


class ContentsCard:
    """A plain-text card: each chapter's title and the page it starts on in the print edition."""

    kind = "card"
    suffix = "-contents.txt"
    title = "plain-text contents card"
    default = False
    layout = LayoutNeed.PAGES

    def make(self, ctx: EditionContext) -> Made:
        layout = ctx.layout()
        lines = [f"{layout.pages[c.anchor]:>4}  {c.title_plain}" for c in ctx.book.chapters]
        return Made(("\n".join([ctx.book.title, *lines]) + "\n").encode("utf-8"), pages=layout.page_count)


@pytest.fixture
def card():
    register(ContentsCard())
    try:
        yield
    finally:
        unregister("card")


def test_an_edition_registered_in_a_test_builds_beside_the_pdf(card, tmp_path):
    result = build(EN_DOSSIER, BuildOptions(out_dir=tmp_path, formats=("card", "pdf")))
    by_kind = {w.kind: w for w in result.outputs}
    assert list(by_kind) == ["pdf", "card"]  # the registry's order
    written = by_kind["card"]
    assert written.path.name.endswith("-contents.txt") and written.pages == by_kind["pdf"].pages
    rows = [re.match(r"\s*(\d+)  (.+)", line).groups() for line in written.path.read_text().splitlines()[1:]]
    _, book = check(EN_DOSSIER)
    assert [title for _, title in rows] == [c.title_plain for c in book.chapters]
    pages = pdf_pages(by_kind["pdf"].path)
    for number, title in rows:  # the page the card names is the page the PDF prints the chapter on
        assert loose(title) in loose(pages[int(number) - 1]), (number, title)


def test_a_registered_edition_has_its_command_line_flag(card, tmp_path, capsys):
    assert main(["build", str(EN_DOSSIER), "--out", str(tmp_path), "--card", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    # not a default edition: naming it alone also makes the default ones, as --handout does
    assert [o["kind"] for o in summary["outputs"]] == ["pdf", "epub", "html", "card"]
    assert main(["build", str(EN_DOSSIER), "--out", str(tmp_path), "--html", "--card", "--json"]) == 0
    assert [o["kind"] for o in json.loads(capsys.readouterr().out)["outputs"]] == ["html", "card"]


def test_the_cli_and_readme_list_the_registered_editions():
    help_text = subprocess.run(
        ["python", "-m", "report", "build", "--help"], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for edition in editions():
        assert f"--{edition.kind}" in help_text
        assert f"--{edition.kind}" in readme, f"README does not name the --{edition.kind} edition"


def test_the_layout_survives_the_cache_and_agrees_with_the_pdf(tmp_path):
    root = copy_dossier(EN_DOSSIER, tmp_path / "src")
    result = build(root, BuildOptions(out_dir=tmp_path / "out", formats=("pdf",)))
    (record,) = (tmp_path / "out" / CACHE_DIR).glob("pagemap-*.json")
    layout = Layout.from_json(record.read_bytes())
    assert Layout.from_json(layout.to_json()) == layout
    assert layout.to_json() == record.read_bytes()
    assert layout.page_count == result.outputs[0].pages == len(pdf_pages(result.outputs[0].path))
    _, book = check(root)
    assert {c.anchor for c in book.chapters} <= set(layout.pages)
    assert all(1 <= start.page <= layout.page_count for start in layout.page_starts)
    with pytest.raises(ValueError):
        Layout.from_json(b'{"pages": {}, "page_count": 1, "warnings": ["a string"], "starts": []}')


WARNING_CHAPTER = """\
title: A chapter
body: |
  Some text.

  <p>Fine <iframe src="x.html"></iframe> text.</p>
"""


def test_strict_reports_a_chapter_warning_at_the_chapter(minimal, tmp_path, capsys):
    root = minimal(
        **{
            "dossier__yaml": 'title: Test dossier\nlanguage: en\ndate: "2024-05-01"\nraw_html: true\n',
            "01-chapter__yaml": WARNING_CHAPTER,
        }
    )
    chapter = root / "01-chapter.yaml"
    assert main(["build", str(root), "--out", str(tmp_path / "out"), "--html", "--strict"]) == 1
    err = capsys.readouterr().err
    assert f"{chapter}:5:1: error: body: raw HTML <iframe> is removed" in err
    assert "dossier.yaml" not in err
    assert not list((tmp_path / "out").glob("*.html"))

    assert main(["build", str(root), "--out", str(tmp_path / "out"), "--html", "--json"]) == 0
    (warning,) = json.loads(capsys.readouterr().out)["warnings"]
    assert (warning["file"], warning["line"], warning["column"], warning["code"]) == (
        str(chapter),
        5,
        1,
        "raw-html-removed",
    )
    # answered from the cache, the warning keeps its place
    assert main(["build", str(root), "--out", str(tmp_path / "out"), "--html", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["cached"] and again["warnings"] == [warning]


def test_a_weasyprint_warning_is_located_at_the_template_line_that_caused_it(tmp_path, capsys):
    """A dossier's own template shows a file WeasyPrint cannot decode: the warning names that line."""
    root = copy_dossier(EN_DOSSIER, tmp_path / "src")
    (root / "broken.png").write_bytes(b"not a png")
    shipped = (REPO / "report" / "templates" / "imprint.html").read_text(encoding="utf-8")
    (root / "templates").mkdir()
    (root / "templates" / "imprint.html").write_text(
        '<p class="logo"><img src="broken.png" alt="Logo" /></p>\n' + shipped, encoding="utf-8"
    )
    out = tmp_path / "out"
    assert main(["build", str(root), "--out", str(out), "--pdf", "--json"]) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    located = [w for w in warnings if "broken.png" in w["message"]]
    assert located and all(
        (w["file"], w["line"], w["column"], w["code"])
        == (str(root / "templates" / "imprint.html"), 1, 27, "weasyprint")
        for w in located
    )
    assert main(["build", str(root), "--out", str(out), "--pdf", "--strict", "--force"]) == 1
    assert (
        f"{root / 'templates' / 'imprint.html'}:1:27: error: weasyprint: Failed to load image"
        in capsys.readouterr().err
    )
