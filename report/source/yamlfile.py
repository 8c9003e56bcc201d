"""Read one YAML file strictly: plain data, every value located, nothing executed.

PyYAML's constructors are not used at all. The file is composed into nodes by the
pure-Python SafeLoader (the C loader can crash on deep nesting), then walked here:
mappings become dicts, sequences lists and every scalar a *string* (or None), so
YAML 1.1's implicit typing (``NO`` -> False, ``1:30`` -> 90) never happens. The
models decide the types. Aliases, merge keys, anchors and any tag outside the
core schema are refused; duplicate keys are an error naming both lines.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Collector, Location
from ..folder import is_inside
from ..memo import digest

if TYPE_CHECKING:
    from ..memo import Memo

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 40
# WeasyPrint's line breaking is worse than quadratic in the length of one word (measured:
# 2,000 characters lay out in 4 s, 8,000 in 140 s, 800,000 exhaust memory): bound it here.
MAX_WORD = 1000
_LONG_WORD = re.compile(rf"\S{{{MAX_WORD + 1},}}")

_CORE_TAGS = {
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
}
_NULL_TAG = "tag:yaml.org,2002:null"
# XML 1.0 forbids these; a YAML escape such as "\x07" would otherwise reach the EPUB.
# A lone surrogate ("\ud800" as a YAML escape) cannot be written as UTF-8 at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Span:
    """Where a value stands: its key (for mappings) and the value itself."""

    key: Location
    value: Location
    block_scalar: bool = False  # `|` or `>`: the text starts on the next line


@dataclass
class YamlDocument:
    """A file's data with the location of every key and value."""

    path: Path
    data: object
    spans: dict[Path_, Span] = field(default_factory=dict)
    key: str = ""  # the digest of the path and the bytes it was parsed from (memo.py): same key, same document

    def locate(self, loc: Path_, *, key: bool = False) -> Location:
        """The nearest known location of a path into the data."""
        probe = tuple(loc)
        while probe not in self.spans and probe:
            probe = probe[:-1]
        span = self.spans.get(probe)
        if span is None:
            return Location(self.path, 1, 1)
        return span.key if key and probe == tuple(loc) else span.value


class _NoAliasLoader(yaml.SafeLoader):
    """Compose nodes only, and refuse aliases before they are expanded."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a dossier", event.start_mark
            )
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors (&name) are not allowed in a dossier", event.start_mark
            )
        return super().compose_node(parent, index)


def _loc(path: Path, mark) -> Location:
    return Location(path, mark.line + 1, mark.column + 1)


def read_yaml(
    path: Path, collector: Collector, *, display: Path | None = None, memo: Memo | None = None
) -> YamlDocument | None:
    """Load one file; report every problem to ``collector`` and return None on failure.

    With a memo, a file whose bytes were parsed before (at the same path) is not parsed again:
    the same document, and the same diagnostics, come back.
    """
    shown = display or path
    try:
        # a dossier file linked to one outside its folder (dossier.yaml -> /etc/shadow) is not read:
        # its lines would be echoed in error messages
        if path.is_symlink() and not is_inside(path, path.parent):
            collector.error(Location(shown), "is a link to a file outside the dossier folder")
            return None
        if path.exists() and not path.is_file() and not path.is_dir():  # a FIFO would block the read forever
            collector.error(Location(shown), "is not a regular file")
            return None
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            collector.error(
                Location(shown),
                f"file is {size:,} bytes; the limit for one dossier file is {MAX_FILE_BYTES:,}",
            )
            return None
        raw = path.read_bytes()
    except FileNotFoundError:
        collector.error(Location(shown), "file not found")
        return None
    except IsADirectoryError:
        collector.error(Location(shown), "is a folder, not a YAML file")
        return None
    except OSError as exc:
        collector.error(Location(shown), f"cannot read file: {exc.strerror or exc}")
        return None
    if memo is None:
        return parse_yaml(raw, shown, collector)
    key = document_key(shown, raw)
    return memo.step("yaml", key, lambda own: parse_yaml(raw, shown, own), collector, disk=True)


def document_key(path: Path, raw: bytes) -> str:
    """The memo key of a file's parse: its path as shown in messages and its bytes."""
    return digest("yaml", str(path), hashlib.sha256(raw).hexdigest())


