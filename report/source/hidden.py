"""Characters that hide or reorder text in short fields: located warnings ("Trojan Source").

A title, a name or an address is read at a glance and compared with others (the quote index
groups speakers by their exact spelling). Invisible characters there make two names that
look the same differ, and bidi controls make text display in another order than it is
stored. Compilers warn about the same characters in code (CVE-2021-42574).

The rule, per character:
- bidi embeddings and overrides (U+202A-U+202E): always warned; the builder sets the
  direction of every edition from the dossier's language, and Unicode's bidi algorithm
  orders mixed text without them.
- bidi isolates (U+2066-U+2069): warned when they do not pair up (an isolate left open, or a
  U+2069 closing nothing); a closed isolate is the proper way to set a name in the other
  direction inside a title.
- zero-width space, word joiner and byte order mark (U+200B, U+2060, U+FEFF): always warned.
- zero-width non-joiner and joiner (U+200C, U+200D): kept silently inside a word of a script
  that shapes with them (Persian, Arabic, the Indic scripts... and ZWJ in emoji sequences):
  between two letters or marks that are not Latin, Greek, Cyrillic or another script that
  never joins; warned anywhere else (at an edge, beside a space, inside a Latin word).
- Left-to-right and right-to-left marks (U+200E, U+200F, U+061C) are never warned: they
  only settle where neutral characters such as punctuation go.

Long text (bodies, summaries, quotations, event text) is not checked: the marks are
ordinary there in right-to-left writing, and what a reader sees is what is printed.
"""

from __future__ import annotations

import unicodedata

from ..errors import Collector
from .yamlfile import YamlDocument, dotted

# Keys of short fields, wherever they stand (dossier.yaml, chapters, quotes, events, source).
SHORT_FIELDS = {
    "title",
    "subtitle",
    "authors",
    "publisher",
    "identifier",
    "id",
    "speaker",
    "context",
    "url",
    "cover",
    "chapters",
    "language",
}

_EMBEDDINGS = {chr(c) for c in range(0x202A, 0x202F)}
_ISOLATE_OPEN = {"\u2066", "\u2067", "\u2068"}
_ISOLATE_CLOSE = "\u2069"
_ALWAYS = {"\u200b", "\u2060", "\ufeff"}
_JOINERS = {"\u200c", "\u200d"}
# scripts whose letters never join: a ZWJ or ZWNJ between their letters only hides something
_NON_JOINING = ("LATIN", "GREEK", "CYRILLIC", "ARMENIAN", "GEORGIAN", "CHEROKEE", "DIGIT", "FULLWIDTH LATIN")


def check_hidden_characters(doc: YamlDocument, collector: Collector) -> None:
    """Warn, at the field, about every character in a short field that hides or reorders text."""
    for loc, text in _short_strings(doc.data, ()):
        for offset, message in find_hidden(text):
            bidi = "bidi control" in message
            collector.warning(
                doc.locate(loc),
                f"character {offset + 1}: {message}",
                field=dotted(loc),
                code="hidden-character",
                hint="delete it: the direction of the text comes from the dossier's language"
                if bidi
                else "delete it, or write a visible character",
            )


def find_hidden(text: str) -> list[tuple[int, str]]:
    """(offset, what) for each character of ``text`` that hides or reorders it."""
    found = []
    open_isolates: list[int] = []
    for offset, ch in enumerate(text):
        name = f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".rstrip()
        if ch in _EMBEDDINGS:
            found.append((offset, f"bidi control {name} reorders how the text is shown"))
        elif ch in _ISOLATE_OPEN:
            open_isolates.append(offset)
        elif ch == _ISOLATE_CLOSE:
            if open_isolates:
                open_isolates.pop()
            else:
                found.append((offset, f"bidi control {name} closes no isolate"))
        elif ch in _ALWAYS:
            found.append((offset, f"invisible character {name}"))
        elif ch in _JOINERS and not _inside_a_joining_word(text, offset):
            found.append((offset, f"invisible character {name} outside a word of a script that joins letters"))
    for offset in open_isolates:
        name = f"U+{ord(text[offset]):04X} {unicodedata.name(text[offset], '')}"
        found.append((offset, f"bidi control {name} is never closed (U+2069), so it reorders the text after it"))
    return sorted(found)


def _inside_a_joining_word(text: str, offset: int) -> bool:
    if offset == 0 or offset == len(text) - 1:
        return False
    before, after = text[offset - 1], text[offset + 1]
    if text[offset] == "\u200d" and _is_emoji(before) and _is_emoji(after):
        return True  # 👩‍💻: an emoji ZWJ sequence
    return _joining_letter(before) and _joining_letter(after)


def _joining_letter(ch: str) -> bool:
    if ch in _JOINERS:  # ZWNJ + ZWJ together occur in Indic conjunct forms
        return True
    if unicodedata.category(ch)[0] not in ("L", "M"):
        return False
    return not unicodedata.name(ch, "").startswith(_NON_JOINING)


def _is_emoji(ch: str) -> bool:
    return unicodedata.category(ch) == "So" or 0x1F3FB <= ord(ch) <= 0x1F3FF or ch == "\ufe0f"


def _short_strings(data: object, loc: tuple):
    """(path, text) of every string under a key in SHORT_FIELDS."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in SHORT_FIELDS:
                yield from _all_strings(value, loc + (key,))
            elif isinstance(value, (dict, list)):
                yield from _short_strings(value, loc + (key,))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _short_strings(item, loc + (index,))


def _all_strings(data: object, loc: tuple):
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _all_strings(item, loc + (index,))
