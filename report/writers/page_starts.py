"""Where each PDF page begins inside a block of text, read from WeasyPrint's laid-out boxes.

The page map (id -> page) places an EPUB page marker before the first block that starts
on a page; most pages, though, begin in the middle of a paragraph. This walks the boxes
of the one layout the PDF already made and tells, for such a page, which element it
begins in and after how many of that element's words, so that the EPUB marker can stand
between the same two words as the page break of the print.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"\S+")
_HYPHENS = ("\u2010", "\u00ad")  # what WeasyPrint appends when it hyphenates a word at a line end


@dataclass(frozen=True)
class PageStart:
    """A page that begins inside the element ``element_id``, after ``words_before`` of its words."""

    page: int
    element_id: str
    words_before: int


def page_starts(document: Any, pages: dict[str, int]) -> list[PageStart]:
    """Pages of a laid-out WeasyPrint document that begin inside an element with an id.

    Words are counted on the text of the flow only: generated content (list markers,
    footnote calls) and the footnote area are left out, as the EPUB has neither inline.
    """
    text_before: dict[str, list[str]] = {}  # element id -> its text on the pages so far, as lines
    starts: list[PageStart] = []
    for number, page in enumerate(document.pages, start=1):
        first: tuple[str, int] | None = None
        lines_here: dict[str, list[str]] = {}
        for element_id, line in _flow_lines(page._page_box):
            if first is None and pages.get(element_id, number) < number:
                first = (element_id, _count_words(text_before.get(element_id, [])))
            elif first is None:
                first = ("", 0)  # the page begins with a new block: the page map places it
            lines_here.setdefault(element_id, []).append(line)
        if first and first[0]:
            starts.append(PageStart(number, first[0], first[1]))
        for element_id, lines in lines_here.items():
            text_before.setdefault(element_id, []).extend(lines)
    return starts


def _count_words(lines: list[str]) -> int:
    """Words in lines of one element; a word hyphenated at a line end counts once."""
    text = ""
    for line in lines:
        if text.endswith(_HYPHENS):
            text = text[:-1] + line  # "Län‐" + "dern": one word
        elif text.endswith("-"):
            text += line  # a hard hyphen at the line end ("OpenAI-" + "CEO") joins too
        else:
            text += " " + line
    return len(_WORD.findall(text.replace("\u00ad", "")))


def _flow_lines(page_box: Any) -> Iterator[tuple[str, str]]:
    """(innermost element id, text) of every line piece in the page's flow, in order."""
    from weasyprint.formatting_structure import boxes

    def walk(box: Any, element_id: str) -> Iterator[tuple[str, str]]:
        if isinstance(box, (boxes.MarginBox, boxes.FootnoteAreaBox)):
            return
        if "::" in (box.element_tag or ""):
            return  # generated content: list markers, footnote calls, ::before/::after
        element = box.element
        own = element.get("id") if element is not None and hasattr(element, "get") else None
        if own and not isinstance(box, boxes.TextBox):
            element_id = own
        if isinstance(box, boxes.LineBox):
            text = "".join(t for t in _line_text(box))
            if text.strip() and element_id:
                yield element_id, text.strip()
            return
        for child in getattr(box, "children", ()):
            yield from walk(child, element_id)

    def _line_text(line: Any) -> Iterator[str]:
        for box in line.descendants():
            if isinstance(box, boxes.TextBox) and "::" not in (box.element_tag or ""):
                yield box.text

    for child in page_box.children:
        yield from walk(child, "")
