"""asgifix.sources.pep508 reads requirement strings as packaging's Requirement does."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement as TheirInvalid
from packaging.requirements import Requirement

from asgifix.sources.pep508 import InvalidRequirement, PlainRequirement, _plain, parse_requirement

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _same(text: str) -> None:
    """parse_requirement(text) is packaging's reading of it, or packaging's refusal."""
    try:
        theirs = Requirement(text)
    except TheirInvalid as exc:
        assert _plain(text) is None, text  # the plain grammar never accepts what packaging refuses
        with pytest.raises(InvalidRequirement) as refused:
            parse_requirement(text)
        assert str(refused.value) == str(exc)
        return
    ours = parse_requirement(text)
    assert (ours.name, ours.extras, str(ours.specifier), ours.marker, ours.url, str(ours)) == (
        theirs.name, theirs.extras, str(theirs.specifier), theirs.marker, theirs.url, str(theirs)), text
    assert ours.specifier == theirs.specifier


NAMES = st.sampled_from(["asgiref", "Django", "channels_redis", "zope.interface", "a", "A1", "my-pkg", "x_",
                         "-bad", "1st", "pkg."])
EXTRAS = st.lists(st.sampled_from(["daphne", "redis", "Tests", "x-y", "bad!", ""]), max_size=3)
OPS = st.sampled_from(["==", ">=", "<=", "<", ">", "!=", "~=", "===", "=", "=>", ""])
VERSIONS = st.sampled_from(["3.5.2", "1", "1.0.*", "2.0a1", "1.0.post1", "1.0+local", "1!2.0", "1.0-foo", "v1.0",
                            "1.0.dev0", "3.*", "1.0.*.1", "", " 4.0", "1_0"])
SPACE = st.sampled_from(["", " ", "\t", "  "])


@st.composite
def requirement_strings(draw) -> str:
    text = draw(SPACE) + draw(NAMES) + draw(SPACE)
    extras = draw(EXTRAS)
    if extras or draw(st.booleans()):
        text += "[" + draw(SPACE) + (draw(SPACE) + "," + draw(SPACE)).join(extras) + draw(SPACE) + "]" + draw(SPACE)
    clauses = draw(st.lists(st.tuples(OPS, SPACE, VERSIONS), max_size=3))
    text += (draw(SPACE) + "," + draw(SPACE)).join(op + space + version for op, space, version in clauses)
    text += draw(st.sampled_from(["", " ", ",", " ; python_version < '3.8'", " @ https://x/y.whl", "(", " #c"]))
    return text


@st.composite
def plain_strings(draw) -> str:
    """Mostly valid plain requirements, so the plain reading is exercised and not only refused."""
    name = draw(st.sampled_from(["asgiref", "Django", "channels_redis", "zope.interface", "a", "my-pkg"]))
    extras = draw(st.lists(st.sampled_from(["daphne", "redis", "Tests", "x-y"]), max_size=2))
    text = draw(SPACE) + name + draw(SPACE) + (f"[{draw(SPACE)}{', '.join(extras)}]" if extras else "")
    ops = st.sampled_from(["==", ">=", "<=", "<", ">", "!=", "~="])
    versions = st.sampled_from(["3.5.2", "4", "1.0.*", "2.0a1", "1.0.post1", "1.0+local", "1!2.0", "3.8.1"])
    clauses = draw(st.lists(st.tuples(ops, SPACE, versions), max_size=3))
    return text + draw(SPACE) + ",".join(f"{op}{space}{v}{draw(SPACE)}" for op, space, v in clauses)


@settings(max_examples=300, deadline=None)
@given(st.one_of(requirement_strings(), plain_strings()))
def test_generated_strings_read_as_packaging_reads_them(text):
    _same(text)


@settings(max_examples=300, deadline=None)
@given(plain_strings())
def test_plain_strings_packaging_accepts_take_the_plain_reading(text):
    try:
        Requirement(text)
    except TheirInvalid:
        return
    assert isinstance(parse_requirement(text), PlainRequirement), text


def test_plain_reading_is_used_for_plain_strings_only():
    assert isinstance(parse_requirement("channels[daphne] >= 4.0 , <5"), PlainRequirement)
    assert isinstance(parse_requirement("asgiref==3.5.2"), PlainRequirement)
    for text in ("asgiref==3.5.2; python_version < '3.8'", "pkg @ https://example.com/p.whl", "Django (>=4.2)",
                 "asgiref==3.5.2,"):
        assert not isinstance(parse_requirement(text), PlainRequirement), text
    with pytest.raises(InvalidRequirement):
        parse_requirement("asgiref 3.5.2")
    with pytest.raises(InvalidRequirement):
        parse_requirement("asgiref>=3.*")  # a valid-looking clause SpecifierSet refuses: packaging says why


def _data_lines():
    lines = set()
    for folder in ("fixtures", "tests/data"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and re.search(r"req|\.txt$|\.in$", path.name) and path.stat().st_size < 200_000:
                try:
                    text = path.read_text("utf-8")
                except (UnicodeDecodeError, OSError):
                    continue
                for line in text.splitlines():
                    line = line.split(" #", 1)[0].strip()
                    if line and not line.startswith(("-", "#")):
                        lines.add(line)
    return sorted(lines)


def test_every_requirement_line_of_the_test_data_reads_as_packaging_reads_it():
    lines = _data_lines()
    assert len(lines) > 100  # the data is there
    plain = 0
    for line in lines:
        _same(line)
        plain += _plain(line) is not None
    assert plain > 50  # and the plain reading serves most of it


def test_a_plain_requirements_check_does_not_import_packaging_requirements(tmp_path):
    (tmp_path / "requirements.txt").write_text("Django>=4.2,<5\nchannels[daphne]==4.0.0\nasgiref==3.8.1\n")
    code = ("import sys\nfrom asgifix.cli import main\ntry:\n    main(['check', '--no-cache', '.'])\n"
            "except SystemExit:\n    pass\n"
            "print('LOADED' if 'packaging.requirements' in sys.modules else 'NOT LOADED', file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert "NOT LOADED" in result.stderr, result.stderr
