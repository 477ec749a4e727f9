"""Per-file analysis in a process pool, or in workers forked once after the walk, gives the
serial results, in the serial order.

The thresholds are lowered so that small trees exercise every path: holding
files back until the pool is worth starting, flushing them when the
lookahead is full, batches in flight, a worker dying, and the fix loop.
"""

from __future__ import annotations

import os
import sys

import pytest

from asgifix import parallel
from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine
from asgifix.parallel import JobsError, jobs_from_environment


def _tree(root, files=60):
    """Requirements files, most with fixable AFX101 lines, some clean, one undecodable."""
    for index in range(files):
        directory = root / f"svc_{index:03d}"
        directory.mkdir(parents=True)
        if index % 7 == 3:
            text = "Django==4.2.7\nchannels==4.1.0\n"  # clean
        elif index % 11 == 5:
            text = "asgiref latest\n"  # a finding without a fix
        else:
            text = f"# svc {index}\nasgiref 3.5.{index % 10}\nDjango = 3.2\r\nchannels =>2.0  # noqa: AFX999\n"
        (directory / "requirements.txt").write_bytes(text.encode())  # (write_text(newline=) needs 3.10)
        (directory / "module.py").write_text("import os\n")
    (root / "svc_000" / "requirements-bad.txt").write_bytes(b"asgiref==3.5.2\n\xff\xfe\n")
    return root


def _engine(jobs):
    settings = Settings()
    return Engine(settings, select_rules(load_catalogue(), settings.select, settings.ignore), jobs=jobs,
                  base_dir=None)


def _summary(engine, paths):
    results = [(source.display, result.findings, result.error, result.declarations, result.document is not None)
               for source, result in engine.results(paths)]
    report, _, _ = engine.run(paths)
    return results, report


@pytest.fixture(autouse=True)
def pool_only(request, monkeypatch):
    """The pool's tests run the pool (on Linux a big run would fork once after the walk instead);
    the fork tests (marked ``forking``) lower the fork threshold so that small trees fork."""
    if "forking" in request.fixturenames:
        return
    monkeypatch.setattr("asgifix.engine.can_fork", lambda engine, jobs: False)


@pytest.fixture
def small_thresholds(monkeypatch):
    monkeypatch.setattr(parallel, "THRESHOLD", 5)
    monkeypatch.setattr(parallel, "BATCH", 3)
    monkeypatch.setattr(parallel, "IN_FLIGHT_PER_JOB", 1)


def _count_pools(monkeypatch):
    started = []
    real = parallel.make_pool

    def counting(engine, jobs):
        started.append(jobs)
        return real(engine, jobs)

    monkeypatch.setattr("asgifix.engine.make_pool", counting)
    return started


@pytest.mark.parametrize("lookahead", [2, 10, 4096])
def test_pool_results_equal_serial_results_in_order(tmp_path, monkeypatch, small_thresholds, lookahead):
    monkeypatch.setattr(parallel, "LOOKAHEAD", lookahead)
    started = _count_pools(monkeypatch)
    paths = [str(_tree(tmp_path))]
    serial = _summary(_engine(1), paths)
    assert not started
    pooled = _summary(_engine(2), paths)
    assert started  # the pool did run
    assert pooled[0] == serial[0]
    assert pooled[1] == serial[1]
    assert [display for display, *_ in serial[0]] == sorted(display for display, *_ in serial[0])


def test_held_files_are_analyzed_here_when_the_threshold_is_never_reached(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "LOOKAHEAD", 3)
    started = _count_pools(monkeypatch)
    paths = [str(_tree(tmp_path, files=20))]
    assert _summary(_engine(2), paths) == _summary(_engine(1), paths)
    assert not started  # 20 files < THRESHOLD: never a pool


def test_small_runs_never_start_a_pool(tmp_path, monkeypatch):
    started = _count_pools(monkeypatch)
    tree = _tree(tmp_path, files=5)
    engine = _engine(8)
    engine.run([str(tree)])
    engine.fix([str(tree / "svc_001" / "requirements.txt")], write=False)
    assert not started


def _assert_pooled_fix_writes_the_serial_bytes(tmp_path):
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    serial = _engine(1).fix([str(one)])
    pooled = _engine(2).fix([str(two)])
    assert pooled.report.fixed == serial.report.fixed > 0
    assert [p.replace("/two/", "/one/") for p in pooled.report.changed_paths] == serial.report.changed_paths
    for directory, _, names in os.walk(one):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as a, open(path.replace(str(one), str(two)), "rb") as b:
                assert a.read() == b.read(), path


def test_pooled_fix_writes_the_bytes_serial_fix_writes(tmp_path, monkeypatch, small_thresholds):
    started = _count_pools(monkeypatch)
    _assert_pooled_fix_writes_the_serial_bytes(tmp_path)
    assert started


