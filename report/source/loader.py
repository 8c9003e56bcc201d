"""Dossier folder -> validated models, with every error located and all of them collected."""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..errors import Collector, Location
from ..folder import is_inside
from ..memo import Memo, digest
from .bibliography import Sources, load_sources
from .hidden import check_hidden_characters
from .model import Chapter, DossierMeta
from .yamlfile import YamlDocument, dotted, read_yaml

META_FILE = "dossier.yaml"
MAX_CHAPTERS = 5000


@dataclass(frozen=True)
class LoadedChapter:
    """A validated chapter and where its source stands."""

    model: Chapter
    doc: YamlDocument
    anchor: str  # the chapter id, unique in the dossier

    @property
    def path(self) -> Path:
        return self.doc.path

    def body_line(self) -> int:
        """The file line on which the first line of the Markdown body stands."""
        span = self.doc.spans[("body",)]
        return span.value.line + (1 if span.block_scalar else 0)


@dataclass(frozen=True)
class LoadedDossier:
    """The whole source: metadata, chapters in order, and the folder."""

    root: Path
    meta: DossierMeta
    meta_doc: YamlDocument
    chapters: tuple[LoadedChapter, ...]
    # True when some chapter files failed: the rest is kept so that later checks
    # (quote references, images) still run and `report check` lists everything at once.
    partial: bool = False
    # quote ids written in chapter files that failed validation, so that a body naming
    # one of them is not reported as dangling too
    unvalidated_quote_ids: frozenset[str] = frozenset()
    sources: Sources = Sources()  # the citable sources (list and bibliography file) and the CSL style


def load_dossier(root: Path, collector: Collector, memo: Memo | None = None) -> LoadedDossier | None:
    """Read and validate every file of a dossier folder; None if anything failed.

    Each file is read alone (parsed, validated, checked for hidden characters); with a memo,
    a file whose bytes did not change is not parsed or validated again (memo.py).
    """
    root = Path(root)
    memo = memo or Memo()
    if not root.exists():
        collector.error(Location(root), "dossier folder not found")
        return None
    if not root.is_dir():
        collector.error(Location(root), "is not a folder: give the dossier folder")
        return None
    meta_path = root / META_FILE
    if not meta_path.exists():
        collector.error(Location(meta_path), f"missing {META_FILE}: every dossier folder needs one")
        return None
    meta_doc = read_yaml(meta_path, collector, memo=memo)
    meta = _validate_once(memo, DossierMeta, meta_doc, collector) if meta_doc else None

    chapter_paths = _chapter_files(root, meta, meta_doc, collector)
    chapters: list[LoadedChapter] = []
    seen_ids: dict[str, Location] = {}
    unvalidated: set[str] = set()
    for path in chapter_paths:
        doc = read_yaml(path, collector, memo=memo)
        if doc is None:
            continue
        model = _validate_once(memo, Chapter, doc, collector)
        if model is None:
            unvalidated |= _raw_quote_ids(doc)
            continue
        anchor = model.id or _id_from_stem(path.stem, len(chapters) + 1)
        where = doc.locate(("id",)) if model.id else Location(path, 1, 1)
        if anchor in seen_ids:
            collector.error(where, f"chapter id '{anchor}' is used twice (also {seen_ids[anchor]})", field="id")
            continue
        seen_ids[anchor] = where
        chapters.append(LoadedChapter(model, doc, anchor))

    # Cross-references are checked among the files that did validate, so one run lists
    # duplicate ids beside the errors of other files, as a compiler does.
    _check_cross_references(meta, meta_doc, chapters, collector)
    for doc in ([meta_doc] if meta_doc else []) + [chapter.doc for chapter in chapters]:
        memo.step("hidden", digest(doc.key), functools.partial(check_hidden_characters, doc), collector, disk=True)
    if meta is None or meta_doc is None:
        return None
    sources = load_sources(root, meta, meta_doc, collector)
    return LoadedDossier(
        root,
        meta,
        meta_doc,
        tuple(chapters),
        partial=bool(collector.errors),
        unvalidated_quote_ids=frozenset(unvalidated),
        sources=sources,
    )


def _raw_quote_ids(doc: YamlDocument) -> set[str]:
    data = doc.data if isinstance(doc.data, dict) else {}
    quotes = data.get("quotes")
    if not isinstance(quotes, list):
        return set()
    return {q["id"] for q in quotes if isinstance(q, dict) and isinstance(q.get("id"), str)}


