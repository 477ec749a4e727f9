"""Which files to look at, and what kind of file each is.

Discovery uses ``os.scandir`` and applies excludes to directories before
descending into them, so an excluded ``node_modules`` costs one name compare.
Symbolic links are not followed: a link can point outside the project (and a
fix must never write there) or form a cycle.
"""

from __future__ import annotations

import os
import posixpath
import re
from operator import attrgetter
from fnmatch import fnmatchcase, translate
from pathlib import Path
from typing import Iterable, Iterator, Optional

LOCK_FILES = {"poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock"}
NOT_REQUIREMENTS_IN = {"manifest", "makefile", "configure", "pipfile", "setup"}
REQUIREMENTS_DIRS = {"requirements", "requirements.d", "reqs", "requirements-files"}
# Files that start the server (read for which server runs: AFX103), by exact name,
# name prefix (Procfile.dev, Dockerfile.prod, docker-compose.prod.yml) and suffix.
SERVER_CONFIG_NAMES = {"procfile", "dockerfile", "containerfile", "makefile", "supervisord.conf"}
SERVER_CONFIG_PREFIXES = ("procfile.", "dockerfile.", "containerfile.", "docker-compose.", "compose.")
SERVER_CONFIG_SUFFIXES = (".sh", ".service", ".dockerfile")
SUPERVISOR_DIRS = {"supervisor", "supervisord", "conf.d"}
# A file named on the command line with one of these extensions is a requirements file
# whatever its name (`asgifix check deps/base.pip`); other unclassified named files are skipped.
EXPLICIT_REQUIREMENTS_SUFFIXES = (".txt", ".in", ".pip")


class SourceFile:
    """A file to check: where it is, how to show it, and what kind of file it is.

    ``path`` is a :class:`~pathlib.Path`, made on first use: most discovered
    files are only read (through ``fspath``) and rejected by the prefilter, and
    building a Path for each of them is a measurable share of a large walk.
    """

    __slots__ = ("_path", "display", "kind", "explicit")

    def __init__(self, path: "str | os.PathLike[str]", display: str, kind: str, explicit: bool):
        self._path = path  # the path to open
        self.display = display  # the path to show: as given on the command line joined with the relative path
        self.kind = kind  # one of catalogue.FILE_KINDS
        self.explicit = explicit  # named on the command line (checked even if excluded)

    @property
    def path(self) -> Path:
        path = self._path
        if not isinstance(path, Path):
            path = self._path = Path(path)
        return path

    @property
    def name(self) -> str:
        """The file's name (no Path is made for it: the prefilter asks for every file)."""
        path = self._path
        return path.name if isinstance(path, Path) else os.path.basename(path)

    @property
    def fspath(self) -> str:
        return os.fspath(self._path)

    def key(self) -> tuple:
        """``SourceFile(*key)`` makes an equal file (what the process pool sends)."""
        return (self.fspath, self.display, self.kind, self.explicit)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourceFile):
            return NotImplemented
        return self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        return (f"SourceFile(path={self.path!r}, display={self.display!r}, kind={self.kind!r}, "
                f"explicit={self.explicit!r})")

    def __getstate__(self) -> tuple:
        return self.key()

    def __setstate__(self, state: tuple) -> None:
        self._path, self.display, self.kind, self.explicit = state


def classify(path: Path, *, explicit: bool = False) -> Optional[str]:
    """The file kind of ``path`` by its name, or None when asgifix has nothing to say about it."""
    return classify_name(path.name, path.parent.name, explicit=explicit)


