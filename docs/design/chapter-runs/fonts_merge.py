"""Q4: merge the per-run subsets of one font into one embedded font (WeasyPrint 70 output).

WeasyPrint 70 subsets with retained glyph ids (pdf/fonts.py: HB_SUBSET_FLAGS_RETAIN_GIDS, or
fontTools retain_gids=True) and writes Type0 / Identity-H fonts with CIDToGIDMap /Identity:
the content streams show original glyph ids. So the runs' subsets of one font are
interchangeable once one font program holds the union of their glyphs:
- group the Type0 fonts by BaseFont without its subset tag (WeasyPrint 70 derives the tag from
  the font file, not from the glyph set: every run's subset of Inter is called LNXIQZ+Inter);
- union of the glyph ids from the /W arrays, union of the /W widths and of the /ToUnicode
  bfchar entries;
- re-subset the original font file (found by PostScript-ish name in FONT_DIRS) with fontTools,
  the options WeasyPrint uses (retain_gids, desubroutinize, no hinting, GSUB/GPOS/SVG dropped);
- keep the group's first font object, give it the merged program, /W and /ToUnicode, and point
  every /Font resource of every page at it; the other objects are then unreferenced and qpdf
  does not write them.
Fonts whose file is not found are left as they are (reported).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont

FONT_DIRS = [Path("/work/main/styles/fonts"), Path("/usr/share/fonts")]


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower()).replace("regular", "")


def _font_files() -> dict[str, Path]:
    found = {}
    for folder in FONT_DIRS:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in (".ttf", ".otf"):
                found.setdefault(_key(path.stem), path)
    return found


def _widths(w: pikepdf.Array) -> dict[int, float]:
    out, items, i = {}, list(w), 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], pikepdf.Array):
            for j, width in enumerate(items[i + 1]):
                out[first + j] = float(width)
            i += 2
        else:
            for gid in range(first, int(items[i + 1]) + 1):
                out[gid] = float(items[i + 2])
            i += 3
    return out


def _to_unicode(data: bytes) -> dict[int, str]:
    text = data.decode("latin-1")
    out = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            out[int(src, 16)] = dst
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            for k, gid in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[gid] = f"{int(dst, 16) + k:04x}"
    return out


def _cmap(entries: dict[int, str]) -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        "<< /Registry (Adobe)",
        "/Ordering (UCS)",
        "/Supplement 0",
        ">> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <ffff>",
        "endcodespacerange",
    ]
    items = sorted(entries.items())
    for start in range(0, len(items), 100):
        chunk = items[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{gid:04x}> <{dst}>" for gid, dst in chunk]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def _subset(path: Path, gids: set[int]) -> bytes:
    options = subset.Options(
        retain_gids=True,
        passthrough_tables=True,
        ignore_missing_glyphs=True,
        hinting=False,
        desubroutinize=True,
        notdef_outline=True,
    )
    options.drop_tables += ["GSUB", "GPOS", "SVG", "BASE", "DSIG", "JSTF", "LTSH", "PCLT"]
    font = TTFont(str(path), recalcTimestamp=False)  # else head.modified = now: not reproducible
    subsetter = subset.Subsetter(options)
    subsetter.populate(gids=sorted(gids | {0}))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _resource_dicts(pdf: pikepdf.Pdf):
    for page in pdf.pages:
        resources = page.obj.get("/Resources")
        if resources is not None:
            yield resources
            for xobject in resources.get("/XObject", {}).values():
                if "/Resources" in xobject:
                    yield xobject.Resources


def merge_fonts(pdf: pikepdf.Pdf) -> dict:
    groups: dict[str, list] = {}
    seen = set()
    for resources in _resource_dicts(pdf):
        for font in resources.get("/Font", {}).values():
            if font.objgen in seen or font.get("/Subtype") != pikepdf.Name.Type0:
                continue
            seen.add(font.objgen)
            base = str(font.BaseFont).lstrip("/").split("+", 1)[-1]
            groups.setdefault(base, []).append(font)
    files = _font_files()
    report = {"merged": {}, "not_found": []}
    for base, fonts in groups.items():
        if len(fonts) == 1:
            continue
        path = files.get(_key(base))
        if path is None:
            report["not_found"].append(base)
            continue
        widths, unicode = {}, {}
        for font in fonts:
            widths.update(_widths(font.DescendantFonts[0].W))
            unicode.update(_to_unicode(font.ToUnicode.read_bytes()))
        keep = fonts[0]
        descendant = keep.DescendantFonts[0]
        data = _subset(path, set(widths))
        descriptor = descendant.FontDescriptor
        stream_key = "/FontFile2" if "/FontFile2" in descriptor else "/FontFile3"
        stream = descriptor[stream_key]
        stream.write(data)  # pikepdf compresses on save
        if "/Length1" in stream:
            stream.Length1 = len(data)
        w = pikepdf.Array()
        for gid in sorted(widths):
            w.append(gid)
            w.append(pikepdf.Array([widths[gid]]))
        descendant.W = w
        keep.ToUnicode.write(_cmap(unicode))
        ids = {f.objgen for f in fonts}
        for resources in _resource_dicts(pdf):
            table = resources.get("/Font")
            if table is None:
                continue
            for name in list(table.keys()):
                if table[name].objgen in ids:
                    table[name] = keep
        report["merged"][base] = {"subsets": len(fonts), "glyphs": len(widths), "bytes": len(data)}
    return report
