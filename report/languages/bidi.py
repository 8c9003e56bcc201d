"""Isolation of inserted text whose direction may differ from the document's (<bdi>)."""

from __future__ import annotations

import unicodedata

from markupsafe import Markup, escape

_RTL = {"R", "AL"}


def needs_isolation(text: str, direction: str) -> bool:
    """True when the text holds a strong character of the other direction (or digits in RTL)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if direction == "rtl" and kind in ("L", "EN", "AN"):
            return True
        if direction != "rtl" and kind in _RTL:
            return True
    return False


def isolate_for(direction: str):
    """A Jinja filter: the value, escaped, inside <bdi> when its direction may differ."""

    def isolate(value) -> Markup:
        text = str(value)
        if needs_isolation(text, direction):
            return Markup("<bdi>") + escape(text) + Markup("</bdi>")
        return escape(text)

    return isolate
