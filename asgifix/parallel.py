"""Spreading per-file analysis over processes, in discovery order.

On Linux, a run with at least :data:`FORK_MIN` files to read walks the tree first and then forks
its workers once (:func:`forked_results`): each process, this one included, reads, prefilters
and analyzes alternate files, the workers stream back only the results that hold something, and
results come out in discovery order as soon as every earlier file's is known. Fewer files are
analyzed here, and never fork. Elsewhere (platforms that spawn processes) and while a pool is kept
(``Engine.fix`` keeps one for validation), the pool below is used.

The engine reads every file and applies the bytes prefilter itself (that is
I/O, and most files stop there). Files that pass it are analyzed here: in this
process while there are few of them, and by a pool of worker processes once a
run has more than :data:`THRESHOLD` of them and more than one job is allowed.
A pre-commit run on a handful of files never starts a pool. (Or more than
:data:`THRESHOLD_BYTES` in at least :data:`MIN_FILES` files: a few big modules
cost as much to parse as many small ones.)

On a big tree, reading and prefiltering are most of the work (a monorepo:
tens of thousands of files, almost none of which matter). Once more than
:data:`BULK_THRESHOLD` files have been discovered, the files discovered after
them are not read here: they go to the workers unread, :data:`BULK_BATCH` at a
time, and each worker reads, prefilters and analyzes its batch. A worker sends
back only the results that hold something; this process fills in the empty
ones, so the pickling stays proportional to the files that matter.

Whatever runs the analysis, results come out in discovery order and are the
ones serial analysis gives (``Engine.analyze_bytes`` is a pure function of a
file's bytes): until the threshold is reached, files waiting for analysis are
held back, with everything discovered after them, for at most
:data:`LOOKAHEAD` files; past that they are analyzed here. With a pool, at
most a few batches per worker are in flight, so memory stays flat however
big the tree.

The number of jobs is the number of usable cores, or ``ASGIFIX_JOBS``
(``ASGIFIX_JOBS=1`` never starts a pool).
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Union

if TYPE_CHECKING:  # pragma: no cover
    import weakref
    from concurrent.futures import Future

    from .discovery import SourceFile
    from .engine import Engine, FileResult
    from .model import Finding
    from .textio import TextDocument

# Files past the prefilter before a pool is worth its start-up (about 10 ms a
# worker with fork, more with spawn) and the pickling of each file: more than
# THRESHOLD of them, or at least MIN_FILES holding more than THRESHOLD_BYTES
# (a few big modules cost as much to parse as many small ones).
THRESHOLD = 64
THRESHOLD_BYTES = 256 * 1024
MIN_FILES = 8
# Files sent to a worker at a time.
BATCH = 16
# Files (analyzed or not) held back, in order, while waiting to know whether
# a pool is worth starting, or while the oldest batch is still in a worker.
LOOKAHEAD = 8192
# Files (mostly ruled out by the prefilter) after which a segment waiting for
# analysis is sent off even if its batch is not full.
SEGMENT_ITEMS = 512
# Batches in flight per worker.
IN_FLIGHT_PER_JOB = 4
# Files discovered before the rest go to the workers unread (bulk mode), and
# how many unread files a worker gets at a time (reading and prefiltering one
# costs ~20 us: a batch must be big enough to outweigh its round trip).
BULK_THRESHOLD = 1024
BULK_BATCH = 128

# What a file's analysis starts from: its bytes past the prefilter, a document
# (a fixed text), or None: not read yet (bulk mode; the worker reads it).
Work = Union[bytes, "TextDocument", None]
_PENDING = None


class JobsError(ValueError):
    """ASGIFIX_JOBS is not a positive integer."""


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def jobs_from_environment(environ: Optional[dict] = None) -> int:
    value = (os.environ if environ is None else environ).get("ASGIFIX_JOBS", "").strip()
    if not value:
        return available_cores()
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise JobsError(f"ASGIFIX_JOBS must be a positive integer, not {value!r}")
    return jobs


# -- the worker side ------------------------------------------------------------------

_WORKER_ENGINE: Optional["Engine"] = None


def _init_worker(settings: Any, rules: Any, unsafe_fixes: bool, base_dir: Any) -> None:
    global _WORKER_ENGINE
    import signal

    # Ctrl-C reaches the whole process group: the main process stops the workers (no
    # traceback from each of them); SIGTERM ends a worker at once (not the handler that
    # the main process installs, which a forked worker inherits).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):  # blocked by make_pool while the workers start
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _die_with_parent()
    from .engine import Engine

    _WORKER_ENGINE = Engine(settings, rules, unsafe_fixes=unsafe_fixes, base_dir=base_dir, jobs=1)


def analyze_batch(batch: list[tuple[tuple, Work]]) -> list[Optional["FileResult"]]:
    """Analyze files in a worker (a top-level function, so the pool can pickle it).

    Each file comes as ``SourceFile`` arguments (a plain tuple pickles several
    times faster than the object) and its work. A result with nothing in it
    (most unread files: the prefilter rules them out) comes back as None, and
    the scheduler makes the empty result itself.
    """
    assert _WORKER_ENGINE is not None, "worker not initialised"
    from .discovery import SourceFile

    return [_holding(_analyze(_WORKER_ENGINE, SourceFile(*key), work)) for key, work in batch]


def _holding(result: "FileResult") -> Optional["FileResult"]:
    if result.findings or result.error or result.document is not None or result.declarations or result.facts:
        return result
    return None


def _analyze(engine: "Engine", source: "SourceFile", work: Work) -> "FileResult":
    if work is None:
        return engine.analyze(source)
    if isinstance(work, bytes):
        return engine.analyze_bytes(source, work)
    return engine.analyze_document(source, work)


def validate_batch(batch: list[tuple[str, "TextDocument", str, list]]) -> list[Optional[str]]:
    """``engine.validate`` for fixed texts, in a worker."""
    return _validate(batch)


def _validate(batch: list[tuple[str, "TextDocument", str, list]]) -> list[Optional[str]]:
    from .engine import validate

    return [validate(kind, document, new_text, edits) for kind, document, new_text, edits in batch]


def validate_all(engine: "Engine", items: list[tuple[str, "TextDocument", str, list]]) -> list[Optional[str]]:
    """``engine.validate`` for each ``(kind, document, new_text, edits)``, in order; by the pool when there are many."""
    if engine.jobs > 1 and len(items) > THRESHOLD:
        from concurrent.futures.process import BrokenProcessPool

        batches = [items[start:start + BATCH] for start in range(0, len(items), BATCH)]
        try:
            pool = engine.acquire_pool(engine.jobs)
            return [problem for problems in pool.map(validate_batch, batches) for problem in problems]
        except BrokenProcessPool:
            engine.shutdown_pool()
    return _validate(items)


def _die_with_parent() -> None:
    """On Linux, a worker gets SIGTERM when the main process dies (even of SIGKILL): no orphans."""
    if sys.platform != "linux":
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM
    except (OSError, AttributeError):  # pragma: no cover - no prctl
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


# Pools alive in this process, so that a signal can stop their workers at once.
_POOLS: "weakref.WeakSet[Any]" = None  # type: ignore[assignment]


def terminate_pools() -> None:
    """Stop every worker now (SIGTERM or Ctrl-C to the main process): no orphan holds stdout open."""
    if not _POOLS:
        return
    for pool in list(_POOLS):
        processes = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            try:
                process.terminate()
            except (OSError, AttributeError):  # pragma: no cover - already gone
                pass
        for process in list(processes.values()):
            try:
                process.join(5)
            except (OSError, AssertionError, AttributeError):  # pragma: no cover
                pass
        try:
            pool.shutdown(wait=False, cancel_futures=True)
        except Exception:  # pragma: no cover - a broken pool may complain; it is stopped anyway
            pass


def make_pool(engine: "Engine", jobs: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork starts a worker in milliseconds; it is only safe while this process
    # runs a single thread (a progress display runs one), else use the
    # platform's default (spawn, or forkserver).
    method = "fork" if sys.platform == "linux" and threading.active_count() == 1 else None
    # Workers start with Ctrl-C blocked (inherited, so also before their initializer runs,
    # which ignores it): the main process stops them. They start now, inside that window
    # (the first task); a Ctrl-C meanwhile waits and reaches the main process after it.
    import signal

    blocked = None
    if hasattr(signal, "pthread_sigmask"):
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context(method),
            initializer=_init_worker,
            initargs=(engine.settings, engine.rules, engine.unsafe_fixes, engine.base_dir),
        )
        try:
            pool.submit(int).result()
        except Exception:  # a pool that cannot start breaks at its first real task, handled there
            pass
    finally:
        if blocked is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    global _POOLS
    if _POOLS is None:
        import weakref

        _POOLS = weakref.WeakSet()
    _POOLS.add(pool)
    return pool


# -- the scheduling side --------------------------------------------------------------

def _empty_result(source: "SourceFile") -> "FileResult":
    global _FILE_RESULT
    if _FILE_RESULT is None:  # (engine imports this module: the class is looked up once, not per file)
        from .engine import FileResult

        _FILE_RESULT = FileResult
    return _FILE_RESULT(source)


_FILE_RESULT: Any = None


class _Segment:
    """Consecutive files, in discovery order, and the batch of them that needs analysis."""

    __slots__ = ("items", "work", "future")

    def __init__(self) -> None:
        self.items: list[list] = []  # [source, result or _PENDING]
        self.work: list[tuple["SourceFile", Work]] = []
        self.future: Optional["Future"] = None


class Scheduler:
    """Analyzes files in this process or in the engine's pool; yields (source, result) in order."""

    def __init__(self, engine: "Engine", jobs: int):
        self.engine = engine
        self.jobs = jobs
        self.threshold = THRESHOLD
        self.lookahead = LOOKAHEAD
        self.segments: deque[_Segment] = deque()
        self.open = _Segment()
        self.pending = 0  # files that needed analysis so far
        self.pending_bytes = 0
        self.held = 0  # files held back (in segments and the open one)
        self.in_flight = 0
        self.pool: Any = None
        self.broken = False
        self.discovered = 0  # files offered to read_here()
        self.bulk = False  # files now go to the workers unread

    # -- input ----------------------------------------------------------------------
    def read_here(self) -> bool:
        """Whether the engine should read the next discovered file itself.

        False once the tree has proved big (more than :data:`BULK_THRESHOLD`
        files) and a pool can run: the file then goes to :meth:`add_unread`
        and a worker reads it.
        """
        if self.bulk:
            return False
        if self.jobs <= 1 or self.broken:
            return True
        self.discovered += 1
        if self.discovered <= BULK_THRESHOLD:
            return True
        self.bulk = True
        if self.pool is None:
            self._start()
        return self.pool is None  # the pool could not start: read here after all

    def add_unread(self, source: "SourceFile") -> bool:
        """Queue a file for a worker to read (bulk mode); True when a batch was sent off.

        The cheap path for the many files of a big tree: no generator per file;
        the engine drains results (:meth:`drain`) only when a batch has left.
        """
        self.open.items.append([source, _PENDING])
        self.open.work.append((source, None))
        self.held += 1
        if len(self.open.work) >= BULK_BATCH:
            self._close()
            return True
        return False

    def drain(self) -> Iterator[tuple["SourceFile", "FileResult"]]:
        """Results that are ready, in order."""
        return self._drain()

    def done(self, source: "SourceFile", result: "FileResult") -> Iterator[tuple["SourceFile", "FileResult"]]:
        """A file whose result is known (cached, unreadable, or ruled out by the prefilter)."""
        if not self.segments and not self.open.items:
            yield source, result
            return
        self.open.items.append([source, result])
        self.held += 1
        if self.open.work and (len(self.open.items) >= SEGMENT_ITEMS or self.held > self.lookahead):
            # Files waiting for analysis must not hold back an unbounded run of later files.
            self._close()
        yield from self._drain()

    def analyze(self, source: "SourceFile", work: Work) -> Iterator[tuple["SourceFile", "FileResult"]]:
        """A file that needs analysis: its bytes past the prefilter, or an overriding document."""
        if self.jobs <= 1 and not self.held:
            yield source, _analyze(self.engine, source, work)
            return
        self.pending += 1
        self.pending_bytes += len(work) if isinstance(work, bytes) else len(work.raw)
        self.open.items.append([source, _PENDING])
        self.open.work.append((source, work))
        self.held += 1
        if len(self.open.work) >= (BULK_BATCH if self.bulk else BATCH):
            self._close()
        if self.pool is None and not self.broken and self.jobs > 1 and self._worth_a_pool():
            self._start()
        yield from self._drain()

    def finish(self) -> Iterator[tuple["SourceFile", "FileResult"]]:
        if self.open.items:
            self._close()
        yield from self._drain(final=True)

    def close(self) -> None:
        if self.pool is not None:
            self.engine.release_pool(self.pool)
            self.pool = None

    # -- internals ------------------------------------------------------------------
    def _worth_a_pool(self) -> bool:
        return self.pending > self.threshold or (
            self.pending >= MIN_FILES and self.pending_bytes > THRESHOLD_BYTES
        )

    def _close(self) -> None:
        segment, self.open = self.open, _Segment()
        self.segments.append(segment)
        if self.pool is not None and segment.work:
            self._submit(segment)

    def _start(self) -> None:
        self.pool = self.engine.acquire_pool(self.jobs)
        for segment in self.segments:
            if segment.work and segment.future is None:
                self._submit(segment)

    def _submit(self, segment: _Segment) -> None:
        from concurrent.futures.process import BrokenProcessPool

        if self.pool is None:  # broken while submitting an earlier batch
            return
        try:
            segment.future = self.pool.submit(analyze_batch, [(source.key(), work) for source, work in segment.work])
        except BrokenProcessPool:
            self._broke()
            return
        self.in_flight += 1

    def _broke(self) -> None:
        """A worker died (killed, out of memory): finish the run in this process."""
        self.broken = True
        self.bulk = False
        self.engine.shutdown_pool()
        self.pool = None
        for segment in self.segments:
            if segment.future is not None:
                segment.future = None
                self.in_flight -= 1

    def _results(self, segment: _Segment, final: bool) -> Optional[list["FileResult"]]:
        """The segment's results, or None to keep holding it."""
        if segment.future is None:
            if self.pool is None and (final or self.held > self.lookahead or self.broken or self.jobs <= 1):
                return [_analyze(self.engine, source, work) for source, work in segment.work]
            return None
        must_wait = final or self.held > self.lookahead or self.in_flight > self.jobs * IN_FLIGHT_PER_JOB
        if not segment.future.done() and not must_wait:
            return None
        from concurrent.futures.process import BrokenProcessPool

        try:
            results = segment.future.result()
        except BrokenProcessPool:
            self._broke()
            return [_analyze(self.engine, source, work) for source, work in segment.work]
        self.in_flight -= 1
        segment.future = None
        return results

    def _drain(self, final: bool = False) -> Iterator[tuple["SourceFile", "FileResult"]]:
        while self.segments:
            head = self.segments[0]
            if head.work:
                results = self._results(head, final)
                if results is None:
                    break
                pending = iter(results)
                for item in head.items:
                    if item[1] is _PENDING:
                        result = next(pending)
                        item[1] = result if result is not None else _empty_result(item[0])
            self.segments.popleft()
            self.held -= len(head.items)
            for source, result in head.items:
                yield source, result
        if not self.segments and self.open.items and not self.open.work:
            items, self.open = self.open.items, _Segment()
            self.held -= len(items)
            for source, result in items:
                yield source, result

