"""PEP 508 requirement strings, read as ``packaging.requirements.Requirement`` reads them.

Every reader of a requirement string in asgifix (requirements files, pyproject/setup
declarations, installed metadata, the repairs of malformed pins) asks :func:`parse_requirement`.
Most strings are plain: a name, maybe extras, maybe version clauses (``Django>=4.2,<5``,
``channels[daphne]==4.0.0``). Those are read here into an object with the attributes of
packaging's ``Requirement`` (``name``, ``extras``, ``specifier``, ``marker``, ``url``, the same
``str()``), the clauses by packaging's ``SpecifierSet``. Anything else (a marker, a URL,
parentheses, a trailing comma, an invalid clause) goes to packaging's ``Requirement``, whose
verdict and message are the ones reported. The plain reading exists for start-up time:
``packaging.requirements`` imports the marker machinery, ``packaging.tags``, ``platform`` and
``logging``, about 40 ms of a 300 ms one-file check (bench/RESULTS.md). The plain grammar accepts
a subset of what packaging accepts and reads it the same way: tests/test_pep508.py holds the two
to each other, on generated strings and on every requirement line of the test data.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["InvalidRequirement", "PlainRequirement", "parse_requirement"]


class InvalidRequirement(ValueError):
    """The string is not a requirement; the message is packaging's."""


_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_CLAUSE = r"(?:~=|==|!=|<=|>=|<|>)[ \t]*[0-9][A-Za-z0-9.*+!_-]*"
_PLAIN = re.compile(
    rf"[ \t]*(?P<name>{_NAME})[ \t]*"
    rf"(?:\[[ \t]*(?P<extras>{_NAME}(?:[ \t]*,[ \t]*{_NAME})*)?[ \t]*\][ \t]*)?"
    rf"(?P<clauses>{_CLAUSE}(?:[ \t]*,[ \t]*{_CLAUSE})*)?[ \t]*")
_COMMA = re.compile(r"[ \t]*,[ \t]*")


class PlainRequirement:
    """What packaging's ``Requirement`` holds for a string without marker or URL."""

    __slots__ = ("name", "extras", "specifier")

    marker = None
    url = None

    def __init__(self, name: str, extras: set[str], specifier: Any):
        self.name = name
        self.extras = extras
        self.specifier = specifier

    def __str__(self) -> str:
        text = self.name
        if self.extras:
            text += f"[{','.join(sorted(self.extras))}]"
        if self.specifier:
            text += str(self.specifier)
        return text

    def __repr__(self) -> str:
        return f"<Requirement({str(self)!r})>"


def parse_requirement(text: str) -> Any:
    """``text`` read as ``packaging.requirements.Requirement(text)`` reads it (a
    :class:`PlainRequirement` when it is plain); :class:`InvalidRequirement` when it is not one."""
    plain = _plain(text)
    if plain is not None:
        return plain
    from packaging.requirements import InvalidRequirement as Invalid
    from packaging.requirements import Requirement

    try:
        return Requirement(text)
    except Invalid as exc:
        raise InvalidRequirement(str(exc)) from None


def _plain(text: str):
    match = _PLAIN.fullmatch(text)
    if match is None:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    clauses = match.group("clauses")
    try:
        specifier = SpecifierSet(",".join(_COMMA.split(clauses)) if clauses else "")
    except InvalidSpecifier:
        return None  # packaging's Requirement says what is wrong with it
    extras = match.group("extras")
    return PlainRequirement(match.group("name"), set(_COMMA.split(extras)) if extras else set(),
                            specifier)
