"""Markdown bodies -> HTML fragments per edition, with quotes placed and footnotes collected.

A body is parsed once; the token stream is then rendered for each edition, which
differ only in how a footnote is shown: in the PDF the note's text stands at the
call (CSS ``float: footnote``), in the EPUB and HTML a note reference links to an
aside after the chapter.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from .citations import CitationHtml, CitationRef, citation_plugin
from .sanitize import safe_link, sanitize

EDITIONS = ("pdf", "epub", "html")
_QUOTE_PLACEHOLDER = re.compile(r"^\[\[quote:([^\]\s]*)\]\]$")
_BLOCK_OPEN = {
    "paragraph_open",
    "heading_open",
    "bullet_list_open",
    "ordered_list_open",
    "blockquote_open",
    "table_open",
}
_BLOCK_LEAF = {"fence", "code_block", "hr", "html_block"}
_CONTAINERS = {"bullet_list_open", "ordered_list_open", "blockquote_open"}
# Lists and block quotes may nest this deep (a list inside a list counts one level). The
# parser is given room for more than twice as many token levels (a list level is two: the
# list and its item), so it never cuts a body short below the limit; deeper nesting is a
# located error. markdown-it's own cut-off (maxNesting, 20 in the commonmark preset) drops
# the rest of a body without a word, and WeasyPrint needs the Python stack for each level.
MAX_NESTING = 16
# Columns of one table: WeasyPrint lays out a row of 3,000 cells in 1.3 s, 30,000 in 41 s and
# 541 MB, and a 1 MiB file can hold 250,000. No page shows more than a few dozen.
MAX_TABLE_COLUMNS = 100
_PARSER_NESTING = 2 * MAX_NESTING + 8


@dataclass(frozen=True)
class BodyPart:
    """Either rendered HTML or the id of a quote to be placed there."""

    html: str = ""
    quote_id: str = ""


@dataclass(frozen=True)
class Footnote:
    number: int
    anchor: str  # id of the note
    ref_anchor: str  # id of the (first) call
    html: str  # the note as block HTML (paragraphs)
    inline_html: str  # the note as one run of inline HTML (for the PDF)


@dataclass(frozen=True)
class QuoteRef:
    """A `[[quote:ID]]` paragraph and the body line it stands on (0-based)."""

    quote_id: str
    line: int


@dataclass(frozen=True)
class ImageRef:
    src: str
    alt: str
    line: int


@dataclass(frozen=True)
class RawHtml:
    """A piece of raw HTML in a body (only kept when the dossier opts in) and its line (0-based)."""

    html: str
    line: int


@dataclass(frozen=True)
class BlockRef:
    """A top-level block of a body (or a footnote, or an image) by its anchor and line (0-based)."""

    anchor: str
    line: int
    kind: str


@dataclass
class ParsedBody:
    tokens: list[Token]
    footnote_tokens: dict[int, list[Token]]
    footnote_labels: dict[int, str]
    quote_refs: list[QuoteRef] = field(default_factory=list)
    images: list[ImageRef] = field(default_factory=list)
    links: list[ImageRef] = field(default_factory=list)  # link targets, to refuse file: and javascript:
    raw_html: list[RawHtml] = field(default_factory=list)
    citations: list[CitationRef] = field(default_factory=list)  # in reading order, footnotes' last
    blocks: list[BlockRef] = field(default_factory=list)  # what every edition must show, by anchor (notes: note_blocks)
    note_lines: dict[int, int] = field(default_factory=dict)  # footnote id -> its line (0-based)
    too_deep: list[int] = field(default_factory=list)  # lines (0-based) nested deeper than MAX_NESTING
    too_wide: list[tuple[int, int]] = field(default_factory=list)  # (line, columns) of rows over the limit


_INLINE_KEPT = 100_000  # inline results a parser keeps (a long `report watch` stays bounded)


class Markdown:
    """A configured Markdown parser for one dossier language."""

    def __init__(self, quotes, *, raw_html: bool = False):
        self.md = (
            MarkdownIt(
                "commonmark",
                {
                    "html": raw_html,
                    "typographer": True,
                    "quotes": quotes,
                    "xhtmlOut": True,
                    "linkify": False,
                    "maxNesting": _PARSER_NESTING,
                },
            )
            .enable(["replacements", "smartquotes", "table", "strikethrough"])
            .use(footnote_plugin)
            .use(citation_plugin)
        )
        # Every link and image becomes a token, so a body's bad address is a located error (book.py)
        # instead of silent text; the render rules below still drop what is not safe.
        self.md.validateLink = lambda url: True  # type: ignore[method-assign]
        self.raw_html = raw_html
        self.config = repr((tuple(quotes), raw_html))  # what shapes its output: part of every memo key
        self._inline: dict[str, str] = {}

    def inline(self, text: str | None) -> str:
        """Render one line of inline Markdown (titles, summaries, event texts)."""
        if not text:
            return ""
        found = self._inline.get(text)
        if found is not None:  # a pure function of the text: a parser kept across builds answers at once
            return found
        # images belong in bodies, where their files are checked; here one renders as its alt text
        rendered = self.md.renderInline(text.strip(), {"image_url": lambda src: ""})
        rendered = sanitize(rendered) if self.raw_html else rendered
        if len(self._inline) >= _INLINE_KEPT:
            self._inline.clear()
        self._inline[text] = rendered
        return rendered

    def _clean(self, rendered: str, anchor: str, image_url: Callable[[str], str]) -> str:
        if not self.raw_html:
            return rendered
        return sanitize(rendered, image_url=lambda src: image_url(src) or None, id_prefix=f"{anchor}-")

    def plain(self, text: str | None) -> str:
        """Inline Markdown with typography applied and markup removed (for metadata)."""
        rendered = self.inline(text)
        return html.unescape(re.sub(r"<[^>]+>", "", rendered))

    def parse_body(self, text: str, anchor: str) -> ParsedBody:
        """Parse a body; give each top-level block an id; find quote placeholders."""
        env: dict = {}
        tokens = self.md.parse(text, env)
        main: list[Token] = []
        notes: dict[int, list[Token]] = {}
        current: list[Token] | None = None
        in_block = False
        labels: dict[int, str] = {}
        for token in tokens:
            if token.type == "footnote_block_open":
                in_block = True
                continue
            if token.type == "footnote_block_close":
                in_block = False
                continue
            if in_block:
                if token.type == "footnote_open":
                    current = notes.setdefault(token.meta["id"], [])
                    labels[token.meta["id"]] = token.meta.get("label", "")
                elif token.type == "footnote_close":
                    current = None
                elif token.type != "footnote_anchor" and current is not None:
                    current.append(token)
                continue
            main.append(token)

        parsed = ParsedBody([], notes, labels)
        block_number = 0
        index = 0
        top_level = min((int(t.tag[1]) for t in main if t.type == "heading_open"), default=1)
        heading_depth = 1
        while index < len(main):
            token = main[index]
            if token.type == "heading_open":
                # the chapter title is h1: body headings start at h2 and never skip a level
                # (WCAG heading order, PDF/UA), whichever level the author began with
                level = min(int(token.tag[1]) - top_level + 2, heading_depth + 1, 6)
                heading_depth = level
                token.tag = f"h{level}"
                main[index + 2].tag = f"h{level}"
            if (
                token.type == "paragraph_open"
                and token.level == 0
                and index + 2 < len(main)
                and main[index + 1].type == "inline"
                and (match := _QUOTE_PLACEHOLDER.match(main[index + 1].content.strip()))
            ):
                line = token.map[0] if token.map else 0
                parsed.quote_refs.append(QuoteRef(match.group(1), line))
                placeholder = Token("quote_placeholder", "", 0)
                placeholder.meta = {"quote_id": match.group(1)}
                parsed.tokens.append(placeholder)
                index += 3
                continue
            if token.level == 0 and (token.type in _BLOCK_OPEN or token.type in _BLOCK_LEAF):
                block_number += 1
                token.attrSet("id", f"{anchor}-b{block_number}")
                parsed.blocks.append(
                    BlockRef(
                        f"{anchor}-b{block_number}", token.map[0] if token.map else 0, token.type.removesuffix("_open")
                    )
                )
            if token.type == "inline":
                self._collect_images(token, parsed, anchor)
                self._collect_citations(token, parsed, anchor, in_footnote=False)
            if token.type == "html_block":
                parsed.raw_html.append(RawHtml(token.content, token.map[0] if token.map else 0))
            parsed.tokens.append(token)
            index += 1
        for fid, note in sorted(notes.items()):
            parsed.note_lines[fid] = next((t.map[0] for t in note if t.map), 0)
            for token in note:
                if token.type == "inline":
                    self._collect_images(token, parsed, anchor)
                    self._collect_citations(token, parsed, anchor, in_footnote=True)
        parsed.too_deep = _too_deep(tokens)
        parsed.too_wide = _too_wide(tokens)
        return parsed

    @staticmethod
    def _collect_citations(token: Token, parsed: ParsedBody, anchor: str, *, in_footnote: bool) -> None:
        """Give each citation its anchor and note the body line it stands on."""
        for child in token.children or []:
            if child.type != "citation":
                continue
            number = len(parsed.citations) + 1
            child.meta["anchor"] = f"{anchor}-cite{number}"
            line = (token.map[0] if token.map else 0) + token.content.count("\n", 0, child.meta["offset"])
            parsed.citations.append(
                CitationRef(
                    child.meta["anchor"], child.meta["items"], child.meta["in_text"], child.content, line, in_footnote
                )
            )

    @staticmethod
    def citations_as_notes(parsed: ParsedBody, anchors: dict[str, str]) -> None:
        """A note style: each citation of the text becomes a footnote of its own.

        ``anchors`` maps each such citation to the author HTML that stays in the text (for `@key`), or "".
        """
        next_id = max(parsed.footnote_tokens, default=-1) + 1
        for token in parsed.tokens:
            if token.type != "inline":
                continue
            children: list[Token] = []
            for child in token.children or []:
                if child.type == "citation" and child.meta.get("anchor") in anchors:
                    author = anchors[child.meta["anchor"]]
                    if author:
                        named = Token("html_inline", "", 0)
                        named.content = author
                        children.append(named)
                    ref = Token("footnote_ref", "", 0)
                    ref.meta = {"id": next_id, "subId": 0, "cite_anchor": child.meta["anchor"]}
                    note = Token("citation_note", "", 0)
                    note.meta = {"anchor": child.meta["anchor"]}
                    parsed.footnote_tokens[next_id] = [note]
                    parsed.footnote_labels[next_id] = ""
                    children.append(ref)
                    next_id += 1
                else:
                    children.append(child)
            token.children = children

    @staticmethod
    def _collect_images(token: Token, parsed: ParsedBody, anchor: str) -> None:
        for child in token.children or []:
            if child.type == "html_inline":
                parsed.raw_html.append(RawHtml(child.content, token.map[0] if token.map else 0))
            if child.type == "link_open":
                parsed.links.append(ImageRef(str(child.attrGet("href") or ""), "", token.map[0] if token.map else 0))
            if child.type == "image":
                image_id = f"{anchor}-img{len(parsed.images) + 1}"
                child.attrSet("id", image_id)
                parsed.blocks.append(BlockRef(image_id, token.map[0] if token.map else 0, "image"))
                alt = "".join(c.content for c in child.children or [])
                parsed.images.append(
                    ImageRef(str(child.attrGet("src") or ""), alt.strip(), token.map[0] if token.map else 0)
                )

    def render_body(
        self,
        parsed: ParsedBody,
        anchor: str,
        edition: str,
        image_url: Callable[[str], str],
        citations: dict[str, CitationHtml] | None = None,
        source_href: Callable[[str], str] | None = None,
    ) -> tuple[tuple[BodyPart, ...], tuple[Footnote, ...]]:
        """Render a parsed body for one edition: body parts and the chapter's footnotes."""
        numbers = {fid: n for n, fid in enumerate(_note_order(parsed), start=1)}
        footnotes: list[Footnote] = []
        env = {
            "edition": edition,
            "anchor": anchor,
            "image_url": image_url,
            "citations": citations or {},
            "source_href": source_href or (lambda source_anchor: f"#{source_anchor}"),
        }
        for fid in numbers:  # in the order of their calls
            tokens = parsed.footnote_tokens[fid]
            number = numbers[fid]
            block = self._clean(self.md.renderer.render(tokens, self.md.options, env).strip(), anchor, image_url)
            inline = re.sub(r"</p>\s*<p>", " ", block)
            inline = re.sub(r"^<p>|</p>$", "", inline).strip()
            footnotes.append(Footnote(number, f"{anchor}-fn{number}", f"{anchor}-fnref{number}", block, inline))
        env["footnotes"] = {fid: footnotes[numbers[fid] - 1] for fid in numbers}

        parts: list[BodyPart] = []
        run: list[Token] = []
        for token in parsed.tokens:
            if token.type == "quote_placeholder":
                if run:
                    parts.append(
                        BodyPart(
                            html=self._clean(self.md.renderer.render(run, self.md.options, env), anchor, image_url)
                        )
                    )
                    run = []
                parts.append(BodyPart(quote_id=token.meta["quote_id"]))
            else:
                run.append(token)
        if run:
            parts.append(
                BodyPart(html=self._clean(self.md.renderer.render(run, self.md.options, env), anchor, image_url))
            )
        return tuple(parts), tuple(footnotes)


