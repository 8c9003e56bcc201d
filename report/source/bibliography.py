"""The dossier's sources: the `sources` list of dossier.yaml and a bibliography file, as CSL items.

Both become one tuple of `SourceRecord`s, each a CSL-JSON item with where it was written, so
that every later error (an unknown id, a duplicate, a bad date) points at a line. A
bibliography file is CSL-JSON (`.json`, Zotero's "CSL JSON" export) or BibTeX (`.bib`, Zotero's
"BibTeX"/"Better BibTeX" export), read by bibtexparser v2 with LaTeX decoded by pylatexenc one
field at a time: URLs and DOIs are never decoded (pylatexenc turns a bare `&` into spaces), and
braced corporate names (`{Société Générale}`) stay one name.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path
from typing import Any

from ..errors import Collector, Location
from .model import ID_PATTERN, DossierMeta, PartialDate, SourceEntry
from .yamlfile import YamlDocument

MAX_BIBLIOGRAPHY_BYTES = 4 * 1024 * 1024
MAX_STYLE_BYTES = 1024 * 1024
_ID_RE = re.compile(ID_PATTERN)
UNREADABLE = "*"  # in Sources.broken_ids: the bibliography file could not be read at all

# CSL variables kept from a CSL-JSON file (others, e.g. Zotero's `abstract`, are dropped: never printed)
_CSL_TEXT = {
    "title",
    "title-short",
    "container-title",
    "container-title-short",
    "collection-title",
    "publisher",
    "publisher-place",
    "authority",
    "number",
    "volume",
    "issue",
    "page",
    "edition",
    "genre",
    "medium",
    "URL",
    "DOI",
    "ISBN",
    "ISSN",
    "note",
    "archive",
    "archive_location",
    "event",
    "event-place",
    "section",
    "references",
    "language",
    "version",
    "status",
    "chapter-number",
    "number-of-pages",
    "dimensions",
    "source",
    "call-number",
    "jurisdiction",
}
_CSL_NAMES = {
    "author",
    "editor",
    "translator",
    "recipient",
    "interviewer",
    "container-author",
    "director",
    "collection-editor",
    "composer",
    "illustrator",
    "reviewed-author",
}
_CSL_DATES = {"issued", "accessed", "event-date", "original-date", "submitted"}

_BIBTEX_TYPES = {
    "article": "article-journal",
    "book": "book",
    "booklet": "pamphlet",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "manual": "report",
    "mastersthesis": "thesis",
    "phdthesis": "thesis",
    "thesis": "thesis",
    "misc": "document",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "techreport": "report",
    "report": "report",
    "unpublished": "manuscript",
    "letter": "personal_communication",
    "jurisdiction": "legal_case",
    "legislation": "legislation",
    "newspaper": "article-newspaper",
    "periodical": "article-magazine",
    "dataset": "dataset",
    "software": "software",
}
_ENTRYSUBTYPES = {"newspaper": "article-newspaper", "magazine": "article-magazine"}
_BIBTEX_TEXT = {
    "title": "title",
    "shorttitle": "title-short",
    "journal": "container-title",
    "journaltitle": "container-title",
    "booktitle": "container-title",
    "publisher": "publisher",
    "institution": "publisher",
    "school": "publisher",
    "organization": "publisher",
    "address": "publisher-place",
    "location": "publisher-place",
    "volume": "volume",
    "pages": "page",
    "edition": "edition",
    "note": "note",
    "series": "collection-title",
    "howpublished": "container-title",
    "type": "genre",
    "isbn": "ISBN",
    "issn": "ISSN",
    "language": "language",
    "court": "authority",
    "annote": "",
}
_MONTHS = {
    m: i
    for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)
}


@dataclass(frozen=True)
class SourceRecord:
    """One citable source as a CSL item (without its id), and where it was written."""

    id: str
    csl: dict[str, Any] = field(hash=False, compare=False)
    location: Location
    url: str = ""  # the http(s) address to link, if any (checked)


@dataclass(frozen=True)
class Sources:
    """Every source of the dossier, in the order written, and the citation style file (if any)."""

    records: tuple[SourceRecord, ...] = ()
    style_path: Path | None = None
    # ids written in the list or the file whose entries failed: a citation of one is not "unknown" too
    broken_ids: frozenset[str] = frozenset()

    def get(self, source_id: str) -> SourceRecord | None:
        return next((r for r in self.records if r.id == source_id), None)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(r.id for r in self.records)


def load_sources(root: Path, meta: DossierMeta, meta_doc: YamlDocument, collector: Collector) -> Sources:
    """The `sources` list and the bibliography file together; duplicates across both are errors."""
    records: list[SourceRecord] = []
    broken: set[str] = set()
    for index, entry in enumerate(meta.sources):
        records.append(
            SourceRecord(entry.id, entry_to_csl(entry), meta_doc.locate(("sources", index, "id")), entry.url or "")
        )
    if meta.bibliography:
        path = _inside(root, meta.bibliography, meta_doc, ("bibliography",), collector)
        before = len(collector.errors)
        if path is not None:
            records += read_bibliography(path, collector, display=root / meta.bibliography, broken=broken)
        if path is None or (len(collector.errors) > before and not broken):
            broken.add(UNREADABLE)
    seen: dict[str, SourceRecord] = {}
    unique: list[SourceRecord] = []
    for record in records:
        first = seen.get(record.id.casefold())
        if first is not None:
            collector.error(
                record.location, f"source id '{record.id}' is used twice (first at {first.location})", field="sources"
            )
            continue
        seen[record.id.casefold()] = record
        unique.append(record)
    style = None
    if meta.citation_style:
        style = _style_file(root, meta.citation_style, meta_doc, collector)
    return Sources(tuple(unique), style, frozenset(broken))


# ---- the sources list of dossier.yaml -----------------------------------------------------------------


def entry_to_csl(entry: SourceEntry) -> dict[str, Any]:
    """A `sources` entry of dossier.yaml as a CSL-JSON item."""
    item: dict[str, Any] = {"type": entry.type, "title": entry.title}
    for key, variable in (
        ("title_short", "title-short"),
        ("container", "container-title"),
        ("publisher", "publisher"),
        ("authority", "authority"),
        ("number", "number"),
        ("url", "URL"),
        ("note", "note"),
    ):
        value = getattr(entry, key)
        if value:
            item[variable] = value
    for key in ("author", "recipient"):
        names = getattr(entry, key)
        if names:
            item[key] = [_yaml_name(n) for n in names]
    for key, variable in (("date", "issued"), ("accessed", "accessed")):
        when: PartialDate | None = getattr(entry, key)
        if when:
            item[variable] = {"date-parts": [[p for p in (when.year, when.month, when.day) if p]]}
    return item


def _yaml_name(name: str) -> dict[str, str]:
    """'Family, Given' is a person; any other text (an organisation, 'Redaktion') is one literal name."""
    if name.count(",") == 1:
        family, given = (part.strip() for part in name.split(","))
        if family and given:
            return {"family": family, "given": given}
    return {"literal": name}


# ---- bibliography files -------------------------------------------------------------------------------


def read_bibliography(
    path: Path, collector: Collector, *, display: Path | None = None, broken: set[str] | None = None
) -> list[SourceRecord]:
    """Read a CSL-JSON or BibTeX file; every problem is located by file:line and the entry's key."""
    shown = display or path
    try:
        if not path.is_file():
            collector.error(Location(shown), "bibliography is not a regular file")
            return []
        size = path.stat().st_size
        if size > MAX_BIBLIOGRAPHY_BYTES:
            collector.error(Location(shown), f"bibliography is {size:,} bytes; the limit is {MAX_BIBLIOGRAPHY_BYTES:,}")
            return []
        raw = path.read_bytes()
    except OSError as exc:
        collector.error(Location(shown), f"cannot read the bibliography: {exc.strerror or exc}")
        return []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        collector.error(
            Location(shown, line, 1), f"bibliography is not UTF-8 (byte 0x{raw[exc.start]:02x}); export it as UTF-8"
        )
        return []
    suffix = path.suffix.lower()
    broken = broken if broken is not None else set()
    before = len(collector.errors)
    if suffix == ".json":
        records = _read_csl_json(text, shown, collector, broken)
        if len(collector.errors) > before and not records and not broken:
            broken.add(UNREADABLE)  # the file as a whole: no citation can be checked against it
        return records
    if suffix in (".bib", ".bibtex"):
        return _read_bibtex(text, shown, collector, broken)
    collector.error(
        Location(shown), f"unknown bibliography format '{path.suffix}': give a CSL-JSON (.json) or BibTeX (.bib) file"
    )
    return []


