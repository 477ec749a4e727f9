"""The results cache: ``.asgifix_cache/`` under the project root, like ruff's ``.ruff_cache``.

A file's analysis is a pure function of its bytes and of what asgifix knows (its code, the
rule catalogue, ``rules/data``) and the settings that shape per-file analysis (the rules
selected, per-file-ignores, the target, the pin strategy, the project root). So a warm run
reads and prefilters every file as a cold one does, and for each file that passes the
prefilter looks its result up by the digest of its bytes instead of parsing it.

* A file unchanged since the run that cached it (the same size, modification time and inode, as
  ruff and git judge it) is not even read: its entry holds that stamp, and the file's result, or
  the prefilter's "nothing here", comes from it. A file modified within two seconds of being read
  gets no stamp (git's "racily clean" case: a second edit in the same clock tick would keep the
  stamp): the next run reads it and compares the digest of its bytes.
* One cache file per combination of those inputs:
  ``.asgifix_cache/<version>/results-<digest>.pickle``. Anything else changing (an
  upgrade, an edited rule or data file, another ``--select``) names another file, so a stale
  result is never used. Entries are keyed by the file's path, display path and kind, and hold
  the digest of the bytes they were made from: an edited file misses.
* Loaded lazily, on the first file that passes the prefilter (a run that parses nothing never
  reads it); written once at the end of a command, atomically (a temporary file renamed over
  it), only when something changed, only inside the project root, and never when the root is
  not writable (silently skipped). The directory holds a ``CACHEDIR.TAG`` and a ``.gitignore``
  of ``*``, as ruff's does.
* Texts given instead of a file's contents (``--stdin-filename``, the fix loop's edited texts)
  are never cached: only results of bytes read from disk are.
* The pickle is read with an unpickler that makes only asgifix's own result classes (and
  ``pathlib`` paths, ``packaging`` versions and a few builtins): a planted cache file cannot
  run code. A cache that cannot be read is treated as empty and replaced.

``--no-cache`` (or ``ASGIFIX_NO_CACHE=1``) turns it off; ``cache-dir`` in ``[tool.asgifix]``,
``--cache-dir`` or ``ASGIFIX_CACHE_DIR`` moves it; ``asgifix clean`` removes it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .discovery import SourceFile
    from .engine import Engine, FileResult

DEFAULT_DIR = ".asgifix_cache"
CACHEDIR_TAG = (b"Signature: 8a477f597d28d172789f06886806bc55\n"
                b"# This file is a cache directory tag created by asgifix.\n"
                b"# For information about cache directory tags see https://bford.info/cachedir/\n")
# Files a run must find before the cache is used (the fork threshold: asgifix.parallel.FORK_MIN).
MIN_FILES = 64
# A cache file older than asgifix's format is not read (bumped when an entry's shape changes).
FORMAT = 2
# How recent a modification leaves a file unstamped (nanoseconds): see the module.
RACY_NS = 2_000_000_000


def _digest(raw: bytes) -> bytes:
    import hashlib

    return hashlib.blake2b(raw, digest_size=16).digest()


def cache_dir_for(root: Path, setting: Optional[str]) -> Path:
    """Where the cache lives: ``setting`` (relative to the project root) or ``.asgifix_cache``."""
    return root / (setting or DEFAULT_DIR)


def stamp_of(path: str) -> Optional[tuple[int, int, int]]:
    """``(size, modification time in ns, inode)`` of a file, or None: unreadable, or modified so
    recently that another edit could follow within the clock's tick (see the module)."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    if time.time_ns() - stat.st_mtime_ns < RACY_NS:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def inside(path: Path, root: Path) -> bool:
    try:
        resolved, root = os.path.realpath(path), os.path.realpath(root)
    except (OSError, ValueError):
        return False
    return resolved == root or resolved.startswith(root.rstrip(os.sep) + os.sep)


