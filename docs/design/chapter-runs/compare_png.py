"""Compare two PDFs page by page as rendered PNGs (pdftoppm -r DPI): pages that differ and the largest grey difference.

Usage: python compare_png.py A.pdf B.pdf [DPI]
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops


def render(pdf: str, folder: Path, dpi: int) -> list[Path]:
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), pdf, str(folder / "p")], check=True)
    return sorted(folder.glob("p-*.png"))


def main() -> None:
    a, b = sys.argv[1], sys.argv[2]
    dpi = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    with tempfile.TemporaryDirectory(dir="/tmp") as ta, tempfile.TemporaryDirectory(dir="/tmp") as tb:
        pa, pb = render(a, Path(ta), dpi), render(b, Path(tb), dpi)
        differing = []
        for i, (x, y) in enumerate(zip(pa, pb), start=1):
            d = ImageChops.difference(Image.open(x).convert("L"), Image.open(y).convert("L"))
            if d.getbbox():
                differing.append((i, d.getextrema()[1]))
        print(
            f"pages {len(pa)} vs {len(pb)}; differing {len(differing)}; max grey difference "
            f"{max((m for _, m in differing), default=0)}/255; {differing[:15]}"
        )


if __name__ == "__main__":
    main()
