"""The only way WeasyPrint may reach a resource: files under the allowed folders."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from ..folder import is_inside
from . import watermark

MAX_RESOURCE_BYTES = 16 * 1024 * 1024
LOGGER = logging.getLogger("report.fetcher")


class RefusedResource(FatalURLFetchingError):
    """A resource outside the allowed folders, or any network URL: stops the render."""

    def __init__(self, url: str, why: str):
        super().__init__(f"refused to load {url}: {why}")
        self.url, self.why = url, why


class FolderFetcher(URLFetcher):
    """Serve ``file:`` URLs under the given roots; refuse everything else.

    Symbolic links are resolved before the check, so a link that leaves a root is refused.
    The refusal derives from BaseException (WeasyPrint swallows anything else).
    """

    def __init__(self, roots: list[Path]):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.roots = [Path(root).resolve() for root in roots]
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == watermark.SCHEME:  # made here from the word in the URL: nothing is read
            return URLFetcherResponse(url, watermark.svg(parts.path), {"Content-Type": "image/svg+xml"})
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            self._refuse(url, "network and data URLs are not fetched")
        path = Path(unquote(parts.path))
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            self._refuse(url, "file not found")
        if not any(is_inside(resolved, root) for root in self.roots):
            self._refuse(url, "outside the dossier and style folders")
        if not resolved.is_file():
            self._refuse(url, "not a file")
        size = resolved.stat().st_size
        if size > MAX_RESOURCE_BYTES:
            self._refuse(url, f"{size:,} bytes is over the limit of {MAX_RESOURCE_BYTES:,}")
        return URLFetcherResponse(resolved.as_uri(), resolved.read_bytes(), {})

    def _refuse(self, url: str, why: str) -> NoReturn:
        shown = url if len(url) < 120 else url[:117] + "..."
        self.refused.append(f"{shown}: {why}")
        raise RefusedResource(shown, why)
