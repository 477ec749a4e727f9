"""Files named on the command line (as pre-commit passes them): the verdict is the project's.

pre-commit hands a hook the staged files only, split over several processes unless the
hook says ``require_serial``. A version verdict needs more than those files: a Django pin
in a committed ``pyproject.toml`` and an asgiref pin staged in ``requirements-dev.txt``
conflict, and a staged module that imports a name the committed asgiref pin lacks breaks.
So when files are named, asgifix reads the project around them and reports only what
concerns them:

* the project root of a named file is the nearest directory above it (its own first)
  holding ``pyproject.toml``, ``setup.py``, ``setup.cfg``, ``Pipfile``,
  ``requirements.txt``, ``.git`` or ``.hg`` (the one above a ``requirements/`` directory;
  :func:`asgifix.includes.project_root`); the whole root is read, with the usual excludes
  and ``.gitignore``, and the named files are checked even when excluded (unless
  ``--force-exclude``);
* a named requirements file brings in the files its ``-r``/``-c`` lines include;
* a finding concerns the named files when it is in one of them, when its fix edits one
  of them, or when it is a verdict of an environment (install set) that one of the named
  declaration files belongs to: the whole environment is judged again when one of its
  declarations changes, so a conflict between a staged pin and a committed one is
  reported wherever the finding is placed, and so is committed code the staged pins break;
* errors are those of the named files; the other files' errors are left to a full check.

Nothing here decides a verdict: the engine and the install sets do; this module only says
which paths to read and which results to show.
"""

from __future__ import annotations

import os
import posixpath
from typing import Iterable, Sequence

from .discovery import classify, display_path


def named_files(paths: Sequence[str]) -> list[str]:
    """The paths that are files (not directories), as given."""
    return [path for path in paths if os.path.isfile(path)]


def _root_display(given: str, root: str) -> str:
    """The project root ``root`` (a real path) shown the way ``given`` is: relative when it is."""
    if os.path.isabs(given):
        return root
    relative = os.path.relpath(root, os.path.realpath(os.getcwd()))
    return relative.replace(os.sep, "/") if os.sep != "/" else relative


class NamedFiles:
    """The named files of one run, the roots to read around them, and which results concern them."""

    def __init__(self, files: Iterable[str], declaration_kinds: Iterable[str]):
        from .includes import project_root

        self.given = list(files)
        self.displays = {display_path(path, "") for path in self.given}
        kinds = set(declaration_kinds)
        self.declarations = {display_path(path, "") for path in self.given
                             if classify(_as_path(path), explicit=True) in kinds}
        self.roots: list[str] = []
        for path in self.given:
            root = _root_display(path, project_root(path))
            if root not in self.roots:
                self.roots.append(root)
        self.dropped_errors: list = []  # errors of files that were read for the verdict only
        self.directories: list[str] = []  # directories named beside the files: checked whole

    def run_paths(self, directories: Sequence[str] = ()) -> list[str]:
        """What the engine reads: the named files first (so they stay "named"), then their roots.

        Directories named beside the files (``asgifix check src requirements.txt``) are checked whole.
        """
        self.directories = [display_path(d, "") for d in directories]
        return list(self.given) + [d for d in directories] + [r for r in self.roots if r not in directories]

    def _in_directories(self, path: str) -> bool:
        return any(d == "." or path == d or path.startswith(d.rstrip("/") + "/") for d in self.directories)

    def holds(self, path: str) -> bool:
        return path in self.displays or self._in_directories(path)

    def add_includes(self, project) -> None:
        """A named requirements file brings in what its ``-r``/``-c`` lines include (transitively)."""
        from .includes import INCLUDE_FACT

        edges: dict[str, list[str]] = {}
        for request in project.facts.get(INCLUDE_FACT, ()):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(request.path), request.target))
            edges.setdefault(request.path, []).append(target)
        stack = [path for path in self.displays if path in edges]
        while stack:
            for target in edges.get(stack.pop(), ()):
                if target not in self.displays:
                    self.displays.add(target)
                    stack.append(target)

    def concerns(self, finding, project, project_level: bool) -> bool:
        if self.holds(finding.path):
            return True
        if finding.fix is not None and any(path in self.displays for path in finding.fix.paths):
            return True
        if not project_level or not self.declarations:
            return False
        return any(self.declarations & files for files in _environment_files(finding, project))

    def keep(self, report, project, first_project_finding: int) -> None:
        """Keep, in ``report``, the findings and errors that concern the named files."""
        self.add_includes(project)
        report.files_named = len(self.given)
        report.findings = [finding for index, finding in enumerate(report.findings)
                           if self.concerns(finding, project, index >= first_project_finding)]
        kept = []
        for error in report.errors:
            (kept if self.holds(error.path) else self.dropped_errors).append(error)
        report.errors = kept


def force_excluded(path: str, patterns: Iterable[str]) -> bool:
    """``--force-exclude``: whether an exclude pattern matches a named file's name, or its path (as
    given, or relative to its project root), or one of the directories on that path."""
    from .discovery import ExcludeMatcher
    from .includes import project_root

    matcher = ExcludeMatcher(patterns)
    real = os.path.realpath(path) if os.path.exists(path) else os.path.abspath(path)
    root = project_root(path)
    candidates = [os.path.relpath(real, root).replace(os.sep, "/"), display_path(path, "")]
    for relative in candidates:
        if relative.startswith("../"):
            continue
        parts = [part for part in relative.split("/") if part not in ("", ".")]
        if any(matcher("/".join(parts[:index + 1]), parts[index]) for index in range(len(parts))):
            return True
    return False


def _as_path(path: str):
    from pathlib import Path

    return Path(path)


def _environment_files(finding, project) -> Iterable[frozenset]:
    """The declaration files of each environment a project finding is made in."""
    sets = [s for s in (getattr(project, "install_sets", None) or ())]
    if not sets:
        # No install set: the project's declarations are judged as one environment.
        yield frozenset(d.path for d in project.declarations)
        return
    if finding.environments:
        chosen = [s for s in sets if s.name in finding.environments]
    else:
        chosen = [s for s in sets if not s.copy] or sets
    for install_set in chosen:
        yield frozenset(install_set.files)


def describe_install_sets(project) -> list[str]:
    """Lines for ``-v``: each environment asgifix judged, its files and its Pythons."""
    lines = []
    for install_set in getattr(project, "install_sets", None) or ():
        where = f" (Python {', '.join(install_set.pythons)})" if install_set.pythons else ""
        copy = " [a copy: serves no code]" if install_set.copy else ""
        files = ", ".join(sorted(install_set.files))
        lines.append(f"environment {install_set.name}{where}{copy}: {files}")
    return lines
