"""AFX102: a Channels 1 era package declared in a project that has moved past asgiref 1.x.

The packages, what replaced them and since when are data (``params.obsolete``
in the rule file, each fact with the released file it was read from); the
successor's version is chosen by :mod:`asgifix.compat` against the project's
other pins.
"""

from __future__ import annotations

import posixpath
from typing import Iterator, Optional

from .. import sources
from ..compat import can_agree, choose, project_constraints
from ._text import short
from ..model import Edit, Finding, Fix
from ..project import Declaration, ProjectModel
from ..sources.declared import canonical_name, styled_name
from . import ProjectMatcher


def describe(declaration: Declaration) -> str:
    """A declaration as its file spells it: ``asgi_redis==1.4.3``, ``asgi-redis = "^1.4"``."""
    keyed = declaration.source_kind == "pipfile" or (declaration.group or "").startswith("tool.poetry")
    if keyed:
        return f'{declaration.name} = "{declaration.text}"' if declaration.text else declaration.name
    return declaration.text.strip() or declaration.name


def asgiref_2_evidence(project: ProjectModel, target: Optional[str], needs: list[dict]) -> Optional[str]:
    """What shows the project needs asgiref 2 or newer, in words; None when nothing does."""
    from packaging.version import InvalidVersion, Version

    if target:
        try:
            if Version(target).major >= 2:
                return f"--target-asgiref {target}"
        except InvalidVersion:
            pass
    ordered = sorted(project.declarations, key=lambda d: d.locked)
    for declaration in ordered:
        if not declaration.specifier or not declaration.name:
            continue
        if declaration.name == "asgiref" and not can_agree(declaration.specifier, "<2"):
            return f"`{describe(declaration)}` in {declaration.path}"
        for row in needs:
            if declaration.name == canonical_name(row["package"]) and not can_agree(
                    declaration.specifier, f"<{row['from']}"):
                return f"`{describe(declaration)}` in {declaration.path}, {_requires_text(declaration, row)}"
    # Any other declared package all of whose allowed releases need asgiref 2+ (daphne==2.5.0: asgiref~=3.2).
    judged: set[tuple[str, str]] = set()  # each (package, specifier) once: a monorepo repeats its pins
    for declaration in ordered:
        if not declaration.specifier or not declaration.name or declaration.name == "asgiref":
            continue
        key = (declaration.name, declaration.specifier)
        if key in judged:
            continue
        judged.add(key)
        allowed = _allowed_if_all(declaration, _needs_asgiref_2)
        if allowed:
            return f"`{describe(declaration)}` in {declaration.path}, which requires asgiref{allowed[0].requires['asgiref']}"
    return None


def _resolved_asgiref_2(project: ProjectModel) -> Optional[str]:
    """Evidence that nothing pins: what pip installs for the environment is an asgiref 2+ (an unpinned
    asgi_redis resolves to asgi-redis 1.1.0, whose metadata allows any asgiref, beside asgiref 3)."""
    allowed = project.allowed_versions("asgiref")
    if not allowed or any(version.split(".")[0] in ("0", "1") for version in allowed):
        return None
    from ..asgiref_scope import release_runs

    return f"pip installs asgiref {release_runs(allowed)} for the environment's other packages"


def _installs_on_asgiref_1(project: ProjectModel) -> bool:
    """Whether the environment installs as it is declared, with an asgiref 1.x (a consistent Channels 1 stack)."""
    allowed = project.allowed_versions("asgiref")
    return bool(allowed) and all(version.split(".")[0] in ("0", "1") for version in allowed)


def _requires_text(declaration: Declaration, row: dict) -> str:
    """What the declaration's allowed releases (from ``row['from']`` on) require of asgiref, in words.

    One release or one requirement: ``which requires asgiref<4,>=3.6.0``; several:
    ``whose releases require asgiref~=3.2 (3.0) to asgiref>=3.9.1 (6.1.3)``. Read from the
    release data; the row's own wording when the data has none.
    """
    from packaging.version import InvalidVersion, Version

    from ..compat import releases

    try:
        floor = Version(row["from"])
    except InvalidVersion:
        floor = None
    allowed = []  # newest first
    for release in releases(declaration.name):
        try:
            if floor is not None and Version(release.version) < floor:
                continue
        except InvalidVersion:
            continue
        if declaration.specifier and not can_agree(f"=={release.version}", declaration.specifier):
            continue
        if release.requires.get("asgiref") is not None:
            allowed.append(release)
    if not allowed:
        return f"which requires {row['requires']}"
    specs = {r.requires["asgiref"] for r in allowed}
    newest, oldest = allowed[0], allowed[-1]
    if len(specs) == 1:
        spec = newest.requires["asgiref"] or " (any version)"
        return f"which requires asgiref{spec}"
    return (f"whose releases require asgiref{oldest.requires['asgiref'] or ' (any)'} ({oldest.version}) to "
            f"asgiref{newest.requires['asgiref'] or ' (any)'} ({newest.version})")


