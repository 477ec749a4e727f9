"""The results cache (.asgifix_cache/): warm runs give the cold results, and anything a result
depends on (the file's bytes, a rule data file, the settings) makes a cached one unused."""

from __future__ import annotations

import os
import pickle
import re
import shutil

import pytest

from asgifix import cache as cache_module
from asgifix._paths import rules_dir
from asgifix.cache import DEFAULT_DIR

from .conftest import FIXTURES, run_cli


def _project(root, modules=80):
    """A Channels project with enough modules to be a big run (the cache is used from 64 files on)."""
    shutil.copytree(FIXTURES / "legacy-chat", root)
    for index in range(modules):
        text = ("from asgiref.sync import async_to_sync, sync_to_async\n"
                f"def f{index}():\n    return async_to_sync(print)\n") if index % 3 == 0 else f"X = {index}\n"
        (root / "chat" / f"mod_{index:03d}.py").write_text(text)
    return root


def _check(root, *args, jobs="2"):
    result = run_cli("check", "--format", "json", "-v", *args, ".", cwd=root, env={"ASGIFIX_JOBS": jobs})
    counts = re.search(r"results cache: (\d+) hits, (\d+) misses", result.stderr)
    return result.exit_code, result.stdout, (int(counts.group(1)), int(counts.group(2))) if counts else None


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_warm_run_gives_the_cold_results(tmp_path, jobs):
    root = _project(tmp_path / "p")
    uncached = _check(root, "--no-cache", jobs=jobs)
    assert not (root / DEFAULT_DIR).exists()  # --no-cache writes nothing
    cold = _check(root, jobs=jobs)
    warm = _check(root, jobs=jobs)
    assert cold[:2] == warm[:2] == uncached[:2]
    assert '"AFX' in cold[1]  # the project has findings
    hits, misses = cold[2]
    assert hits == 0 and misses > 0
    assert warm[2] == (misses, 0)  # every analyzed file came from the cache
    directory = root / DEFAULT_DIR
    assert (directory / "CACHEDIR.TAG").read_bytes().startswith(b"Signature: 8a477f597d28d172789f06886806bc55")
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"


def test_an_edited_file_is_analyzed_again(tmp_path):
    root = _project(tmp_path / "p")
    before = _check(root)
    _check(root)
    requirements = root / "requirements.txt"
    requirements.write_text(requirements.read_text() + "asgiref 3.5.2\n")  # a malformed pin: AFX101
    edited = _check(root)
    assert edited[2][1] == 1  # one miss: the edited file
    assert edited[:2] == _check(root, "--no-cache")[:2]
    assert edited[1] != before[1] and "AFX101" in edited[1]


def test_an_edited_rule_data_file_or_other_settings_use_another_cache(tmp_path, monkeypatch):
    root = _project(tmp_path / "p")
    rules = tmp_path / "rules"
    shutil.copytree(rules_dir(), rules)
    monkeypatch.setattr("asgifix._paths.rules_dir", lambda: rules)
    first = _check(root)
    assert _check(root)[2][1] == 0  # warm
    data = rules / "data" / "moves.json"
    data.write_bytes(data.read_bytes() + b"\n")  # any byte of the data is an input
    assert _check(root)[2][0] == 0  # cold again: nothing is read from the old cache
    assert _check(root, "--select", "AFX5")[2][0] == 0  # other rules selected: another cache
    assert _check(root, "--target-asgiref", "3.7.2")[2][0] == 0
    assert _check(root)[:2] == first[:2]


def test_input_given_on_stdin_is_never_cached(tmp_path):
    root = _project(tmp_path / "p")
    module = root / "chat" / "mod_000.py"
    given = "from asgiref.sync import SyncToAsync\nSyncToAsync(print, thread_sensitive=False)\n"
    result = run_cli("check", "--format", "json", "--stdin-filename", "chat/mod_000.py", "-", cwd=root,
                     input=given, env={"ASGIFIX_JOBS": "2"})
    assert result.exit_code in (0, 1)
    for path in (root / DEFAULT_DIR).rglob("results-*.pickle"):
        entries = pickle.loads(path.read_bytes())["entries"]
        assert all(not key[1].endswith("mod_000.py") for key in entries)
    # the file as it is on disk is what a later run reports
    assert _check(root)[:2] == _check(root, "--no-cache")[:2]
    assert module.read_text() != given