class ResultsCache:
    """Per-file results of one project, for one set of analysis inputs (see the module)."""

    def __init__(self, directory: Path, root: Path):
        self.directory = directory
        self.root = root
        self._engine: Optional["Engine"] = None
        self._path: Optional[Path] = None
        # key -> (digest or None, result or None, stamp or None); None: not loaded. A digest of None:
        # the prefilter ruled the file out (only kept with a stamp).
        self._entries: Optional[dict] = None
        self.stamps: dict = {}  # key -> the stamp of the file being read, until its entry is put
        self._keyed: Optional["SourceFile"] = None  # the file whose key was asked last, and that key
        self._key: tuple = ()
        self.fresh: dict = {}  # entries made in this process since loading (sent back by forked workers)
        self.touched: set = set()  # keys looked up in this run (the others are dropped at save)
        self.expected: dict = {}  # key -> digest of files missed and analyzed by the pool
        self.hits = 0  # analyzed files whose result came from the cache
        self.misses = 0
        self.not_read = 0  # files not even read (unchanged since cached; ruled-out ones included)
        # Used only once a run proves big enough to gain from it (loading it and digesting the
        # catalogue cost a few milliseconds: more than a handful of files cost to analyze).
        self.active = False
        self._seen = 0

    def count(self, source: "SourceFile") -> None:
        """One more file found by a run that analyzes as it walks: active from :data:`MIN_FILES` on."""
        self._seen += 1
        if self._seen >= MIN_FILES:
            self.active = True

    # -- set up -----------------------------------------------------------------------------
    def bind(self, engine: "Engine") -> None:
        self._engine = engine

    def _file(self) -> Path:
        if self._path is None:
            from . import __version__

            self._path = self.directory / __version__ / f"results-{inputs_digest(self._engine)}.pickle"
        return self._path

    def load(self) -> dict:
        if self._entries is None:
            entries: dict = {}
            try:
                with open(self._file(), "rb") as handle:
                    data = _SafeUnpickler(handle).load()
                if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("entries"), dict):
                    entries = data["entries"]
            except Exception:  # missing, truncated, planted or from another Python: start empty
                entries = {}
            self._entries = entries
        return self._entries

    # -- use ----------------------------------------------------------------------------------
    def key_of(self, source: "SourceFile") -> tuple:
        # (the absolute path: the same display path can name another file from another directory)
        if source is not self._keyed:  # (a file being read is asked for its key two or three times)
            self._keyed, self._key = source, (os.path.abspath(source.fspath), source.display, source.kind,
                                              source.explicit)
        return self._key

    def unchanged(self, source: "SourceFile") -> Optional["FileResult"]:
        """The cached result of a file whose stamp has not changed since it was cached, without
        reading it; None when it must be read (and its stamp is kept for the entry to come)."""
        key = self.key_of(source)
        stamp = stamp_of(source.fspath)
        entry = self.load().get(key)
        if stamp is not None and entry is not None and entry[2] == stamp:
            self.touched.add(key)
            self.not_read += 1
            if entry[0] is not None:
                self.hits += 1
            return self._result(source, entry)
        if stamp is not None:
            self.stamps[key] = stamp
        return None

    def ruled_out(self, source: "SourceFile") -> None:
        """The prefilter ruled the file out: with a stamp, the next run need not read it."""
        key = self.key_of(source)
        stamp = self.stamps.pop(key, None)
        if stamp is not None:
            entry = (None, None, stamp)
            self.load()[key] = entry
            self.fresh[key] = entry
            self.touched.add(key)

    @staticmethod
    def _result(source: "SourceFile", entry: tuple) -> "FileResult":
        from .engine import FileResult

        result = entry[1]
        if result is None:
            return FileResult(source)
        result.source = source
        return result

    def get(self, source: "SourceFile", raw: bytes) -> tuple[tuple, Optional["FileResult"]]:
        """``(token, result)``: the cached result of these bytes, or None (then :meth:`put` the
        result with the token: the file's key and the digest of its bytes)."""
        key = self.key_of(source)
        digest = _digest(raw)
        self.touched.add(key)
        entry = self.load().get(key)
        if entry is None or entry[0] != digest:
            self.misses += 1
            return (key, digest), None
        self.hits += 1
        stamp = self.stamps.pop(key, None)
        if stamp is not None and entry[2] != stamp:  # the same bytes, touched since: stamp them anew
            entry = (entry[0], entry[1], stamp)
            self.load()[key] = entry
            self.fresh[key] = entry
        return (key, digest), self._result(source, entry)

    def put(self, token: tuple, result: "FileResult") -> None:
        held = result if (result.findings or result.error or result.document is not None
                          or result.declarations or result.facts) else None
        key, digest = token
        entry = (digest, held, self.stamps.pop(key, None))
        self.load()[key] = entry
        self.fresh[key] = entry
        self.touched.add(key)

    def lookup(self, source: "SourceFile", raw: bytes) -> Optional["FileResult"]:
        """:meth:`get` for a file analyzed elsewhere (the pool): a miss is settled from its result."""
        token, result = self.get(source, raw)
        if result is None:
            self.expected[source.display] = token
        return result

    def settle(self, source: "SourceFile", result: "FileResult") -> None:
        token = self.expected.pop(source.display, None)
        if token is not None:
            self.put(token, result)

    def merge(self, fresh: dict, looked_up: tuple) -> None:
        """Entries a forked worker made, the keys it looked up, its hits and misses."""
        touched, hits, misses, not_read = looked_up
        self.touched.update(touched)
        self.hits += hits
        self.misses += misses
        self.not_read += not_read
        if fresh:
            entries = self.load()
            entries.update(fresh)
            self.fresh.update(fresh)

    def save(self, whole_root: bool) -> bool:
        """Write the cache when something changed; ``whole_root``: the run walked the whole project,
        so entries of files it did not see (deleted, renamed) are dropped. False when skipped."""
        if self._entries is None:
            return False  # nothing was looked up: nothing to add
        entries = self._entries
        stale = whole_root and any(key not in self.touched for key in entries)
        if not self.fresh and not stale:
            return False
        if whole_root:
            entries = {key: entry for key, entry in entries.items() if key in self.touched}
        if not inside(self.directory, self.root) or not os.access(self.root, os.W_OK):
            return False
        try:
            _prepare(self.directory)
            path = self._file()
            path.parent.mkdir(exist_ok=True)
            import pickle

            data = pickle.dumps({"format": FORMAT, "entries": entries}, protocol=pickle.HIGHEST_PROTOCOL)
            _atomic_write(path, data)
        except Exception:  # a read-only or full disk, a result that cannot be pickled: no cache
            return False
        self.fresh = {}
        return True


