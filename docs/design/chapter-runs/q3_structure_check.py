"""Q3: check one structure tree in depth, beyond the pdfua checker.

Usage: python q3_structure_check.py SINGLE.pdf MERGED.pdf
For each PDF: walk the structure tree depth first and list (role, page, MCIDs) of every element;
check that every page's marked-content ids (BDC ... /MCID n) have a /ParentTree entry at the
page's /StructParents whose element has that page as /Pg, and that every annotation's
/StructParent entry is the Link element holding its OBJR. Then compare the two walks: the same
roles in the same order, on the same pages, means one structure tree in today's reading order.
"""

import re
import sys

import pikepdf


def walk(pdf):
    index = {p.objgen: i + 1 for i, p in enumerate(pdf.pages)}
    seq = []

    def visit(elem):
        kids = elem.get("/K")
        kids = list(kids) if isinstance(kids, pikepdf.Array) else ([] if kids is None else [kids])
        page = index.get(elem.Pg.objgen) if "/Pg" in elem else None
        mcids = []
        for kid in kids:
            if isinstance(kid, int) or (not isinstance(kid, pikepdf.Dictionary) and int(kid) == kid):
                mcids.append(int(kid))
            elif kid.get("/Type") == "/MCR":
                mcids.append(int(kid.MCID))
            elif kid.get("/Type") == "/OBJR":
                mcids.append("objr")
        seq.append((str(elem.get("/S")), page, tuple(mcids)))
        for kid in kids:
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") not in ("/MCR", "/OBJR"):
                visit(kid)

    for top in pdf.Root.StructTreeRoot.K:
        visit(top)
    return seq


def parent_tree_ok(pdf):
    tree = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
    problems = 0
    for number, page in enumerate(pdf.pages, start=1):
        mcids = (
            [int(m) for m in re.findall(rb"/MCID (\d+)", page.obj.Contents.read_bytes())]
            if "/Contents" in page.obj
            else []
        )
        if mcids:
            entry = tree[int(page.obj.StructParents)]
            for m in mcids:
                if m >= len(entry) or entry[m].Pg.objgen != page.obj.objgen:
                    problems += 1
        for annot in page.obj.get("/Annots", []):
            if "/StructParent" in annot:
                elem = tree[int(annot.StructParent)]
                kids = elem.K if isinstance(elem.K, pikepdf.Array) else [elem.K]
                if not any(
                    isinstance(k, pikepdf.Dictionary) and k.get("/Obj") is not None and k.Obj.objgen == annot.objgen
                    for k in kids
                ):
                    problems += 1
    return problems


def main():
    a, b = pikepdf.open(sys.argv[1]), pikepdf.open(sys.argv[2])
    sa, sb = walk(a), walk(b)
    print("elements", len(sa), len(sb), "same roles/pages/mcids in order:", sa == sb)
    if sa != sb:
        diff = next(i for i, (x, y) in enumerate(zip(sa, sb)) if x != y)
        print("first difference at", diff, sa[diff], sb[diff])
    print("parent tree problems: single", parent_tree_ok(a), "merged", parent_tree_ok(b))
    print(
        "top level under Document:",
        len(a.Root.StructTreeRoot.K[0].K),
        len(b.Root.StructTreeRoot.K[0].K),
        "| StructTreeRoot.K entries:",
        len(b.Root.StructTreeRoot.K),
    )


if __name__ == "__main__":
    main()
