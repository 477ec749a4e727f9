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
from ..records import dataclass
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


# -- what the file installs, and on which Python (install sets) --------------------------

_PIP_WORDS = {"pip", "pip3", "pip2"}
_FROM_PYTHON = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(?:[\w.-]+(?::\d+)?/)*(?:library/)?python:"
                          r"(?P<version>\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)
_REQUIREMENT_OPTIONS = {"-r": False, "--requirement": False, "-c": True, "--constraint": True}


def _is_dockerfile(document: TextDocument) -> bool:
    name = document.path.name.lower()
    return name.startswith(("dockerfile", "containerfile")) or name.endswith(".dockerfile")


def install_commands(model: ServerConfig) -> list:
    """Each ``pip install`` (``python -m pip``, ``uv pip``) of the file with the requirement files and
    local packages it installs. A Dockerfile is one environment; elsewhere each command is its own."""
    from ..install_sets import InstallCommand

    document = model.document
    environment = document.display if _is_dockerfile(document) else ""
    found = []
    for number in range(1, document.line_count + 1):
        line = document.line_text(number)
        if "install" not in line:
            continue
        tokens = [value for value, _, _ in _tokens(line)]
        for index in range(len(tokens) - 1):
            word = tokens[index].rsplit("/", 1)[-1]
            if tokens[index + 1] != "install" or word not in _PIP_WORDS:
                continue
            files: list[str] = []
            local: list[str] = []
            pending: Optional[str] = None
            for value in tokens[index + 2:]:
                if value in _SEPARATORS:
                    break
                if pending is not None:
                    if pending in _REQUIREMENT_OPTIONS:
                        files.append(value)
                    elif pending in ("-e", "--editable") and value.startswith((".", "/")):
                        local.append(value.split("[")[0])
                    pending = None
                    continue
                option, equals, rest = value.partition("=")
                if value in _REQUIREMENT_OPTIONS or value in ("-e", "--editable"):
                    pending = value
                elif equals and option in _REQUIREMENT_OPTIONS:
                    files.append(rest)
                elif value.startswith("-r") and len(value) > 2 and not value.startswith("--"):
                    files.append(value[2:])
                elif value.startswith(("-", "$")):
                    continue
                elif value == "." or value.startswith(("./", "../", ".[")) or value.startswith("/"):
                    local.append(value.split("[")[0] or ".")
            if files or local:
                found.append(InstallCommand(document.display, number, tuple(files), tuple(local),
                                            environment or f"{document.display}:{number}"))
    return found


_CI_PYTHON = re.compile(r"^\s*-?\s*python(?:-version|_version)?\s*:\s*(?P<value>\[[^\]]*\]|[\"']?\d+\.\d+)")
_VERSION_IN = re.compile(r"(?<![\d.])(\d\.\d{1,2})(?![\d])")


def python_images(model: ServerConfig) -> list:
    """``FROM python:3.9-slim`` lines of a Dockerfile, and a CI workflow's ``python-version`` matrix:
    the Pythons what the file installs runs on."""
    from ..install_sets import PythonPin

    document = model.document
    if document.path.parent.name == "workflows":
        found = []
        for number in range(1, document.line_count + 1):
            line = document.line_text(number)
            match = _CI_PYTHON.match(line) if "python" in line else None
            if match:
                for version in _VERSION_IN.findall(match.group("value")):
                    found.append(PythonPin(document.display, number, version, line.strip()))
        return found
    if not _is_dockerfile(document):
        return []
    found = []
    for number in range(1, document.line_count + 1):
        match = _FROM_PYTHON.match(document.line_text(number))
        if match:
            found.append(PythonPin(document.display, number, match.group("version"),
                                   document.line_text(number).strip()))
    return found


def facts(model: ServerConfig) -> list:
    from ..install_sets import INSTALL_FACT, PYTHON_FACT

    return [(INSTALL_FACT, c) for c in install_commands(model)] + [(PYTHON_FACT, p) for p in python_images(model)]
