"""Poetry and Pipfile constraints, translated to PEP 440 the way poetry-core / pipenv read them.

The Poetry expectations were checked against poetry-core 2.5.0's ``parse_constraint``
(allowed/refused on a grid of versions); poetry-core is not a dependency.
"""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet

from asgifix.sources.constraints import (
    pep440_like,
    pipfile_to_pep440,
    poetry_like,
    poetry_to_pep440,
    repair_pipfile,
    repair_poetry,
)


@pytest.mark.parametrize("constraint, pep440", [
    ("^1.2.3", ">=1.2.3,<2.0.0"),
    ("^0.2.3", ">=0.2.3,<0.3.0"),
    ("^0.0.3", ">=0.0.3,<0.0.4"),
    ("^0.0", ">=0.0,<0.1"),
    ("^0", ">=0,<1"),
    ("^1.2", ">=1.2,<2.0"),
    ("~1.2.3", ">=1.2.3,<1.3.0"),
    ("~1.2", ">=1.2,<1.3"),
    ("~1", ">=1,<2"),
    ("~=1", ">=1,<2"),
    ("~=1.2", "~=1.2"),
    ("1.2.*", "==1.2.*"),
    ("!=1.2.*", "!=1.2.*"),
    ("1.2", "==1.2"),
    ("=1.2", "==1.2"),
    (">= 1.2, < 2.0", ">=1.2,<2.0"),
    (">=1.2 <2.0", ">=1.2,<2.0"),
    ("^3.2,", ">=3.2,<4.0"),  # poetry-core accepts a trailing comma
    ("*", ""),
    ("^3.2 || ^4.0", ""),  # a union has no PEP 440 form: no bound is assumed
])
def test_poetry_translation(constraint, pep440):
    translated, error = poetry_to_pep440(constraint)
    assert error is None
    assert translated == pep440
    SpecifierSet(translated)


@pytest.mark.parametrize("constraint, repaired", [
    ("=>3.2", ">=3.2"),
    ("=<3.2", "<=3.2"),
    ("3.x", "3.*"),  # poetry-core refuses x-wildcards
    (">=3.2,,<4", ">=3.2,<4"),
    ("latest", None),
    ("3.5 .2", None),
])
def test_poetry_errors_and_repairs(constraint, repaired):
    translated, error = poetry_to_pep440(constraint)
    assert translated is None and error
    assert repair_poetry(constraint) == repaired


@pytest.mark.parametrize("value, translated, repaired", [
    ("*", "", None),
    ("==3.7.2", "==3.7.2", None),
    (">=3.2,<4", "<4,>=3.2", None),
    ("=3.7.2", None, "==3.7.2"),
    ("3.7.2", None, "==3.7.2"),
    ("=>3.2", None, ">=3.2"),
    ("latest", None, None),
])
def test_pipfile_values(value, translated, repaired):
    assert pipfile_to_pep440(value)[0] == translated
    assert repair_pipfile(value) == repaired


def test_styles_are_kept_when_the_version_changes():
    assert [poetry_like(old, "4.2.1") for old in ("^1.4", "~1.4", "1.4.3", "*", ">=1.4,<2", "==1.4")] == [
        "^4.2.1", "~4.2.1", "4.2.1", "*", ">=4.2.1", "==4.2.1"]
    assert [pep440_like(old, "4.2.1") for old in ("==1.4.3", "~=1.4", ">=1.4", "", ">=1,<2")] == [
        "==4.2.1", "~=4.2.1", ">=4.2.1", "", ">=4.2.1"]


def test_wildcards_stay_wildcards_of_the_same_depth():
    assert [poetry_like(old, "4.3.2") for old in ("1.*", "1.1.*", "==1.*")] == ["4.*", "4.3.*", "==4.*"]
    assert [pep440_like(old, "4.3.2") for old in ("==1.*", "==1.1.*", "!=1.*")] == ["==4.*", "==4.3.*", ">=4.3.2"]
