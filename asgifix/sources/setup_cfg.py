"""setup.cfg: ``[options] install_requires`` and ``[options.extras_require]``, read as setuptools reads them.

setuptools reads the file with ``configparser`` (``=`` or ``:`` between key and
value; indented lines continue a value; whole-line ``#``/``;`` comments are
dropped) and then splits a requirements value into one requirement per line
(a one-line value is split at ``;``), dropping ``#`` lines and, like
pkg_resources, anything from `` #`` on. This module repeats those steps on
the text, keeping the offsets of each requirement, so findings point at it
and fixes replace exactly it.
"""

from __future__ import annotations

import re
from ..records import dataclass, field
from typing import Optional

from ..textio import TextDocument
from . import SourceProblem, no_new_invalid_entries
from .declared import DeclaredRequirement, Writer, pep508_entry

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\][ \t]*(?:[#;].*)?$")
_OPTION = re.compile(r"^(?P<key>[^=:\s][^=:]*?)\s*[=:][ \t]*(?P<value>.*)$")


@dataclass
class ValueLine:
    text: str  # the line's text, stripped
    start: int  # document offset of ``text``
    line: int


@dataclass
class Option:
    section: str
    key: str
    key_start: int
    line: int
    values: list[ValueLine] = field(default_factory=list)  # first line's value, then continuation lines
    indent: Optional[str] = None  # indentation of the continuation lines, when there are some
    end: int = 0  # offset after the option's last value line (its line ending included)


@dataclass
class SetupCfg:
    document: TextDocument
    options: list[Option]
    entries: list[DeclaredRequirement]

    def option(self, section: str, key: str) -> Optional[Option]:
        for option in self.options:
            if option.section == section and option.key == key:
                return option
        return None


def _lines(text: str):
    """(line number, start offset, body without the ending, offset after the ending)."""
    offset = 0
    for number, chunk in enumerate(text.splitlines(keepends=True), start=1):
        body = chunk.rstrip("\r\n")
        yield number, offset, body, offset + len(chunk)
        offset += len(chunk)


def parse(document: TextDocument) -> SetupCfg:
    options: list[Option] = []
    section: Optional[str] = None
    current: Optional[Option] = None
    for number, start, body, after in _lines(document.text):
        stripped = body.strip()
        if not stripped or stripped[0] in "#;":
            continue  # configparser drops comment lines; blank lines never end a value it keeps
        indented = body[:1] in (" ", "\t")
        if indented and current is not None:
            lead = len(body) - len(body.lstrip())
            current.values.append(ValueLine(stripped, start + lead, number))
            current.indent = current.indent if current.indent is not None else body[:lead]
            current.end = after
            continue
        header = _SECTION.match(stripped)
        if header and not indented:
            section = header.group("name").strip()
            current = None
            continue
        option = _OPTION.match(body) if not indented else None
        if option and section is not None:
            value = option.group("value")
            current = Option(section, option.group("key").strip(), start, number, end=after)
            if value.strip():
                value_start = start + option.start("value")
                current.values.append(ValueLine(value.strip(), value_start + len(value) - len(value.lstrip()), number))
            options.append(current)
            continue
        if section is None:
            raise SourceProblem("not a setup.cfg file: text before the first [section]", number)
        raise SourceProblem(f"cannot parse line: {stripped[:60]!r}", number)
    model = SetupCfg(document, options, [])
    for option in options:
        if option.section == "options" and option.key == "install_requires":
            model.entries += _requirements(document, option, "options.install_requires")
        elif option.section == "options.extras_require":
            model.entries += _requirements(document, option, f"options.extras_require.{option.key}")
    return model


def _requirements(document: TextDocument, option: Option, group: str) -> list[DeclaredRequirement]:
    values = option.values
    if values and values[0].text.startswith("file:"):
        return []  # the requirements live in the named file, which is read on its own
    pieces: list[tuple[str, int, int]] = []  # (text, start, line)
    if len(values) == 1 and values[0].line == option.line and ";" in values[0].text:
        # setuptools splits a one-line value at ";" (and warns when that cut off a marker); a
        # value written on the lines below its key holds a newline, and is split by line only
        # ("install_requires =" then "    asgiref>=3.5; python_version >= '3.8'").
        value = values[0]
        position = 0
        for part in value.text.split(";"):
            lead = len(part) - len(part.lstrip())
            if part.strip():
                pieces.append((part.strip(), value.start + position + lead, value.line))
            position += len(part) + 1
    else:
        pieces = [(v.text, v.start, v.line) for v in values]
    found = []
    for text, start, line in pieces:
        if text.startswith("#"):
            continue
        # pkg_resources/setuptools drop everything from " #" on.
        requirement = text.split(" #", 1)[0].rstrip()
        if not requirement:
            continue
        end = start + len(requirement)
        found.append(pep508_entry(requirement, start, end, line, group, Writer("raw", start, end)))
    return found


def declarations(model: SetupCfg) -> list:
    return [e.declaration(model.document, "setup-cfg") for e in model.entries if e.name]


def facts(model: SetupCfg) -> list:
    for option in model.options:
        if option.section == "metadata" and option.key == "name" and option.values:
            return [("project-name", option.values[0].text)]
    return []


def validate(document: TextDocument, new_text: str) -> Optional[str]:
    return no_new_invalid_entries(parse, document, new_text, "requirement")


def add_requirement(model: SetupCfg, name: str, specifier: str) -> Optional[tuple[str, list[tuple[int, int, str]]]]:
    """A new continuation line of ``install_requires``, indented like the others."""
    option = model.option("options", "install_requires")
    if option is None or option.indent is None or not option.values:
        return None
    document = model.document
    newline = document.newline()
    text = document.text
    insert_at = option.end
    prefix = "" if insert_at == 0 or text[insert_at - 1] in "\r\n" else newline
    return "[options] install_requires", [(insert_at, insert_at, f"{prefix}{option.indent}{name}{specifier}{newline}")]
