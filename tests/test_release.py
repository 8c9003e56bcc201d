"""The release: the sdist and wheel that `python -m build` makes, installed outside the checkout.

`python -m build` makes the sdist and then the wheel from the unpacked sdist, so a file the
sdist forgets is missing from the wheel too. The wheel goes into a fresh virtual environment
in a temporary folder (no system site-packages: this machine has an editable install of a
checkout), its dependencies from the package index, and `report` runs there from a folder
outside the checkout with PYTHONPATH unset. Every file any Python process of that
environment opens is logged (an audit hook loaded by a .pth file), and none may lie in the
checkout. Nothing here is skipped: without the package index the test fails and says why.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import jinja2
import jinja2.meta
import pytest
from pypdf import PdfReader

import report
from report import pipeline, render
from report.derive.appendices import APPENDICES
from tests.support.epubcheck import format_epubcheck_messages, run_epubcheck, summarize

pytestmark = pytest.mark.slow  # builds the sdist and wheel and installs them in a fresh venv

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "report"
DISTRIBUTION = "dossier-report"
# Not part of the source: version control, npm tools, build output, caches.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", "node_modules", "dist", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".report-cache", "artifacts"
)

# Loaded by a .pth file in the test environment, so every Python process there has it: the
# command, the PDF engine it starts, pip's and venv's own runs do not matter (not set then).
AUDIT_MODULE = """
import os, sys

_log = os.environ.get("REPORT_OPEN_LOG")
if _log:
    _fd = os.open(_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _hook(event, args, _fd=_fd):
        if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes)):
            path = os.fsdecode(args[0])
            os.write(_fd, (os.path.abspath(path) + "\\n").encode("utf-8", "surrogateescape"))

    sys.addaudithook(_hook)
