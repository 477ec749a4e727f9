"""Following ``-r``/``-c`` includes between requirements files, the way pip resolves them.

Discovery finds files by name; pip finds them by following includes. The two
differ: ``-r base.pip`` names a file no name-based discovery would pick, and an
include can point into an excluded directory. Such files are read too (their
declarations count, and file rules check them). Includes that cannot be
followed are recorded as :class:`IncludeProblem` facts for AFX104, never as
crashes:

* a missing file (pip: ``Could not open requirements file``);
* a URL (pip would download it at install time; asgifix never fetches);
* a path outside the project root (asgifix reads and writes only inside the
  project roots of the paths it was given, see :func:`project_root`);
* a cycle (pip 23 recurses until Python's recursion limit; newer pips stop
  with "recursively references itself"): reported once, at the include that
  closes it.

Paths resolve relative to the including file's directory, as pip does
(``os.path.join(os.path.dirname(filename), req_path)``).
"""

from __future__ import annotations

import os
import posixpath
import re
from .records import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from .engine import FileResult
    from .model import Span

INCLUDE_FACT = "requirements-include"
PROBLEM_FACT = "include-problem"
# pip's req_file.SCHEME_RE, widened to any URL scheme (pip passes those to its downloader).
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(//|[^\\/])")
# pip expands ${VAR} (upper case, digits, underscore) in requirements files.
_ENV_VAR = re.compile(r"\$\{[A-Z0-9_]+\}")


@dataclass(frozen=True)
class IncludeRequest:
    """A ``-r``/``-c`` line as written: the including file, where the target is, what it names."""

    path: str  # display path of the including file
    span: "Span"  # the target text
    target: str
    constraint: bool  # -c (versions only) rather than -r


def _short(target: str) -> str:
    return target if len(target) <= 60 else target[:59] + "…"


@dataclass(frozen=True)
class IncludeProblem:
    path: str  # display path of the file holding the include
    span: "Span"
    kind: str  # missing, not-a-file, url, outside, cycle, missing-group
    target: str
    detail: str  # one short sentence saying what is wrong
    note: str = ""  # the details behind it (the finding's note)


@dataclass
class IncludeOutcome:
    extra: list  # FileResults of files read only because something includes them
    problems: list[IncludeProblem]
    constraint_only: set[str]  # display paths reached only through -c


# Files and directories that mark a project's top directory.
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "requirements.txt", ".git", ".hg")


