"""The per-format fixture projects under fixtures/sources/: exact findings, byte-exact fixes.

Each ``fixtures/sources/<format>/`` is a small project carrying AFX101-AFX104
breakages in that declaration format. ``check`` must report exactly the
findings listed here (code, file, line, column, end); ``fix --unsafe-fixes``
must turn every file with a ``<name>.expected`` sibling into exactly that
file and leave every other file byte-identical; a second ``fix`` must change
nothing. The same holds after converting the project to CRLF line endings,
and to CRLF with a UTF-8 BOM on every declaration file.

Versions are chosen from the committed fallback table
(rules/data/release_requirements.toml), not from generated knowledge data, so
the expected files do not move when that data is regenerated.
"""

from __future__ import annotations

import codecs
import shutil
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from asgifix import compat

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine

from .conftest import FIXTURES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SOURCES = FIXTURES / "sources"

# (code, file, line, column, end_line, end_column, has a fix)
EXPECTED_FINDINGS = {
    "pip-compile": [
        ("AFX103", "chat/asgi.py", 1, 1, 1, 16, True),
        ("AFX101", "requirements.in", 2, 1, 2, 14, True),
        ("AFX102", "requirements.in", 3, 1, 3, 11, True),
        ("AFX102", "requirements.txt", 7, 1, 7, 18, False),  # hashed pip-compile output: the .in is fixed
    ],
    "pipfile": [
        ("AFX101", "Pipfile", 8, 12, 8, 18, True),
        ("AFX102", "Pipfile", 9, 1, 9, 33, True),
        ("AFX103", "chat/consumers.py", 1, 1, 1, 57, True),
    ],
    "poetry": [
        ("AFX103", "chat/routing.py", 1, 1, 1, 48, True),
        ("AFX101", "pyproject.toml", 8, 12, 8, 17, True),
        ("AFX102", "pyproject.toml", 9, 1, 9, 33, True),
        ("AFX101", "pyproject.toml", 14, 18, 14, 21, True),
    ],
    "pyproject": [
        ("AFX103", "chat/consumers.py", 2, 1, 2, 27, False),  # asgi-redis is declared: AFX102 replaces it
        ("AFX101", "pyproject.toml", 10, 6, 10, 19, True),
        ("AFX102", "pyproject.toml", 15, 11, 15, 28, True),
        ("AFX101", "pyproject.toml", 18, 23, 18, 41, True),
        ("AFX104", "pyproject.toml", 18, 61, 18, 67, False),
        ("AFX101", "pyproject.toml", 21, 29, 21, 39, True),
    ],
    "requirements": [
        ("AFX103", "chat/settings.py", 3, 5, 3, 13, True),
        ("AFX103", "chat/settings.py", 7, 28, 7, 67, False),
        ("AFX102", "requirements.txt", 4, 1, 4, 18, True),
        ("AFX101", "requirements/base.pip", 2, 1, 2, 14, True),  # read only through -r
        ("AFX101", "requirements/base.pip", 3, 1, 3, 15, True),
        ("AFX101", "requirements/dev.txt", 4, 1, 4, 19, True),
    ],
    "setup-cfg": [
        ("AFX103", "chat/settings.py", 2, 20, 2, 28, True),
        ("AFX101", "setup.cfg", 9, 5, 9, 18, True),
        ("AFX102", "setup.cfg", 10, 5, 10, 20, True),
        ("AFX101", "setup.cfg", 11, 5, 11, 24, True),
    ],
    "setup-py": [
        ("AFX103", "chat/settings.py", 1, 31, 1, 39, True),
        ("AFX101", "setup.py", 6, 6, 6, 19, True),
        ("AFX102", "setup.py", 7, 6, 7, 23, True),
        ("AFX101", "setup.py", 14, 31, 14, 40, True),
    ],
    "uv": [  # PEP 621, PEP 735 and uv's lists, with uv.lock and pylock.toml as read-only evidence
        ("AFX102", "pylock.toml", 6, 9, 6, 17, False),
        ("AFX101", "pyproject.toml", 11, 22, 11, 41, True),
        ("AFX101", "pyproject.toml", 14, 27, 14, 41, True),
        ("AFX102", "uv.lock", 5, 9, 5, 19, False),
    ],
}
# Findings that remain after fixing (no automatic fix by design).
REMAINING = {
    "pip-compile": [("AFX102", "requirements.txt")],  # until pip-compile is re-run
    "pipfile": [("AFX102", "Pipfile.lock")],  # the lock still resolves asgi-redis until re-locked
    "poetry": [("AFX102", "poetry.lock")],
    "pyproject": [("AFX104", "pyproject.toml")],
    "uv": [("AFX102", "pylock.toml"), ("AFX102", "uv.lock")],  # lock files are never edited
}
DECLARATION_NAMES = ("requirements", "constraints", ".pip", ".in", "pyproject.toml", "setup.cfg", "setup.py",
                     "Pipfile")


