"""Property tests: whatever the dossier holds, the builder answers with output or a user error;
text stays text in every edition; the timeline is sorted."""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import lxml.etree
import lxml.html
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from report.cli import main
from report.pipeline import check
from report.render import Renderer, RenderSettings

from .test_bad_inputs import inert

pytestmark = pytest.mark.slow  # hundreds of generated dossiers (Hypothesis)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CHAPTER_KEYS = [
    "title",
    "id",
    "summary",
    "body",
    "events",
    "quotes",
    "tilte",
    "date",
    "speaker",
    "text",
    "key_points",
    "version",
]
META_KEYS = [
    "title",
    "subtitle",
    "language",
    "authors",
    "publisher",
    "date",
    "description",
    "identifier",
    "source",
    "chapters",
    "cover",
    "raw_html",
    "lang",
    "layout",
    "classification",
    "status",
    "version",
    "changes",
    "key_points",
]

scalars = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2018",
            "2018-02",
            "2018-02-30",
            "2018-13-01",
            "de",
            "en",
            "x-y-z",
            "true",
            "NO",
            "1:30",
            "<b>",
            "{{ 7*7 }}",
            "",
        ]
    ),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.dates().map(str),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(CHAPTER_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


def dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def run_build(files: dict[str, str], *formats: str) -> tuple[int, str, Path]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "dossier"
        root.mkdir()
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(["build", str(root), "--out", str(Path(scratch) / "out"), "--quiet", *formats])
        return rc, err.getvalue(), root


@SETTINGS
@given(
    meta=st.dictionaries(st.sampled_from(META_KEYS), values, max_size=6),
    chapter=st.dictionaries(st.sampled_from(CHAPTER_KEYS), values, max_size=6),
)
def test_any_mapping_builds_or_is_a_located_user_error(meta, chapter):
    meta = {"title": "T", "language": "en", **meta} if len(meta) % 2 else meta  # half start from a valid base
    rc, err, root = run_build({"dossier.yaml": dump(meta), "01-c.yaml": dump(chapter)}, "--html")
    assert rc in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err, err
    if rc == 1:
        errors = [line for line in err.splitlines() if ": error: " in line]
        assert errors, err
        for line in errors:
            assert line.startswith(str(root)) or line.startswith("report: error:"), line
            assert re.match(r"^\S+?(:\d+:\d+)?: error: ", line), line


PIECES = list("abcxyzäöüßéñ漢字 0123456789<>&/={}%$^|") + [
    "<script>",
    "</p>",
    "<img src=x onerror=alert(1)>",
    "{{ 7+7 }}",
    "{{ config }}",
    "{% raw %}",
    "&amp",
    "]]>",
    "<!",
]
SAFE_TEXT = (
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=30)
    .map("".join)
    .map(lambda s: "x " + s.strip() if s.strip() else "x")
)  # a letter first: no Markdown block starts a field


FIELDS = [
    "title",
    "summary",
    "body",
    "quote.text",
    "quote.speaker",
    "quote.context",
    "event.title",
    "event.text",
    "meta.title",
    "meta.subtitle",
    "meta.publisher",
    "meta.authors",
    "meta.classification",
    "meta.version",
    "meta.key_points",
    "key_points",
    "change.text",
    "change.version",
]


def dossier_with(field: str, text: str, *, raw_html: bool = False) -> dict[str, str]:
    meta: dict = {"title": "Dossier", "language": "en", "date": "2024-05-01", "raw_html": raw_html}
    chapter: dict = {
        "title": "Chapter",
        "summary": "Lead",
        "body": "Body.\n\n[[quote:q1]]\n",
        "quotes": [{"id": "q1", "speaker": "Someone", "text": "Words", "context": "Somewhere"}],
        "events": [{"date": "2020", "title": "Event", "text": "More"}],
    }
    group, _, name = field.rpartition(".")
    if group == "meta":
        meta[name] = [text] if name in ("authors", "key_points") else text
    elif group == "change":
        meta["changes"] = [{"date": "2024-05-01", "text": "Changed", **{name: text}}]
    elif name == "key_points":
        chapter[name] = [text]
    elif group == "quote":
        chapter["quotes"][0][name] = text
    elif group == "event":
        chapter["events"][0][name] = text
    else:
        chapter[name] = text
    return {"dossier.yaml": dump(meta), "01-chapter.yaml": dump(chapter)}


