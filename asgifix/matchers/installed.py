"""Installed environments (AFX6xx): what `asgifix doctor` finds in the metadata of what is installed.

Each matcher reads an :class:`~asgifix.sources.installed.InstalledEnvironment` (distributions in
path order: the first of a name is the one that imports) and reports at the metadata file that
shows the problem. :func:`install_line` is the one ``pip install`` line that satisfies every
installed dependent, chosen by the resolver (:mod:`asgifix.resolver`).
"""

from __future__ import annotations

import os
from typing import Iterable, Optional

from ..model import Finding, Span
from ..sources.installed import Distribution, InstalledEnvironment, RequirementLine
from . import EnvironmentMatcher


def span_at(text: str, start: int, end: int, line: int) -> Span:
    line_start = text.rfind("\n", 0, start) + 1
    column = start - line_start + 1
    return Span(start, end, line, column, line, column + max(0, end - start))


def header_span(dist: Distribution, key: str = "Name") -> Span:
    header = dist.header(key)
    if header is None:
        return Span(0, 0, 1, 1, 1, 1)
    return span_at(dist.text, header.start, header.end, header.line)


def whole_file_span() -> Span:
    return Span(0, 0, 1, 1, 1, 1)


def applies(requirement: RequirementLine, environment: InstalledEnvironment) -> bool:
    """Whether a requirement's marker holds on the inspected interpreter (no extra is requested)."""
    if not requirement.marker:
        return True
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

    try:
        return bool(Marker(requirement.marker).evaluate({**environment.markers, "extra": ""}))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName, ValueError, TypeError):
        return False


def satisfied(specifier: str, version: str) -> bool:
    if not specifier:
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(specifier).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True  # an unreadable requirement is no evidence of a conflict


def stack(name: str) -> bool:
    """The ASGI stack packages the release data models (asgiref, Django, channels, daphne, ...)."""
    from ..resolver import modelled

    return modelled(name)


def first_copies(environment: InstalledEnvironment) -> list[Distribution]:
    seen: set[str] = set()
    found = []
    for dist in environment.distributions:
        if dist.name not in seen:
            seen.add(dist.name)
            found.append(dist)
    return found


def unmet_requirements(environment: InstalledEnvironment) -> list[tuple[Distribution, RequirementLine, Optional[Distribution]]]:
    """(dependent, requirement, installed copy or None) for each stack requirement the environment does not meet."""
    unmet = []
    for dist in first_copies(environment):
        for requirement in dist.requires:
            if requirement.name == dist.name or not stack(requirement.name) or not applies(requirement, environment):
                continue
            installed = environment.first(requirement.name)
            if installed is None or not satisfied(requirement.specifier, installed.version):
                unmet.append((dist, requirement, installed))
    return unmet


class UnmetRequirement(EnvironmentMatcher):
    """AFX601: an installed distribution requires a version of the stack that is not installed."""

    def check_environment(self, environment: InstalledEnvironment) -> Iterable[Finding]:
        for dist, requirement, installed in unmet_requirements(environment):
            wanted = f"{requirement.name}{requirement.specifier}"
            if installed is None:
                message = f"{dist.display_name} {dist.version} requires {wanted}, which is not installed"
            else:
                message = (f"{dist.display_name} {dist.version} requires {wanted}, "
                           f"but {installed.display_name} {installed.version} is installed")
            yield Finding(self.rule.code, self.rule.severity, message, dist.metadata_path,
                          span_at(dist.text, requirement.start, requirement.end, requirement.line)
                          if dist.kind == "dist-info" else whole_file_span())


def channels1_era(environment: InstalledEnvironment, table: list[dict]) -> list[tuple[Distribution, dict]]:
    """Channels 1 era distributions (``table``: AFX602's params) installed next to asgiref 2 or newer."""
    from packaging.version import InvalidVersion, Version

    asgiref = environment.first("asgiref")
    if asgiref is None:
        return []
    try:
        if Version(asgiref.version) < Version("2"):
            return []
    except InvalidVersion:
        return []
    found = []
    for row in table:
        dist = environment.first(row["name"])
        if dist is None:
            continue
        if row.get("below") and not satisfied(f"<{row['below']}", dist.version):
            continue
        found.append((dist, row))
    return found