# -- fork once (Linux): walk first, then each process takes alternate files ---------------

# Files to read (not answered by a cache) before forking is worth it: a fork of this
# process costs a few milliseconds, reading and prefiltering a file ~20 us. A pre-commit
# run on a handful of files never forks.
FORK_MIN = 64


# Install sets a project phase must judge before it is shared among processes (judged_views).
VIEWS_FORK_MIN = 16


def judged_views(engine: "Engine", matchers: list, views: list, jobs: int) -> list[list[list["Finding"]]]:
    """``found[v][m]``: the findings of ``matchers[m].check_project(views[v])``, for every view.

    A project with many install sets (a monorepo's services) has them judged by ``jobs`` processes:
    this one and forked workers, process k taking views k, k + jobs, ... (the views are independent:
    a matcher's state across views is only a cache). Each worker sends its findings back once, pickled;
    one that fails or dies has its share judged here. Fewer than :data:`VIEWS_FORK_MIN` views, or
    where forking is unsafe (:func:`can_fork`), all are judged here. The findings are the same
    either way, in the same order.
    """
    def judge(index: int) -> list[list["Finding"]]:
        return [list(matcher.check_project(views[index])) for matcher in matchers]

    count = len(views)
    found: list[Optional[list[list["Finding"]]]] = [None] * count
    if jobs < 2 or count < VIEWS_FORK_MIN or not can_fork(engine, jobs):
        return [judge(index) for index in range(count)]
    import gc
    import pickle

    def start(share: int, write_end: int, inherited: list[int], blocked) -> None:  # pragma: no cover - a worker
        code = 1
        try:
            _enter_worker(blocked, inherited)
            mine = {index: judge(index) for index in range(share, count, jobs) if index}
            data = memoryview(pickle.dumps(mine, protocol=pickle.HIGHEST_PROTOCOL))
            while data:
                data = data[os.write(write_end, data):]
            code = 0
        except BaseException:
            code = 1
        finally:
            os._exit(code)

    # The first view is judged before forking: it imports the matchers and loads the release data
    # and the resolver's tables, which the workers then share instead of each loading its own.
    found[0] = judge(0)
    _flush_output()
    gc.freeze()
    workers: dict[int, _Worker] = {}
    try:
        workers = _fork_workers(jobs, start)
        for index in range(jobs, count, jobs):
            found[index] = judge(index)
        for share, worker in list(workers.items()):
            chunks = []
            while True:
                chunk = os.read(worker.read_end, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            _close(worker.read_end)
            worker.read_end = -1
            _, status = os.waitpid(worker.pid, 0)
            del workers[share]
            theirs = None
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                try:
                    theirs = pickle.loads(b"".join(chunks))
                except Exception:  # a truncated frame: judged here
                    theirs = None
            for index in range(share, count, jobs):
                found[index] = theirs[index] if theirs is not None and index in theirs else judge(index)
    finally:
        for worker in workers.values():  # interrupted: stop the workers that are left
            _stop(worker)
        gc.unfreeze()
    return found  # type: ignore[return-value]


def can_fork(engine: "Engine", jobs: int) -> bool:
    """Whether a run may fork its workers after the walk (else the pool, or this process).

    Only on Linux (elsewhere the platform starts processes by spawning them: the pool does),
    and only while this process runs a single thread (a kept pool or a progress display runs
    threads, and forking a process with threads is unsafe).
    """
    return (jobs > 1 and sys.platform == "linux" and hasattr(os, "fork")
            and engine._pool is None and threading.active_count() == 1)


def forked(engine: "Engine", work: "Callable[[SourceFile], FileResult]", sources: list["SourceFile"],
           jobs: int, here: "Optional[Callable[[SourceFile], FileResult]]" = None
           ) -> Iterator[tuple[int, Optional["FileResult"]]]:
    """``(i, work(sources[i]))`` for every i, in order, spread over ``jobs`` processes: this one and
    ``jobs - 1`` forked workers, process k taking files k, k + jobs, k + 2 * jobs, ... (alternate
    files, not batches: the costly files of a tree cluster, and a batch holding them would be the
    critical path). ``here``: what this process runs for its own share (``work`` with progress ticks).

    A result that holds nothing comes as None (most files: the prefilter rules them out): a worker
    sends back only the results that hold something, in frames of :data:`FRAME_FILES` files, and
    results are yielded as soon as every earlier file's is known, so what is held at any time is
    the gap between the processes, not the tree. A worker that dies (killed, out of memory) or
    fails has the rest of its share done here: the results are those of serial analysis. Ctrl-C or
    SIGTERM (or the caller closing the generator) stops the workers at once.
    """
    sources = list(sources)  # (its entries are let go as their results go out; the caller's list is not touched)
    workers: dict[int, _Worker] = {}  # share -> worker still sending
    _flush_output()
    import gc

    # What this process holds now (the walk's files) is set aside from the garbage collector, so
    # that a collection in a worker does not write to (and so copy) every page of it.
    gc.freeze()
    if engine.results_cache is not None:
        engine.results_cache.active = True  # a big run
        engine.results_cache.load()  # once, here, not once per worker
    try:
        workers = _fork_workers(jobs, lambda share, write_end, inherited, blocked: _worker(
            engine, work, sources, share, jobs, write_end, inherited, blocked))
        for worker in workers.values():
            os.set_blocking(worker.read_end, False)
        results: dict[int, "FileResult"] = {}
        done = [share - jobs for share in range(jobs)]  # per share: the last index known
        own = here or work
        count = len(sources)
        next_out = 0
        for index in range(0, count, jobs):
            result = _holding(own(sources[index]))
            if result is not None:
                results[index] = result
            done[0] = index
            if index % (jobs * DRAIN_EVERY) == 0:
                for share, worker in workers.items():
                    _receive(engine, worker, results, done, share, wait=False)
            while next_out < count and next_out <= done[next_out % jobs]:
                yield next_out, results.pop(next_out, None)
                sources[next_out] = None  # done with (no worker's share is redone before it)
                next_out += 1
        done[0] = count
        for share, worker in list(workers.items()):
            if not _receive(engine, worker, results, done, share, wait=True) or done[share] < count:
                # the worker died or failed: the rest of its share is done here
                _stop(worker)
                for index in range(done[share] + jobs, count, jobs):
                    result = _holding(work(sources[index]))
                    if result is not None:
                        results[index] = result
            done[share] = count
            del workers[share]
            while next_out < count and next_out <= done[next_out % jobs]:
                yield next_out, results.pop(next_out, None)
                sources[next_out] = None  # done with (no worker's share is redone before it)
                next_out += 1
    finally:
        for worker in workers.values():  # interrupted: stop the workers that are left
            _stop(worker)


def _flush_output() -> None:
    """Flush standard output and error before forking: nothing buffered is written twice."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass


def _fork_workers(jobs: int, start: Callable[[int, int, list[int], Any], None]) -> dict[int, "_Worker"]:
    """Fork a worker for each share 1 .. jobs - 1, each writing to a pipe of its own: share -> worker.

    ``start(share, write end, inherited read ends, blocked)`` runs in the worker and ends it (with
    ``os._exit``); it calls :func:`_enter_worker` first. A worker starts with Ctrl-C blocked, then
    ignores it: the main process stops the workers. A fork that fails stops those already forked.
    """
    import signal

    workers: dict[int, _Worker] = {}
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hasattr(signal, "pthread_sigmask") else None
    try:
        for share in range(1, jobs):
            read_end, write_end = os.pipe()
            _widen(write_end)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the worker (coverage does not follow a fork)
                start(share, write_end, [read_end] + [w.read_end for w in workers.values()], blocked)
                os._exit(1)  # (start ends the worker itself)
            os.close(write_end)
            workers[share] = _Worker(pid, read_end, share - jobs)
    except BaseException:
        for worker in workers.values():
            _stop(worker)
        raise
    finally:
        if blocked is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return workers


def _enter_worker(blocked, inherited: list[int]) -> None:  # pragma: no cover - runs in a forked worker
    """A forked worker's start: Ctrl-C ignored, SIGTERM ends it (not the main process's handler),
    the signal mask restored, the pipe ends it inherited closed, and it dies with the main process."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if blocked is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    for fd in inherited:
        _close(fd)
    _die_with_parent()


