"""Render PDF pages to PNG (poppler's pdftoppm) and compare them with kept reference images.

The references in this folder change only on purpose: run the tests with
REPORT_UPDATE_VISUAL=1 to write them anew, then look at them before committing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

REFERENCES = Path(__file__).resolve().parent
DPI = 30  # enough to see a layout change, small enough to keep in git
TOLERANCE = 2.0  # mean absolute difference per channel, 0-255
# A moved line changes few pixels a lot, which a mean dilutes: also bound the share of pixels whose
# grey value moved by more than STRONG. Anti-aliasing noise between poppler versions stays far below.
STRONG, MAX_STRONG_SHARE = 48, 0.005


def render_page(pdf: Path, page: int, out_dir: Path, dpi: int = DPI) -> Path:
    """One page of ``pdf`` as an RGB PNG in ``out_dir``."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise RuntimeError("pdftoppm is missing: apt-get install poppler-utils")
    prefix = out_dir / f"{pdf.stem}-p{page}"
    subprocess.run(
        [tool, "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(prefix)],
        check=True,
        capture_output=True,
    )
    return prefix.with_suffix(".png")


def updating() -> bool:
    """True when the run should rewrite the references (REPORT_UPDATE_VISUAL=1)."""
    return os.environ.get("REPORT_UPDATE_VISUAL", "") not in ("", "0")


def compare(rendered: Path, reference_name: str, diff_dir: Path, update: bool = False) -> float:
    """The mean absolute difference to the reference; writes a diff image when it is too large.

    Raises AssertionError when the page differs beyond the tolerances or its size changed.
    """
    reference = REFERENCES / reference_name
    if update or not reference.exists():
        if not update:
            raise AssertionError(f"no reference image {reference}; run with REPORT_UPDATE_VISUAL=1 to make it")
        shutil.copyfile(rendered, reference)
        return 0.0
    got = Image.open(rendered).convert("RGB")
    want = Image.open(reference).convert("RGB")
    if got.size != want.size:
        raise AssertionError(f"{reference_name}: size {got.size} differs from the reference {want.size}")
    diff = ImageChops.difference(got, want)
    score = sum(ImageStat.Stat(diff).mean) / 3
    histogram = diff.convert("L").histogram()
    strong_share = sum(histogram[STRONG:]) / sum(histogram)
    if score > TOLERANCE or strong_share > MAX_STRONG_SHARE:
        diff_path = diff_dir / f"diff-{reference_name}"
        # Amplify the differences so a shifted line shows up plainly.
        diff.point(lambda v: min(255, v * 8)).save(diff_path)
        shutil.copyfile(rendered, diff_dir / f"got-{reference_name}")
        raise AssertionError(
            f"{reference_name}: mean difference {score:.2f} (limit {TOLERANCE}), "
            f"{strong_share:.2%} of pixels changed strongly (limit {MAX_STRONG_SHARE:.1%}); "
            f"see {diff_path} and {diff_dir / f'got-{reference_name}'}"
        )
    return score
