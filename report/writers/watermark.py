"""The draft watermark: one word set diagonally across every PDF page, as the page's background.

WeasyPrint paints page backgrounds inside an /Artifact marked-content sequence, so the word
stays out of the structure tree: screen readers skip it and PDF/UA stays clean (a margin box
or a fixed element would be tagged content, read out on every page). The document asks for it
with ``<meta name="report-watermark" content="WORD">`` (the word comes from the language table);
the fetcher serves the SVG under the scheme below, since it refuses data: URLs.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote, unquote

SCHEME = "report-watermark"
META_NAME = "report-watermark"
MAX_WORD = 40  # a word, not a text: the meta element can come from a dossier's own template


def requested_word(root_element: Any) -> str:  # the parsed document's root (ElementTree)
    """The watermark word a parsed HTML document asks for; "" for none."""
    for meta in root_element.iter("meta"):
        if meta.get("name") == META_NAME:
            return (meta.get("content") or "").strip()[:MAX_WORD]
    return ""


def stylesheet(word: str) -> str:
    """CSS that puts the watermark on every page, the cover (which has its own background) included.

    `!important` because print.css gives the cover page a background of its own at the same origin.
    """
    url = f"{SCHEME}:{quote(word, safe='')}"
    return (
        f'@page {{ background-image: url("{url}") !important; background-repeat: no-repeat !important;'
        " background-position: center !important; background-size: contain !important; }"
    )


def svg(url_path: str) -> bytes:
    """The watermark image for the word in a ``report-watermark:`` URL: large, light, at the page's diagonal."""
    word = unquote(url_path).strip()[:MAX_WORD].upper()
    size = min(60.0, 240.0 / (0.72 * max(len(word), 1)))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297">'
        f'<text x="105" y="148.5" transform="rotate(-54.7 105 148.5)" text-anchor="middle" '
        f'dominant-baseline="central" font-family="Inter" font-weight="700" font-size="{size:.1f}" '
        f'letter-spacing="{size * 0.08:.1f}" fill="#8a1c1c" fill-opacity="0.10">{escape(word)}</text></svg>'
    ).encode()


# Scripts the SVG text of WeasyPrint sets right: no joining, no reordering, no conjuncts.
_SVG_SCRIPTS = {"Latn", "Cyrl", "Grek", "Hani", "Hira", "Kana", "Hang", "Bopo", "Zyyy", "Zinh"}


def image(url_path: str) -> tuple[bytes, str]:
    """The watermark (bytes, media type): SVG text, or a PNG where the script needs shaping.

    WeasyPrint's SVG text is not shaped: Arabic letters would stand unjoined and in the wrong
    order, Devanagari without its conjuncts. Such a word is drawn by Pillow with Raqm instead,
    in the script's Noto font, as a transparent PNG of the same page-sized design.
    """
    from ..languages import fonts

    word = unquote(url_path).strip()[:MAX_WORD]
    scripts = {fonts.script_of(char) for char in word if not char.isspace()}
    if scripts <= _SVG_SCRIPTS:
        return svg(url_path), "image/svg+xml"
    return _png(word, scripts - _SVG_SCRIPTS), "image/png"


def _png(word: str, scripts: set[str]) -> bytes:
    import io

    from PIL import Image, ImageDraw, ImageFont

    from ..languages import fonts
    from ..languages.bidi import needs_isolation

    family = fonts.stack_for_script(sorted(scripts)[0]).sans[0]
    found = fonts.face_file(family, "Bold") or fonts.font_file(family)
    width, height = 2100, 2970  # the page at 10 px/mm, as the SVG's viewBox
    size = int(min(600.0, 2400.0 / (0.72 * max(len(word), 1))))
    layer = Image.new("LA", (3600, 3600), (0, 0))
    draw = ImageDraw.Draw(layer)
    direction = "rtl" if needs_isolation(word, "ltr") else "ltr"
    if found is None:
        return b""
    font = ImageFont.truetype(str(found[0]), size, index=found[1], layout_engine=ImageFont.Layout.RAQM)
    draw.text((1800, 1800), word, font=font, fill=(255, 26), anchor="mm", direction=direction)
    rotated = layer.rotate(54.7, resample=Image.Resampling.BICUBIC)
    page = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    alpha = rotated.getchannel("A").crop((750, 315, 750 + width, 315 + height))
    tint = Image.new("RGBA", (width, height), (138, 28, 28, 0))
    tint.putalpha(alpha)
    page.alpha_composite(tint)
    out = io.BytesIO()
    page.save(out, format="PNG", optimize=True)
    return out.getvalue()