def code_to_change(project: ProjectModel, row: dict) -> list[str]:
    """Where the code uses what the replacement takes away: ``path:line (what)``, in path order.

    Imports of the row's ``code-modules`` (an asgiref module among them is also an
    AFX201 finding) and CHANNEL_LAYERS backends starting with its ``code-backends``.
    """
    modules = row.get("code-modules", [])
    backends = row.get("code-backends", [])

    def named(dotted: str) -> bool:
        return any(dotted == module or dotted.startswith(module + ".") for module in modules)

    places: set[tuple[str, int, str]] = set()
    for facts in project.facts.get("django-wiring", []):
        for wiring in facts.value:
            if wiring.how == "imported" and named(wiring.text) and not wiring.text.startswith("asgiref."):
                places.add((facts.path, wiring.span.line, f"imports `{wiring.text}`"))
            elif wiring.how == "as a CHANNEL_LAYERS BACKEND" and any(wiring.text.startswith(b) for b in backends):
                places.add((facts.path, wiring.span.line, f"CHANNEL_LAYERS BACKEND `{wiring.text}`"))
    for facts in project.facts.get("asgiref-usage", []):
        for reference in facts.value.references:
            if named(reference.dotted):
                places.add((facts.path, reference.line, f"`{reference.dotted}`, AFX201"))
    return [f"{path}:{line} ({what})" for path, line, what in sorted(places)]


def _allowed_if_all(declaration: Declaration, has) -> list:
    """The releases ``declaration`` allows (newest first) when there are some and ``has(release)``
    holds for each; [] otherwise. Stops at the first allowed release without it (the usual case)."""
    from ..compat import releases

    allowed = []
    for release in releases(declaration.name):
        if declaration.specifier and not can_agree(f"=={release.version}", declaration.specifier):
            continue
        if not has(release):
            return []
        allowed.append(release)
    return allowed


def _needs_asgiref_2(release) -> bool:
    spec = release.requires.get("asgiref")
    return bool(spec) and not can_agree(spec, "<2")


def _needs_asgiref_1(release) -> bool:
    spec = release.requires.get("asgiref")
    return bool(spec) and not can_agree(spec, ">=2")


def _uploaded(package: str, version: str) -> str:
    from ..compat import _knowledge

    knowledge = _knowledge()
    try:
        return str(knowledge.release_record(package, version).get("uploaded") or "") if knowledge else ""
    except (KeyError, ValueError, TypeError):
        return ""


def generic_row(declaration: Declaration) -> Optional[dict]:
    """A package outside the rule's table whose every release the declaration allows requires asgiref 1.x.

    Read from the release data (knowledge, or the fallback table): the row has the
    table's shape, with the newer release line (same package) as the successor when
    one supports asgiref 2+, and no successor otherwise.
    """
    from packaging.version import InvalidVersion, Version

    from ..compat import releases

    # (most declarations: their newest allowed release already works with asgiref 2+,
    # so the rest of the history is never looked at)
    allowed = _allowed_if_all(declaration, _needs_asgiref_1)
    if not allowed:
        return None
    known = releases(declaration.name)  # newest first
    newest = allowed[0]
    try:
        newer = [r for r in known if not _needs_asgiref_1(r) and Version(r.version) > Version(newest.version)]
    except InvalidVersion:
        newer = []
    first = newer[-1] if newer else None  # the oldest release that works with asgiref 2+
    name = declaration.name
    return {
        "package": name,
        "generic": True,
        "what": f"{name} releases that require asgiref 1.x",
        "obsolete-below": first.version if first else "",
        "last-release": newest.version,
        "last-release-date": _uploaded(name, newest.version),
        "requires": f"asgiref{newest.requires['asgiref']}",
        "breaks": "its asgiref requirement admits no asgiref 2+ release",
        "successor": name if first else "",
        "successor-since": (_uploaded(name, first.version) or "date not recorded") if first else "",
        "successor-note": (f"{name} {first.version}" if first else
                           f"no release of {name} supports asgiref 2+: remove it or replace it"),
        "code-changes": (f"check {name}'s changes between {newest.version} and the new release" if first else ""),
    }


