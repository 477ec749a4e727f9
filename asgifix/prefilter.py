"""The bytes prefilter: which files are worth decoding and parsing at all.

A file of a kind is analyzed only when it holds a needle of some matcher or collector that wants
that kind (asgifix.matchers: MatcherSpec.needles, COLLECTORS, REFINEMENTS). Most files of a big
tree hold none, so this test runs on every file and its cost is the floor of a run's.

Two implementations give the same answer:

* with ``ahocorasick_rs`` installed (the ``fast`` extra: the Rust aho-corasick crate that ripgrep
  uses, with wheels for Linux, macOS and Windows), one pass over the bytes finds every needle at
  once, whatever their number: about six times faster than the scans below on a tree of
  20,000 files (bench/RESULTS.md);
* without it (a platform with no wheel, such as musl Linux), :func:`screens` scans: one
  ``bytes.__contains__`` per cover or needle, with covers standing for groups of needles.

A refined needle counts only when one of its refinements holds (asgifix.matchers.Refinement).
tests/test_prefilter_needles.py holds the two implementations to the same answers.
"""

from __future__ import annotations

from typing import Iterable, Optional

# Short strings that many needles contain: a file without ``asgi`` holds none of ``asgiref``,
# ``asgi_redis``, ``get_asgi_application``, ... so one scan rules them all out (see screens).
COVERS = (b"asgi", b"channel", b"onsumer", b"sync", b"_APP")


def screens(needles: Iterable[bytes], refined=()) -> tuple[tuple[bytes, Optional[tuple[bytes, ...]]], ...]:
    """The prefilter as ``(cover, needles)`` scans: a file holds a needle exactly when it holds a
    cover and, unless ``needles`` is None (the cover is a needle), one of its needles.

    Equivalent to scanning for every needle, with fewer scans of a file that holds none (most
    files): a needle that contains another needle is dropped (the shorter one finds the file),
    and needles containing one of :data:`COVERS` are scanned for only after it is found.
    """
    unique = sorted(set(needles), key=lambda n: (len(n), n))
    # (a refined needle finds a file only with its refinement: it rules out no longer needle)
    kept = [n for i, n in enumerate(unique) if not any(m in n and m not in refined for m in unique[:i])]
    grouped: dict[bytes, list[bytes]] = {}
    alone: list[bytes] = []
    for needle in kept:
        cover = next((c for c in COVERS if c in needle), None)
        if cover is None:
            alone.append(needle)
        else:
            grouped.setdefault(cover, []).append(needle)
    out: list[tuple[bytes, Optional[tuple[bytes, ...]]]] = []
    for cover, members in grouped.items():
        if len(members) == 1:
            alone.append(members[0])
        else:
            out.append((cover, None if cover in members and cover not in refined else tuple(members)))
    out.extend((needle, None) for needle in sorted(alone))
    return tuple(out)


def passes(raw: bytes, screened, name: str = "", refined: Optional[dict] = None) -> bool:
    """Whether ``raw`` holds one of the needles that :func:`screens` made ``screened`` from.

    ``refined``: needle -> its refinements (asgifix.matchers.Refinement); such a needle counts
    only when one of them holds for the file (``name``: the file's name)."""
    for cover, needles in screened:  # (loops, not any(): this runs for every file)
        if cover in raw:
            if needles is None:
                if refined is None or cover not in refined or _holds(refined[cover], raw, name):
                    return True
                continue
            for needle in needles:
                if needle in raw and (refined is None or needle not in refined
                                      or _holds(refined[needle], raw, name)):
                    return True
    return False


def _holds(refinements, raw: bytes, name: str) -> bool:
    return any(refinement.holds(raw, name) for refinement in refinements)


def _accelerator():
    """The aho-corasick automaton class, or None when ``ahocorasick_rs`` is not installed."""
    if not ACCELERATED:
        return None
    try:
        from ahocorasick_rs import BytesAhoCorasick
    except ImportError:
        return None
    return BytesAhoCorasick


# Tests turn this off to compare the two implementations.
ACCELERATED = True


class Prefilter:
    """The prefilter of one file kind: ``admits(raw, name)``."""

    __slots__ = ("needles", "refined", "screened", "_automaton")

    def __init__(self, needles: tuple[bytes, ...], refined: Optional[dict] = None):
        self.needles = tuple(needles)
        self.refined = refined or {}
        self.screened = screens(self.needles, self.refined)
        self._automaton = None  # built on first use (and never pickled: workers build their own)

    def __getstate__(self):
        return {"needles": self.needles, "refined": self.refined, "screened": self.screened}

    def __setstate__(self, state) -> None:
        self.needles, self.refined, self.screened = state["needles"], state["refined"], state["screened"]
        self._automaton = None

    @property
    def backend(self) -> str:
        return "aho-corasick" if self._automaton_or_false() else "scans"

    def _automaton_or_false(self):
        automaton = self._automaton
        if automaton is None:
            factory = _accelerator()
            automaton = self._automaton = factory(list(self.needles)) if factory and self.needles else False
        return automaton

    def admits(self, raw: bytes, name: str = "") -> bool:
        automaton = self._automaton_or_false()
        if not automaton:
            return passes(raw, self.screened, name, self.refined or None)
        first = automaton.find_matches_as_indexes(raw)
        if not first:
            return False  # (the common case: a leftmost search finds a match when any needle is there)
        refined = self.refined
        if not refined or self.needles[first[0][0]] not in refined:
            return True
        needles = self.needles
        found = {needles[index] for index, _, _ in automaton.find_matches_as_indexes(raw, overlapping=True)}
        for needle in found:
            if needle not in refined or _holds(refined[needle], raw, name):
                return True
        return False
