"""AFX501: ``async_to_sync`` called inside a coroutine, where it always raises.

The fix is a span-exact splice, not a libcst codemod: ``async_to_sync(f)(args)``
becomes ``await f(args)`` by deleting the wrapper's text around ``f`` and
inserting ``await`` (in parentheses when the result is used as an attribute,
subscript or callee). Every other byte of the file stays as it was, and the
engine re-parses the result before writing.
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from ..model import Edit, Finding, Fix
from ..sources.python import PythonModule
from ..sources.pruning import StatementText, walk
from ..sources.python_asgiref import CharPositions
from . import FileMatcher

WRAPPERS = {"asgiref.sync.async_to_sync", "asgiref.sync.AsyncToSync"}


def _aliases(tree: ast.Module, statements: Optional[StatementText] = None) -> dict[str, str]:
    """Local names bound to asgiref.sync's wrappers, or to the asgiref.sync module itself."""
    aliases: dict[str, str] = {}
    for node in walk(tree, statements, ("asgiref",)):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module in ("asgiref.sync", "asgiref"):
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ("asgiref", "asgiref.sync"):
                    aliases[alias.asname or "asgiref"] = alias.name if alias.asname else "asgiref"
    return aliases


def _resolve(node: ast.AST, aliases: dict[str, str]) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


class _Finder(ast.NodeVisitor):
    def __init__(self, aliases: dict[str, str], statements: Optional[StatementText] = None):
        self.aliases = aliases
        self.statements = statements
        self.words = tuple(aliases)
        self.in_coroutine = [False]
        self.parents: dict[int, ast.AST] = {}
        self.hits: list[tuple[ast.Call, Optional[ast.Call]]] = []  # (wrapper call, outer call or None)

    def visit(self, node: ast.AST) -> None:
        # A statement that spells no alias holds no call of a wrapper.
        if self.statements is not None and self.statements.lacks(node, self.words):
            return
        super().visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            self.parents[id(child)] = node
        super().generic_visit(node)

    def _scope(self, node: ast.AST, is_coroutine: bool) -> None:
        self.in_coroutine.append(is_coroutine)
        self.generic_visit(node)
        self.in_coroutine.pop()

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._scope(node, True)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scope(node, False)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._scope(node, False)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope(node, False)

    def visit_Call(self, node: ast.Call) -> None:
        if self.in_coroutine[-1] and _resolve(node.func, self.aliases) in WRAPPERS:
            parent = self.parents.get(id(node))
            outer = parent if isinstance(parent, ast.Call) and parent.func is node else None
            self.hits.append((node, outer))
        self.generic_visit(node)


class AsyncToSyncInCoroutine(FileMatcher):
    def check_file(self, parsed: PythonModule) -> Iterator[Finding]:
        statements = StatementText(parsed.document)
        aliases = _aliases(parsed.tree, statements)
        if not aliases:
            return
        finder = _Finder(aliases, statements)
        finder.visit(parsed.tree)
        positions = CharPositions(parsed.document)
        document = parsed.document

        def offsets(node: ast.AST) -> tuple[int, int]:
            line, column, end_line, end_column = positions.of(node)
            return document.offset(line, column), document.offset(end_line, end_column)

        for wrapper, outer in finder.hits:
            start, end = offsets(outer or wrapper)
            span = document.span(start, end)
            wrapped = wrapper.args[0] if len(wrapper.args) == 1 and not wrapper.keywords else None
            fix = None
            if outer is not None and wrapped is not None and not isinstance(wrapped, ast.Starred):
                target_start, target_end = offsets(wrapped)
                wrapped_text = document.text[target_start:target_end]
                _, wrapper_end = offsets(wrapper)
                call_rest = document.text[wrapper_end:end]  # "(args)" of the outer call
                replacement = f"await {wrapped_text}{call_rest}"
                parent = finder.parents.get(id(outer))
                needs_parens = (
                    isinstance(parent, (ast.Attribute, ast.Subscript))
                    and getattr(parent, "value", None) is outer
                ) or (isinstance(parent, ast.Call) and parent.func is outer)
                if needs_parens:
                    replacement = f"({replacement})"
                fix = Fix("safe", f"Await `{wrapped_text}` directly", (Edit(document.display, span, replacement),))
            name = _resolve(wrapper.func, aliases).rsplit(".", 1)[1]
            message = (f"`{name}` called inside `async def`: it raises RuntimeError \"You cannot use AsyncToSync "
                       f"in the same thread as an async event loop\" (asgiref 2.1.5 and later)")
            hint = fix.message if fix else "await the async function directly instead of wrapping it"
            yield Finding(self.rule.code, self.rule.severity, message, document.display, span, fix, hint)
