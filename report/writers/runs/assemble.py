"""Put the run PDFs and the page-number layer together into one PDF, as if laid out at once.

Each run is a WeasyPrint document of its own (tagged PDF/UA-1 when the book is). The one PDF
must read like the single pass: one structure tree in reading order, links across runs, one
outline, one font per face, one /ID. ``assemble()`` does, in this order:

1. pages: every run's pages at its first page; a page no run covers is blank, with the boxes
   of the next run's first page (else of the page before it);
2. structure (tagged runs): ONE StructTreeRoot with ONE /Document whose kids are every run's
   top-level elements in run order; the /ParentTree one number tree, each run's keys shifted
   by the keys before it, the pages' /StructParents and annotations' /StructParent alike;
3. named destinations: one /Dests name tree (the first run to define a name wins); a link that
   a run wrote as ``report-run:ID`` (its target is in another run) becomes the internal link
   WeasyPrint itself writes: ``/Dest (ID)``, and ``/Contents (ID)`` when tagged;
4. outlines: every run's bookmarks in run order, as they were (position, nesting, open state);
5. catalog and Info from the first run (/Lang, /MarkInfo, /ViewerPreferences, XMP, /OutputIntents);
6. the layer: each layer page becomes a Form XObject, drawn over its page as a pagination
   artifact after the page's own content, which is wrapped in ``q ... Q``;
7. fonts: the runs' subsets of one face merged into one font (fonts.py);
8. saved with object streams, the highest PDF version of the inputs and WeasyPrint's /ID for
   the identifier.

The largest run is the PDF the others are copied into: pikepdf (qpdf) copies a page, a tree or
a destination with everything it refers to, one map of copied objects per source (so an
element's /Pg, a bookmark's page and a destination all land on the page already copied), but
copying costs about as much per object as reading it, and one run (the quote index, many links)
can hold most of the objects.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from .fonts import ObjGen, font_tables, merge_fonts

RUN_SCHEME = "report-run:"  # how a run writes a link whose target is in another run
LAYER_NAME = "ReportLayer{page}"  # the layer's XObject on (1-based) page {page}
# The pagination artifact: the layer's Form XObject under a graphics state of its own.
_ARTIFACT = b"/Artifact <</Type /Pagination>> BDC q /%s Do Q EMC"
_BOXES = ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox")
_FROM_FRONT = ("/Lang", "/MarkInfo", "/ViewerPreferences", "/Metadata", "/OutputIntents", "/PageMode", "/PageLayout")
# What qpdf writes with static_id=True; replaced by our /ID of the same length.
_STATIC_ID = b"/ID [<31415926535897932384626433832795><31415926535897932384626433832795>]"


@dataclass(frozen=True)
class RunPdf:
    """One WeasyPrint PDF to be placed in the assembled PDF."""

    data: bytes  # the PDF (tagged PDF/UA-1 when the book is, else untagged; PDF/A-3b possible)
    first_page: int  # 1-based page of the assembled PDF where this PDF's first page goes
    fonts: Mapping[str, str]  # BaseFont as written, without the slash -> digest of the original font file


class MissingTargets(ValueError):
    """``report-run:`` links whose target no run defines (``targets``, sorted)."""

    def __init__(self, targets: Sequence[str]):
        self.targets = tuple(targets)
        super().__init__(f"no run defines the link target{'s' if len(targets) > 1 else ''} {', '.join(targets)}")


def assemble(
    runs: Sequence[RunPdf],
    layers: Sequence[RunPdf],
    *,
    page_count: int,
    identifier: str,
    font_file: Callable[[str], tuple[bytes, int]],
) -> bytes:
    """The one PDF made of ``runs`` (in page order; runs[0] is the front matter) and ``layers``.

    Page j of layers[i] is drawn over page layers[i].first_page + j; the layers are untagged.
    Pages no run covers are blank. ``font_file`` gives the original font file (bytes, face
    index) of a digest in RunPdf.fonts. ValueError for runs or layers that do not fit
    ``page_count`` or each other; MissingTargets (a ValueError) for ``report-run:`` links
    whose target no run defines.
    """
    if not runs:
        raise ValueError("no runs to assemble")
    sources = [_open(run.data, f"run {index}") for index, run in enumerate(runs)]
    layer_sources = [_open(layer.data, f"layer {index}") for index, layer in enumerate(layers)]
    _check_runs(runs, sources, page_count)
    layer_pages = _check_layers(layers, layer_sources, page_count)
    tagged = _tagged(sources)

    base = max(range(len(runs)), key=lambda index: (len(runs[index].data), -index))
    out = sources[base]
    front = _front_catalog(out, sources[0])  # before the base's own catalog is cleared
    run_pages = _place_pages(out, runs, sources, base, page_count)
    structure = _Structure(out, sources[0]) if tagged else None
    names = _Names()
    fonts = _Fonts()
    outline: list[pikepdf.Object] = []
    outline_count = 0
    links: list[tuple[pikepdf.Object, str]] = []
    for run, src, pages in zip(runs, sources, run_pages, strict=True):
        fonts.add(pages, run.fonts)
        shift = structure.add(src) if structure is not None else 0
        links += _shift_annotations(pages, shift)
        names.add(out, src)
        items, count = _outline_items(out, src)
        outline += items
        outline_count += count

    for key in list(out.Root.keys()):
        if key not in ("/Type", "/Pages"):
            del out.Root[key]
    if "/Info" in out.trailer:
        del out.trailer["/Info"]
    for key, value in front.items():
        (out.trailer if key == "/Info" else out.Root)[key] = value
    if structure is not None:
        out.Root.StructTreeRoot = structure.finish()
    names.link(links)
    if len(names):
        out.Root.Names = Dictionary(Dests=out.make_indirect(names.tree()))
    if outline:
        out.Root.Outlines = _outline_root(out, outline, outline_count)
    _draw_layers(out, layers, layer_sources, layer_pages, fonts)
    merge_fonts(out, fonts.tables, fonts.digests, font_file)
    version = max((src.pdf_version for src in [*sources, *layer_sources]), key=_version_key)
    return _save(out, version, identifier)


def _open(data: bytes, label: str) -> pikepdf.Pdf:
    try:
        return pikepdf.open(io.BytesIO(data))
    except pikepdf.PdfError as exc:
        raise ValueError(f"{label} is not a PDF: {exc}") from None


def _check_runs(runs: Sequence[RunPdf], sources: Sequence[pikepdf.Pdf], page_count: int) -> None:
    """Runs in page order, each on pages of its own, all inside the assembled PDF."""
    end = 0  # the last page taken so far
    for index, (run, src) in enumerate(zip(runs, sources, strict=True)):
        if not src.pages:
            raise ValueError(f"run {index} has no pages")
        if run.first_page <= end:
            raise ValueError(f"run {index} starts on page {run.first_page}, which an earlier run covers")
        end = run.first_page + len(src.pages) - 1
        if end > page_count:
            raise ValueError(f"run {index} ends on page {end}, after the last page {page_count}")
        names = src.Root.get("/Names")
        if (
            "/AcroForm" in src.Root
            or "/AF" in src.Root
            or (isinstance(names, Dictionary) and "/EmbeddedFiles" in names)
        ):
            raise ValueError(f"run {index} has form fields or attached files, which are not assembled")


def _check_layers(
    layers: Sequence[RunPdf], sources: Sequence[pikepdf.Pdf], page_count: int
) -> list[list[tuple[int, pikepdf.Page]]]:
    """For each layer, its pages with the (0-based) index of the page each is drawn over."""
    taken: set[int] = set()
    placed: list[list[tuple[int, pikepdf.Page]]] = []
    for index, (layer, src) in enumerate(zip(layers, sources, strict=True)):
        if "/StructTreeRoot" in src.Root:
            raise ValueError(f"layer {index} is tagged: a layer must be untagged (it is drawn as an artifact)")
        placed.append([])
        for offset, page in enumerate(src.pages):
            number = layer.first_page + offset
            if not 1 <= number <= page_count:
                raise ValueError(f"page {offset + 1} of layer {index} falls on page {number}, outside 1-{page_count}")
            if number in taken:
                raise ValueError(f"two layer pages for page {number}")
            if len(page.obj.get("/Annots", ())):
                raise ValueError(f"page {offset + 1} of layer {index} has annotations: a layer only draws")
            taken.add(number)
            placed[-1].append((number - 1, page))
    return placed


def _tagged(sources: Sequence[pikepdf.Pdf]) -> bool:
    flags = {"/StructTreeRoot" in src.Root for src in sources}
    if len(flags) > 1:
        raise ValueError("some runs are tagged and some are not")
    return flags.pop()


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _copy(out: pikepdf.Pdf, src: pikepdf.Pdf, obj: pikepdf.Object) -> pikepdf.Object:
    """``obj`` of ``src`` in ``out``; a direct object stays direct (copy_foreign takes indirect ones only)."""
    if src is out or not isinstance(obj, Array | Dictionary | pikepdf.Stream):
        return obj  # already there, or a value (number, name, string)
    if obj.is_indirect:
        return out.copy_foreign(obj)
    return out.copy_foreign(src.make_indirect(Array([obj])))[0]


def _place_pages(
    out: pikepdf.Pdf, runs: Sequence[RunPdf], sources: Sequence[pikepdf.Pdf], base: int, page_count: int
) -> list[list[pikepdf.Object]]:
    """Every run's pages at their place in ``out`` (sources[base]), blank pages between; each run's pages."""
    # Taken before any insertion: the base's own page list grows with every page put before it.
    firsts = [src.pages[0] for src in sources]
    counts = [len(src.pages) for src in sources]
    cursor = 0  # where the next page goes
    placed: list[list[pikepdf.Object]] = []
    for index, (run, src) in enumerate(zip(runs, sources, strict=True)):
        while cursor < run.first_page - 1:
            _put_page(out, cursor, _blank_page(out, firsts[index]))
            cursor += 1
        if index == base:
            cursor += counts[index]
        else:
            for page in src.pages:
                _put_page(out, cursor, page)
                cursor += 1
        placed.append([page.obj for page in out.pages[cursor - counts[index] : cursor]])
    while len(out.pages) < page_count:
        out.pages.append(_blank_page(out, out.pages[-1]))
    return placed


def _put_page(out: pikepdf.Pdf, index: int, page: pikepdf.Page) -> None:
    """Put ``page`` (of any PDF) at ``index`` of ``out``; insert() wants a page at the index."""
    if index < len(out.pages):
        out.pages.insert(index, page)
    else:
        out.pages.append(page)


def _blank_page(out: pikepdf.Pdf, model: pikepdf.Page) -> pikepdf.Page:
    """An empty page with the boxes of ``model`` (a run's page, copied or not yet)."""
    page = Dictionary(Type=Name.Page, Resources=Dictionary())
    for key in _BOXES:
        box = model.mediabox if key == "/MediaBox" else model.obj.get(key)
        if box is not None:
            page[key] = Array(list(box))
    return pikepdf.Page(out.make_indirect(page))


class _Fonts:
    """The /Font dictionaries of the assembled PDF, and the original file of each Type0 font."""

    def __init__(self) -> None:
        self.tables: list[pikepdf.Dictionary] = []
        self.digests: dict[ObjGen, str] = {}
        self._seen: set[ObjGen] = set()

    def add(self, owners: Sequence[pikepdf.Object], digests: Mapping[str, str]) -> None:
        """Take in the fonts these copied pages (or forms) use; ``digests`` is their RunPdf.fonts."""
        for table in font_tables(owners):
            if table.is_indirect:
                if table.objgen in self._seen:
                    continue
                self._seen.add(table.objgen)
            self.tables.append(table)
            for font in table.values():
                if font.is_indirect and font.get("/Subtype") == Name.Type0:
                    digest = digests.get(str(font.BaseFont)[1:])
                    if digest is not None:
                        self.digests.setdefault(font.objgen, digest)


def _shift_annotations(pages: Sequence[pikepdf.Object], shift: int) -> Iterator[tuple[pikepdf.Object, str]]:
    """Shift the pages' /StructParents and annotations' /StructParent; yield the links to other runs."""
    for page in pages:
        if shift and "/StructParents" in page:
            page.StructParents = int(page.StructParents) + shift
        for annot in page.get("/Annots", ()):
            if shift and "/StructParent" in annot:
                annot.StructParent = int(annot.StructParent) + shift
            action = annot.get("/A")
            if isinstance(action, Dictionary) and action.get("/S") == Name.URI:
                uri = str(action.get("/URI", ""))
                if uri.startswith(RUN_SCHEME):
                    # WeasyPrint %-encodes a URI (iri_to_uri) and unquotes a #fragment: undo the one as the other.
                    yield annot, unquote(uri[len(RUN_SCHEME) :])


def _kids(value: pikepdf.Object | None) -> list[pikepdf.Object]:
    if value is None:
        return []
    return list(value) if isinstance(value, Array) else [value]


class _Structure:
    """The one structure tree: every run's top-level elements under one /Document."""

    def __init__(self, out: pikepdf.Pdf, front: pikepdf.Pdf):
        self._out = out
        document = Dictionary(Type=Name.StructElem, S=Name.Document)
        front_document = _document(front.Root.StructTreeRoot)
        if front_document is not None:  # its attributes (/Lang, /NS...), not its kids
            for key, value in front_document.items():
                if key not in ("/K", "/P", "/Pg"):
                    document[key] = _copy(out, front, value)
        self.document = out.make_indirect(document)
        self.root = out.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=Array([self.document])))
        self.document.P = self.root
        self._kids: list[pikepdf.Object] = []
        self._nums: list[tuple[int, pikepdf.Object]] = []
        self._next_key = 0
        self._role_map = Dictionary()
        self._class_map = Dictionary()
        self._namespaces: dict[ObjGen, pikepdf.Object] = {}
        self._ids: dict[bytes, pikepdf.Object] = {}

    def add(self, src: pikepdf.Pdf) -> int:
        """Take in one run's tree (its pages placed already); return the shift of its ParentTree keys."""
        tree = _copy(self._out, src, src.Root.StructTreeRoot)
        document = _document(tree)
        for kid in _kids(document.get("/K") if document is not None else tree.get("/K")):
            if not isinstance(kid, Dictionary) or kid.get("/Type", Name.StructElem) != Name.StructElem:
                raise ValueError("a run has content directly under its /Document: not supported")
            kid.P = self.document
            self._kids.append(kid)
        shift = self._next_key
        if "/ParentTree" in tree:
            entries = list(pikepdf.NumberTree(tree.ParentTree).items())
            self._nums += [(key + shift, value) for key, value in entries]
            self._next_key = shift + max((key + 1 for key, _ in entries), default=0)
            if document is not None:
                self._adopt_orphans(entries, document)
        for key, merged in (("/RoleMap", self._role_map), ("/ClassMap", self._class_map)):
            if isinstance(tree.get(key), Dictionary):
                for name, value in tree[key].items():
                    if name not in merged:
                        merged[name] = value
        for namespace in _kids(tree.get("/Namespaces")):
            self._namespaces.setdefault(namespace.objgen, namespace)
        if "/IDTree" in tree:
            for element_id, element in _name_tree_entries(tree.IDTree):
                if self._ids.setdefault(element_id, element) is not element:
                    raise ValueError(f"two runs have the structure element id {element_id.decode('latin-1')}")
        return shift

    def _adopt_orphans(self, entries: Sequence[tuple[int, pikepdf.Object]], old: pikepdf.Object) -> None:
        """Give the elements that hang from the run's /Document without being its kids our /Document.

        WeasyPrint builds the elements of margin boxes (running heads, folios) with the Document as
        /P but leaves them out of its /K (tags.py: "don't link it to main tree"): only the ParentTree
        reaches them. A page paints, so marks, its margin boxes after its main content (each is a
        stacking context of the page): their marks are the last of the page's ParentTree array.
        Climbing from each end of the array until an element of the main tree is met finds them
        without climbing from every mark of the page.
        """
        climbed: dict[ObjGen, bool] = {}  # element -> whether it hangs in the main tree
        for _, marks in entries:
            if not isinstance(marks, Array):
                continue  # an annotation's element: its content is marked on the page, so climbed there
            count = len(marks)
            for step, start in ((-1, count - 1), (1, 0)):  # from the end, then from the start
                for index in range(start, count if step > 0 else -1, step):
                    element = marks[index]
                    if isinstance(element, Dictionary) and self._climb(element, old, climbed):
                        break

    def _climb(self, element: pikepdf.Object, old: pikepdf.Object, climbed: dict[ObjGen, bool]) -> bool:
        """Whether ``element`` hangs in the main tree; if it hangs from ``old`` as an orphan, adopt it."""
        path = []
        while element.objgen not in climbed:
            path.append(element.objgen)
            parent = element.get("/P")
            if not isinstance(parent, Dictionary) or parent.objgen == self.document.objgen:
                in_tree = True
                break
            if parent.objgen == old.objgen:
                element.P = self.document
                in_tree = False
                break
            element = parent
        else:
            in_tree = climbed[element.objgen]
        climbed.update(dict.fromkeys(path, in_tree))
        return in_tree

    def finish(self) -> pikepdf.Object:
        """The StructTreeRoot, with every run's elements, ParentTree entries and maps."""
        self.document.K = Array(self._kids)
        nums: list[int | pikepdf.Object] = []
        for key, value in sorted(self._nums, key=lambda entry: entry[0]):
            nums += [key, value]
        self.root.ParentTree = self._out.make_indirect(Dictionary(Nums=Array(nums)))
        self.root.ParentTreeNextKey = self._next_key
        if len(self._role_map):
            self.root.RoleMap = self._role_map
        if len(self._class_map):
            self.root.ClassMap = self._class_map
        if self._namespaces:
            self.root.Namespaces = Array(list(self._namespaces.values()))
        if self._ids:
            self.root.IDTree = self._out.make_indirect(_flat_name_tree(self._ids))
        return self.root