def _widen(fd: int) -> None:
    """A pipe of 1 MiB (Linux: 64 KiB by default), so a worker seldom waits for this process to read."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (OSError, ImportError, ValueError):  # pragma: no cover - a lower limit: the default size
        pass


def _stop(worker: "_Worker") -> None:
    if worker.read_end < 0:
        return  # ended and waited for already
    import signal

    try:
        os.kill(worker.pid, signal.SIGTERM)
    except OSError:  # pragma: no cover - already gone
        pass
    _close(worker.read_end)
    worker.read_end = -1
    try:
        os.waitpid(worker.pid, 0)
    except OSError:  # pragma: no cover
        pass


# Files of its share a worker analyzes before it sends what it has; files of its own share this
# process analyzes between two looks at what the workers sent.
FRAME_FILES = 64
DRAIN_EVERY = 16


class _Worker:
    __slots__ = ("pid", "read_end", "buffer", "last", "ok")

    def __init__(self, pid: int, read_end: int, last: int):
        self.pid = pid
        self.read_end = read_end  # -1 once it has ended (and been waited for)
        self.buffer = bytearray()
        self.last = last
        self.ok = True


def _receive(engine, worker: _Worker, results: dict, done: list, share: int, wait: bool) -> bool:
    """Take in the frames a worker has sent (``wait``: all of them, until it exits); False when it
    ended badly (``done[share]`` then says up to where its results arrived)."""
    import pickle

    if worker.read_end < 0:
        return worker.ok
    if wait:
        os.set_blocking(worker.read_end, True)
    ended = False
    while True:
        try:
            chunk = os.read(worker.read_end, 1 << 20)
        except BlockingIOError:
            break
        except OSError:
            ended = True
            break
        if not chunk:
            ended = True
            break
        worker.buffer += chunk
    buffer = worker.buffer
    offset = 0
    while len(buffer) - offset >= 8:
        size = int.from_bytes(buffer[offset:offset + 8], "little")
        if len(buffer) - offset - 8 < size:
            break
        try:
            last, held, fresh, looked_up = pickle.loads(buffer[offset + 8:offset + 8 + size])
        except Exception:  # pragma: no cover - a frame is written whole
            worker.ok = False
            break
        results.update(held)
        if fresh is not None and engine.results_cache is not None:
            engine.results_cache.merge(fresh, looked_up)
        done[share] = worker.last = last
        offset += 8 + size
    del buffer[:offset]
    if not ended:
        return worker.ok
    _close(worker.read_end)
    worker.read_end = -1
    try:
        _, status = os.waitpid(worker.pid, 0)
        worker.ok = worker.ok and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    except OSError:
        worker.ok = False
    return worker.ok


def _worker(engine, work, sources, share: int, jobs: int, write_end: int, inherited: list[int],
            blocked) -> None:  # pragma: no cover - runs in a forked worker
    """A forked worker: analyze one share, sending frames of the results that hold something, exit."""
    code = 1
    try:
        _enter_worker(blocked, inherited)
        import pickle

        cache = engine.results_cache

        def send(last: int, held: dict) -> None:
            if cache is not None:  # what this worker added to the results cache goes back too
                frame = (last, held, cache.fresh, (cache.touched, cache.hits, cache.misses, cache.not_read))
                cache.fresh, cache.touched, cache.hits, cache.misses, cache.not_read = {}, set(), 0, 0, 0
            else:
                frame = (last, held, None, None)
            data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(len(data).to_bytes(8, "little") + data)
            while view:
                view = view[os.write(write_end, view):]

        if cache is not None:
            cache.fresh, cache.touched, cache.hits, cache.misses, cache.not_read = {}, set(), 0, 0, 0
        held: dict[int, "FileResult"] = {}
        analyzed = 0
        for index in range(share, len(sources), jobs):
            result = _holding(work(sources[index]))
            if result is not None:
                held[index] = result
            analyzed += 1
            if analyzed % FRAME_FILES == 0:
                send(index, held)
                held = {}
        send(len(sources), held)
        code = 0
    except BaseException:  # no traceback from a worker: the main process does the rest of its share
        code = 1
    finally:
        os._exit(code)


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def forked_results(engine: "Engine", found: list["SourceFile"], progress, cache, overrides,
                   jobs: int) -> Optional[Iterator[tuple["SourceFile", "FileResult"]]]:
    """Every found file's ``(source, result)``, in order, by forked workers; or None when fewer than
    :data:`FORK_MIN` files need reading (a cache answers the others): the caller runs them here.

    Memory stays flat as the tree grows: the walk's files, and the results that hold something.
    """
    def cached(source: "SourceFile") -> bool:
        return cache is not None and source.display in cache and not (overrides and source.display in overrides)

    need = [index for index, source in enumerate(found) if not cached(source)]
    if len(need) < FORK_MIN:
        return None
    todo = [found[index] for index in need]

    def work(source: "SourceFile") -> "FileResult":
        override = overrides.get(source.display) if overrides else None
        if override is not None:
            return engine.analyze_document(source, override)
        raw, result = engine.read(source)
        return result if result is not None else engine.analyze_bytes(source, raw)

    here = work
    if progress is not None:  # this process's share ticks for every process (they keep pace)
        def here(source: "SourceFile") -> "FileResult":
            for _ in range(jobs):
                progress(source)
            return work(source)
    stream = forked(engine, work, todo, jobs, here)

    def ordered() -> Iterator[tuple["SourceFile", "FileResult"]]:
        position = 0
        for index, source in enumerate(found):
            if position < len(need) and need[position] == index:
                _, result = next(stream)
                position += 1
                if result is None:
                    result = _empty_result(source)
            else:
                result = cache[source.display]
            found[index] = None  # the walk's files are let go as their results go out: memory stays flat
            yield source, result
        for _ in stream:  # (none left: lets the workers end and be waited for)
            pass

    return ordered()
