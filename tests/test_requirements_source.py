"""The requirements reader agrees with pip's own preprocessing and grammar."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asgifix.matchers.malformed_requirement import propose_repair
from asgifix.sources.requirements import SIMPLE_REQUIREMENT, logical_lines, parse
from asgifix.textio import TextDocument


def _document(text: str) -> TextDocument:
    return TextDocument(Path("requirements.txt"), "requirements.txt", text.encode(), text, "utf-8", False)


def _pip_lines(text: str) -> list[tuple[int, str, bool]]:
    """The installed pip's own preprocessing: its logical lines, and the comments it cuts from them."""
    from pip._internal.req import req_file

    result = []
    for number, line in req_file.join_lines(enumerate(text.splitlines(), start=1)):
        stripped = req_file.COMMENT_RE.sub("", line).strip()
        if stripped:
            result.append((number, stripped, False))
        comment = req_file.COMMENT_RE.search(line)
        if comment is not None:
            result.append((number, comment.group(0).strip(), True))
    return result


def _ours(text: str) -> list[tuple[int, str, bool]]:
    result = []
    for logical in logical_lines(text):
        if logical.text:
            result.append((logical.line, logical.text, False))
        if logical.comment is not None:
            result.append((logical.line, logical.comment, True))
    return result


LINE_PIECES = st.sampled_from([
    "asgiref==3.5.2", "asgiref 3.5.2", "Django>=3.2,<4", "channels[daphne]~=4.0", "# a comment",
    "  # indented comment", "foo ; python_version < '3.8'", "-r other.txt", "--hash=sha256:abc", "\\",
    "bar==1.0 \\", "  --hash=sha256:def", "", "   ", "baz  # trailing", "x#y", "\\\\", "qux=1 \\",
    "-e .", "git+https://example.com/x.git#egg=x", "# -*- coding: utf-8 -*-", "asgiref==3.5.2,",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE_PIECES, max_size=12), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_logical_lines_match_pips_preprocess(pieces, newline, final_newline):
    text = newline.join(pieces) + (newline if final_newline else "")
    assert _ours(text) == _pip_lines(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE_PIECES, max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_offsets_point_at_the_logical_text(pieces, newline):
    text = newline.join(pieces)
    for logical in logical_lines(text):
        if logical.text and logical.contiguous:
            assert text[logical.start:logical.end] == logical.text


NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,8}[A-Za-z0-9]", fullmatch=True)
OPERATORS = st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "=", "===", "=>", " "])
VERSIONS = st.from_regex(r"[0-9]{1,2}(\.[0-9]{1,2}){0,3}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(NAMES, st.lists(st.tuples(OPERATORS, VERSIONS), max_size=3), st.sampled_from(["", ",", " ,"]))
def test_simple_fast_path_only_accepts_what_pip_accepts(name, clauses, tail):
    line = name + ",".join(op + version for op, version in clauses) + tail
    if SIMPLE_REQUIREMENT.match(line):
        entry = parse(_document(line + "\n")).entries[0]
        assert entry.kind == "requirement"
        # pip's own parser agrees, independently of our fast path:
        from asgifix.sources.requirements import LogicalLine, _pip_entry

        assert _pip_entry(LogicalLine(1, line, list(range(len(line))))).kind == "requirement"


@settings(max_examples=300, deadline=None)
@given(NAMES, st.lists(st.tuples(OPERATORS, VERSIONS), min_size=1, max_size=3), st.sampled_from(["", ",", ",,"]))
def test_every_proposed_repair_is_accepted_by_pip_and_packaging(name, clauses, tail):
    from packaging.requirements import Requirement

    line = name + "".join(op + version for op, version in clauses) + tail
    repaired, _ = propose_repair(line)
    if repaired is None:
        return
    Requirement(repaired)  # raises if packaging rejects it
    assert not repaired.rstrip().endswith(",")


def test_classification():
    text = (
        "asgiref==3.5.2\n"
        "asgiref 3.5.2\n"
        "-r base.txt\n"
        "--constraint=constraints.txt\n"
        "-e .\n"
        "git+https://github.com/django/channels.git#egg=channels\n"
        "./vendor/pkg\n"
        "foo==1.0 \\\n    --hash=sha256:abcd\n"
        "--index-url https://example.invalid/simple\n"
        "bar==2 ; python_version < '3.8'  # old pythons\n"
    )
    entries = parse(_document(text)).entries
    kinds = [(e.line, e.kind) for e in entries]
    assert kinds == [
        (1, "requirement"), (2, "invalid"), (3, "include"), (4, "constraint"), (5, "editable"),
        (6, "url"), (7, "path"), (8, "requirement"), (10, "option"), (11, "requirement"),
    ]
    assert entries[2].target == "base.txt" and entries[3].target == "constraints.txt"
    assert entries[7].hashes == ("sha256:abcd",)
    assert entries[9].marker == 'python_version < "3.8"'
    assert entries[0].name == "asgiref" and entries[0].specifier == "==3.5.2"


@pytest.mark.parametrize(
    "line, expected",
    [
        ("asgiref 3.5.2", "asgiref==3.5.2"),
        ("asgiref=3.5.2", "asgiref==3.5.2"),
        ("Django = 3.2", "Django==3.2"),
        ("asgiref==3.5.2,", "asgiref==3.5.2"),
        ("channels>=3.0,<4.0,", "channels>=3.0,<4.0"),
        ("channels =>2.0", "channels>=2.0"),
        ("channels=<2.0", "channels<=2.0"),
        ("asgiref<=3.5.2>3", "asgiref<=3.5.2,>3"),
        ("asgiref[tests] 3.5.2", "asgiref[tests]==3.5.2"),
        ('asgiref 3.5.2 ; python_version >= "3.8"', 'asgiref==3.5.2 ; python_version >= "3.8"'),
        ("django 3.*", "django==3.*"),
        ("asgiref,", "asgiref"),
    ],
)
def test_repairs(line, expected):
    assert propose_repair(line) == (expected, "")


@pytest.mark.parametrize(
    "line, reason",
    [
        ("django 3.x", "'3.x' is not a PEP 440 version (for a wildcard write django==3.*)"),
        ("asgiref latest", "'latest' is not a PEP 440 version"),
        ("asgiref 3.5.2 3.6.0", "two versions are given"),
        ("asgiref>=3.*", "a wildcard version only goes with == or !="),
        ("foo @ https://example.com/foo.whl extra", "it is a URL requirement"),
    ],
)
def test_no_repair_when_intent_is_not_evident(line, reason):
    repaired, why = propose_repair(line)
    assert repaired is None
    assert reason in why


_LINE_TOKENS = st.sampled_from([
    "asgiref", "3.5.2", "==3.5.2", "asgiref==3.5.2", "Django", "=", "3.2", "=>2.0", "; python_version<'3.8'",
    "--hash=sha256:abc", "-e", "git+https://x/y#egg=z", "--no-binary", ":all:", "-r", "base.txt", "#", "x-y",
    "--install-option=--prefix", "[extra]", "-", "\t", "'quoted string'", "",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINE_TOKENS, min_size=1, max_size=6))
def test_line_verdict_agrees_with_the_installed_pip(tokens):
    """Options, requirements and their mixtures: asgifix's verdict for this pip is this pip's own."""
    from asgifix.sources.pip_grammar import judge

    from .pip_oracle import line_error, recorded_version

    line = " ".join(tokens).strip()
    if not line or line.startswith("#") or " #" in line or "\t#" in line:
        return  # a comment: pip's preprocessing removes it before the line parser sees it
    verdict = judge(line)
    assert (recorded_version() in verdict.rejected_by) == (line_error(line) is not None), (line, line_error(line))


def test_pip_verdict_remembered_per_text_equals_a_fresh_one():
    """_pip_entry reuses the verdict for a line text; it must equal a fresh judgement."""
    from asgifix.sources import pip_grammar
    from asgifix.sources.requirements import LogicalLine, _pip_entry

    lines = ["Django = 3.2", "asgiref 3.5.2", "channels =>2.0", "x==1 --hash=sha256:abc --hash=sha256:def",
             "pkg[extra]>=1.0; python_version < '3.8'", "--index-url https://example.invalid/simple",
             "daphne==3.0.2,", "-r base.txt", "name @ https://example.invalid/x.whl", "-e ."]
    for text in lines:
        assert pip_grammar.judge_cached(text) == pip_grammar.judge(text), text
    for repeat in range(2):  # the second pass is served from the cache
        for number, text in enumerate(lines, start=1):
            logical = LogicalLine(number + 10 * repeat, text, list(range(5, 5 + len(text))))
            entry = _pip_entry(logical)
            assert entry.logical is logical and entry.line == number + 10 * repeat
            assert entry.kind == _pip_entry(LogicalLine(1, text, list(range(len(text))))).kind