def _document(tree: pikepdf.Object) -> pikepdf.Object | None:
    """The tree's one /Document element (WeasyPrint: StructTreeRoot /K [Document]), if it has one."""
    tops = _kids(tree.get("/K"))
    if len(tops) == 1 and isinstance(tops[0], Dictionary) and tops[0].get("/S") == Name.Document:
        return tops[0]
    return None


def _name_tree_entries(node: pikepdf.Object) -> Iterator[tuple[bytes, pikepdf.Object]]:
    """(key as its bytes, value) of a name tree: the key as written, not decoded."""
    names = node.get("/Names")
    if isinstance(names, Array):
        for index in range(0, len(names) - 1, 2):
            yield bytes(names[index]), names[index + 1]
    for kid in _kids(node.get("/Kids")):
        yield from _name_tree_entries(kid)


def _flat_name_tree(entries: Mapping[bytes, pikepdf.Object]) -> pikepdf.Dictionary:
    """One name tree node holding every entry, keys in byte order (as WeasyPrint writes /Dests)."""
    flat: list[pikepdf.Object] = []
    for key in sorted(entries):
        flat += [String(key), entries[key]]
    return Dictionary(Names=Array(flat))


class _Names:
    """The named destinations of every run; the first run to define a name wins."""

    def __init__(self) -> None:
        self._dests: dict[bytes, pikepdf.Object] = {}
        self._keys: dict[str, bytes] = {}  # the name as text -> as written

    def __len__(self) -> int:
        return len(self._dests)

    def add(self, out: pikepdf.Pdf, src: pikepdf.Pdf) -> None:
        names = src.Root.get("/Names")
        if isinstance(names, Dictionary) and "/Dests" in names:
            for key, dest in _name_tree_entries(_copy(out, src, names.Dests)):
                if key not in self._dests:
                    self._dests[key] = dest
                    self._keys.setdefault(str(String(key)), key)

    def link(self, links: Sequence[tuple[pikepdf.Object, str]]) -> None:
        """Make each link to another run the internal link WeasyPrint writes; MissingTargets if any has none."""
        missing = sorted({target for _, target in links if target not in self._keys})
        if missing:
            raise MissingTargets(missing)
        for annot, target in links:
            key = String(self._keys[target])  # the bytes of the name tree's key: a viewer compares bytes
            del annot["/A"]
            annot.Dest = key
            if "/Contents" in annot:  # WeasyPrint writes /Contents (the target) in tagged PDFs only
                annot.Contents = key

    def tree(self) -> pikepdf.Dictionary:
        return _flat_name_tree(self._dests)


