"""The stylesheet rules a language adds to an edition: its fonts and its script's typesetting.

Empty for a language in Latin script whose words are hyphenated and justified (de, en, fr...):
the shipped stylesheets are written for it. Direction needs no rules here: the stylesheets are
in logical properties and read `dir` on the root element.
"""

from __future__ import annotations

from .coverage import FontPlan
from .language import Language

# Every selector of print.css that names the sans-serif family ("Inter") or the serif one.
PRINT_SANS = (
    "h1, h2, h3, h4, code, table, .cover-publisher, .cover-foot p, .toc ol, .summary, "
    "figure.quote figcaption, .timeline-list li.year span, .timeline-list time, .event-ref, .locator, "
    ".imprint, .handout-kind, .handout-number, .handout-summaries strong, .handout-source, .key-points li, "
    ".cover-marking, .cover-version-over-image, .backrefs, .event-source, .index-source"
)
PRINT_SERIF = "html, .cover-subtitle, .handout-subtitle"
_MARGIN_BOXES = ("top-left", "top-center", "top-right", "bottom-left", "bottom-center", "bottom-right")
# Text that print.css sets in italic: upright where the script has no italic.
_ITALIC = "em, i, .summary, figure.quote blockquote, .cover-subtitle, .handout-subtitle"
_RUNNING_TEXT = "p, li, dd, figcaption, blockquote, .event-body, .footnote"


def language_css(language: Language, plan: FontPlan | None, edition: str) -> str:
    """The rules for one edition ("pdf", "epub", "html"); empty when the stylesheet needs none."""
    rules: list[str] = []
    if plan is not None and not plan.is_latin_only:
        if edition == "pdf":
            sans, serif = plan.css_sans(), plan.css_serif()
            rules.append(f"{PRINT_SERIF} {{ font-family: {serif}; }}")
            rules.append(f"{PRINT_SANS} {{ font-family: {sans}; }}")
            boxes = " ".join(f"@{box} {{ font-family: {sans}; }}" for box in _MARGIN_BOXES)
            rules.append(f"@page {{ {boxes} }}")
        elif edition == "html":
            # the reader's browser: the script's fonts first, then the stylesheet's own choice
            families = ", ".join(f'"{f}"' for f in dict.fromkeys(plan.serif) if f not in ("Charis SIL",))
            if families:
                rules.append(f'html {{ font-family: {families}, Charter, "Charis SIL", Georgia, serif; }}')
    if not language.has_italic:
        rules.append(f"{_ITALIC} {{ font-style: normal; }}")
        rules.append("em, i { font-weight: 700; }")
    if not language.uses_spaces:
        # no spaces to stretch and no hyphens in Thai, Chinese and Japanese: lines end where they may
        rules.append(f"{_RUNNING_TEXT} {{ text-align: start; hyphens: manual; -epub-hyphens: manual; }}")
    if language.script == "Kore":
        # words stay whole (keep-all in browsers; word joiners in the PDF), a word longer than a line breaks
        keep_all = "" if edition == "pdf" else " word-break: keep-all;"  # WeasyPrint 70 rejects the value
        rules.append(f"{_RUNNING_TEXT} {{ hyphens: manual;{keep_all} overflow-wrap: break-word; }}")
    return "\n".join(rules)
