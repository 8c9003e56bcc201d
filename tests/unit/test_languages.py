"""Languages as data without a layout: the tables, the order of the index, fallbacks, `report new`,
and the located error for a character no font can draw (the build stops before layout)."""

from __future__ import annotations

import pytest

from report.languages import Language, available_tags
from report.pipeline import check


def test_matrix_has_a_table_for_every_language_asked():
    tags = set(available_tags())
    eu = {
        "bg",
        "hr",
        "cs",
        "da",
        "nl",
        "en",
        "et",
        "fi",
        "fr",
        "de",
        "el",
        "hu",
        "ga",
        "it",
        "lv",
        "lt",
        "mt",
        "pl",
        "pt",
        "ro",
        "sk",
        "sl",
        "es",
        "sv",
    }
    assert eu | {"ar", "he", "fa", "ru", "uk", "tr", "ja", "zh-Hans", "zh-Hant", "ko", "hi", "th", "vi", "id"} <= tags
    english = Language("en").strings
    for tag in tags:  # every table has every word, and no word is left in English by accident
        language = Language(tag)
        assert set(language._data["words"]) == set(english), tag
        if tag != "en":
            assert language.t("contents") != english["contents"], tag


# Order of the quote index -----------------------------------------------------------------------

INDEX_ORDER = {
    "sv": ["Adam Berg", "Olof Ek", "Zara Lind", "Åsa Nyström", "Ärla Dahl", "Örjan Falk"],
    "es": ["Nora Ruiz", "Nuria Gil", "Ñeco Díaz", "Oscar Vidal"],
    "cs": ["Cyril Malý", "Hana Nová", "Hynek Bílý", "Chrudoš Veselý", "Ivan Malý"],
    "tr": ["Hakan Kaya", "Ilgaz Demir", "Işıl Tan", "İsmail Er", "Jale Öz"],
    # DIN 5007-1: an umlaut sorts with its base letter (Müller with Muller, Öztürk after Ozean)
    "de": ["Mueller, Hans", "Müller, Anna", "Muller, Otto", "Ofen, Rita", "Ozean, Ida", "Öztürk, Cem"],
}


@pytest.mark.parametrize("tag", INDEX_ORDER)
def test_quote_index_sorts_by_the_languages_rules(tag, make_dossier):
    wanted = INDEX_ORDER[tag]
    shuffled = wanted[::-1][1::2] + wanted[::-1][0::2]
    quotes = "".join(f'  - id: q{n}\n    speaker: "{name}"\n    text: Text {n}.\n' for n, name in enumerate(shuffled))
    root = make_dossier(
        {"dossier.yaml": f"title: T\nlanguage: {tag}\n", "01-c.yaml": f"title: C\nbody: Text.\nquotes:\n{quotes}"}
    )
    _, book = check(root)
    got = [group.speaker for group in book.quote_index]
    assert got == wanted


def test_sort_as_gives_a_reading_for_the_index(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": "title: T\nlanguage: ja\nsort_as:\n  鈴木一郎: すずき いちろう\n"
            "  佐藤花子: さとう はなこ\n",
            "01-c.yaml": "title: C\nbody: 本文。\nquotes:\n"
            "  - id: a\n    speaker: 鈴木一郎\n    text: 一。\n"
            "  - id: b\n    speaker: 佐藤花子\n    text: 二。\n",
        }
    )
    collector, book = check(root)
    assert not collector.errors
    assert [g.speaker for g in book.quote_index] == ["佐藤花子", "鈴木一郎"]  # さ before す


# Fonts and the located missing-glyph error ------------------------------------------------------


def test_a_character_no_font_can_draw_is_a_located_error(make_dossier, capsys):
    from report.cli import main
    from report.languages import fonts

    assert not fonts.installed("Noto Color Emoji"), "this test needs a machine without an emoji font"
    root = make_dossier(
        {
            "dossier.yaml": "title: Test\nlanguage: de\n",
            "01-c.yaml": "title: Kapitel\nbody: |\n  Erste Zeile.\n\n  Zweite 🙂 Zeile mit 🙁 und 😀.\n",
        }
    )
    assert main(["check", str(root)]) == 1
    err = capsys.readouterr()
    out = err.out + err.err
    # one error for the script in this field (not one per glyph), at the character's line and column
    assert out.count("error:") == 1, out
    assert "01-c.yaml:5:10: error: body: U+1F642 SLIGHTLY SMILING FACE (Common script)" in out, out
    assert "apt-get install fonts-noto-color-emoji" in out
    assert main(["build", str(root), "--out", str(root.parent / "out")]) == 1
    assert not (root.parent / "out").exists() or not list((root.parent / "out").glob("*.pdf"))


