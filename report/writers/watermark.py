"""The draft watermark: one word set diagonally across every PDF page, as the page's background.

WeasyPrint paints page backgrounds inside an /Artifact marked-content sequence, so the word
stays out of the structure tree: screen readers skip it and PDF/UA stays clean (a margin box
or a fixed element would be tagged content, read out on every page). The document asks for it
with ``<meta name="report-watermark" content="WORD">`` (the word comes from the language table);
the fetcher serves the SVG under the scheme below, since it refuses data: URLs.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote, unquote

SCHEME = "report-watermark"
META_NAME = "report-watermark"
MAX_WORD = 40  # a word, not a text: the meta element can come from a dossier's own template


def requested_word(root_element: Any) -> str:  # the parsed document's root (ElementTree)
    """The watermark word a parsed HTML document asks for; "" for none."""
    for meta in root_element.iter("meta"):
        if meta.get("name") == META_NAME:
            return (meta.get("content") or "").strip()[:MAX_WORD]
    return ""


def stylesheet(word: str) -> str:
    """CSS that puts the watermark on every page, the cover (which has its own background) included.

    `!important` because print.css gives the cover page a background of its own at the same origin.
    """
    url = f"{SCHEME}:{quote(word, safe='')}"
    return (
        f'@page {{ background-image: url("{url}") !important; background-repeat: no-repeat !important;'
        " background-position: center !important; background-size: contain !important; }"
    )


def svg(url_path: str) -> bytes:
    """The watermark image for the word in a ``report-watermark:`` URL: large, light, at the page's diagonal."""
    word = unquote(url_path).strip()[:MAX_WORD].upper()
    size = min(60.0, 240.0 / (0.72 * max(len(word), 1)))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297">'
        f'<text x="105" y="148.5" transform="rotate(-54.7 105 148.5)" text-anchor="middle" '
        f'dominant-baseline="central" font-family="Inter" font-weight="700" font-size="{size:.1f}" '
        f'letter-spacing="{size * 0.08:.1f}" fill="#8a1c1c" fill-opacity="0.10">{escape(word)}</text></svg>'
    ).encode()
