"""The appendices every edition ends with: one table, read by every template, the nav and the TOC.

To add an appendix: a row here, its partial template in templates/ (and its title word in
each language's table of words, derive/i18n.py). The PDF, the HTML page, the EPUB (a
document of its own, listed in the nav) and the tables of contents all follow this table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Appendix:
    anchor: str  # its id in every edition, and the TOC's link target
    template: str  # the shared partial that renders it (templates/)
    title_key: str  # its title: a key of the language's words (Language.strings)
    epub_document: str  # its own XHTML document in the EPUB
    landmark: str = ""  # an EPUB landmark type (epub:type), if it is one
    handout_template: str = ""  # its short form in the handout, if the handout has it
    only_with: str = ""  # a Book field that must not be empty for the appendix to exist (e.g. "sources")


APPENDICES: tuple[Appendix, ...] = (
    Appendix("timeline", "timeline.html", "timeline", "text/timeline.xhtml", handout_template="handout_timeline.html"),
    Appendix("quote-index", "quote_index.html", "quote_index", "text/quote-index.xhtml", landmark="index"),
    Appendix("sources", "sources.html", "sources", "text/sources.xhtml", landmark="bibliography", only_with="sources"),
    Appendix("imprint", "imprint.html", "imprint", "text/imprint.xhtml"),
)
