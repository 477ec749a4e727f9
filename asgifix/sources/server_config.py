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


# Commands that install packages: what they name is installed wherever the file runs.
_INSTALLERS = (("pip", "install"), ("pip3", "install"), ("uv", "add"), ("poetry", "add"), ("pipenv", "install"))
_REQUIREMENT_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?=$|[\[<>=!~;@ ])")


def installed_packages(model: ServerConfig) -> list[tuple[str, int, int, int]]:
    """``(name as written, start, end, line)`` of each package a ``pip install``-like command names
    (``RUN pip install daphne``, ``uv pip install "channels[daphne]>=4"``); files it reads are not followed."""
    document = model.document
    found = []
    for number in range(1, document.line_count + 1):
        line = document.line_text(number)
        if "install" not in line and " add " not in line:
            continue
        tokens = list(_tokens(line))
        for index in range(len(tokens) - 1):
            word = tokens[index][0].rsplit("/", 1)[-1]
            if (word, tokens[index + 1][0]) not in _INSTALLERS:
                continue
            skip_next = False
            for value, start, end in tokens[index + 2:]:
                if value in _SEPARATORS:
                    break
                if skip_next:
                    skip_next = False
                    continue
                if value.startswith("-"):
                    # options that take a value: -r FILE, -c FILE, -e PATH, -i URL, --target DIR, ...
                    skip_next = value in ("-r", "-c", "-e", "-i", "-t", "--requirement", "--constraint",
                                          "--editable", "--index-url", "--extra-index-url", "--target",
                                          "--prefix", "--root", "--group", "-G", "--find-links", "-f")
                    continue
                match = _REQUIREMENT_NAME.match(value)
                if match:
                    offset = document.line_starts[number - 1]
                    found.append((match.group(0), offset + start, offset + start + match.end(), number))
    return found


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
