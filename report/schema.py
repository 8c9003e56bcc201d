"""The JSON Schema of the source format, generated from the models that validate it."""

from __future__ import annotations

from typing import Any

KINDS = ("any", "dossier", "chapter")
_DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"
# Stricter than the model's pattern so an editor underlines month 13 too (the loader says why).
_EDITOR_DATE_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"


def json_schema(kind: str = "any") -> dict:
    """The schema of dossier.yaml, of a chapter file, or of either ("any", told apart by `language`)."""
    from .source.model import Chapter, DossierMeta  # pydantic: not on every command's start-up path

    meta = DossierMeta.model_json_schema()
    chapter = Chapter.model_json_schema()
    defs = {**meta.pop("$defs", {}), **chapter.pop("$defs", {})}
    defs["DossierMeta"] = meta | {"title": "dossier.yaml"}  # editors show the title: say which file it is
    defs["Chapter"] = chapter | {"title": "chapter file"}
    _accept_unquoted_years(defs)
    _accept_one_speaker(defs)
    _accept_numeric_versions(defs)
    schema: dict[str, Any] = {
        # draft-07, the newest draft the YAML language server supports: `definitions`, not `$defs`
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "report dossier file",
    }
    if kind == "dossier":
        schema |= {"description": "dossier.yaml of a report dossier.", "allOf": [{"$ref": "#/$defs/DossierMeta"}]}
    elif kind == "chapter":
        schema |= {"description": "A chapter file of a report dossier.", "allOf": [{"$ref": "#/$defs/Chapter"}]}
    else:
        # if/then/else rather than anyOf: an editor then reports the one real mistake
        # ("unknown key 'tilte'") instead of "matches neither of two schemas".
        schema |= {
            "description": "dossier.yaml (it has `language`) or a chapter file of a report dossier.",
            "if": {"type": "object", "required": ["language"]},
            "then": {"$ref": "#/$defs/DossierMeta"},
            "else": {"$ref": "#/$defs/Chapter"},
        }
    schema["definitions"] = defs
    return _draft7_refs(schema)


def _draft7_refs(node: Any) -> Any:
    """Point every `$ref` at `definitions` (pydantic writes 2020-12's `$defs`)."""
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/$defs/", "#/definitions/")
                if key == "$ref" and isinstance(value, str)
                else _draft7_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_draft7_refs(value) for value in node]
    return node


def _accept_unquoted_years(node: Any) -> None:
    """Let `date: 2018` pass: editors read it as a number, the loader reads every scalar as text."""
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("pattern") == _DATE_PATTERN:
            string_form = dict(
                node,
                pattern=_EDITOR_DATE_PATTERN,
                # read by the YAML language server instead of printing the pattern
                patternErrorMessage="a date: YYYY, YYYY-MM or YYYY-MM-DD, with a real month and day",
            )
            node.clear()
            node["anyOf"] = [string_form, {"type": "integer", "minimum": 1000, "maximum": 9999}]
            for key in ("description", "examples"):
                if key in string_form:
                    node[key] = string_form.pop(key)
            return
        for value in node.values():
            _accept_unquoted_years(value)
    elif isinstance(node, list):
        for value in node:
            _accept_unquoted_years(value)


def _accept_one_speaker(defs: dict) -> None:
    """`speaker: Elon Musk` is one name; the model turns it into a list before validating (so do a source's names)."""
    for model, key in (("Quote", "speaker"), ("SourceEntry", "author"), ("SourceEntry", "recipient")):
        _one_or_many(defs.get(model, {}).get("properties", {}).get(key))


def _one_or_many(speaker: dict | None) -> None:
    if speaker and speaker.get("type") == "array":
        labels = {k: v for k, v in speaker.items() if k in ("description", "title")}
        as_list = {k: v for k, v in speaker.items() if k not in labels}
        speaker.clear()
        speaker.update({"anyOf": [as_list["items"], as_list], **labels})


def _accept_numeric_versions(defs: dict) -> None:
    """`version: 1.10` is a number to an editor; the loader keeps every scalar as written ("1.10")."""
    for owner in ("DossierMeta", "Change"):
        version = defs.get(owner, {}).get("properties", {}).get("version")
        if version and "anyOf" in version:
            version["anyOf"].insert(1, {"type": "number"})
