"""``asgifix upgrade``: move each install set's ASGI stack to one asgiref release.

The pipeline, all through the engine's existing parts:

1. **Repair** malformed pins (AFX101's safe fix, in memory), so the plan reads what each
   line means.
2. **Plan**, per install set (:func:`plan_set`): the target asgiref (``--to``, default the
   newest recorded release that installs on every Python of the set), then for each
   declared package of the ASGI stack the *smallest forward move* that installs with it,
   decided by the one resolver (:class:`asgifix.resolver.Problem`) on every Python of the
   set: a package keeps its declared version when the others can move around it; otherwise
   it takes the newest patch of the oldest release series, newer than what it allows now,
   that fits. Packages are decided Django first (its moves cost the most), then Channels,
   daphne and the layers. Channels 1 era packages (asgi_redis, asgi_rabbitmq, asgi_amqp)
   are replaced by their successors (AFX102's table); one with no successor (asgi_ipc) is
   left for a person. A Django major move is named as such (django-upgrade, release notes);
   security fixes the moves cross come from the release data (``release_facts.json``).
3. **Edits**: each moved declaration is rewritten in its own format by the per-format
   pin editor the AFX3xx fixes use (:func:`asgifix.sources.declared.package_replacement`);
   generated files and lock files are never rewritten (the lock command is named).
4. **Codemods**: the engine's fix loop runs from the rewritten declarations
   (:meth:`asgifix.engine.Engine.fix` with ``start``) for the rules whose findings the
   crossed versions make: AFX103 (declare what the code imports), AFX2xx (asgiref API
   moves, settings backends), AFX4xx (Channels 3/4 wiring, asgi.py ordering). Their
   *unsafe* fixes are applied too: they are unsafe because they depend on the versions the
   project ends up with, and the plan, shown first, is the decision to cross those
   versions. Pin rules (AFX301/AFX302) do not run: the plan made the pins.
5. **Re-check** with every rule: what remains is for a person.

A second run with the same target finds every package in place and changes nothing.
"""

from __future__ import annotations

import re
from .records import dataclass, field
from typing import Iterable, Optional

from . import knowledge
from .model import Edit, Finding

# Rules whose fixes ``upgrade`` applies after moving the pins (unsafe ones included, see above).
CODEMOD_PREFIXES = ("AFX103", "AFX2", "AFX4")
REPAIR_CODE = "AFX101"
# Packages decided first (the costliest moves first); the others follow in declaration order.
DECISION_ORDER = ("django", "channels", "daphne")
DJANGO_RELEASE_NOTES = "https://docs.djangoproject.com/en/{series}/releases/{series}/"


class UpgradeProblem(Exception):
    """A target that cannot be used at all (not a version)."""


@dataclass
class Move:
    package: str
    old: str  # as declared ("==4.2.7", "asgi_redis==1.4.3", "(any)")
    new: str  # "==4.2.26", "channels-redis==4.2.1", "(remove by hand)"
    why: str
    kind: str = "move"  # move | replace | repair | remove
    major: bool = False  # a Django major move
    security: list = field(default_factory=list)  # [{"version", "cve", "summary"}]
    files: list = field(default_factory=list)  # "path:line" of the declarations it rewrites

    def to_json(self) -> dict:
        return {"package": self.package, "from": self.old, "to": self.new, "why": self.why, "kind": self.kind,
                "django_major": self.major, "security_fixes": self.security, "declarations": self.files}


@dataclass
class SetPlan:
    name: str
    pythons: tuple
    python_note: str = ""
    requested: str = "latest"
    target: Optional[str] = None
    target_note: str = ""  # why the target differs from the request
    blocked: str = ""  # why no plan exists (nothing is written for this set)
    moves: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # for a person: django-upgrade, generated files, removals
    lock_commands: list = field(default_factory=list)
    edits: list = field(default_factory=list)  # Edit, on the declaration files

    def to_json(self) -> dict:
        return {"install_set": self.name, "pythons": list(self.pythons), "python_note": self.python_note,
                "requested": self.requested, "target": self.target, "target_note": self.target_note,
                "blocked": self.blocked, "moves": [m.to_json() for m in self.moves], "notes": self.notes,
                "lock_commands": self.lock_commands}


