"""Raw HTML from a dossier made harmless: an allow-list sanitiser (ammonia, through nh3).

Only used when a dossier opts in with ``raw_html: true``; otherwise Markdown escapes raw
HTML and nothing here runs. Everything not on the lists below is removed for every
edition: scripts, styles, event handlers, iframes, objects, forms, SVG, ``javascript:``
and ``data:`` links, style properties other than ``text-align``, and ``id`` values the
builder did not mint (they would clash with its anchors). ``<img src>`` is kept only when
it names an image the derive stage checked, and is then pointed at that edition's copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
        "var",
        "wbr",
    }
)
# Removed with everything inside them, not just the tags.
CONTENT_REMOVED = frozenset(
    {
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "noscript",
        "noembed",
        "template",
        "svg",
        "math",
        "textarea",
        "select",
        "title",
        "xmp",
        "canvas",
        "audio",
        "video",
    }
)
_GENERIC = {"id", "class", "title", "lang", "dir", "role"}
ATTRIBUTES = {
    "*": _GENERIC,
    "a": {"href", "epub:type"},
    "img": {"src", "alt"},  # no width/height: a 100000px box is not the author's to ask for
    "ol": {"start", "reversed"},
    "td": {"style", "colspan", "rowspan"},
    "th": {"style", "colspan", "rowspan", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
}
_URL_ATTRIBUTES = {"href", "src"}
# A cell's span multiplies the work of table layout: WeasyPrint takes 22 s for one cell of
# colspan=100000 and does not finish one of a million (the whole machine's memory). The caps
# are far beyond any table a reader can use; a larger value is set to the cap, with a warning.
SPAN_LIMITS = {"colspan": 100, "span": 100, "rowspan": 1000}
# Elements nested in one body, raw HTML included: WeasyPrint lays out 100 nested block quotes
# and runs out of Python stack at 150 (a RecursionError with no location).
MAX_ELEMENT_DEPTH = 64
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_VOID = re.compile(r'<(br|hr|img|wbr|col)((?:\s+[^\s=>/]+(?:="[^"]*")?)*)\s*/?>')


def safe_link(url: str) -> bool:
    """A link a reader may follow: an anchor, http(s), mailto, or a relative path; never file: or javascript:."""
    cleaned = re.sub(r"[\x00-\x20\x7f]+", "", url).lower()  # browsers ignore these inside a scheme
    if cleaned.startswith(("#", "http://", "https://", "mailto:")):
        return True
    return not _SCHEME.match(cleaned)


def sanitize(fragment: str, *, image_url: Callable[[str], str | None] | None = None, id_prefix: str = "") -> str:
    """Clean an HTML fragment; the result is well-formed XHTML as well as HTML."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "id":
            return value if id_prefix and value.startswith(id_prefix) else None
        if tag == "img" and attribute == "src":
            return image_url(value) if image_url else None
        if attribute == "href":
            return value if safe_link(value) else None
        if attribute == "style":
            return value if re.fullmatch(r"\s*text-align\s*:\s*(left|right|center)\s*;?\s*", value) else None
        if attribute in SPAN_LIMITS:
            return _capped_span(attribute, value)
        return value

    cleaned = nh3.clean(
        fragment,
        tags=set(TAGS),
        clean_content_tags=set(CONTENT_REMOVED),
        attributes=ATTRIBUTES,
        attribute_filter=keep,
        strip_comments=True,
        link_rel=None,
        # the filter above decides about URLs; these only let its choices through
        url_schemes={"http", "https", "mailto", "file", "data"},
    )
    # html5ever serialises for HTML; the EPUB needs XML: self-closed voids, no named entities.
    cleaned = _VOID.sub(lambda m: f"<{m.group(1)}{m.group(2)} />", cleaned)
    return cleaned.replace("&nbsp;", "\u00a0")


def element_depth(fragment: str) -> int:
    """How deep elements nest in well-formed (sanitised) HTML."""
    depth = deepest = 0
    for closing, _, self_closing in _TAG.findall(fragment):
        if closing:
            depth -= 1
        elif not self_closing:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def table_columns(fragment: str) -> int:
    """The most columns any table row of well-formed (sanitised) HTML spans (colspans summed)."""
    widest = 0
    for row in re.findall(r"<tr\b.*?</tr>", fragment, re.DOTALL):
        cells = re.findall(r"<t[dh]\b([^>]*)>", row)
        spans = [re.search(r'colspan="(\d+)"', attributes) for attributes in cells]
        widest = max(widest, sum(int(span.group(1)) if span else 1 for span in spans))
    return widest


def _capped_span(attribute: str, value: str) -> str | None:
    """A span as a whole number from 1 to its cap; None (dropped) if it is no number."""
    if not re.fullmatch(r"\s*\d{1,12}\s*", value):
        return None
    return str(min(max(int(value), 1), SPAN_LIMITS[attribute]))


@dataclass(frozen=True)
class RawFinding:
    """Something in raw HTML that the sanitiser will remove, or a resource to check."""

    message: str
    image_src: str = ""  # set for <img src>: the derive stage checks the file


def inspect(raw: str) -> list[RawFinding]:
    """What the sanitiser will do to a piece of raw HTML, so the user can be told where."""
    scanner = _Scanner()
    scanner.feed(raw)
    scanner.close()
    return scanner.findings


class _Scanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.findings: list[RawFinding] = []

    def handle_starttag(self, tag, attrs):
        if tag in CONTENT_REMOVED:
            self.findings.append(RawFinding(f"raw HTML <{tag}> is removed with its content"))
            return
        if tag not in TAGS:
            self.findings.append(RawFinding(f"raw HTML <{tag}> is not allowed; the tag is removed"))
            return
        allowed = ATTRIBUTES["*"] | ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            value = value or ""
            if tag == "img" and name == "src":
                self.findings.append(RawFinding("", image_src=value))
            elif name not in allowed or name == "id":
                self.findings.append(RawFinding(f"raw HTML attribute {name}= on <{tag}> is removed"))
            elif name == "href" and not safe_link(value):
                self.findings.append(
                    RawFinding(
                        f"raw HTML link '{value[:60]}' is removed: only #anchors, "
                        "http(s), mailto and relative links are kept"
                    )
                )
            elif name in SPAN_LIMITS and (capped := _capped_span(name, value)) != value.strip():
                self.findings.append(
                    RawFinding(
                        f"raw HTML {name}={value[:20]!r} on <{tag}> is not a whole number from 1 to "
                        f"{SPAN_LIMITS[name]}: " + (f"it is set to {capped}" if capped else "it is removed")
                    )
                )
            elif name == "style":
                self.findings.append(
                    RawFinding(
                        "raw HTML style= is removed (only text-align on table cells "
                        "is kept); style the dossier with CSS"
                    )
                )

    handle_startendtag = handle_starttag