def _die(batch):  # replaces the worker function: the worker process dies
    os._exit(3)


def test_a_dead_worker_falls_back_to_serial_analysis(tmp_path, monkeypatch, small_thresholds):
    paths = [str(_tree(tmp_path))]
    serial = _summary(_engine(1), paths)
    started = _count_pools(monkeypatch)
    monkeypatch.setattr(parallel, "analyze_batch", _die)
    assert _summary(_engine(2), paths) == serial
    assert started
    # and the same for validation in the fix loop
    monkeypatch.setattr(parallel, "validate_batch", _die)
    serial_tree, pooled_tree = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert _engine(2).fix([str(pooled_tree)]).report.fixed == _engine(1).fix([str(serial_tree)]).report.fixed > 0


def test_jobs_from_environment():
    assert jobs_from_environment({"ASGIFIX_JOBS": "3"}) == 3
    assert jobs_from_environment({"ASGIFIX_JOBS": " 1 "}) == 1
    assert jobs_from_environment({}) == parallel.available_cores() >= 1
    for bad in ("0", "-2", "two", "1.5"):
        with pytest.raises(JobsError, match="ASGIFIX_JOBS must be a positive integer"):
            jobs_from_environment({"ASGIFIX_JOBS": bad})


def test_cli_reports_a_bad_jobs_value(tmp_path):
    from click.testing import CliRunner

    from asgifix.cli import main

    (tmp_path / "requirements.txt").write_text("Django==4.2\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path)], env={"ASGIFIX_JOBS": "zero"})
    assert result.exit_code == 2
    assert "ASGIFIX_JOBS must be a positive integer" in result.output


class _FakeEngine:
    def analyze_bytes(self, source, work):
        return ("analyzed", source)

    def analyze_document(self, source, work):  # pragma: no cover - not used here
        return ("document", source)


def test_sparse_hits_never_hold_back_more_than_the_lookahead(monkeypatch):
    monkeypatch.setattr(parallel, "THRESHOLD", 10**9)  # never a pool
    monkeypatch.setattr(parallel, "LOOKAHEAD", 50)
    scheduler = parallel.Scheduler(_FakeEngine(), jobs=2)
    out = []
    most_held = 0
    for index in range(2000):
        if index % 300 == 0:
            out.extend(scheduler.analyze(index, b"x"))
        else:
            out.extend(scheduler.done(index, ("done", index)))
        most_held = max(most_held, scheduler.held)
    out.extend(scheduler.finish())
    assert [source for source, _ in out] == list(range(2000))
    assert all(result == (("analyzed" if source % 300 == 0 else "done"), source) for source, result in out)
    assert most_held <= 50 + 1


@pytest.mark.parametrize("bulk_batch", [1, 7, 128])
def test_bulk_mode_workers_read_files_and_give_the_serial_results(tmp_path, monkeypatch, bulk_batch):
    """Past BULK_THRESHOLD discovered files, workers read, prefilter and analyze unread files."""
    monkeypatch.setattr(parallel, "BULK_THRESHOLD", 10)
    monkeypatch.setattr(parallel, "BULK_BATCH", bulk_batch)
    read_here = []
    real_read = Engine.read

    def counting_read(self, source):
        read_here.append(source.display)
        return real_read(self, source)

    tree = _tree(tmp_path)
    (tree / "svc_059" / "requirements-bad.txt").write_bytes(b"\xff\xfe\n")  # read by a worker
    paths = [str(tree)]
    serial = _summary(_engine(1), paths)
    started = _count_pools(monkeypatch)
    monkeypatch.setattr(Engine, "read", counting_read)
    pooled = _summary(_engine(2), paths)
    assert started
    assert pooled == serial
    # Two runs (results() and run()) each read only the files discovered before bulk mode here.
    assert len(read_here) == 2 * 10
    # An undecodable file read by a worker is still reported, in its place.
    errors = [display for display, _, error, _, _ in pooled[0] if error is not None]
    assert errors[-1].endswith("svc_059/requirements-bad.txt")


def test_bulk_mode_fix_writes_the_bytes_serial_fix_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "BULK_THRESHOLD", 10)
    monkeypatch.setattr(parallel, "BULK_BATCH", 8)
    started = _count_pools(monkeypatch)
    _assert_pooled_fix_writes_the_serial_bytes(tmp_path)
    assert started


def test_bulk_mode_survives_a_dead_worker(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "BULK_THRESHOLD", 10)
    monkeypatch.setattr(parallel, "BULK_BATCH", 8)
    paths = [str(_tree(tmp_path))]
    serial = _summary(_engine(1), paths)
    monkeypatch.setattr(parallel, "analyze_batch", _die)
    assert _summary(_engine(2), paths) == serial


# -- fork once after the walk (Linux) ---------------------------------------------------------

needs_fork = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")


