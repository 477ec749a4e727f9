"""AFX301: the project's pins cannot be installed together over asgiref.

The verdict comes from :mod:`asgifix.resolver`, an exact search over the
released metadata of the ASGI stack. When the asgiref pin is what breaks the
install, the fix moves it to the newest release everything else accepts (or
drops the version with ``pin-strategy = "unpin"``); when no asgiref release
can satisfy the other packages, the finding names the package that has to
move and a release of it that works.

The verdict does not depend on the Python version: Requires-Python is not
applied (a project rarely says which Python it runs on, and the same pins are
installed on several). The *fix* does use it when the project declares one
(``requires-python``, Poetry's ``python``, ``python_requires``, Pipfile's
``[requires]``): the asgiref pin it writes is the newest that installs on the
oldest Python the project allows, so ``Django==4.2.7`` with
``requires-python = ">=3.9"`` gets asgiref 3.11.1, not 3.13.0 (Requires-Python >=3.11).
"""

from __future__ import annotations

from typing import Iterator, Optional

from .. import knowledge, sources
from ..asgiref_scope import release_for_target, release_runs
from ..compat import intended_specifier
from ._text import short
from ..model import Edit, Finding, Fix, Span
from ..project import Declaration, ProjectModel
from ..environment import build_problem, problem_declarations
from ..resolver import Constraint, Problem, Undecided, Unrecorded, modelled, requirements
from . import ProjectMatcher

PIP_SAYS = "pip stops with \"Cannot install ... because these package versions have conflicting dependencies\""


def _specifier(declaration: Declaration) -> str:
    return declaration.specifier or intended_specifier(declaration)


def _runs(versions: list[str]) -> str:
    return release_runs(versions) or "none"


