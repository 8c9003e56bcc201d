"""A fix for WeasyPrint 70's footnote area, installed before every layout.

``LayoutContext._update_footnote_area`` lays the footnote area out again after each
added note and calls it overflowing when its last note ends below the area's bottom.
Without a max-height the area grows to hold its notes, so both bottoms are the same
sum reached in a different order, and one float rounding (1181.3343832020996 against
1181.3343832020994 on an A4 page) makes a note that fits "overflow". With
``footnote-policy: line`` (print.css) the line holding its call then goes to the next
page, leaving most of a page empty; without that policy the note went to a later page
and, after a re-layout pass, could be dropped (pages judged up to date forget the
notes carried over). This compares with the same tolerance WeasyPrint uses for the
page bottom (``LayoutContext.overflows``). Only WeasyPrint 70.x is patched: another
version is left as it is (tests/test_print.py checks notes stay on their pages).
"""

from __future__ import annotations

from math import inf
from typing import Any

_PATCHED = "_report_footnote_fix"


def install() -> None:
    """Patch WeasyPrint's footnote area once per process (idempotent)."""
    import weasyprint
    from weasyprint.formatting_structure import build
    from weasyprint.layout import LayoutContext
    from weasyprint.layout.block import block_level_layout

    if getattr(LayoutContext, _PATCHED, False) or not weasyprint.__version__.startswith("70."):
        return

    def _update_footnote_area(self: Any) -> bool:
        # WeasyPrint 70.0's method, with the last comparison made tolerant.
        if self.current_footnote_area.height != "auto" and not self.in_column:
            self.page_bottom += self.current_footnote_area.margin_height()
        self.current_footnote_area.children = self.current_page_footnotes
        if not self.current_footnote_area.children:
            self.current_footnote_area.height = 0
            if not self.in_column:
                self.page_bottom -= self.current_footnote_area.margin_height()
            return False
        footnote_area = build.create_anonymous_boxes(self.current_footnote_area.deepcopy())
        footnote_area = block_level_layout(self, footnote_area, -inf, None, self.current_footnote_area.page)[0]
        self.current_footnote_area.height = footnote_area.height
        if not self.in_column:
            self.page_bottom -= footnote_area.margin_height()
        last_child = footnote_area.children[-1]
        last_child_bottom = last_child.position_y + last_child.margin_height() - last_child.margin_bottom
        footnote_area_bottom = footnote_area.position_y + footnote_area.margin_height() - footnote_area.margin_bottom
        return bool(self.overflows(footnote_area_bottom, last_child_bottom))

    LayoutContext._update_footnote_area = _update_footnote_area
    setattr(LayoutContext, _PATCHED, True)
