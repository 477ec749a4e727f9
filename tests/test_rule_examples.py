"""Every rule's own documented examples, run through the real engine.

The examples in ``rules/*.toml`` are the rule's documentation (``asgifix explain``
prints them); running them here means the documentation cannot drift from
what the rule does.
"""

from __future__ import annotations

import pytest

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine

from .conftest import write_tree

EXAMPLES = [
    pytest.param(rule, example, id=f"{rule.code}-{index}-{example.kind}")
    for rule in load_catalogue()
    for index, example in enumerate(rule.examples)
]


def _engine(rule, example) -> Engine:
    settings = Settings(target_asgiref=example.options.get("target-asgiref"))
    rules = select_rules(load_catalogue(), [rule.code], [])
    return Engine(settings, rules, unsafe_fixes=bool(example.options.get("unsafe-fixes")))


def _project(tmp_path, example):
    files = {example.file: example.before.lstrip("\n")}
    files.update({name: content.lstrip("\n") for name, content in example.context.items()})
    return write_tree(tmp_path / "project", files)


def _installed_example(tmp_path, rule, example):
    """An AFX6xx example describes a site-packages (tests/doctor_env.py): built, then judged by `doctor`."""
    from asgifix.doctor import run
    from asgifix.sources.installed import read_environment

    from .doctor_env import MARKERS, materialise

    environment = read_environment(materialise(tmp_path, example.before), "3.11", MARKERS)
    outcome = run(environment, [rule])
    own = [f for f in outcome.report.findings if f.code == rule.code]
    assert not outcome.report.errors, outcome.report.errors
    if example.kind == "valid":
        assert own == [], f"{rule.code} reported a valid example: {[f.message for f in own]}"
    else:
        assert own, f"{rule.code} did not report its own invalid example"


@pytest.mark.parametrize("rule, example", EXAMPLES)
def test_rule_example(tmp_path, rule, example):
    if rule.category == "installed environments":
        return _installed_example(tmp_path, rule, example)
    root = _project(tmp_path, example)
    target = root / example.file
    report, _, _ = _engine(rule, example).run([str(root)])
    reported_in = example.reported_in or example.file
    own = [f for f in report.findings if f.code == rule.code and f.path.endswith(reported_in)]
    assert not report.errors, report.errors
    if example.kind == "valid":
        assert own == [], f"{rule.code} reported a valid example: {[f.message for f in own]}"
        return
    assert own, f"{rule.code} did not report its own invalid example"
    if example.after is None:
        applied = [f for f in own if f.fix and (f.fix.applicability == "safe" or example.options.get("unsafe-fixes"))]
        assert not applied, "an example without 'after' documents a finding that fix leaves alone"
        before = target.read_bytes()
        _engine(rule, example).fix([str(root)])
        assert target.read_bytes() == before
        return
    _engine(rule, example).fix([str(root)])
    assert target.read_text(encoding="utf-8") == example.after.lstrip("\n")
    fixed_once = target.read_bytes()
    _engine(rule, example).fix([str(root)])
    assert target.read_bytes() == fixed_once, "a second fix run changed the file again"


@pytest.mark.parametrize("rule", load_catalogue(), ids=lambda rule: rule.code)
def test_rule_documents_itself(rule):
    assert rule.summary and not rule.summary.endswith(".")
    for heading in ("## What it does", "## Why it breaks"):
        assert heading in rule.explanation, f"{rule.code} lacks {heading!r}"
    if rule.fix_safety != "none":
        assert "## The fix" in rule.explanation
        assert any(e.kind == "invalid" and e.after is not None for e in rule.examples)
