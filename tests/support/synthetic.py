"""The one generator of synthetic dossiers, for the tests and the benchmark (bench/run.py).

N chapters of about 2-3 printed pages each, in the source format. Deterministic: the same
N (and seed) always gives the same bytes. Each chapter has a summary, a body of several
paragraphs with footnotes and placed quotes, events with partial dates (year, month, day)
in no particular order across chapters, and quotes both placed and unplaced, from single
and joint speakers.

    python -m tests.support.synthetic OUT_DIR --chapters 30
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = (
    "the council agreed to review budget after month of debate members of committee asked for clear "
    "figures on cost of new bridge while engineers warned that river had risen faster than expected and "
    "report from consultants suggested phased plan with drainage works first board voted in favour of "
    "delay despite objection from mayor who argued residents had waited long enough for decision on "
    "transport infrastructure funding minutes show several amendments were proposed withdrawn and then "
    "reintroduced in revised form following legal advice about procurement rules governing public "
    "contracts above threshold set by regional authority negotiations continued through summer with "
    "contractors unions and environmental groups each pressing their own priorities"
).split()
SPEAKERS = [
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Katherine Johnson",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Margaret Hamilton",
    "John McCarthy",
    "Frances Allen",
    "Ken Thompson",
    "Radia Perlman",
    "Tim Berners-Lee",
    "Hedy Lamarr",
    "Claude Shannon",
    "Sophie Wilson",
    "Niklaus Wirth",
    "Jean Sammet",
    "Dennis Ritchie",
    "Lynn Conway",
]
CONTEXTS = [
    "Letter to the board",
    "Interview with the local paper",
    "Committee hearing",
    "E-mail to staff",
    "Press conference",
    "Public meeting",
    None,
]


def _sentence(rng: random.Random, low: int = 8, high: int = 22) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def _quote_yaml(quote_id: str, rng: random.Random, year: int) -> str:
    joint = rng.random() < 0.25
    speakers = rng.sample(SPEAKERS, 2) if joint else [rng.choice(SPEAKERS)]
    lines = [f"  - id: {quote_id}"]
    if joint:
        lines.append("    speaker:")
        lines += [f'      - "{name}"' for name in speakers]
    else:
        lines.append(f'    speaker: "{speakers[0]}"')
    lines.append(f'    text: "{_sentence(rng, 14, 30)} {_sentence(rng, 6, 14)}"')
    date = _partial_date(rng, year)
    if date:
        lines.append(f'    date: "{date}"')
    context = rng.choice(CONTEXTS)
    if context:
        lines.append(f'    context: "{context}"')
    return "\n".join(lines)


def _partial_date(rng: random.Random, year: int) -> str | None:
    kind = rng.random()
    if kind < 0.1:
        return None
    if kind < 0.3:
        return f"{year}"
    if kind < 0.55:
        return f"{year}-{rng.randint(1, 12):02d}"
    return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def chapter_yaml(number: int, seed: int = 7) -> str:
    """One chapter file: body with footnotes and placed quotes, events, unplaced quotes."""
    rng = random.Random(seed * 100_003 + number)
    year = 1990 + (number * 7) % 35  # chapters are not in date order: the timeline must sort
    quote_ids = [f"q{number:04d}-{k}" for k in range(1, 4)]
    placed, unplaced = quote_ids[:2], quote_ids[2:]
    paragraphs: list[str] = []
    notes: list[str] = []
    for index in range(7):
        text = _paragraph(rng, rng.randint(4, 6))
        if index in (1, 4):
            note = len(notes) + 1
            text = text[:-1] + f"[^{note}]."
            notes.append(f"[^{note}]: {_sentence(rng, 10, 24)}")
        paragraphs.append(text)
        if index == 2:
            paragraphs.append(f"[[quote:{placed[0]}]]")
        if index == 5:
            paragraphs.append(f"[[quote:{placed[1]}]]")
    body = "\n\n".join(paragraphs + notes)
    events = []
    for k in range(3):
        date = _partial_date(rng, year + k) or f"{year + k}"
        events.append(
            f'  - date: "{date}"\n    title: "{_sentence(rng, 4, 9)[:-1]}"\n    text: "{_sentence(rng, 10, 20)}"'
        )
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 6))).capitalize()
    indented = "\n".join(f"  {line}" if line else "" for line in body.splitlines())
    quotes = "\n".join(_quote_yaml(q, rng, year) for q in placed + unplaced)
    return (
        f'title: "Chapter {number}: {title}"\nid: chapter-{number:04d}\n'
        f'summary: "{_sentence(rng, 12, 24)}"\nbody: |\n{indented}\n'
        f"events:\n" + "\n".join(events) + "\nquotes:\n" + quotes + "\n"
    )


def write_dossier(out: Path, chapters: int, seed: int = 7) -> Path:
    """Write dossier.yaml and the chapter files into ``out`` (emptied of old chapter files)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.yaml"):
        old.unlink()
    (out / "dossier.yaml").write_text(
        f'title: "Synthetic briefing of {chapters} chapters"\n'
        'subtitle: "A generated dossier for the benchmark"\n'
        "language: en\n"
        'date: "2026-01-15"\n'
        'authors: ["Bench Writer"]\n'
        'publisher: "Benchmark Desk"\n'
        'description: "Generated content for measuring the builder."\n',
        encoding="utf-8",
    )
    for number in range(1, chapters + 1):
        (out / f"{number:04d}-chapter.yaml").write_text(chapter_yaml(number, seed), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--chapters", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    write_dossier(args.out, args.chapters, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