@dataclass
class UpgradeOutcome:
    plans: list
    changes: list  # Finding: the code changes the crossed versions require (with a fix: asgifix makes them)
    remaining: list  # Finding: after the move, for a person
    diff: str = ""
    changed_paths: list = field(default_factory=list)
    written: bool = False
    errors: list = field(default_factory=list)

    @property
    def has_work(self) -> bool:
        return bool(self.changed_paths)

    @property
    def blocked(self) -> bool:
        return any(p.blocked for p in self.plans)

    def exit_code(self, dry_run: bool) -> int:
        """0 nothing (left) to do, 1 work to do (dry run) or left for a person / a set with no plan, 2 error."""
        if any(getattr(e, "fatal", False) for e in self.errors):
            return 2
        if dry_run:
            return 1 if self.has_work or self.blocked else 0
        return 1 if self.blocked or self.remaining else 0

    def to_json(self) -> dict:
        def finding(f: Finding) -> dict:
            return {"code": f.code, "path": f.path, "line": f.span.line, "message": f.message,
                    "fix": f.fix.message if f.fix else None, "hint": f.hint}

        return {"plans": [p.to_json() for p in self.plans], "code_changes": [finding(f) for f in self.changes],
                "remaining": [finding(f) for f in self.remaining], "changed_files": self.changed_paths,
                "written": self.written, "diff": self.diff, "errors": [str(e) for e in self.errors]}


def validate_request(target: str, python: Optional[str]) -> tuple[str, Optional[str]]:
    """``--to`` and ``--python`` as the planner takes them; UpgradeProblem when malformed."""
    import re

    target = (target or "latest").strip()
    if target.lower() == "latest":
        target = "latest"
    elif _version(target) is None:
        raise UpgradeProblem(f"--to: {target!r} is not a version (e.g. 3.11.1) or 'latest'")
    if python is not None:
        python = python.strip()
        if not re.fullmatch(r"[23]\.\d{1,2}", python):
            raise UpgradeProblem(f"--python: {python!r} is not a Python version X.Y (e.g. 3.11)")
    return target, python


# -- versions -------------------------------------------------------------------------
def _version(text: str):
    from packaging.version import InvalidVersion, Version

    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def _runs_on(package: str, version: str, pythons: Iterable[Optional[str]]) -> bool:
    from .install_sets import pythons_allowed
    from .resolver import _record

    requires = _record(package, version).get("requires_python")
    if not requires:
        return True
    allowed = pythons_allowed(requires)
    return not allowed or all(p is None or p in allowed for p in pythons)


def asgiref_finals() -> list[str]:
    """Recorded asgiref releases, newest first: not pre-releases, not yanked."""
    out = []
    for version in reversed(knowledge.asgiref_releases()):
        parsed = _version(version)
        info = knowledge.asgiref_release_info(version) or {}
        if parsed is None or parsed.is_prerelease or info.get("yanked"):
            continue
        out.append(version)
    return out


