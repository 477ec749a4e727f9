"""Sources: parse project files into the model the rules match against.

Each file kind has one module here exposing three functions:

* ``parse(document)`` -> the kind's model (raises :class:`SourceProblem` when the
  file cannot be parsed at all);
* ``declarations(model)`` -> the dependencies it declares, as
  :class:`~asgifix.project.Declaration` values (for project rules);
* ``validate(document, new_text)`` -> why a fixed text must not be written
  (it would not parse), or None.

The engine looks modules up by kind in :data:`READERS` and imports them only
when a file of that kind is actually read.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Optional

READERS: dict[str, str] = {
    "requirements": "requirements",
    "python": "python",
    "pyproject": "pyproject",
    "setup-cfg": "setup_cfg",
    "setup-py": "setup_py",
    "pipfile": "pipfile",
    "lock": "lock",
    "server-config": "server_config",
    "python-version": "python_version",
}


class SourceProblem(Exception):
    """A file that cannot be parsed; the message is one line, ``line`` is 1-based or None."""

    def __init__(self, message: str, line: Optional[int] = None):
        super().__init__(message)
        self.line = line


def reader(kind: str) -> Optional[ModuleType]:
    name = READERS.get(kind)
    if name is None:
        return None
    return importlib.import_module(f"{__name__}.{name}")


def declared_entries(kind: str, document) -> list:
    """The declared requirements of ``document`` in the shared shape (sources.declared), or [] for other kinds.

    Project rules use this to turn a Declaration back into something they can
    rewrite; declaration files are small, so parsing again is cheap.
    """
    module = reader(kind)
    if module is None:
        return []
    try:
        model = module.parse(document)
    except SourceProblem:
        return []
    entries_of = getattr(module, "requirement_entries", None)
    if entries_of is not None:
        return entries_of(model)
    return list(getattr(model, "entries", []))


def entry_for(kind: str, document, start: int, end: int):
    """The declared entry whose value spans ``start:end`` (a Declaration's offsets), or None."""
    for entry in declared_entries(kind, document):
        if entry.start == start and entry.end == end:
            return entry
    return None


def no_new_invalid_entries(parse, document, new_text: str, what: str) -> Optional[str]:
    """The shared ``validate`` of declaration formats: a fix may not add an invalid entry.

    ``parse`` is the format's parser (its entries carry ``kind``, ``value`` and
    ``line``); ``what`` names an entry in the message ("requirement", "version").
    """
    try:
        before = {e.value for e in parse(document).entries if e.kind == "invalid"}
        after = [e for e in parse(document.with_text(new_text)).entries
                 if e.kind == "invalid" and e.value not in before]
    except SourceProblem as exc:
        return f"the fixed file would not parse ({exc})"
    if after:
        return f"line {after[0].line} would hold an invalid {what} ({after[0].value!r})"
    return None