@pytest.fixture(autouse=True)
def committed_release_data(monkeypatch):
    monkeypatch.setattr(compat, "_knowledge", lambda: None)


def _copy(fixture: str, tmp_path: Path, variant: str) -> Path:
    root = tmp_path / fixture
    shutil.copytree(SOURCES / fixture, root, ignore=shutil.ignore_patterns("*.expected"))
    for path in root.rglob("*"):
        if path.is_file():
            path.write_bytes(_variant(path.name, path.read_bytes(), variant))
    return root


def _variant(name: str, data: bytes, variant: str) -> bytes:
    if variant == "lf":
        return data
    data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if variant == "crlf-bom" and any(part in name for part in DECLARATION_NAMES) and name != "Pipfile.lock":
        data = codecs.BOM_UTF8 + data
    return data


def _expected_files(fixture: str) -> dict[str, bytes]:
    base = SOURCES / fixture
    return {str(p.relative_to(base))[: -len(".expected")]: p.read_bytes() for p in base.rglob("*.expected")}


def _engine() -> Engine:
    return Engine(Settings(), select_rules(load_catalogue(), ["AFX1"], []), unsafe_fixes=True)


def _check(root: Path) -> dict:
    report, _, _ = _engine().run([str(root)])
    return {"findings": [f.to_json() for f in report.findings], "errors": [e.to_json() for e in report.errors]}


def _fix(root: Path) -> dict:
    outcome = _engine().fix([str(root)])
    report = outcome.report
    return {"findings": [f.to_json() for f in report.findings], "errors": [e.to_json() for e in report.errors],
            "changed_files": report.changed_paths}


def _rows(report: dict, fixture: str) -> list[tuple]:
    return [
        (f["code"], f["path"].split(f"{fixture}/", 1)[1], f["line"], f["column"], f["end_line"], f["end_column"],
         f["fix"] is not None)
        for f in report["findings"]
    ]


@pytest.mark.parametrize("fixture", sorted(EXPECTED_FINDINGS))
def test_findings_at_exact_positions(tmp_path, fixture):
    root = _copy(fixture, tmp_path, "lf")
    report = _check(root)
    assert report["errors"] == []
    assert _rows(report, fixture) == EXPECTED_FINDINGS[fixture]


@pytest.mark.parametrize("variant", ["lf", "crlf", "crlf-bom"])
@pytest.mark.parametrize("fixture", sorted(EXPECTED_FINDINGS))
def test_fix_is_byte_exact(tmp_path, fixture, variant):
    root = _copy(fixture, tmp_path, variant)
    before = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    expected = {name: _variant(Path(name).name, data, variant) for name, data in _expected_files(fixture).items()}
    assert expected, "every fixture documents at least one fixed file"

    report = _fix(root)
    assert report["errors"] == []
    after = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    for name, data in after.items():
        assert data == expected.get(name, before[name]), f"{name} differs from what was expected"
    remaining = sorted((f["code"], f["path"].split(f"{fixture}/", 1)[1]) for f in report["findings"])
    assert remaining == sorted(REMAINING.get(fixture, []))

    assert _fix(root)["changed_files"] == []
    assert {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()} == after


@pytest.mark.parametrize("fixture", sorted(EXPECTED_FINDINGS))
def test_fixed_files_parse_with_the_consuming_tools(tmp_path, fixture):
    """Every expected file is what pip, packaging and tomllib accept (only pre-existing problems remain)."""
    from asgifix import sources
    from asgifix.discovery import classify
    from asgifix.textio import TextDocument

    for name, data in _expected_files(fixture).items():
        path = SOURCES / fixture / name
        text = data.decode("utf-8")
        if name.endswith((".toml", "Pipfile")):
            tomllib.loads(text)
        if name.endswith((".txt", ".in", ".pip")):
            from .pip_oracle import invalid_lines

            assert invalid_lines(text) == set(), name  # the installed pip accepts every line
        kind = classify(path, explicit=True)
        document = TextDocument(path, name, data, text, "utf-8", False)
        for entry in sources.declared_entries(kind, document):
            if entry.syntax == "pep508" and entry.kind == "requirement":
                Requirement(entry.value)
            assert entry.kind != "invalid", (name, entry.value, entry.error)


def test_the_command_line_reports_and_fixes_a_fixture(tmp_path):
    """The same through the CLI: JSON positions, exit codes, --unsafe-fixes."""
    from .conftest import run_cli

    root = _copy("setup-cfg", tmp_path, "lf")
    result = run_cli("check", str(root), "--format", "json", "--select", "AFX1")
    assert result.exit_code == 1
    assert _rows(result.json(), "setup-cfg") == EXPECTED_FINDINGS["setup-cfg"]
    assert run_cli("fix", "--unsafe-fixes", "--select", "AFX1", str(root)).exit_code == 0
    assert (root / "setup.cfg").read_bytes() == (SOURCES / "setup-cfg" / "setup.cfg.expected").read_bytes()
