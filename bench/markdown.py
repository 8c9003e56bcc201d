"""The dossier as one Pandoc Markdown file: the same content, for the EPUB comparison with Pandoc.

Chapters with their summaries, bodies, footnotes and quotes (placed where the body places
them, unplaced ones after the text), then the timeline and the quote index, as the
builder's EPUB has them.

    python bench/markdown.py DOSSIER OUT.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from report.errors import Collector  # noqa: E402
from report.source.loader import load_dossier  # noqa: E402

_QUOTE_REF = re.compile(r"^\[\[quote:([A-Za-z][A-Za-z0-9_-]*)\]\]$", re.M)
_NOTE = re.compile(r"\[\^([^\]]+)\]")


def _quote(quote) -> str:
    who = " · ".join(quote.speaker)
    extra = ", ".join(x for x in (str(quote.date) if quote.date else "", quote.context or "") if x)
    caption = f"— {who}" + (f", {extra}" if extra else "")
    return f"::: {{#q-{quote.id} .quote}}\n> “{quote.text}”\n\n{caption}\n:::"


def to_markdown(root: Path) -> str:
    collector = Collector()
    dossier = load_dossier(Path(root), collector)
    collector.raise_if_errors()
    meta = dossier.meta
    lines = ["---", f'title: "{meta.title}"']
    if meta.subtitle:
        lines.append(f'subtitle: "{meta.subtitle}"')
    if meta.authors:
        lines.append("author:")
        lines += [f'  - "{a}"' for a in meta.authors]
    lines += [f"lang: {meta.language}", f"date: {meta.date}" if meta.date else "", "---", ""]
    events, speakers = [], {}
    for number, loaded in enumerate(dossier.chapters, start=1):
        chapter = loaded.model
        anchor = f"ch-{loaded.anchor}"
        quotes = {q.id: q for q in chapter.quotes}
        body = _NOTE.sub(lambda m, number=number: f"[^c{number}-{m.group(1)}]", chapter.body)
        placed = set(_QUOTE_REF.findall(body))
        body = _QUOTE_REF.sub(lambda m, quotes=quotes: _quote(quotes[m.group(1)]) if m.group(1) in quotes else "", body)
        lines += [f"# {chapter.title} {{#{anchor}}}", ""]
        if chapter.summary:
            lines += [f"*{chapter.summary}*", ""]
        lines += [body, ""]
        lines += [_quote(q) + "\n" for q in chapter.quotes if q.id not in placed]
        events += [(e.date, len(events), e, chapter.title, anchor) for e in chapter.events]
        for quote in chapter.quotes:
            for speaker in quote.speaker:
                speakers.setdefault(speaker, []).append(quote)
    lines += ["# Timeline {#timeline}", ""]
    for date, _, event, title, anchor in sorted(events, key=lambda e: (e[0], e[1])):
        lines += [f"**{date}** — {event.title}. {event.text or ''} [{title}](#{anchor})", ""]
    lines += ["# Quote index {#quote-index}", ""]
    for speaker in sorted(speakers, key=str.casefold):
        lines += [f"## {speaker}", ""]
        lines += [f"- [{' '.join(q.text.split()[:8])} …](#q-{q.id})" for q in speakers[speaker]]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    Path(sys.argv[2]).write_text(to_markdown(Path(sys.argv[1])), encoding="utf-8")
