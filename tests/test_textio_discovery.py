"""Byte-exact decoding and writing, positions, and file discovery."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from asgifix.discovery import classify, discover, display_path
from asgifix.config import DEFAULT_EXCLUDES
from asgifix.textio import DecodeProblem, TextDocument, atomic_write


@pytest.mark.parametrize(
    "raw, python",
    [
        (b"a\r\nb\r\n", False),
        (b"a\nb", False),
        (codecs.BOM_UTF8 + b"asgiref==3.5.2\n", False),
        (b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", True),
        (b"# coding: latin-1\n# caf\xe9\nfoo\n", False),
        (b"mixed\r\nendings\nhere\r", False),
        (b"trailing   \n\tspace \t\n", False),
    ],
)
def test_decode_encode_round_trip(raw, python):
    document = TextDocument.decode(Path("f"), "f", raw, python=python)
    assert document.encode() == raw
    assert document.with_text(document.text).raw == raw


def test_positions_count_code_points_and_all_line_endings():
    document = TextDocument.decode(Path("f"), "f", "é1\r\nab\rc\nd".encode())
    assert document.position(0) == (1, 1)
    assert document.position(1) == (1, 2)
    assert document.position(4) == (2, 1)
    assert document.position(7) == (3, 1)
    assert document.line_text(1) == "é1" and document.line_text(2) == "ab" and document.line_text(4) == "d"
    assert document.offset(3, 1) == 7
    span = document.span(4, 6)
    assert (span.line, span.column, span.end_line, span.end_column) == (2, 1, 2, 3)


def test_undecodable_reports_line():
    with pytest.raises(DecodeProblem, match=r"line 2: byte 0xff is not valid utf-8"):
        TextDocument.decode(Path("f"), "f", b"ok\n\xff\n")


def test_unknown_declared_encoding():
    with pytest.raises(DecodeProblem, match="unknown encoding"):
        TextDocument.decode(Path("f"), "f", b"# coding: klingon\nx\n", python=True)


def test_atomic_write_replaces_and_keeps_mode(tmp_path):
    target = tmp_path / "requirements.txt"
    target.write_bytes(b"old\n")
    os.chmod(target, 0o600)
    atomic_write(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert os.stat(target).st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["requirements.txt"]


@pytest.mark.parametrize(
    "name, kind",
    [
        ("app.py", "python"),
        ("requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("dev-requirements.txt", "requirements"),
        ("constraints.txt", "requirements"),
        ("requirements/base.txt", "requirements"),
        ("requirements.in", "requirements"),
        ("dev.in", "requirements"),
        ("MANIFEST.in", None),
        ("notes.txt", None),
        ("pyproject.toml", "pyproject"),
        ("setup.cfg", "setup-cfg"),
        ("Pipfile", "pipfile"),
        ("poetry.lock", "lock"),
        ("uv.lock", "lock"),
        ("pylock.toml", "lock"),
    ],
)
def test_classify(name, kind):
    assert classify(Path(name)) == kind


def test_explicit_unknown_text_file_is_read_as_requirements():
    assert classify(Path("deps.pip"), explicit=True) == "requirements"
    assert classify(Path("notes.txt"), explicit=True) == "requirements"
    # Any other named file is no declaration (pre-commit hands over YAML and Markdown too).
    for name in (".pre-commit-config.yaml", "ci.yml", "README.md", "tox.ini", "Makefile.am", "data.json"):
        assert classify(Path(name), explicit=True) is None, name


def test_discovery_skips_default_dirs_and_symlinks(tmp_path):
    for directory in ("app", ".venv/lib", "node_modules/x", "build", "pkg.egg-info", ".git"):
        (tmp_path / directory).mkdir(parents=True)
        (tmp_path / directory / "requirements.txt").write_text("x\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "requirements.txt").write_text("x\n")
    (tmp_path / "app" / "linked").symlink_to(tmp_path / "outside")
    (tmp_path / "app" / "link.txt").symlink_to(tmp_path / "outside" / "requirements.txt")
    found = [s.display for s in discover([str(tmp_path / "app")], DEFAULT_EXCLUDES)]
    assert found == [f"{tmp_path}/app/requirements.txt"]
    everything = [s.display for s in discover([str(tmp_path)], DEFAULT_EXCLUDES)]
    assert everything == [f"{tmp_path}/app/requirements.txt", f"{tmp_path}/outside/requirements.txt"]


def test_discovery_order_is_stable_and_files_are_seen_once(tmp_path):
    for name in ("b/requirements.txt", "a/requirements.txt", "requirements.txt", "a/z.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    found = [s.display for s in discover([str(tmp_path), str(tmp_path / "a")], ())]
    assert found == [f"{tmp_path}/requirements.txt", f"{tmp_path}/a/requirements.txt",
                     f"{tmp_path}/a/z.py", f"{tmp_path}/b/requirements.txt"]


def test_exclude_patterns_match_names_and_relative_paths(tmp_path):
    for name in ("legacy/requirements.txt", "svc/old/requirements.txt", "svc/new/requirements.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    found = [s.display for s in discover([str(tmp_path)], ["legacy", "svc/old"])]
    assert found == [f"{tmp_path}/svc/new/requirements.txt"]


def test_display_path():
    assert display_path(".", "a/b.txt") == "a/b.txt"
    assert display_path("src/", "x.py") == "src/x.py"
    assert display_path("req.txt", "") == "req.txt"
    assert display_path("/abs/dir", "f.py") == "/abs/dir/f.py"


def test_read_bytes_reads_every_size(tmp_path):
    from asgifix.textio import read_bytes

    for size in (0, 1, 4095, 65536, 65537, 300_000):
        path = tmp_path / f"f{size}"
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        path.write_bytes(data)
        assert read_bytes(path) == data and read_bytes(str(path)) == data
    with pytest.raises(OSError):
        read_bytes(tmp_path / "missing")
    with pytest.raises(OSError):
        read_bytes(tmp_path)