def project_root(given: str) -> str:
    """The real path of the project root of one path given on the command line.

    A directory (not a symbolic link) is its own root. For a file, or a link, it is the
    nearest directory above it (its own first) holding a project marker, else the
    directory it is in (the one above a ``requirements/`` directory): ``fix requirements.txt``
    may fix the ``-r base.txt`` beside it, ``requirements/dev.txt`` may include
    ``../requirements.txt``, and ``-r ../../.ssh/key`` from a named file is outside,
    whatever the current directory.
    """
    from .discovery import REQUIREMENTS_DIRS

    absolute = os.path.abspath(given)
    if os.path.isdir(absolute) and not os.path.islink(absolute):
        return os.path.realpath(absolute)
    directory = os.path.dirname(absolute)
    if os.path.basename(directory).lower() in REQUIREMENTS_DIRS:
        directory = os.path.dirname(directory)
    probe = directory
    while True:
        if any(os.path.lexists(os.path.join(probe, marker)) for marker in PROJECT_MARKERS):
            return os.path.realpath(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            return os.path.realpath(directory)
        probe = parent


def roots_for(paths: Iterable[str], base_dir: Path = None) -> list[str]:
    """The real directories asgifix may read (includes) and write (fixes): each given path's
    :func:`project_root`. (``base_dir`` is not used: the current directory is no root.)"""
    roots: list[str] = []
    for given in paths:
        root = project_root(given)
        if root not in roots:
            roots.append(root)
    return roots


def root_holding(real: str, roots: Iterable[str]) -> "str | None":
    """The root that holds the real path ``real``, or None."""
    for root in roots:
        if _inside(real, root):
            return root
    return None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def follow_includes(results: list["FileResult"], roots: list[str],
                    analyze: Callable[[object], "FileResult"]) -> IncludeOutcome:
    """Resolve every include of every requirements result, reading files discovery did not see."""
    from .discovery import SourceFile

    outcome = IncludeOutcome([], [], set())
    reals: dict[str, str] = {}  # each file's real path, resolved once (a lstat per path component)

    def real_of(result: "FileResult") -> str:
        path = result.source.fspath
        if path not in reals:
            reals[path] = os.path.realpath(path)
        return reals[path]

    by_real: dict[str, "FileResult"] = {}
    for result in results:
        if result.source.kind == "requirements":
            by_real.setdefault(real_of(result), result)
    queue = [r for r in results if r.source.kind == "requirements"]
    edges: dict[str, list[tuple[str, IncludeRequest]]] = {}
    reached_by_r: set[str] = set()
    reached_by_c: set[str] = set()
    position = 0
    while position < len(queue):
        result = queue[position]
        position += 1
        here = None
        for kind, request in result.facts:
            if kind != INCLUDE_FACT:
                continue
            if here is None:
                here = real_of(result)
            target = request.target
            if _ENV_VAR.search(target):
                continue  # expanded by pip from the environment at install time: nothing to check here
            if _URL.match(target) and not re.match(r"^[A-Za-z]:[\\/]", target):
                outcome.problems.append(IncludeProblem(
                    request.path, request.span, "url", target,
                    f"includes the URL {_short(target)}: every install depends on that server",
                    "pip downloads it at install time, and asgifix cannot check what it declares"))
                continue
            resolved = os.path.normpath(os.path.join(os.path.dirname(str(result.source.path)), target))
            real = os.path.realpath(resolved)
            if not any(_inside(real, root) for root in roots):
                outcome.problems.append(IncludeProblem(
                    request.path, request.span, "outside", target,
                    f"includes {_short(target)}, which is outside the checked project",
                    "asgifix reads only the paths it is given, so that file is not checked"))
                continue
            if not os.path.exists(resolved):
                outcome.problems.append(IncludeProblem(
                    request.path, request.span, "missing", target,
                    f"includes {_short(target)}, which does not exist: pip stops installing",
                    "pip says: Could not open requirements file"))
                continue
            if not os.path.isfile(resolved):
                outcome.problems.append(IncludeProblem(
                    request.path, request.span, "not-a-file", target,
                    f"includes {target}, which is not a file"))
                continue
            (reached_by_c if request.constraint else reached_by_r).add(real)
            edges.setdefault(here, []).append((real, request))
            if real not in by_real:
                display = posixpath.normpath(posixpath.join(posixpath.dirname(result.source.display),
                                                            target.replace(os.sep, "/")))
                # Named by -r/-c, so explicitly a requirements file (never sniffed as prose).
                included = analyze(SourceFile(Path(resolved), display, "requirements", True))
                by_real[real] = included
                outcome.extra.append(included)
                queue.append(included)
    if edges:
        outcome.problems.extend(_cycles(edges, [real_of(r) for r in queue]))
    only_constrained = reached_by_c - reached_by_r
    discovered = {real_of(r) for r in results} if only_constrained else set()
    for real in only_constrained - discovered:
        outcome.constraint_only.add(by_real[real].source.display)
    return outcome


def _cycles(edges: dict[str, list[tuple[str, "IncludeRequest"]]], order: list[str]) -> list[IncludeProblem]:
    """One problem per distinct cycle, at the include that closes it (depth-first, in reading order)."""
    problems: list[IncludeProblem] = []
    reported: set[frozenset] = set()
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> None:
        # Iterative depth-first search: include chains can be long, recursion limits are not.
        work: list[tuple[str, int]] = [(node, 0)]
        state[node] = 1
        stack.append(node)
        while work:
            current, index = work.pop()
            targets = edges.get(current, [])
            if index < len(targets):
                work.append((current, index + 1))
                target, request = targets[index]
                if state.get(target) == 1:
                    members = frozenset(stack[stack.index(target):])
                    if members not in reported:
                        reported.add(members)
                        chain = [os.path.basename(m) for m in stack[stack.index(target):]] + [os.path.basename(target)]
                        problems.append(IncludeProblem(
                            request.path, request.span, "cycle", request.target,
                            f"includes {_short(request.target)}, which leads back here: pip cannot install it",
                            f"{' -> '.join(chain)}: pip 23 and older recurse until they crash, newer pips "
                            f"refuse the file"))
                elif state.get(target) is None:
                    state[target] = 1
                    stack.append(target)
                    work.append((target, 0))
            else:
                state[current] = 2
                stack.pop()

    for node in order:
        if state.get(node) is None:
            visit(node)
    return problems


def include_request(document, start: int, end: int, target: str, constraint: bool) -> IncludeRequest:
    return IncludeRequest(document.display, document.span(start, end), target, constraint)


def constraint_marked(declarations: list, constraint_only: set[str]) -> list:
    """Declarations of files reached only through ``-c`` are constraints, not requirements."""
    if not constraint_only:
        return declarations
    from dataclasses import replace

    return [replace(d, constraint=True) if d.path in constraint_only else d for d in declarations]