def test_small_runs_use_no_cache(tmp_path):
    (tmp_path / "requirements.txt").write_text("asgiref 3.5.2\n")
    (tmp_path / "app.py").write_text("from asgiref.sync import async_to_sync\n")
    result = run_cli("check", ".", cwd=tmp_path)
    assert result.exit_code == 1
    assert not (tmp_path / DEFAULT_DIR).exists()


def test_cache_dir_setting_environment_and_clean(tmp_path):
    root = _project(tmp_path / "p")
    (root / "pyproject.toml").write_text('[tool.asgifix]\ncache-dir = "build/afx"\n')
    _check(root)
    assert (root / "build" / "afx" / "CACHEDIR.TAG").is_file() and not (root / DEFAULT_DIR).exists()
    result = run_cli("check", ".", cwd=root, env={"ASGIFIX_CACHE_DIR": str(root / "elsewhere")})
    assert result.exit_code == 1 and (root / "elsewhere" / "CACHEDIR.TAG").is_file()
    cleaned = run_cli("clean", ".", cwd=root)
    assert cleaned.exit_code == 0 and "build/afx" in cleaned.stdout
    assert not (root / "build" / "afx").exists() and (root / "elsewhere").exists()
    # outside the project root: never used, nothing written there
    outside = tmp_path / "outside"
    result = run_cli("check", ".", "--cache-dir", str(outside), cwd=root)
    assert result.exit_code == 1 and not outside.exists()


def test_an_unwritable_cache_is_skipped_silently(tmp_path):
    root = _project(tmp_path / "p")
    (root / DEFAULT_DIR).write_text("a file where the directory would be\n")
    code, out, counts = _check(root)
    assert (code, out) == _check(root, "--no-cache")[:2]
    assert counts[0] == 0  # nothing read, no error


class _Planted:
    def __reduce__(self):
        return (os.system, ("touch planted-ran",))


def test_a_planted_cache_file_runs_no_code(tmp_path):
    root = _project(tmp_path / "p")
    _check(root)
    (path,) = (root / DEFAULT_DIR).rglob("results-*.pickle")
    path.write_bytes(pickle.dumps({"format": cache_module.FORMAT, "entries": {"x": _Planted()}}))
    code, out, counts = _check(root)
    assert not (root / "planted-ran").exists()
    assert counts[0] == 0  # the planted file was refused, as a whole
    assert (code, out) == _check(root, "--no-cache")[:2]
    assert _check(root)[2][1] == 0  # and replaced by a good one


@pytest.mark.parametrize("bulk", [False, True])
def test_the_process_pool_fills_the_cache_too(tmp_path, monkeypatch, bulk):
    """Where workers are not forked (spawn platforms, a kept pool), the pool's results are cached
    by the main process (files read by the workers themselves, past BULK_THRESHOLD, are not)."""
    from asgifix import parallel

    monkeypatch.setattr("asgifix.engine.can_fork", lambda engine, jobs: False)
    monkeypatch.setattr(parallel, "THRESHOLD", 5)
    monkeypatch.setattr(parallel, "BATCH", 3)
    if bulk:
        monkeypatch.setattr(parallel, "BULK_THRESHOLD", 70)
    started = []
    real = parallel.make_pool
    monkeypatch.setattr("asgifix.engine.make_pool", lambda engine, jobs: started.append(jobs) or real(engine, jobs))
    root = _project(tmp_path / "p")
    cold = _check(root)
    warm = _check(root)
    assert started
    assert cold[:2] == warm[:2] == _check(root, "--no-cache")[:2]
    hits, misses = warm[2]
    assert hits == cold[2][1] > 0 and misses == 0


