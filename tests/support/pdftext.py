"""Text of a PDF as a reader sees it, page by page (poppler's pdftotext)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page (index 0 is page 1)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        raise RuntimeError("pdftotext is missing: apt-get install poppler-utils")
    text = subprocess.run([tool, "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True).stdout.decode()
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages = pages[:-1]
    return pages


def flatten(text: str) -> str:
    """Join lines as a reader would: a line ending in a hyphen joins without a space."""
    text = text.replace("\u00ad", "")
    text = re.sub(r"-\n(?=\S)", "-", text)
    return re.sub(r"\s+", " ", text).strip()


def loose(text: str) -> str:
    """Text compared letter for letter but blind to hyphens and line breaks.

    pdftotext drops a hard hyphen at a line end ("Marketing-|Schlampe" comes out as
    "MarketingSchlampe") and keeps U+2010 for WeasyPrint's hyphenation; neither can be
    told apart from the other afterwards, so both sides lose their hyphens.
    """
    text = text.replace("\u00ad", "")
    text = re.sub(r"[-\u2010]\s*\n\s*", "", text)
    text = re.sub(r"[-\u2010]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def page_of(pages: list[str], needle: str) -> list[int]:
    """1-based numbers of the pages whose flattened text holds ``needle``."""
    wanted = flatten(needle)
    return [number for number, page in enumerate(pages, start=1) if wanted in flatten(page)]
