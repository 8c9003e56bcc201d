"""Two builds of the same source give the same bytes, in every edition."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime

import pytest

from report.pipeline import BuildOptions, build

from .conftest import DEFAULT_DOSSIER, EN_DOSSIER, REPO

pytestmark = pytest.mark.slow  # real builds in other processes

EPOCH = 1700000001  # 2023-11-14T22:13:21Z: an odd second, which a ZIP date cannot hold


def _outputs(out) -> dict[str, bytes]:
    return {p.suffix: p.read_bytes() for p in sorted(out.iterdir()) if p.suffix in (".pdf", ".epub", ".html")}


def test_a_second_build_elsewhere_gives_identical_bytes(default_build, tmp_path):
    """Another process (another hash seed), another source folder, another output folder."""
    source = shutil.copytree(DEFAULT_DOSSIER, tmp_path / "copy" / "dossier")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["PYTHONHASHSEED"] = "4242"
    if "SOURCE_DATE_EPOCH" in os.environ:
        env["SOURCE_DATE_EPOCH"] = os.environ["SOURCE_DATE_EPOCH"]  # as the session build saw it
    subprocess.run(
        [sys.executable, "build.py", str(source), "--out", str(tmp_path / "out"), "--quiet"],
        cwd=REPO,
        env=env,
        check=True,
    )
    first, second = _outputs(default_build.out), _outputs(tmp_path / "out")
    assert set(first) == {".pdf", ".epub", ".html"}
    for suffix in first:
        assert first[suffix] == second[suffix], f"{suffix} differs between two builds"


def test_source_date_epoch_fixes_every_date(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    runs = [
        _outputs(
            build(EN_DOSSIER, BuildOptions(out_dir=tmp_path / f"run{n}", formats=("pdf", "epub")))
            .outputs[0]
            .path.parent
        )
        for n in (1, 2)
    ]
    assert runs[0] == runs[1]
    when = datetime.fromtimestamp(EPOCH, tz=UTC)
    epub = tmp_path / "run1" / next(p.name for p in (tmp_path / "run1").iterdir() if p.suffix == ".epub")
    with zipfile.ZipFile(epub) as z:
        opf = z.read("EPUB/content.opf").decode()
        stamps = {info.date_time for info in z.infolist()}
    assert f'<meta property="dcterms:modified">{when:%Y-%m-%dT%H:%M:%SZ}</meta>' in opf
    assert stamps == {(2023, 11, 14, 22, 13, 20)}  # ZIP times have two-second steps
    info, xmp = _pdf_dates(tmp_path / "run1")
    assert info == {"CreationDate": "2023-11-14T22:13:21Z", "ModDate": "2023-11-14T22:13:21Z"}
    assert xmp == ["2023-11-14T22:13:21Z", "2023-11-14T22:13:21Z"]  # xmp:CreateDate, xmp:ModifyDate


def test_without_source_date_epoch_the_dossier_date_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    result = build(EN_DOSSIER, BuildOptions(out_dir=tmp_path, formats=("pdf", "epub")))
    by_kind = {w.kind: w.path for w in result.outputs}
    with zipfile.ZipFile(by_kind["epub"]) as z:
        opf = z.read("EPUB/content.opf").decode()
        stamps = {info.date_time for info in z.infolist()}
    # tests/fixtures/en-dossier/dossier.yaml: date: "2025-06-01"
    assert '<meta property="dcterms:modified">2025-06-01T00:00:00Z</meta>' in opf
    assert stamps == {(2025, 6, 1, 0, 0, 0)}
    info, xmp = _pdf_dates(tmp_path)
    assert set(info.values()) == set(xmp) == {"2025-06-01T00:00:00Z"}


def _pdf_dates(folder) -> tuple[dict[str, str], list[str]]:
    """The PDF's Info dates and XMP dates, as poppler reads them."""
    pdf = str(next(p for p in folder.iterdir() if p.suffix == ".pdf"))
    info = subprocess.run(["pdfinfo", "-isodates", pdf], capture_output=True, text=True, check=True).stdout
    meta = subprocess.run(["pdfinfo", "-meta", pdf], capture_output=True, text=True, check=True).stdout
    dates = dict(re.findall(r"^(CreationDate|ModDate):\s+(\S+)", info, re.M))
    return dates, re.findall(r"<xmp:(?:CreateDate|ModifyDate)>([^<]+)<", meta)


def test_epub_zip_is_laid_out_the_same_way_every_time(default_build):
    raw = default_build.epub.read_bytes()
    # the first local header is mimetype, stored, without an extra field, so that the
    # bytes "mimetypeapplication/epub+zip" stand at offset 30 (OCF's magic number)
    assert raw[30:58] == b"mimetypeapplication/epub+zip"
    with zipfile.ZipFile(default_build.epub) as z:
        infos = z.infolist()
    assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
    assert infos[0].extra == b""
    rest = [i.filename for i in infos[1:]]
    assert rest[0] == "META-INF/container.xml" and rest[1:] == sorted(rest[1:])
    assert len({i.date_time for i in infos}) == 1
    assert {i.external_attr for i in infos} == {0o644 << 16}
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos[1:])
    # and no trace of the machine: no absolute paths of the build in any entry
    with zipfile.ZipFile(default_build.epub) as z:
        for info in infos:
            data = z.read(info.filename)
            assert str(REPO).encode() not in data and b"/tmp/" not in data, info.filename
    assert not re.search(rb"/(tmp|home|root|work)/", default_build.pdf.read_bytes())