def _note_order(parsed: ParsedBody) -> list[int]:
    """Footnote ids in the order their calls appear (a citation note among them), unreferenced ones last."""
    order: list[int] = []
    for token in parsed.tokens:
        for child in token.children or []:
            if (
                child.type == "footnote_ref"
                and child.meta["id"] in parsed.footnote_tokens
                and child.meta["id"] not in order
            ):
                order.append(child.meta["id"])
    return order + [fid for fid in sorted(parsed.footnote_tokens) if fid not in order]


def note_blocks(parsed: ParsedBody, anchor: str) -> list[BlockRef]:
    """The footnotes every edition must show, numbered as they are rendered (in the order of their calls).

    Only notes written in the body: a note a citation style made has no line of its own.
    """
    return [
        BlockRef(f"{anchor}-fn{number}", parsed.note_lines[fid], "footnote")
        for number, fid in enumerate(_note_order(parsed), start=1)
        if fid in parsed.note_lines
    ]


def _too_deep(tokens: list[Token]) -> list[int]:
    """Lines (0-based) where lists and block quotes nest deeper than MAX_NESTING, the first of each run."""
    depth = 0
    lines: list[int] = []
    for token in tokens:
        if token.type in _CONTAINERS:
            depth += 1
            if depth == MAX_NESTING + 1:
                lines.append(token.map[0] if token.map else 0)
        elif token.type.removesuffix("_close") + "_open" in _CONTAINERS and token.nesting == -1:
            depth -= 1
    return lines


