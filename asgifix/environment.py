"""What one install set can really end up with: the resolver's answer, per package and Python.

This is the one place rules ask "which releases does this environment allow?". The
answer comes from :mod:`asgifix.resolver` over every constraint of the set, so a
package's own pins are never read in isolation: an unpinned asgiref beside
``django==1.8.12`` and ``channels>=0.13.1`` is 1.1.2, because Channels 2+ needs
Django 1.11 and Channels 1 needs asgiref~=1.1.

Answers depend only on what the set declares and on its Pythons, so they are
remembered by that signature: a monorepo that repeats the same pins in every
service asks the resolver once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .project import Declaration, ProjectModel

_CACHE: dict[tuple, Optional[list[str]]] = {}
_PICKS: dict[tuple, Optional[dict]] = {}


def problem_declarations(project: "ProjectModel") -> list["Declaration"]:
    """Declarations the resolver weighs for a set: not lock files, not extras that are not installed;
    constraint files (``-c``, uv constraint lists) only for packages something else brings in.
    (Remembered per set: read it, do not change it.)"""
    return project.derived("problem_declarations", _problem_declarations)


def _problem_key(project: "ProjectModel") -> tuple:
    return tuple(sorted((d.name, specifier_of(d), tuple(d.extras)) for d in problem_declarations(project)))


def _problem_declarations(project: "ProjectModel") -> list["Declaration"]:
    from .install_sets import OPTIONAL_GROUPS
    from .resolver import modelled

    chosen = [d for d in project.declarations
              if not d.locked and d.name and modelled(d.name)
              and not (d.group or "").startswith(OPTIONAL_GROUPS)]
    installed = {d.name for d in chosen if not d.constraint} | {"asgiref"}
    return [d for d in chosen if not d.constraint or d.name in installed]


def specifier_of(declaration: "Declaration") -> str:
    from .compat import intended_specifier

    return declaration.specifier or intended_specifier(declaration)


def _key(project: "ProjectModel", pythons: tuple[str, ...]) -> tuple:
    """What the resolver's answers for the set depend on: its problem declarations and Pythons."""
    return (project.derived("problem_key", _problem_key), pythons)


def build_problem(declarations: list["Declaration"], python_version: Optional[str] = None):
    from .resolver import Constraint, Problem

    return Problem((Constraint(d.name, specifier_of(d), tuple(d.extras)) for d in declarations),
                   python_version=python_version)


def pick(project: "ProjectModel", python: Optional[str]) -> Optional[dict]:
    """What pip installs for this set today on ``python`` (newest first), or None when nothing installs."""
    from .resolver import Undecided

    declarations = problem_declarations(project)
    order = pip_order(declarations)
    key = (_key(project, ()), python, order)
    if key not in _PICKS:
        try:
            _PICKS[key] = build_problem(declarations, python).solve(order=order) if declarations else None
        except Undecided:
            _PICKS[key] = None
    return _PICKS[key]


def pip_order(declarations: list["Declaration"]) -> tuple[str, ...]:
    """The order pip's resolver decides packages in: exact pins first, then as the files list them."""
    from .knowledge import normalize_name

    pinned = [d for d in declarations if specifier_of(d).startswith("==") and "," not in specifier_of(d)]
    ordered = [normalize_name(d.name) for d in pinned] + [normalize_name(d.name) for d in declarations]
    return tuple(dict.fromkeys(ordered))


def pick_pythons(project: "ProjectModel") -> tuple[Optional[str], ...]:
    """The Pythons whose installs decide "what pip picks": the oldest and the newest of the set."""
    pythons = project.pythons
    if not pythons:
        return (None,)
    return tuple(dict.fromkeys((pythons[0], pythons[-1])))


def allowed_versions(project: "ProjectModel", package: str) -> Optional[list[str]]:
    from . import knowledge
    from .resolver import Undecided, modelled, releases

    package = knowledge.normalize_name(package)
    if not modelled(package):
        return None
    declarations = problem_declarations(project)
    if not declarations:
        return None
    pythons = project.pythons
    key = (_key(project, pythons), package)
    if key in _CACHE:
        return _CACHE[key]
    order = {version: index for index, version in enumerate(releases(package))}
    ranged = [d for d in declarations if d.name == package and specifier_of(d)]
    found: set[str] = set()
    try:
        if ranged:
            problem = build_problem(declarations)
            for version in problem.candidates(package):
                if pythons and not _runs_on(package, version, pythons):
                    continue
                if problem.solve(fixed={package: version}) is not None:
                    found.add(version)
        else:
            for python in pick_pythons(project):
                solution = pick(project, python)
                if solution and solution.get(package):
                    found.add(solution[package])
    except Undecided:
        found = set()
    result = sorted(found, key=lambda v: order.get(v, -1)) if found else None
    _CACHE[key] = result
    return result


def _runs_on(package: str, version: str, pythons: tuple[str, ...]) -> bool:
    from .install_sets import pythons_allowed
    from .resolver import _record

    requires_python = _record(package, version).get("requires_python")
    if not requires_python:
        return True
    allowed = pythons_allowed(requires_python)
    return not allowed or any(python in allowed for python in pythons)


def clear_cache() -> None:
    _CACHE.clear()
    _PICKS.clear()
