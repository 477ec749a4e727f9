"""The knowledge data's TOML files (``rules/data/*.toml``), read through their parsed copy.

``rules/data/toml.json`` holds each file parsed, with the digest of the bytes it was parsed
from (scripts/build_docs.py writes it, as it writes ``rules/catalogue.json``). A check reads four
of these files; tomllib takes ~35 ms for them, JSON a few. A file whose bytes differ from the
digest (edited since, or rebuilt by scripts/build_knowledge.py), or a missing or broken copy,
is parsed from its TOML: the copy is only a faster way to the same data, never a stale one.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

COMPILED = "toml.json"
# The files read through :func:`load_toml` (the others are read by commands that are not one-file checks).
FILES = ("behaviour.toml", "moves.toml", "release_requirements.toml", "wiring.toml")


def sha256():
    """A SHA-256 hasher without importing hashlib, whose OpenSSL binding costs a one-file check ~5 ms to load
    (the interpreter's own implementation gives the same digest; hashlib where it is missing)."""
    try:
        from _sha256 import sha256 as new  # Python 3.11
    except ImportError:
        try:
            from _sha2 import sha256 as new  # type: ignore[no-redef]  # Python 3.12+
        except ImportError:  # pragma: no cover - a build without them
            from hashlib import sha256 as new  # type: ignore[no-redef]
    return new()


def _digest(raw: bytes) -> str:
    digest = sha256()
    digest.update(raw)
    return digest.hexdigest()


@lru_cache(maxsize=None)
def _compiled(directory: str) -> dict:
    import json

    try:
        with open(Path(directory) / COMPILED, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_toml(path: Path) -> Any:
    """``tomllib.load`` of ``path`` (callers must not change what it returns: it may be shared)."""
    path = Path(path)
    with open(path, "rb") as handle:
        raw = handle.read()
    entry = _compiled(str(path.parent)).get(path.name)
    if isinstance(entry, dict) and entry.get("digest") == _digest(raw) and "data" in entry:
        return entry["data"]
    return _parse(raw)


def _parse(raw: bytes) -> Any:
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(raw.decode("utf-8"))


def compiled_data(directory: Path) -> str:
    """The text of ``toml.json`` for ``directory``: each of :data:`FILES` parsed, with its digest.

    A file JSON cannot hold as it is (a TOML date) is left out: it is read from its TOML."""
    import json

    entries = {}
    for name in FILES:
        path = directory / name
        if not path.is_file():
            continue
        raw = path.read_bytes()
        data = _parse(raw)
        try:
            if json.loads(json.dumps(data)) != data:
                continue
        except (TypeError, ValueError):
            continue
        entries[path.name] = {"digest": _digest(raw), "data": data}
    return json.dumps(entries, ensure_ascii=False, indent=0, sort_keys=False) + "\n"
