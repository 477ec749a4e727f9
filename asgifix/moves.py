"""The moves catalogue: old ``module:Name`` -> new ``module:Name`` (rules/data/moves.toml), with the
releases that define each side (rules/data/moves.json, read from every release by
scripts/build_knowledge.py --only moves).

A move is decided from what an install set allows (:func:`verdict`): the old name must be gone
from every allowed release of its package (or the package not installed at all) and the new
name present in every allowed release of its package; otherwise the code is right as it is
("fine"), or the pins straddle the break ("straddle": report, do not rewrite), or nothing the set
installs has the successor ("missing").
"""

from __future__ import annotations

import json
from .records import dataclass
from functools import lru_cache
from typing import Callable, Optional

from ._paths import data_dir


@dataclass(frozen=True)
class Move:
    old: str  # "module:Name"
    new: str
    old_package: str
    new_package: str
    applicability: str
    note: str
    kinds: tuple[str, ...]
    python: Optional[str] = None  # new-package "python": the standard library from this Python on

    @property
    def old_module(self) -> str:
        return self.old.partition(":")[0]

    @property
    def old_name(self) -> str:
        return self.old.partition(":")[2]

    @property
    def new_module(self) -> str:
        return self.new.partition(":")[0]

    @property
    def new_name(self) -> str:
        return self.new.partition(":")[2]

    @property
    def old_dotted(self) -> str:
        return f"{self.old_module}.{self.old_name}"

    @property
    def new_dotted(self) -> str:
        return f"{self.new_module}.{self.new_name}"


def _load_toml(path):
    from .datafiles import load_toml

    return load_toml(path)


@lru_cache(maxsize=1)
def all_moves() -> tuple[Move, ...]:
    data = _load_toml(data_dir() / "moves.toml")
    return tuple(Move(m["old"], m["new"], m["old-package"], m["new-package"], m["applicability"], m["note"],
                      tuple(m["kinds"]), m.get("python")) for m in data.get("move", ()))


@lru_cache(maxsize=1)
def _defined() -> dict:
    with open(data_dir() / "moves.json", encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=None)
def moves_for(kind: str) -> dict[str, Move]:
    """old dotted path (``asgiref.base_layer.BaseChannelLayer``) -> move, for one kind."""
    return {m.old_dotted: m for m in all_moves() if kind in m.kinds}


@lru_cache(maxsize=None)
def old_modules(kind: str) -> frozenset[str]:
    return frozenset(m.old_module for m in moves_for(kind).values())


@lru_cache(maxsize=None)
def defined_in(package: str, target: str) -> frozenset[str]:
    """Releases of ``package`` whose files define ``target`` (``module:Name``)."""
    data = _defined()
    releases = data["releases"].get(package, [])
    index = {r: i for i, r in enumerate(releases)}
    found: set[str] = set()
    for first, last in data["defined"].get(package, {}).get(target, ()):
        found.update(releases[index[first]: index[last] + 1])
    return frozenset(found)


def first_release(package: str, target: str) -> Optional[str]:
    releases = _defined()["releases"].get(package, [])
    have = defined_in(package, target)
    return next((r for r in releases if r in have), None)


def last_release(package: str, target: str) -> Optional[str]:
    releases = _defined()["releases"].get(package, [])
    have = defined_in(package, target)
    return next((r for r in reversed(releases) if r in have), None)


@dataclass(frozen=True)
class Verdict:
    state: str  # "rewrite", "fine", "straddle", "missing"
    old_allowed: Optional[tuple[str, ...]]
    new_allowed: Optional[tuple[str, ...]]
    without_old: tuple[str, ...] = ()  # allowed releases lacking the old name (straddle)


def verdict(move: Move, allowed: Callable[[str], Optional[list[str]]],
            pythons: tuple[str, ...] = ()) -> Verdict:
    """What the install set's allowed versions say about ``move`` (``allowed`` is
    ``project.allowed_versions``; ``pythons`` the set's Pythons, for moves into the standard library)."""
    if move.new_package == "python":
        # A deprecation: the old name still works; move only where every Python has the new one.
        if not pythons or move.python is None:
            return Verdict("fine", None, None)
        from packaging.version import Version

        if all(Version(p) >= Version(move.python) for p in pythons):
            return Verdict("rewrite", None, tuple(pythons))
        if any(Version(p) >= Version(move.python) for p in pythons):
            return Verdict("fine", None, tuple(pythons))  # some Pythons lack it: the old name is right
        return Verdict("fine", None, tuple(pythons))
    old_allowed = allowed(move.old_package)
    new_allowed = allowed(move.new_package) if move.new_package != move.old_package else old_allowed
    old_tuple = tuple(old_allowed) if old_allowed is not None else None
    new_tuple = tuple(new_allowed) if new_allowed is not None else None
    if old_allowed:
        have_old = defined_in(move.old_package, move.old)
        with_old = [v for v in old_allowed if v in have_old]
        if len(with_old) == len(old_allowed):
            return Verdict("fine", old_tuple, new_tuple)
        if with_old:
            return Verdict("straddle", old_tuple, new_tuple, tuple(v for v in old_allowed if v not in have_old))
    if new_allowed and all(v in defined_in(move.new_package, move.new) for v in new_allowed):
        return Verdict("rewrite", old_tuple, new_tuple)
    return Verdict("missing", old_tuple, new_tuple)


def describe(versions: Optional[tuple[str, ...]]) -> str:
    if not versions:
        return "none"
    return versions[0] if len(versions) == 1 else f"{versions[0]} to {versions[-1]}"


@lru_cache(maxsize=None)
def change_since(change_id: str) -> tuple[str, str]:
    """(package, first release) of a ``[[change]]`` of moves.toml (evidence checked by the build script)."""
    for change in _load_toml(data_dir() / "moves.toml").get("change", ()):
        if change["id"] == change_id:
            return change["package"], change["since"]
    raise KeyError(change_id)


def all_from(allowed: Optional[list[str]], since: str) -> bool:
    """Every allowed release is ``since`` or later (False when nothing is allowed)."""
    if not allowed:
        return False
    from packaging.version import Version

    floor = Version(since)
    return all(Version(v) >= floor for v in allowed)


@dataclass(frozen=True)
class Removed:
    target: str  # "module:Name"
    package: str
    replacement: str

    @property
    def dotted(self) -> str:
        module, _, name = self.target.partition(":")
        return f"{module}.{name}"


@lru_cache(maxsize=1)
def removed() -> dict[str, Removed]:
    """dotted path -> a Channels 1 API with no mechanical successor (moves.toml ``[[removed]]``)."""
    data = _load_toml(data_dir() / "moves.toml")
    entries = (Removed(r["target"], r["package"], r["replacement"]) for r in data.get("removed", ()))
    return {entry.dotted: entry for entry in entries}


def presence(package: str, target: str, allowed: Optional[list[str]]) -> str:
    """"gone" (no allowed release defines ``target``), "some", "all" or "unknown" (not installed)."""
    if not allowed:
        return "unknown"
    have = defined_in(package, target)
    count = sum(1 for v in allowed if v in have)
    return "gone" if count == 0 else "all" if count == len(allowed) else "some"