def choose_target(requested: str, pythons: tuple) -> tuple[Optional[str], str]:
    """(target, note): ``latest`` is the newest asgiref that installs on every Python of the set; a
    requested release the set's Python cannot run gives None and a note proposing the newest it can."""
    finals = asgiref_finals()
    runnable = [v for v in finals if _runs_on("asgiref", v, pythons)]
    where = "Python " + " to ".join(pythons) if pythons else ""
    if requested == "latest":
        if not runnable:
            return None, f"no recorded asgiref release installs on {where}"
        note = ""
        if runnable[0] != finals[0]:
            needs = (knowledge.asgiref_release_info(finals[0]) or {}).get("requires_python")
            note = (f"asgiref {finals[0]} needs Python {needs}; the newest that installs on {where} is "
                    f"{runnable[0]}")
        return runnable[0], note
    canonical = next((v for v in finals if _version(v) == _version(requested)), None)
    if canonical is None:
        known = knowledge.asgiref_releases()
        canonical = next((v for v in known if _version(v) == _version(requested)), None)
    if canonical is None:
        raise UpgradeProblem(f"asgiref {requested} is not a release the bundled data knows "
                             f"(the newest it knows is {finals[0]})")
    if not _runs_on("asgiref", canonical, pythons):
        needs = (knowledge.asgiref_release_info(canonical) or {}).get("requires_python")
        proposal = f"; the newest it can run is {runnable[0]} (`--to {runnable[0]}`)" if runnable else ""
        return None, f"asgiref {canonical} needs Python {needs}, and this environment runs {where}{proposal}"
    return canonical, ""


# -- the plan of one install set -----------------------------------------------------------
def _obsolete_table() -> dict:
    from .catalogue import rule_by_code
    from .sources.declared import canonical_name

    rule = rule_by_code("AFX102")
    rows = (rule.params.get("obsolete", []) if rule is not None else [])
    return {canonical_name(row["package"]): row for row in rows}


def _shown(declaration) -> str:
    from .environment import specifier_of

    return specifier_of(declaration) or "(any)"


def _current_newest(problem, package: str) -> Optional[str]:
    from .resolver import Unrecorded

    candidates = problem.candidates(package)
    if not candidates:
        return None
    first = candidates[0]
    if isinstance(first, Unrecorded) and not first.pinned:
        import re

        numbers = re.findall(r"\d+(?:\.\d+)*", str(first))
        return numbers[-1] if numbers else None
    return str(first)


def _floor(problem, package: str) -> list[str]:
    """The forward bound of ``package``: no older than the oldest recorded release it allows now."""
    from .resolver import Unrecorded

    recorded = [v for v in problem.candidates(package) if not isinstance(v, Unrecorded)]
    if recorded:
        return [f">={recorded[-1]}"]
    unrecorded = [v for v in problem.candidates(package) if isinstance(v, Unrecorded)]
    if unrecorded and unrecorded[0].pinned:
        newest = knowledge.releases_of(package)
        if newest and _version(str(unrecorded[0])) and _version(newest[-1]) and \
                _version(str(unrecorded[0])) > _version(newest[-1]):
            return [f"=={unrecorded[0]}"]  # newer than the data: it stays
    return []


def _only_unrecorded_older(problem, package: str) -> bool:
    from .resolver import Unrecorded

    candidates = problem.candidates(package)
    return bool(candidates) and all(isinstance(v, Unrecorded) for v in candidates) and not _floor(problem, package)


def _classified_for(package: str, version: str, pythons: tuple) -> bool:
    """Whether the release's classifiers name every Python of ``pythons`` (True when it has none)."""
    if not pythons:
        return True
    try:
        named = knowledge.supported_pythons(package, version)
    except Exception:  # data without classifiers
        return True
    return not named or all(p in named for p in pythons)


def _series(version: str) -> tuple:
    parsed = _version(version)
    return parsed.release[:2] if parsed is not None else (0,)


