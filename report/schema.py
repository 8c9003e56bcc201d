"""The JSON Schema of the source format, generated from the models that validate it."""

from __future__ import annotations

from .source.model import Chapter, DossierMeta


def json_schema() -> dict:
    """One schema for both file kinds: dossier.yaml, or a chapter file."""
    meta = DossierMeta.model_json_schema()
    chapter = Chapter.model_json_schema()
    defs = {**meta.pop("$defs", {}), **chapter.pop("$defs", {})}
    defs["DossierMeta"] = meta
    defs["Chapter"] = chapter
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "report dossier file",
        "description": "dossier.yaml (dossier metadata) or a chapter file of a report dossier.",
        "anyOf": [{"$ref": "#/$defs/DossierMeta"}, {"$ref": "#/$defs/Chapter"}],
        "$defs": defs,
    }
