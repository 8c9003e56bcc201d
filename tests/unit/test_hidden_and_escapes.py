"""Pure rules of issue 10: hidden characters in short fields, escaped messages, addresses, ZIP times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from report.errors import printable
from report.source.hidden import find_hidden
from report.source.model import _url_problem
from report.writers.epub import zip_time, zip_time_note


@pytest.mark.parametrize(
    "text,offsets",
    [
        ("Elon Musk", []),
        ("Elon\u200bMusk", [4]),  # zero-width space: always
        ("abc\u202eevil", [3]),  # override: always
        ("\u202aLTR\u202c", [0, 4]),  # embedding and its pop: always
        ("\u2067محمد\u2069 said", []),  # a closed isolate: the right tool
        ("\u2067محمد said", [0]),  # left open
        ("x\u2069", [1]),  # closing nothing
        ("نام\u200cخانوادگی", []),  # Persian ZWNJ inside a word
        ("क्\u200dष", []),  # Devanagari ZWJ
        ("👩\u200d💻", []),  # emoji ZWJ sequence
        ("Ram\u200dan", [3]),  # inside a Latin word: hides something
        ("Anna\u200c", [4]),  # at an edge
        ("\u200fשלום\u200f", []),  # right-to-left marks are never warned
        ("\ufeffTitle \u2060x", [0, 7]),
    ],
)
def test_hidden_character_rules(text, offsets):
    assert [offset for offset, _ in find_hidden(text)] == offsets


def test_printable_escapes_what_could_forge_or_reorder_a_line():
    escaped = "a\\nb\\r\\x1b[31mc\\u202ed\\u2066e\\x85f\\u2028g\\th"
    assert printable("a\nb\r\x1b[31mc\u202ed\u2066e\x85f\u2028g\th") == escaped
    assert printable("Grüße, 名前, شلوم") == "Grüße, 名前, شلوم"  # letters of every script stay as they are


@pytest.mark.parametrize(
    "url,problem",
    [
        ("https://example.org/", ""),
        ("http://example.org:8080/a?b=c#d", ""),
        ("https://de.wikipedia.org/wiki/Müller_(Name)", ""),
        ("https://[::1]/x", ""),
        ("javascript:alert(1)", "is not an http:// or https:// address"),
        ("https:/example.org", "is not an http:// or https:// address"),
        ("https:///x", "names no valid host"),
        ("https://-bad-.example/", "names no valid host"),
        ("http://exa mple.org/", "U+0020 is not allowed"),
        ('https://example.org/"q"', "'\"' is not allowed"),
        ("https://example.org:99999/", "is not a well-formed address"),
        ("https://[::1/", "is not a well-formed address"),
    ],
)
def test_source_addresses(url, problem):
    found = _url_problem(url)
    assert (problem in found) if problem else found == "", found


def test_zip_times_are_clamped_and_said():
    assert zip_time(datetime(1, 1, 1, tzinfo=UTC)) == datetime(1980, 1, 1, tzinfo=UTC)
    assert zip_time(datetime(9999, 12, 31, tzinfo=UTC)) == datetime(2107, 12, 31, 23, 59, 58, tzinfo=UTC)
    assert zip_time_note(datetime(2024, 5, 1, tzinfo=UTC)) == ""
    note = zip_time_note(datetime(1, 1, 1, tzinfo=UTC))
    assert note.startswith("the EPUB's file times are 1980-01-01, not 0001-01-01")