def test_a_language_without_a_table_builds_in_english_with_a_located_warning(make_dossier):
    root = make_dossier({"dossier.yaml": "title: Test\nlanguage: sw\n", "01-c.yaml": "title: C\nbody: Maandishi.\n"})
    collector, book = check(root)
    warnings = [d.format() for d in collector.warnings]
    assert any("dossier.yaml:2:11" in w and "'sw'" in w for w in warnings), warnings
    assert book.strings["contents"] == "Contents"


def test_regional_tags_fall_back_to_their_language():
    assert Language("de-AT").t("contents") == "Inhalt"
    assert Language("zh-TW").table == "zh-Hant" and Language("zh-CN").table == "zh-Hans"
    assert Language("de-CH").quotes[:2] == ("«", "»")
    assert Language("ar-EG").rtl and Language("he").rtl and not Language("ja").rtl


@pytest.mark.parametrize("tag", available_tags())
def test_new_dossier_in_every_language_builds(tag, tmp_path):
    from report.scaffold import new_dossier

    new_dossier(tmp_path / "d", tag)
    collector, book = check(tmp_path / "d")
    assert not collector.errors and book.language.tag == tag
    if tag not in ("de", "en"):  # those two have hand-written examples; the rest take their table's words
        assert book.chapters[0].title_plain.startswith(Language(tag).t("chapter"))


def test_charis_unicode_range_is_its_cmap_without_greek():
    """fonts.css declares Charis SIL's coverage; WeasyPrint believes it, so it must be exact."""
    import re
    from pathlib import Path

    from fontTools.ttLib import TTFont

    from report.languages import fonts

    css = (fonts.SHIPPED.parent / "fonts.css").read_text(encoding="utf-8")
    faces = re.findall(r"src: url\(fonts/(CharisSIL-[\w]+\.ttf)\)[^}]*?unicode-range:([^;]+);", css)
    assert len(faces) == 4
    for file_name, declared in faces:
        covered: set[int] = set()
        for part in declared.split(","):
            first, _, last = part.strip()[2:].partition("-")
            covered.update(range(int(first, 16), int(last or first, 16) + 1))
        cmap = TTFont(str(Path(fonts.SHIPPED) / file_name), lazy=True).getBestCmap()
        expected = {c for c in cmap if not (0x370 <= c < 0x400 or 0x1F00 <= c < 0x2000)}
        assert covered == expected, file_name
        assert covered == set(fonts.coverage("Charis SIL")) or file_name != "CharisSIL-Regular.ttf"


def test_every_font_rule_of_the_print_stylesheets_is_replaced_for_other_scripts():
    """The language's rules name the same selectors that print.css sets in Inter or Charis SIL."""
    import re

    from report.languages import css, fonts

    sans = {s.strip() for s in css.PRINT_SANS.split(",")}
    serif = {s.strip() for s in css.PRINT_SERIF.split(",")}
    for sheet in ("print.css", "layout-book.css", "layout-briefing.css"):
        text = re.sub(r"/\*.*?\*/", "", (fonts.SHIPPED.parent / sheet).read_text(encoding="utf-8"), flags=re.S)
        for rule in re.finditer(r"([^{}]+)\{([^{}]*)\}", text):
            selector, body = " ".join(rule.group(1).split()), rule.group(2)
            if selector.startswith("@") or ";" in selector:
                continue  # a margin box: every one is in the language's @page rule
            for part in selector.split(","):
                if '"Inter"' in body:
                    assert part.strip() in sans, (sheet, part)
                if '"Charis SIL"' in body:
                    assert part.strip() in serif, (sheet, part)
