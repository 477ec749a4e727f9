"""The project model: what every file said, gathered for rules that need the whole picture.

Per-file analysis stays streaming (nothing but small facts is kept per file);
project matchers (version conflicts, undeclared packages) read this model once
every file has been seen.
"""

from __future__ import annotations

from .records import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

from .textio import TextDocument

T = TypeVar("T")

if TYPE_CHECKING:  # pragma: no cover
    from .install_sets import InstallSet


@dataclass(frozen=True)
class Declaration:
    """One declared dependency: a requirement line, a pyproject entry, a lock pin."""

    name: str  # canonical project name
    specifier: str  # PEP 440 specifier set ("" for unpinned)
    marker: Optional[str]
    path: str  # display path of the declaring file
    line: int
    source_kind: str  # file kind: requirements, pyproject, lock, ...
    start: int = 0  # character offsets of the requirement text, for fixes
    end: int = 0
    text: str = ""  # the requirement as written (Poetry, Pipfile: the version constraint of the key)
    locked: bool = False  # evidence of a resolved version, not a constraint to edit
    generated: bool = False  # pip-compile output or hashed: never rewritten silently
    constraint: bool = False  # -c files, uv constraint/override lists: limit versions, install nothing
    group: Optional[str] = None  # where in the file: "project.optional-dependencies.dev", "packages", ...
    extras: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstalledPins:
    """What an installed environment holds (``asgifix doctor``): rules judge it instead of the pins.

    ``versions``: canonical name -> installed version; ``python``: its Python (``3.11``).
    """

    versions: tuple[tuple[str, str], ...]
    python: Optional[str] = None

    def version(self, package: str) -> Optional[str]:
        return dict(self.versions).get(package)


@dataclass
class ProjectModel:
    declarations: list[Declaration] = field(default_factory=list)
    # Documents that project-level fixes may edit, by display path (kept only
    # for declaration files, which are small).
    documents: dict[str, TextDocument] = field(default_factory=dict)
    # Facts gathered by collectors (collector name -> list of FileFacts).
    facts: dict[str, list] = field(default_factory=dict)
    # Text of the lines facts refer to, by (display path, line): for # noqa and display.
    line_texts: dict[tuple[str, int], str] = field(default_factory=dict)
    # Display path -> path on disk, for every file read.
    paths: dict[str, Path] = field(default_factory=dict)
    # Display path -> file kind, for every document kept.
    kinds: dict[str, str] = field(default_factory=dict)
    # Set on the view of one install set (see :meth:`view`): the environment the rules judge.
    install_set: Optional["InstallSet"] = None
    # On the whole model, once project rules ran: every install set found.
    install_sets: list = field(default_factory=list)

    @property
    def pythons(self) -> tuple[str, ...]:
        """The Pythons this environment runs on, oldest first (() when nothing says)."""
        if self.installed is not None and self.installed.python:
            return (self.installed.python,)
        return self.install_set.pythons if self.install_set is not None else ()

    # Set by `asgifix doctor`: the installed versions every version question is answered from.
    installed: Optional[InstalledPins] = None

    # The paths the run was given, as display paths: directories above them are not the project's
    # (a checkout under `old/` is no copy of its own requirements: install_sets.is_copy).
    roots: tuple[str, ...] = ()

    # On a view: what the other sets of the same home declare (variants and add-ons of one project,
    # such as requirements.txt and requirements-test.txt): evidence that a package is declared.
    peer_declarations: list = field(default_factory=list)
    peers: tuple = ()  # those sets

    def view(self, install_set: "InstallSet", facts: dict[str, list], peers: tuple = ()) -> "ProjectModel":
        """The model one install set's rules see: its declarations, the facts of the code it serves."""
        peer_files = set().union(*(p.files for p in peers)) - install_set.files if peers else set()
        return ProjectModel(
            declarations=self.declared_in(install_set.files),
            documents=self.documents, facts=facts, line_texts=self.line_texts, paths=self.paths,
            kinds=self.kinds, install_set=install_set, installed=self.installed, roots=self.roots,
            peer_declarations=self.declared_in(peer_files), peers=tuple(peers))

    def declared_in(self, files) -> list[Declaration]:
        """The declarations of these files (display paths), in the project's order."""
        by_path = self.derived("declarations_by_path", _declarations_by_path)
        found = [entry for path in files for entry in by_path.get(path, ())]
        found.sort(key=_first)
        return [declaration for _, declaration in found]

    def derived(self, name: str, compute: Callable[["ProjectModel"], T]) -> T:
        """``compute(self)``, remembered while the declarations stay the same list of the same length
        (the project phase asks the same questions of a set's declarations many times over: a
        monorepo's 200 sets, every rule)."""
        key = (id(self.declarations), len(self.declarations))
        memo = self.__dict__.setdefault("_derived", {})
        hit = memo.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        value = compute(self)
        memo[name] = (key, value)
        return value

    def allowed_versions(self, package: str) -> Optional[list[str]]:
        """Releases of ``package`` (oldest first) that an install of this environment can end up with.

        Decided by the resolver from every constraint of the set (an unpinned asgiref beside
        ``django==1.8.12`` and ``channels>=0.13.1`` is 1.1.2). A package the set declares
        with a version range may be any release some installable combination uses; one it
        does not pin is what pip installs today (the newest that fits, on each of the set's
        Pythons). None when the set does not install the package, or it is not in the data.
        """
        if self.installed is not None:  # an installed environment has exactly what it has
            from .knowledge import normalize_name

            version = self.installed.version(normalize_name(package))
            return [version] if version else None
        from .environment import allowed_versions

        return allowed_versions(self, package)

    def line_text_getter(self, path: str) -> Callable[[int], str]:
        document = self.documents.get(path)
        if document is not None:
            return document.line_text
        return lambda line: self.line_texts.get((path, line), "")

    def declared(self, name: str) -> list[Declaration]:
        return [d for d in self.declarations if d.name == name]

    def add_fact(self, kind: str, fact: object) -> None:
        self.facts.setdefault(kind, []).append(fact)


def _declarations_by_path(project: ProjectModel) -> dict[str, list[tuple[int, Declaration]]]:
    by_path: dict[str, list[tuple[int, Declaration]]] = {}
    for place, declaration in enumerate(project.declarations):
        by_path.setdefault(declaration.path, []).append((place, declaration))
    return by_path


def _first(entry: tuple) -> int:
    return entry[0]
