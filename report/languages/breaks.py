"""Line breaking the layout engine cannot be told about in CSS.

Korean breaks lines at spaces, between words (CSS `word-break: keep-all`); WeasyPrint has no
`keep-all` and breaks between any two Hangul syllables. A WORD JOINER (U+2060) between the
syllables of a word keeps it whole: it draws nothing, is not copied out of the PDF's text,
and a word longer than a line still breaks (`overflow-wrap` in the language's stylesheet rules).
"""

from __future__ import annotations

import re

_TAG = re.compile(r"(<[^>]*>)")
_BETWEEN_SYLLABLES = re.compile(r"(?<=[\uac00-\ud7a3])(?=[\uac00-\ud7a3])")
WORD_JOINER = "\u2060"


def keep_korean_words_whole(html: str) -> str:
    """Join the Hangul syllables of every word in the text of an HTML document (never inside a tag)."""
    parts = _TAG.split(html)
    for index in range(0, len(parts), 2):  # the text between tags
        parts[index] = _BETWEEN_SYLLABLES.sub(WORD_JOINER, parts[index])
    return "".join(parts)