def classify_name(name: str, parent_name: str, *, explicit: bool = False) -> Optional[str]:
    """:func:`classify` from the file's name and its directory's name (no Path needed)."""
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
    if lower in (".python-version", "runtime.txt"):
        return "python-version"
    if parent_name == "workflows" and lower.endswith((".yml", ".yaml")):
        return "server-config"  # CI workflows: what they install, and with which Python
    if lower in SERVER_CONFIG_NAMES or lower.endswith(SERVER_CONFIG_SUFFIXES):
        return "server-config"
    if lower.startswith(SERVER_CONFIG_PREFIXES) and (
            not lower.startswith(("docker-compose.", "compose.")) or lower.endswith((".yml", ".yaml"))):
        return "server-config"
    if lower.endswith(".conf") and ("supervisor" in lower or parent_name.lower() in SUPERVISOR_DIRS):
        return "server-config"
    if lower.endswith(".txt"):
        if "requirements" in lower or "constraints" in lower or parent_name.lower() in REQUIREMENTS_DIRS:
            return "requirements"
        return "requirements" if explicit else None
    if lower.endswith(".in"):
        stem = lower[:-3]
        if "." not in stem and stem not in NOT_REQUIREMENTS_IN:
            return "requirements"
        return "requirements" if explicit else None
    if explicit and lower.endswith(EXPLICIT_REQUIREMENTS_SUFFIXES):
        # A file named on the command line with a requirements file's extension is
        # read as one, as `pip install -r FILE` would. Any other file (a YAML, Markdown
        # or configuration file that pre-commit hands over) is not a declaration: skipped.
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


class ExcludeMatcher:
    """:func:`is_excluded` for one list of patterns, compiled once for a whole walk.

    Discovery asks about every entry of the tree, so the patterns are split
    once: plain names go to a set (one hash lookup), globs are joined into one
    regular expression for the name and one for the relative path.
    """

    def __init__(self, patterns: Iterable[str]):
        names: set[str] = set()
        relatives: set[str] = set()
        name_globs: list[str] = []
        relative_globs: list[str] = []
        for pattern in patterns:
            pattern = pattern.rstrip("/")
            candidates = [pattern] + ([pattern[2:]] if pattern.startswith("./") else [])
            for index, candidate in enumerate(candidates):
                if not any(char in candidate for char in "*?["):
                    # A plain pattern without a slash can only equal the name (a
                    # relative path equal to it is a top-level name), with a slash
                    # only the relative path.
                    (relatives if "/" in candidate or index else names).add(candidate)
                else:
                    if index == 0:
                        name_globs.append(candidate)
                    relative_globs.append(candidate)
        self.names = frozenset(names)
        self.relatives = frozenset(relatives)
        self.name_regex = _joined(name_globs)
        self.relative_regex = _joined(relative_globs)

    def __call__(self, relative: str, name: str) -> bool:
        return (
            name in self.names
            or relative in self.relatives
            or (self.name_regex is not None and self.name_regex(name) is not None)
            or (self.relative_regex is not None and self.relative_regex(relative) is not None)
        )


def _joined(globs: list[str]):
    if not globs:
        return None
    return re.compile("|".join(f"(?:{translate(glob)})" for glob in globs)).match


def display_path(given: str, relative: str) -> str:
    """``given`` (as typed) joined with ``relative``, normalised, with POSIX separators."""
    given_posix = given.replace(os.sep, "/") if os.sep != "/" else given
    joined = posixpath.join(given_posix, relative) if relative else given_posix
    return posixpath.normpath(joined)


