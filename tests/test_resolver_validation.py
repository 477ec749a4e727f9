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
