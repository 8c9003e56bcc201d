"""Citations of a dossier -> the sources appendix, the sources of quotes and events, body citations.

Every citation is checked against the dossier's sources here (located errors), registered
with citeproc-py in reading order (chapter by chapter: text, quotes, then the events), and
rendered once; the appendix lists each cited source once, in the style's order, with the
places that cite it (one per chapter, and the timeline).
"""

from __future__ import annotations

import copy
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Collector, Location
from ..source.bibliography import UNREADABLE, SourceRecord
from ..source.loader import LoadedChapter, LoadedDossier
from ..source.model import Event, Quote
from .citations import (
    BackRef,
    CitationEngine,
    CitationHtml,
    CitationRef,
    CitedSourceView,
    CiteItem,
    SourceRef,
    StyleError,
    csl_locale,
    default_style,
    short_form,
    who_short,
)
from .i18n import Language

TIMELINE_ANCHOR = "timeline"


@dataclass
class CitedSources:
    """What the Book takes from the citations."""

    citations: dict[str, CitationHtml] = field(default_factory=dict)  # body citation anchor -> rendered
    quote_sources: dict[str, SourceRef] = field(default_factory=dict)  # quote id -> its source
    event_sources: dict[tuple[str, int], SourceRef] = field(default_factory=dict)  # (chapter id, index)
    sources: tuple[CitedSourceView, ...] = ()  # the sources appendix (appendices.py: only_with="sources")
    citation_class: str = ""


def source_anchor(source_id: str) -> str:
    return f"src-{source_id}"


def event_anchor(loaded: LoadedChapter, index: int) -> str:
    """The event's id in the timeline (the same rule as book.py's EventView.anchor, prefixed)."""
    event = loaded.model.events[index]
    return f"tl-{event.id or f'ev-{loaded.anchor}-{index + 1}'}"


def derive_sources(
    dossier: LoadedDossier, parsed_bodies: list, markdown, language: Language, collector: Collector
) -> CitedSources:
    """Check and render every citation; report unknown ids (errors) and unused sources (warnings)."""
    known = dossier.sources.ids
    broken = dossier.sources.broken_ids  # already reported where they are written
    if UNREADABLE in broken:  # the bibliography file could not be read: no citation can be checked
        named = {item.key for p in parsed_bodies for ref in p.citations for item in ref.items}
        named |= {q.source for c in dossier.chapters for q in c.model.quotes if q.source}
        named |= {e.source for c in dossier.chapters for e in c.model.events if e.source}
        broken = broken | named
    result = CitedSources()
    before = len(collector.errors)
    body_refs: list[tuple[LoadedChapter, CitationRef]] = []
    for loaded, parsed in zip(dossier.chapters, parsed_bodies, strict=True):
        lines = _file_lines(loaded.path)
        for ref in parsed.citations:
            missing = [item.key for item in ref.items if item.key not in known | broken]
            if not missing:
                if all(item.key in known for item in ref.items):
                    body_refs.append((loaded, ref))
                continue
            where = _citation_location(loaded, ref, lines)
            for key in missing:
                message = f"@{key} names no source of the dossier"
                hint = _hint(key, known) or "add it to `sources` in dossier.yaml or to the bibliography file"
                if ref.in_text:  # `@name` in running text may be a handle, not a citation: printed as written
                    collector.warning(
                        where, message + "; printed as written", field="body", hint=hint, code="unknown-citation"
                    )
                else:
                    collector.error(where, message, field="body", hint=hint)
        for kind in ("quotes", "events"):
            for index, entry in enumerate(getattr(loaded.model, kind)):
                if entry.source and entry.source not in known | broken:
                    collector.error(
                        loaded.doc.locate((kind, index, "source")),
                        f"source '{entry.source}' names no source of the dossier",
                        field=f"{kind}[{index}].source",
                        hint=_hint(entry.source, known)
                        or "add it to `sources` in dossier.yaml or to the bibliography file",
                    )
    if not dossier.sources.records or len(collector.errors) > before:
        return result

    records = dossier.sources.records
    style = dossier.sources.style_path or default_style()
    style_where = (
        dossier.meta_doc.locate(("citation_style",))
        if dossier.sources.style_path
        else Location(dossier.root / "dossier.yaml")
    )
    try:
        engine = CitationEngine(
            {r.id: r.csl for r in records}, {r.id: r.url for r in records}, style, csl_locale(language.tag)
        )
        # `@key` in an author-date style: "Müller (2020, S. 12)"; the parenthesis comes from the same style,
        # given the items without their names and titles (citeproc-py cannot suppress the author)
        narrative = None
        if any(_without_author(ref) for _, ref in body_refs):
            narrative = CitationEngine(
                {r.id: _without_names(r.csl) for r in records}, {}, style, csl_locale(language.tag)
            )
    except StyleError as exc:
        collector.error(style_where, str(exc), field="citation_style")
        return result
    result.citation_class = "note" if engine.is_note else "in-text"

    # register in reading order, then render (citeproc-py numbers and disambiguates on registration)
    places: dict[str, list[BackRef]] = {}
    pending_body = []
    pending_quotes: list[tuple[Quote, Any]] = []  # (quote, its citation)
    pending_events: list[tuple[tuple[str, int], Event, Any]] = []  # ((chapter id, index), event, citation)
    used: set[str] = set()
    number_of = {c.anchor: n for n, c in enumerate(dossier.chapters, start=1)}
    for loaded in dossier.chapters:
        chapter_anchor = f"ch-{loaded.anchor}"
        label = str(number_of[loaded.anchor])
        for chapter_loaded, ref in body_refs:
            if chapter_loaded is not loaded:
                continue
            citation = engine.citation(ref.items)
            extra = narrative.citation(ref.items) if narrative is not None and _without_author(ref) else None
            pending_body.append((ref, citation, extra))
            for item in ref.items:
                used.add(item.key)
                _add_place(places, item.key, BackRef(ref.anchor, chapter_anchor, label))
        for quote in loaded.model.quotes:
            if quote.source:
                citation = engine.citation((CiteItem(quote.source, locator=quote.locator or ""),))
                pending_quotes.append((quote, citation))
                used.add(quote.source)
                _add_place(places, quote.source, BackRef(f"q-{quote.id}", chapter_anchor, label))
    for loaded in dossier.chapters:
        for index, event in enumerate(loaded.model.events):
            if event.source:
                citation = engine.citation((CiteItem(event.source, locator=event.locator or ""),))
                pending_events.append(((loaded.anchor, index), event, citation))
                used.add(event.source)
                _add_place(
                    places,
                    event.source,
                    BackRef(event_anchor(loaded, index), TIMELINE_ANCHOR, language.strings["timeline"]),
                )

    by_id = {r.id: r for r in records}
    try:
        note_anchors: dict[str, str] = {}
        for ref, citation, extra in pending_body:
            text = engine.render(citation)
            first = ref.items[0].key
            note = engine.is_note and not ref.in_footnote
            who = html.escape(who_short(by_id[first].csl), quote=False) if ref.in_text else ""
            if _without_author(ref) and not engine.is_note:  # Müller (2020, S. 12); [-@key]: (2020)
                assert narrative is not None
                text = f"{who} {narrative.render(extra)}".strip()
            # a note style names the author of `@key` in the text and cites in the note
            result.citations[ref.anchor] = CitationHtml(text, source_anchor(first), note, who if note else "")
            if note:
                note_anchors[ref.anchor] = who if ref.in_text else ""
        for quote, citation in pending_quotes:
            result.quote_sources[quote.id] = _source_ref(
                quote.source or "", quote.locator, engine.render(citation), by_id
            )
        for key, event, citation in pending_events:
            result.event_sources[key] = _source_ref(event.source or "", event.locator, engine.render(citation), by_id)
        entries = engine.entries()
    except StyleError as exc:
        collector.error(style_where, str(exc), field="citation_style")
        return result

    if engine.is_note:
        for number, parsed in enumerate(parsed_bodies):
            anchors = {ref.anchor: note_anchors[ref.anchor] for ref in parsed.citations if ref.anchor in note_anchors}
            if anchors:
                # the parse may be kept for later builds (memo.py): the notes go into a copy of it
                parsed_bodies[number] = parsed = copy.deepcopy(parsed)
                markdown.citations_as_notes(parsed, anchors)

    result.sources = tuple(
        CitedSourceView(
            source_id,
            source_anchor(source_id),
            entry_html,
            short_form(by_id[source_id].csl),
            tuple(places.get(source_id, ())),
        )
        for source_id, entry_html in entries
    )
    for record in records:
        if record.id not in used:
            collector.warning(
                record.location,
                f"source '{record.id}' is cited nowhere; it is left out of the sources appendix",
                field="sources",
                code="unused-source",
            )
    return result


