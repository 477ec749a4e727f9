"""Choosing a release that fits a project's other pins, offline.

What each release requires comes from :mod:`asgifix.knowledge` (generated
from the index) when that data is installed, else from the rule's own
``params.releases`` table (each row verified from the released METADATA and
cited in the rule file). Only the requirements that decide Channels/asgiref
compatibility are compared: asgiref, django, channels, daphne.

Two specifier sets "can agree" when some version satisfies both. Checking
that exactly needs the list of real releases; without it, the versions named
in either set and their next patch/minor/major are enough: two ranges that
overlap always contain one of their lower bounds or the version just after.
"""

from __future__ import annotations

import re
from .records import dataclass
from functools import lru_cache
from typing import Iterable, Optional

from .sources.declared import canonical_name

RELEVANT = ("asgiref", "django", "channels", "daphne")


@dataclass(frozen=True)
class Release:
    package: str
    version: str
    requires: dict  # canonical name -> specifier ("" any version); names absent are not required


def _knowledge():
    try:
        from . import knowledge  # merged from the knowledge branch; optional until then
    except ImportError:
        return None
    return knowledge


FALLBACK_FILE = "release_requirements.toml"
_FALLBACK: Optional[list] = None


def fallback_table() -> list[dict]:
    """``rules/data/release_requirements.toml``: verified rows used when the knowledge data is absent."""
    global _FALLBACK
    if _FALLBACK is None:
        from ._paths import data_dir
        from .datafiles import load_toml

        try:
            _FALLBACK = list(load_toml(data_dir() / FALLBACK_FILE).get("release", []))
        except (OSError, ValueError, UnicodeDecodeError):
            _FALLBACK = []
    return _FALLBACK


_RELEASES: dict = {}


def releases(package: str, table: Optional[Iterable[dict]] = None) -> list[Release]:
    """Known final releases of ``package``, newest first, with what each requires."""
    package = canonical_name(package)
    if table is not None:
        return _releases(package, table)
    key = (package, _knowledge() is not None)
    if key not in _RELEASES:  # data files do not change during a run
        _RELEASES[key] = _releases(package, None)
    return _RELEASES[key]


def _releases(package: str, table: Optional[Iterable[dict]]) -> list[Release]:
    from packaging.version import InvalidVersion, Version

    found: list[Release] = []
    knowledge = _knowledge()
    if knowledge is not None:
        try:
            for version in knowledge.releases_of(package):
                if knowledge.is_yanked(package, version):
                    continue
                requires = {k: v for k, v in knowledge.requirements_of(package, version).items() if v is not None}
                found.append(Release(package, version, requires))
        except (OSError, KeyError, ValueError, TypeError):
            found = []
    if not found:
        for row in (fallback_table() if table is None else table):
            if canonical_name(row.get("package", "")) == package:
                requires = {canonical_name(k): v for k, v in dict(row.get("requires", {})).items()}
                found.append(Release(package, str(row["version"]), requires))

    def key(release: Release):
        try:
            return Version(release.version)
        except InvalidVersion:
            return Version("0")

    finals = [r for r in found if not key(r).is_prerelease]
    return sorted(finals, key=key, reverse=True)


def _probes(*specifiers: str) -> list[str]:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    probes: set[str] = {"0"}
    for text in specifiers:
        try:
            spec_set = SpecifierSet(text)
        except InvalidSpecifier:
            continue
        for spec in spec_set:
            version = spec.version.replace(".*", "")
            parts = [int(p) for p in version.split("+")[0].split(".") if p.isdigit()] or [0]
            parts += [0] * (3 - len(parts))
            probes.add(version)
            probes.add(f"{parts[0]}.{parts[1]}.{parts[2] + 1}")
            probes.add(f"{parts[0]}.{parts[1] + 1}.0")
            probes.add(f"{parts[0] + 1}.0.0")
    return sorted(probes)


_SIMPLE_CLAUSE = re.compile(r"^\s*(==|!=|<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)*)\s*$")


