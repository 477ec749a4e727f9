"""Install sets: what one install really puts into one environment, and the Pythons it runs on.

Every version-dependent verdict is made inside an install set, never over "everything
under the given paths". A set is an entry point plus everything it brings in:

* a requirements file that nothing else includes, or that a Dockerfile, Makefile,
  CI workflow, script or Procfile installs (``pip install -r X``, whatever X is
  called), with its ``-r``/``-c`` includes;
* a package: ``pyproject.toml`` (PEP 621 dependencies and the groups its own tooling
  installs), ``setup.py``/``setup.cfg``, a ``Pipfile``, each with its lock file as
  evidence of what was resolved.

Joins (one environment, one set): a requirements file with ``-e .`` or ``.`` joins that
package; requirements files beside a package that declares dependencies are installed
with it (``pip install -e . -r requirements-dev.txt``); the files one Dockerfile or one
install command installs are one environment. Copies and backups
(``requirements - copy.txt``, ``*.bak``, ``old/``) are sets of their own and never
join another; they serve no code.

Code is judged against the sets whose home (the directory of the entry, or the parent of
a ``requirements/`` directory) is nearest above it; code with no set above it is served
by every set that is not a copy.

The Pythons of a set come from what the project says (``requires-python``, Poetry's
``python``, ``python_requires``, Pipfile ``[requires]``, ``.python-version``,
``runtime.txt``, a Dockerfile ``FROM python:X``), nearest first; failing all of them,
from the Requires-Python of the releases the set pins (``declared`` is then False, and
no finding is made from the Python alone).
"""

from __future__ import annotations

from functools import lru_cache

import posixpath
import re
from .records import dataclass
from typing import TYPE_CHECKING, Iterable, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .project import ProjectModel

