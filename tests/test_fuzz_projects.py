"""Fuzzing whole projects through check, fix and fix again (issue 16).

Generated requirements files, pyproject (PEP 621 and Poetry), Pipfile, setup.cfg, setup.py
and Python modules that use asgiref/channels in odd ways go through the real engine.
Properties: no exception escapes (the CLI would call it an internal error), every
reporter renders the report, every fixed file re-reads as its format (and compiles, for
Python), a second fix changes nothing, and files with no finding stay byte-identical.

The default run tries a few hundred projects; ``ASGIFIX_FUZZ=thorough`` selects the
``thorough`` profile (thousands: ``ASGIFIX_FUZZ=thorough python -m pytest tests/test_fuzz_projects.py``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

settings.register_profile("asgifix-default", max_examples=30, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=1500, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = "thorough" if os.environ.get("ASGIFIX_FUZZ") == "thorough" else "asgifix-default"

ENGINES: dict = {}


def _engine(unsafe: bool):
    if unsafe not in ENGINES:
        from asgifix.catalogue import load_catalogue
        from asgifix.config import Settings
        from asgifix.engine import Engine

        ENGINES[unsafe] = Engine(Settings(), list(load_catalogue()), unsafe_fixes=unsafe, jobs=1)
    return ENGINES[unsafe]


PINS = st.sampled_from([
    "asgiref==3.5.2", "asgiref 3.5.2", "asgiref=3.7", "asgiref>=2,<3", "asgiref~=3.2", "asgiref",
    "channels==2.4.0", "channels 3.0.5", "channels[daphne]==4.0.0", "channels[daphne] 4.0.0",
    "daphne==2.5.0", "daphne>=4", "Django==4.2.7", "Django 3.2", "django>=2.2,<3", "asgi_redis==1.4.3",
    "asgi-ipc", "channels_redis==2.4.2", "uvicorn", "x==1.0 ; python_version < '3.8'", "naïve==1",
    "a==1,,", "django 3.x", "pkg[extra] 1.2", "Django =>3.2",
])
REQUIREMENT_LINES = st.one_of(PINS, st.sampled_from([
    "# a comment", "", "  ", "\t# tab", "bar==1.0 \\", "  --hash=sha256:abc", "\\", "-e .",
    "-r base.txt", "-c constraints.txt", "-r missing.txt", "--index-url https://example.invalid/simple",
    "git+https://example.com/x.git#egg=x", "asgiref 3.5.2  # noqa", "asgiref 3.5.2  # noqa: AFX101",
    "::error::x", "\x1b[2Jasgiref 3.5.2",
]), st.text(alphabet="asgiref=<>!~ .,;[]#\\-\t0123456789", max_size=20))
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])


def _requirements(lines, newline, final):
    return newline.join(lines) + (newline if final else "")


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'


@st.composite
def pyprojects(draw):
    deps = draw(st.lists(PINS, max_size=4))
    kind = draw(st.sampled_from(["pep621", "poetry", "both", "groups"]))
    parts = []
    if kind in ("pep621", "both", "groups"):
        parts.append('[project]\nname = "x"\nversion = "1"\n'
                     f"dependencies = [{', '.join(_toml_string(d) for d in deps)}]\n")
        if kind == "groups":
            parts.append('[dependency-groups]\ndev = [{include-group = "test"}, "pytest"]\ntest = ["asgiref 3.5.2"]\n')
    if kind in ("poetry", "both"):
        table = ['[tool.poetry.dependencies]', 'python = "^3.8"']
        for dep in deps:
            name = dep.split("=")[0].split(" ")[0].split("[")[0].split(">")[0].split("~")[0].split(";")[0] or "x"
            version = draw(st.sampled_from(['"^3.5"', '"3.5.2"', '"*"', '{version = "^2.4", extras = ["daphne"]}',
                                            '"=>3"', '"3.x"']))
            table.append(f"{_toml_string(name)} = {version}")
        parts.append("\n".join(table) + "\n")
    return "\n".join(parts)


@st.composite
def pipfiles(draw):
    deps = draw(st.lists(st.sampled_from(["asgiref", "channels", "daphne", "Django", "asgi_redis"]),
                         max_size=4, unique=True))
    lines = ["[packages]"]
    for name in deps:
        value = draw(st.sampled_from(['"==3.5.2"', '"*"', '"3.5.2"', '">=2"', '{version = "==2.4"}']))
        lines.append(f"{name} = {value}")
    return "\n".join(lines) + "\n"


@st.composite
def setup_cfgs(draw):
    deps = draw(st.lists(PINS, max_size=4))
    return "[options]\ninstall_requires =\n" + "".join(f"    {d}\n" for d in deps)


@st.composite
def setup_pys(draw):
    deps = draw(st.lists(PINS, max_size=4))
    return ("from setuptools import setup\n\nsetup(\n    name='x',\n    install_requires=[\n"
            + "".join(f"        {d!r},\n" for d in deps) + "    ],\n)\n")


PYTHON_SNIPPETS = st.sampled_from([
    "from asgiref.sync import async_to_sync, sync_to_async\n",
    "import asgiref.sync as s\n",
    "from asgiref.sync import SyncToAsync\n",
    "from asgiref.compatibility import guarantee_single_callable\n",
    "from asgiref.sync import sync_to_async\n\nasync def f(x):\n    return await sync_to_async(x)()\n",
    "from asgiref.sync import async_to_sync\n\nasync def f(layer, e):\n    async_to_sync(layer.group_send)('g', e)\n",
    "from asgiref.sync import async_to_sync\n\ndef f(layer, e):\n    async_to_sync(layer.group_send)('g', e)\n",
    "from channels.generic.websocket import WebsocketConsumer\n\nclass C(WebsocketConsumer):\n    pass\n",
    "from channels.routing import ProtocolTypeRouter, URLRouter\napplication = ProtocolTypeRouter({})\n",
    "from channels.asgi import get_channel_layer\n",
    "import channels.asgi\n",
    "INSTALLED_APPS = ['channels', 'daphne']\n",
    "INSTALLED_APPS = ['daphne']\nASGI_APPLICATION = 'x.asgi.application'\n",
    "CHANNEL_LAYERS = {'default': {'BACKEND': 'asgi_redis.RedisChannelLayer'}}\n",
    "from asgiref.sync import async_to_sync\nx = [async_to_sync(f)(i) for i in y]\n",
    "from asgiref.sync import sync_to_async\n\n@sync_to_async\ndef g():\n    pass\n",
    "from asgiref.sync import async_to_sync\n\nasync def f(a, b):\n    return async_to_sync(a or b)(1)\n",
    "from asgiref.sync import async_to_sync\n\nasync def h(s=async_to_sync(g)()):\n    pass\n",
    "# -*- coding: latin-1 -*-\n",
    "def f(:\n",
    "x = 1\n",
])


@st.composite
def python_modules(draw):
    return "".join(draw(st.lists(PYTHON_SNIPPETS, min_size=1, max_size=4)))


@st.composite
def projects(draw):
    files: dict[str, bytes] = {}
    newline = draw(NEWLINES)
    files["requirements.txt"] = _requirements(draw(st.lists(REQUIREMENT_LINES, max_size=6)), newline,
                                              draw(st.booleans())).encode()
    if draw(st.booleans()):
        files["base.txt"] = _requirements(draw(st.lists(PINS, max_size=3)), newline, True).encode()
    if draw(st.booleans()):
        files["pyproject.toml"] = draw(pyprojects()).encode()
    if draw(st.booleans()):
        files["Pipfile"] = draw(pipfiles()).encode()
    if draw(st.booleans()):
        files["setup.cfg"] = draw(setup_cfgs()).encode()
    if draw(st.booleans()):
        files["setup.py"] = draw(setup_pys()).encode()
    for index in range(draw(st.integers(0, 2))):
        files[f"app/m{index}.py"] = draw(python_modules()).encode("latin-1", "replace")
    if draw(st.booleans()):
        files["app/settings.py"] = draw(python_modules()).encode("latin-1", "replace")
    return files


def _write(root: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _reread(root: Path, relative: str) -> None:
    """A fixed file reads back as its format (and compiles, for Python)."""
    from asgifix import sources
    from asgifix.discovery import classify
    from asgifix.engine import PYTHON_KINDS
    from asgifix.textio import TextDocument

    path = root / relative
    kind = classify(path, explicit=True)
    data = path.read_bytes()
    document = TextDocument.decode(path, relative, data, python=kind in PYTHON_KINDS, wide=kind == "requirements")
    sources.reader(kind).parse(document)
    if kind in PYTHON_KINDS:
        compile(document.text, relative, "exec", dont_inherit=True)


def _check_project(files: dict[str, bytes], unsafe: bool) -> None:
    from asgifix.reporters import RenderOptions, renderer

    engine = _engine(unsafe)
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        _write(root, files)
        before = _snapshot(root)
        report, _, _ = engine.run([str(root)])
        for name in ("text", "json", "sarif", "github"):
            renderer(name)(report, engine.rules, RenderOptions(mode="check"))
        fixable = any(f.fix is not None and (unsafe or f.fix.applicability == "safe") for f in report.findings)
        outcome = engine.fix([str(root)])
        for name in ("text", "json", "sarif", "github"):
            renderer(name)(outcome.report, engine.rules, RenderOptions(mode="fix"))
        outcome.diff()
        after = _snapshot(root)
        prefix = root.as_posix() + "/"
        changed = {p[len(prefix):] for p in outcome.report.changed_paths}
        if not fixable:  # nothing to fix: every file stays byte-identical
            assert after == before and not changed
        for relative in set(before) | set(after):
            if relative not in changed:
                assert before.get(relative) == after.get(relative), relative
            else:
                _reread(root, relative)
        # (A fix may change a file that had no finding before: fixing one pin can make another
        # file's pin disagree, and the next round fixes that. Unchanged files are byte-identical.)
        second = engine.fix([str(root)])
        assert second.report.changed_paths == [], second.diff()
        assert _snapshot(root) == after


@settings(settings.get_profile(PROFILE))
@given(projects(), st.booleans())
def test_fuzz_whole_projects(files, unsafe):
    _check_project(files, unsafe)


@settings(settings.get_profile(PROFILE))
@given(st.lists(REQUIREMENT_LINES, max_size=10), NEWLINES, st.booleans())
def test_fuzz_requirements_files(lines, newline, final):
    _check_project({"requirements.txt": _requirements(lines, newline, final).encode("utf-8", "surrogatepass")}, False)


@settings(settings.get_profile(PROFILE))
@given(pyprojects(), pipfiles(), setup_cfgs(), setup_pys())
def test_fuzz_declaration_files(pyproject, pipfile, setup_cfg, setup_py):
    _check_project({"pyproject.toml": pyproject.encode(), "Pipfile": pipfile.encode(),
                    "setup.cfg": setup_cfg.encode(), "setup.py": setup_py.encode(),
                    "requirements.txt": b"asgiref==3.7.2\n"}, True)


@settings(settings.get_profile(PROFILE))
@given(st.lists(python_modules(), min_size=1, max_size=3), st.sampled_from(["asgiref==3.7.2\n", "asgiref 3.5.2\n",
                                                                              "channels==2.4.0\n", ""]))
def test_fuzz_python_modules(modules, requirements):
    files = {f"app/m{i}.py": text.encode("latin-1", "replace") for i, text in enumerate(modules)}
    files["requirements.txt"] = requirements.encode()
    _check_project(files, True)