def test_the_cache_reader_makes_only_result_classes():
    import io

    from asgifix.cache import _SafeUnpickler
    from asgifix.engine import FileResult

    def load(module, name):
        return _SafeUnpickler(io.BytesIO(b"c" + module.encode() + b"\n" + name.encode() + b"\n.")).load()

    assert load("asgifix.engine", "FileResult") is FileResult
    for module, name in (("os", "system"), ("builtins", "eval"), ("asgifix.__main__", "main"),
                         ("asgifix.engine", "apply_edits"), ("asgifix.cache", "clean"), ("subprocess", "Popen")):
        with pytest.raises(pickle.UnpicklingError):
            load(module, name)


def test_a_cached_fix_round_trips_but_never_with_a_builder_to_call():
    """Fix pickles through asgifix.model._restore_fix (a slots class): the reader accepts it, with its
    edits, and refuses one that would call something later (a deferred fix's builder)."""
    import io
    from functools import partial

    from asgifix.cache import _SafeUnpickler
    from asgifix.model import Edit, Fix, Span

    fix = Fix("safe", "Remove it", (Edit("a.py", Span(0, 1, 1, 1, 1, 2), ""),))
    restored = _SafeUnpickler(io.BytesIO(pickle.dumps(fix))).load()
    assert restored.edits == fix.edits and restored.message == fix.message and not restored.pending
    deferred = Fix("unsafe", "Rewrite", build=partial(print, "x"), paths=("a.py",))
    with pytest.raises(pickle.UnpicklingError):
        _SafeUnpickler(io.BytesIO(pickle.dumps(deferred))).load()


def _age(root, seconds=3600):
    """Every file of the tree modified an hour ago (a stamp is kept only for files older than RACY_NS)."""
    import time

    then = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def _not_read(root, jobs="2"):
    result = run_cli("check", "--format", "json", "-v", ".", cwd=root, env={"ASGIFIX_JOBS": jobs})
    found = re.search(r"(\d+) unchanged files not read", result.stderr)
    return result.stdout, int(found.group(1)) if found else 0


def test_unchanged_files_are_not_read_and_changed_ones_are(tmp_path):
    root = _project(tmp_path / "p")
    _age(root)
    cold = _check(root)
    warm, skipped = _not_read(root)
    assert warm == cold[1] and skipped >= 80  # the modules, analyzed or ruled out, came from their stamps
    # The same bytes touched: read again (a digest hit), then stamped anew.
    module = root / "chat" / "mod_000.py"
    os.utime(module, (os.path.getmtime(module) - 10,) * 2)
    again, fewer = _not_read(root)
    assert again == cold[1] and fewer == skipped - 1
    assert _not_read(root)[1] == skipped
    # Other bytes of the same size under the same time, but a new file (another inode): read, not trusted.
    stat = module.stat()
    replacement = root / "chat" / "replacement.tmp"
    replacement.write_text(module.read_text().replace("async_to_sync, sync_to_async", "async_to_sync, sync_to_asyn_"))
    assert replacement.stat().st_size == stat.st_size
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, module)
    edited, _ = _not_read(root)
    assert edited != cold[1] and edited == _check(root, "--no-cache")[1]


def test_a_file_modified_just_now_is_not_stamped(tmp_path):
    root = _project(tmp_path / "p")
    _age(root)
    _check(root)
    admitted, ruled_out = root / "chat" / "mod_000.py", root / "chat" / "mod_001.py"
    admitted.write_text(admitted.read_text() + "Z = 3\n")  # modified now: within RACY_NS of being read
    ruled_out.write_text("Y = 2\n")
    _check(root)
    entries = {key[1]: entry for key, entry in _entries(root).items()}
    assert entries["chat/mod_000.py"][2] is None  # no stamp: the next run reads it and compares the digest
    assert "chat/mod_001.py" not in entries  # nothing to remember without a stamp
    assert entries["chat/mod_002.py"][2] is not None and cache_module.stamp_of(str(admitted)) is None


def _entries(root):
    [path] = (root / DEFAULT_DIR).glob("*/results-*.pickle")
    with open(path, "rb") as handle:
        return cache_module._SafeUnpickler(handle).load()["entries"]
