"""The HTML edition: one self-contained web page (styles inline, images as data: URLs)."""

from __future__ import annotations

from .edition import EditionContext, LayoutNeed, Made


class HtmlEdition:
    kind = "html"
    suffix = ".html"
    title = "HTML"
    default = True
    layout = LayoutNeed.NONE

    def make(self, ctx: EditionContext) -> Made:
        with ctx.stage("html"):
            css = (ctx.styles / "web.css").read_text(encoding="utf-8")
            return Made(ctx.renderer.web_document(css).encode("utf-8"))


EDITION = HtmlEdition()
