"""Disagreements with ``uv pip compile`` found by scripts/validate_resolver.py, fixed.

Facts from the released metadata (rules/data/asgiref_api.json and
rules/data/ecosystem.json, written by scripts/build_knowledge.py from the index):
asgiref 3.7.0 is yanked on the index ("Broken dependencies that cause installation
issues"; its neighbours 3.6.0 and 3.7.1 are not); Django-4.2.7 requires
asgiref<4,>=3.6.0.

What uv 0.13.9 answered (``uv pip compile --python-version 3.12``; see bench/VALIDATION.md):
``Django==4.2.7`` with ``asgiref==3.7`` / ``asgiref==3.7.0.0`` / ``asgiref===3.7.0``
installs the yanked 3.7.0 (each pins it); with ``asgiref==3.7.*``, ``asgiref==3.7.0,>=3.6``
or ``asgiref>=3.7,<3.7.1`` it does not (no lone ``==``/``===`` clause pins 3.7.0).
"""

from __future__ import annotations

import pytest

from asgifix import knowledge
from asgifix.resolver import Constraint, Problem

from .conftest import told


def _solve(asgiref: str):
    return Problem([Constraint("django", "==4.2.7"), Constraint("asgiref", asgiref)], python_version="3.12").solve()


def test_the_facts():
    assert knowledge.asgiref_release_info("3.7.0")["yanked"] is True
    assert not knowledge.asgiref_release_info("3.7.1")["yanked"]
    assert knowledge.requirements_of("django", "4.2.7")["asgiref"] == "<4,>=3.6.0"


@pytest.mark.parametrize("pin", ["==3.7", "==3.7.0", "==3.7.0.0", "===3.7.0"])
def test_a_pin_of_a_yanked_release_installs_it(pin):
    assert _solve(pin) == {"django": "4.2.7", "asgiref": "3.7.0"}


@pytest.mark.parametrize("spec", ["==3.7.0.*", ">=3.7,<3.7.1", "==3.7.0,>=3.6", "<=3.7.0,>=3.7.0"])
def test_other_specifiers_never_pick_a_yanked_release(spec):
    assert _solve(spec) is None


def test_a_short_pin_still_prefers_nothing_but_the_pinned_release():
    problem = Problem([Constraint("asgiref", "==3.7")])
    assert problem.candidates("asgiref") == ["3.7.0"]
    assert Problem([Constraint("asgiref", "~=3.7.0")]).candidates("asgiref")[-1] == "3.7.1"


# -- releases outside the recorded range -------------------------------------------------------
# ecosystem.json records Django from 2.2a1 (package_notes.django.min_version) and up to 6.1.3.
# channels-1.1.8: asgiref~=1.1, Django>=1.8, daphne~=1.3; asgi_redis-1.4.3: asgiref~=1.1.2;
# channels-2.1.7: asgiref~=2.3, Django>=1.11; channels-2.4.0: Django>=2.2.
# uv 0.13.9 resolves Django==1.11.29 + channels==1.1.8 + asgi-redis==1.4.3 + asgiref==1.1.2
# and Django==2.1.15 + channels==2.1.7; before the fix asgifix called both a conflict (no
# recorded Django matched the pin) and AFX301 told a Channels 1 project to move Django.

def _problem(*pins: str) -> Problem:
    import re

    constraints = []
    for pin in pins:
        name = re.split(r"[<>=~!]", pin, maxsplit=1)[0]
        constraints.append(Constraint(name, pin[len(name):]))
    return Problem(constraints, python_version="3.12")


def test_recorded_range_facts():
    assert knowledge.recorded_from("django") == "2.2a1"
    assert knowledge.releases_of("django")[0] == "2.2a1" and not knowledge.has_release("django", "1.11.29")
    assert knowledge.recorded_from("channels") is None
    assert knowledge.requirements_of("channels", "1.1.8")["asgiref"] == "~=1.1"
    assert knowledge.requirements_of("channels", "2.4.0")["django"] == ">=2.2"


def test_a_pin_older_than_the_recorded_range_is_not_a_conflict():
    solution = _problem("Django==1.11.29", "channels==1.1.8", "asgi-redis==1.4.3", "asgiref==1.1.2").solve()
    assert solution["django"] == "1.11.29" and solution["asgiref"] == "1.1.2"
    assert _problem("Django==2.1.15", "channels==2.1.7").solve()["asgiref"].startswith("2.3")


def test_other_requirements_still_apply_to_an_unrecorded_pin():
    assert _problem("Django==2.0.13", "channels==2.4.0").solve() is None  # channels 2.4.0: Django>=2.2
    assert _problem("Django==1.11.29", "channels==1.1.8", "asgiref==3.2.10").solve() is None
    assert _problem("asgiref==4.0", "Django==4.2.7").solve() is None  # a future asgiref, Django caps <4


def test_unrecorded_ranges():
    assert _problem("Django<2", "channels==1.1.8", "asgiref==1.1.2").solve() is not None
    assert _problem("Django>=1.11,<2.0", "channels==2.1.7").solve() is not None
    assert _problem("Django<2", "channels==2.4.0").solve() is None
    assert _problem("Django~=1.11", "channels==1.1.8", "asgiref==3.2.10").solve() is None


def test_a_release_missing_inside_the_recorded_range_does_not_exist():
    # 4.2.31 is past the newest 4.2.x but inside the recorded range (up to 6.1.3): no such release.
    assert _problem("Django==4.2.31").solve() is None
    assert _problem("Django>4.2.30,<4.3").solve() is None


def test_afx301_leaves_a_channels1_project_alone(tree):
    from asgifix.catalogue import load_catalogue, select_rules
    from asgifix.config import Settings
    from asgifix.engine import Engine

    root = tree({"requirements.txt": "Django==1.11.29\nchannels==1.1.8\nasgi_redis==1.4.3\nasgiref==1.1.2\n"})
    engine = Engine(Settings(), select_rules(load_catalogue(), ["AFX301"], []))
    assert engine.run([str(root)])[0].findings == []
    root = tree({"requirements.txt": "Django==1.11.29\nchannels==1.1.8\nasgiref==3.2.10\n"})
    (finding,) = engine.run([str(root)])[0].findings
    assert finding.line == 3 and "channels 1.1.8 requires asgiref~=1.1" in told(finding)


def test_afx301_names_the_mover_when_an_unrecorded_range_conflicts(tree):
    from asgifix.catalogue import load_catalogue, select_rules
    from asgifix.config import Settings
    from asgifix.engine import Engine

    root = tree({"requirements.txt": "Django<2\nchannels==2.4.0\n"})
    engine = Engine(Settings(), select_rules(load_catalogue(), ["AFX301"], []))
    findings = engine.run([str(root)])[0].findings
    assert findings and all(f.code == "AFX301" for f in findings)
    assert any(f.line == 1 and "django==" in f.hint for f in findings)
