"""Every mistake in a dossier is an error that names file, line and field; nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from report.cli import main
from report.pipeline import check


def errors_of(root: Path) -> list[str]:
    collector, _ = check(root)
    return [d.format() for d in collector.errors]


def only_error(root: Path) -> str:
    found = errors_of(root)
    assert len(found) == 1, found
    return found[0]


def test_valid_minimal_dossier_has_no_errors(minimal):
    assert errors_of(minimal()) == []


def test_unknown_key_names_file_line_field_and_suggests(minimal):
    root = minimal(**{"01-chapter.yaml": "title: A\ntilte: B\nbody: x\n"})
    message = only_error(root)
    assert message.startswith(f"{root / '01-chapter.yaml'}:2:1: error: tilte: unknown key 'tilte'")
    assert "did you mean 'title'?" in message


def test_missing_required_key(minimal):
    root = minimal(**{"01-chapter.yaml": "title: A\nsummary: s\n"})
    message = only_error(root)
    assert f"{root / '01-chapter.yaml'}:1:1" in message
    assert "required key 'body' is missing" in message


def test_missing_key_in_nested_item_points_at_the_item(minimal):
    root = minimal(**{"01-chapter.yaml": "title: A\nbody: x\nevents:\n  - title: no date\n"})
    message = only_error(root)
    assert ":4:5:" in message and "events[0]" in message and "required key 'date'" in message


def test_wrong_type(minimal):
    root = minimal(**{"01-chapter.yaml": "title: [a, b]\nbody: x\n"})
    message = only_error(root)
    assert ":1:8:" in message and "title: expected text, found a list" in message


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2018-02-30", "is not a day of the calendar"),
        ("2018-13", "has no month 13"),
        ("18-02", "is not a date"),
        ("Februar 2018", "is not a date"),
        ("2018-02-03T10:00:00", "is a date and time"),
    ],
)
def test_bad_dates(minimal, value, expected):
    root = minimal(**{"01-chapter.yaml": f'title: A\nbody: x\nevents:\n  - date: "{value}"\n    title: t\n'})
    message = only_error(root)
    assert ":4:11:" in message and "events[0].date" in message and expected in message


def test_unquoted_dates_are_accepted(minimal):
    root = minimal(
        **{
            "01-chapter.yaml": "title: A\nbody: x\nevents:\n  - date: 2018-02-03\n    title: t\n"
            "  - date: 2018\n    title: u\n"
        }
    )
    assert errors_of(root) == []


def test_duplicate_quote_id_names_both_places(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": "title: T\nlanguage: en\n",
            "01-a.yaml": "title: A\nbody: x\nquotes:\n  - id: q1\n    speaker: S\n    text: one\n",
            "02-b.yaml": "title: B\nbody: y\nquotes:\n  - id: q1\n    speaker: S\n    text: two\n",
        }
    )
    message = only_error(root)
    assert message.startswith(f"{root / '02-b.yaml'}:4:9:")
    assert "quote id 'q1' is used twice" in message and "01-a.yaml:4:9" in message


def test_dangling_quote_reference_names_the_body_line(minimal):
    root = minimal(
        **{
            "01-chapter.yaml": "title: A\nbody: |\n  First.\n\n  [[quote:nope]]\nquotes:\n"
            "  - id: yes\n    speaker: S\n    text: t\n"
        }
    )
    message = only_error(root)
    assert f"{root / '01-chapter.yaml'}:5:" in message and "[[quote:nope]] names no quote" in message


def test_duplicate_yaml_key_names_both_lines(minimal):
    root = minimal(**{"01-chapter.yaml": "title: A\nbody: x\ntitle: B\n"})
    message = only_error(root)
    assert ":3:1:" in message and "duplicate key 'title' (first defined on line 1)" in message


def test_yaml_syntax_error_is_located(minimal):
    root = minimal(**{"01-chapter.yaml": "title: A\nbody: [unclosed\n"})
    message = only_error(root)
    assert str(root / "01-chapter.yaml") in message and "YAML syntax" in message


def test_invalid_language(minimal):
    root = minimal(**{"dossier.yaml": "title: T\nlanguage: klingon-xx-1\n"})
    message = only_error(root)
    assert ":2:11:" in message and "language" in message


def test_raw_html_is_text_not_markup(minimal, tmp_path):
    from report.pipeline import BuildOptions, build

    root = minimal(**{"01-chapter.yaml": "title: A\nbody: |\n  Hello <script>alert(1)</script> <b>bold</b>\n"})
    result = build(root, BuildOptions(out_dir=tmp_path / "out", formats=("html",)))
    page = result.outputs[0].path.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page


def test_cli_exits_1_and_writes_nothing_on_error(minimal, tmp_path, capsys):
    root = minimal(**{"01-chapter.yaml": "title: A\n"})
    out = tmp_path / "out"
    assert main(["build", str(root), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "required key 'body' is missing" in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_check_lists_body_errors_beside_errors_of_other_files(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": "title: T\nlanguage: en\n",
            "01-a.yaml": "title: A\nbody: |\n  Text.\n\n  [[quote:missing]]\n",
            "02-b.yaml": "title: B\nbody: y\ntilte: oops\nquotes:\n  - id: kept\n    speaker: S\n    text: t\n",
            "03-c.yaml": "title: C\nbody: |\n  [[quote:kept]]\n",
        }
    )
    found = errors_of(root)
    assert any("01-a.yaml:5:" in e and "[[quote:missing]] names no quote" in e for e in found), found
    assert any("02-b.yaml:3:1:" in e and "unknown key 'tilte'" in e for e in found), found
    # a quote defined in the file that failed is not reported as dangling too
    assert not any("kept" in e for e in found), found
    assert len(found) == 2, found


def test_a_chapter_file_linking_out_of_the_folder_is_an_error(minimal, tmp_path):
    outside = tmp_path / "secret.yaml"
    outside.write_text("title: S\nbody: secret\n", encoding="utf-8")
    root = minimal()
    (root / "02-link.yaml").symlink_to(outside)
    message = only_error(root)
    assert str(root / "02-link.yaml") in message and "outside the dossier folder" in message


def test_check_shows_a_window_of_a_very_long_line():
    import tempfile
    from pathlib import Path

    from report.errors import Diagnostic, Location

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "long.yaml"
        path.write_text("body: " + "x" * 5000 + "\n", encoding="utf-8")
        text = Diagnostic(Location(path, 1, 3000), "too long").format(with_source=True)
    assert len(text) < 600 and text.rstrip().endswith("^")


def test_invalid_source_date_epoch_is_a_user_error(minimal, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert main(["build", str(minimal()), "--out", str(tmp_path / "out"), "--html"]) == 1
    assert "SOURCE_DATE_EPOCH='yesterday'" in capsys.readouterr().err