def _outline_items(out: pikepdf.Pdf, src: pikepdf.Pdf) -> tuple[list[pikepdf.Object], int]:
    """A run's top-level bookmarks in ``out`` (their kids and destinations with them), and its /Count."""
    outlines = src.Root.get("/Outlines")
    if not isinstance(outlines, Dictionary) or "/First" not in outlines:
        return [], 0
    copied = _copy(out, src, outlines)
    items: list[pikepdf.Object] = []
    item = copied.get("/First")
    while isinstance(item, Dictionary):
        items.append(item)
        item = item.get("/Next")
    return items, int(copied.get("/Count", len(items)))


def _outline_root(out: pikepdf.Pdf, items: Sequence[pikepdf.Object], count: int) -> pikepdf.Object:
    """One outline root over every run's top-level bookmarks, chained in order."""
    root = out.make_indirect(Dictionary(Count=count, First=items[0], Last=items[-1]))
    for index, item in enumerate(items):
        item.Parent = root
        for key, neighbour in (("/Prev", index - 1), ("/Next", index + 1)):
            if 0 <= neighbour < len(items):
                item[key] = items[neighbour]
            elif key in item:
                del item[key]
    return root


def _front_catalog(out: pikepdf.Pdf, front: pikepdf.Pdf) -> dict[str, pikepdf.Object]:
    """The catalog entries (and /Info) the assembled PDF takes from the front matter, in ``out``."""
    values = {key: _copy(out, front, front.Root[key]) for key in _FROM_FRONT if key in front.Root}
    info = front.trailer.get("/Info")  # not front.docinfo, which makes one if there is none
    if isinstance(info, Dictionary):
        copied = _copy(out, front, info)
        values["/Info"] = copied if copied.is_indirect else out.make_indirect(copied)
    return values


