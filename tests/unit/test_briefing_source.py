"""The briefing's source keys, without layout: validation, rendering, schema, scaffold, the watermark image."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import lxml.etree
import lxml.html

from report.cli import main
from report.pipeline import check
from report.render import Renderer, RenderSettings


def test_bad_layout_and_status_are_located_errors(minimal):
    root = minimal(
        dossier__yaml="title: T\nlanguage: en\nlayout: boook\nstatus: Draft\nchanges:\n  - date: 2024-05\n    text: x\n"
    )
    collector, _ = check(root)
    messages = sorted(d.format() for d in collector.errors)
    assert len(messages) == 3, messages
    assert re.search(
        r"dossier\.yaml:3:9: error: layout: 'boook' is not allowed here: expected 'briefing' or "
        r"'book' \(did you mean 'book'\?\)",
        messages[0],
    )
    assert re.search(r"dossier\.yaml:4:9: error: status: 'Draft' .* \(did you mean 'draft'\?\)", messages[1])
    assert re.search(r"dossier\.yaml:6:11: error: changes\[0\]\.date: this date needs a day", messages[2])


def test_a_chapters_key_points_stand_after_its_title_and_summary(minimal):
    root = minimal(
        **{
            "01-chapter__yaml": "title: A chapter\nsummary: The lead.\nkey_points:\n  - First *point*\n"
            "  - Second point\nbody: |\n  Some text.\n"
        }
    )
    collector, book = check(root)
    assert not collector.errors
    renderer = Renderer(book, RenderSettings(timestamp=datetime(2024, 5, 1, tzinfo=UTC), build_id="0" * 16))
    for document in (renderer.web_document(""), renderer.pdf_document()):
        chapter = lxml.html.document_fromstring(document).xpath('//section[@class="chapter"]')[0]
        children = [child.get("class") or child.tag for child in chapter]
        assert children[:3] == ["chapter-title", "summary", "key-points"], children
        box = chapter.xpath('.//section[@class="key-points"]')[0]
        assert box.xpath(".//h2")[0].text_content() == "Key points"
        assert [li.text_content() for li in box.xpath(".//li")] == ["First point", "Second point"]
    assert not lxml.html.document_fromstring(renderer.web_document("")).xpath('//main/section[@class="key-points"]')


def test_schema_and_new_know_the_new_keys(tmp_path, minimal):
    from report.schema import json_schema

    defs = json_schema()["definitions"]
    meta = defs["DossierMeta"]["properties"]
    assert meta["layout"]["enum"] == ["briefing", "book"] and meta["layout"]["default"] == "briefing"
    assert meta["status"]["enum"] == ["draft", "final"] and meta["status"]["default"] == "final"
    assert {"classification", "version", "changes", "key_points"} <= set(meta)
    assert {"date", "version", "text"} == set(defs["Change"]["properties"])
    assert "key_points" in defs["Chapter"]["properties"]
    for language in ("en", "de"):
        root = tmp_path / language
        assert main(["new", str(root), "--language", language]) == 0
        collector, book = check(root)
        assert not collector.errors and not collector.warnings
        assert book.layout == "briefing" and book.draft and book.version == "0.1"
        assert len(book.key_points) == 2 and len(book.changes) == 1
    # an unquoted version keeps its digits: YAML's 1.10 is not the number 1.1 here
    collector, book = check(minimal(dossier__yaml="title: T\nlanguage: en\nversion: 1.10\n"))
    assert not collector.errors and book.version == "1.10"


def test_watermark_scheme_reads_nothing_and_stays_inert(tmp_path):
    """A dossier's own template can name the watermark scheme: it yields a bounded, escaped image, no file."""
    from report.writers.fetcher import FolderFetcher

    fetcher = FolderFetcher([tmp_path])
    hostile = "report-watermark:" + "%3C%2Ftext%3E%3Cimage%20href%3D%22file%3A%2F%2F%2Fetc%2Fpasswd%22%2F%3E" * 200
    svg = fetcher.fetch(hostile).read()
    assert len(svg) < 1000
    tree = lxml.etree.fromstring(svg)
    assert [element.tag.split("}")[1] for element in tree.iter()] == ["svg", "text"]  # no <image>, no href
    assert fetcher.refused == []
