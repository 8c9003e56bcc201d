"""The build cache: an unchanged rebuild does nothing, any change rebuilds, --force rebuilds;
the parallel (PDF engine process) and serial paths give the same bytes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from report.cache import CACHE_DIR
from report.cli import main
from report.pipeline import BuildOptions, build

from .conftest import DEFAULT_DOSSIER, EN_DOSSIER, copy_dossier

pytestmark = pytest.mark.slow  # real builds


def _digests(result) -> dict[str, str]:
    return {w.kind: hashlib.sha256(w.path.read_bytes()).hexdigest() for w in result.outputs}


@pytest.fixture(scope="module")
def en_cached(tmp_path_factory):
    """A copy of the English dossier built once, with its cache in the output folder."""
    base = tmp_path_factory.mktemp("cache")
    root = copy_dossier(EN_DOSSIER, base / "src")
    out = base / "out"
    first = build(root, BuildOptions(out_dir=out))
    return root, out, first


def test_unchanged_rebuild_is_answered_from_the_cache(en_cached):
    root, out, first = en_cached
    mtimes = {w.kind: w.path.stat().st_mtime_ns for w in first.outputs}
    again = build(root, BuildOptions(out_dir=out))
    assert again.cached and not first.cached
    assert [(w.kind, w.path, w.size, w.pages) for w in again.outputs] == [
        (w.kind, w.path, w.size, w.pages) for w in first.outputs
    ]
    assert {w.kind: w.path.stat().st_mtime_ns for w in again.outputs} == mtimes  # nothing rewritten
    assert set(again.timings) == {"cache"}


def test_force_rebuilds_to_the_same_bytes(en_cached):
    root, out, first = en_cached
    before = _digests(first)
    forced = build(root, BuildOptions(out_dir=out, force=True))
    assert not forced.cached and "pdf layout" in forced.timings
    assert _digests(forced) == before


def test_cli_force_flag(en_cached, capsys):
    root, out, _ = en_cached
    assert main(["build", str(root), "--out", str(out), "--json", "--force"]) == 0
    assert '"pdf write"' in capsys.readouterr().out
    assert main(["build", str(root), "--out", str(out), "--json"]) == 0
    assert '"pdf write"' not in capsys.readouterr().out


@pytest.mark.parametrize("change", ["source", "style", "option", "missing-output", "edited-output"])
def test_any_change_rebuilds(en_cached, tmp_path, change):
    source, _, _ = en_cached
    root = copy_dossier(source, tmp_path / "src")
    out = tmp_path / "out"
    build(root, BuildOptions(out_dir=out, formats=("html",)))
    options = BuildOptions(out_dir=out, formats=("html",))
    if change == "source":
        chapter = sorted(root.glob("0*.yaml"))[0]
        chapter.write_text(
            chapter.read_text(encoding="utf-8").replace("body: |\n", "body: |\n  Changed.\n", 1), encoding="utf-8"
        )
    elif change == "style":  # a dossier's own template counts like the shipped ones
        (root / "templates").mkdir()
        (root / "templates" / "unused.html").write_text("x", encoding="utf-8")
    elif change == "option":
        options = BuildOptions(out_dir=out, formats=("html",), epub_fonts=True)
    elif change == "missing-output":
        next(out.glob("*.html")).unlink()
    else:
        html = next(out.glob("*.html"))
        html.write_bytes(html.read_bytes() + b"<!-- edited -->")
    result = build(root, options)
    assert not result.cached
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert "<!-- edited -->" not in html
    if change == "source":
        assert "Changed." in html


def test_output_folder_inside_the_dossier_is_not_a_source(tmp_path):
    root = copy_dossier(EN_DOSSIER, tmp_path / "src")
    first = build(root, BuildOptions(out_dir=root / "dist", formats=("html",)))
    second = build(root, BuildOptions(out_dir=root / "dist", formats=("html",)))
    assert second.cached, "the build's own outputs changed its key"
    assert _digests(first) == _digests(second)


def test_epub_alone_uses_the_cached_page_map_without_weasyprint(en_cached, tmp_path):
    """After a full build, `--epub` alone does no layout and never imports WeasyPrint."""
    root, out, first = en_cached
    epub = next(w.path for w in first.outputs if w.kind == "epub")
    expected = hashlib.sha256(epub.read_bytes()).hexdigest()
    epub.unlink()
    script = (
        "import sys; from pathlib import Path; from report.pipeline import BuildOptions, build; "
        f"r = build(Path({str(root)!r}), BuildOptions(out_dir=Path({str(out)!r}), formats=('epub',))); "
        "print(sorted(r.timings)); print('weasyprint' in sys.modules)"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    timings, imported = run.stdout.splitlines()
    assert "pdf layout" not in timings
    assert imported == "False"
    assert hashlib.sha256(epub.read_bytes()).hexdigest() == expected


def test_epub_alone_without_a_cache_lays_out_for_page_numbers(en_cached, tmp_path):
    """No cached page map: the EPUB is the same as after a full build (page numbers included)."""
    root, _, first = en_cached
    alone = build(root, BuildOptions(out_dir=tmp_path / "alone", formats=("epub",)))
    assert "pdf layout" in alone.timings
    full_epub = next(w.path for w in first.outputs if w.kind == "epub")
    assert alone.outputs[0].path.read_bytes() == full_epub.read_bytes()
    assert list((tmp_path / "alone" / CACHE_DIR).glob("pagemap-*.json"))


def test_parallel_and_serial_paths_give_the_same_bytes(default_build, tmp_path):
    """The PDF engine process and the in-process layout make byte-identical editions."""
    serial = build(DEFAULT_DOSSIER, BuildOptions(out_dir=tmp_path / "serial", parallel=False, force=True))
    assert "pdf layout" in serial.timings
    expected = {"pdf": default_build.pdf, "epub": default_build.epub, "html": default_build.html}
    for written in serial.outputs:
        assert written.path.read_bytes() == expected[written.kind].read_bytes(), written.kind


def test_an_error_in_the_dossier_stops_the_engine(minimal, tmp_path):
    """A dossier error raised while the engine starts leaves no process and no output behind."""
    from report.errors import SourceError

    root = minimal(**{"01-chapter__yaml": "title: A chapter\nbody: |\n  [[quote:nowhere]]\n"})
    started = time.monotonic()
    with pytest.raises(SourceError):
        build(root, BuildOptions(out_dir=tmp_path / "out"))
    assert time.monotonic() - started < 60
    assert not list((tmp_path / "out").glob("*.pdf"))
    children = subprocess.run(
        ["pgrep", "-P", str(__import__("os").getpid()), "-f", "pdf_engine"], capture_output=True, text=True
    ).stdout.split()
    assert children == []


def test_one_edition_after_a_full_build_keeps_the_others_cached(tmp_path):
    root = copy_dossier(EN_DOSSIER, tmp_path / "src")
    out = tmp_path / "out"
    build(root, BuildOptions(out_dir=out, formats=("html", "epub")))
    next(out.glob("*.html")).unlink()
    assert not build(root, BuildOptions(out_dir=out, formats=("html",))).cached
    assert build(root, BuildOptions(out_dir=out, formats=("html", "epub"))).cached


def test_cache_key_never_reads_fifos_or_devices(tmp_path):
    """An untrusted dossier may hold a FIFO or a link to /dev/zero: hashing must not block."""
    import os
    import subprocess
    import sys

    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a.yaml").write_text("x: 1\n", encoding="utf-8")
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.bin").symlink_to("/dev/zero")
    code = (
        "import sys; from pathlib import Path; from report.cache import digest_files; "
        "print(digest_files([Path(sys.argv[1])]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert run.returncode == 0, run.stderr
    assert len(run.stdout.strip()) == 64