# Python minor versions a set can run on (the oldest any recorded release supports to the newest released).
KNOWN_PYTHONS = ("2.7", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
PACKAGE_KINDS = ("pyproject", "setup-py", "setup-cfg")
REQUIREMENTS_DIRS = {"requirements", "requirements.d", "reqs", "requirements-files", "dep", "deps", "dependencies"}
# Backups and copies: never the environment that is installed.
_COPY_NAME = re.compile(r"(?:(?:^|[\W_])(?:copy|backup|bak|orig|old)(?:$|[\W_])|~$|\(\d+\))", re.IGNORECASE)
_COPY_DIRS = {"old", "backup", "backups", "archive", "archived", "deprecated", "legacy_requirements"}
# Declaration groups that the package's own tooling does not install by default (extras).
OPTIONAL_GROUPS = ("project.optional-dependencies.",)
# Facts sources and server-config files contribute (see sources.server_config, sources.requirements).
INSTALL_FACT = "install-command"
PYTHON_FACT = "python-pin"
LOCAL_INSTALL_FACT = "local-install"


@dataclass(frozen=True)
class InstallCommand:
    """One command that installs into an environment: ``pip install -r a.txt -e .`` in a Dockerfile."""

    path: str  # display path of the file holding the command
    line: int
    requirement_files: tuple[str, ...]  # -r/-c targets as written
    local: tuple[str, ...] = ()  # "." / "-e ." / "./pkg" targets as written
    environment: str = ""  # commands sharing it install into one environment (a Dockerfile: its path)


@dataclass(frozen=True)
class PythonPin:
    path: str
    line: int
    version: str  # "3.9", "3.11.4"
    label: str  # "FROM python:3.9-slim", ".python-version", "runtime.txt"


@dataclass
class InstallSet:
    name: str  # how messages name it: the entry file(s)
    entries: tuple[str, ...]
    files: frozenset  # display paths of every declaration file in the set
    home: Optional[str]  # display directory whose code it serves ("" is the root); None: serves no code
    homes: tuple[str, ...] = ()  # every directory it serves (the entries' and those of what installs it)
    copy: bool = False
    pythons: tuple[str, ...] = ()  # oldest first; () when nothing says
    python_where: str = ""
    python_declared: bool = False  # said by the set's own files or by what installs it (not guessed)
    locks: tuple[str, ...] = ()  # lock files of the set (evidence)
    installed_by: tuple[str, ...] = ()  # files whose commands install it (a Dockerfile, a CI workflow)
    empty: bool = False  # its files declare nothing (an empty requirements.txt): it runs no code

    @property
    def python_floor(self) -> Optional[str]:
        return self.pythons[0] if self.pythons else None

    def label(self) -> str:
        return f"the environment of {self.name}"


def is_copy(path: str, roots: Iterable[str] = ()) -> bool:
    """``requirements - copy.txt``, ``requirements.txt.bak``, ``old/requirements.txt``: not what is installed.

    Only directories below the run's ``roots`` (display paths) count: ``/home/me/old/site``
    checked as a whole is a project, whatever the folders above it are called."""
    for root in sorted(roots, key=len, reverse=True):
        root = root.rstrip("/")
        if root in ("", ".") or path == root:
            continue
        if path.startswith(root + "/"):
            path = path[len(root) + 1:]
            break
    parts = path.split("/")
    if any(part.lower() in _COPY_DIRS for part in parts[:-1]):
        return True
    name = parts[-1]
    stem = name
    for suffix in (".txt", ".in", ".pip", ".toml", ".cfg", ".py"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return bool(_COPY_NAME.search(stem)) or name.lower().endswith((".bak", ".orig", ".old", "~"))


def _dirname(path: str) -> str:
    return posixpath.dirname(path)


def _home(path: str) -> str:
    directory = _dirname(path)
    if posixpath.basename(directory).lower() in REQUIREMENTS_DIRS:
        return _dirname(directory)
    return directory


def _inside(path: str, directory: str) -> bool:
    return directory == "" or path == directory or path.startswith(directory.rstrip("/") + "/")


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _resolve(base_file: str, target: str) -> str:
    target = target.replace("\\", "/")
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(_dirname(base_file), target))


def build(project: "ProjectModel") -> list[InstallSet]:
    """The install sets of ``project`` (the whole model, as read), in a stable order."""
    from .includes import INCLUDE_FACT

    kinds: dict[str, str] = {}
    for declaration in project.declarations:
        kinds.setdefault(declaration.path, declaration.source_kind)
    for path in project.documents:
        if path not in kinds:
            kind = project.kinds.get(path)
            if kind in ("requirements", "pyproject", "setup-cfg", "setup-py", "pipfile", "lock"):
                kinds[path] = kind
    if not kinds:
        return []
    locked_paths = {d.path for d in project.declarations if d.locked and d.source_kind == "lock"}
    for path, kind in kinds.items():
        if kind == "lock":
            locked_paths.add(path)
    # -r/-c edges between requirements files.
    includes: dict[str, list[str]] = {}
    included: set[str] = set()
    for request in project.facts.get(INCLUDE_FACT, ()):
        target = _resolve(request.path, request.target)
        if target in kinds and target != request.path:
            includes.setdefault(request.path, []).append(target)
            included.add(target)
    # What commands install (Dockerfiles, Makefiles, CI, scripts).
    commanded: dict[str, set[str]] = {}  # environment -> files it installs
    command_files: dict[str, set[str]] = {}  # installed file -> the files whose commands install it
    for command in project.facts.get(INSTALL_FACT, ()):
        installs = commanded.setdefault(command.environment or f"{command.path}:{command.line}", set())
        before = set(installs)
        # A CI workflow runs from the repository root (the directory holding .github/).
        base = command.path.split(".github/", 1)[0] + "x" if ".github/" in command.path else command.path
        for target in command.requirement_files:
            for candidate in (_resolve(command.path, target), _resolve(base, target),
                              posixpath.normpath(target.lstrip("./") or ".")):
                if candidate in kinds:
                    installs.add(candidate)
                    break
        for target in command.local:
            directory = _resolve(base, target)
            directory = "" if directory == "." else directory
            for path, kind in kinds.items():
                if kind in PACKAGE_KINDS + ("pipfile",) and _dirname(path) == directory:
                    installs.add(path)
        for path in installs - before:
            command_files.setdefault(path, set()).add(command.path)
    installed_by_command = set().union(*commanded.values()) if commanded else set()
    # Entry points.
    entries: list[str] = []
    for path, kind in sorted(kinds.items()):
        if kind == "lock":
            continue
        if kind == "requirements":
            if path not in included or path in installed_by_command:
                entries.append(path)
        elif kind in PACKAGE_KINDS:
            if kind == "pyproject" and not any(d.path == path for d in project.declarations) \
                    and not _declares_project(project, path):
                continue  # a pyproject holding only tool settings
            entries.append(path)
        elif kind == "pipfile":
            entries.append(path)
    # A cycle of includes leaves files that no entry reaches: each is an entry of its own.
    reached = set()
    for entry in entries:
        reached |= _closure(entry, includes)
    for path, kind in sorted(kinds.items()):
        if kind == "requirements" and path not in reached:
            entries.append(path)
            reached |= _closure(path, includes)
    union = _Union()
    for entry in entries:
        union.find(entry)
    copies = {entry for entry in entries if is_copy(entry, project.roots)}
    # A package's files in one directory are one package.
    packages: dict[str, list[str]] = {}
    for entry in entries:
        if kinds[entry] in PACKAGE_KINDS and entry not in copies:
            packages.setdefault(_dirname(entry), []).append(entry)
    for members in packages.values():
        for other in members[1:]:
            union.join(members[0], other)
    with_dependencies = {directory for directory, members in packages.items()
                         if any(d.path in members and not d.locked for d in project.declarations)}
    for entry in entries:
        if entry in copies or kinds[entry] != "requirements":
            continue
        # -e . / . in the file (or an included one): that package is installed with it.
        for local in project.facts.get(LOCAL_INSTALL_FACT, ()):
            owner, target = local
            if owner in _closure(entry, includes):
                directory = _resolve(owner, target)
                directory = "" if directory == "." else directory
                if directory in packages:
                    union.join(entry, packages[directory][0])
        home = _home(entry)
        if home in with_dependencies and is_add_on(entry) and not _fully_pinned(project, entry):
            union.join(entry, packages[home][0])  # pip install -e . -r requirements-dev.txt
    # pip-compile output and its .in source are two ways to install one project (the pins, or a
    # fresh resolve of the ranges): peers of one home, never one environment (the pins would
    # hide what a fresh install of the .in gets).
    for installs in commanded.values():
        members = sorted(m for m in installs if m in union.parent and m not in copies)
        for other in members[1:]:
            union.join(members[0], other)
    groups: dict[str, list[str]] = {}
    for entry in entries:
        groups.setdefault(union.find(entry), []).append(entry)
    sets: list[InstallSet] = []
    for root, members in sorted(groups.items()):
        members = sorted(members)
        files: set[str] = set()
        for member in members:
            files |= _closure(member, includes)
        locks = []
        for member in members:
            if kinds[member] in PACKAGE_KINDS + ("pipfile",):
                directory = _dirname(member)
                for path in sorted(locked_paths):
                    if _dirname(path) == directory and path not in locks and _lock_belongs(path, kinds[member]):
                        locks.append(path)
        files |= set(locks)
        copy = any(member in copies for member in members)
        installers = sorted(set().union(*(command_files.get(m, set()) for m in members)))
        # A set serves the code below its entry (or below the parent of a requirements/ directory);
        # one that a Dockerfile or script installs serves the code around that file too.
        homes = sorted({_home(m) for m in members} | {_dirname(i) for i in installers},
                       key=lambda h: (h.count("/") + (1 if h else 0), h))
        sets.append(InstallSet(" + ".join(members), tuple(members), frozenset(files),
                               None if copy else homes[0], () if copy else tuple(homes), copy=copy,
                               locks=tuple(locks), installed_by=tuple(installers)))
    # Lock files that no manifest owns (a Pipfile.lock alone) are sets of their own.
    owned = set().union(*(s.files for s in sets)) if sets else set()
    for path in sorted(locked_paths - owned):
        copy = is_copy(path, project.roots)
        sets.append(InstallSet(path, (path,), frozenset({path}), None if copy else _dirname(path),
                               () if copy else (_dirname(path),), copy=copy, locks=(path,)))
    declared = {d.path for d in project.declarations}
    for install_set in sets:
        install_set.empty = not install_set.files & declared
        _set_pythons(project, install_set)
    return sets


_ADD_ON = re.compile(r"(?:^|[-_./])(?:dev|devel|develop|development|test|tests|testing|ci|local|lint|extra|extras)"
                     r"(?:$|[-_.])", re.IGNORECASE)


def is_add_on(path: str) -> bool:
    """``requirements-dev.txt``, ``requirements/test.txt``, ``dev-requirements.in``: installed on top of a package."""
    name = posixpath.basename(path)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return bool(_ADD_ON.search(stem))


def _fully_pinned(project: "ProjectModel", path: str) -> bool:
    """pip-compile output (every pin ``==``): an environment of its own, an alternative to the package's ranges."""
    pins = [d for d in project.declarations if d.path == path]
    return bool(pins) and all(d.locked or d.generated for d in pins)


def _lock_belongs(lock: str, manifest_kind: str) -> bool:
    name = posixpath.basename(lock)
    if manifest_kind == "pipfile":
        return name == "Pipfile.lock"
    return name != "Pipfile.lock"


def _declares_project(project: "ProjectModel", path: str) -> bool:
    document = project.documents.get(path)
    return document is not None and bool(re.search(r"^\[(project|tool\.poetry)\b", document.text, re.MULTILINE))


def _closure(entry: str, includes: dict[str, list[str]]) -> set[str]:
    seen = {entry}
    queue = [entry]
    while queue:
        for target in includes.get(queue.pop(), ()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def sets_serving(sets: list[InstallSet], path: str) -> list[InstallSet]:
    """The sets that run the code at display path ``path``: those whose home is nearest above it.

    A set that declares nothing (an empty ``backend/requirements.txt`` under the root's full one)
    serves code only when no other set does.
    """
    declaring = [s for s in sets if not s.empty]
    if declaring and len(declaring) < len(sets):
        return _sets_serving(declaring, path) or _sets_serving(sets, path)
    return _sets_serving(sets, path)


def _home_index(sets: list[InstallSet]) -> Optional[dict[str, list[InstallSet]]]:
    """home -> the sets with that home (in order), or None when a home is not in normal form
    (the loop in _sets_serving then decides). Remembered for the last few lists of sets."""
    key = tuple(map(id, sets))
    found = _HOME_INDEXES.get(key)
    if found is not None:
        return found[0]
    index: Optional[dict[str, list[InstallSet]]] = {}
    for install_set in sets:
        for home in dict.fromkeys(install_set.homes):
            if home.endswith("/") or home.startswith("/"):
                index = None
                break
            index.setdefault(home, []).append(install_set)
        if index is None:
            break
    if len(_HOME_INDEXES) > 4:
        _HOME_INDEXES.clear()
    _HOME_INDEXES[key] = (index, sets)  # (the sets kept alive: their ids stay theirs)
    return index


_HOME_INDEXES: dict = {}


def _sets_serving(sets: list[InstallSet], path: str) -> list[InstallSet]:
    index = _home_index(sets)
    if index is not None:
        # The deepest home above the path (the path itself, its parents, then the root ""):
        # what the loop below finds, without asking every set of a monorepo about every file.
        directory = path
        while True:
            found = index.get(directory)
            if found is not None:
                return list(found)
            parent = posixpath.dirname(directory)
            if not directory or parent == directory:
                break
            directory = parent
        return _nearest_root(sets)
    best: list[InstallSet] = []
    depth = -1
    for install_set in sets:
        inside = [h for h in install_set.homes if _inside(path, h)]
        if not inside:
            continue
        here = max(0 if h == "" else h.count("/") + 1 for h in inside)
        if here > depth:
            best, depth = [install_set], here
        elif here == depth:
            best.append(install_set)
    if best:
        return best
    return _nearest_root(sets)


def _nearest_root(sets: list[InstallSet]) -> list[InstallSet]:
    # Code above every set (sets only in subdirectories): the sets nearest the root serve it.
    candidates = [s for s in sets if not s.copy and s.home is not None]
    if not candidates:
        return []
    shallowest = min(s.home.count("/") + (1 if s.home else 0) for s in candidates)
    return [s for s in candidates if s.home.count("/") + (1 if s.home else 0) == shallowest]


# -- Pythons ------------------------------------------------------------------------

def _set_pythons(project: "ProjectModel", install_set: InstallSet) -> None:
    declared = _declared_python(project, install_set)
    if declared is not None:
        # A Python said only near the set (the package above it, a .python-version) decides its
        # fixes, but a pin is reported against it (AFX302) only when the set itself says it.
        install_set.pythons, install_set.python_where, install_set.python_declared = declared
        return
    inferred = _inferred_python(project, install_set)
    if inferred is not None:
        install_set.pythons, install_set.python_where = inferred


def pythons_allowed(specifier: str) -> tuple[str, ...]:
    """The known Python minor versions a Requires-Python-style specifier admits (``>=3.9`` -> 3.9 ... 3.14)."""
    spec = _spec(specifier)
    if spec is None:
        return ()
    allowed = []
    for version in KNOWN_PYTHONS:
        # A minor version is allowed when some patch release of it is (``>=3.8.1`` allows 3.8).
        if any(spec.contains(f"{version}.{patch}", prereleases=True) for patch in (0, 1, 2, 5, 10, 20)):
            allowed.append(version)
    return tuple(allowed)


def _spec(text: str):
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _minor(version: str) -> Optional[str]:
    match = re.match(r"^\s*(\d+)\.(\d+)", version)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def _declared_python(project: "ProjectModel", install_set: InstallSet) -> Optional[tuple[tuple[str, ...], str, bool]]:
    # 1. What the set's own files say (the package metadata every installer honours).
    from .pythons import python_declarations

    home = install_set.home if install_set.home is not None else _dirname(install_set.entries[0])
    # The set's own files first; else the package files nearest above its home (a pyproject
    # that only says requires-python still says which Python the project's requirements run on).
    candidates = [sorted(install_set.files)]
    own = True
    above: dict[str, list[str]] = {}
    for path, kind in project.kinds.items():
        if kind in PACKAGE_KINDS + ("pipfile",) and path not in install_set.files and _inside(home, _dirname(path)):
            above.setdefault(_dirname(path), []).append(path)
    candidates += [sorted(above[d]) for d in sorted(above, key=lambda d: -len(d))]
    found: list[tuple[tuple[str, ...], str]] = []
    for paths in candidates:
        for path in paths:
            document = project.documents.get(path)
            if document is None:
                continue
            for label, spec in python_declarations(posixpath.basename(path), document.text):
                allowed = pythons_allowed(spec)
                if allowed:
                    found.append((allowed, f"{path}'s {label} `{spec}`"))
        if found:
            break
        own = False
    if found:
        # Several files: the Pythons all of them allow (an install must satisfy each).
        common = set(found[0][0])
        for allowed, _ in found[1:]:
            common &= set(allowed)
        chosen = tuple(v for v in KNOWN_PYTHONS if v in common) or found[0][0]
        return chosen, "; ".join(where for _, where in found), own
    # 2. What runs it: .python-version, runtime.txt, a Dockerfile's FROM, nearest above the set's home.
    # The image that installs the set decides; else the pins nearest above its home.
    pins = [pin for pin in project.facts.get(PYTHON_FACT, ()) if pin.path in install_set.installed_by]
    own = bool(pins)
    pins = pins or [pin for pin in project.facts.get(PYTHON_FACT, ()) if _inside(home, _dirname(pin.path))]
    if pins:
        nearest = max(_dirname(pin.path).count("/") + (1 if _dirname(pin.path) else 0) for pin in pins)
        chosen_pins = [p for p in pins if _dirname(p.path).count("/") + (1 if _dirname(p.path) else 0) == nearest]
        versions = sorted({m for m in (_minor(p.version) for p in chosen_pins) if m in KNOWN_PYTHONS},
                          key=KNOWN_PYTHONS.index)
        if versions:
            where = ", ".join(list(dict.fromkeys(f"{p.path}:{p.line} `{p.label}`" for p in chosen_pins))[:3])
            return tuple(versions), where, own
    return None


# Packages whose releases say which Pythons a Django/Channels environment runs on.
_PYTHON_DECIDERS = ("django", "channels", "daphne", "channels-redis", "uvicorn")


def _inferred_python(project: "ProjectModel", install_set: InstallSet) -> Optional[tuple[tuple[str, ...], str]]:
    """The Pythons the set's pinned Django/channels/daphne releases support, when nothing declares one."""
    common: Optional[set[str]] = None
    said: list[str] = []
    deciders = sorted((d for d in project.declared_in(install_set.files) if d.name in _PYTHON_DECIDERS),
                      key=lambda d: _PYTHON_DECIDERS.index(d.name))
    for declaration in deciders:  # Django first: a pin the rest contradicts (channels 1 next to Django 3) is skipped
        if declaration.locked and declaration.source_kind == "lock":
            continue
        if not declaration.specifier:
            continue
        supported = _pythons_of(declaration.name, declaration.specifier)
        if supported is None:
            continue
        if not supported or (common is not None and not common & supported):
            continue
        common = supported if common is None else common & supported
        said.append(f"`{declaration.name}{declaration.specifier}`")
    if not common:
        return None
    ordered = tuple(v for v in KNOWN_PYTHONS if v in common)
    return ordered, f"the Pythons {', '.join(dict.fromkeys(said))} support{'s' if len(said) == 1 else ''}"


@lru_cache(maxsize=1024)
def _pythons_of(package: str, specifier: str) -> Optional[frozenset[str]]:
    """The Pythons some release of ``package`` that ``specifier`` admits supports; None when the
    specifier is invalid or admits no recorded release. (Memoized: a monorepo repeats its pins.)"""
    from . import knowledge
    from .resolver import releases as recorded

    spec = _spec(specifier)
    if spec is None:
        return None
    versions = [v for v in recorded(package) if spec.contains(_parsed(v), prereleases=False)]
    if not versions:
        return None
    supported: set[str] = set()
    for version in versions:
        supported |= set(_release_pythons(knowledge, package, version))
    return frozenset(supported)


def _parsed(version: str):
    """``version`` parsed once (the resolver's cache), or as it is when it is no version (``contains`` says no)."""
    from packaging.version import InvalidVersion

    from .resolver import _version

    try:
        return _version(version)
    except InvalidVersion:
        return version


def _release_pythons(knowledge, package: str, version: str) -> tuple[str, ...]:
    supported = getattr(knowledge, "supported_pythons", None)
    if supported is not None:
        try:
            found = tuple(supported(package, version))
        except (KeyError, ValueError, TypeError):
            found = ()
        if found:
            return found
    try:
        requires_python = knowledge.release_record(package, version).get("requires_python")
    except (KeyError, ValueError, TypeError):
        return ()
    return pythons_allowed(requires_python) if requires_python else ()


# -- views --------------------------------------------------------------------------

def fact_path(fact: object) -> Optional[str]:
    return getattr(fact, "path", None)


def view_facts(facts: dict[str, list], sets: list[InstallSet]) -> list[dict[str, list]]:
    """The facts each set's rules see (one dict per set, in order): those of its own files and
    of the code it serves, each kind's facts in their order. One pass over the facts: which sets
    see a file is decided once per file, not once per set (a monorepo has hundreds of sets)."""
    by_file: dict[str, list[int]] = {}
    for index, install_set in enumerate(sets):
        for path in install_set.files:
            by_file.setdefault(path, []).append(index)
    position = {id(install_set): index for index, install_set in enumerate(sets)}
    everyone = tuple(range(len(sets)))
    seers: dict[str, tuple[int, ...]] = {}
    views: list[dict[str, list]] = [{} for _ in sets]
    for kind, values in facts.items():
        chosen: list[Optional[list]] = [None] * len(sets)
        for fact in values:
            path = fact_path(fact)
            if path is None:
                who = everyone
            else:
                who = seers.get(path)
                if who is None:
                    found = set(by_file.get(path, ()))
                    found.update(position[id(s)] for s in sets_serving(sets, path))
                    who = seers[path] = tuple(sorted(found))
            for index in who:
                kept = chosen[index]
                if kept is None:
                    kept = chosen[index] = []
                kept.append(fact)
        for index, kept in enumerate(chosen):
            if kept:
                views[index][kind] = kept
    return views