class Channels1Packages(EnvironmentMatcher):
    """AFX602: a Channels 1 era package installed next to asgiref 2+."""

    def check_environment(self, environment: InstalledEnvironment) -> Iterable[Finding]:
        asgiref = environment.first("asgiref")
        for dist, row in channels1_era(environment, list(self.params.get("packages", []))):
            message = (f"{dist.display_name} {dist.version} belongs to Channels 1, which needs asgiref 1.x; "
                       f"asgiref {asgiref.version} is installed")
            yield Finding(self.rule.code, self.rule.severity, message, dist.metadata_path, header_span(dist),
                          hint=row.get("advice"))


class ModuleShippedTwice(EnvironmentMatcher):
    """AFX603: two distributions install the same top-level module (one overwrote the other's files)."""

    def check_environment(self, environment: InstalledEnvironment) -> Iterable[Finding]:
        by_entry: dict[str, list[Distribution]] = {}
        for dist in environment.distributions:
            by_entry.setdefault(dist.entry, []).append(dist)
        for dists in by_entry.values():
            owners: dict[str, list[Distribution]] = {}
            for dist in dists:
                for module in dist.shipped:
                    if dist not in owners.setdefault(module, []):
                        owners[module].append(dist)
            for module, shipping in sorted(owners.items()):
                names = {d.name for d in shipping}
                if len(names) < 2:
                    continue
                rightful = next((d for d in shipping if d.name.replace("-", "_") == module), None)
                for dist in shipping:
                    if dist is rightful or (rightful is None and dist is shipping[0]):
                        continue
                    other = rightful or shipping[0]
                    message = (f"{dist.display_name} {dist.version} and {other.display_name} {other.version} both "
                               f"install the module `{module}`: one overwrote the other's files")
                    if rightful is not None:
                        hint = (f"`pip uninstall {dist.display_name}`, then `pip install --force-reinstall "
                                f"{rightful.display_name}=={rightful.version}` to restore {rightful.display_name}'s files")
                    else:
                        hint = "keep one of them: uninstall the other and reinstall the one you keep"
                    yield Finding(self.rule.code, self.rule.severity, message, dist.metadata_path,
                                  header_span(dist), hint=hint)


class ShadowedCopies(EnvironmentMatcher):
    """AFX604: several copies of a stack module on the path, or a directory without metadata that shadows one."""

    def check_environment(self, environment: InstalledEnvironment) -> Iterable[Finding]:
        order = {entry: index for index, entry in enumerate(environment.entries)}
        for loose in environment.loose:
            if not loose.regular:
                continue  # a namespace directory is imported only when no regular copy exists
            installed = [d for d in environment.distributions if loose.name in d.shipped
                         or (not d.shipped and d.name.replace("-", "_") == loose.name)]
            hidden = [d for d in installed if order.get(d.entry, 0) > order.get(loose.entry, 0)]
            if installed and not hidden:
                continue  # the installed copy comes first: the stray one is never imported
            earlier = [other for other in environment.loose if other.name == loose.name and other.regular
                       and order.get(other.entry, 0) < order.get(loose.entry, 0)]
            if earlier:
                continue  # only the first stray copy imports
            shown = _display(loose.path)
            if hidden:
                dist = hidden[0]
                message = (f"`import {loose.name}` loads a copy no distribution owns, not the installed "
                           f"{dist.display_name} {dist.version}")
            else:
                message = (f"`import {loose.name}` loads a copy no distribution owns: pip cannot see its version")
            yield Finding(self.rule.code, self.rule.severity if hidden else "warning", message, loose.path,
                          whole_file_span(), hint=f"remove or rename {shown} (or install {loose.name} properly)",
                          notes=(f"the copy that imports: {shown}",))
        for name in sorted({d.name for d in environment.distributions}):
            copies = environment.all_of(name)
            if len(copies) < 2 or name not in ("asgiref", "channels", "daphne", "channels-redis", "django"):
                continue
            first = copies[0]
            for copy in copies[1:]:
                where = "the same folder" if copy.entry == first.entry else _display(first.entry)
                message = (f"a second {copy.display_name} ({copy.version}) is installed; {first.version}, earlier "
                           f"on the path, is the one that imports")
                yield Finding(self.rule.code, "warning", message, copy.metadata_path, header_span(copy),
                              notes=(f"{copy.version} in {_display(copy.entry)}; {first.version} in {where}",),
                              hint=f"remove {_display(os.path.dirname(copy.metadata_path))} "
                                   f"(`pip uninstall {copy.display_name}` until none is left, then reinstall one)")


