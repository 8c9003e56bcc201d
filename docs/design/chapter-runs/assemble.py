"""Assemble run PDFs (WeasyPrint 70, PDF/UA-1, tagged) into one tagged PDF with pikepdf.

assemble(run_paths, starts, out_path, merge_fonts=False) does, in this order:
1. pages: each run's pages appended (pikepdf copies them; the same foreign-object map is then
   used by every later copy_foreign from that run, so structure elements' /Pg, destinations and
   annotations point at the copied pages, not at fresh duplicates); a blank page where a run
   must start later than the pages so far (book layout: recto openings);
2. structure: ONE StructTreeRoot whose /K is one /Document element holding every run's
   top-level elements in run order (their /P reset); /ParentTree rebuilt as one number tree,
   each run's keys shifted by the keys before it, the pages' /StructParents and the
   annotations' /StructParent shifted alike; /ParentTreeNextKey; /RoleMap merged if any
   (WeasyPrint 70 writes none, nor an /IDTree);
3. catalog: /Lang, /MarkInfo, /ViewerPreferences, /Metadata (XMP) and the Info dictionary from
   the first run (the front matter);
4. named destinations: one /Dests name tree from every run's;
5. links across runs: annotations whose URI action is `report-run:ID` (see runs.run_html)
   become internal links (/Dest ID), exactly as WeasyPrint writes its own internal links;
6. outlines: every run's bookmarks re-made in order with their page (index + offset) and
   /XYZ position; nesting kept;
7. fonts (merge_fonts=True): see fonts_merge.py;
8. /ID: qpdf's deterministic_id (an MD5 of the written file); a trailer /ID set by hand is
   half overwritten by qpdf on save (its second element is regenerated), so bytes differ per save.
Saved with pikepdf's defaults plus deterministic object order (qpdf renumbers on save).
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, NumberTree, NameTree, String


def _copy(out: pikepdf.Pdf, src: pikepdf.Pdf, obj):
    """copy_foreign also for direct objects (it refuses them): made indirect in the source first."""
    if isinstance(obj, pikepdf.Object) and not obj.is_indirect and isinstance(obj, (Array, Dictionary)):
        obj = src.make_indirect(obj)
    elif not isinstance(obj, (Array, Dictionary, pikepdf.Stream)):
        return obj  # names, strings, numbers, booleans: plain values
    return out.copy_foreign(obj)


def _outline_items(src: pikepdf.Pdf):
    """(level, title, page index, x, y) of every bookmark, in document order."""
    page_index = {page.objgen: i for i, page in enumerate(src.pages)}
    out = []

    def walk(node, level):
        item = node.get("/First")
        while item is not None:
            dest = item.get("/Dest")
            if isinstance(dest, (pikepdf.String, str)):
                dest = src.Root.Names.Dests and NameTree(src.Root.Names.Dests).get(str(dest))
            page = page_index.get(dest[0].objgen) if dest is not None else None
            out.append((level, str(item.Title), page, float(dest[2]), float(dest[3])))
            walk(item, level + 1)
            item = item.get("/Next")

    if "/Outlines" in src.Root:
        walk(src.Root.Outlines, 0)
    return out


def assemble(run_paths: list[Path], starts: list[int], out_path: Path, merge_fonts: bool = False) -> dict:
    out = pikepdf.new()
    sources = [pikepdf.open(p) for p in run_paths]
    first = sources[0]

    doc = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, K=Array()))
    root = out.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=Array([doc])))
    doc.P = root
    parent_tree = NumberTree.new(out)
    dests = NameTree.new(out)
    role_map = Dictionary()
    next_key = 0
    outline_items = []
    blanks = []
    for src, start in zip(sources, starts):
        while len(out.pages) + 1 < start:
            box = src.pages[0].mediabox
            out.add_blank_page(page_size=(float(box[2]), float(box[3])))
            blanks.append(len(out.pages))
        offset = len(out.pages)
        out.pages.extend(src.pages)
        tree = src.Root.StructTreeRoot
        local = out.copy_foreign(tree)
        for top in local.K:  # WeasyPrint: K = [Document]
            for kid in top.K if isinstance(top.K, Array) else [top.K]:
                if isinstance(kid, Dictionary):
                    kid.P = doc
                doc.K.append(kid)
        shift = next_key
        nums = NumberTree(local.ParentTree)
        keys = []
        for key, value in nums.items():
            parent_tree[key + shift] = value
            keys.append(key)
        next_key = shift + (max(keys) + 1 if keys else 0)
        if "/RoleMap" in local:
            for name, value in local.RoleMap.items():
                role_map[name] = value
        for page in out.pages[offset:]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + shift
            for annot in page.obj.get("/Annots", []):
                if "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + shift
                action = annot.get("/A")
                if action is not None and str(action.get("/URI", "")).startswith("report-run:"):
                    target = str(action.URI)[len("report-run:") :]
                    del annot["/A"]
                    annot.Dest = String(target)
                    annot.Contents = String(target)
        if "/Names" in src.Root and "/Dests" in src.Root.Names:
            for name, dest in NameTree(src.Root.Names.Dests).items():
                if name not in dests:
                    dests[name] = _copy(out, src, dest)
        outline_items += [
            (lvl, title, None if page is None else page + offset, x, y)
            for lvl, title, page, x, y in _outline_items(src)
        ]

    root.ParentTree = parent_tree.obj
    root.ParentTreeNextKey = next_key
    if len(role_map):
        root.RoleMap = role_map
    out.Root.StructTreeRoot = root
    for key in ("/Lang", "/MarkInfo", "/ViewerPreferences", "/OutputIntents"):  # OutputIntents: PDF/A, untested
        if key in first.Root:
            out.Root[key] = _copy(out, first, first.Root[key])
    if "/Metadata" in first.Root:
        out.Root.Metadata = out.copy_foreign(first.Root.Metadata)
    out.docinfo = out.copy_foreign(first.docinfo)
    out.Root.Names = Dictionary(Dests=dests.obj)

    with out.open_outline() as outline:
        parents: list = []  # parents[level] = the last item made at that level
        for level, title, page, x, y in outline_items:
            item = pikepdf.OutlineItem(title, page, "XYZ", left=x, top=y)
            del parents[level:]
            (parents[level - 1].children if level else outline.root).append(item)
            parents.append(item)
    fonts_report = {}
    if merge_fonts:
        import fonts_merge

        fonts_report = fonts_merge.merge_fonts(out)
    out.save(
        out_path,
        min_version=first.pdf_version,
        deterministic_id=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        compress_streams=True,
    )
    return {
        "pages": len(out.pages),
        "blanks": blanks,
        "parent_tree_keys": next_key,
        "bookmarks": len(outline_items),
        "dests": len(list(dests.keys())),
        "fonts": fonts_report,
    }
