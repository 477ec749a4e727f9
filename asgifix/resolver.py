"""A small, exact resolver over the ASGI stack, driven by the released metadata.

It answers the questions AFX301 needs: can the project's declared constraints
be installed together, which asgiref releases fit them, and which package has
to move when none does. Only packages recorded in ``rules/data/ecosystem.json``
(Django, channels, daphne, channels-redis, asgi-redis, ...) and asgiref take
part, with their requirements on each other; everything else a project
declares is outside what can conflict over asgiref.

It behaves like pip's resolver on what it models: pre-releases only when a
specifier names one, yanked releases only when pinned (a lone ``==`` or ``===``), extras
bring in their requirements, and (when a Python version is given)
Requires-Python filters releases. Environment markers on the project's own
declarations are ignored: every declaration counts. A declaration that names
only releases outside the recorded range (``Django==1.11.29``: Django is
recorded from 2.2a1; or a release newer than the data) is met by an
:class:`Unrecorded` release with no known requirements: what the data cannot
see never makes a conflict.

The search is constraint propagation (arc consistency) followed by
backtracking, newest releases first; the domains are a few hundred releases
at most, so it is exact and fast. A node budget guards against pathological
inputs: beyond it the answer is "unknown" and no finding is made.
"""

from __future__ import annotations

from .records import dataclass
from functools import lru_cache
from typing import Iterable, Optional

from . import knowledge

NODE_BUDGET = 200_000
ABSENT = None  # value of a package that is not installed


class Undecided(Exception):
    """The search budget ran out."""


class Unrecorded(str):
    """A release the declarations name that the data cannot hold.

    It lies outside the recorded range: older than a package recorded only from some
    version (Django from 2.2a1, so ``Django==1.11.29``), or newer than the newest
    recorded release (published after the data was generated). Its requirements are
    unknown and taken as none, so it never makes a conflict of its own. ``pinned``:
    the value is that release's version (``==``/``===``), which the other packages'
    requirements are checked against; otherwise the value is the declared range, and
    a requirement on the package is met when some version outside the recorded range
    fits both (tried on the bounds of each, see :func:`unrecorded`).
    """

    package: str
    pinned: bool

    def __new__(cls, text: str, package: str, pinned: bool) -> "Unrecorded":
        value = super().__new__(cls, text)
        value.package = package
        value.pinned = pinned
        return value

    def admits(self, specifier: str) -> bool:
        if self.pinned:
            return _specifier(specifier).contains(str(self), prereleases=True)
        return _outside_fits(self.package, (*str(self).split(";"), specifier)) is not None


@dataclass(frozen=True)
class Constraint:
    package: str  # canonical name
    specifier: str  # "" for unconstrained
    extras: tuple[str, ...] = ()


@lru_cache(maxsize=None)
def _specifier(text: str):
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(text)


@lru_cache(maxsize=None)
def _version(text: str):
    from packaging.version import Version

    return Version(text)


def modelled(package: str) -> bool:
    package = knowledge.normalize_name(package)
    return package == "asgiref" or bool(knowledge.releases_of(package))


def releases(package: str) -> list[str]:
    if package == "asgiref":
        return knowledge.asgiref_releases()
    return knowledge.releases_of(package)


@lru_cache(maxsize=None)
def _record(package: str, version: str) -> dict:
    if isinstance(version, Unrecorded):
        return {"requires": {}, "requires_python": None, "yanked": False}
    if package == "asgiref":
        info = knowledge.asgiref_release_info(version) or {}
        return {"requires": {}, "requires_python": info.get("requires_python"), "yanked": info.get("yanked", False)}
    return knowledge.release_record(package, version)


def requirements(package: str, version: str, extras: tuple[str, ...] = ()) -> dict[str, str]:
    """``{name: specifier}`` that a release requires among the modelled packages ("" = any version).

    The dict is shared between callers (a solve asks for it thousands of times): do not change it.
    """
    if isinstance(version, Unrecorded):  # never cached: it compares equal to a plain version string
        return _requirements(package, version, extras)
    return _cached_requirements(package, version, extras)


@lru_cache(maxsize=None)
def _cached_requirements(package: str, version: str, extras: tuple[str, ...]) -> dict[str, str]:
    return _requirements(package, version, extras)


def _requirements(package: str, version: str, extras: tuple[str, ...]) -> dict[str, str]:
    record = _record(package, version)
    required = {name: spec for name, spec in record.get("requires", {}).items() if spec is not None}
    for extra in extras:
        for name, spec in record.get("extras", {}).get(extra, {}).items():
            if spec is not None:
                required[name] = _combine(required.get(name), spec)
    return {knowledge.normalize_name(name): spec for name, spec in required.items()}


