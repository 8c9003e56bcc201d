"""The back half's values without a build: options, the edition registry, the Layout, located warnings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from report.errors import Diagnostic, Location, ReportError
from report.folder import find_reference, is_inside
from report.options import BuildOptions
from report.writers.edition import LayoutNeed, default_kinds, editions
from report.writers.epub import insert_page_breaks
from report.writers.handout import booklet_order
from report.writers.layout import Layout, located
from report.writers.page_starts import PageStart


def test_the_registry_holds_the_four_editions_in_output_order():
    assert [e.kind for e in editions()] == ["pdf", "epub", "html", "handout"]
    assert default_kinds() == ("pdf", "epub", "html")
    needs = {e.kind: e.layout for e in editions()}
    assert needs == {
        "pdf": LayoutNeed.DOCUMENT,
        "epub": LayoutNeed.PAGES,
        "html": LayoutNeed.NONE,
        "handout": LayoutNeed.NONE,
    }
    assert len({e.suffix for e in editions()}) == 4  # no two editions write the same file


def test_build_options_name_editions_in_registry_order():
    assert BuildOptions(out_dir=Path("x")).formats == ("pdf", "epub", "html")
    assert BuildOptions(out_dir=Path("x"), formats=("handout", "html")).formats == ("html", "handout")
    with pytest.raises(ReportError, match="no edition called docx"):
        BuildOptions(out_dir=Path("x"), formats=("docx",))
    assert "formats" not in BuildOptions(out_dir=Path("x")).cache_options()


def test_a_layout_survives_json_with_its_located_warnings(tmp_path):
    warning = Diagnostic(
        Location(tmp_path / "01-a.yaml", 3, 7),
        "Failed to load image",
        field="weasyprint",
        severity="warning",
        code="weasyprint",
    )
    layout = Layout({"ch-a": 3, "timeline": 9}, 12, (warning,), (PageStart(4, "p-1", 17),))
    again = Layout.from_json(layout.to_json())
    assert again == layout and again.warnings[0].location.line == 3
    for broken in (b"{}", b'{"pages": [], "page_count": 1, "warnings": [], "starts": []}', b"[1]"):
        with pytest.raises(ValueError):
            Layout.from_json(broken)


def test_strict_promotes_a_warning_in_its_own_place(tmp_path):
    warning = Diagnostic(
        Location(tmp_path / "01-a.yaml", 5, 1), "raw HTML removed", severity="warning", code="raw-html-removed"
    )
    error = warning.promoted()
    assert (error.severity, error.location, error.code) == ("error", warning.location, "raw-html-removed")
    assert error.format().startswith(f"{tmp_path / '01-a.yaml'}:5:1: error: ")
    assert Diagnostic.from_dict(warning.as_dict()) == warning


def test_a_weasyprint_warning_is_located_at_the_line_naming_its_file(tmp_path):
    (tmp_path / "01-a.yaml").write_text("title: A\nbody: |\n  ![A map](maps/town.png)\n", encoding="utf-8")
    url = (tmp_path / "maps" / "town.png").as_uri()
    (at_line, nowhere, shipped) = located(
        [
            f"Failed to load image at '{url}': broken",
            "Ignored `foo: bar` at 1:1, unknown property.",
            "Failed to load image at 'file:///usr/share/x.png': gone",
        ],
        tmp_path,
    )
    assert (at_line.location.path.name, at_line.location.line, at_line.location.column) == ("01-a.yaml", 3, 12)
    assert at_line.code == "weasyprint" and at_line.severity == "warning"
    assert nowhere.location == Location(tmp_path) and shipped.location == Location(tmp_path)


def test_inside_the_dossier_folder_follows_links(tmp_path):
    folder, elsewhere = tmp_path / "dossier", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("x", encoding="utf-8")
    (folder / "link.txt").symlink_to(elsewhere / "secret.txt")
    (tmp_path / "dossier_secret").mkdir()  # a sibling whose name starts with the folder's
    assert is_inside(folder / "a.yaml", folder) and is_inside(folder, folder)
    assert not is_inside(folder / "link.txt", folder)
    assert not is_inside(tmp_path / "dossier_secret" / "a", folder)
    assert not is_inside(folder / ".." / "elsewhere", folder)
    os.mkfifo(folder / "pipe")
    assert is_inside(folder / "pipe", folder)  # resolving never opens the file


def test_find_reference_prefers_the_whole_address_then_the_file_name(tmp_path):
    (tmp_path / "01-a.yaml").write_text("body: |\n  see town.png\n  ![m](maps/town.png)\n", encoding="utf-8")
    assert find_reference(tmp_path, ["maps/town.png"], tails=["town.png"]) == Location(tmp_path / "01-a.yaml", 3, 8)
    assert find_reference(tmp_path, ["other/town.png"], tails=["town.png"]) == Location(tmp_path / "01-a.yaml", 2, 7)
    assert find_reference(tmp_path, ["nothing.png"]) is None


def test_page_markers_go_where_the_layout_says_pages_begin():
    documents = {
        "text/a.xhtml": '<html><body><h1 id="ch-a">A</h1><p id="p-1">one two three four</p></body></html>',
        "text/b.xhtml": '<html><body><h1 id="ch-b">B</h1></body></html>',
    }
    marked, page_list = insert_page_breaks(documents, {"ch-a": 1, "p-1": 1, "ch-b": 4}, [PageStart(2, "p-1", 2)])
    assert [label for label, _ in page_list] == ["1", "2", "3", "4"]
    a = marked["text/a.xhtml"]
    assert 'one two <span epub:type="pagebreak" role="doc-pagebreak" id="page-2" aria-label="2"></span>three' in a
    assert a.index('id="page-3"') > a.index("four")  # a page that ended the document (a blank left page)
    assert marked["text/b.xhtml"].index('id="page-4"') < marked["text/b.xhtml"].index('id="ch-b"')


@pytest.mark.parametrize("pages,sides", [(1, 2), (4, 2), (5, 4), (8, 4), (9, 6)])
def test_booklet_order_pads_to_whole_sheets(pages, sides):
    order = booklet_order(pages)
    assert len(order) == sides
    placed = sorted(n for side in order for n in side if n is not None)
    assert placed == list(range(1, pages + 1))
    assert order[0][1] == 1  # the first sheet's front carries page 1 on its right half