def _too_wide(tokens: list[Token]) -> list[tuple[int, int]]:
    """(line, columns) of the first table row of each table with more than MAX_TABLE_COLUMNS cells."""
    found: list[tuple[int, int]] = []
    cells, line, reported = 0, 0, False
    for token in tokens:
        if token.type == "table_open":
            reported = False
        elif token.type == "tr_open":
            cells, line = 0, token.map[0] if token.map else 0
        elif token.type in ("td_open", "th_open"):
            cells += 1
        elif token.type == "tr_close" and cells > MAX_TABLE_COLUMNS and not reported:
            found.append((line, cells))
            reported = True
    return found


def _footnote_ref(self, tokens, idx, options, env):
    token = tokens[idx]
    note: Footnote = env["footnotes"][token.meta["id"]]
    ref_id = note.ref_anchor if token.meta.get("subId", 0) == 0 else f"{note.ref_anchor}-{token.meta['subId']}"
    if env["edition"] == "pdf":
        # WeasyPrint 70 breaks the line at every source newline inside a float: footnote.
        text = re.sub(r"\s*\n\s*", " ", note.inline_html)
        # the empty span marks the call's place, so the layout can tell the page of the call
        out = f'<span id="{ref_id}"></span><span class="footnote" id="{note.anchor}">{text}</span>'
    else:
        epub_type = ' epub:type="noteref"' if env["edition"] == "epub" else ""
        out = f'<a class="noteref" href="#{note.anchor}" id="{ref_id}" role="doc-noteref"{epub_type}>{note.number}</a>'
    cite_anchor = token.meta.get("cite_anchor")
    if cite_anchor:  # a citation of a note style: the sources appendix links back to this call
        return f'<span class="citation" id="{cite_anchor}">{out}</span>'
    return out