def _read_csl_json(text: str, path: Path, collector: Collector, broken: set[str]) -> list[SourceRecord]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        collector.error(Location(path, exc.lineno, exc.colno), f"CSL-JSON: {exc.msg}")
        return []
    except RecursionError:
        collector.error(Location(path, 1, 1), "CSL-JSON nesting is too deep")
        return []
    if isinstance(data, dict) and isinstance(data.get("items"), list):  # some exporters wrap the list
        data = data["items"]
    if not isinstance(data, list):
        collector.error(Location(path, 1, 1), 'CSL-JSON: expected a list of items ([{"id": ..., "type": ...}])')
        return []
    # an item's line: where its "id" is written (json has no positions; ids are found in order)
    id_lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r'"id"\s*:', text)]
    records = []
    for index, item in enumerate(data):
        line = id_lines[index] if index < len(id_lines) else 1
        where = Location(path, line, 1)
        if not isinstance(item, dict):
            collector.error(where, f"CSL-JSON item {index + 1}: expected an object")
            continue
        key = item.get("id")
        key = str(key) if isinstance(key, (str, int)) and not isinstance(key, bool) else ""
        if not key or not _ID_RE.match(key):
            collector.error(
                where,
                f"CSL-JSON item {index + 1}: id {key!r} is not a valid id: start with a letter, "
                "then letters, digits, '-' or '_'",
            )
            continue
        csl, problems = _clean_csl(item)
        for problem in problems:
            collector.error(where, problem, field=key)
        if problems:
            broken.add(key)
            continue
        records.append(SourceRecord(key, csl, where, _checked_url(csl, where, key, collector)))
    return records


