"""``.gitignore`` files, respected by discovery as git (and ruff) respect them.

The patterns are git's (negation, anchoring, ``dir/`` for directories only, ``**``), read
with the ``pathspec`` library, whose ``GitIgnoreSpec`` follows git's own rules (last match
wins, a re-included file inside an ignored directory stays ignored, as git never looks in
it). It is imported only when a ``.gitignore`` file is found.

Which files apply: the ``.gitignore`` of every directory of the walk, for that directory
and below; and when the walk starts inside a git work tree (a directory above holds
``.git``), the ``.gitignore`` files of the directories from the work tree's top down to the
walk's root, and ``.git/info/exclude``. A ``.gitignore`` above a directory that is not in a
git work tree is not read, nor is one that ignores the walk's root itself (the root was named,
and is walked). ``--no-respect-gitignore`` (or ``respect-gitignore = false``)
turns it off; a named file is checked even when ignored (as with excludes).
"""

from __future__ import annotations

import os
from typing import Optional


class _Spec:
    """One file's patterns, and how a walk-relative path becomes relative to that file's directory."""

    __slots__ = ("spec", "lead", "strip")

    def __init__(self, spec, lead: str, strip: str):
        self.spec = spec
        self.lead = lead  # prepended: the walk root relative to a directory above it ("" when none)
        self.strip = strip  # removed: the directory's path relative to the walk root ("" when none)

    def verdict(self, relative: str, is_dir: bool) -> Optional[bool]:
        """True: ignored; False: re-included (``!pattern``); None: this file says nothing."""
        if self.strip:
            if not relative.startswith(self.strip):
                return None
            relative = relative[len(self.strip):]
        path = self.lead + relative
        return self.spec.check_file(path + "/" if is_dir else path).include


class Ignores:
    """The ``.gitignore`` rules in force in one directory of a walk (innermost last)."""

    __slots__ = ("specs",)

    def __init__(self, specs: tuple = ()):
        self.specs = specs

    def ignored(self, relative: str, is_dir: bool) -> bool:
        # The innermost file that has a say decides (a deeper .gitignore can re-include).
        for spec in reversed(self.specs):
            verdict = spec.verdict(relative, is_dir)
            if verdict is not None:
                return verdict
        return False

    def entering(self, directory: str, relative_dir: str) -> "Ignores":
        """The rules inside ``directory`` (walk-relative ``relative_dir``), which holds a ``.gitignore``."""
        spec = _read(os.path.join(directory, ".gitignore"))
        if spec is None:
            return self
        return Ignores(self.specs + (_Spec(spec, "", f"{relative_dir}/" if relative_dir else ""),))


def _read(path: str):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read(1024 * 1024).splitlines()
    except OSError:
        return None
    lines = [line for line in lines if line.strip() and not line.startswith("#")]
    if not lines:
        return None
    import pathspec

    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except Exception:  # a pattern pathspec cannot read: git would ignore that line; we skip the file
        return None


def for_walk(root: str) -> Ignores:
    """The rules in force at a walk's root: those of the git work tree above it (its own come on entering)."""
    real = os.path.realpath(root)
    above = []
    probe = real
    top = None
    while True:
        parent = os.path.dirname(probe)
        if os.path.exists(os.path.join(probe, ".git")):
            top = probe
            break
        if parent == probe:
            break
        above.append(probe)
        probe = parent
    if top is None or top == real:
        specs = []
    else:
        # Directories from the work tree's top down to the root's parent.
        chain = [top] + [d for d in reversed(above) if d != real]
        specs = []
        for directory in chain:
            spec = _read(os.path.join(directory, ".gitignore"))
            if spec is not None:
                lead = os.path.relpath(real, directory).replace(os.sep, "/") + "/"
                if not _ignores_root(spec, lead):
                    specs.append(_Spec(spec, lead, ""))
    if top is not None:
        exclude = _read(os.path.join(top, ".git", "info", "exclude"))
        if exclude is not None:
            lead = "" if top == real else os.path.relpath(real, top).replace(os.sep, "/") + "/"
            if not _ignores_root(exclude, lead):
                specs.insert(0, _Spec(exclude, lead, ""))
    return Ignores(tuple(specs))


def _ignores_root(spec, lead: str) -> bool:
    """Whether a file above the walk's root ignores the root itself (or a directory on the way to it).

    The root was named: it is walked, as a named file is checked. Such a file would ignore
    everything under it (``bench/.corpus/`` when asgifix is given ``bench/.corpus/x``), so it is
    not applied at all.
    """
    parts = [part for part in lead.split("/") if part]
    return any(spec.check_file("/".join(parts[:index + 1]) + "/").include for index in range(len(parts)))


def walk_start(root: str, enabled: bool) -> Optional[Ignores]:
    """None when .gitignore is not respected; else the rules at the root."""
    return for_walk(root) if enabled else None
