"""Each declaration format read into the shared shape, with exact spans; bad input is one error, not a crash."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from asgifix import sources
from asgifix.discovery import classify
from asgifix.sources.declared import package_replacement, value_edit
from asgifix.textio import TextDocument

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _document(name: str, text: str) -> TextDocument:
    path = Path(name)
    return TextDocument(path, name, text.encode("utf-8"), text, "utf-8", False)


def _entries(name: str, text: str) -> list:
    return sources.declared_entries(classify(Path(name), explicit=True), _document(name, text))


def _apply(text: str, edits) -> str:
    for start, end, content in sorted(edits, reverse=True):
        text = text[:start] + content + text[end:]
    return text


# -- pyproject.toml ---------------------------------------------------------------------
PYPROJECT = '''\
[project]
name = "chat"
dependencies = [
  "Django>=4.2",  # comment, "quotes" and [brackets]
  'channels[daphne]~=4.0',
  "asgiref>=3.6; python_version >= \\"3.8\\"",
]
[project.optional-dependencies]
"redis" = ["channels-redis>=4"]
[dependency-groups]
test = ["pytest", {include-group = "lint"}]
lint = ["ruff"]
[tool.poetry.dependencies]
python = "^3.10"
daphne = "^4.0"
channels = [{version = "^3.0", python = "<3.8"}, {version = "^4.0", python = ">=3.8"}]
mylib = {git = "https://example.com/mylib.git"}
[tool.poetry.group.dev.dependencies]
pytest-django = {version = "~4.7", extras = ["x"], markers = "sys_platform != 'win32'"}
[tool.uv]
override-dependencies = ["asgiref==3.8.1"]
'''


def test_pyproject_entries_point_at_the_exact_strings():
    entries = _entries("pyproject.toml", PYPROJECT)
    got = [(e.group, e.name, e.specifier, e.line, PYPROJECT[e.start:e.end]) for e in entries]
    assert got == [
        ("project.dependencies", "django", ">=4.2", 4, "Django>=4.2"),
        ("project.dependencies", "channels", "~=4.0", 5, "channels[daphne]~=4.0"),
        ("project.dependencies", "asgiref", ">=3.6", 6, 'asgiref>=3.6; python_version >= \\"3.8\\"'),
        ("project.optional-dependencies.redis", "channels-redis", ">=4", 9, "channels-redis>=4"),
        ("dependency-groups.test", "pytest", "", 11, "pytest"),
        ("dependency-groups.lint", "ruff", "", 12, "ruff"),
        ("tool.poetry.dependencies", "daphne", ">=4.0,<5.0", 15, "^4.0"),
        ("tool.poetry.dependencies", "channels", ">=3.0,<4.0", 16, "^3.0"),
        ("tool.poetry.dependencies", "channels", ">=4.0,<5.0", 16, "^4.0"),
        ("tool.poetry.dependencies", "mylib", "", 17, "mylib"),
        ("tool.poetry.group.dev.dependencies", "pytest-django", ">=4.7,<4.8", 19, "~4.7"),
        ("tool.uv.override-dependencies", "asgiref", "==3.8.1", 21, "asgiref==3.8.1"),
    ]
    by_value = {e.value: e for e in entries}
    assert by_value["asgiref==3.8.1"].constraint is True
    assert by_value['asgiref>=3.6; python_version >= "3.8"'].marker == 'python_version >= "3.8"'
    assert by_value["~4.7"].extras == ("x",) and by_value["~4.7"].marker == "sys_platform != 'win32'"
    assert [e.kind for e in entries if e.name == "mylib"] == ["vcs"]
    assert all(e.name != "python" for e in entries)


def test_pyproject_rewrites_keep_quoting_and_escapes():
    entries = {e.value: e for e in _entries("pyproject.toml", PYPROJECT)}
    document = _document("pyproject.toml", PYPROJECT)
    # literal string: rewritten inside its quotes
    edit = value_edit(document, entries["channels[daphne]~=4.0"], "channels[daphne]~=4.1")
    assert _apply(PYPROJECT, [edit]).count("'channels[daphne]~=4.1',") == 1
    # a basic string with escapes: the whole token is re-encoded, still a basic string
    edit = value_edit(document, entries['asgiref>=3.6; python_version >= "3.8"'],
                      'asgiref>=3.7; python_version >= "3.8"')
    fixed = _apply(PYPROJECT, [edit])
    assert '"asgiref>=3.7; python_version >= \\"3.8\\"",' in fixed
    assert tomllib.loads(fixed)["project"]["dependencies"][2] == 'asgiref>=3.7; python_version >= "3.8"'
    # a literal string cannot hold a quote: switches to a basic string rather than break
    edit = value_edit(document, entries["channels[daphne]~=4.0"], "channels; os_name == 'nt'")
    fixed = _apply(PYPROJECT, [edit])
    assert tomllib.loads(fixed)["project"]["dependencies"][1] == "channels; os_name == 'nt'"


def test_poetry_rename_keeps_the_table_form():
    text = '[tool.poetry.dependencies]\n"asgi_redis" = { version = "~1.4", optional = true }\n'
    (entry,) = _entries("pyproject.toml", text)
    edits, shown = package_replacement(_document("pyproject.toml", text), entry, "channels-redis", "4.2.1")
    fixed = _apply(text, edits)
    assert fixed == '[tool.poetry.dependencies]\n"channels_redis" = { version = "~4.2.1", optional = true }\n'
    assert shown == 'channels_redis = "~4.2.1"'


def test_invalid_toml_is_one_error_with_a_line():
    with pytest.raises(sources.SourceProblem) as caught:
        sources.reader("pyproject").parse(_document("pyproject.toml", '[project]\ndependencies = ["a",\n'))
    assert caught.value.line is not None and "invalid TOML" in str(caught.value)


def test_toml_spans_agree_with_tomllib_on_tricky_strings():
    from asgifix.sources.toml_spans import locate

    text = (
        "a = 'lit\\eral'\n"
        'b = "tab\\tand \\u00e9"\n'
        'c = """\nmulti "quoted" line"""\n'
        "d = '''\nraw '' two'''\n"
        "e = [ 1, 2.5, true, 1979-05-27 07:32:00Z, { x = [\"y\"] } , ]\n"
        "[[t]]\nk = 'first'\n[[t]]\nk = 'second'\n[t.sub]\nk = 'nested'\n"
    )
    data = tomllib.loads(text)
    spans = locate(text)
    for key in "abcd":
        assert spans.get(key).value.value == data[key]
    assert spans.get("t", 1, "k").value.value == "second"
    assert spans.get("t", 1, "sub", "k").value.value == "nested"
    assert spans.get("e", 4, "x") is not None or spans.get("e").value.items[4].kind == "table"


# -- setup.cfg ----------------------------------------------------------------------------
SETUP_CFG = """\
[metadata]
name = chat