def _allows(specifier: str, version: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(specifier).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True


class VersionConflict(ProjectMatcher):
    facts = ("asgiref-usage",)
    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        if self.context.target_asgiref:
            yield from self._upgrade(project, self.context.target_asgiref)
            return
        yield from self._inconsistent_locks(project)
        declarations = problem_declarations(project)
        if not declarations or not any(d.name != "asgiref" for d in declarations):
            return
        problem = build_problem(declarations)
        try:
            if problem.solve() is not None:
                yield from self._locks(project, problem)
                return
            fits = problem.asgiref_fits(without_asgiref_pins=True)
        except Undecided:
            # Never silently dropped: say the pins were not judged.
            first = declarations[0]
            yield Finding(self.rule.code, "info",
                          "the pins of this environment were not checked: the search for an installable "
                          "combination gave up", first.path,
                          self._span(project, first), None,
                          "narrow the version ranges of the ASGI stack (Django, channels, daphne, layers)",
                          notes=("too many candidate releases",))
            return
        pins = [d for d in declarations if d.name == "asgiref"]
        if fits and pins:
            target = fits[0], "", True
            install_set = project.install_set
            floor = install_set.python_floor if install_set is not None else None
            if floor is not None:
                # The oldest of the set's Pythons on which the other pins install (a declared
                # Python they exclude is AFX302's finding, not a reason to pin for no Python).
                target = fits[0], f"; none of them installs on {install_set.python_where}", False
                for python in install_set.pythons:
                    try:
                        runnable = build_problem(declarations, python).asgiref_fits(without_asgiref_pins=True)
                    except Undecided:
                        runnable = []
                    if runnable:
                        oldest = "the oldest of" if python == floor else "the oldest the other pins install on, of"
                        target = runnable[0], f" on Python {python}, {oldest} {install_set.python_where}", True
                        break
            yield from self._asgiref_pins(project, problem, pins, fits, target)
        else:
            # Nothing fits even with the asgiref pins left out: another package has to move
            # (the asgiref pins are judged again once it has).
            yield from self._must_move(project, problem, declarations, relax_asgiref=not fits)

    # -- what each package accepts -------------------------------------------------
    def _needs(self, problem: Problem, declarations: list[Declaration]) -> list[str]:
        described = []
        seen = set()
        for declaration in declarations:
            if declaration.name == "asgiref" or declaration.name in seen:
                continue
            seen.add(declaration.name)
            candidates = problem.candidates(declaration.name)
            spec = _specifier(declaration)
            if len(candidates) == 1:
                needs = requirements(declaration.name, candidates[0], tuple(declaration.extras)).get("asgiref")
                if needs is None:
                    continue
                described.append(f"{declaration.name} {candidates[0]} requires asgiref{needs or ' (any)'}")
            elif candidates:
                accepted = problem.asgiref_range_of(declaration.name)
                if len(accepted) == len(knowledge.asgiref_releases()):
                    continue
                described.append(f"{declaration.name}{spec} accepts asgiref {_runs(accepted)}")
        return described

    # -- the asgiref pin is the problem ----------------------------------------------
    def _asgiref_pins(self, project, problem, pins, fits, target: tuple[str, str, bool]) -> Iterator[Finding]:
        newest, on_python, installs = target
        others = [d for d in problem_declarations(project) if d.name != "asgiref"]
        needs = self._needs(problem, others)
        outside = [d for d in pins if not any(_allows(_specifier(d), v) for v in fits)]
        # Pins that each fit but disagree with one another: every one not allowing the newest fit moves.
        culprits = outside or [d for d in pins if not _allows(_specifier(d), newest)] or pins
        for declaration in culprits:
            pinned = (declaration.text or "").strip() or f"asgiref{_specifier(declaration)}"
            if outside:
                message = f"`{short(pinned)}` conflicts with the rest of the project: pip cannot install them together"
                notes = (*needs, f"together they accept asgiref {_runs(fits)}", PIP_SAYS)
            else:
                where = ", ".join(f"{d.path}:{d.line} `{(d.text or '').strip()}`" for d in pins if d is not declaration)
                message = f"`{short(pinned)}` disagrees with the project's other asgiref pins: pip cannot install both"
                notes = (f"the other pins: {where}", f"the rest of the project accepts asgiref {_runs(fits)}",
                         PIP_SAYS)
            fix, hint = self._pin_fix(project, declaration, newest, on_python, installs)
            yield Finding(self.rule.code, self.rule.severity, message, declaration.path,
                          self._span(project, declaration), fix, hint, notes=notes)

    def _pin_fix(self, project: ProjectModel, declaration: Declaration, version: str,
                 on_python: str = "", installs: bool = True) -> tuple[Optional[Fix], str]:
        unpin = self.context.pin_strategy == "unpin"
        wanted = "drop the asgiref version" if unpin else f"pin asgiref=={version}"
        if declaration.generated:
            return None, (f"this file is generated (pip-compile or --hash): {wanted} in its .in source and "
                          f"re-compile; asgifix does not edit generated pins")
        document = project.documents.get(declaration.path)
        entry = sources.entry_for(declaration.source_kind, document, declaration.start, declaration.end) \
            if document is not None else None
        if entry is None:
            return None, f"{wanted} by hand"
        if entry.kind == "invalid":
            # A malformed line ("asgiref 3.5.2") is AFX101's to repair first; rewriting its
            # version here would keep its (absent) specifier style and drop the pin.
            return None, f"{wanted} once the line is repaired (AFX101; `asgifix fix` does both)"
        from ..sources.declared import package_replacement

        replacement = package_replacement(document, entry, None, version, unpin=unpin)
        if replacement is None:
            return None, f"{wanted} by hand"
        edits, shown = replacement
        message = f"Rewrite as `{shown}`" + ("" if unpin else f" (the newest asgiref the other pins accept{on_python})")
        safety = "safe"
        if not installs:
            safety = "unsafe"
        else:
            crossed = crossed_changes(project, declaration, version)
            if crossed:
                safety = "unsafe"
                message += f"; the move crosses asgiref changes the code relies on: {crossed}"
        relock = lock_command(project, declaration.path, declaration.source_kind)
        if safety == "safe" and not unpin and relock:
            safety = "unsafe"
            message += f"; then re-run {relock}"
        return Fix(safety, message, tuple(Edit(document.display, document.span(a, b), c) for a, b, c in edits)), message

    # -- no asgiref fits: another package has to move ---------------------------------
    def _must_move(self, project, problem: Problem, declarations: list[Declaration],
                   relax_asgiref: bool) -> Iterator[Finding]:
        movers: list[tuple[Declaration, str]] = []
        tried: set[str] = set()  # the answer depends on the package, not on which of its declarations
        for declaration in declarations:
            if declaration.name == "asgiref" or declaration.name in tried:
                continue
            tried.add(declaration.name)
            overrides: dict = {declaration.name: []}
            if relax_asgiref:
                overrides["asgiref"] = []
            try:
                solution = problem.solve(overrides)
            except Undecided:
                continue
            if solution is not None and solution.get(declaration.name):
                movers.append((declaration, solution[declaration.name]))
        movers = self._preferred(problem, movers)
        needs = self._needs(problem, declarations)
        summary = "; ".join(needs) if needs else "their requirements exclude each other"
        if not movers:
            first = declarations[0]
            message = "no asgiref release satisfies the project's pins together: pip cannot install them"
            yield Finding(self.rule.code, self.rule.severity, message, first.path, self._span(project, first),
                          None, "move the pins of these packages to releases from the same era",
                          notes=(*(needs or [summary]), PIP_SAYS))
            return
        for declaration, works in movers:
            written = (declaration.text or "").strip() or declaration.name
            message = (f"`{short(written)}` cannot be installed with the rest of the project: no asgiref release "
                       f"fits them all")
            notes = (*(needs or [summary]), PIP_SAYS)
            successors = [row for row in knowledge.successors_of(declaration.name) if row.get("package")]
            if successors:
                hint = (f"{declaration.name} belongs to the Channels 1 era: replace it with "
                        f"{successors[0]['package']} (see AFX102)")
            else:
                hint = f"move {declaration.name} to a release that fits, e.g. {declaration.name}=={works}"
            yield Finding(self.rule.code, self.rule.severity, message, declaration.path,
                          self._span(project, declaration), None, hint, notes=notes)

    @staticmethod
    def _preferred(problem: Problem, movers: list[tuple[Declaration, str]]) -> list[tuple[Declaration, str]]:
        """Of the packages whose move would help, the ones worth proposing.

        A Channels 1 era package (it has a recorded successor) is the one to move;
        otherwise moving forward beats moving back (Django 3.2 could "fit" by going
        back to 2.2, which is no advice).
        """
        obsolete = [m for m in movers if any(row.get("package") for row in knowledge.successors_of(m[0].name))]
        if obsolete:
            return obsolete
        from packaging.version import InvalidVersion, Version

        def forward(mover: tuple[Declaration, str]) -> bool:
            declared = problem.candidates(mover[0].name)
            try:
                return not declared or Version(mover[1]) > Version(declared[0])
            except InvalidVersion:  # an Unrecorded range (Django<2): any recorded release is forward
                return True

        return [m for m in movers if forward(m)] or movers

    # -- --target-asgiref: what the move needs of the other pins ----------------------
    def _upgrade(self, project: ProjectModel, target: str) -> Iterator[Finding]:
        """The declarations that keep asgiref ``target`` from being installed, and what they must move to.

        The project's own asgiref pins are what the move changes, so they are
        left out; everything else is weighed against exactly that release.
        """
        release = release_for_target(target, exact=True)
        declarations = [d for d in problem_declarations(project) if d.name != "asgiref"]
        if release is None:
            yield from self._unknown_target(project, target, declarations)
            return
        if not declarations:
            return
        problem = build_problem(declarations)
        first_of: dict[str, Declaration] = {}
        for declaration in declarations:
            first_of.setdefault(declaration.name, declaration)
        try:
            if problem.solve(fixed={"asgiref": release}) is not None:
                return
            blockers = [name for name in first_of if not self._accepting(problem, name, problem.candidates(name),
                                                                           release)]
            moved = self._moving_forward(problem, blockers or list(first_of), list(first_of), release)
        except Undecided:
            return
        for name in blockers:
            declaration = first_of[name]
            written = (declaration.text or "").strip() or name
            candidates = problem.candidates(name)
            needs = sorted({requirements(name, v, problem.extras(name)).get("asgiref") or "" for v in candidates})
            everyone = list(reversed(problem.candidates(name, [])))  # oldest first
            accepting = self._accepting(problem, name, everyone, release)
            said = " or ".join(f"asgiref{n}" for n in needs if n) or "another asgiref"
            message = (f"`{short(written)}` does not install with asgiref {release}: "
                       f"{short(name + _specifier(declaration))} requires {short(said)}")
            notes = [f"--target-asgiref {target}"]
            successors = [row for row in knowledge.successors_of(name) if row.get("package")]
            if not successors:  # (a Channels 1 layer's older releases "accept" it only for lack of an upper bound)
                notes.append(f"{name} {release_runs(accepting, everyone)} accept asgiref {release}" if accepting
                             else f"no release of {name} accepts asgiref {release}")
            if successors:
                hint = f"{name} belongs to the Channels 1 era: replace it with {successors[0]['package']} (see AFX102)"
            elif moved:
                hint = f"move with asgiref {release}, for example: {moved}"
            else:
                hint = f"no newer releases of the declared packages install with asgiref {release}"
            yield Finding(self.rule.code, self.rule.severity, message, declaration.path,
                          self._span(project, declaration), None, hint, notes=tuple(notes))
        if not blockers:
            # Each package has releases that accept the target, but not the ones that fit together.
            declaration = declarations[0]
            message = (f"the project's pins cannot be installed together with asgiref {release}, although each "
                       f"package has releases that accept it")
            hint = (f"move with asgiref {release}, for example: {moved}" if moved
                    else f"no newer releases of these packages install with asgiref {release}")
            yield Finding(self.rule.code, self.rule.severity, message, declaration.path,
                          self._span(project, declaration), None, hint, notes=(f"--target-asgiref {target}",))

    def _unknown_target(self, project: ProjectModel, target: str, declarations: list[Declaration]) -> Iterator[Finding]:
        """A target the release data does not know (``4.0.0``, ``99.0``): the recorded requirements are
        judged against its number, and the finding says it is unknown (never a silent "all passed")."""
        from packaging.version import InvalidVersion, Version

        try:
            Version(target)
        except InvalidVersion:
            return
        newest = knowledge.latest_asgiref_release()
        unknown = f"asgiref {target} is not a release the bundled data knows, whose newest is {newest}"
        problem = build_problem(declarations)
        blocked = False
        seen: set[str] = set()
        for declaration in declarations:
            if declaration.name in seen:
                continue
            seen.add(declaration.name)
            candidates = [v for v in problem.candidates(declaration.name) if not isinstance(v, Unrecorded)]
            if not candidates:
                continue
            needs = {requirements(declaration.name, v, problem.extras(declaration.name)).get("asgiref")
                     for v in candidates}
            if None in needs or any(_allows(spec or "", target) for spec in needs):
                continue
            blocked = True
            written = (declaration.text or "").strip() or declaration.name
            said = " or ".join(sorted(f"asgiref{n}" for n in needs if n))
            yield Finding(self.rule.code, self.rule.severity,
                          f"`{short(written)}` does not accept asgiref {target}: "
                          f"{short(declaration.name + _specifier(declaration))} requires {short(said)}",
                          declaration.path, self._span(project, declaration), None,
                          f"{unknown}: judged by its version number against the recorded requirements")
        if not blocked and (declarations or project.declared("asgiref")):
            first = (declarations or project.declared("asgiref"))[0]
            yield Finding(self.rule.code, "info",
                          f"asgiref {target} is unknown to the bundled release data: its API cannot be checked",
                          first.path, self._span(project, first), None,
                          f"the declared pins accept the version number {target}; refresh the data "
                          f"(scripts/build_knowledge.py) or target a known release")

    @staticmethod
    def _moving_forward(problem: Problem, blockers: list[str], every: list[str], release: str) -> str:
        """``channels==4.3.2, daphne==4.2.1``: pins that install with ``release``, moving only forward.

        First only the blockers move (each to a release no older than the newest it
        allows now); when they cannot fit the other pins, every package may move
        forward. Metadata alone would also allow moving back (channels 1.1.1 declares
        ``asgiref>=1.0.1`` with no upper bound), which is no advice for an upgrade.
        """
        def forward(names: list[str]) -> dict[str, list[str]]:
            moves = {}
            for name in names:
                current = problem.candidates(name)
                moves[name] = [f">={current[0]}"] if current and not isinstance(current[0], Unrecorded) else []
            return moves

        for names in (blockers, every):
            solution = problem.solve(forward(names), fixed={"asgiref": release})
            if solution is not None:
                current = {name: problem.candidates(name)[:1] for name in every}
                changed = [name for name in every if solution.get(name) and [solution[name]] != current[name]]
                return ", ".join(f"{name}=={solution[name]}" for name in changed)
        return ""

    @staticmethod
    def _accepting(problem: Problem, name: str, versions: list[str], release: str) -> list[str]:
        """Of ``versions`` of ``name``, the ones whose asgiref requirement admits ``release``."""
        return [v for v in versions
                if _allows(requirements(name, v, problem.extras(name)).get("asgiref") or "", release)]

    # -- lock files -----------------------------------------------------------------
    def _inconsistent_locks(self, project: ProjectModel) -> Iterator[Finding]:
        """A lock file (or fully pinned pip-compile output) whose own pins cannot all be installed."""
        by_file: dict[str, list[Declaration]] = {}
        for declaration in project.declarations:
            if declaration.locked and declaration.name and modelled(declaration.name):
                by_file.setdefault(declaration.path, []).append(declaration)
        for path, pins in by_file.items():
            if not any(d.name == "asgiref" for d in pins) or len(pins) < 2:
                continue
            problem = Problem(Constraint(d.name, d.specifier) for d in pins)
            try:
                if problem.solve() is not None:
                    continue
            except Undecided:
                continue
            declaration = next(d for d in pins if d.name == "asgiref")
            needs = self._needs(problem, pins)
            message = (f"`asgiref{short(declaration.specifier)}` is not accepted by the other pins of this "
                       f"generated file: installing it fails")
            notes = (*needs, PIP_SAYS)
            hint = ("this file is generated: fix the pins in its source (the .in file or pyproject.toml) and "
                    "regenerate it; asgifix never edits generated pins or lock files")
            yield Finding(self.rule.code, self.rule.severity, message, declaration.path,
                          self._span(project, declaration), None, hint, notes=notes)

    def _locks(self, project: ProjectModel, problem: Problem) -> Iterator[Finding]:
        locked = [d for d in project.declarations if d.locked and d.name == "asgiref" and d.specifier.startswith("==")]
        if not locked:
            return
        try:
            fits = problem.asgiref_fits(without_asgiref_pins=False)
        except Undecided:
            return
        for declaration in locked:
            version = declaration.specifier[2:]
            if fits and version not in fits:
                message = (f"the lock file's asgiref {version} is not accepted by the project's declared pins: it "
                           f"installs what they forbid")
                yield Finding(self.rule.code, "warning", message, declaration.path,
                              self._span(project, declaration), None,
                              "regenerate the lock file; asgifix never edits lock files",
                              notes=(f"the declared pins accept asgiref {_runs(fits)}",))

    @staticmethod
    def _span(project: ProjectModel, declaration: Declaration) -> Span:
        document = project.documents.get(declaration.path)
        if document is not None and declaration.end > declaration.start:
            return document.span(declaration.start, declaration.end)
        return Span(0, 0, declaration.line, 1, declaration.line, 1)


def lock_command(project: ProjectModel, path: str, source_kind: str) -> str:
    """The lock command to re-run after editing ``path`` (a manifest whose lock file is in the set), or ""."""
    install_set = project.install_set
    if install_set is None or not install_set.locks:
        return ""
    names = {lock.rsplit("/", 1)[-1] for lock in install_set.locks}
    if source_kind == "pipfile" and "Pipfile.lock" in names:
        return "`pipenv lock`"
    if source_kind == "pyproject":
        for lock, command in (("poetry.lock", "`poetry lock`"), ("uv.lock", "`uv lock`"), ("pdm.lock", "`pdm lock`")):
            if lock in names:
                return command
    return ""


def crossed_changes(project: ProjectModel, declaration: Declaration, version: str) -> str:
    """What the set's code relies on that differs between the pin's releases and ``version``, in words."""
    from ..asgiref_scope import _satisfying
    from .asgiref_api import changes_between

    old = _satisfying(_specifier(declaration), knowledge.asgiref_releases()) if _specifier(declaration) else []
    if not old:
        return ""
    return changes_between(project, old, version)


class PythonConflict(ProjectMatcher):
    """AFX302: a pin that installs on none of the declared Pythons' releases (Requires-Python excludes it)."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        install_set = project.install_set
        if install_set is None or not install_set.python_declared or not install_set.pythons:
            return  # a Python inferred from the pins themselves can never contradict them
        declarations = problem_declarations(project)
        if not declarations:
            return
        anywhere = build_problem(declarations)
        try:
            if anywhere.solve() is None:
                return  # the pins conflict whatever the Python: AFX301's finding
        except Undecided:
            return
        reported: set[str] = set()
        pythons = list(dict.fromkeys((install_set.pythons[0], install_set.pythons[-1])))
        for python in pythons:
            on_python = build_problem(declarations, python)
            try:
                if on_python.solve() is not None:
                    continue
            except Undecided:
                continue
            culprits = [d for d in declarations if d.name not in reported
                        and anywhere.candidates(d.name) and not on_python.candidates(d.name)
                        and not _unrecorded_allowed(d)]
            for declaration in culprits:
                reported.add(declaration.name)
                yield self._finding(project, declaration, python, anywhere, install_set)

    def _finding(self, project: ProjectModel, declaration: Declaration, python: str, anywhere: Problem,
                 install_set) -> Finding:
        written = (declaration.text or "").strip() or declaration.name
        from ..install_sets import KNOWN_PYTHONS, pythons_allowed

        floors = {min(pythons_allowed(spec), key=KNOWN_PYTHONS.index) for spec in
                  (_requires_python(declaration.name, v) for v in anywhere.candidates(declaration.name)) if spec
                  and pythons_allowed(spec)}
        oldest = min(floors, key=KNOWN_PYTHONS.index) if floors else None
        message = f"`{short(written)}` does not install on Python {python}, which the environment runs on"
        notes = (f"the releases it allows need Python {oldest} or newer",) if oldest else ()
        runnable = []
        try:
            runnable = [v for v in build_problem([d for d in problem_declarations(project) if d.name != declaration.name],
                                                 python).candidates(declaration.name, [])
                        if not isinstance(v, Unrecorded)]
        except Undecided:
            pass
        fix = None
        if declaration.name == "asgiref" and runnable:
            try:
                fits = build_problem(problem_declarations(project), python).asgiref_fits(without_asgiref_pins=True)
            except Undecided:
                fits = []
            if fits:
                fix, _ = VersionConflict._pin_fix(self, project, declaration, fits[0],
                                                  f" on Python {python}, the oldest of {install_set.python_where}")
                if fix is not None:
                    fix = Fix("unsafe", fix.message + "; it moves asgiref back: check the code against it", fix.edits)
        newest = runnable[0] if runnable else None
        hint = (f"{install_set.python_where} allows Python {python}: raise it, or pin "
                f"{declaration.name}=={newest}, the newest release that installs there") if newest else (
            f"{install_set.python_where} allows Python {python}: raise it to a Python {declaration.name} supports")
        if fix is not None:
            hint = fix.message
        return Finding(self.rule.code, self.rule.severity, message, declaration.path,
                       VersionConflict._span(project, declaration), fix, hint, notes=notes)


def _unrecorded_allowed(declaration: Declaration) -> bool:
    """Whether the declaration allows releases the data does not hold (``Django`` unpinned also means
    Django 1.11, recorded only from 2.2): then the data cannot say it does not install."""
    from ..resolver import _outside_fits

    spec = _specifier(declaration)
    return _outside_fits(declaration.name, (spec,) if spec else ()) is not None


def _requires_python(package: str, version: str) -> Optional[str]:
    from ..resolver import _record

    return _record(package, version).get("requires_python")
