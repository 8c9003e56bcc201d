"""One embedded font per face in the assembled PDF: the runs' subsets of a face merged into one.

WeasyPrint 70 subsets a font with its original glyph ids retained (Type0, Identity-H,
CIDToGIDMap /Identity: the content streams show original glyph ids) and names the subset
from the font's description, not from its glyph set. So every run's different subset of
Inter is called ``ABCDEF+Inter``: several programs under one subset name, which ISO 32000
(9.9.2) forbids and ``pdffonts`` lists once per run. Because the glyph ids are the original
ones, the subsets are interchangeable once one program holds the union of their glyphs.
``merge_fonts()`` groups the Type0 fonts by BaseFont (and the digest of the original file
they were cut from), takes the union of their glyphs, widths and ToUnicode entries, cuts the
original file again with HarfBuzz exactly as WeasyPrint's ``Font._harfbuzz_subset`` does,
and points every font resource at the group's first font, which now holds all of it.

A group whose members cannot share one program keeps them apart, each under a subset tag of
its own (so that no two programs share a name): a variable or colour font (WeasyPrint changes
those after subsetting in ways the PDF does not record), or runs whose replacement codes for
missing glyphs clash (WeasyPrint numbers them per document, from the font's glyph count).
Type3 (bitmap) fonts are left as they are.

``used_fonts()`` is what a run's worker records after ``write()``: for each BaseFont, the
digest, bytes and face index of the original font file.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from math import ceil
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name

FontFile = Callable[[str], tuple[bytes, int]]  # digest -> (original font file, face index)
ObjGen = tuple[int, int]

# The tables WeasyPrint 70 drops when it subsets (pdf/fonts.py, Font._harfbuzz_subset).
_DROPPED_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF", b"LTSH", b"PCLT", b"SVG ")
# A face with any of these WeasyPrint changes after subsetting (Font.clean: variable instance, colour glyphs).
_CHANGED_AFTER_SUBSET = frozenset({"fvar", "CBDT", "CBLC", "COLR", "SVG ", "sbix"})

_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_CIDCHAR = re.compile(rb"begincidchar(.*?)endcidchar", re.S)
_HEX_PAIR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>")
_HEX_RANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(<[0-9a-fA-F]*>|\[[^\]]*\])")
_HEX_CID = re.compile(rb"<([0-9a-fA-F]+)>\s*(\d+)")
_CMAP_HEAD = (b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap")
_CMAP_TAIL = (b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end")


def used_fonts(document: Any) -> dict[str, tuple[str, bytes, int]]:
    """BaseFont (without the slash) -> (sha256 hex of the original font file, its bytes, face index).

    Call it after ``write()`` on the weasyprint.Document that was written. The original bytes
    come from the HarfBuzz face: writing replaces ``Font.file_content`` by the subset.
    """
    from weasyprint.pdf.fonts import get_hb_object_data

    found: dict[str, tuple[str, bytes, int]] = {}
    for font in document.fonts.values():
        base_font = font.name.decode("latin-1").lstrip("/")
        data = get_hb_object_data(font.hb_face)
        entry = (hashlib.sha256(data).hexdigest(), data, int(font.index))
        known = found.setdefault(base_font, entry)
        if (known[0], known[2]) != (entry[0], entry[2]):
            raise ValueError(f"two font files are embedded as {base_font}")
    return found


def font_tables(owners: Iterable[pikepdf.Object]) -> Iterator[pikepdf.Dictionary]:
    """Every /Font dictionary these pages or XObjects use, each once, in a stable order.

    Looked for in their resources, in those of the Form XObjects, tiling patterns and Type3
    fonts they use (nested), and in the pages' annotation appearances.
    """
    queue: deque[pikepdf.Object] = deque(owners)
    seen: set[ObjGen] = set()

    def first_time(obj: pikepdf.Object) -> bool:
        if not obj.is_indirect:
            return True
        if obj.objgen in seen:
            return False
        seen.add(obj.objgen)
        return True

    while queue:
        owner = queue.popleft()
        if not first_time(owner):
            continue
        if isinstance(owner, Dictionary) and "/Annots" in owner:
            for annot in owner.Annots:
                appearance = annot.get("/AP")
                if isinstance(appearance, Dictionary):
                    queue.extend(_appearance_streams(appearance))
        resources = owner.get("/Resources")
        if not isinstance(resources, Dictionary) or not first_time(resources):
            continue
        table = resources.get("/Font")
        if isinstance(table, Dictionary) and first_time(table):
            yield table
            queue.extend(font for font in table.values() if font.get("/Subtype") == Name.Type3)
        for key in ("/XObject", "/Pattern"):
            named = resources.get(key)
            if isinstance(named, Dictionary):
                queue.extend(value for value in named.values() if isinstance(value, pikepdf.Stream))


def _appearance_streams(appearance: pikepdf.Dictionary) -> Iterator[pikepdf.Object]:
    for key in ("/N", "/R", "/D"):
        value = appearance.get(key)
        if isinstance(value, pikepdf.Stream):
            yield value
        elif isinstance(value, Dictionary):  # appearance states
            yield from (state for state in value.values() if isinstance(state, pikepdf.Stream))


@dataclass
class _Member:
    """One Type0 font object of the assembled PDF, read."""

    font: pikepdf.Object
    widths: dict[int, Any]  # gid -> width as written (int or Decimal)
    to_unicode: dict[int, bytes]  # code -> UTF-16BE hex, as written
    cids: dict[int, int] | None  # code -> CID of a /WP-Encod CMap (missing glyphs); None: Identity-H


def merge_fonts(
    pdf: pikepdf.Pdf, tables: Sequence[pikepdf.Dictionary], digests: Mapping[ObjGen, str], font_file: FontFile
) -> None:
    """Merge the subsets of each face in ``pdf``; ``tables`` are all its /Font dictionaries.

    ``digests`` gives, for each Type0 font object (by objgen), the digest of the original file it
    was cut from (RunPdf.fonts); ``font_file`` gives that file. ValueError if a font that must be
    merged has no digest.
    """
    groups: dict[tuple[str, str | None], list[_Member]] = {}
    seen: set[ObjGen] = set()
    for table in tables:
        for key in sorted(table.keys()):
            font = table[key]
            if not font.is_indirect or font.objgen in seen or font.get("/Subtype") != Name.Type0:
                continue  # Type3 (bitmap) fonts are left as they are
            seen.add(font.objgen)
            groups.setdefault((str(font.BaseFont)[1:], digests.get(font.objgen)), []).append(_read(font))
    by_name: dict[str, int] = {}
    for base_font, digest in groups:
        by_name[base_font] = by_name.get(base_font, 0) + 1
        if digest is None and (by_name[base_font] > 1 or len(groups[base_font, digest]) > 1):
            raise ValueError(f"font {base_font} has no original file (not in its run's RunPdf.fonts)")
    taken = {base_font for base_font, _ in groups}
    named: set[str] = set()
    replace: dict[ObjGen, pikepdf.Object] = {}
    for (base_font, digest), members in groups.items():
        if base_font in named:  # another original file under a name already used: a name of its own
            for member in members:
                _retag(member.font, base_font, taken)
        named.add(base_font)
        if len(members) == 1:
            continue
        keep = _merge(pdf, members, digest, font_file) if digest is not None else None
        if keep is None:
            for member in members[1:]:
                _retag(member.font, base_font, taken)
            continue
        replace.update((member.font.objgen, keep) for member in members[1:])
    if replace:
        for table in tables:
            for key in list(table.keys()):
                target = replace.get(table[key].objgen)
                if target is not None:
                    table[key] = target


def _read(font: pikepdf.Object) -> _Member:
    encoding = font.get("/Encoding")
    return _Member(
        font,
        _widths(font.DescendantFonts[0].get("/W")),
        _to_unicode(font.ToUnicode.read_bytes()) if "/ToUnicode" in font else {},
        _cid_map(encoding.read_bytes()) if isinstance(encoding, pikepdf.Stream) else None,
    )


def _widths(w: pikepdf.Object | None) -> dict[int, Any]:
    """gid -> width of a /W array (both of its forms)."""
    out: dict[int, Any] = {}
    items = list(w) if isinstance(w, Array) else []
    i = 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], Array):
            for offset, width in enumerate(items[i + 1]):
                out.setdefault(first + offset, width)
            i += 2
        else:
            for gid in range(first, int(items[i + 1]) + 1):
                out.setdefault(gid, items[i + 2])
            i += 3
    return out


def _to_unicode(data: bytes) -> dict[int, bytes]:
    """code -> UTF-16BE hex of a ToUnicode CMap (its bfchar and bfrange entries)."""
    out: dict[int, bytes] = {}
    for block in _BFCHAR.findall(data):
        for code, text in _HEX_PAIR.findall(block):
            out.setdefault(int(code, 16), text.lower())
    for block in _BFRANGE.findall(data):
        for low, high, target in _HEX_RANGE.findall(block):
            codes = range(int(low, 16), int(high, 16) + 1)
            if target.startswith(b"["):
                for code, text in zip(codes, re.findall(rb"<([0-9a-fA-F]*)>", target), strict=False):
                    out.setdefault(code, text.lower())
            else:
                start, digits = int(target[1:-1], 16), len(target) - 2
                for offset, code in enumerate(codes):
                    out.setdefault(code, b"%0*x" % (digits, start + offset))
    return out


def _cid_map(data: bytes) -> dict[int, int]:
    """code -> CID of the /WP-Encod CMap WeasyPrint writes for a font with missing glyphs."""
    return {int(code, 16): int(cid) for block in _CIDCHAR.findall(data) for code, cid in _HEX_CID.findall(block)}


def _merge(pdf: pikepdf.Pdf, members: Sequence[_Member], digest: str, font_file: FontFile) -> pikepdf.Object | None:
    """The group's first font, now holding the union of all; None if they cannot share a program."""
    widths: dict[int, Any] = {}
    to_unicode: dict[int, bytes] = {}
    cids: dict[int, int] = {}
    missing = False  # WeasyPrint's Font.missing: glyphs the font lacks, drawn as .notdef
    for member in members:
        member_cids = member.cids if member.cids is not None else {code: code for code in member.to_unicode}
        missing = missing or member.cids is not None
        for code, text in member.to_unicode.items():
            if member.cids is None:
                # One glyph, two texts (a Devanagari conjunct, an Arabic ligature drawn for other letters
                # elsewhere): the one pass keeps the text of the last place it draws the glyph
                # (draw/text.py sets Font.to_unicode on every draw), so the later run wins here too.
                to_unicode[code] = text
            elif to_unicode.setdefault(code, text) != text:
                return None  # one code, two texts: the runs' replacement codes for missing glyphs clash
        for code, cid in member_cids.items():
            if cids.setdefault(code, cid) != cid:
                return None
        for gid, width in member.widths.items():
            widths.setdefault(gid, width)
    data, index = font_file(digest)
    # WeasyPrint subsets the glyphs of its ToUnicode map (Font.to_unicode); /W lists the same ones.
    program = subset(data, index, sorted(to_unicode.keys() | widths.keys()), notdef_outline=missing)
    if program is None:
        return None
    keep = members[0].font
    descendant = keep.DescendantFonts[0]
    descriptor = descendant.FontDescriptor
    stream = _program_stream(descriptor)
    stream.write(program)  # unfiltered: the save compresses it
    if "/Length1" in stream:
        stream.Length1 = len(program)
    descendant.W = _width_array(widths)
    if "/FontBBox" in descriptor:  # WeasyPrint: [0 descent max-width ascent]
        box = list(descriptor.FontBBox)
        box[2] = max(widths.values(), key=float)
        descriptor.FontBBox = Array(box)
    if "/Flags" in descriptor:  # FixedPitch as WeasyPrint decides it: more than one glyph, one width
        fixed = len(widths) > 1 and len({float(width) for width in widths.values()}) == 1
        descriptor.Flags = (int(descriptor.Flags) & ~1) | int(fixed)
    if "/CIDSet" in descriptor:  # PDF 1.4 (PDF/A-1)
        descriptor.CIDSet.write(_cid_set(widths))
    keep.ToUnicode.write(_to_unicode_cmap(to_unicode))
    if missing:
        template = next(member.font.Encoding for member in members if member.cids is not None)
        if not isinstance(keep.get("/Encoding"), pikepdf.Stream):
            keep.Encoding = pdf.make_stream(b"", {k: v for k, v in template.items() if k not in ("/Length", "/Filter")})
        keep.Encoding.write(_encoding_cmap(cids))
    return keep