def _combine(first: Optional[str], second: str) -> str:
    return ",".join(part for part in (first, second) if part)


@lru_cache(maxsize=None)
def _pin(text: str):
    """The specifier of ``text`` that pins one release exactly, or None.

    As PEP 592 says and pip and uv do, a yanked release is taken only when a
    requirement pins it: a lone ``==`` without a wildcard or ``===`` clause.
    ``==3.7`` and ``==3.7.0.0`` pin 3.7.0 (PEP 440 pads with zeros); ``==3.7.*``
    and ``==3.7.0,>=3.6`` do not pin.
    """
    clauses = list(_specifier(text))
    if len(clauses) != 1:
        return None
    clause = clauses[0]
    if clause.operator == "===" or (clause.operator == "==" and not clause.version.endswith(".*")):
        return clause
    return None


def _allows(specifier: str, version: str) -> bool:
    if not specifier:
        return True
    if isinstance(version, Unrecorded):
        return version.admits(specifier)
    return _contains(specifier, version)


@lru_cache(maxsize=None)
def _contains(specifier: str, version: str) -> bool:
    """``SpecifierSet(specifier).contains(version, prereleases=True)``, remembered (a search asks again and again)."""
    return _specifier(specifier).contains(version, prereleases=True)


def unrecorded(package: str, specifiers: list[str]) -> Optional[Unrecorded]:
    """The release outside the recorded range that ``specifiers`` name, when no recorded one fits.

    A lone ``==``/``===`` pin gives that version; a range is tried on its own bounds
    (and just past them), ``0`` and a far-future version, which finds ``<2``,
    ``>=1.11,<2.0``, ``~=1.11``, ``==1.11.*`` or ``>=7`` (not every range one could write).
    """
    texts = tuple(s for s in specifiers if s)
    if not releases(package) or not texts:
        return None
    specs = [_specifier(s) for s in texts]
    if any(all(spec.contains(v, prereleases=True) for spec in specs) for v in releases(package)):
        return None  # a recorded release fits: it is filtered out (yanked, Requires-Python), not unknown
    for text in texts:
        pin = _pin(text)
        if pin is not None:
            found = _outside_fits(package, texts, (pin.version,))
            return Unrecorded(pin.version, package, True) if found else None
    if _outside_fits(package, texts) is None:
        return None
    return Unrecorded(";".join(texts), package, False)


@lru_cache(maxsize=None)
def _outside_fits(package: str, texts: tuple[str, ...], probes: tuple[str, ...] = ()) -> Optional[str]:
    """A version outside ``package``'s recorded range that every specifier in ``texts`` allows, or None."""
    from packaging.version import InvalidVersion, Version

    since = knowledge.recorded_from(package)
    oldest = Version(since) if since else None
    newest = max(_version(v) for v in releases(package))
    specs = [_specifier(t) for t in texts if t]
    if not probes:
        candidates = ["0", "999999"]
        for spec in specs:
            for clause in spec:
                bound = clause.version[:-2] if clause.version.endswith(".*") else clause.version
                candidates += [bound, bound + ".1"]
        probes = tuple(candidates)
    for probe in probes:
        try:
            version = Version(probe)
        except InvalidVersion:
            continue
        if (oldest is not None and version < oldest) or version > newest:
            if all(spec.contains(probe, prereleases=True) for spec in specs):
                return probe
    return None


# Answers of :meth:`Problem.solve` by problem signature and question (a run asks few distinct ones).
_SOLVED: dict = {}
# (package, specifiers, python) -> candidates (Problem.candidates)
_CANDIDATES: dict = {}
_UNDECIDED = object()


