"""`report new`: write a new dossier folder that builds as it is, in any language with a table."""

from __future__ import annotations

import json
from datetime import date as Date
from pathlib import Path

from .errors import ReportError
from .languages import Language, available_tags
from .schema import json_schema

SCHEMA_FILE = "dossier.schema.json"
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE}\n"

_TEXTS = {
    "en": {
        "dossier": """\
title: {title}
subtitle: A new dossier
language: en
authors:
  - Your Name
date: "{today}"
description: >-
  What this dossier is about, in a sentence or two.
layout: briefing      # or book: duplex print, chapters on right-hand pages
status: draft         # a DRAFT watermark on every page; final when it goes out
version: "0.1"
# classification: Internal      # printed on every page, e.g. Confidential or TLP:AMBER
changes:
  - date: "{today}"
    version: "0.1"
    text: First draft.
key_points:
  - The most important finding, in a sentence.
  - Key points stand in a box before the contents, where a reader starts.
# What quotes, events and bodies cite ([@example-source, p. 2]); listed in the sources
# appendix. A Zotero export can be named instead or as well: bibliography: library.bib
sources:
  - id: example-source
    type: email
    title: "Re: An example"
    author: "Doe, Jane"
    date: "{today}"
    note: An example; replace it with your own sources.
""",
        "chapter_file": "01-introduction.yaml",
        "chapter": """\
title: Introduction
summary: A lead paragraph that says what the chapter is about.
body: |
  Write the chapter here, in Markdown: *emphasis*, **strong**, lists, tables
  and footnotes.[^1] Cite a source the way Pandoc does [@example-source].

  A paragraph that is only a quote reference places the quote here:

  [[quote:example-quote]]

  [^1]: A footnote, printed at the foot of the page in the PDF.
events:
  - date: "{today}"
    title: The dossier was started
    text: Events appear in the timeline at the end, in date order.
quotes:
  - id: example-quote
    speaker: Jane Doe
    text: An example quotation, word for word as it was said or written.
    date: "{today}"
    context: An e-mail to the editors
    source: example-source
""",
    },
    "de": {
        "dossier": """\
title: {title}
subtitle: Ein neues Dossier
language: de
authors:
  - Ihr Name
date: "{today}"
description: >-
  Worum es in diesem Dossier geht, in ein, zwei Sätzen.
layout: briefing      # oder book: doppelseitiger Druck, Kapitel auf rechten Seiten
status: draft         # ein Wasserzeichen ENTWURF auf jeder Seite; final, wenn es hinausgeht
version: "0.1"
# classification: Intern      # auf jeder Seite gedruckt, z. B. Vertraulich oder TLP:AMBER
changes:
  - date: "{today}"
    version: "0.1"
    text: Erster Entwurf.
key_points:
  - Die wichtigste Erkenntnis, in einem Satz.
  - Die Kernpunkte stehen in einem Kasten vor dem Inhalt, wo das Lesen beginnt.
# Was Zitate, Ereignisse und Texte zitieren ([@beispiel-quelle, S. 2]); im Anhang
# "Quellen" aufgeführt. Ein Zotero-Export geht ebenso: bibliography: bibliothek.bib
sources:
  - id: beispiel-quelle
    type: email
    title: "Re: Ein Beispiel"
    author: "Mustermann, Erika"
    date: "{today}"
    note: Ein Beispiel; ersetzen Sie es durch Ihre Quellen.
""",
        "chapter_file": "01-einleitung.yaml",
        "chapter": """\
title: Einleitung
summary: Ein Vorspann, der sagt, worum es im Kapitel geht.
body: |
  Schreiben Sie das Kapitel hier, in Markdown: *betont*, **fett**, Listen,
  Tabellen und Fußnoten.[^1] Quellen zitieren Sie wie in Pandoc [@beispiel-quelle].

  Ein Absatz, der nur aus einem Zitatverweis besteht, setzt das Zitat hierher:

  [[quote:beispiel-zitat]]

  [^1]: Eine Fußnote, im PDF am Fuß der Seite gedruckt.
events:
  - date: "{today}"
    title: Das Dossier wurde angelegt
    text: Ereignisse erscheinen in der Zeitleiste am Ende, nach Datum geordnet.
quotes:
  - id: beispiel-zitat
    speaker: Erika Mustermann
    text: Ein Beispielzitat, Wort für Wort, wie es gesagt oder geschrieben wurde.
    date: "{today}"
    context: E-Mail an die Redaktion
    source: beispiel-quelle
""",
    },
}
LANGUAGES = available_tags()


def _texts_from_table(tag: str) -> dict[str, str]:
    """The example dossier of a language with a table but no hand-written template: its table's words."""
    words = Language(tag).strings

    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid double-quoted YAML scalar

    return {
        "dossier": f"title: {{title}}\nlanguage: {tag}\nauthors:\n  - {q(words['example_speaker'])}\n"
        'date: "{today}"\n',
        "chapter_file": "01-chapter.yaml",
        "chapter": (
            f"title: {q(words['chapter'] + ' 1')}\nsummary: {q(words['example_sentence'])}\nbody: |\n"
            f"  {words['example_sentence']}[^1]\n\n  [[quote:example-quote]]\n\n"
            f"  [^1]: {words['example_sentence']}\nevents:\n"
            f'  - date: "{{today}}"\n    title: {q(words["example_event"])}\n'
            f"    text: {q(words['example_sentence'])}\n"
            f"quotes:\n  - id: example-quote\n    speaker: {q(words['example_speaker'])}\n"
            f'    text: {q(words["example_quote"])}\n    date: "{{today}}"\n'
        ),
    }


def new_dossier(path: Path, language: str = "en", today: Date | None = None) -> list[Path]:
    """Write a dossier folder at ``path``; refuse to touch a folder that has files in it."""
    if language not in LANGUAGES:
        raise ReportError(f"no table for language '{language}'; choose one of {', '.join(LANGUAGES)}")
    texts = _TEXTS.get(language) or _texts_from_table(language)
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ReportError(f"{path} already exists and is not an empty folder; nothing was written")
    path.mkdir(parents=True, exist_ok=True)
    day = (today or Date.today()).isoformat()
    title = json.dumps(
        path.resolve().name.replace("-", " ").replace("_", " ").strip().capitalize() or "Dossier", ensure_ascii=False
    )  # a JSON string is a valid double-quoted YAML scalar
    files = {
        "dossier.yaml": MODELINE + texts["dossier"].format(title=title, today=day),
        texts["chapter_file"]: MODELINE + texts["chapter"].format(today=day),
        SCHEMA_FILE: json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n",
    }
    written = []
    for name, text in files.items():
        target = path / name
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