def discover(paths: Iterable[str], excludes: Iterable[str],
             unlisted: Optional[list] = None, skipped: Optional[list] = None, *,
             respect_gitignore: bool = False) -> Iterator[SourceFile]:
    """Every checkable file under ``paths``, in a stable order, each once.

    A directory that cannot be listed is appended to ``unlisted`` as
    ``(display path, reason)`` when a list is given (the walk goes on); a named
    file that is no file asgifix reads is appended to ``skipped`` (its display path).
    """
    excluded = ExcludeMatcher(excludes)
    paths = list(paths)
    # Files are de-duplicated by real path only when several paths are given
    # (``asgifix check . src``): one tree cannot list a file twice, and not
    # keeping a set of every path keeps memory flat on big trees.
    seen: Optional[set[str]] = set() if len(paths) > 1 else None
    for given in paths:
        root = Path(given)
        if root.is_file() or (not root.exists() and not root.is_dir()):
            # Missing paths are reported by the caller before discovery.
            if root.is_file():
                kind = classify(root, explicit=True)
                if kind is None and skipped is not None:
                    skipped.append(display_path(given, ""))
                key = os.path.realpath(root)
                if kind and (seen is None or key not in seen):
                    if seen is not None:
                        seen.add(key)
                    yield SourceFile(root, display_path(given, ""), kind, True)
            continue
        yield from _walk(root, given, excluded, seen, unlisted, respect_gitignore)


_name = attrgetter("name")


def _gitignore_start(root: str) -> dict:
    """The per-directory .gitignore rules of a walk, starting with those in force at its root."""
    from .gitignore import Ignores, for_walk

    global _NO_RULES
    if _NO_RULES is None:
        _NO_RULES = Ignores()
    return {"": for_walk(root)}


_NO_RULES = None  # the empty rule set, made when .gitignore is first respected


def _walk(root: Path, given: str, excluded: ExcludeMatcher, seen: Optional[set[str]],
          unlisted: Optional[list] = None, respect_gitignore: bool = False) -> Iterator[SourceFile]:
    # Symbolic links are never followed below the root, so an entry's real path
    # is the root's real path joined with its relative path.
    real_root = os.path.realpath(root)
    base = display_path(given, "")  # entries are shown as base/relative
    base = "" if base == "." else (base if base.endswith("/") else base + "/")
    stack: list[tuple[str, str, str]] = [(str(root), "", root.name)]
    # .gitignore rules in force per directory still to walk (asgifix.gitignore); None: not respected
    ignores = _gitignore_start(str(root)) if respect_gitignore else None
    while stack:
        directory, relative_dir, directory_name = stack.pop()
        rules = ignores.pop(relative_dir) if ignores is not None else None
        try:
            with os.scandir(directory) as iterator:
                entries = sorted(iterator, key=_name)
        except OSError as exc:
            if unlisted is not None:
                unlisted.append(((base + relative_dir) if relative_dir else display_path(given, ""),
                                 exc.strerror or str(exc)))
            continue
        if rules is not None and any(entry.name == ".gitignore" for entry in entries):
            rules = rules.entering(directory, relative_dir)
        if rules is not None and not rules.specs:
            rules = _NO_RULES  # nothing to ask (the common case): one attribute test per entry
        prefix = f"{relative_dir}/" if relative_dir else ""
        subdirs = []
        for entry in entries:
            name = entry.name
            relative = prefix + name
            try:
                if entry.is_symlink():
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if excluded(relative, name):
                continue
            if is_dir:
                if rules is not None and rules.specs and rules.ignored(relative, True):
                    continue
                subdirs.append((entry.path, relative, name))
                if ignores is not None:
                    ignores[relative] = rules
                continue
            kind = classify_name(name, directory_name)
            if kind is None:
                continue
            # (asked after the name: most files of a tree are no file asgifix reads)
            if rules is not None and rules.specs and rules.ignored(relative, False):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue  # a FIFO, socket or device named like a project file: opening it could block
            except OSError:
                continue
            if seen is not None:
                key = os.path.join(real_root, relative.replace("/", os.sep))
                if key in seen:
                    continue
                seen.add(key)
            # display_path(given, relative), without normalising each time: a
            # relative path built from directory entries is already normal. When the two
            # spell the same path (most walks), one string serves both: a walk's files are
            # held until the workers are done (asgifix.parallel.forked_results).
            path, display = entry.path, base + relative
            yield SourceFile(display if path == display else path, display, kind, False)
        # Reverse so the stack pops directories in name order.
        stack.extend(reversed(subdirs))