"""


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that points Python at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def _run(args: list, *, cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(map(str, args))} exited {done.returncode}\n"
        f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    )
    return done


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path
    names: frozenset[str]  # the wheel's file list


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Dist:
    """`python -m build` on a copy of the checkout (the checkout itself stays untouched)."""
    work = tmp_path_factory.mktemp("release")
    source = work / "source"
    shutil.copytree(REPO, source, ignore=_NOT_SOURCE, symlinks=True)
    out = work / "dist"
    # From outside the checkout and without PYTHONPATH: the checkout's build.py would stand in
    # for the `build` package otherwise (`python -m build` in the root runs our build.py).
    _run([sys.executable, "-m", "build", "--outdir", out, source], cwd=work, env=_clean_env())
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = frozenset(wheel.namelist())
    return Dist(sdists[0], wheels[0], names)


def _wheel_name(checkout_path: Path) -> str:
    """Where a file of the checkout lands in the wheel (styles/ is installed as report/styles)."""
    relative = checkout_path.relative_to(REPO).as_posix()
    return "report/" + relative if relative.startswith("styles/") else relative


# ---------------------------------------------------------------------------------------
# What the package opens at run time, derived from the code


def _python_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _string_constants(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def templates_the_code_renders() -> set[str]:
    """Template names passed to render()/get_template() or as an included `part`, and what they pull in."""
    names: set[str] = set()
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if callee in ("render", "get_template") and node.args:
                names.update(s for s in _string_constants(node.args[0]) if "." in s)
            names.update(s for kw in node.keywords if kw.arg == "part" for s in _string_constants(kw.value))
    # the appendices' partials are named in one table (derive/appendices.py), included by a variable
    names.update(n for a in APPENDICES for n in (a.template, a.handout_template) if n)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(render.TEMPLATES)))
    todo = list(names)
    while todo:  # {% include %}, {% import %}, {% extends %}, {% from %} with literal names
        name = todo.pop()
        source = env.loader.get_source(env, name)[0]
        for found in jinja2.meta.find_referenced_templates(env.parse(source)):
            if found and found not in names:
                names.add(found)
                todo.append(found)
    return names


_CSS_REFERENCE = re.compile(r"""(?:@import\s+(?:url\()?|url\()\s*["']?([^"')\s;]+)""")


def styles_the_code_reads() -> set[Path]:
    """Stylesheets and fonts named in the code, what those stylesheets load, and the font folder."""
    styles = pipeline.styles_dir()
    assert styles == REPO / "styles", styles  # in a checkout, the checkout's styles/
    found: set[Path] = set()
    for path in _python_files():
        for text in _string_constants(ast.parse(path.read_text(encoding="utf-8"))):
            if re.fullmatch(r"[\w.-]+\.css", text) and (styles / text).is_file():
                found.add(styles / text)
            elif re.fullmatch(r"[\w.-]+\.(ttf|otf)", text):
                found.add(styles / "fonts" / text)  # cover.py draws with these, from styles/fonts
    todo = [p for p in found if p.suffix == ".css"]
    while todo:
        css = todo.pop()
        for target in _CSS_REFERENCE.findall(css.read_text(encoding="utf-8")):
            if ":" in target or target.startswith("#"):
                continue  # data: URIs and fragments load no file
            loaded = (css.parent / target).resolve()
            if loaded not in found:
                found.add(loaded)
                if loaded.suffix == ".css":
                    todo.append(loaded)
    # --epub-fonts embeds every font of the folder (writers.epub.read_font_files)
    found.update(p for p in (styles / "fonts").iterdir() if p.suffix in (".ttf", ".otf"))
    return found


def test_the_derived_lists_cover_what_a_build_uses():
    """The derivation itself finds the documents of every edition and the fonts in the CSS."""
    assert {
        "pdf.html",
        "web.html",
        "handout.html",
        "epub/chapter.xhtml",
        "epub/nav.xhtml",
        "epub/_head.xhtml",
        "chapter.html",
        "_macros.html",
        "timeline.html",
    } <= templates_the_code_renders()
    names = {p.relative_to(REPO / "styles").as_posix() for p in styles_the_code_reads()}
    assert {
        "print.css",
        "fonts.css",
        "web.css",
        "epub.css",
        "fonts/Inter-Bold.otf",
        "fonts/CharisSIL-Regular.ttf",
    } <= names


def test_the_wheel_holds_every_file_the_package_opens(dist):
    missing = sorted(
        f"report/templates/{name}"
        for name in templates_the_code_renders()
        if f"report/templates/{name}" not in dist.names
    )
    missing += sorted(_wheel_name(p) for p in styles_the_code_reads() if _wheel_name(p) not in dist.names)
    assert not missing, f"the wheel lacks files the code opens: {missing}"
    # and all the rest of the package: code, templates, styles (the checkout's own list)
    shipped = [
        p
        for folder in (PACKAGE, REPO / "styles")
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert not sorted(_wheel_name(p) for p in shipped if _wheel_name(p) not in dist.names)
    # every shipped font has its licence beside it, and the wheel's metadata names the licences
    for font in (n for n in dist.names if n.startswith("report/styles/fonts/") and n.endswith((".ttf", ".otf"))):
        family = Path(font).name.split("-")[0]
        assert f"report/styles/fonts/LICENSE-{family}.txt" in dist.names, font


def test_the_wheel_metadata_names_the_distribution_version_and_command(dist):
    with zipfile.ZipFile(dist.wheel) as wheel:
        info = f"dossier_report-{report.__version__}.dist-info"
        metadata = Parser().parsestr(wheel.read(f"{info}/METADATA").decode("utf-8"))
        entry_points = wheel.read(f"{info}/entry_points.txt").decode("utf-8")
        licences = {n for n in wheel.namelist() if n.startswith(f"{info}/licenses/")}
    assert metadata["Name"] == DISTRIBUTION and metadata["Version"] == report.__version__
    assert "MIT" in metadata["License-Expression"] and "OFL-1.1" in metadata["License-Expression"]
    assert {Path(n).name for n in licences} == {"LICENSE", "LICENSE-CharisSIL.txt", "LICENSE-Inter.txt"}
    assert re.search(r"^report = report\.cli:main$", entry_points, re.M)
    assert dist.wheel.name == f"dossier_report-{report.__version__}-py3-none-any.whl"
    assert dist.sdist.name == f"dossier_report-{report.__version__}.tar.gz"


# ---------------------------------------------------------------------------------------
# The wheel installed in a fresh environment, used from a folder outside the checkout


@dataclass(frozen=True)
class Installed:
    venv: Path
    work: Path  # the user's folder, outside the checkout
    env: dict[str, str]
    open_log: Path


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Installed:
    base = tmp_path_factory.mktemp("installed")
    assert not base.resolve().is_relative_to(REPO)
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=base, env=_clean_env())
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", dist.wheel], cwd=base, env=_clean_env(), timeout=1200)
    site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=base, env=_clean_env()
        ).stdout.strip()
    )
    (site / "_report_test_open_audit.py").write_text(AUDIT_MODULE, encoding="utf-8")
    (site / "_report_test_open_audit.pth").write_text("import _report_test_open_audit\n", encoding="utf-8")
    work = base / "user"
    work.mkdir()
    open_log = base / "opened.txt"
    env = _clean_env(
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        REPORT_OPEN_LOG=str(open_log),
    )
    return Installed(venv, work, env, open_log)


def _editions(out: Path) -> dict[str, Path]:
    found = {p.suffix.lstrip("."): p for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert set(found) == {"pdf", "epub", "html"}, sorted(found)
    return found


def test_the_installed_wheel_builds_dossiers_from_any_folder(installed, tmp_path):
    run = lambda *args: _run(list(args), cwd=installed.work, env=installed.env)  # noqa: E731
    version = report.__version__

    assert run("report", "--version").stdout.strip() == f"report {version}"
    where = run(
        "python",
        "-c",
        f"import importlib.metadata as m, report; print(m.version({DISTRIBUTION!r})); print(report.__file__)",
    ).stdout.split()
    assert where[0] == version
    assert Path(where[1]).resolve().is_relative_to(installed.venv.resolve()), where[1]

    # a new dossier, as a user starts one
    run("report", "new", "mine")
    run("report", "check", "mine")
    run("report", "build", "mine", "--out", "out-mine")
    mine = _editions(installed.work / "out-mine")
    # the options that read more of the package: the handout's template, every shipped font
    run("report", "build", "mine", "--out", "out-extra", "--handout", "--epub-fonts", "--pdf", "--epub")
    extra = installed.work / "out-extra"
    assert PdfReader(extra / "mine-handout.pdf").pages, "no handout"
    with zipfile.ZipFile(extra / "mine.epub") as epub:
        embedded = sorted(Path(n).name for n in epub.namelist() if n.startswith("EPUB/fonts/"))
    assert embedded == sorted(p.name for p in (REPO / "styles" / "fonts").glob("*.[ot]tf")), embedded

    # the default dossier, copied out of the checkout, built twice into two folders
    shutil.copytree(REPO / "chapters", installed.work / "briefing")
    run("report", "check", "briefing")
    summary = json.loads(run("report", "build", "briefing", "--out", "out-1", "--json").stdout)
    assert summary["ok"] is True and summary["errors"] == [], summary
    run("report", "build", "briefing", "--out", "out-2")
    first, second = _editions(installed.work / "out-1"), _editions(installed.work / "out-2")
    for kind in ("pdf", "epub", "html"):
        assert first[kind].read_bytes() == second[kind].read_bytes(), f"{kind} differs between two builds"

    schema = json.loads(run("report", "schema").stdout)
    assert "$schema" in schema and "title" in json.dumps(schema)

    # every edition names the installed version as its generator
    for editions in (mine, first):
        pdf = PdfReader(editions["pdf"])
        assert pdf.metadata["/Creator"] == f"report {version}", pdf.metadata
        assert f"<xmp:CreatorTool>report {version}</xmp:CreatorTool>" in pdf.xmp_metadata.stream.get_data().decode()
        assert f'<meta name="generator" content="report {version}" />' in editions["html"].read_text("utf-8")
        with zipfile.ZipFile(editions["epub"]) as epub:
            opf = epub.read("EPUB/content.opf").decode("utf-8")
        assert f'<meta name="generator" content="report {version}"/>' in opf and "Ebook-lib" not in opf

    results = run_epubcheck([mine["epub"], first["epub"], extra / "mine.epub"])
    for epub, messages in results.items():
        assert summarize(messages) == (0, 0, 0), f"{epub.name}:\n{format_epubcheck_messages(messages)}"

    # nothing was read from the checkout; the hook saw the installed package's own styles
    opened = installed.open_log.read_text(encoding="utf-8").splitlines()
    from_checkout = sorted({p for p in opened if Path(p).is_relative_to(REPO)})
    assert not from_checkout, f"the installed command read the checkout: {from_checkout[:20]}"
    package = Path(where[1]).resolve().parent
    assert str(package / "styles" / "print.css") in opened
    assert str(package / "templates" / "pdf.html") in opened