def _citation(self, tokens, idx, options, env):
    """A citation in the text, linked to its entry in the sources appendix (in-text styles)."""
    token = tokens[idx]
    rendered: CitationHtml | None = env.get("citations", {}).get(token.meta.get("anchor"))
    if rendered is None:  # not a source id (checked in book.py), or text outside a body: as written
        return html.escape(token.content, quote=False)
    href = html.escape(env["source_href"](rendered.source_anchor), quote=True)
    link = f'<a class="cite" href="{href}">{rendered.text_html}</a>'
    if rendered.note:  # inside a footnote already: the citation stands there as text
        return link
    return f'<span class="citation" id="{token.meta["anchor"]}">{link}</span>'


def _citation_note(self, tokens, idx, options, env):
    """The text of a footnote that a note style made from a citation."""
    rendered: CitationHtml = env["citations"][tokens[idx].meta["anchor"]]
    href = html.escape(env["source_href"](rendered.source_anchor), quote=True)
    return f'<p><a class="cite" href="{href}">{rendered.text_html}</a></p>'


def _image(self, tokens, idx, options, env):
    token = tokens[idx]
    src = env["image_url"](str(token.attrGet("src") or ""))
    alt = html.escape("".join(c.content for c in token.children or []), quote=True)
    if not src:  # not a checked image (e.g. in a title): never emit a src for a renderer to fetch
        return alt
    title = token.attrGet("title")
    title_attr = f' title="{html.escape(str(title), quote=True)}"' if title else ""
    image_id = token.attrGet("id")
    id_attr = f' id="{html.escape(str(image_id), quote=True)}"' if image_id else ""
    return f'<img src="{html.escape(src, quote=True)}" alt="{alt}"{id_attr}{title_attr} />'