def plan_set(view, requested: str = "latest", python: Optional[str] = None,
             said: Optional[tuple] = None) -> SetPlan:
    """The plan of one install set (``view``: the set's :meth:`ProjectModel.view`).

    ``said``: ``(pythons, where)`` the project says the set runs on (its own files, a
    ``.python-version``, the Dockerfile installing it), else the set's declared Pythons;
    Pythons only inferred from the pins themselves are not used (they would hold the
    stack where it is).
    """
    from .environment import build_problem, problem_declarations, specifier_of
    from .resolver import Constraint, Problem, Undecided

    install_set = view.install_set
    if python:
        pythons = (python,)
        python_note = f"--python {python}"
    elif said is not None and said[0]:
        pythons = tuple(dict.fromkeys((said[0][0], said[0][-1])))
        python_note = said[1]
    elif install_set is not None and install_set.python_declared and install_set.pythons:
        pythons = tuple(dict.fromkeys((install_set.pythons[0], install_set.pythons[-1])))
        python_note = install_set.python_where
    else:
        pythons = ()
        python_note = "no Python declared: Requires-Python not applied (pass --python X.Y)"
    name = install_set.name if install_set is not None else "(project)"
    plan = SetPlan(name, pythons, python_note, requested)
    declarations = problem_declarations(view)
    if not declarations:
        plan.blocked = ""
        plan.target_note = "declares no package of the ASGI stack"
        return plan
    target, note = choose_target(requested, pythons)
    plan.target, plan.target_note = target, note
    if target is None:
        plan.blocked = note
        return plan
    obsolete = _obsolete_table()
    base = build_problem(declarations)
    # The packages to decide, each with its declarations; obsolete ones become their successors.
    declared: dict[str, list] = {}
    replaced: dict[str, tuple[str, list]] = {}  # successor -> (obsolete name, its declarations)
    for declaration in declarations:
        if declaration.name == "asgiref":
            continue
        row = obsolete.get(declaration.name)
        successor = (row or {}).get("successor", "")
        from .sources.declared import canonical_name

        if row is not None and canonical_name(successor or declaration.name) != declaration.name:
            if not successor:
                if not any(m.package == declaration.name for m in plan.moves):
                    plan.moves.append(Move(declaration.name, _shown(declaration), "(remove by hand)",
                                           f"a Channels 1 package: {row.get('successor-note', 'no successor')}",
                                           kind="remove", files=[f"{declaration.path}:{declaration.line}"]))
                continue
            replaced.setdefault(canonical_name(successor), (declaration.name, []))[1].append(declaration)
            continue
        declared.setdefault(declaration.name, []).append(declaration)
    extras = {name: tuple(sorted({e for d in decls for e in d.extras})) for name, decls in declared.items()}
    names = [n for n in DECISION_ORDER if n in declared] + [n for n in declared if n not in DECISION_ORDER]
    names += [n for n in replaced if n not in declared]
    floors = {n: _floor(base, n) for n in declared}
    # Pins older than the data records (Django 1.11: recorded from 2.2): their requirements are
    # unknown, so the plan moves them onto recorded releases.
    unknown = {n for n in declared if _only_unrecorded_older(base, n)}
    checked = tuple(pythons) or (None,)

    def constraints(decided: dict) -> list:
        out = [Constraint("asgiref", f"=={target}")]
        for n in names:
            if n in decided:
                choice = decided[n]
                if choice == "keep":
                    out += [Constraint(n, specifier_of(d), extras.get(n, ())) for d in declared.get(n, [])] \
                        or [Constraint(n, "")]
                else:
                    out.append(Constraint(n, f"=={choice}", extras.get(n, ())))
            else:
                out.append(Constraint(n, floors.get(n, [""])[0] if floors.get(n) else "", extras.get(n, ())))
        return out

    def solve(decided: dict, on: Optional[str]):
        return Problem(constraints(decided), python_version=on).solve()

    def feasible(decided: dict) -> bool:
        return all(solve(decided, on) is not None for on in checked)

    decided: dict = {}
    try:
        if not feasible(decided):
            plan.blocked = _why_blocked(base, declared, target, pythons)
            return plan
        for n in names:
            if n not in unknown and feasible({**decided, n: "keep"}):
                decided[n] = "keep"
                continue
            forward = Problem([]).candidates(n, floors.get(n) or [])  # newest first
            forward = [v for v in forward if _runs_on(n, v, checked)]
            # Releases whose classifiers name the set's Pythons first: Requires-Python has no upper
            # bound, and Django 2.2 does not import on Python 3.10.
            supported = [v for v in forward if _classified_for(n, v, pythons[:1])]
            forward = supported + [v for v in forward if v not in supported]
            by_series: dict = {}
            for v in forward:
                by_series.setdefault(_series(v), []).append(v)
            chosen = None
            ranked = sorted(by_series, key=lambda k: (not any(v in supported for v in by_series[k]), k))
            for series in ranked:
                for v in by_series[series]:
                    if feasible({**decided, n: v}):
                        chosen = v
                        break
                if chosen:
                    break
            if chosen is None:  # (cannot happen: the whole set was feasible with n free forward)
                plan.blocked = f"no release of {n} installs with asgiref {target} and the rest"
                return plan
            decided[n] = chosen
        final = solve(decided, checked[0]) or {}
    except Undecided:
        plan.blocked = "the search for releases that install together gave up (too many candidate releases)"
        return plan

    # -- moves, why ---------------------------------------------------------------------
    asgiref_pins = [d for d in view.declarations if d.name == "asgiref" and not d.locked and not d.constraint]
    asgiref_pins = [d for d in asgiref_pins if d in declarations]
    moved_asgiref = [d for d in asgiref_pins if not _admits(specifier_of(d), target)
                     or (specifier_of(d).startswith("==") and specifier_of(d) != f"=={target}")]
    if moved_asgiref:
        old = ", ".join(dict.fromkeys(_shown(d) for d in moved_asgiref))
        current = _current_newest(base, "asgiref")
        plan.moves.append(Move("asgiref", old, f"=={target}", f"the target (--to {requested})", kind="move",
                               security=_crossed("asgiref", current, target),
                               files=[f"{d.path}:{d.line}" for d in moved_asgiref]))
    for n in names:
        choice = decided.get(n)
        if n in replaced:
            old_name, old_decls = replaced[n]
            version = final.get(n) or choice
            if not version or version == "keep":
                continue
            plan.moves.append(Move(old_name, ", ".join(_shown(d) for d in old_decls), f"{n}=={version}",
                                   f"a Channels 1 package (needs asgiref 1.x); {n} is its successor",
                                   kind="replace", files=[f"{d.path}:{d.line}" for d in old_decls]))
            continue
        if choice in (None, "keep"):
            continue
        decls = declared[n]
        current = _current_newest(base, n)
        move = Move(n, ", ".join(dict.fromkeys(_shown(d) for d in decls)), f"=={choice}",
                    _why(n, decls, base, final, target, extras.get(n, ()), n in unknown, pythons),
                    security=_crossed(n, current, choice), files=[f"{d.path}:{d.line}" for d in decls])
        if n == "django" and current and _version(current) and _version(choice) and \
                _version(current).major != _version(choice).major:
            move.major = True
            series = ".".join(str(p) for p in _version(choice).release[:2])
            plan.notes.append(f"Django {current} -> {choice} is a major move: Django's own API changes are not "
                              f"handled here; run django-upgrade (`django-upgrade --target-version {series}`) and "
                              f"read {DJANGO_RELEASE_NOTES.format(series=series)}")
        plan.moves.append(move)
    for move in plan.moves:
        for fix in move.security:
            summary = re.sub(r"^(?:SECURITY FIX\s*)?(?:CVE-\d+-\d+\s*)?:\s*", "", fix["summary"]).replace("``", "`")
            plan.notes.append(f"{move.package} {fix['version']} fixed {', '.join(fix['cve']) or 'a vulnerability'}: "
                              f"{summary}")
    _edits(view, plan, declared, replaced, decided, final, moved_asgiref, target)
    return plan