def _draw_layers(
    out: pikepdf.Pdf,
    layers: Sequence[RunPdf],
    sources: Sequence[pikepdf.Pdf],
    placed: Sequence[Sequence[tuple[int, pikepdf.Page]]],
    fonts: _Fonts,
) -> None:
    """Draw each layer page over its page: a pagination artifact after the page's content."""
    wrap: pikepdf.Object | None = None
    for layer, src, pages in zip(layers, sources, placed, strict=True):
        forms = [(index, _form(out, src, page)) for index, page in pages]
        fonts.add([form for _, form in forms], layer.fonts)
        for index, form in forms:
            page = out.pages[index]
            layer_box = [round(float(number), 2) for number in form.BBox]
            page_box = [round(float(number), 2) for number in page.mediabox]
            if layer_box != page_box:
                raise ValueError(f"the layer's page {index + 1} is {layer_box}, the page is {page_box}")
            name = LAYER_NAME.format(page=index + 1)
            resources = page.obj.get("/Resources")
            if resources is None:
                resources = page.obj.Resources = Dictionary()
            if "/XObject" not in resources:
                resources.XObject = Dictionary()
            if "/" + name in resources.XObject:
                raise ValueError(f"page {index + 1} already has an XObject /{name}")
            # WeasyPrint gives all pages of a run one resource dictionary: it lists all of their forms.
            resources.XObject["/" + name] = form
            artifact = _ARTIFACT % name.encode("ascii")
            contents = _kids(page.obj.get("/Contents"))
            if contents:
                wrap = wrap if wrap is not None else out.make_stream(b"q\n")
                page.obj.Contents = Array([wrap, *contents, out.make_stream(b"\nQ\n" + artifact + b"\n")])
            else:
                page.obj.Contents = out.make_stream(artifact + b"\n")


