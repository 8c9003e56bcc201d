"""The `report` command as a user meets it: check like a compiler, new, build, schema."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from report import __version__
from report.cli import RichProgress, main
from report.schema import json_schema

from .conftest import DEFAULT_DOSSIER, EN_DOSSIER, REPO

# Three files, each with mistakes: all of them must be listed in one run.
BROKEN = {
    "dossier.yaml": """\
        tilte: Broken dossier
        language: en
        date: "2024-02-30"
        """,
    "01-first.yaml": """\
        title: First
        body: |
          Some text.

          [[quote:first-said]]
        quotes:
          - id: first-said
            speaker: Elon Musk
            text: Words.
          - id: Bad Id
            speaker: Elon Musk
            text: More words.
        """,
    "02-second.yaml": """\
        title: Second
        bodyy: Text.
        events:
          - date: 2018-13
            title: An event
        """,
}
# (file, line, column, words in the message)
BROKEN_EXPECTED = [
    ("01-first.yaml", 10, 9, "'Bad Id' is not a valid id"),
    ("02-second.yaml", 2, 1, "unknown key 'bodyy' (did you mean 'body'?)"),
    ("02-second.yaml", 4, 11, "'2018-13' has no month 13"),
    ("dossier.yaml", 1, 1, "unknown key 'tilte' (did you mean 'title'?)"),
    ("dossier.yaml", 3, 7, "not a day of the calendar"),
]


def test_check_lists_every_error_of_every_file_with_line_column_and_caret(make_dossier, capsys):
    root = make_dossier(BROKEN)
    assert main(["check", str(root)]) == 1
    err = capsys.readouterr().err
    headers = [line for line in err.splitlines() if ": error: " in line]
    assert len(headers) == len(BROKEN_EXPECTED), err
    for header, (name, line, column, words) in zip(headers, BROKEN_EXPECTED, strict=True):
        assert header.startswith(f"{root / name}:{line}:{column}: error: "), header
        assert words in header, header
    # each error is followed by its source line and a caret under the column
    lines = err.splitlines()
    for index, line in enumerate(lines):
        if ": error: " not in line:
            continue
        column = int(re.match(r".*?:(\d+):(\d+): ", line).group(2))
        source, caret = lines[index + 1], lines[index + 2]
        assert caret.strip() == "^" and caret.index("^") - 4 == column - 1, (line, source, caret)
    assert "    bodyy: Text.\n    ^" in err
    assert "      - date: 2018-13\n              ^" in err
    assert err.rstrip().endswith(f"{root}: 5 errors, no warnings")


def test_check_json_lists_the_same_diagnostics(make_dossier, capsys):
    root = make_dossier(BROKEN)
    assert main(["check", str(root), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["errors"] == len(BROKEN_EXPECTED) and report["warnings"] == 0
    found = [(Path(d["file"]).name, d["line"], d["column"]) for d in report["diagnostics"]]
    assert found == [(name, line, column) for name, line, column, _ in BROKEN_EXPECTED]
    typo = next(d for d in report["diagnostics"] if d["field"] == "tilte")
    assert typo["hint"] == "did you mean 'title'?" and typo["severity"] == "error"


def test_a_misspelt_required_key_is_one_error_at_the_first_key(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": "# yaml-language-server: $schema=dossier.schema.json\ntilte: T\nlanguage: en\n",
            "01-a.yaml": "# a comment\n\ntitle: A\n",
        }
    )
    from report.pipeline import check

    collector, _ = check(root)
    assert sorted(d.format() for d in collector.errors) == [
        f"{root / '01-a.yaml'}:3:1: error: body: required key 'body' is missing",
        f"{root / 'dossier.yaml'}:2:1: error: tilte: unknown key 'tilte' (did you mean 'title'?)",
    ]


def test_duplicate_ids_are_reported_beside_errors_of_other_files(make_dossier):
    root = make_dossier(
        {
            "dossier.yaml": "title: T\nlanguage: en\nunknown: 1\n",
            "01-a.yaml": "title: A\nbody: x\nquotes:\n  - id: q\n    speaker: S\n    text: t\n",
            "02-b.yaml": "title: B\nbody: y\nquotes:\n  - id: q\n    speaker: S\n    text: u\n",
        }
    )
    from report.pipeline import check

    collector, _ = check(root)
    messages = [d.format() for d in collector.errors]
    assert any("dossier.yaml:3:1" in m and "unknown key 'unknown'" in m for m in messages), messages
    assert any("02-b.yaml:4:9" in m and "quote id 'q' is used twice" in m for m in messages), messages


def test_check_warns_about_style_and_exits_0(make_dossier, capsys):
    root = make_dossier(
        {
            "dossier.yaml": "title: T\nlanguage: en\n",
            "01-a.yaml": """\
            title: A
            body: |
              [[quote:one]]
            events:
              - date: "2020"
                title: Bare event
            quotes:
              - id: one
                speaker: Elon Musk
                text: Placed.
              - id: two
                speaker: Musk
                text: Not placed.
            """,
        }
    )
    assert main(["check", str(root)]) == 0
    err = capsys.readouterr().err
    assert "warning: events[0]: event has no text" in err
    assert "quote 'two' is not placed in any body" in err
    assert "speaker 'Musk' may be the same person as 'Elon Musk'" in err
    assert err.rstrip().endswith("no errors, 3 warnings")
    assert main(["check", str(root), "--strict"]) == 1


@pytest.mark.slow  # a real build
def test_new_then_build_gives_every_edition(tmp_path, capsys):
    root = tmp_path / "my-dossier"
    assert main(["new", str(root)]) == 0
    assert {p.name for p in root.iterdir()} == {"dossier.yaml", "01-introduction.yaml", "dossier.schema.json"}
    assert main(["check", str(root)]) == 0
    assert capsys.readouterr().err.rstrip().endswith("no errors, no warnings")
    out = tmp_path / "out"
    assert main(["build", str(root), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] and summary["errors"] == [] and summary["warnings"] == []
    kinds = {o["kind"]: o for o in summary["outputs"]}
    assert set(kinds) == {"pdf", "epub", "html"}
    assert kinds["pdf"]["pages"] >= 4
    for output in summary["outputs"]:
        assert Path(output["path"]).stat().st_size == output["bytes"] > 0
    page = Path(kinds["html"]["path"]).read_text(encoding="utf-8")
    assert "An example quotation, word for word" in page and "The dossier was started" in page
    assert set(summary["timings"]) >= {"load", "pdf layout", "epub", "html", "write"}


def test_new_german_dossier_is_clean_and_refuses_to_overwrite(tmp_path, capsys):
    root = tmp_path / "neu"
    assert main(["new", str(root), "--language", "de"]) == 0
    assert "language: de" in (root / "dossier.yaml").read_text(encoding="utf-8")
    assert main(["check", str(root)]) == 0
    before = (root / "dossier.yaml").read_bytes()
    assert main(["new", str(root)]) == 1
    assert "is not an empty folder" in capsys.readouterr().err
    assert (root / "dossier.yaml").read_bytes() == before


def test_build_prints_one_timed_line_per_stage_when_not_on_a_terminal(minimal, tmp_path, capsys):
    assert main(["build", str(minimal()), "--out", str(tmp_path / "out"), "--html"]) == 0
    captured = capsys.readouterr()
    stages = [line.split()[0] for line in captured.err.splitlines() if re.fullmatch(r"  \S+ +\d+\.\d\d s", line)]
    assert stages == ["cache", "load", "html", "write"], captured.err
    assert re.search(r"^wrote .*\.html \([\d,]+ bytes\)$", captured.out, re.M)
    assert main(["build", str(minimal()), "--out", str(tmp_path / "out"), "--html", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


def test_rich_progress_on_a_terminal_shows_stages_and_times():
    from rich.console import Console

    screen = io.StringIO()
    display = RichProgress(Console(file=screen, force_terminal=True, width=60))
    for stage in ("load", "pdf layout"):
        display.update(stage, "start")
        display.update(stage, "done")
    display.update("epub", "start")
    display.update("epub", "failed")
    display.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    final = text.split("\r")[-1] if "\r" in text else text
    assert re.search(r"✓\s+load\s+\d+\.\d\d s", final) and re.search(r"✓\s+pdf layout\s+\d+\.\d\d s", final)
    assert re.search(r"✗\s+epub\s+failed", final)


def test_schema_accepts_every_shipped_file_and_rejects_typos(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == json_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"  # what editors' YAML servers support
    assert "$defs" not in json.dumps(schema)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    files = sorted(DEFAULT_DOSSIER.glob("*.yaml")) + sorted(EN_DOSSIER.glob("*.yaml"))
    assert len(files) > 8
    for path in files:
        # an editor reads YAML 1.2, which keeps 2018-02-20 as text; safe_load makes dates of them
        data = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
        assert not list(validator.iter_errors(data)), path
    errors = [e.message for e in validator.iter_errors({"tilte": "x", "language": "en"})]
    assert "Additional properties are not allowed ('tilte' was unexpected)" in errors
    for bad_date in ("2018-1", "2018-13", "2018-02-32"):
        assert list(validator.iter_errors({"title": "x", "body": "y", "events": [{"date": bad_date, "title": "t"}]}))
    assert not list(validator.iter_errors({"title": "x", "body": "y", "events": [{"date": 2018, "title": "t"}]}))
    assert main(["schema", "--kind", "chapter"]) == 0
    chapter_only = json.loads(capsys.readouterr().out)
    assert list(jsonschema.Draft7Validator(chapter_only).iter_errors({"title": "T", "language": "en"}))


def test_version_and_help_with_examples(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"report {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in ("build", "check", "watch", "new", "schema"):
        assert f"report {command}" in text


@pytest.mark.slow  # a fresh interpreter
def test_python_dash_m_report_runs_the_same_command(make_dossier):
    root = make_dossier(BROKEN)
    done = subprocess.run(
        [sys.executable, "-m", "report", "check", str(root), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["errors"] == len(BROKEN_EXPECTED)


def test_build_json_on_a_broken_dossier_lists_the_errors_and_writes_nothing(make_dossier, tmp_path, capsys):
    root = make_dossier(BROKEN)
    out = tmp_path / "out"
    assert main(["build", str(root), "--out", str(out), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] is False and summary["outputs"] == []
    assert [(Path(e["file"]).name, e["line"], e["column"]) for e in summary["errors"]] == [
        (name, line, column) for name, line, column, _ in BROKEN_EXPECTED
    ]
    assert not out.exists() or not any(out.iterdir())


def test_readme_pictures_exist_and_every_command_is_documented():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r"\]\((docs/images/[^)]+\.png)\)", readme)
    assert len(pictures) >= 6
    for picture in pictures:
        data = (REPO / picture).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 120_000, picture
    for command in ("build", "check", "watch", "new", "schema"):
        assert f"report {command}" in readme
    assert "# yaml-language-server: $schema=" in readme