def _admits(specifier: str, version: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(specifier or "").contains(version, prereleases=True)
    except InvalidSpecifier:
        return False


def _why(package: str, decls: list, base, final: dict, target: str, extras: tuple, unknown: bool = False,
         pythons: tuple = ()) -> str:
    from .environment import specifier_of
    from .resolver import requirements

    if unknown:
        since = knowledge.recorded_from(package)
        on = f" that supports Python {pythons[0]}" if pythons else ""
        return (f"{package}{specifier_of(decls[0])} is older than the release data (recorded from {since}): "
                f"moved to the oldest recorded series{on} that fits")

    current = base.candidates(package)
    needs = sorted({(requirements(package, v, extras).get("asgiref") or "") for v in current[:1]})
    if current and needs and needs[0] and not _admits(needs[0], target):
        return f"{package} {current[0]} requires asgiref{needs[0]}"
    for other, version in final.items():
        if other == package or not version:
            continue
        wanted = requirements(other, version, ()).get(package)
        if wanted and current and not any(_admits(wanted, str(v)) for v in current[:1]):
            return f"{other} {version} requires {package}{wanted}"
    spec = ", ".join(dict.fromkeys(specifier_of(d) for d in decls))
    return f"{package}{spec} does not install with asgiref {target} and the other moves"


def _why_blocked(base, declared: dict, target: str, pythons: tuple) -> str:
    from .resolver import Problem, Unrecorded, requirements

    where = f" on Python {' to '.join(pythons)}" if pythons else ""
    refusing = []
    for name in declared:
        forward = [v for v in Problem([]).candidates(name, _floor(base, name)) if not isinstance(v, Unrecorded)]
        if forward and not any(_admits(requirements(name, v).get("asgiref") or "", target) for v in forward):
            current = base.candidates(name)
            needs = requirements(name, current[0]).get("asgiref") if current else None
            refusing.append(f"{name} {current[0]} requires asgiref{needs}" if needs else f"{name} refuses it")
    tail = f" ({'; '.join(refusing)}; the plan never moves a package back)" if refusing else ""
    return (f"no forward move of {', '.join(declared) or 'the declared packages'} installs with asgiref "
            f"{target}{where}{tail}")


def _crossed(package: str, old: Optional[str], new: str) -> list:
    """Security fixes recorded for releases after ``old`` up to ``new``."""
    low, high = _version(old) if old else None, _version(new)
    out = []
    for fix in knowledge.security_fixes(package):
        version = _version(fix.get("version", ""))
        if version is None or high is None or version > high or (low is not None and version <= low):
            continue
        out.append({"version": fix["version"], "cve": fix.get("cve", []), "summary": fix.get("summary", "")})
    return out


def _edits(view, plan: SetPlan, declared: dict, replaced: dict, decided: dict, final: dict,
           moved_asgiref: list, target: str) -> None:
    from . import sources
    from .matchers.version_conflict import lock_command
    from .sources.declared import package_replacement

    wanted: list[tuple] = [(d, None, target) for d in moved_asgiref]
    for n, choice in decided.items():
        if n in replaced:
            version = final.get(n)
            if version:
                wanted += [(d, n, version) for d in replaced[n][1]]
        elif choice != "keep":
            wanted += [(d, None, choice) for d in declared.get(n, [])]
    for declaration, new_name, version in wanted:
        where = f"{declaration.path}:{declaration.line}"
        if declaration.generated:
            plan.notes.append(f"{where} is generated (pip-compile or --hash): change its source and re-compile")
            continue
        document = view.documents.get(declaration.path)
        entry = sources.entry_for(declaration.source_kind, document, declaration.start, declaration.end) \
            if document is not None else None
        replacement = package_replacement(document, entry, new_name, version) \
            if entry is not None and entry.kind != "invalid" else None
        if replacement is None:
            plan.notes.append(f"{where}: rewrite `{(declaration.text or declaration.name).strip()}` by hand "
                              f"({new_name or declaration.name}=={version})")
            continue
        for a, b, content in replacement[0]:
            plan.edits.append(Edit(document.display, document.span(a, b), content))
        relock = lock_command(view, declaration.path, declaration.source_kind)
        if relock and relock not in plan.lock_commands:
            plan.lock_commands.append(relock)
    if plan.edits and view.install_set is not None:
        for lock in view.install_set.locks:
            if not plan.lock_commands:
                plan.notes.append(f"{lock} is not rewritten: regenerate it")


# -- the whole run ----------------------------------------------------------------------
def run_upgrade(paths: list[str], settings, rules: list, *, requested: str = "latest",
                python: Optional[str] = None, write: bool = True) -> UpgradeOutcome:
    """Plan every install set under ``paths``, then (``write``) rewrite declarations and code."""
    import dataclasses

    from .catalogue import select_rules
    from .engine import Engine, apply_edits, validate
    from .model import FileError

    settings = dataclasses.replace(settings, target_asgiref=None) if dataclasses.is_dataclass(settings) else settings
    errors: list = []
    # 1. Malformed pins, repaired in memory.
    repair = Engine(settings, select_rules(rules, [REPAIR_CODE], []), jobs=1)
    repairs = [f for f in repair.run(paths)[0].findings if f.fix is not None] if repair.rules else []
    start = dict(repair.fix(paths, write=False).changed) if repairs else {}
    # 2. Plans, on the repaired texts.
    everything = Engine(settings, rules, jobs=1)
    report, project, _ = everything.run(paths, overrides=start or None)
    plans: list[SetPlan] = []
    views = [project.view(s, {}) for s in project.install_sets if not s.copy] or [project]
    from .install_sets import _declared_python

    for view in views:
        said = _declared_python(project, view.install_set) if view.install_set is not None else None
        plans.append(plan_set(view, requested, python, said[:2] if said else None))
    for finding in repairs:
        line = finding.source_line.strip() if finding.source_line else ""
        plan = next((p for p in plans if finding.path in _set_files(project, p.name)), plans[0] if plans else None)
        if plan is not None:
            plan.moves.insert(0, Move(line.split()[0] if line else finding.path, line or "(malformed)",
                                      finding.fix.message.removeprefix("Rewrite as ").strip("`"),
                                      "pip rejects the line as written", kind="repair",
                                      files=[f"{finding.path}:{finding.span.line}"]))
    # 3. The declaration edits, validated in their own format. A line that several sets share and
    # want written differently (a base file installed on two Pythons) is left as it is, for a person.
    wanted: dict[tuple, dict[str, list]] = {}
    for plan in plans:
        for edit in plan.edits:
            wanted.setdefault((edit.path, edit.span.start, edit.span.end), {}).setdefault(edit.content, []).append(
                (plan, edit))
    by_path: dict[str, list[Edit]] = {}
    for (path, _, _), contents in wanted.items():
        if len(contents) > 1:
            line = next(iter(contents.values()))[0][1].span.line
            for variants in contents.values():
                for plan, edit in variants:
                    plan.notes.append(f"{path}:{line} is shared with other environments that need it written "
                                      f"differently ({' / '.join(sorted(contents))}): left as it is: move it by hand, or give --to a release all of them run")
            continue
        by_path.setdefault(path, []).append(next(iter(contents.values()))[0][1])
    for path, edits in by_path.items():
        document = start.get(path) or project.documents.get(path)
        if document is None:
            continue
        new_text = apply_edits(document.text, edits)
        problem = validate(project.kinds.get(path, ""), document, new_text, edits)
        if problem:
            errors.append(FileError(path, f"upgrade not applied to this file: {problem}", fatal=False))
            continue
        start[path] = document.with_text(new_text)
    # 4. The code changes the crossed versions require, then 5. the re-check.
    codemods = Engine(settings, select_rules(rules, list(CODEMOD_PREFIXES), []), unsafe_fixes=True, jobs=1)
    planned = codemods.run(paths, overrides=start or None)[0]
    changes = [f for f in planned.findings]
    outcome = codemods.fix(paths, write=write, start=start)
    errors.extend(outcome.report.errors)
    overrides = None if write else dict(outcome.changed)
    final = Engine(settings, rules, jobs=1).run(paths, overrides=overrides)[0]
    remaining = [f for f in final.findings]
    return UpgradeOutcome(plans, changes, remaining, diff=outcome.diff(), changed_paths=sorted(outcome.changed),
                          written=write and bool(outcome.changed), errors=errors)


def _set_files(project, name: str) -> frozenset:
    for install_set in project.install_sets:
        if install_set.name == name:
            return install_set.files
    return frozenset()
