"""Shared fixtures: real builds of real dossiers, made once per test session."""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from report.pipeline import BuildOptions, build

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DOSSIER = REPO / "chapters"
EN_DOSSIER = Path(__file__).resolve().parent / "fixtures" / "en-dossier"
SEED = Path(__file__).resolve().parent / "fixtures" / "seed-article.txt"  # copy of shared/seed/000_9da2bf93df909a06.txt


@dataclass
class Built:
    root: Path
    out: Path
    pdf: Path
    epub: Path
    html: Path


def _build(root: Path, out: Path, **pdf: object) -> Built:
    from report.writers.pdf import PdfOptions

    result = build(root, BuildOptions(out_dir=out, pdf=PdfOptions(**pdf)))  # type: ignore[arg-type]
    by_kind = {w.kind: w.path for w in result.outputs}
    return Built(root, out, by_kind["pdf"], by_kind["epub"], by_kind["html"])


@pytest.fixture(scope="session")
def default_build(tmp_path_factory) -> Built:
    return _build(DEFAULT_DOSSIER, tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="session")
def en_build(tmp_path_factory) -> Built:
    return _build(EN_DOSSIER, tmp_path_factory.mktemp("en"))


@pytest.fixture(scope="session")
def default_runs_build(tmp_path_factory) -> Built:
    """Every edition of the default dossier, its PDF laid out in runs of one chapter (writers/runs/)."""
    return _build(DEFAULT_DOSSIER, tmp_path_factory.mktemp("default-runs"), run_size=1)


@pytest.fixture(scope="session")
def en_runs_build(tmp_path_factory) -> Built:
    """Every edition of the English dossier, its PDF in runs of one chapter, in the book layout."""
    return _build(EN_DOSSIER, tmp_path_factory.mktemp("en-runs"), run_size=1, layout="book")


@pytest.fixture(scope="session")
def book_pdf(tmp_path_factory) -> Path:
    """The default dossier's PDF in the book layout (duplex: chapters on right-hand pages)."""
    from report.writers.pdf import PdfOptions

    result = build(
        DEFAULT_DOSSIER,
        BuildOptions(out_dir=tmp_path_factory.mktemp("book"), formats=("pdf",), pdf=PdfOptions(layout="book")),
    )
    return result.outputs[0].path


def write_files(root: Path, files: dict[str, str | bytes | None]) -> Path:
    """Write {file name: text or bytes} under ``root`` (None leaves a file out); returns root."""
    root.mkdir(parents=True, exist_ok=True)
    for file_name, content in files.items():
        if content is None:
            continue
        path = root / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def make_dossier(tmp_path):
    """Write a dossier from {file name: YAML text}; returns its folder."""

    def make(files: dict[str, str | bytes], name: str = "dossier") -> Path:
        return write_files(tmp_path / name, files)

    return make


MINIMAL_META = """\
title: Test dossier
language: en
date: "2024-05-01"
"""

MINIMAL_CHAPTER = """\
title: A chapter
body: |
  Some text.
"""


@pytest.fixture
def minimal(make_dossier):
    """A valid one-chapter dossier; pass overrides for its files."""

    def make(**files: str) -> Path:
        content = {"dossier.yaml": MINIMAL_META, "01-chapter.yaml": MINIMAL_CHAPTER}
        content.update({name.replace("__", "."): text for name, text in files.items()})
        return make_dossier(content)

    return make


def copy_dossier(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target