def _clean_csl(item: dict) -> tuple[dict[str, Any], list[str]]:
    """Keep the CSL variables the styles print, typed as citeproc-py expects; list what is wrong."""
    problems: list[str] = []
    kind = item.get("type")
    if not isinstance(kind, str) or not kind:
        problems.append("'type' is missing (a CSL type such as article-newspaper)")
        kind = "document"
    csl: dict[str, Any] = {"type": kind}
    for key, value in item.items():
        if key in _CSL_TEXT:
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                text = str(value).strip()
                if text:
                    csl[key] = text
            else:
                problems.append(f"'{key}' must be text")
        elif key in _CSL_NAMES:
            names = _csl_names(value)
            if names is None:
                problems.append(
                    f'\'{key}\' must be a list of names ({{"family": ..., "given": ...}} or {{"literal": ...}})'
                )
            elif names:
                csl[key] = names
        elif key in _CSL_DATES:
            parts, problem = _csl_date(value)
            if problem:
                problems.append(f"{key}: {problem}")
            elif parts:
                csl[key] = {"date-parts": [parts]}
    if "title" not in csl:
        problems.append("'title' is missing")
    return csl, problems


def _csl_names(value: Any) -> list[dict[str, str]] | None:
    if not isinstance(value, list):
        return None
    names = []
    for name in value:
        if not isinstance(name, dict):
            return None
        kept = {
            k: str(v).strip()
            for k, v in name.items()
            if k in ("family", "given", "literal", "suffix", "dropping-particle", "non-dropping-particle")
            and isinstance(v, (str, int))
            and str(v).strip()
        }
        if "literal" in kept:
            kept = {"literal": kept["literal"]}
        if not kept.get("family") and not kept.get("literal"):
            if kept.get("given"):
                kept = {"literal": kept["given"]}
            else:
                continue
        names.append(kept)
    return names


def _csl_date(value: Any) -> tuple[list[int], str]:
    """date-parts of a CSL date ({"date-parts": [[y, m, d]]}, {"raw": "2018-02"} or "2018-02")."""
    raw = None
    if isinstance(value, str):
        raw = value
    elif isinstance(value, dict):
        if "date-parts" in value:
            parts = value["date-parts"]
            if not (isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]):
                return [], f"date-parts {parts!r} is not [[year, month, day]]"
            try:
                numbers = [int(str(p)) for p in parts[0][:3]]
            except ValueError:
                return [], f"date-parts {parts[0]!r} are not numbers"
            return _date_parts_checked(numbers)
        raw = value.get("raw") or value.get("literal")
    if not isinstance(raw, str):
        return [], f"{value!r} is not a date"
    try:
        parsed = PartialDate.parse(raw.strip()[:10] if re.match(r"^\d{4}-\d\d-\d\dT", raw.strip()) else raw)
    except Exception:
        return [], f"'{raw}' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD"
    return [p for p in (parsed.year, parsed.month, parsed.day) if p], ""


def _date_parts_checked(numbers: list[int]) -> tuple[list[int], str]:
    year, month, day = (numbers + [0, 0])[:3]
    if not 1 <= year <= 9999:
        return [], f"year {year} is out of range"
    if len(numbers) > 1 and not 1 <= month <= 12:
        return [], f"{'-'.join(map(str, numbers))} has no month {month}"
    if len(numbers) > 2:
        try:
            Date(year, month, day)
        except ValueError:
            return [], f"{'-'.join(map(str, numbers))} is not a day of the calendar"
    return numbers, ""