[options]
install_requires =
    Django>=4.2
    # a comment line is dropped
    asgiref=3.5.2  # an inline " #" comment is dropped too

    channels
setup_requires = setuptools_scm; wheel

[options.extras_require]
redis = channels_redis>=4; asgi_redis
"""


def test_setup_cfg_values_as_setuptools_splits_them():
    entries = _entries("setup.cfg", SETUP_CFG)
    got = [(e.group, e.value, e.line, SETUP_CFG[e.start:e.end], e.kind) for e in entries]
    assert got == [
        ("options.install_requires", "Django>=4.2", 6, "Django>=4.2", "requirement"),
        ("options.install_requires", "asgiref=3.5.2", 8, "asgiref=3.5.2", "invalid"),
        ("options.install_requires", "channels", 10, "channels", "requirement"),
        # a one-line value is split at ";" by setuptools
        ("options.extras_require.redis", "channels_redis>=4", 14, "channels_redis>=4", "requirement"),
        ("options.extras_require.redis", "asgi_redis", 14, "asgi_redis", "requirement"),
    ]


def test_setup_cfg_markers_on_the_lines_below_the_key_stay_with_their_requirement():
    """setuptools splits a value that holds a newline by line only: a marker on such a line is kept."""
    text = (
        "[options]\n"
        "install_requires =\n"
        "    asgiref>=3.5; python_version >= \"3.8\"\n"
        "[options.extras_require]\n"
        "redis =\n"
        "    channels_redis>=4 ; sys_platform != \"win32\"\n"
        "    asgi_redis\n"
        "tests = pytest; python_version >= \"3.8\"\n"
    )
    got = [(e.group, e.value, e.kind) for e in _entries("setup.cfg", text)]
    assert got == [
        ("options.install_requires", 'asgiref>=3.5; python_version >= "3.8"', "requirement"),
        ("options.extras_require.redis", 'channels_redis>=4 ; sys_platform != "win32"', "requirement"),
        ("options.extras_require.redis", "asgi_redis", "requirement"),
        # on the key's own line, setuptools splits at ";" (the marker becomes a requirement, and is invalid)
        ("options.extras_require.tests", "pytest", "requirement"),
        ("options.extras_require.tests", 'python_version >= "3.8"', "invalid"),
    ]


def test_setup_cfg_file_directive_and_garbage():
    assert _entries("setup.cfg", "[options]\ninstall_requires = file: requirements.in\n") == []
    with pytest.raises(sources.SourceProblem) as caught:
        sources.reader("setup-cfg").parse(_document("setup.cfg", "install_requires = x\n"))
    assert caught.value.line == 1


def test_setup_cfg_addition_keeps_indentation_and_crlf():
    text = SETUP_CFG.replace("\n", "\r\n")
    module = sources.reader("setup-cfg")
    where, edits = module.add_requirement(module.parse(_document("setup.cfg", text)), "daphne", ">=4")
    fixed = _apply(text, edits)
    assert "\r\n    channels\r\n    daphne>=4\r\nsetup_requires" in fixed
    assert "\n" not in fixed.replace("\r\n", "")


# -- setup.py -----------------------------------------------------------------------------
SETUP_PY = '''\
# -*- coding: utf-8 -*-
import os
from setuptools import setup

NAME = "chat"  # ünïcode before the strings shifts UTF-8 byte columns
REQUIRES = ["ünï", "Django>=4.2", 'asgiref 3.5.2', "chan" "nels", r"raw>=1"]
os.system("echo this is never run")

setup(name=NAME, install_requires=REQUIRES,
      extras_require={"test": ["pytest  # comment dropped"], "dyn": [x for x in "ab"]},
      tests_require=open("never-opened.txt").read().split())
'''


def test_setup_py_is_read_statically_with_character_columns():
    entries = _entries("setup.py", SETUP_PY)
    got = [(e.value, e.line, SETUP_PY[e.start:e.end], e.kind, e.exact) for e in entries]
    assert got == [
        ("ünï", 6, "ünï", "invalid", True),
        ("Django>=4.2", 6, "Django>=4.2", "requirement", True),
        ("asgiref 3.5.2", 6, "asgiref 3.5.2", "invalid", True),
        ("channels", 6, '"chan" "nels"', "requirement", False),  # implicit concatenation: the whole literal
        ("raw>=1", 6, "raw>=1", "requirement", False),  # a raw string: rewritten as a whole literal
        ("pytest", 10, "pytest", "requirement", True),
    ]


def test_setup_py_whole_literal_rewrite_stays_python():
    import ast

    entries = {e.value: e for e in _entries("setup.py", SETUP_PY)}
    edit = value_edit(_document("setup.py", SETUP_PY), entries["channels"], 'channels; os_name == "nt"')
    fixed = _apply(SETUP_PY, [edit])
    assert '"channels; os_name == \\"nt\\""' in fixed
    ast.parse(fixed)


def test_setup_py_syntax_error_is_one_error():
    with pytest.raises(sources.SourceProblem) as caught:
        sources.reader("setup-py").parse(_document("setup.py", "setup(install_requires=[\n"))
    assert "cannot parse" in str(caught.value)


# -- Pipfile and lock files -----------------------------------------------------------------
def test_pipfile_categories_and_forms():
    text = ('[[source]]\nname = "pypi"\n[packages]\nDjango = "*"\nasgiref = {version = "==3.7.2"}\n'
            'chat = {path = ".", editable = true}\n[dev-packages]\npytest = ">=7"\n'
            '[docs]\nsphinx = "==7.*"\n[requires]\npython_version = "3.11"\n')
    got = [(e.group, e.name, e.specifier, e.kind, text[e.start:e.end]) for e in _entries("Pipfile", text)]
    assert got == [
        ("packages", "django", "", "requirement", "*"),
        ("packages", "asgiref", "==3.7.2", "requirement", "==3.7.2"),
        ("packages", "chat", "", "path", "chat"),
        ("dev-packages", "pytest", ">=7", "requirement", ">=7"),
        ("docs", "sphinx", "==7.*", "requirement", "==7.*"),
    ]


@pytest.mark.parametrize("name, text, expected", [
    ("poetry.lock", '[[package]]\nname = "Django"\nversion = "4.2.7"\n\n[[package]]\nname = "asgiref"\nversion = "3.7.2"\n',
     [("django", "==4.2.7", 2), ("asgiref", "==3.7.2", 6)]),
    ("uv.lock", 'version = 1\n[[package]]\nname = "chat"\nsource = { editable = "." }\n[[package]]\nname = "asgiref"\n'
                'version = "3.8.1"\n', [("chat", "", 3), ("asgiref", "==3.8.1", 6)]),
    ("pylock.toml", 'lock-version = "1.0"\n[[packages]]\nname = "channels"\nversion = "4.2.2"\n',
     [("channels", "==4.2.2", 3)]),
    ("Pipfile.lock", '{\n  "_meta": {"sources": [{"name": "pypi"}]},\n  "default": {\n    "asgiref": '
                     '{"version": "==3.7.2", "hashes": ["sha256:x"]}\n  },\n  "develop": {"pytest": {"version": "==7.4"}}\n}\n',
     [("asgiref", "==3.7.2", 4), ("pytest", "==7.4", 6)]),
])
def test_lock_files_are_evidence(name, text, expected):
    module = sources.reader("lock")
    declarations = module.declarations(module.parse(_document(name, text)))
    assert [(d.name, d.specifier, d.line) for d in declarations] == expected
    assert all(d.locked for d in declarations)
    assert module.validate(_document(name, text), text + " ") is not None  # never rewritten


def test_broken_files_are_reported_and_the_run_goes_on(tree):
    from asgifix.catalogue import load_catalogue
    from asgifix.config import Settings
    from asgifix.engine import Engine

    root = tree({"pyproject.toml": "[project\n", "Pipfile.lock": "{not json", "setup.py": "def (:\n",
                 "setup.cfg": "garbage\n", "requirements.txt": "asgiref 3.5.2\n"})
    report, _, _ = Engine(Settings(), load_catalogue()).run([str(root)])
    errors = sorted((e.path.rsplit("/", 1)[-1], e.line, e.fatal) for e in report.errors)
    assert errors == [("Pipfile.lock", 1, False), ("pyproject.toml", 1, False), ("setup.cfg", 1, False),
                      ("setup.py", 1, False)]
    assert [f.code for f in report.findings if f.path.endswith("requirements.txt")] == ["AFX101"]