def _form(out: pikepdf.Pdf, src: pikepdf.Pdf, page: pikepdf.Page) -> pikepdf.Object:
    """The layer page as a Form XObject in ``out``, its resources kept, its box the page's MediaBox."""
    contents = page.obj.get("/Contents")
    if isinstance(contents, pikepdf.Stream) and "/Group" not in page.obj:
        # WeasyPrint's one content stream, copied as it is (still compressed) and made the form.
        form = out.copy_foreign(contents)
        form.Type = Name.XObject
        form.Subtype = Name.Form
        form.Resources = _copy(out, src, page.obj.get("/Resources", Dictionary()))
    else:
        form = out.copy_foreign(page.as_form_xobject())
    form.BBox = Array(list(page.mediabox))
    return form


def _save(out: pikepdf.Pdf, version: str, identifier: str) -> bytes:
    """The file's bytes, with the /ID WeasyPrint writes for ``identifier`` (write_pdf's pdf_identifier).

    WeasyPrint writes /ID [(md5 hex of the identifier) (md5 hex of the file's objects)]. qpdf
    regenerates an /ID set by hand, and deterministic_id costs a second pass: so the file is
    written with qpdf's static /ID, then that is replaced by ours, of the same length.
    """
    if "/ID" in out.trailer:
        del out.trailer["/ID"]  # the base run's: else qpdf would keep its first element
    buffer = io.BytesIO()
    out.save(
        buffer,
        min_version=version,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        compress_streams=True,  # the streams made here (font programs, the layer's calls)
        stream_decode_level=pikepdf.StreamDecodeLevel.none,  # the runs' streams as they are
        static_id=True,
        fix_metadata_version=False,  # the front run's XMP as it is (pikepdf would rewrite it)
    )
    data = buffer.getvalue()
    at = data.find(_STATIC_ID)
    startxref = data.rfind(b"startxref")
    if at < 0 or data.find(_STATIC_ID, at + 1) >= 0 or not int(data[startxref + 9 :].split()[0]) < at < startxref:
        raise RuntimeError("qpdf did not write its static /ID once, in the last trailer")
    first = hashlib.md5(identifier.encode("utf-8")).hexdigest().encode("ascii")
    second = hashlib.md5(data).hexdigest().encode("ascii")
    ours = b"/ID [(" + first + b")(" + second + b")]"  # 32 hex digits as a literal string: 34 bytes, as <...>
    return data[:at] + ours + data[at + len(_STATIC_ID) :]
