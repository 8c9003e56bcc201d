"""How a book is cut into runs, and what changes in a run's document (writers/runs/plan.py, folios.py)."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from report.writers.runs import folios, plan


@given(st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=60), st.integers(1, 12))
def test_balanced_cuts_cover_every_chapter_once_in_order(sizes, groups):
    groups = min(groups, len(sizes))
    cuts = plan._balanced(sizes, groups)
    assert len(cuts) == groups
    assert cuts[0][0] == 0 and cuts[-1][1] == len(sizes)
    assert all(a < b for a, b in cuts)  # no empty run
    assert all(cuts[i][1] == cuts[i + 1][0] for i in range(len(cuts) - 1))  # consecutive, no gap


def test_balanced_cuts_even_out_the_text():
    cuts = plan._balanced([100] * 30, 3)
    assert cuts == [(0, 10), (10, 20), (20, 30)]
    uneven = plan._balanced([1000, 10, 10, 10, 10, 10, 10, 1000], 2)
    assert uneven == [(0, 4), (4, 8)]


def _book(chapters: int):
    chapter = SimpleNamespace(body={"pdf": (SimpleNamespace(html="x" * 500),)}, title_html="T")
    appendices = tuple(SimpleNamespace(anchor=a) for a in ("timeline", "quote-index", "sources", "imprint"))
    return SimpleNamespace(chapters=(chapter,) * chapters, appendices=appendices, timeline=(), quote_index=())


def test_a_short_book_is_one_pass_and_a_long_one_is_cut():
    assert plan.plan(_book(12), 12) is None
    assert plan.plan(_book(40), 0) is None
    runs = plan.plan(_book(40), 12)
    assert runs is not None
    assert [r.kind for r in runs] == ["front"] + ["chapters"] * 4 + ["back"] * 4
    assert [len(r.chapters) for r in runs if r.kind == "chapters"] == [10, 10, 10, 10]
    assert [r.name for r in runs if r.kind == "back"] == ["timeline", "quote-index", "sources", "imprint"]
    assert [r.recto for r in runs if r.kind == "back"] == [True, True, True, False]
    chapters = [i for r in runs for i in r.chapters]
    assert chapters == list(range(40))


def test_the_imprint_is_a_run_of_its_own_that_may_start_on_a_left_page():
    """It opens a new page but not a right-hand one; it changes with every build (the build id)."""
    book = _book(20)
    book.appendices = tuple(a for a in book.appendices if a.anchor != "sources")
    book.title, book.strings, book.marking, book.classification = "T", {"page": "S.", "page_of": "von"}, "", ""
    runs = plan.plan(book, 12)
    assert runs is not None
    assert [(r.name, r.recto) for r in runs if r.kind == "back"] == [
        ("timeline", True),
        ("quote-index", True),
        ("imprint", False),
    ]
    imprint = runs[-1]
    assert "break-before: verso" in plan.run_edits(book, imprint, verso=True).extra  # type: ignore[arg-type]
    assert "break-before" not in plan.run_edits(book, imprint).extra  # type: ignore[arg-type]


def test_links_to_other_runs_and_page_numbers():
    html = '<p id="a"><a href="#a">x</a> <a href="#b">y</a> <a href="#gone">z</a> <a href="#c&amp;d">w</a></p>'
    every = {"a", "b", "c&amp;d"}
    out = plan.localize(html, every, None)
    assert 'href="#a"' in out  # its own anchor
    assert f'href="{plan.RUN_SCHEME}b"' in out  # in another run
    assert 'href="#gone"' in out  # nowhere: WeasyPrint reports it, as in the one pass
    assert "data-page" not in out
    numbered = plan.localize(html, every, {"a": 3, "b": 17, "c&d": 9})
    assert 'href="#a" data-page="3"' in numbered
    assert f'href="{plan.RUN_SCHEME}b" data-page="17"' in numbered
    assert f'href="{plan.RUN_SCHEME}c&amp;d" data-page="9"' in numbered
    assert 'href="#gone" data-page=""' in numbered


def test_css_strings_hold_any_text():
    assert plan.css_string('Seite "x" \\ y') == '"Seite \\22 x\\22  \\5c  y"'
    assert plan.css_string("a\nb") == '"a\\a b"'


def test_layer_parts_start_on_odd_pages_and_show_the_total():
    book = SimpleNamespace(title="T", strings={"page": "Seite", "page_of": "von"}, marking="", classification="")
    kinds = ["cover", "front"] + ["chapter"] * 150 + ["blank", "chapter"]
    parts = folios.layer_parts("<html><head></head><body>\n</body></html>", book, kinds)
    assert [p.first_page for p in parts] == [1, 65, 129]
    assert all(p.first_page % 2 == 1 for p in parts)
    assert all(("counter(pages)", f'"{len(kinds)}"') in p.edits.replace for p in parts)
    assert "counter-increment: page 65" in parts[1].edits.extra
    assert "counter-increment" not in parts[0].edits.extra
    assert parts[0].html.count('class="report-folio"') == 64
    assert parts[2].html.count('class="report-folio"') == len(kinds) - 128
    assert 'style="page: cover"' in parts[0].html
    assert f'style="page: {folios.BLANK}"' in parts[2].html
