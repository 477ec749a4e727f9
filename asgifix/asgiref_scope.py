"""Which asgiref releases a project can end up with, and why.

The API rules (AFX2xx) judge code against this set: a name is a problem when
it is missing from the releases the project's pins allow. ``--target-asgiref``
replaces the set with that one release ("what breaks if we upgrade").
"""

from __future__ import annotations

from .records import dataclass
from functools import lru_cache
from typing import Optional

from . import knowledge
from .project import Declaration, ProjectModel


@dataclass(frozen=True)
class AsgirefScope:
    versions: tuple[str, ...]  # allowed releases, oldest first
    reason: str  # human explanation: which pin, where
    pins: tuple[Declaration, ...] = ()
    target: bool = False
    # (declaration, effective specifier) of each pin; ``disagree`` when they exclude each other.
    pin_specs: tuple = ()
    disagree: bool = False

    def pins_without(self, present: set) -> list[str]:
        """``asgiref==3.2.10 (requirements.txt:5)`` for each pin allowing none of ``present``."""
        releases = knowledge.asgiref_releases()
        return [f"`{(d.text or '').strip() or d.name}` ({_location(d)})"
                for d, specifier in self.pin_specs
                if not any(r in present for r in _satisfying(specifier, releases))]

    @property
    def low(self) -> str:
        return self.versions[0]

    @property
    def high(self) -> str:
        return self.versions[-1]

    def describe(self) -> str:
        if not self.versions:
            return "no asgiref release"
        if len(self.versions) == 1:
            return f"asgiref {self.versions[0]}"
        return f"asgiref {self.low} to {self.high}"


def release_for_target(target: str, exact: bool = False) -> Optional[str]:
    """The recorded release equal to ``target`` (``3.8`` finds ``3.8.0``), else the newest older one.

    With ``exact``, only an equal release (None otherwise, and for a target that is no version).
    """
    from packaging.version import InvalidVersion, Version

    try:
        wanted = Version(target)
    except InvalidVersion:
        if exact:
            return None
        raise
    best = None
    for release in knowledge.asgiref_releases():
        if Version(release) == wanted:
            return release
        if Version(release) <= wanted:
            best = release
    return None if exact else best


def _location(declaration: Declaration) -> str:
    return f"{declaration.path}:{declaration.line}"


def _satisfying(specifier: str, releases: list[str]) -> list[str]:
    if _specifier_set(specifier) is None:
        return releases
    return [release for release in releases if _contains(specifier, release)]


@lru_cache(maxsize=1024)
def _specifier_set(specifier: str):
    """A parsed specifier, or None when it is invalid (a monorepo repeats the same pin in every service)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(specifier)
    except InvalidSpecifier:
        return None


@lru_cache(maxsize=65536)
def _contains(specifier: str, release: str) -> bool:
    # (keyed by the text: hashing a SpecifierSet re-canonicalises every clause)
    return _specifier_set(specifier).contains(release, prereleases=True)


SHOWN_PINS = 3  # pins named in a message; the rest are counted


def pinned_scope(project: ProjectModel) -> AsgirefScope:
    """The releases the project's own asgiref declarations allow (a lock file wins)."""
    releases = knowledge.asgiref_releases()
    installed = project.installed.version("asgiref") if project.installed is not None else None
    if installed:  # `asgifix doctor`: the code is judged against what is installed
        release = release_for_target(installed) or installed
        return AsgirefScope((release,), f"asgiref {installed} is installed")
    declarations = project.declared("asgiref")
    locked = [d for d in declarations if d.locked and d.specifier.startswith("==")]
    if locked:
        version = locked[0].specifier[2:]
        chosen = [r for r in releases if r == version] or [version]
        return AsgirefScope(tuple(chosen), f"{locked[0].path} locks asgiref {version}", tuple(locked))
    from .compat import intended_specifier

    # A malformed pin counts as what it evidently means (AFX101 repairs it).
    pins = [(d, d.specifier or intended_specifier(d)) for d in declarations if not d.locked]
    pins = [(d, spec) for d, spec in pins if spec]
    if not pins:
        # What pip installs today: the newest release the set's other pins accept, on its Pythons.
        resolved = project.allowed_versions("asgiref")
        if resolved:
            if resolved == [releases[-1]]:
                return AsgirefScope(tuple(resolved), f"asgiref is not pinned, so pip installs the newest "
                                                     f"release, {resolved[-1]}")
            return AsgirefScope(tuple(resolved), f"asgiref is not pinned, and the other pins give "
                                                 f"asgiref {release_runs(resolved, releases)}")
        newest = releases[-1]
        return AsgirefScope((newest,), f"asgiref is not pinned, so pip installs the newest release, {newest}")
    allowed = releases
    for specifier in dict.fromkeys(specifier for _, specifier in pins):
        allowed = _satisfying(specifier, allowed)
    if allowed:
        # Of those, the releases the rest of the set accepts too (Django 4.2 excludes asgiref < 3.6).
        resolved = project.allowed_versions("asgiref")
        narrowed = [r for r in allowed if r in set(resolved)] if resolved else []
        if narrowed:
            allowed = narrowed
    where = ", ".join(f"`{d.text.strip() or d.name}` ({_location(d)})" for d, _ in pins[:SHOWN_PINS])
    if len(pins) > SHOWN_PINS:  # a monorepo pins asgiref in every service: name a few
        where += f" and {len(pins) - SHOWN_PINS} more"
    if not allowed:
        # The pins contradict each other (AFX301's finding); judge the code against
        # every release one of them allows, so it is not silently skipped.
        union = set()
        for specifier in dict.fromkeys(specifier for _, specifier in pins):
            union.update(_satisfying(specifier, releases))
        allowed = [r for r in releases if r in union]
        return AsgirefScope(tuple(allowed), f"the project's asgiref pins disagree: {where}",
                            tuple(d for d, _ in pins), pin_specs=tuple(pins), disagree=True)
    return AsgirefScope(tuple(allowed), f"the project pins {where}", tuple(d for d, _ in pins),
                        pin_specs=tuple(pins))


def project_scope(project: ProjectModel, target: Optional[str]) -> AsgirefScope:
    if target:
        release = release_for_target(target) or target
        reason = f"--target-asgiref {target}"
        if release_for_target(target, exact=True) is None and release != target:
            reason += f" (unknown to the release data: judged as {release}, the newest older release it knows)"
        return AsgirefScope((release,), reason, target=True)
    return pinned_scope(project)


def span_text(versions: list[str]) -> str:
    """``3.3.2`` or ``3.3.2 to 3.13.0`` for a run of releases."""
    if not versions:
        return "no release"
    return versions[0] if len(versions) == 1 else f"{versions[0]} to {versions[-1]}"


def release_runs(versions, releases=None) -> str:
    """``3.3.2 to 3.13.0`` or ``0.13.0 to 1.1.2, 3.0.0``: ``versions`` as runs of consecutive releases."""
    releases = releases if releases is not None else knowledge.asgiref_releases()
    present = set(versions)
    runs, current = [], []
    for release in releases:
        if release in present:
            current.append(release)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return ", ".join(span_text(run) for run in runs)