def _display(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return relative if not relative.startswith("..") else path


# -- the one pip line -----------------------------------------------------------------------
def install_line(environment: InstalledEnvironment, excluded: Iterable[str] = ()) -> Optional[dict]:
    """``{package: version}`` to install so every installed dependent's stack requirements are met, or None.

    The resolver (:mod:`asgifix.resolver`) decides, on the environment's Python. It keeps what is
    installed where it can: first every installed stack package stays at its version except the
    ones something requires a different version of; then one more package may move; then any.
    ``excluded``: distributions left out (Channels 1 packages, which AFX602 says to replace).
    An empty dict: nothing to install; None: no combination satisfies them all.
    """
    from ..knowledge import normalize_name
    from ..resolver import Constraint, Problem, Undecided, Unrecorded

    excluded = {normalize_name(name) for name in excluded}
    installed = {name: version for name, version in environment.versions().items() if name not in excluded}
    # (dependent, its stack requirements that hold here), for every installed distribution kept
    needs: list[tuple[str, list]] = []
    unmet: list[str] = []
    for dist in first_copies(environment):
        if dist.name in excluded:
            continue
        kept = [r for r in dist.requires if r.name not in excluded and r.name != dist.name and stack(r.name)
                and applies(r, environment)]
        needs.append((dist.name, kept))
        for requirement in kept:
            version = installed.get(requirement.name)
            if version is None or not satisfied(requirement.specifier, version):
                unmet.append(requirement.name)
    if not unmet:
        return {}
    unmet = list(dict.fromkeys(unmet))
    pinnable = [name for name in installed if stack(name)]
    # The packages whose requirement is unmet are obeyed; the others that require an unmet package
    # (content with its installed version, so they may block a move) are the first to move with it.
    complaining = {name for name, kept in needs
                   if any(r.name in unmet and not satisfied(r.specifier, installed.get(r.name) or "0") for r in kept)}
    blockers = [name for name, kept in needs if name in pinnable and name not in complaining and name not in unmet
                and any(r.name in unmet for r in kept)]
    others = [name for name in complaining if name in pinnable and name not in unmet]
    attempts: list[set[str]] = [set(unmet)]
    attempts += [set(unmet) | {name} for name in blockers]
    if len(blockers) > 1:
        attempts.append(set(unmet) | set(blockers))
    attempts += [set(unmet) | set(blockers) | {name} for name in sorted(others)]
    attempts.append(set(pinnable) | set(unmet))
    for free in attempts:
        constraints = [Constraint(name, f"=={installed[name]}") for name in pinnable if name not in free]
        # A package that may move brings its requirements from the release data, for the release chosen;
        # one that stays keeps the requirements its installed metadata states.
        constraints += [Constraint(r.name, r.specifier, r.extras) for name, kept in needs
                        if name not in free or not stack(name) for r in kept]
        constraints += [Constraint(name, "") for name in free]
        problem = Problem(constraints, python_version=environment.python_version)
        try:
            solution = problem.solve(order=tuple(dict.fromkeys([*unmet, *free])))
        except Undecided:
            continue
        if solution is None:
            continue
        if any(isinstance(v, Unrecorded) and not v.pinned for v in solution.values()):
            continue  # a range outside the release data: no exact version to name
        return {name: str(version) for name, version in solution.items()
                if version is not None and installed.get(name) != str(version)
                and (name in installed or name in unmet)}
    return None
