"""Every finding's message is one sentence of at most 120 characters that says what breaks;
the details (the disagreeing pins, the releases, the evidence) are in the hint and the notes.

Run over every rule's invalid examples and over every bundled fixture project.
"""

from __future__ import annotations

import re

import pytest

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine

from .conftest import FIXTURES, write_tree

LIMIT = 120
# A sentence break outside `code`: ". Next", "! Next", "? Next"; or a line break.
_BREAK = re.compile(r"[.!?]\s+[A-Z(]|\n")


def _outside_code(text: str) -> str:
    return re.sub(r"`[^`]*`", "`…`", text)


def problems(finding) -> list[str]:
    message = finding.message
    found = []
    if len(message) > LIMIT:
        found.append(f"{len(message)} characters")
    prose = _outside_code(message)
    if _BREAK.search(prose):
        found.append("more than one sentence")
    if prose.rstrip().endswith((".", ";", ":", ",")):
        found.append("ends with punctuation")
    if not message.strip():
        found.append("empty")
    if "((" in prose or re.search(r"\([^()]*\([^()]*\)[^()]*\)", prose):
        found.append("nested parentheses")
    for text in (finding.hint or "", *finding.notes):
        if re.search(r"\([^()`]*\([^()`]*\)[^()`]*\)", _outside_code(text)):
            found.append(f"nested parentheses in {text!r}")
    return found


def _example_findings(tmp_path, rule, example):
    if rule.category == "installed environments":
        # an AFX6xx example describes a site-packages (tests/doctor_env.py), judged by `doctor`
        from asgifix.doctor import run
        from asgifix.sources.installed import read_environment

        from .doctor_env import MARKERS, materialise

        environment = read_environment(materialise(tmp_path, example.before), "3.11", MARKERS)
        return [f for f in run(environment, [rule]).report.findings if f.code == rule.code]
    files = {example.file: example.before.lstrip("\n")}
    files.update({name: content.lstrip("\n") for name, content in example.context.items()})
    root = write_tree(tmp_path / "project", files)
    settings = Settings(target_asgiref=example.options.get("target-asgiref"))
    engine = Engine(settings, select_rules(load_catalogue(), [rule.code], []))
    report, _, _ = engine.run([str(root)])
    return report.findings


INVALID = [
    pytest.param(rule, example, id=f"{rule.code}-{index}")
    for rule in load_catalogue()
    for index, example in enumerate(rule.examples)
    if example.kind == "invalid"
]


@pytest.mark.parametrize("rule, example", INVALID)
def test_example_messages_are_one_short_sentence(tmp_path, rule, example):
    findings = _example_findings(tmp_path, rule, example)
    assert findings
    bad = {f.message: problems(f) for f in findings if problems(f)}
    assert not bad, bad


FIXTURE_PROJECTS = sorted(p for p in FIXTURES.glob("*/") if p.is_dir() and p.name not in ("sources", "install-sets"))
FIXTURE_PROJECTS += sorted(p for group in ("sources", "install-sets") for p in (FIXTURES / group).glob("*/")
                           if p.is_dir())


@pytest.mark.parametrize("project", FIXTURE_PROJECTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_messages_are_one_short_sentence(project):
    report, _, _ = Engine(Settings(), list(load_catalogue())).run([str(project)])
    bad = {f"{f.code} {f.message}": problems(f) for f in report.findings if problems(f)}
    assert not bad, bad


def test_the_check_itself_catches_long_and_joined_messages():
    from asgifix.model import Finding, Span

    span = Span(0, 1, 1, 1, 1, 2)
    long = Finding("AFX101", "error", "x" * 121, "r.txt", span)
    joined = Finding("AFX101", "error", "It breaks. Then it breaks again", "r.txt", span)
    nested = Finding("AFX401", "error", "ok", "r.txt", span, hint="add it (channels 4.3.2 (undeclared: the newest))")
    code = Finding("AFX101", "error", "Invalid requirement `a. B`: pip rejects this line", "r.txt", span)
    assert problems(long) == ["121 characters"]
    assert problems(joined) == ["more than one sentence"]
    assert problems(nested) and "nested" in problems(nested)[0]
    assert problems(code) == []