class Problem:
    """Declared constraints over the modelled packages (several per package are intersected)."""

    def __init__(self, constraints: Iterable[Constraint], python_version: Optional[str] = None):
        # Each distinct constraint once: a monorepo repeats the same pins in every
        # service, and an intersection does not change when a member repeats.
        declared: dict[str, dict[Constraint, None]] = {}
        for constraint in constraints:
            name = knowledge.normalize_name(constraint.package)
            if modelled(name):
                declared.setdefault(name, {})[constraint] = None
        self.declared: dict[str, list[Constraint]] = {name: list(unique) for name, unique in declared.items()}
        self.python_version = python_version
        # What the answers depend on: each install set of a monorepo that repeats the same
        # pins builds its own problem, and is answered once (see :meth:`solve`).
        self.signature = (tuple(sorted((name, tuple(sorted((c.specifier, c.extras) for c in unique)))
                                       for name, unique in self.declared.items())), python_version)
        self._extras_of = {name: tuple(sorted({e for c in unique for e in c.extras}))
                           for name, unique in self.declared.items()}

    # -- domains -------------------------------------------------------------------
    def candidates(self, package: str, specifiers: Optional[list[str]] = None) -> list[str]:
        """Releases pip would consider for ``package`` under ``specifiers``, newest first."""
        # A pure function of its arguments for one problem, asked again by every solve
        # (AFX301 solves once per asgiref release): remembered.
        # The answer depends on the specifiers and the Python only: remembered across problems
        # (each install set of a monorepo is a problem of its own, and they repeat their pins).
        if specifiers is None:
            specifiers = [c.specifier for c in self.declared.get(package, ())]
        key = (package, tuple(specifiers), self.python_version)
        found = _CANDIDATES.get(key)
        if found is None:
            if len(_CANDIDATES) > 8192:
                _CANDIDATES.clear()
            found = _CANDIDATES[key] = self._candidates(package, specifiers)
        return list(found)

    def _candidates(self, package: str, specifiers: Optional[list[str]]) -> list[str]:
        if specifiers is None:
            specifiers = [c.specifier for c in self.declared.get(package, ())]
        texts = list(dict.fromkeys(s for s in specifiers if s))
        wants_pre = any(_specifier(text).prereleases for text in texts)
        pins = [pin for pin in (_pin(s) for s in texts) if pin is not None]
        chosen = []
        for version in reversed(releases(package)):
            parsed = _version(version)
            exact = any(pin.contains(parsed, prereleases=True) for pin in pins)  # parsed once, not per pin
            if parsed.is_prerelease and not wants_pre and not exact:
                continue
            if not all(_contains(text, version) for text in texts):
                continue
            record = _record(package, version)
            if record.get("yanked") and not exact:
                continue
            if self.python_version and record.get("requires_python"):
                try:
                    if not _specifier(record["requires_python"]).contains(self.python_version, prereleases=True):
                        continue
                except Exception:  # a malformed Requires-Python is ignored, as pip does
                    pass
            chosen.append(version)
        if not chosen and texts:
            outside = unrecorded(package, specifiers)
            if outside is None and self.python_version and not pins:
                # Every recorded release the range allows needs a newer Python, but the range
                # also allows older releases the data does not hold (``Django>=1.9`` on Python
                # 3.4: Django 1.9 to 2.0): they are what pip would take.
                bounds = ["0"] + [v for t in texts for c in _specifier(t)
                                  for v in (c.version.replace(".*", ""), c.version.replace(".*", "") + ".1")]
                if _outside_fits(package, tuple(texts), tuple(bounds)) is not None:
                    outside = Unrecorded(";".join(texts), package, False)
            if outside is not None:
                chosen.append(outside)
        return chosen

    def extras(self, package: str) -> tuple[str, ...]:
        """The extras the declarations ask of ``package`` (``channels[daphne]``)."""
        return self._extras_of.get(package, ())


    # -- solving -------------------------------------------------------------------
    def solve(self, overrides: Optional[dict[str, Optional[list[str]]]] = None,
              fixed: Optional[dict[str, str]] = None,
              order: Optional[tuple[str, ...]] = None) -> Optional[dict[str, Optional[str]]]:
        """An installable assignment ``{package: version or None (absent)}``, or None when there is none.

        ``overrides`` replaces the declared specifiers of a package (an empty list: unconstrained).
        ``fixed`` sets a package to one release that :meth:`candidates` already
        offered (what ``overrides={package: ["==release"]}`` gives, without
        scanning every release again).
        ``order``: decide these packages first, in this order, each newest first (pip's
        preference: exact pins, then the requirements in the order they are written), so the
        answer is the one pip reaches; without it the search takes the most constrained package
        first, which finds *an* installable combination soonest.
        Raises :class:`Undecided` when the search budget runs out.
        """
        key = (self.signature,
               tuple(sorted((k, None if v is None else tuple(v)) for k, v in (overrides or {}).items())),
               tuple(sorted((fixed or {}).items())), order)
        if key in _SOLVED:
            answer = _SOLVED[key]
            if answer is _UNDECIDED:
                raise Undecided()
            return dict(answer) if answer is not None else None
        try:
            self._order = order
            answer = self._solve(overrides, fixed)
        except Undecided:
            _SOLVED[key] = _UNDECIDED
            raise
        _SOLVED[key] = answer
        return dict(answer) if answer is not None else None

    def _solve(self, overrides: Optional[dict[str, Optional[list[str]]]],
               fixed: Optional[dict[str, str]]) -> Optional[dict[str, Optional[str]]]:
        """:meth:`solve` without remembering: the search itself."""
        overrides = overrides or {}
        fixed = fixed or {}
        declared = set(self.declared) | set(overrides) | set(fixed)
        domains: dict[str, list[Optional[str]]] = {}
        for package in declared:
            if package in fixed:
                domains[package] = [fixed[package]]
            else:
                domains[package] = list(self.candidates(package, overrides.get(package)))
        # Packages the candidates may pull in (requirements among modelled packages).
        frontier = list(domains)
        while frontier:
            package = frontier.pop()
            for version in list(domains[package]):
                if version is None:
                    continue
                for name in requirements(package, version, self.extras(package)):
                    if name not in domains and modelled(name):
                        domains[name] = [*self.candidates(name, []), ABSENT]
                        frontier.append(name)
        if not self._propagate(domains):
            return None
        budget = [NODE_BUDGET]
        return self._search(domains, {}, budget)

    def _needs(self, package: str, version: Optional[str]) -> dict[str, str]:
        if version is None:
            return {}
        return requirements(package, version, self.extras(package))

    def _propagate(self, domains: dict[str, list[Optional[str]]]) -> bool:
        """Remove releases whose requirements no remaining candidate can meet (arc consistency)."""
        changed = True
        while changed:
            changed = False
            for package, values in domains.items():
                kept = []
                for version in values:
                    ok = True
                    for name, spec in self._needs(package, version).items():
                        options = domains.get(name)
                        if options is None:
                            continue  # not modelled
                        if not any(v is not None and _allows(spec, v) for v in options):
                            ok = False
                            break
                    if ok:
                        kept.append(version)
                if len(kept) != len(values):
                    domains[package] = kept
                    changed = True
                    if not kept:
                        return False
        return True

    def _consistent(self, package: str, version: Optional[str], assigned: dict[str, Optional[str]]) -> bool:
        for name, spec in self._needs(package, version).items():
            if name in assigned:
                other = assigned[name]
                if other is None or not _allows(spec, other):
                    return False
        for name, other in assigned.items():
            needs = self._needs(name, other)
            if package in needs:
                if version is None or not _allows(needs[package], version):
                    return False
        return True

    def _search(self, domains, assigned, budget) -> Optional[dict[str, Optional[str]]]:
        if len(assigned) == len(domains):
            return dict(assigned)
        order = getattr(self, "_order", None)
        package = next((p for p in order if p in domains and p not in assigned), None) if order else None
        if package is None:
            package = min((p for p in domains if p not in assigned), key=lambda p: (len(domains[p]), p))
        for version in domains[package]:
            budget[0] -= 1
            if budget[0] < 0:
                raise Undecided()
            if not self._consistent(package, version, assigned):
                continue
            assigned[package] = version
            narrowed = self._forward(domains, package, version, assigned)
            if narrowed is not None:
                result = self._search(narrowed, assigned, budget)
                if result is not None:
                    return result
            del assigned[package]
        return None

    def _forward(self, domains, package, version, assigned):
        """Domains with the new assignment's requirements applied; None if one empties."""
        needs = self._needs(package, version)
        narrowed = dict(domains)
        narrowed[package] = [version]
        for name, spec in needs.items():
            if name in narrowed and name not in assigned:
                narrowed[name] = [v for v in narrowed[name] if v is not None and _allows(spec, v)]
                if not narrowed[name]:
                    return None
        for name, values in list(narrowed.items()):
            if name in assigned or name == package:
                continue
            kept = []
            for value in values:
                needs_of_value = self._needs(name, value)
                if package not in needs_of_value:
                    kept.append(value)
                elif version is not None and _allows(needs_of_value[package], version):
                    kept.append(value)
            if len(kept) != len(values):
                if not kept:
                    return None
                narrowed[name] = kept
        return narrowed

    # -- questions AFX301 asks -----------------------------------------------------
    def asgiref_fits(self, without_asgiref_pins: bool = True) -> list[str]:
        """asgiref releases (newest first) that some installable assignment uses.

        With ``without_asgiref_pins``, the project's own asgiref declarations are
        left out: the answer is what everything else accepts.
        """
        fits = []
        base = [] if without_asgiref_pins else None
        for version in self.candidates("asgiref", base if base is not None else None):
            if self.solve(fixed={"asgiref": version}) is not None:  # as if pinned ==version
                fits.append(version)
        return fits

    def asgiref_range_of(self, package: str) -> list[str]:
        """asgiref releases that at least one candidate release of ``package`` accepts (oldest first)."""
        accepted: set[str] = set()
        every = knowledge.asgiref_releases()
        for version in self.candidates(package):
            spec = requirements(package, version, self.extras(package)).get("asgiref")
            if spec is None:
                return list(every)
            accepted.update(v for v in every if _allows(spec, v))
        return [v for v in every if v in accepted]
