"""The assembly of run PDFs into one PDF (report.writers.runs.assemble), on real WeasyPrint runs.

Three tiny tagged runs are laid out by the builder's own lay_out()/write(): a front run
(page 1), a chapter of two pages (2-3) and a chapter in A5 with bleed (5), so that page 4
(a blank left page) and page 6 (a blank after the last run) come from the assembler; two
untagged layers carry "Seite N von 6". The assembled PDF is checked for what a reader and a
checker see: pages, text, structure tree, links, bookmarks, fonts, the layer, /ID, bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pikepdf
import pytest

from report.pipeline import styles_dir
from report.writers.pdf import PdfOptions, lay_out, write
from report.writers.runs.assemble import MissingTargets, RunPdf, assemble
from report.writers.runs.fonts import subset, used_fonts

IDENTIFIER = "report-assemble-test"
# No running heads or folios in the runs (the layer brings the folio), but for the running head below.
NO_FURNITURE = "".join(
    f"@{box} {{ content: none !important; }}"
    for box in ("top-left", "top-center", "top-right", "bottom-left", "bottom-center", "bottom-right")
)
# A running head: WeasyPrint tags margin boxes as elements under /Document that it leaves out of its /K.
RUNNING_HEAD = '@page { @top-center { content: "Kopfzeile" !important; } }'
A4 = PdfOptions(layout="briefing", variant="pdf/ua-1")
A5_BLEED = PdfOptions(page_size="A5", bleed="3mm", layout="briefing", variant="pdf/ua-1")

FRONT = """<section id="vorwort"><h1>Vorwort</h1>
<p>Siehe <a href="report-run:kapitel-zwei">Kapitel zwei</a> und <a href="report-run:zürich">Zürich</a>.</p></section>"""
CHAPTER_ONE = """<section id="kapitel-eins"><h1>Kapitel eins</h1><h2 id="abschnitt">Abschnitt</h2>
<p>Zurück zum <a href="report-run:vorwort">Vorwort</a>, weiter zum <a href="#abschnitt-zwei">zweiten Abschnitt</a>.</p>
<h2 id="abschnitt-zwei" style="break-before: page">Zweiter Abschnitt</h2>
<p><em>Kursiv</em> und <strong>fett</strong>, dazu Ähnliches.</p></section>"""
CHAPTER_TWO = """<section id="kapitel-zwei"><h1>Kapitel zwei</h1><p id="zürich">Zürich liegt am See.</p></section>"""


@dataclass(frozen=True)
class Laid:
    run: RunPdf
    files: dict[str, tuple[bytes, int]]  # digest -> original font file, face index


def _html(body: str, style: str = "") -> str:
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Probe</title>'
        f"<style>@page {{ {NO_FURNITURE} }} {style}</style></head><body>{body}</body></html>"
    )


def _lay_out(body: str, first_page: int, options: PdfOptions, style: str = "", quiet: bool = True) -> Laid:
    laid_out = lay_out(_html(body, style), base_dir=Path(__file__).parent, styles_dir=styles_dir(), options=options)
    data = write(laid_out, identifier=IDENTIFIER, options=options)
    assert not quiet or not laid_out.warnings, laid_out.warnings
    fonts = used_fonts(laid_out.document)
    return Laid(
        RunPdf(data, first_page, {name: digest for name, (digest, _, _) in fonts.items()}),
        {digest: (original, index) for digest, original, index in fonts.values()},
    )


def _layer(first_page: int, pages: int, total: int, options: PdfOptions) -> Laid:
    """An untagged layer of empty pages whose foot says "Seite N von TOTAL"."""
    first = f"@page :first {{ counter-increment: page {first_page}; }}" if first_page != 1 else ""
    style = f'@page {{ @bottom-center {{ content: "Seite " counter(page) " von {total}" !important; }} }} {first}'
    body = "<div></div>" + '<div style="break-before: page"></div>' * (pages - 1)
    return _lay_out(body, first_page, replace(options, variant="none"), style)


@dataclass(frozen=True)
class Book:
    runs: list[RunPdf]
    layers: list[RunPdf]
    files: dict[str, tuple[bytes, int]]
    pdf: bytes
    path: Path

    def font_file(self, digest: str) -> tuple[bytes, int]:
        return self.files[digest]

    def again(self, **changes: object) -> bytes:
        arguments: dict = {
            "runs": self.runs,
            "layers": self.layers,
            "page_count": 6,
            "identifier": IDENTIFIER,
            "font_file": self.font_file,
        }
        arguments.update(changes)
        return assemble(**arguments)


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Book:
    laid = [
        _lay_out(FRONT, 1, A4),
        _lay_out(CHAPTER_ONE, 2, A4, RUNNING_HEAD),
        _lay_out(CHAPTER_TWO, 5, A5_BLEED),
        _layer(1, 3, 6, A4),
        _layer(4, 3, 6, A5_BLEED),
    ]
    files = {digest: entry for item in laid for digest, entry in item.files.items()}
    runs, layers = [item.run for item in laid[:3]], [item.run for item in laid[3:]]
    data = assemble(runs, layers, page_count=6, identifier=IDENTIFIER, font_file=files.__getitem__)
    path = tmp_path_factory.mktemp("assemble") / "book.pdf"
    path.write_bytes(data)
    return Book(runs, layers, files, data, path)


def _open(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def _run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def _page_texts(path: Path) -> list[str]:
    return _run("pdftotext", "-layout", str(path), "-").split("\f")[:-1]


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


# Where each assembled page comes from: (run index, page index in the run), None for a blank page.
ORIGIN = [(0, 0), (1, 0), (1, 1), None, (2, 0), None]


def test_pages_text_and_layer(book, tmp_path):
    info = _run("pdfinfo", str(book.path))
    assert re.search(r"^Pages:\s+6$", info, re.M) and re.search(r"^Tagged:\s+yes$", info, re.M), info
    texts = _page_texts(book.path)
    assert len(texts) == 6
    for number, (text, origin) in enumerate(zip(texts, ORIGIN, strict=True), start=1):
        folio = f"Seite {number} von 6"
        expected = [folio]
        if origin is not None:
            run_path = tmp_path / f"run{origin[0]}.pdf"
            run_path.write_bytes(book.runs[origin[0]].data)
            expected = _lines(_page_texts(run_path)[origin[1]]) + [folio]
        assert sorted(_lines(text)) == sorted(expected), (number, text)


def test_pdfua_checker_finds_nothing(book):
    from pdfua import validate

    report = validate(str(book.path))
    assert [(f.rule_id, f.message) for f in report.findings] == []
    assert report.exit_code == 0


def test_blank_pages_take_the_boxes_of_the_next_run_else_the_previous_page(book):
    pdf = _open(book.pdf)
    c_first = pdf.pages[4].obj
    boxes = ("/MediaBox", "/BleedBox", "/TrimBox")
    assert [float(x) for x in c_first.MediaBox] != [float(x) for x in c_first.TrimBox]  # A5 with bleed
    assert [float(x) for x in c_first.MediaBox] != [float(x) for x in pdf.pages[2].obj.MediaBox]  # not A4
    for blank in (pdf.pages[3].obj, pdf.pages[5].obj):
        for box in boxes:
            assert [float(x) for x in blank[box]] == [float(x) for x in c_first[box]], box
        assert "/StructParents" not in blank


def _content(page: pikepdf.Page) -> bytes:
    contents = page.obj.Contents
    streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    return b"\n".join(stream.read_bytes() for stream in streams)


def test_layer_is_an_artifact_form_over_the_wrapped_page(book):
    pdf = _open(book.pdf)
    for number, page in enumerate(pdf.pages, start=1):
        content = _content(page)
        artifact = b"/Artifact <</Type /Pagination>> BDC q /ReportLayer%d Do Q EMC" % number
        assert content.rstrip().endswith(artifact), number
        form = page.Resources.XObject[f"/ReportLayer{number}"]
        assert form.Subtype == "/Form" and b"BDC" not in form.read_bytes() and b"MCID" not in form.read_bytes()
        if ORIGIN[number - 1] is None:
            assert content.strip() == artifact  # a blank page: the layer only
        else:  # the page's own content inside q ... Q, before the artifact
            assert content.startswith(b"q\n") and content.rstrip().endswith(b"Q\n" + artifact)


def _walk(pdf: pikepdf.Pdf) -> list[tuple[str, int | None, tuple]]:
    """(role, page number, kids: MCIDs and 'objr') of every element, depth first in reading order."""
    index = {page.objgen: number for number, page in enumerate(pdf.pages, start=1)}
    found = []

    def visit(element: pikepdf.Dictionary) -> None:
        kids = element.get("/K")
        kids = list(kids) if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
        marks = []
        for kid in kids:
            if isinstance(kid, int):
                marks.append(int(kid))
            elif kid.get("/Type") == "/MCR":
                marks.append(int(kid.MCID))
            elif kid.get("/Type") == "/OBJR":
                marks.append("objr")
        found.append((str(element.S), index.get(element.Pg.objgen) if "/Pg" in element else None, tuple(marks)))
        for kid in kids:
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") not in ("/MCR", "/OBJR"):
                assert kid.P.objgen == element.objgen
                visit(kid)

    for top in pdf.Root.StructTreeRoot.K:
        visit(top)
    return found


def test_one_structure_tree_in_run_order(book):
    pdf = _open(book.pdf)
    root = pdf.Root.StructTreeRoot
    assert len(root.K) == 1 and root.K[0].S == "/Document"
    walk = _walk(pdf)
    expected = [("/Document", None, ())]
    for run in book.runs:
        run_walk = _walk(_open(run.data))
        assert run_walk[0][0] == "/Document"
        shift = run.first_page - 1
        expected += [(role, None if page is None else page + shift, kids) for role, page, kids in run_walk[1:]]
    assert walk == expected  # every element, role, page and MCID, in reading order
    assert len(walk) == 1 + sum(len(_walk(_open(run.data))) - 1 for run in book.runs)


def test_parent_tree_resolves_every_mcid_and_annotation(book):
    pdf = _open(book.pdf)
    root = pdf.Root.StructTreeRoot
    tree = pikepdf.NumberTree(root.ParentTree)
    keys = sorted(tree.keys())
    assert keys == list(range(len(keys))) and int(root.ParentTreeNextKey) == len(keys)
    checked = 0
    for page in pdf.pages:
        mcids = [int(m) for m in re.findall(rb"/MCID (\d+)", _content(page))]
        if mcids:
            entry = tree[int(page.obj.StructParents)]
            for mcid in mcids:
                assert entry[mcid].Pg.objgen == page.obj.objgen
                checked += 1
        for annot in page.obj.get("/Annots", []):
            element = tree[int(annot.StructParent)]
            assert element.S == "/Link"
            kids = element.K if isinstance(element.K, pikepdf.Array) else [element.K]
            assert any(isinstance(k, pikepdf.Dictionary) and k.get("/Obj") == annot for k in kids)
            checked += 1
    assert checked > 20
    # every element the ParentTree names hangs, through its /P chain, from the one /Document
    document = root.K[0]
    for _, value in tree.items():
        for element in value if isinstance(value, pikepdf.Array) else [value]:
            while element.P.objgen != document.objgen:
                element = element.P
                assert element.get("/Type") == "/StructElem" and element.get("/S") != "/Document"
    objects = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary)]
    assert sum(obj.get("/Type") == "/StructTreeRoot" for obj in objects) == 1
    assert sum(obj.get("/S") == "/Document" for obj in objects) == 1


def _dests(pdf: pikepdf.Pdf) -> dict[str, int]:
    index = {page.objgen: number for number, page in enumerate(pdf.pages, start=1)}
    return {name: index[dest[0].objgen] for name, dest in pikepdf.NameTree(pdf.Root.Names.Dests).items()}


def test_links_across_runs_become_internal_links(book):
    pdf = _open(book.pdf)
    dests = _dests(pdf)
    assert dests["vorwort"] == 1 and dests["abschnitt-zwei"] == 3 and dests["kapitel-zwei"] == 5
    assert dests["zürich"] == 5
    links = {}
    own_keys = None
    for number, page in enumerate(pdf.pages, start=1):
        for annot in page.obj.get("/Annots", []):
            assert "/A" not in annot and "report-run" not in str(annot.get("/Contents"))
            links[(number, str(annot.Dest))] = annot
            if number == 2 and str(annot.Dest) == "abschnitt-zwei":  # WeasyPrint's own internal link
                own_keys = set(annot.keys())
    assert set(links) == {(1, "kapitel-zwei"), (1, "zürich"), (2, "vorwort"), (2, "abschnitt-zwei")}
    for (_, target), annot in links.items():
        assert set(annot.keys()) == own_keys and str(annot.Contents) == target
    # the key bytes too: a non-ASCII name is the same PDF string in /Dest and in the name tree
    names = pdf.Root.Names.Dests.Names
    keys = {str(names[i]): bytes(names[i]) for i in range(0, len(names), 2)}
    assert bytes(links[(1, "zürich")].Dest) == keys["zürich"]


def test_a_link_to_a_target_no_run_defines_is_an_error():
    laid = _lay_out('<p><a href="report-run:nirgends">weg</a> <a href="report-run:auch-nicht">weg</a></p>', 1, A4)
    with pytest.raises(MissingTargets) as raised:
        assemble([laid.run], [], page_count=1, identifier=IDENTIFIER, font_file=laid.files.__getitem__)
    assert raised.value.targets == ("auch-nicht", "nirgends") and "nirgends" in str(raised.value)
    assert isinstance(raised.value, ValueError)


def _outline(pdf: pikepdf.Pdf) -> list[tuple[int, str, int, float, float]]:
    index = {page.objgen: number for number, page in enumerate(pdf.pages, start=1)}
    found = []

    def walk(node: pikepdf.Dictionary, level: int) -> None:
        item = node.get("/First")
        previous = None
        while item is not None:
            assert item.Parent.objgen == node.objgen
            assert (item.get("/Prev") is None) == (previous is None)
            dest = item.Dest
            found.append((level, str(item.Title), index[dest[0].objgen], float(dest[2]), float(dest[3])))
            walk(item, level + 1)
            previous, item = item, item.get("/Next")
        if previous is not None:
            assert node.Last.objgen == previous.objgen

    walk(pdf.Root.Outlines, 0)
    return found


def test_bookmarks_in_order_with_their_pages_positions_and_nesting(book):
    expected = []
    for run in book.runs:
        expected += [
            (level, title, page + run.first_page - 1, x, y) for level, title, page, x, y in _outline(_open(run.data))
        ]
    assembled = _outline(_open(book.pdf))
    assert assembled == expected
    assert [(level, title, page) for level, title, page, _, _ in assembled] == [
        (0, "Vorwort", 1),
        (0, "Kapitel eins", 2),
        (1, "Abschnitt", 2),
        (1, "Zweiter Abschnitt", 3),
        (0, "Kapitel zwei", 5),
    ]
    assert int(_open(book.pdf).Root.Outlines.Count) == 5


def _font_rows(path: Path) -> list[list[str]]:
    return [row.split() for row in _run("pdffonts", str(path)).splitlines()[2:]]


def test_each_font_once_embedded_and_whole(book):
    rows = _font_rows(book.path)
    names = [row[0] for row in rows]
    assert len(names) == len(set(names)) and len(names) >= 3, names
    assert all(row[-5] == "yes" for row in rows), rows
    run_fonts = sum(len(_font_rows_of(run.data)) for run in [*book.runs, *book.layers])
    assert run_fonts > len(names)  # the runs' subsets were merged
    _assert_glyphs_whole(_open(book.pdf), [*book.runs, *book.layers], book.files)


def _font_rows_of(data: bytes) -> list[str]:
    pdf = _open(data)
    return [str(font.BaseFont) for font in pdf.pages[0].Resources.Font.values()]


def _assert_glyphs_whole(pdf: pikepdf.Pdf, runs: list[RunPdf], files: dict[str, tuple[bytes, int]]) -> None:
    """Every glyph a run uses is drawn by the merged program as by the original font."""
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.ttLib import TTFont

    fonts = {font.objgen: font for page in pdf.pages for font in _all_fonts(page)}
    digests = {name: digest for run in runs for name, digest in run.fonts.items()}
    for font in fonts.values():
        descendant = font.DescendantFonts[0]
        descriptor = descendant.FontDescriptor
        program = (descriptor.get("/FontFile2") or descriptor.get("/FontFile3")).read_bytes()
        merged = TTFont(io.BytesIO(program))
        original_data, index = files[digests[str(font.BaseFont)[1:]]]  # KeyError: a font renamed
        original = TTFont(io.BytesIO(original_data), fontNumber=index)
        gids = set()
        w = list(descendant.W)
        for i in range(0, len(w), 2):
            gids |= set(range(int(w[i]), int(w[i]) + len(w[i + 1])))
        assert gids
        # the descriptor fits the program: its length, and WeasyPrint's box [0 descent max-width ascent]
        stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
        assert "/FontFile3" in descriptor or int(stream.Length1) == len(program)
        assert float(descriptor.FontBBox[2]) == max(float(width) for i in range(1, len(w), 2) for width in w[i])
        for gid in sorted(gids):
            if gid >= len(original.getGlyphOrder()):
                continue  # WeasyPrint's replacement code for a missing glyph: drawn as .notdef
            pens = []
            for tt in (merged, original):
                glyphs = tt.getGlyphSet()
                pen = DecomposingRecordingPen(glyphs)  # components drawn: a subset may renumber them
                glyphs[tt.getGlyphOrder()[gid]].draw(pen)
                pens.append(pen.value)
            assert pens[0] == pens[1], (str(font.BaseFont), gid)


def _all_fonts(page: pikepdf.Page) -> list[pikepdf.Dictionary]:
    found = list(page.Resources.get("/Font", {}).values())
    for xobject in page.Resources.get("/XObject", {}).values():
        found += list(xobject.get("/Resources", {}).get("/Font", {}).values())
    return found


@pytest.mark.parametrize("which", ["chapter", "missing glyph"])
def test_subset_is_byte_for_byte_what_weasyprint_writes(book, missing, which):
    laid = Laid(book.runs[1], book.files) if which == "chapter" else missing["e001"]
    pdf = _open(laid.run.data)
    checked = []
    for font in pdf.pages[0].Resources.Font.values():
        descriptor = font.DescendantFonts[0].FontDescriptor
        program = (descriptor.get("/FontFile2") or descriptor.get("/FontFile3")).read_bytes()
        codes = [int(code, 16) for code in re.findall(rb"<([0-9a-f]{4})> <", font.ToUnicode.read_bytes())]
        data, index = laid.files[laid.run.fonts[str(font.BaseFont)[1:]]]
        notdef = isinstance(font.Encoding, pikepdf.Stream)  # WeasyPrint's Font.missing
        assert subset(data, index, codes, notdef_outline=notdef) == program, str(font.BaseFont)
        checked.append(notdef)
    assert len(checked) >= (2 if which == "chapter" else 1) and any(checked) == (which == "missing glyph")


@pytest.fixture(scope="module")
def missing() -> dict[str, Laid]:
    """Runs with characters no font has: WeasyPrint draws .notdef under a replacement code.

    It numbers the replacement codes from the font's glyph count, per document: U+E001 in one
    run and U+E081 in another get the same code.
    """
    texts = {
        "e001": "Fehlt \ue001 hier",
        "e081": "Fehlt \ue081 dort",
        "e001 again": "Noch \ue001 da",
        "plain": "Zürich",
    }
    return {label: _lay_out(f"<p>{text}</p>", 1, A4, quiet=False) for label, text in texts.items()}


def _assemble_two(first: Laid, second: Laid, path: Path) -> list[str]:
    """The two runs on pages 1 and 2; the BaseFont names pdffonts lists."""
    files = {**first.files, **second.files}
    runs = [first.run, RunPdf(second.run.data, 2, second.run.fonts)]
    path.write_bytes(assemble(runs, [], page_count=2, identifier=IDENTIFIER, font_file=files.__getitem__))
    return [row[0] for row in _font_rows(path)]


def test_missing_glyph_codes_that_clash_keep_their_fonts_apart(missing, tmp_path):
    names = _assemble_two(missing["e001"], missing["e081"], tmp_path / "clash.pdf")
    assert len(names) == len(set(names)) and len([n for n in names if n.endswith("+Charis-SIL")]) == 2, names
    texts = _page_texts(tmp_path / "clash.pdf")
    assert "\ue001" in texts[0] and "\ue081" in texts[1]


@pytest.mark.parametrize("pair", [("e001", "e001 again"), ("plain", "e001")])
def test_missing_glyph_codes_that_agree_merge(missing, tmp_path, pair):
    """The same missing character in two runs; or a run without one first (its font had no CMap to merge into)."""
    path = tmp_path / "agree.pdf"
    names = _assemble_two(missing[pair[0]], missing[pair[1]], path)
    runs = [missing[pair[0]].run, missing[pair[1]].run]
    _assert_glyphs_whole(_open(path.read_bytes()), runs, {**missing[pair[0]].files, **missing[pair[1]].files})
    assert len(names) == len(set(names)) and len([n for n in names if n.endswith("+Charis-SIL")]) == 1, names
    pdf = _open(path.read_bytes())
    fonts = [font for page in pdf.pages for font in _all_fonts(page)]
    charis = {font.objgen: font for font in fonts if str(font.BaseFont).endswith("+Charis-SIL")}
    (font,) = charis.values()
    assert b"WP-Encod-0" in font.Encoding.read_bytes() and b"<0e19> 0" in font.Encoding.read_bytes()
    assert [_lines(text) for text in _page_texts(path)] == [
        _lines(text) for item in pair for text in _page_texts_of(missing[item].run.data, tmp_path)
    ]


def test_fonttools_subsets_where_harfbuzz_is_missing(missing, tmp_path, monkeypatch):
    from fontTools.ttLib import TTFont

    from report.writers.runs import fonts

    monkeypatch.setattr(fonts, "_harfbuzz", lambda: None)
    first, second = missing["plain"], missing["e001 again"]
    names = _assemble_two(first, second, tmp_path / "fonttools.pdf")
    assert len(names) == len(set(names)), names
    runs = [first.run, second.run]
    _assert_glyphs_whole(_open((tmp_path / "fonttools.pdf").read_bytes()), runs, {**first.files, **second.files})
    data, index = first.files[first.run.fonts[next(name for name in names if name.endswith("+Charis-SIL"))]]
    programs = [subset(data, index, [3, 36, 70]) for _ in range(2)]
    assert programs[0] is not None and programs[0] == programs[1]
    modified = [TTFont(io.BytesIO(font))["head"].modified for font in (data, programs[0])]
    assert modified[0] == modified[1]  # not the time of the subsetting


def _page_texts_of(data: bytes, folder: Path) -> list[str]:
    path = folder / f"run-{hashlib.md5(data).hexdigest()}.pdf"
    path.write_bytes(data)
    return _page_texts(path)


def test_same_bytes_every_time_and_in_another_process(book, tmp_path):
    assert book.again() == book.pdf
    inputs = tmp_path / "inputs.pickle"
    inputs.write_bytes(pickle.dumps((book.runs, book.layers, book.files)))
    script = (
        "import pickle, sys\n"
        "from report.writers.runs.assemble import assemble\n"
        "runs, layers, files = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        f"data = assemble(runs, layers, page_count=6, identifier={IDENTIFIER!r}, font_file=files.__getitem__)\n"
        "sys.stdout.buffer.write(data)\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="4711")
    done = subprocess.run(
        [sys.executable, "-c", script, str(inputs)], capture_output=True, check=True, env=env, cwd=Path.cwd()
    )
    assert done.stdout == book.pdf


def test_id_is_what_weasyprint_writes_for_the_identifier(book):
    pdf = _open(book.pdf)
    first, second = (bytes(part) for part in pdf.trailer.ID)
    assert first == hashlib.md5(IDENTIFIER.encode()).hexdigest().encode()
    assert first == bytes(_open(book.runs[0].data).trailer.ID[0])  # as WeasyPrint wrote it for a run
    assert re.fullmatch(rb"[0-9a-f]{32}", second)
    assert book.again(identifier="another") != book.pdf


def test_catalog_and_info_come_from_the_front_run(book):
    pdf, front = _open(book.pdf), _open(book.runs[0].data)
    assert str(pdf.Root.Lang) == "de" and bool(pdf.Root.MarkInfo.Marked)
    assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle)
    assert pdf.Root.Metadata.read_bytes() == front.Root.Metadata.read_bytes()
    assert dict(pdf.docinfo.items()) == dict(front.docinfo.items())
    assert pdf.pdf_version == "1.7"


def test_pdfa_keeps_output_intents_and_xmp(tmp_path):
    options = PdfOptions(layout="briefing", variant="pdf/a-3b")
    laid = [_lay_out(FRONT, 1, options), _lay_out(CHAPTER_TWO, 2, options)]
    files = {digest: entry for item in laid for digest, entry in item.files.items()}
    data = assemble([item.run for item in laid], [], page_count=2, identifier=IDENTIFIER, font_file=files.get)
    pdf = _open(data)
    assert "/StructTreeRoot" not in pdf.Root  # PDF/A-3b is untagged
    intent = pdf.Root.OutputIntents[0]
    assert intent.S == "/GTS_PDFA1" and len(intent.DestOutputProfile.read_bytes()) > 1000
    xmp = pdf.Root.Metadata.read_bytes().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp) and re.search(r"pdfaid:conformance(>|=\")B", xmp)
    assert _dests(pdf)["kapitel-zwei"] == 2
    annots = [annot for page in pdf.pages for annot in page.obj.get("/Annots", [])]
    assert annots and all(int(annot.F) == 4 for annot in annots)  # printable, as PDF/A wants
    assert {str(annot.Dest) for annot in annots} == {"kapitel-zwei", "zürich"}
    assert not any("/A" in annot or "/Contents" in annot for annot in annots)  # untagged: no /Contents
    path = tmp_path / "pdfa.pdf"
    path.write_bytes(data)
    assert all(row[-5] == "yes" for row in _font_rows(path))


def test_runs_and_layers_that_do_not_fit_are_errors(book):
    with pytest.raises(ValueError, match="earlier run covers"):
        book.again(runs=[book.runs[0], RunPdf(book.runs[1].data, 1, book.runs[1].fonts)])
    with pytest.raises(ValueError, match="after the last page"):
        book.again(page_count=4)
    with pytest.raises(ValueError, match="outside"):
        book.again(layers=[RunPdf(book.layers[1].data, 5, book.layers[1].fonts)])
    with pytest.raises(ValueError, match="two layer pages"):
        book.again(layers=[book.layers[0], RunPdf(book.layers[0].data, 3, book.layers[0].fonts)])
    with pytest.raises(ValueError, match="layer's page 1 is"):  # an A5 layer over an A4 page
        book.again(layers=[RunPdf(book.layers[1].data, 1, book.layers[1].fonts)])
    with pytest.raises(ValueError, match="tagged"):
        book.again(layers=[RunPdf(book.runs[0].data, 1, book.runs[0].fonts)])
    with_form = _open(book.runs[2].data)
    with_form.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array())
    buffer = io.BytesIO()
    with_form.save(buffer)
    with pytest.raises(ValueError, match="form fields or attached files"):
        book.again(runs=[*book.runs[:2], RunPdf(buffer.getvalue(), 5, book.runs[2].fonts)])
