"""setup.py: ``setup(install_requires=[...], extras_require={...})`` read statically, never run.

The stdlib ``ast`` finds the ``setup(...)`` call (``setup``, ``setuptools.setup``,
``distutils.core.setup``) and the literal lists given to it, directly or through
a module-level name (``install_requires=REQUIREMENTS`` with
``REQUIREMENTS = [...]``). Anything computed (``open(...).read().split()``,
comprehensions) is not guessed at. ``ast`` column offsets count UTF-8 bytes;
they are converted to characters here so spans are right on non-ASCII lines.
"""

from __future__ import annotations

import ast
import re
from ..records import dataclass, field
from typing import Optional

from ..textio import TextDocument
from . import no_new_invalid_entries
from .declared import DeclaredRequirement, Writer, pep508_entry

_SETUP_NAMES = {"setup", "setuptools.setup", "distutils.core.setup"}
# A plain string literal: optional u/r prefix, one quote character, no escapes inside.
_SIMPLE_LITERAL = re.compile(r"""^(?P<prefix>[uUrR]?)(?P<quote>["'])(?P<body>[^"'\\\r\n]*)(?P=quote)$""")


@dataclass
class SetupPy:
    document: TextDocument
    tree: ast.Module
    entries: list[DeclaredRequirement] = field(default_factory=list)
    install_requires: Optional[ast.expr] = None  # the list node, for adding a requirement
    name: Optional[str] = None


def parse(document: TextDocument) -> SetupPy:
    from .python import parse as parse_python

    tree = parse_python(document).tree
    model = SetupPy(document, tree)
    call = _setup_call(tree)
    if call is None:
        return model
    assignments = _module_assignments(tree)
    for keyword in call.keywords:
        value = _resolve(keyword.value, assignments)
        if keyword.arg == "install_requires":
            if isinstance(value, (ast.List, ast.Tuple)):
                model.install_requires = value
            model.entries += _strings(document, value, "setup.install_requires")
        elif keyword.arg == "extras_require" and isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    model.entries += _strings(document, _resolve(item, assignments),
                                              f"setup.extras_require.{key.value}")
        elif keyword.arg == "name" and isinstance(value, ast.Constant) and isinstance(value.value, str):
            model.name = value.value
    model.entries.sort(key=lambda e: e.start)
    return model


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _setup_call(tree: ast.Module) -> Optional[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _dotted(node.func) in _SETUP_NAMES:
            return node
    return None


def _module_assignments(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level ``NAME = <literal>``; a name assigned twice is ambiguous and left out."""
    found: dict[str, Optional[ast.expr]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            found[name] = None if name in found else node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name = node.target.id
            found[name] = None if name in found else node.value
    return {k: v for k, v in found.items() if v is not None}


def _resolve(node: ast.expr, assignments: dict[str, ast.expr]) -> ast.expr:
    if isinstance(node, ast.Name) and node.id in assignments:
        return assignments[node.id]
    return node


def char_offset(document: TextDocument, line: int, byte_column: int) -> int:
    """Document offset of an ``ast`` position (1-based line, UTF-8 byte column)."""
    text = document.line_text(line)
    column = len(text.encode("utf-8")[:byte_column].decode("utf-8", "replace"))
    return document.offset(line, column + 1)


def _strings(document: TextDocument, node: ast.expr, group: str) -> list[DeclaredRequirement]:
    if not isinstance(node, (ast.List, ast.Tuple)):
        return []
    found = []
    for item in node.elts:
        if not (isinstance(item, ast.Constant) and isinstance(item.value, str)):
            continue
        token_start = char_offset(document, item.lineno, item.col_offset)
        token_end = char_offset(document, item.end_lineno, item.end_col_offset)
        token = document.text[token_start:token_end]
        simple = _SIMPLE_LITERAL.match(token)
        # setuptools (pkg_resources) drops everything from " #" on.
        requirement = item.value.split(" #", 1)[0].rstrip()
        if simple and simple.group("body") == item.value:
            start = token_start + len(simple.group("prefix")) + 1
            writer = Writer("python", token_start, token_end, simple.group("quote"), exact=not simple.group("prefix"))
            end = start + len(requirement)
        else:
            # Escapes, implicit concatenation, triple quotes: the span is the whole literal and a
            # rewrite replaces the whole literal (in double quotes), comments inside included.
            start, end = token_start, token_end
            quote = '"' if token.endswith('"') else "'"
            writer = Writer("python", token_start, token_end, quote, exact=False) if requirement == item.value else None
        found.append(pep508_entry(requirement, start, end, item.lineno, group, writer))
    return found


def declarations(model: SetupPy) -> list:
    return [e.declaration(model.document, "setup-py") for e in model.entries if e.name]


def facts(model: SetupPy) -> list:
    return [("project-name", model.name)] if model.name else []


def validate(document: TextDocument, new_text: str) -> Optional[str]:
    return no_new_invalid_entries(parse, document, new_text, "requirement")


def add_requirement(model: SetupPy, name: str, specifier: str) -> Optional[tuple[str, list[tuple[int, int, str]]]]:
    """A new string at the end of a literal ``install_requires`` list, in the list's own layout."""
    node = model.install_requires
    if node is None or not node.elts or not all(isinstance(e, ast.Constant) for e in node.elts):
        return None
    document = model.document
    last = node.elts[-1]
    last_end = char_offset(document, last.end_lineno, last.end_col_offset)
    close = char_offset(document, node.end_lineno, node.end_col_offset) - 1
    token = document.text[char_offset(document, last.lineno, last.col_offset):last_end]
    quote = "'" if token.endswith("'") else '"'
    literal = f"{quote}{name}{specifier}{quote}"
    between = document.text[last_end:close]
    trailing_comma = between.lstrip(" \t").startswith(",")
    if last.end_lineno < node.end_lineno:
        line_start = document.line_starts[last.lineno - 1]
        indent = document.text[line_start:char_offset(document, last.lineno, last.col_offset)]
        if indent.strip():
            return None
        edits = [] if trailing_comma else [(last_end, last_end, ",")]
        newline_at = document.text.find("\n", last_end)
        if newline_at == -1 or newline_at > close:
            return None
        edits.append((newline_at + 1, newline_at + 1, f"{indent}{literal},{document.newline()}"))
        return "setup(install_requires=...)", edits
    if trailing_comma:
        comma = last_end + between.index(",") + 1
        return "setup(install_requires=...)", [(comma, comma, f" {literal},")]
    return "setup(install_requires=...)", [(last_end, last_end, f", {literal}")]
