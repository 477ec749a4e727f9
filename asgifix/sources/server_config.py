"""Files that start the server: Procfile, Dockerfile, compose files, shell scripts, systemd units,
supervisor configurations.

asgifix reads them only to see which ASGI server a project runs (AFX103: daphne
started as the server but never declared). They declare nothing and are never
rewritten. A command is recognised by its shape, not by the file's syntax, so
one scanner serves every format: the server's name as a command word (``daphne``,
``/venv/bin/daphne``, ``python -m daphne``, the first element of a JSON exec form
``["daphne", ...]``) followed, in the same command, by the ``module:attribute``
application it serves, which daphne always needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

from ..textio import TextDocument

# A token of a command line: unquoted text, or the inside of "..." / '...' (the JSON exec form).
_TOKEN = re.compile(r"\"(?P<double>[^\"]*)\"|'(?P<single>[^']*)'|(?P<bare>[^\s\[\],\"']+)")
# Where one command ends and another begins.
_SEPARATORS = {"&&", "||", ";", "|", "&"}
_APPLICATION = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")


@dataclass
class ServerConfig:
    document: TextDocument


@dataclass(frozen=True)
class ServerCommand:
    server: str  # the server's name as given to server_commands
    text: str  # the command from the server word to the application, tokens joined by spaces
    start: int  # document offsets of the server word
    end: int
    line: int


def parse(document: TextDocument) -> ServerConfig:
    return ServerConfig(document)  # any text will do: commands are found by their shape


def declarations(model: ServerConfig) -> list:
    return []


def validate(document: TextDocument, new_text: str) -> Optional[str]:
    return None  # never rewritten


def _tokens(line: str) -> Iterator[tuple[str, int, int]]:
    for match in _TOKEN.finditer(line):
        group = "double" if match.group("double") is not None else (
            "single" if match.group("single") is not None else "bare")
        value = match.group(group)
        start, end = match.span(group)
        # a separator glued to a word ("app;", "daphne&&") still ends the command
        stripped = value.rstrip(";&|")
        if stripped != value and stripped:
            yield stripped, start, start + len(stripped)
            yield value[len(stripped):], start + len(stripped), end
            continue
        yield value, start, end


def server_commands(model: ServerConfig, servers: Iterable[str]) -> list[ServerCommand]:
    """Every command of the file that starts one of ``servers`` with an application to serve."""
    names = set(servers)
    document = model.document
    found: list[ServerCommand] = []
    for number in range(1, document.line_count + 1):
        line = document.line_text(number)
        if not any(name in line for name in names):
            continue
        tokens = list(_tokens(line))
        for index, (value, start, end) in enumerate(tokens):
            word = value.rsplit("/", 1)[-1]
            if word not in names:
                continue
            before = tokens[index - 1][0] if index else ""
            if before.startswith("-") and before != "-m":
                continue  # an option's value ("--name daphne"), not a command
            if before in ("install", "add") or (index >= 2 and tokens[index - 2][0] == "install"):
                continue  # "pip install daphne", "uv add daphne"
            for later, (argument, _, _) in enumerate(tokens[index + 1:], start=index + 1):
                if argument in _SEPARATORS:
                    break
                if _APPLICATION.match(argument):
                    offset = document.line_starts[number - 1]
                    text = " ".join([word] + [token for token, _, _ in tokens[index + 1:later + 1]])
                    found.append(ServerCommand(word, text, offset + start, offset + end, number))
                    break
    return found