def _chapter_files(
    root: Path, meta: DossierMeta | None, meta_doc: YamlDocument | None, collector: Collector
) -> list[Path]:
    if meta is not None and meta.chapters is not None:
        if len(meta.chapters) > MAX_CHAPTERS:  # the same limit as for chapter files found in the folder
            collector.error(
                meta_doc.locate(("chapters",)) if meta_doc else Location(root / META_FILE),
                f"{len(meta.chapters):,} chapters listed; the limit is {MAX_CHAPTERS:,}",
                field="chapters",
            )
            return []
        paths = []
        for index, name in enumerate(meta.chapters):
            where = meta_doc.locate(("chapters", index)) if meta_doc else Location(root / META_FILE)
            candidate = root / name
            if not is_inside(candidate, root) or Path(name).is_absolute():
                collector.error(where, f"'{name}' is outside the dossier folder", field=f"chapters[{index}]")
                continue
            if candidate.exists() and not candidate.is_file():  # a folder, or a FIFO that would block the read
                collector.error(where, f"'{name}' is not a regular file", field=f"chapters[{index}]")
                continue
            if not candidate.is_file():
                collector.error(
                    where,
                    f"chapter file '{name}' not found",
                    field=f"chapters[{index}]",
                    hint=_did_you_mean(name, [p.name for p in root.glob("*.yaml")]),
                )
                continue
            paths.append(candidate)
        if not meta.chapters:
            collector.error(
                meta_doc.locate(("chapters",)) if meta_doc else Location(root / META_FILE),
                "the chapter list is empty",
                field="chapters",
            )
        return paths
    paths = sorted(p for p in root.glob("*.yaml") if p.name != META_FILE and p.is_file())
    inside = [p for p in paths if is_inside(p, root)]
    for path in paths:
        if path not in inside:  # a link out of the folder: say so rather than drop the chapter
            collector.error(Location(path), "is a link to a file outside the dossier folder")
    paths = inside
    if not paths and meta is not None:
        collector.error(Location(root / META_FILE), "the dossier has no chapter files (*.yaml beside dossier.yaml)")
    if len(paths) > MAX_CHAPTERS:
        collector.error(Location(root), f"{len(paths):,} chapter files; the limit is {MAX_CHAPTERS:,}")
        return []
    return paths


def _id_from_stem(stem: str, number: int) -> str:
    import re
    import unicodedata

    text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    text = re.sub(r"^[\d_\-. ]+", "", text)
    text = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower()
    if not text or not text[0].isalpha():
        text = f"chapter-{number}"
    return text


def _check_cross_references(
    meta: DossierMeta | None, meta_doc: YamlDocument | None, chapters: list[LoadedChapter], collector: Collector
) -> None:
    quote_ids: dict[str, Location] = {}
    anchors: dict[str, Location] = {c.anchor: c.doc.locate(("id",)) for c in chapters}
    for chapter in chapters:
        for index, quote in enumerate(chapter.model.quotes):
            where = chapter.doc.locate(("quotes", index, "id"))
            if quote.id in quote_ids:
                collector.error(
                    where,
                    f"quote id '{quote.id}' is used twice (first at {quote_ids[quote.id]})",
                    field=f"quotes[{index}].id",
                )
            quote_ids[quote.id] = where
        for index, event in enumerate(chapter.model.events):
            if event.id:
                where = chapter.doc.locate(("events", index, "id"))
                if event.id in anchors:
                    collector.error(
                        where,
                        f"event id '{event.id}' is used twice (also {anchors[event.id]})",
                        field=f"events[{index}].id",
                    )
                anchors[event.id] = where
    if meta is not None and meta_doc is not None and meta.cover:
        _check_inside(meta_doc, meta.cover, ("cover",), collector)
    _warn_speaker_variants(chapters, collector)


def _check_inside(doc: YamlDocument, name: str, loc: tuple, collector: Collector) -> None:
    root = doc.path.parent.resolve()
    where = doc.locate(loc)
    if "://" in name or name.startswith("data:"):
        collector.error(where, f"'{name}' is a URL; give a file in the dossier folder", field=dotted(loc))
        return
    target = doc.path.parent / name
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError):
        collector.error(where, f"'{name}' cannot be resolved", field=dotted(loc))
        return
    if not is_inside(resolved, root):
        collector.error(where, f"'{name}' is outside the dossier folder", field=dotted(loc))
    elif not resolved.is_file():
        collector.error(where, f"file '{name}' not found", field=dotted(loc))