class ObsoletePackage(ProjectMatcher):
    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        table = {canonical_name(row["package"]): row for row in self.params.get("obsolete", [])}
        evidence = None
        evidence_known = False
        flagged: list[tuple[Declaration, dict]] = []
        declared_outside_locks = {d.name for d in project.declarations if not (d.locked and d.source_kind == "lock")}
        # each (package, specifier) judged once per run, whichever install set declares it
        generic_rows: dict[tuple[str, str], Optional[dict]] = self.__dict__.setdefault("_generic_rows", {})
        for declaration in project.declarations:
            if declaration.constraint or not declaration.name:
                continue
            row = table.get(declaration.name)
            if row is None:
                key = (declaration.name, declaration.specifier)
                if key not in generic_rows:
                    generic_rows[key] = generic_row(declaration)
                row = generic_rows[key]
            if row is None:
                continue
            if declaration.source_kind == "lock" and declaration.name in declared_outside_locks:
                continue  # reported where it is declared
            below = row.get("obsolete-below", "")
            if below and (not declaration.specifier or can_agree(declaration.specifier, f">={below}")):
                continue  # newer releases are allowed: not obsolete
            if not evidence_known:
                evidence = asgiref_2_evidence(project, self.context.target_asgiref,
                                              self.params.get("needs-asgiref-2", []))
                if not self.context.target_asgiref:
                    if _installs_on_asgiref_1(project):
                        evidence = None  # the environment resolves to a Channels 1 stack: old, but consistent
                    elif evidence is None:
                        evidence = _resolved_asgiref_2(project)
                evidence_known = True
            if evidence is None and not row.get("uninstallable"):
                continue  # a project still on asgiref 1.x: old, but consistent
            flagged.append((declaration, row))
        if not flagged:
            return
        flagged_ids = {id(d) for d, _ in flagged}
        constraints = project_constraints(project, self.context.target_asgiref, skip=flagged_ids)
        for declaration, row in flagged:
            yield self._finding(project, declaration, row, constraints, evidence)

    # -- one finding ------------------------------------------------------------------
    def _message(self, declaration: Declaration, row: dict, evidence: Optional[str],
                 spelled: str) -> tuple[str, tuple[str, ...]]:
        """The one-sentence message and the notes that carry the releases and the evidence."""
        text = short(describe(declaration))
        successor = row.get("successor", "")
        needs = f"this project needs asgiref 2+ ({evidence})" if evidence else "this project needs asgiref 2+"
        if row.get("generic"):
            package, last, below = row["package"], row["last-release"], row["obsolete-below"]
            date = f" ({row['last-release-date']})" if row.get("last-release-date") else ""
            message = f"`{text}` needs asgiref 1.x, but this project needs asgiref 2+"
            if below:
                return message, (f"{package} {last}{date} requires {row['requires']}; {package} {below} and newer "
                                 f"work with asgiref 2+", needs)
            return message, (f"every release of {package} requires asgiref 1.x: the last, {last}{date}, requires "
                             f"{row['requires']}", needs)
        if row.get("obsolete-below"):
            message = f"`{text}` allows only {row['what']}, which needs asgiref 1.x, but this project needs asgiref 2+"
            notes = [f"{row['package']} {row['last-release']} (the last before {row['obsolete-below']}) requires "
                     f"{row['requires']} and {row['breaks']}", needs]
        elif row.get("last-release"):
            message = f"`{text}` is {row['what']}: it requires {row['requires']}"
            notes = [f"its last release is {row['last-release']} ({row['last-release-date']}), and {row['breaks']}"]
        else:
            message = f"`{text}` is {row['what']}: {row['breaks']}"
            notes = []
        if successor and canonical_name(successor) != declaration.name:
            notes.append(f"replaced by {styled_name(spelled, successor)}: {row['successor-note']}, "
                         f"{row['successor-since']}")
        elif successor:
            notes.append(f"{row['successor-note']} ({row['successor-since']}) works with asgiref 2+")
        else:
            notes.append(row["successor-note"])
        return message, tuple(notes)

    def _finding(self, project: ProjectModel, declaration: Declaration, row: dict,
                 constraints: dict, evidence: Optional[str]) -> Finding:
        document = project.documents.get(declaration.path)
        successor = row.get("successor", "")
        entry = sources.entry_for(declaration.source_kind, document, declaration.start, declaration.end) \
            if document is not None else None
        spelled = entry.display_name if entry is not None and entry.display_name else declaration.name
        message, notes = self._message(declaration, row, evidence, spelled)
        start = entry.key_start if entry is not None and entry.key_start is not None else declaration.start
        span = document.span(start, declaration.end) if document is not None else _line_span(declaration)
        hint: Optional[str]
        fix = None
        places = code_to_change(project, row)
        if not successor:
            hint = f"no automatic fix: {row['successor-note']}"
        elif declaration.source_kind == "lock":
            hint = (f"{posixpath.basename(declaration.path)} still resolves {declaration.name}, which nothing in "
                    f"the project declares any more: regenerate the lock file (if a package you declare depends "
                    f"on {declaration.name}, upgrade that one first); asgifix never edits lock files")
        elif declaration.generated:
            hint = self._generated_hint(project, declaration, successor)
        else:
            release, relaxed = choose(successor, constraints, python=project.install_set.python_floor if project.install_set else None)
            fix, hint = self._fix(document, entry, declaration, row, successor, release, relaxed, places)
        if fix is None and places:
            hint += f"; code to change with it: {_listed(places)}"
        return Finding(self.rule.code, self.rule.severity, message, declaration.path, span, fix, hint, notes=notes)

    def _fix(self, document, entry, declaration: Declaration, row: dict, successor: str,
             release, relaxed: list[str], places: list[str]) -> tuple[Optional[Fix], str]:
        from ..sources.declared import package_replacement

        if release is None:
            return None, (f"no automatic fix: no release of {successor} fits the project's other pins; "
                          f"move those first (see AFX3xx findings)")
        new_name = None if canonical_name(successor) == declaration.name else canonical_name(successor)
        replacement = package_replacement(document, entry, new_name, release.version,
                                          unpin=self.context.pin_strategy == "unpin") if entry else None
        if replacement is None:
            return None, f"replace it by hand with {successor} {release.version} (this entry cannot be rewritten in place)"
        edits, shown = replacement
        note = f"; the asgiref pin must move too ({', '.join(relaxed)} conflicts: see AFX3xx)" if relaxed else ""
        code_changes = row.get("code-changes", "")
        message = f"Replace with `{shown}`{note}"
        if code_changes:
            message += f"; then {code_changes}"
        if places:
            message += f"; code to change with it: {_listed(places)}"
        fix = Fix("unsafe" if code_changes else "safe", message,
                  tuple(Edit(document.display, document.span(a, b), content) for a, b, content in edits))
        return fix, message

    def _generated_hint(self, project: ProjectModel, declaration: Declaration, successor: str) -> str:
        source = _compiled_source(project, declaration.path)
        if source and any(d.path == source and d.name == declaration.name for d in project.declarations):
            return (f"this file is generated: asgifix replaces {declaration.name} with {successor} in {source}; "
                    f"then re-run pip-compile")
        if source:
            return (f"this file is generated from {source}, which does not declare {declaration.name}: upgrade "
                    f"the package that pulls it in (see its '# via' comment), then re-run pip-compile")
        return (f"this file pins --hash or is generated: change {declaration.name} to {successor} where it "
                f"comes from, then regenerate it")


def _listed(places: list[str], limit: int = 5) -> str:
    shown = ", ".join(places[:limit])
    return shown + (f" and {len(places) - limit} more" if len(places) > limit else "")


def _compiled_source(project: ProjectModel, path: str) -> Optional[str]:
    """The display path of the .in file pip-compile made ``path`` from, when it is known."""
    for compiled, written in project.facts.get("compiled-requirements", []):
        if compiled == path:
            directory = posixpath.dirname(path)
            candidate = posixpath.normpath(posixpath.join(directory, written)) if written else None
            if candidate is None and path.endswith(".txt"):
                candidate = path[:-4] + ".in"
            return candidate
    return None


def _line_span(declaration: Declaration):
    from ..model import Span

    return Span(declaration.start, declaration.end, declaration.line, 1, declaration.line, 1)