def _checked_url(csl: dict, where: Location, key: str, collector: Collector) -> str:
    url = csl.get("URL", "")
    if url and not re.match(r"^https?://\S+$", url, re.IGNORECASE):
        collector.warning(
            where,
            f"{key}: URL '{url[:80]}' is not an http(s) address; it is printed, not linked",
            field=key,
            code="source-url",
        )
        return ""
    return url


def _read_bibtex(text: str, path: Path, collector: Collector, broken: set[str]) -> list[SourceRecord]:
    import bibtexparser
    from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names

    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)  # its failures are reported here, located
    library = bibtexparser.parse_string(text)
    for block in library.failed_blocks:
        where = Location(path, (block.start_line or 0) + 1, 1)
        key = getattr(block, "key", None)
        if type(block).__name__ == "DuplicateBlockKeyBlock":
            collector.error(where, f"BibTeX: entry key '{key}' is used twice in the file", field=str(key))
        else:
            raw = block.raw or ""
            head = raw.strip().splitlines()[0][:60] if raw.strip() else ""
            found = re.match(r"@\w+\s*[{(]\s*([^,\s]+)", head)
            if found:
                broken.add(found.group(1))
            collector.error(where, f"BibTeX: cannot read the entry '{head}' (an unclosed brace or quote?)")
    records = []
    for entry in library.entries:
        where = Location(path, (entry.start_line or 0) + 1, 1)
        key = entry.key
        if not _ID_RE.match(key):
            collector.error(
                where,
                f"BibTeX: entry key '{key}' is not a valid id: start with a letter, then letters, digits, '-' or '_'",
                field=key,
            )
            continue
        fields = {f.key.lower(): f for f in entry.fields}
        kind = _BIBTEX_TYPES.get(entry.entry_type.lower(), "document")
        subtype = fields.get("entrysubtype")
        if subtype is not None and str(subtype.value).lower() in _ENTRYSUBTYPES:
            kind = _ENTRYSUBTYPES[str(subtype.value).lower()]
        csl: dict[str, Any] = {"type": kind}
        problems: list[tuple[Any, str]] = []  # (the bibtexparser field at fault, or None; what is wrong)
        for name, variable in _BIBTEX_TEXT.items():
            if name in fields and variable and variable not in csl:
                value = _latex(str(fields[name].value))
                if value:
                    csl[variable] = value
        if "number" in fields:
            csl["issue" if kind.startswith("article") else "number"] = _latex(str(fields["number"].value))
        for name, variable in (("url", "URL"), ("doi", "DOI")):
            if name in fields:
                csl[variable] = str(fields[name].value).strip()
        for name in ("author", "editor", "translator", "recipient"):
            if name in fields:
                people = []
                for person in split_multiple_persons_names(str(fields[name].value)):
                    people.append(_bibtex_name(parse_single_name_into_parts(person, strict=False)))
                csl[name] = [p for p in people if p]
        issued, problem, culprit = _bibtex_issued(fields)
        if problem:
            problems.append((culprit, problem))
        elif issued:
            csl["issued"] = {"date-parts": [issued]}
        if "urldate" in fields:
            raw = str(fields["urldate"].value).strip()
            parts, problem = _csl_date(raw)
            if problem:
                problems.append((fields["urldate"], f"urldate: {problem}"))
            else:
                csl["accessed"] = {"date-parts": [parts]}
        if "title" not in csl:
            problems.append((None, "'title' is missing"))
        for bib_field, problem in problems:
            line = (bib_field.start_line + 1) if bib_field is not None else where.line
            collector.error(Location(path, line, 1), problem, field=key)
        if problems:
            broken.add(key)
            continue
        records.append(SourceRecord(key, csl, where, _checked_url(csl, where, key, collector)))
    return records


def _bibtex_issued(fields: dict) -> tuple[list[int], str, object]:
    """date-parts from `date` (biblatex) or `year` and `month`; a problem names the field at fault."""
    if "date" in fields:
        raw = str(fields["date"].value).strip()
        parts, problem = _csl_date(raw.split("/")[0])  # a range: its start
        return parts, (f"date: {problem}" if problem else ""), fields["date"]
    if "year" not in fields:
        return [], "", None
    year = _latex(str(fields["year"].value)).strip()
    if not re.fullmatch(r"\d{4}", year):
        return [], f"year '{year}' is not a year (YYYY)", fields["year"]
    parts = [int(year)]
    if "month" in fields:
        month = str(fields["month"].value).strip().lower()
        number = _MONTHS.get(month[:3]) if not month.isdigit() else int(month)
        if number is None or not 1 <= number <= 12:
            return [], f"month '{month}' is not a month (1-12 or jan ... dec)", fields["month"]
        parts.append(number)
    parts, problem = _date_parts_checked(parts)
    return parts, problem, fields["year"]