def _release(text: str) -> tuple[int, ...]:
    parts = [int(part) for part in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()  # PEP 440: 1.0 == 1.0.0
    return tuple(parts)


def _simple_can_agree(specifiers: tuple[str, ...]) -> Optional[bool]:
    """:func:`can_agree` for plain release pins (``==4.2``, ``>=3.2,<4``), without importing packaging
    (about 12 ms, most of a one-file check's budget); None when a specifier is anything else.

    For release versions and these operators PEP 440 is plain tuple comparison after
    dropping trailing zeros; the probes are :func:`_probes`'s, all releases too.
    """
    clauses: list[tuple[str, tuple[int, ...]]] = []
    probes: set[str] = {"0"}
    for text in specifiers:
        for clause in (text or "").split(","):
            if not clause.strip() and not (text or "").strip():
                continue
            match = _SIMPLE_CLAUSE.match(clause)
            if match is None:
                return None
            operator, version = match.groups()
            clauses.append((operator, _release(version)))
            parts = [int(p) for p in version.split(".")]
            parts += [0] * (3 - len(parts))
            probes.update((version, f"{parts[0]}.{parts[1]}.{parts[2] + 1}", f"{parts[0]}.{parts[1] + 1}.0",
                           f"{parts[0] + 1}.0.0"))
    tests = {"==": lambda v, w: v == w, "!=": lambda v, w: v != w, "<=": lambda v, w: v <= w,
             ">=": lambda v, w: v >= w, "<": lambda v, w: v < w, ">": lambda v, w: v > w}
    for probe in probes:
        version = _release(probe)
        if all(tests[operator](version, wanted) for operator, wanted in clauses):
            return True
    return False


def can_agree(*specifiers: str) -> bool:
    """Whether one version satisfies every specifier set (empty sets allow anything)."""
    # A pure function of a few strings, asked the same questions for every
    # declaration of a project (a monorepo declares the same pins many times).
    return _can_agree(specifiers)


@lru_cache(maxsize=4096)
def _can_agree(specifiers: tuple[str, ...]) -> bool:
    simple = _simple_can_agree(specifiers)
    if simple is not None:
        return simple
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    sets = []
    for text in specifiers:
        try:
            sets.append(SpecifierSet(text or ""))
        except InvalidSpecifier:
            return True  # a broken specifier is another rule's finding, not a conflict
    return any(all(s.contains(probe, prereleases=True) for s in sets) for probe in _probes(*specifiers))


def fits(release: Release, constraints: dict[str, list[str]]) -> bool:
    """Whether ``release``'s requirements can agree with every constraint the project puts on those packages."""
    for name, required in release.requires.items():
        for constraint in constraints.get(name, []):
            if not can_agree(required, constraint):
                return False
    # A pin of the package itself that excludes this release.
    for constraint in constraints.get(release.package, []):
        if not can_agree(f"=={release.version}", constraint):
            return False
    return True


def implied(constraints: dict[str, list[str]], table: Optional[Iterable[dict]] = None) -> dict[str, list[str]]:
    """``constraints`` plus what each exactly pinned, known release requires (``Django==4.2.7`` -> asgiref>=3.6)."""
    from packaging.version import InvalidVersion, Version

    result = {name: list(specs) for name, specs in constraints.items()}
    for name, specs in constraints.items():
        for spec in specs:
            if not spec.startswith("==") or "," in spec or "*" in spec:
                continue
            try:
                pinned = Version(spec[2:].strip())
            except InvalidVersion:
                continue
            for release in releases(name, table):
                if Version(release.version) == pinned:
                    for required, required_spec in release.requires.items():
                        if required_spec:
                            result.setdefault(required, []).append(required_spec)
                    break
    return result


def choose(package: str, constraints: dict[str, list[str]], table: Optional[Iterable[dict]] = None,
           soft: tuple[str, ...] = ("asgiref",), python: Optional[str] = None) -> tuple[Optional[Release], list[str]]:
    """The newest release of ``package`` that fits ``constraints`` (and what pinned releases require).

    Constraints that already contradict each other (``asgiref==3.2.10`` next to
    ``Django==4.2.7``, which needs asgiref 3.6+) cannot guide the choice: they are
    dropped, as are, when nothing fits, constraints on the ``soft`` packages
    (asgiref pins, which AFX3xx reports). The second value names what was dropped.

    With the release data installed the answer is the resolver's (:mod:`asgifix.resolver`,
    the one compatibility engine), on ``python`` when given (the install set's oldest
    Python); the pairwise check below serves only the fallback table.
    """
    if table is None:
        chosen = _resolved_choice(package, constraints, soft, python)
        if chosen is not None:
            return chosen
    candidates = releases(package, table)
    relaxed = implied(constraints, table)
    dropped = [name for name, specs in relaxed.items() if len(specs) > 1 and not can_agree(*specs)]
    for name in dropped:
        relaxed.pop(name)
    for release in candidates:
        if fits(release, relaxed):
            return release, dropped
    for name in soft:
        if name in relaxed:
            relaxed.pop(name)
            dropped.append(name)
            for release in candidates:
                if fits(release, relaxed):
                    return release, dropped
    return None, dropped


def project_constraints(project, target_asgiref: Optional[str] = None, skip: set = frozenset()) -> dict[str, list[str]]:
    """What the project's own declarations (not lock files) demand of each package, by canonical name.

    ``skip`` holds ``id()``s of declarations left out (ones a fix is about to
    replace). ``--target-asgiref`` counts as an exact asgiref pin.
    """
    constraints: dict[str, list[str]] = {}
    for declaration in project.declarations:
        if declaration.locked or id(declaration) in skip or not declaration.name:
            continue
        specifier = declaration.specifier or intended_specifier(declaration)
        if specifier:
            constraints.setdefault(declaration.name, []).append(specifier)
    if target_asgiref:
        constraints["asgiref"] = [f"=={target_asgiref}"]
    return constraints


def intended_specifier(declaration) -> str:
    """The version a malformed declaration evidently means (``asgiref 3.7.2`` -> ``==3.7.2``), or "".

    AFX101 rewrites such lines in the same run; choosing versions as if it already
    had keeps a fix from picking a release the repaired pin then excludes.
    """
    text = (declaration.text or "").strip()
    if not text:
        return ""
    # A pure function of the text and its syntax: a monorepo repeats the same line in every service.
    return _intended_specifier(text, declaration.source_kind == "pipfile",
                               (declaration.group or "").startswith("tool.poetry"))


@lru_cache(maxsize=4096)
def _intended_specifier(text: str, pipfile: bool, poetry: bool) -> str:
    from .matchers.malformed_requirement import propose_repair
    from .sources.constraints import pipfile_to_pep440, poetry_to_pep440, repair_pipfile, repair_poetry

    if pipfile:
        repaired = repair_pipfile(text)
        return (pipfile_to_pep440(repaired)[0] or "") if repaired else ""
    if poetry:
        repaired = repair_poetry(text)
        return (poetry_to_pep440(repaired)[0] or "") if repaired else ""
    repaired, _ = propose_repair(text)
    if not repaired:
        return ""
    from .sources.pep508 import InvalidRequirement, parse_requirement

    try:
        return str(parse_requirement(repaired).specifier)
    except InvalidRequirement:
        return ""


def _resolved_choice(package: str, constraints: dict[str, list[str]], soft: tuple[str, ...],
                     python: Optional[str]) -> Optional[tuple[Optional[Release], list[str]]]:
    """:func:`choose` by the resolver; None when it cannot answer (no data for ``package``)."""
    knowledge = _knowledge()
    if knowledge is None:
        return None
    from .resolver import Constraint, Problem, Undecided, modelled

    package = canonical_name(package)
    if not modelled(package):
        return None

    def solve(names_dropped: list[str], on_python: Optional[str]) -> Optional[str]:
        kept = [Constraint(name, spec) for name, specs in constraints.items() if name not in names_dropped
                for spec in specs]
        problem = Problem([*kept, Constraint(package, "")], python_version=on_python)
        try:
            solution = problem.solve()
        except Undecided:
            return None
        return solution.get(package) if solution else None

    pythons = [python, None] if python else [None]
    dropped: list[str] = []
    attempts = [[]] + [[name] for name in soft if name in constraints and name != package]
    for attempt in attempts:
        for on_python in pythons:
            version = solve(attempt, on_python)
            if version:
                dropped = list(attempt)
                requires = {k: v for k, v in knowledge.requirements_of(package, version).items() if v is not None} \
                    if knowledge.has_release(package, version) else {}
                return Release(package, str(version), requires), dropped
    return None, [name for name in soft if name in constraints]
