"""Which files to look at, and what kind of file each is.

Discovery uses ``os.scandir`` and applies excludes to directories before
descending into them, so an excluded ``node_modules`` costs one name compare.
Symbolic links are not followed: a link can point outside the project (and a
fix must never write there) or form a cycle.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Iterable, Iterator, Optional

LOCK_FILES = {"poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock"}
NOT_REQUIREMENTS_IN = {"manifest", "makefile", "configure", "pipfile", "setup"}
REQUIREMENTS_DIRS = {"requirements", "requirements.d", "reqs", "requirements-files"}


@dataclass(frozen=True)
class SourceFile:
    path: Path  # the path to open
    display: str  # the path to show: as given on the command line joined with the relative path
    kind: str  # one of catalogue.FILE_KINDS
    explicit: bool  # named on the command line (checked even if excluded)


def classify(path: Path, *, explicit: bool = False) -> Optional[str]:
    """The file kind of ``path`` by its name, or None when asgifix has nothing to say about it."""
    name = path.name
    lower = name.lower()
    if name == "setup.py":
        # Read statically for setup(install_requires=...), never run.
        return "setup-py"
    if lower.endswith(".py"):
        return "python"
    if name == "pyproject.toml":
        return "pyproject"
    if name == "setup.cfg":
        return "setup-cfg"
    if name == "Pipfile":
        return "pipfile"
    if name in LOCK_FILES or (lower.startswith("pylock.") and lower.endswith(".toml")):
        return "lock"
    if lower.endswith(".txt"):
        if "requirements" in lower or "constraints" in lower or path.parent.name.lower() in REQUIREMENTS_DIRS:
            return "requirements"
        return "requirements" if explicit else None
    if lower.endswith(".in"):
        stem = lower[:-3]
        if "." not in stem and stem not in NOT_REQUIREMENTS_IN:
            return "requirements"
        return "requirements" if explicit else None
    if explicit and not lower.endswith((".toml", ".cfg", ".json", ".lock", ".md", ".rst")):
        # A file named on the command line that we cannot otherwise classify is
        # read as a requirements file, as `pip install -r FILE` would.
        return "requirements"
    return None


def is_excluded(relative: str, name: str, patterns: Iterable[str]) -> bool:
    """True when a pattern matches the entry's name or its POSIX path relative to the walk root."""
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if fnmatchcase(name, pattern) or fnmatchcase(relative, pattern):
            return True
        if pattern.startswith("./") and fnmatchcase(relative, pattern[2:]):
            return True
    return False


def display_path(given: str, relative: str) -> str:
    """``given`` (as typed) joined with ``relative``, normalised, with POSIX separators."""
    given_posix = given.replace(os.sep, "/") if os.sep != "/" else given
    joined = posixpath.join(given_posix, relative) if relative else given_posix
    return posixpath.normpath(joined)


def discover(paths: Iterable[str], excludes: Iterable[str]) -> Iterator[SourceFile]:
    """Every checkable file under ``paths``, in a stable order, each once."""
    excludes = list(excludes)
    seen: set[str] = set()
    for given in paths:
        root = Path(given)
        if root.is_file() or (not root.exists() and not root.is_dir()):
            # Missing paths are reported by the caller before discovery.
            if root.is_file():
                kind = classify(root, explicit=True)
                key = os.path.realpath(root)
                if kind and key not in seen:
                    seen.add(key)
                    yield SourceFile(root, display_path(given, ""), kind, True)
            continue
        yield from _walk(root, given, excludes, seen)


def _walk(root: Path, given: str, excludes: list[str], seen: set[str]) -> Iterator[SourceFile]:
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        directory, relative_dir = stack.pop()
        try:
            with os.scandir(directory) as iterator:
                entries = sorted(iterator, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
            try:
                if entry.is_symlink():
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_excluded(relative, entry.name, excludes):
                continue
            if is_dir:
                subdirs.append((entry.path, relative))
                continue
            path = Path(entry.path)
            kind = classify(path)
            if kind is None:
                continue
            key = os.path.realpath(entry.path)
            if key in seen:
                continue
            seen.add(key)
            yield SourceFile(path, display_path(given, relative), kind, False)
        # Reverse so the stack pops directories in name order.
        stack.extend(reversed(subdirs))
