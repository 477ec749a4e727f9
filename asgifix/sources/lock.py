"""Lock files, read only: evidence of the versions a project actually resolved.

* ``poetry.lock``, ``uv.lock``, ``pdm.lock``: ``[[package]]`` tables with ``name`` and ``version``;
* ``pylock.toml`` / ``pylock.<name>.toml`` (PEP 751): ``[[packages]]``;
* ``Pipfile.lock``: JSON, ``{"default": {name: {"version": "==1.2"}}, "develop": {...}}``.

Every entry becomes a ``Declaration`` with ``locked=True`` and ``==version``.
asgifix never rewrites a lock file: the tool that wrote it must regenerate it.
"""

from __future__ import annotations

import json
import re
from ..records import dataclass, field
from typing import Optional

from ..textio import TextDocument
from . import SourceProblem
from .declared import canonical_name


@dataclass
class LockedPackage:
    name: str  # canonical
    version: Optional[str]
    line: int
    start: int  # span of the name as written
    end: int
    group: str


@dataclass
class LockFile:
    document: TextDocument
    tool: str  # poetry, uv, pdm, pylock, pipenv
    packages: list[LockedPackage] = field(default_factory=list)


def _tool(document: TextDocument) -> str:
    name = document.path.name
    lower = name.lower()
    if name == "Pipfile.lock":
        return "pipenv"
    if lower.startswith("pylock.") and lower.endswith(".toml"):
        return "pylock"
    return {"poetry.lock": "poetry", "uv.lock": "uv", "pdm.lock": "pdm"}.get(name, "unknown")


def parse(document: TextDocument) -> LockFile:
    tool = _tool(document)
    model = LockFile(document, tool)
    if tool == "pipenv":
        _parse_pipfile_lock(model)
        return model
    if tool == "unknown":
        return model
    from . import toml_source

    data, spans = toml_source.load(document)
    array = "packages" if tool == "pylock" else "package"
    for index, entry in enumerate(data.get(array, []) if isinstance(data.get(array), list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        name_pair = spans.get(array, index, "name")
        version = entry.get("version") if isinstance(entry.get("version"), str) else None
        if name_pair is None:
            continue
        node = name_pair.value
        model.packages.append(LockedPackage(canonical_name(entry["name"]), version,
                                            document.position(node.content_start)[0],
                                            node.content_start, node.content_end, tool))
    return model


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def _parse_pipfile_lock(model: LockFile) -> None:
    text = model.document.text
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SourceProblem(f"invalid JSON: {getattr(exc, 'msg', exc)}", getattr(exc, "lineno", None)) from None
    except RecursionError:
        raise SourceProblem("invalid JSON: arrays or objects nested too deeply to read (Python's recursion limit)") from None
    if not isinstance(data, dict):
        raise SourceProblem("not a Pipfile.lock: the top level is not an object")
    # Positions of the keys at depth 2 ("default" -> "asgiref"): a token walk, since json keeps none.
    positions: dict[tuple[str, str], tuple[int, int]] = {}
    depth = 0
    section: Optional[str] = None
    expect_key = False
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "{[":
            depth += 1
            expect_key = token == "{"
        elif token in "}]":
            depth -= 1
            expect_key = False
        elif token == ",":
            expect_key = depth in (1, 2)
        elif token == ":":
            expect_key = False
        elif token.startswith('"') and expect_key:
            key = json.loads(token)
            if depth == 1:
                section = key
            elif depth == 2 and section is not None:
                positions[(section, key)] = (match.start() + 1, match.end() - 1)
            expect_key = False
    for section in ("default", "develop"):
        packages = data.get(section)
        if not isinstance(packages, dict):
            continue
        for name, info in packages.items():
            version = info.get("version") if isinstance(info, dict) else None
            if isinstance(version, str) and version.startswith("=="):
                version = version[2:]
            start, end = positions.get((section, name), (0, 0))
            model.packages.append(LockedPackage(canonical_name(name), version if isinstance(version, str) else None,
                                                model.document.position(start)[0], start, end, section))


def declarations(model: LockFile) -> list:
    from ..project import Declaration

    return [
        Declaration(
            name=p.name,
            specifier=f"=={p.version}" if p.version else "",
            marker=None,
            path=model.document.display,
            line=p.line,
            source_kind="lock",
            start=p.start,
            end=p.end,
            text=p.name,
            locked=True,
            generated=True,
            group=p.group,
        )
        for p in model.packages
    ]


def validate(document: TextDocument, new_text: str) -> Optional[str]:
    return "asgifix does not rewrite lock files; regenerate them with the tool that wrote them"