def render_all(files: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The HTML edition and the EPUB's XHTML documents, rendered without layout."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "dossier"
        root.mkdir()
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        collector, book = check(root)
        assert not collector.errors, [d.format() for d in collector.errors]
        renderer = Renderer(book, RenderSettings(datetime(2024, 5, 1, tzinfo=UTC), "0" * 16))
        return renderer.web_document(""), renderer.epub_documents({})


def words(text: str) -> str:
    return " ".join(text.split())


@SETTINGS
@given(field=st.sampled_from(FIELDS), text=SAFE_TEXT)
def test_any_text_in_any_field_appears_as_text_in_html_and_epub(field, text):
    html, documents = render_all(dossier_with(field, text))
    tree = lxml.html.document_fromstring(html)
    assert inert(tree) == []
    assert words(text) in words(tree.text_content())
    epub_text = ""
    for name, xhtml in documents.items():
        doc = lxml.etree.fromstring(xhtml.encode("utf-8"))  # well-formed XML, whatever the text
        assert inert(doc) == [], name
        epub_text += " " + "".join(doc.itertext())
    if field != "meta.subtitle":  # the EPUB shows it on the cover image only
        assert words(text) in words(epub_text)


HTML_BITS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<b>",
        "</b>",
        "<a href='https://example.org/'>",
        "<a href='javascript:alert(1)'>",
        "</a>",
        "<img alt=x onerror=alert(1)>",
        "<script>",
        "</script>",
        "<iframe src='http://127.0.0.1:9/'>",
        "<svg onload=x>",
        "<style>",
        "</style>",
        "<div style='background:url(file:///etc/passwd)'>",
        "</div>",
        "<br>",
        "<table><tr><td>",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "<math>",
        "<object data=x>",
        "<form action=x>",
        "<noscript>",
        "&nbsp;",
        "&",
        "<",
        ">",
        '"',
        "'",
        "text",
        " ",
        "\n",
        "<p onclick=x>",
        "<a href=' jAvA\tsCrIpT:x'>",
        "<base href=x>",
    ]
)


@SETTINGS
@given(bits=st.lists(HTML_BITS, min_size=1, max_size=25))
def test_opted_in_raw_html_never_yields_script_handler_or_unsafe_address(bits):
    body = "Start.\n\n" + "".join(bits) + "\n\nEnd.\n"
    html, documents = render_all(dossier_with("body", body, raw_html=True))
    assert inert(lxml.html.document_fromstring(html)) == []
    for name, xhtml in documents.items():
        assert inert(lxml.etree.fromstring(xhtml.encode("utf-8"))) == [], name


partial_dates = st.one_of(
    st.integers(1900, 2100).map(lambda y: f"{y:04d}"),
    st.tuples(st.integers(1900, 2100), st.integers(1, 12)).map(lambda t: f"{t[0]:04d}-{t[1]:02d}"),
    st.dates(min_value=datetime(1900, 1, 1).date(), max_value=datetime(2100, 12, 31).date()).map(str),
)


@SETTINGS
@given(dates=st.lists(partial_dates, min_size=1, max_size=12), split=st.integers(0, 12))
def test_events_of_any_dates_and_precisions_come_out_sorted(dates, split):
    events = [{"date": d, "title": f"Event{n:02d}"} for n, d in enumerate(dates)]
    files = {
        "dossier.yaml": dump({"title": "D", "language": "de", "date": "2024-05-01"}),
        "01-a.yaml": dump({"title": "A", "body": "a", "events": events[:split]}),
        "02-b.yaml": dump({"title": "B", "body": "b", "events": events[split:]}),
    }
    html, _ = render_all(files)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        _, book = check(root)
    keys = [(e.date.year, e.date.month, e.date.day) for e in book.timeline]
    assert keys == sorted(keys)  # a year before its months, a month before its days
    order = [int(e.title_html.removeprefix("Event")) for e in book.timeline]
    for a, b in zip(book.timeline, book.timeline[1:], strict=False):
        if a.date == b.date:
            assert int(a.title_html[5:]) < int(b.title_html[5:])  # ties keep reading order
    timeline = html[html.index('id="timeline"') :]
    shown = [int(n) for n in re.findall(r"Event(\d\d)", timeline)]
    assert shown == order