@pytest.fixture
def forking(monkeypatch):
    """A fork threshold small trees reach; returns the list of (jobs, files) of each forked run."""
    monkeypatch.setattr(parallel, "FORK_MIN", 5)
    runs = []
    real = parallel.forked

    def counting(engine, work, sources, jobs, here=None):
        runs.append((jobs, len(sources)))
        return real(engine, work, sources, jobs, here)

    monkeypatch.setattr(parallel, "forked", counting)
    return runs


@needs_fork
@pytest.mark.parametrize("jobs", [2, 3])
def test_forked_results_equal_serial_results_in_order(tmp_path, forking, jobs):
    paths = [str(_tree(tmp_path))]
    serial = _summary(_engine(1), paths)
    assert not forking
    assert _summary(_engine(jobs), paths) == serial
    assert forking and all(run == (jobs, 121) for run in forking)  # 60 x 2 files and the undecodable one


@needs_fork
def test_forked_fix_writes_the_bytes_serial_fix_writes(tmp_path, forking):
    _assert_pooled_fix_writes_the_serial_bytes(tmp_path)
    assert forking


@needs_fork
def test_small_runs_never_fork(tmp_path, monkeypatch):
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    tree = _tree(tmp_path, files=5)  # 11 files: fewer than FORK_MIN
    engine = _engine(8)
    engine.run([str(tree)])
    engine.fix([str(tree / "svc_001" / "requirements.txt")], write=False)
    assert not forks


def _worker_dies(*args):
    os._exit(3)


@needs_fork
@pytest.mark.parametrize("death", ["killed at once", "killed midway", "exception midway"])
def test_a_forked_worker_that_dies_has_its_share_done_here(tmp_path, forking, monkeypatch, capfd, death):
    paths = [str(_tree(tmp_path))]
    serial = _summary(_engine(1), paths)
    if death == "killed at once":
        monkeypatch.setattr(parallel, "_worker", _worker_dies)
    else:  # after a few frames (of 2 files) have been sent
        monkeypatch.setattr(parallel, "FRAME_FILES", 2)
        monkeypatch.setattr(parallel, "_holding", _failing_in_workers(parallel._holding, after=9,
                                                                      kill=death.startswith("killed")))
    assert _summary(_engine(2), paths) == serial
    assert forking
    assert "Traceback" not in capfd.readouterr().err


def _failing_in_workers(real, after, kill):
    parent = os.getpid()
    calls = []

    def holding(result):
        if os.getpid() != parent:
            calls.append(1)
            if len(calls) > after:
                if kill:
                    os._exit(9)
                raise RuntimeError("a bug in a worker")  # (the worker exits 1, without a traceback)
        return real(result)

    return holding


def test_workers_results_stream_in_order(tmp_path, monkeypatch):
    """Frames of a few files: results come out as soon as every earlier file's is known."""
    monkeypatch.setattr(parallel, "FRAME_FILES", 3)
    monkeypatch.setattr(parallel, "DRAIN_EVERY", 1)
    tree = _tree(tmp_path)
    engine = _engine(3)
    sources = list(__import__("asgifix.discovery").discovery.discover([str(tree)], []))
    out = list(parallel.forked(engine, engine.analyze, sources, 3))
    assert [index for index, _ in out] == list(range(len(sources)))
    for index, result in out:
        expected = parallel._holding(engine.analyze(sources[index]))
        assert (result is None) == (expected is None)
        if result is not None:
            assert (result.source, result.findings, result.declarations) == \
                (expected.source, expected.findings, expected.declarations)


@needs_fork
def test_workers_send_back_only_results_that_hold_something(tmp_path, monkeypatch):
    import pickle

    sent = []
    real_dumps = pickle.dumps
    parent = os.getpid()

    def recording(value, *args, **kwargs):  # in a worker: what goes into a frame
        data = real_dumps(value, *args, **kwargs)
        if os.getpid() != parent and isinstance(value, tuple) and len(value) == 4:
            with open(tmp_path / f"frames-{os.getpid()}", "ab") as out:
                out.write(len(data).to_bytes(8, "little") + data)
        return data

    tree = _tree(tmp_path / "t")
    engine = _engine(2)
    sources = list(__import__("asgifix.discovery").discovery.discover([str(tree)], []))
    monkeypatch.setattr(pickle, "dumps", recording)
    list(parallel.forked(engine, engine.analyze, sources, 2))
    monkeypatch.undo()
    for path in tmp_path.glob("frames-*"):
        data = path.read_bytes()
        while data:
            size = int.from_bytes(data[:8], "little")
            _, held, _, _ = pickle.loads(data[8:8 + size])
            sent.extend(held)
            data = data[8 + size:]
    held = {index for index, source in enumerate(sources) if index % 2 and parallel._holding(engine.analyze(source))}
    assert sorted(sent) == sorted(held)
    assert held and len(held) < len(sources) // 2  # the module.py files hold nothing
