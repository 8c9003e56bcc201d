"""Languages as data: from a BCP 47 tag, the words, marks, patterns, order, direction and fonts.

One table file per language (tables/*.yaml) plus CLDR; every template, writer and stylesheet
asks the Language object, never decides a word or a side itself.
"""

from .language import Language, available_tags, table_name

__all__ = ["Language", "available_tags", "table_name"]
