"""The matcher registry (data the engine reads without importing matchers) agrees with the classes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from asgifix.catalogue import load_catalogue
from asgifix.matchers import COLLECTORS, REGISTRY, EnvironmentMatcher, FileMatcher, ProjectMatcher, matcher_class

SHAPES = {"file": FileMatcher, "project": ProjectMatcher, "environment": EnvironmentMatcher}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registry_shape_matches_the_class(name):
    spec = REGISTRY[name]
    cls = matcher_class(name)
    assert spec.shape in SHAPES
    assert issubclass(cls, SHAPES[spec.shape])
    assert set(spec.facts) <= set(COLLECTORS)
    if spec.shape == "project":
        assert not spec.needles  # project matchers are fed by collectors, which have their own needles


def test_every_rule_names_a_registered_matcher():
    assert {rule.matcher for rule in load_catalogue()} <= set(REGISTRY)


def test_building_an_engine_imports_no_matcher_and_a_clean_run_imports_only_what_it_needs(tmp_path):
    (tmp_path / "app.py").write_text("import os\n")
    code = (
        "import sys\n"
        "from asgifix.catalogue import load_catalogue, select_rules\n"
        "from asgifix.config import Settings\n"
        "from asgifix.engine import Engine\n"
        "s = Settings()\n"
        "e = Engine(s, select_rules(load_catalogue(), s.select, s.ignore), jobs=1)\n"
        "built = sorted(m for m in sys.modules if m.startswith('asgifix.matchers.'))\n"
        f"e.run([{str(tmp_path / 'app.py')!r}])\n"
        "ran = sorted(m for m in sys.modules if m.startswith('asgifix.matchers.') or m in ('asgifix.resolver', 'asgifix.knowledge'))\n"
        "import json; print(json.dumps([built, ran]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    built, ran = json.loads(out)
    assert built == []
    # A file that mentions nothing asgifix looks for: no matcher module, no resolver, no data.
    assert ran == []