def _program_stream(descriptor: pikepdf.Object) -> pikepdf.Object:
    for key in ("/FontFile2", "/FontFile3", "/FontFile"):
        if key in descriptor:
            return descriptor[key]
    raise ValueError(f"font {descriptor.get('/FontName')} embeds no program")


def _width_array(widths: Mapping[int, Any]) -> pikepdf.Array:
    """A /W array as WeasyPrint writes one: each run of consecutive gids as ``first [w w ...]``."""
    items: list[Any] = []
    run: list[Any] = []
    previous = -2
    for gid in sorted(widths):
        if gid != previous + 1:
            if run:
                items.append(Array(run))
            items.append(gid)
            run = []
        run.append(widths[gid])
        previous = gid
    if run:
        items.append(Array(run))
    return Array(items)


def _cid_set(cids: Iterable[int]) -> bytes:
    """The /CIDSet bit string of these CIDs (the high bit of the first byte is CID 0)."""
    ordered = sorted(cids)
    bits = bytearray(ceil((ordered[-1] + 1) / 8))
    for cid in ordered:
        bits[cid // 8] |= 0x80 >> (cid % 8)
    return bytes(bits)


def _to_unicode_cmap(entries: Mapping[int, bytes]) -> bytes:
    """A ToUnicode CMap as WeasyPrint writes it (bfchar blocks of 100), codes in order."""
    lines = [
        *_CMAP_HEAD,
        b"/CIDSystemInfo",
        b"<< /Registry (Adobe)",
        b"/Ordering (UCS)",
        b"/Supplement 0",
        b">> def",
        b"/CMapName /Adobe-Identity-UCS def",
        b"/CMapType 2 def",
        b"1 begincodespacerange",
        b"<0000> <ffff>",
        b"endcodespacerange",
    ]
    items = sorted(entries.items())
    for start in range(0, len(items), 100):
        batch = items[start : start + 100]
        lines.append(b"%d beginbfchar" % len(batch))
        lines += [b"<%04x> <%s>" % (code, text) for code, text in batch]
        lines.append(b"endbfchar")
    return b"\n".join([*lines, *_CMAP_TAIL])


def _encoding_cmap(cids: Mapping[int, int]) -> bytes:
    """The /WP-Encod-0 CMap WeasyPrint writes for a font with missing glyphs (code -> CID, 0: .notdef)."""
    lines = [
        *_CMAP_HEAD,
        b"/CIDSystemInfo",
        b"3 dict dup begin",
        b"/Registry (Adobe) def",
        b"/Ordering (Identity) def",
        b"/Supplement 0 def",
        b"end def",
        b"/CMapName /WP-Encod-0 def",
        b"/CMapType 1 def",
        b"1 begincodespacerange",
        b"<0000> <ffff>",
        b"endcodespacerange",
    ]
    items = sorted(cids.items())
    for start in range(0, len(items), 100):
        batch = items[start : start + 100]
        lines.append(b"%d begincidchar" % len(batch))
        lines += [b"<%04x> %d" % (code, cid) for code, cid in batch]
        lines.append(b"endcidchar")
    return b"\n".join([*lines, *_CMAP_TAIL])


def _retag(font: pikepdf.Object, base_font: str, taken: set[str]) -> None:
    """Give a font that keeps its own program a subset tag of its own, made from that program."""
    family = base_font.split("+", 1)[-1]
    seed = _program_stream(font.DescendantFonts[0].FontDescriptor).read_raw_bytes()
    if "/ToUnicode" in font:
        seed += font.ToUnicode.read_raw_bytes()
    counter = 0
    while True:
        digest = hashlib.md5(seed + counter.to_bytes(4, "big"), usedforsecurity=False).digest()
        name = "".join(chr(65 + byte % 26) for byte in digest[:6]) + "+" + family  # WeasyPrint's tag alphabet
        if name not in taken:
            break
        counter += 1
    taken.add(name)
    font.BaseFont = font.DescendantFonts[0].BaseFont = Name("/" + name)
    font.DescendantFonts[0].FontDescriptor.FontName = Name("/" + name)


# The subsetter ---------------------------------------------------------------------------------


def subset(data: bytes, index: int, gids: Sequence[int], *, notdef_outline: bool = False) -> bytes | None:
    """The program WeasyPrint 70 embeds for these glyph ids of face ``index`` of font file ``data``.

    Two HarfBuzz passes, as in WeasyPrint's Font._harfbuzz_subset with its default hinting=False:
    the glyphs with their ids retained, then glyphs 0..max kept so that no empty glyphs follow
    the last one used. Without HarfBuzz-Subset 4.1, fontTools with WeasyPrint's fallback options.
    None for a face WeasyPrint changes after subsetting (variable and colour fonts) or a failure.
    """
    if not gids or _CHANGED_AFTER_SUBSET & _table_tags(data, index):
        return None
    bindings = _harfbuzz()
    if bindings is None:
        return _fonttools_subset(data, index, gids, notdef_outline)
    ffi, harfbuzz, hb_subset, faces = bindings
    blob = ffi.gc(
        faces.hb_blob_create(data, len(data), faces.HB_MEMORY_MODE_DUPLICATE, ffi.NULL, ffi.NULL),
        harfbuzz.hb_blob_destroy,
    )
    face = ffi.gc(faces.hb_face_create(blob, index), harfbuzz.hb_face_destroy)
    hb_input = ffi.gc(hb_subset.hb_subset_input_create_or_fail(), hb_subset.hb_subset_input_destroy)
    if hb_input == ffi.NULL:
        return None

    def add(target: Any, values: Sequence[int]) -> None:
        harfbuzz.hb_set_add_sorted_array(target, ffi.new(f"hb_codepoint_t[{len(values)}]", values), len(values))

    ordered = sorted(set(gids))
    add(hb_subset.hb_subset_input_glyph_set(hb_input), ordered)
    notdef = hb_subset.HB_SUBSET_FLAGS_NOTDEF_OUTLINE if notdef_outline else 0
    kept = hb_subset.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED | hb_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE | notdef
    hb_subset.hb_subset_input_set_flags(hb_input, hb_subset.HB_SUBSET_FLAGS_RETAIN_GIDS | kept)
    add(
        hb_subset.hb_subset_input_set(hb_input, hb_subset.HB_SUBSET_SETS_DROP_TABLE_TAG),
        [harfbuzz.hb_tag_from_string(tag, -1) for tag in _DROPPED_TABLES],
    )
    first = ffi.gc(hb_subset.hb_subset_or_fail(face, hb_input), harfbuzz.hb_face_destroy)
    if first == ffi.NULL:
        return None
    # The second pass: the same input, glyphs 0..max added, ids no longer retained, no hinting.
    add(hb_subset.hb_subset_input_glyph_set(hb_input), list(range(ordered[-1] + 1)))
    hb_subset.hb_subset_input_set_flags(hb_input, kept | hb_subset.HB_SUBSET_FLAGS_NO_HINTING)
    second = ffi.gc(hb_subset.hb_subset_or_fail(first, hb_input), harfbuzz.hb_face_destroy)
    if second == ffi.NULL:
        return None
    from weasyprint.text.fonts import get_hb_object_data

    program: bytes | None = get_hb_object_data(second)
    return program or None


@cache
def _harfbuzz() -> tuple[Any, Any, Any, Any] | None:
    """(ffi, harfbuzz, harfbuzz_subset, faces), or None without HarfBuzz-Subset >= 4.1 (as WeasyPrint).

    WeasyPrint's own bindings, plus the two calls they lack (a blob and a face made from bytes),
    declared on an FFI that includes WeasyPrint's: its pointers pass to WeasyPrint's functions.
    """
    import cffi  # type: ignore[import-untyped]
    from weasyprint.text import ffi as weasy

    if weasy.harfbuzz_subset is None or not weasy.harfbuzz.hb_version_atleast(4, 1, 0):
        return None
    ffi = cffi.FFI()
    ffi.include(weasy.ffi)
    ffi.cdef(
        """
        typedef enum { HB_MEMORY_MODE_DUPLICATE, HB_MEMORY_MODE_READONLY, HB_MEMORY_MODE_WRITABLE,
                       HB_MEMORY_MODE_READONLY_MAY_MAKE_WRITABLE } hb_memory_mode_t;
        typedef void (*hb_destroy_func_t) (void *user_data);
        hb_blob_t * hb_blob_create (const char *data, unsigned int length, hb_memory_mode_t mode,
                                    void *user_data, hb_destroy_func_t destroy);
        hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);
        """
    )
    # The names WeasyPrint's text/ffi.py opens HarfBuzz by: the same library.
    names = (
        "libharfbuzz-0",
        "harfbuzz",
        "harfbuzz-0.0",
        "libharfbuzz.so.0",
        "libharfbuzz.0.dylib",
        "libharfbuzz-0.dll",
    )
    return ffi, weasy.harfbuzz, weasy.harfbuzz_subset, weasy._dlopen(ffi, *names)


def _table_tags(data: bytes, index: int) -> frozenset[str]:
    """The table tags of one face of a font file (its table directory only)."""
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(io.BytesIO(data), fontNumber=index, lazy=True).keys())


def _fonttools_subset(data: bytes, index: int, gids: Sequence[int], notdef_outline: bool) -> bytes | None:
    """WeasyPrint's fallback subsetter (Font._fonttools_subset), with no timestamp of today in it."""
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont, TTLibError

    options = ft_subset.Options(
        retain_gids=True,
        passthrough_tables=True,
        ignore_missing_glyphs=True,
        hinting=False,
        desubroutinize=True,
        notdef_outline=notdef_outline,
    )
    options.drop_tables += ["GSUB", "GPOS", "SVG"]
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(gids=list(gids))
    try:
        font = TTFont(io.BytesIO(data), fontNumber=index, recalcTimestamp=False)
        subsetter.subset(font)
    except TTLibError:
        return None
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