def parse_yaml(raw: bytes, path: Path, collector: Collector) -> YamlDocument | None:
    """Parse bytes that claim to be a UTF-8 YAML file."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        collector.error(
            Location(path, line, column),
            f"file is not UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
        )
        return None
    if not text.strip() or all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        collector.error(Location(path, 1, 1), "file is empty")
        return None
    loader = None
    try:
        loader = _NoAliasLoader(text)  # its reader already refuses some characters here
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        if "found character '\\t'" in message or "'\\t'" in message:
            message = "tab character: YAML indents with spaces only"
        elif exc.context and exc.problem and "aliases" not in message and "anchors" not in message:
            message = f"{exc.problem} ({exc.context})"
        collector.error(_loc(path, mark) if mark else Location(path, 1, 1), f"YAML syntax: {message}")
        return None
    except yaml.YAMLError as exc:  # reader errors (e.g. control characters) carry a position
        position = getattr(exc, "position", None)
        location = Location(path, 1, 1)
        if position is not None:
            location = Location(
                path, text.count("\n", 0, position) + 1, position - (text.rfind("\n", 0, position) + 1) + 1
            )
        character = getattr(exc, "character", None)
        if isinstance(character, int):
            collector.error(location, f"control character U+{character:04X} is not allowed in a dossier file")
        else:
            collector.error(location, f"YAML: {exc}".splitlines()[0])
        return None
    except RecursionError:
        collector.error(Location(path, 1, 1), "YAML nesting is too deep")
        return None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        collector.error(Location(path, 1, 1), "file is empty")
        return None
    doc = YamlDocument(path, None, key=document_key(path, raw))
    before = len(collector.errors)
    doc.data = _walk(node, (), doc, collector, 0)
    doc.spans.setdefault((), Span(_loc(path, node.start_mark), _loc(path, node.start_mark)))
    if len(collector.errors) > before:
        return None
    return doc


def _walk(node: Node, here: Path_, doc: YamlDocument, collector: Collector, depth: int):
    path = doc.path
    if depth > MAX_DEPTH:
        collector.error(_loc(path, node.start_mark), f"nesting deeper than {MAX_DEPTH} levels")
        return None
    tag = node.tag or ""
    if isinstance(node, ScalarNode):
        if tag not in _CORE_TAGS:
            collector.error(
                _loc(path, node.start_mark), f"YAML tag {tag!r} is not allowed in a dossier", field=_dotted(here)
            )
            return None
        if tag == _NULL_TAG and node.style is None:
            return None
        value = node.value
        bad = _CONTROL.search(value)
        if bad:
            collector.error(
                _loc(path, node.start_mark),
                f"control character U+{ord(bad.group()):04X} is not allowed in text",
                field=_dotted(here),
            )
            return None
        long_word = _LONG_WORD.search(value)
        if long_word:
            collector.error(
                _word_location(path, node, value, long_word.start()),
                f"a word of {len(long_word.group()):,} characters without a space; the limit is {MAX_WORD:,}",
                field=_dotted(here),
            )
            return None
        return value
    if tag not in _CORE_TAGS:
        collector.error(
            _loc(path, node.start_mark), f"YAML tag {tag!r} is not allowed in a dossier", field=_dotted(here)
        )
        return None
    if isinstance(node, SequenceNode):
        items = []
        for index, child in enumerate(node.value):
            loc = _loc(path, child.start_mark)
            doc.spans[here + (index,)] = Span(loc, loc, _is_block(child))
            items.append(_walk(child, here + (index,), doc, collector, depth + 1))
        return items
    if isinstance(node, MappingNode):
        mapping: dict[str, object] = {}
        first_seen: dict[str, Location] = {}
        for key_node, value_node in node.value:
            key_loc = _loc(path, key_node.start_mark)
            if key_node.tag == "tag:yaml.org,2002:merge":
                collector.error(key_loc, "merge keys (<<) are not allowed in a dossier", field=_dotted(here))
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag not in _CORE_TAGS:
                collector.error(key_loc, "a key must be plain text", field=_dotted(here))
                continue
            key = key_node.value
            if key in first_seen:
                collector.error(
                    key_loc,
                    f"duplicate key '{key}' (first defined on line {first_seen[key].line})",
                    field=_dotted(here + (key,)),
                )
                continue
            first_seen[key] = key_loc
            doc.spans[here + (key,)] = Span(key_loc, _loc(path, value_node.start_mark), _is_block(value_node))
            mapping[key] = _walk(value_node, here + (key,), doc, collector, depth + 1)
        return mapping
    collector.error(_loc(path, node.start_mark), "unsupported YAML node")  # pragma: no cover
    return None


def _word_location(path: Path, node: ScalarNode, value: str, offset: int) -> Location:
    """Where in the file a position of a scalar's value stands (exact for block scalars)."""
    start = node.start_mark
    if node.style in ("|", ">"):
        line = start.line + 1 + value.count("\n", 0, offset) + 1
        return Location(path, line, 1)
    return _loc(path, start)


def _is_block(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style in ("|", ">")


def _dotted(loc: Path_) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


dotted = _dotted
