"""The resolver remembers candidate lists; answers stay those of a fresh computation."""

from __future__ import annotations

from asgifix.resolver import Constraint, Problem


def test_remembered_candidates_equal_fresh_ones_and_cannot_be_spoiled():
    problem = Problem([Constraint("django", ">=3.2,<5"), Constraint("channels", "==4.0.0", ("daphne",))])
    for package, specifiers in (("django", None), ("asgiref", []), ("asgiref", [">=3.2"]), ("channels", None)):
        first = problem.candidates(package, specifiers)
        assert first == problem._candidates(package, specifiers)
        first.clear()  # a caller changing its list
        assert problem.candidates(package, specifiers) == problem._candidates(package, specifiers)
    fresh = Problem([Constraint("django", ">=3.2,<5"), Constraint("channels", "==4.0.0", ("daphne",))])
    assert problem.asgiref_fits() == fresh.asgiref_fits()