def _warn_speaker_variants(chapters: list[LoadedChapter], collector: Collector) -> None:
    """Warn when one name is a part of another, e.g. 'Musk' beside 'Elon Musk'."""
    first: dict[str, Location] = {}
    for chapter in chapters:
        for index, quote in enumerate(chapter.model.quotes):
            for speaker in quote.speaker:
                first.setdefault(speaker, chapter.doc.locate(("quotes", index, "speaker")))
    names = sorted(first)
    for short in names:
        words = short.casefold().split()
        for long in names:
            if long == short:
                continue
            long_words = long.casefold().split()
            if len(words) < len(long_words) and all(w in long_words for w in words):
                collector.warning(
                    first[short],
                    f"speaker '{short}' may be the same person as '{long}' "
                    f"({first[long]}); spell a speaker the same way everywhere",
                    field="speaker",
                    code="speaker-variant",
                )


def _validate_once(memo: Memo, model: type[BaseModel], doc: YamlDocument, collector: Collector):
    """The validated model of a document, validated once per document (the model is not changed after)."""
    return memo.step(
        "model", digest(model.__name__, doc.key), lambda own: _validate(model, doc, own), collector, disk=True
    )


# ---- pydantic errors -> located diagnostics ------------------------------------------------

_TYPE_NAMES = {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}


def _validate(model: type[BaseModel], doc: YamlDocument, collector: Collector):
    if not isinstance(doc.data, dict):
        found = _TYPE_NAMES.get(type(doc.data), type(doc.data).__name__)
        collector.error(
            Location(doc.path, 1, 1), f"expected a mapping of keys (title: ...) at the top of the file, found {found}"
        )
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for error in errors:
            if not _explained_by_a_typo(model, error, errors):
                _report(model, doc, error, collector)
        return None


def _explained_by_a_typo(model: type[BaseModel], error: ErrorDetails, errors: list[ErrorDetails]) -> bool:
    """A missing key that an unknown sibling key misspells ('tilte' for 'title'): one mistake, one error."""
    if error["type"] != "missing":
        return False
    owner_loc, key = tuple(error["loc"][:-1]), error["loc"][-1]
    owner = _model_at(model, owner_loc)
    choices = list(owner.model_fields) if owner else []
    return any(
        other["type"] == "extra_forbidden"
        and tuple(other["loc"][:-1]) == owner_loc
        and difflib.get_close_matches(str(other["loc"][-1]), choices, n=1, cutoff=0.6) == [key]
        for other in errors
    )


def _report(model: type[BaseModel], doc: YamlDocument, error: ErrorDetails, collector: Collector) -> None:
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and "[" in part))
    kind = error["type"]
    value = error.get("input")
    field = dotted(loc)
    if kind == "missing":
        key = loc[-1]
        collector.error(
            doc.locate(loc[:-1]) if loc[:-1] else _first_key(doc),
            f"required key '{key}' is missing",
            field=dotted(loc[:-1]) or str(key),
        )
        return
    if kind == "extra_forbidden":
        key = loc[-1]
        owner = _model_at(model, loc[:-1])
        hint = _did_you_mean(str(key), list(owner.model_fields) if owner else [])
        collector.error(doc.locate(loc, key=True), f"unknown key '{key}'", field=field, hint=hint)
        return
    where = doc.locate(loc)
    found = _TYPE_NAMES.get(type(value), type(value).__name__)
    if kind in ("string_type",):
        message = f"expected text, found {found}"
    elif kind == "list_type":
        message = f"expected a list, found {found}"
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        message = f"expected a mapping (key: value), found {found}"
    elif kind == "bool_parsing" or kind == "bool_type":
        message = f"expected true or false, found '{value}'"
    elif kind in ("string_too_short", "too_short"):
        message = "must not be empty"
    elif kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        message = f"'{value}' is not allowed here: expected {expected}"
        choices = re.findall(r"'([^']*)'", expected)
        hint = _did_you_mean(str(value), choices) if isinstance(value, str) else ""
        collector.error(where, message, field=field, hint=hint)
        return
    elif kind == "string_pattern_mismatch":
        message = f"'{value}' is not a valid id: start with a letter, then letters, digits, '-' or '_'"
    else:
        message = error["msg"].removeprefix("Value error, ")
    collector.error(where, message, field=field)


def _first_key(doc: YamlDocument) -> Location:
    """Where the top-level mapping starts: its first key, after any comment lines."""
    keys = [span.key for loc, span in doc.spans.items() if len(loc) == 1]
    return min(keys, key=lambda where: (where.line, where.column)) if keys else Location(doc.path, 1, 1)


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    import typing

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = info.annotation
        for _ in range(4):  # unwrap Optional[...] / list[...]
            args = [a for a in typing.get_args(current) if a is not type(None)]
            if isinstance(current, type) and issubclass(current, BaseModel):
                break
            if not args:
                break
            current = args[0]
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _did_you_mean(word: str, choices: list[str]) -> str:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else ""