def _bibtex_name(parts) -> dict[str, str]:
    if (
        not parts.first
        and not parts.von
        and len(parts.last) == 1
        and parts.last[0].startswith("{")
        and parts.last[0].endswith("}")
    ):
        return {"literal": _latex(parts.last[0])}  # {Société Générale}: an organisation, one name
    name = {}
    if parts.last:
        name["family"] = _latex(" ".join(parts.last))
    if parts.first:
        name["given"] = _latex(" ".join(parts.first))
    if parts.von:
        name["non-dropping-particle"] = _latex(" ".join(parts.von))
    if parts.jr:
        name["suffix"] = _latex(" ".join(parts.jr))
    if "family" not in name and "given" in name:
        return {"literal": name["given"]}
    return {k: v for k, v in name.items() if v}


def _latex(value: str) -> str:
    """LaTeX text (accents, braces, dashes, \\&) as Unicode; the one place it is decoded."""
    from pylatexenc.latex2text import LatexNodes2Text

    value = re.sub(r"(?<!\\)&", r"\\&", value)  # a bare & is text in a .bib; pylatexenc reads it as a column
    value = value.replace("\\,", "\u202f")  # thin space (50\,%), which pylatexenc makes a plain space
    text = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True).latex_to_text(value)
    return re.sub(r"[ \t\r\n\f\v]+", " ", text).strip(" ")  # not \s: it would eat the thin space


# ---- files named in dossier.yaml ----------------------------------------------------------------------


def _inside(root: Path, name: str, doc: YamlDocument, loc: tuple, collector: Collector) -> Path | None:
    """A file in the dossier folder (links resolved), else a located error."""
    where = doc.locate(loc)
    key = loc[0]
    if "://" in name or name.startswith("data:"):
        collector.error(where, f"'{name}' is a URL; give a file in the dossier folder (nothing is fetched)", field=key)
        return None
    try:
        resolved = (root / name).resolve()
    except (OSError, RuntimeError, ValueError):
        collector.error(where, f"'{name}' cannot be resolved", field=key)
        return None
    # containment first: the answer must not tell whether a file outside the folder exists
    if Path(name).is_absolute() or not resolved.is_relative_to(root.resolve()):
        collector.error(
            where, f"'{name}' is outside the dossier folder; {key} files are read only from there", field=key
        )
        return None
    if not resolved.exists():
        collector.error(where, f"file '{name}' not found", field=key)
        return None
    if not resolved.is_file():
        collector.error(where, f"'{name}' is not a regular file", field=key)
        return None
    return resolved


def _style_file(root: Path, name: str, doc: YamlDocument, collector: Collector) -> Path | None:
    path = _inside(root, name, doc, ("citation_style",), collector)
    if path is None:
        return None
    where = doc.locate(("citation_style",))
    if path.suffix.lower() != ".csl":
        collector.error(where, f"'{name}' is not a CSL style (.csl)", field="citation_style")
        return None
    if path.stat().st_size > MAX_STYLE_BYTES:
        collector.error(where, f"'{name}' is larger than {MAX_STYLE_BYTES:,} bytes", field="citation_style")
        return None
    from lxml import etree

    # no entities, no DTDs, no network: a style is plain XML
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.parse(str(path), parser)
    except (etree.XMLSyntaxError, OSError) as exc:
        collector.error(
            where, f"'{name}' is not a readable CSL style: {str(exc).splitlines()[0][:120]}", field="citation_style"
        )
        return None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        # citeproc-py parses the file again with entities on: a DOCTYPE could pull in another file
        collector.error(
            where, f"'{name}' has a DOCTYPE; CSL styles have none (entities are not read)", field="citation_style"
        )
        return None
    style = tree.getroot()
    if etree.QName(style).localname != "style" or style.get("class") not in ("in-text", "note"):
        collector.error(
            where, f"'{name}' is not a CSL style (no <style class=\"in-text|note\">)", field="citation_style"
        )
        return None
    if style.find("{http://purl.org/net/xbiblio/csl}citation") is None:
        collector.error(
            where,
            f"'{name}' is a dependent CSL style (it only names another one); download the "
            "independent style it points to",
            field="citation_style",
        )
        return None
    return path
