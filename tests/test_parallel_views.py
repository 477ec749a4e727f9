"""The project phase shared among processes (asgifix.parallel.judged_views) finds what one process finds."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import pytest

from asgifix import parallel

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the forked project phase runs on Linux only")

PARENT = os.getpid()


class Matcher:
    """Says which view it judged, and in which process; ``fails_in_worker``: raises there."""

    def __init__(self, name: str, fails_in_worker: bool = False):
        self.name = name
        self.fails_in_worker = fails_in_worker

    def check_project(self, view):
        if self.fails_in_worker and os.getpid() != PARENT:
            raise RuntimeError("broken worker")
        return [(self.name, view, os.getpid())]


ENGINE = SimpleNamespace(_pool=None)


def _without_pids(found):
    return [[[(name, view) for name, view, _ in findings] for findings in per_view] for per_view in found]


def test_views_are_shared_among_processes_and_found_in_order():
    matchers = [Matcher("a"), Matcher("b")]
    views = list(range(40))
    found = parallel.judged_views(ENGINE, matchers, views, 2)
    assert _without_pids(found) == [[[("a", v)], [("b", v)]] for v in views]
    pids = {pid for per_view in found for findings in per_view for _, _, pid in findings}
    assert PARENT in pids and len(pids) == 2  # a worker judged its share
    serial = parallel.judged_views(ENGINE, matchers, views, 1)
    assert _without_pids(serial) == _without_pids(found)
    assert {pid for per_view in serial for findings in per_view for _, _, pid in findings} == {PARENT}


def test_few_views_are_judged_here():
    found = parallel.judged_views(ENGINE, [Matcher("a")], list(range(parallel.VIEWS_FORK_MIN - 1)), 2)
    assert {pid for per_view in found for findings in per_view for _, _, pid in findings} == {PARENT}


def test_a_failing_worker_has_its_share_judged_here():
    matchers = [Matcher("a"), Matcher("b", fails_in_worker=True)]
    views = list(range(30))
    found = parallel.judged_views(ENGINE, matchers, views, 2)
    assert _without_pids(found) == [[[("a", v)], [("b", v)]] for v in views]
    assert {pid for per_view in found for findings in per_view for _, _, pid in findings} == {PARENT}