def _link_open(self, tokens, idx, options, env):
    token = tokens[idx]
    if not safe_link(str(token.attrGet("href") or "")):
        token.attrs.pop("href", None)
    return self.renderToken(tokens, idx, options, env)


def install_rules(markdown: Markdown) -> None:
    markdown.md.add_render_rule("footnote_ref", _footnote_ref)
    markdown.md.add_render_rule("citation", _citation)
    markdown.md.add_render_rule("citation_note", _citation_note)
    markdown.md.add_render_rule("image", _image)
    markdown.md.add_render_rule("link_open", _link_open)


def make_markdown(quotes, *, raw_html: bool = False, straight_quotes: bool = False) -> Markdown:
    """``straight_quotes``: turn every straight double quote left over into the language's marks.

    markdown-it's typographer leaves a `"` straight when a letter without case (Chinese,
    Japanese) stands beside it: for those languages the marks alternate open and close.
    """
    markdown = Markdown(quotes, raw_html=raw_html)
    markdown.config = repr((tuple(quotes), raw_html, straight_quotes))
    install_rules(markdown)
    if straight_quotes:
        markdown.md.core.ruler.after("smartquotes", "straight_quotes", _straight_quotes_rule(quotes[0], quotes[1]))
    return markdown


def _straight_quotes_rule(opening: str, closing: str):
    def rule(state) -> None:
        for token in state.tokens:
            if token.type != "inline" or not token.children:
                continue
            is_open = False
            for child in token.children:
                if child.type != "text" or '"' not in child.content:
                    continue
                pieces = []
                for char in child.content:
                    if char == '"':
                        pieces.append(closing if is_open else opening)
                        is_open = not is_open
                    else:
                        pieces.append(char)
                child.content = "".join(pieces)

    return rule