def _add_place(places: dict[str, list[BackRef]], source_id: str, ref: BackRef) -> None:
    """One back-link per chapter (its first citation) and one for the timeline."""
    existing = places.setdefault(source_id, [])
    if all(r.doc_anchor != ref.doc_anchor for r in existing):
        existing.append(ref)


def _source_ref(source_id: str, locator: str | None, cited_html: str, by_id: dict[str, SourceRecord]) -> SourceRef:
    return SourceRef(source_anchor(source_id), short_form(by_id[source_id].csl), locator or "", cited_html)


def _without_author(ref: CitationRef) -> bool:
    """`@key` in the text, or `[-@key]`: the parenthesis without the author (an author-date style)."""
    return ref.in_text or all(item.suppress_author for item in ref.items)


def _without_names(csl: dict) -> dict:
    """The item as a narrative citation's parenthesis shows it: no author or title, so only year and locator."""
    dropped = {
        "author",
        "editor",
        "translator",
        "title",
        "title-short",
        "container-title",
        "publisher",
        "recipient",
        "authority",
    }
    return {k: v for k, v in csl.items() if k not in dropped}


def _file_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _citation_location(loaded: LoadedChapter, ref: CitationRef, lines: list[str]) -> Location:
    """The file line and column of a citation in a body (block scalar: exact; else the body's line)."""
    line = loaded.body_line() + ref.line
    if 0 < line <= len(lines):
        column = lines[line - 1].find(ref.raw)
        if column < 0:
            column = lines[line - 1].find(ref.raw.split()[0]) if ref.raw.split() else -1
        if column >= 0:
            return Location(loaded.path, line, column + 1)
    return Location(loaded.path, line, 1)


def _hint(word: str, choices: frozenset[str]) -> str:
    import difflib

    match = difflib.get_close_matches(word, sorted(choices), n=1)
    return f"did you mean '{match[0]}'?" if match else ""
