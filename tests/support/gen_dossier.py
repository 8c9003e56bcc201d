"""A deterministic English dossier of many chapters, to look at and test long layouts."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = ("council tram route budget river study vote station depot corridor bridge timetable plan "
         "engineer shopkeeper winter summer ticket fare line track drainage report letter meeting "
         "committee objection compromise phase opening delay estimate survey").split()
SPEAKERS = ("Ruth Abernathy", "Tomasz Wren", "Mayor Hilde Varga", "Oskar Lindqvist", "Amara Obi")


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, rng.randint(6, 16)) for _ in range(sentences))


def write_dossier(root: Path, chapters: int = 100, seed: int = 7) -> Path:
    """Write a dossier of ``chapters`` chapters under ``root``; the same arguments give the same files."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    names = []
    for number in range(1, chapters + 1):
        name = f"{number:03d}-chapter-{number}.yaml"
        names.append(name)
        body = [_paragraph(rng, rng.randint(2, 6)) for _ in range(rng.randint(1, 6))]
        body.insert(1, f"[[quote:q{number}]]")
        if number % 3 == 0:
            body[0] += "[^1]"
            body.append("[^1]: " + _sentence(rng, 12))
        year = 1990 + number // 3
        events = "\n".join(
            f'  - date: "{year}-{(number * 7 + k) % 12 + 1:02d}"\n    title: "{_sentence(rng, 4)[:-1]}"\n'
            f'    text: "{_sentence(rng, 10)}"' for k in range(rng.randint(1, 2)))
        text = (f'title: "Chapter {number}: {_sentence(rng, 3)[:-1]}"\n'
                f'summary: "{_sentence(rng, 18)}"\n'
                "body: |\n" + "\n\n".join("  " + part for part in body) + "\n"
                f"events:\n{events}\n"
                f'quotes:\n  - id: q{number}\n    speaker: "{SPEAKERS[number % len(SPEAKERS)]}"\n'
                f'    text: "{_sentence(rng, 20)}"\n    date: "{year}"\n')
        (root / name).write_text(text, encoding="utf-8")
    chapter_list = "\n".join(f"  - {name}" for name in names)
    (root / "dossier.yaml").write_text(
        f'title: "A Long Generated Dossier"\nlanguage: en\ndate: "2025-01-01"\nchapters:\n{chapter_list}\n',
        encoding="utf-8")
    return root


if __name__ == "__main__":
    import sys

    write_dossier(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100)
