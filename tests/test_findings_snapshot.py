"""Speed work must not change what asgifix finds: every fixture project's output, as recorded.

tests/data/findings_fixtures.json holds, for each fixture project (``fixtures/*`` and
``fixtures/*/*``), the JSON report of ``asgifix check --format json --exit-zero .`` and the
output of ``asgifix fix --diff --unsafe-fixes --exit-zero .``, recorded before the engine's
speed work (prefilter, parse skipping, caches, parallelism). A change that is meant to change
findings (a new rule, a precision fix) re-records it:
``python bench/findings.py snapshot tests/data/findings_fixtures.json``, and the diff of that
file is the review of what changed. The benchmark trees and the corpus are compared the same
way by ``bench/findings.py compare`` / ``bench/findings.py corpus`` (too big for the suite); a
small generated monorepo is run every way a run can go by tests/test_speed_paths_agree.py.
"""

from __future__ import annotations

import json

import pytest

from .conftest import REPO, run_cli

SNAPSHOT = json.loads((REPO / "tests" / "data" / "findings_fixtures.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("target", sorted(SNAPSHOT))
def test_fixture_output_unchanged(target, monkeypatch):
    monkeypatch.delenv("ASGIFIX_JOBS", raising=False)
    recorded = SNAPSHOT[target]
    check = run_cli("check", "--format", "json", "--exit-zero", ".", cwd=REPO / target)
    assert json.loads(check.stdout) == json.loads(recorded["check"]), target
    fixed = run_cli("fix", "--diff", "--unsafe-fixes", "--exit-zero", ".", cwd=REPO / target)
    assert fixed.stdout == recorded["fix-diff"], target


def test_snapshot_covers_every_fixture_project():
    projects = set()
    for top in (REPO / "fixtures").iterdir():
        if top.is_dir():
            projects.add(top.relative_to(REPO).as_posix())
            projects.update(p.relative_to(REPO).as_posix() for p in top.iterdir()
                            if p.is_dir() and not p.name.startswith("."))
    assert projects == set(SNAPSHOT)
    # the snapshot is not vacuous: the fixtures hold findings of every family and fixes
    codes = {f["code"][:4] for v in SNAPSHOT.values() for f in json.loads(v["check"])["findings"]}
    assert {"AFX1", "AFX2", "AFX3"} <= codes
    assert any(v["fix-diff"] for v in SNAPSHOT.values())
