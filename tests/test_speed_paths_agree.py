"""Every way a run can go finds the same: one process or forked workers, the project phase judged here
or by forked processes, the results cache cold, warm by digest, and warm by unchanged stamps.

The tree is the benchmark's generated monorepo (bench/trees.py), small: 1,600 modules in 16 services
(16 install sets: the forked project phase's threshold), with removed-API imports, decoys that only
mention asgiref, and a service with malformed pins.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

import pytest

from asgifix import parallel

from .conftest import REPO, run_subprocess

sys.path.insert(0, str(REPO / "bench"))
import trees  # noqa: E402  (bench/trees.py: the benchmark's tree generator)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forked workers run on Linux only")


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory):
    tree = trees.build_monorepo(tmp_path_factory.mktemp("speed"), files=1600)
    then = time.time() - 3600  # old enough to be stamped by the results cache
    for path in tree.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))
    return tree


def _check(tree, *args, jobs, notes=None):
    result = run_subprocess("check", "--format", "json", "--exit-zero", "-v", *args, ".", cwd=tree,
                            env={"ASGIFIX_JOBS": jobs})
    assert result.exit_code == 0, result.stderr
    if notes is not None:
        notes.extend(result.stderr.splitlines())
    return json.loads(result.stdout)


def test_all_execution_paths_report_the_same(monorepo):
    notes: list[str] = []
    serial = _check(monorepo, "--no-cache", jobs="1", notes=notes)
    assert sum(line.startswith("asgifix: environment ") for line in notes) >= parallel.VIEWS_FORK_MIN
    codes = {finding["code"] for finding in serial["findings"]}
    assert {"AFX101", "AFX201", "AFX203"} <= codes  # the tree has something to find
    assert len({f["path"].split("/")[1] for f in serial["findings"] if "/svc_" in f["path"]}) > 1
    assert _check(monorepo, "--no-cache", jobs="2") == serial
    cold = _check(monorepo, jobs="2")  # fills the cache (every file stamped: they are an hour old)
    assert cold == serial
    warm_notes: list[str] = []
    assert _check(monorepo, jobs="2", notes=warm_notes) == serial  # warm: unchanged files not even read
    not_read = [int(m.group(1)) for m in map(re.compile(r"(\d+) unchanged files not read").search, warm_notes) if m]
    assert not_read and not_read[0] >= 1600, warm_notes
    assert _check(monorepo, jobs="1") == serial