def _prepare(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", b"# Automatically created by asgifix.\n*\n")):
        target = directory / name
        if not target.exists():
            _atomic_write(target, content)


def _atomic_write(path: Path, data: bytes) -> None:
    import tempfile

    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def inputs_digest(engine: "Engine") -> str:
    """Digest of everything besides a file's bytes that its result depends on."""
    import hashlib

    from . import __version__
    from ._paths import rules_dir

    digest = hashlib.blake2b(digest_size=16)

    def add(*parts: Any) -> None:
        digest.update(repr(parts).encode("utf-8", "surrogatepass") + b"\0")

    settings = engine.settings
    add(FORMAT, __version__, sys.version_info[:2], sys.implementation.name)
    add(sorted(rule.code for rule in engine.rules), settings.target_asgiref, settings.pin_strategy,
        sorted(settings.per_file_ignores.items()), str(engine.base_dir), engine.unsafe_fixes)
    from .engine import MAX_FILE_BYTES

    add(MAX_FILE_BYTES)
    # The catalogue and its data, by content; asgifix's own code by name, size and time
    # (a checkout being worked on; an installed release is named by its version).
    for directory in (rules_dir(), rules_dir() / "data"):
        try:
            names = sorted(entry.name for entry in os.scandir(directory) if entry.is_file())
        except OSError:
            names = []
        for name in names:
            try:
                with open(directory / name, "rb") as handle:
                    digest.update(name.encode() + b"\0" + handle.read() + b"\0")
            except OSError:
                add(name, None)
    package = Path(__file__).resolve().parent
    for directory, _, names in os.walk(package):
        for name in sorted(names):
            if name.endswith(".py"):
                try:
                    stat = os.stat(os.path.join(directory, name))
                except OSError:
                    continue
                add(os.path.relpath(os.path.join(directory, name), package), stat.st_size, stat.st_mtime_ns)
    return digest.hexdigest()


# What a cache file may make: asgifix's result classes and the few others they hold.
_ALLOWED_OTHER = {
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "bytearray"), ("builtins", "slice"),
    ("builtins", "complex"), ("builtins", "range"),
    ("pathlib", "Path"), ("pathlib", "PosixPath"), ("pathlib", "WindowsPath"),
    ("pathlib", "PurePath"), ("pathlib", "PurePosixPath"), ("pathlib", "PureWindowsPath"),
    ("collections", "OrderedDict"),
}


try:
    import pickle as _pickle

    _Unpickler = _pickle.Unpickler
except ImportError:  # pragma: no cover
    _Unpickler = object  # type: ignore[assignment,misc]


class _SafeUnpickler(_Unpickler):  # type: ignore[misc,valid-type]
    """Makes only classes (never functions) of asgifix and packaging, and a few builtins."""

    def find_class(self, module: str, name: str):  # noqa: D102
        import importlib

        if (module, name) in _ALLOWED_OTHER:
            return super().find_class(module, name)
        if (module, name) == ("asgifix.model", "_restore_fix"):
            return _restored_fix  # how a Fix pickles (a slots class), never with a builder to call later
        # (never asgifix.__main__: importing it runs the command line)
        if (module == "asgifix" or module.startswith(("asgifix.", "packaging."))) and "__main__" not in module:
            found = getattr(importlib.import_module(module), name, None) if "." not in name else None
            if isinstance(found, type) and not issubclass(found, BaseException):
                return found
        raise _pickle.UnpicklingError(f"a cache entry names {module}.{name}")


def _restored_fix(applicability, message, edits, build, paths):
    """asgifix.model._restore_fix for a cached Fix: its edits were built (a deferred one is never cached)."""
    from .model import _restore_fix

    if build is not None:
        raise _pickle.UnpicklingError("a cache entry holds a fix to build later")
    return _restore_fix(applicability, message, edits, build, paths)


def open_cache(engine: "Engine", *, enabled: bool, setting: Optional[str]) -> Optional[ResultsCache]:
    """The project's results cache for this engine, or None when it is off."""
    if not enabled:
        return None
    root = engine.base_dir
    directory = Path(setting) if setting and os.path.isabs(setting) else cache_dir_for(root, setting)
    if not inside(directory, root):
        return None  # asgifix never writes outside the project root
    cache = ResultsCache(directory, root)
    cache.bind(engine)
    return cache


def clean(root: Path, setting: Optional[str]) -> Optional[Path]:
    """Remove the project's cache directory; the path removed, or None when there was none."""
    import shutil

    directory = Path(setting) if setting and os.path.isabs(setting) else cache_dir_for(root, setting)
    if not directory.is_dir() or not inside(directory, root):
        return None
    if not (directory / "CACHEDIR.TAG").is_file():
        return None  # not a directory asgifix made: left alone
    shutil.rmtree(directory)
    return directory
