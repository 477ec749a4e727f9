"""AFX501: an ``async_to_sync`` wrapper *called* in a coroutine's own thread.

``async_to_sync(f)`` builds a wrapper; calling it in the thread of a running
event loop raises RuntimeError (asgiref 2.1.5 and later) or hangs that loop
(2.1.4 and earlier). Building the wrapper in a coroutine and calling it later
from a worker thread is correct (asgiref's and Channels' own code do it), and
so is passing it on (``sync_to_async(async_to_sync(inner))()``). Reported:

* ``async_to_sync(f)(...)`` directly in an ``async def`` body (see
  :mod:`._coroutine_scope` for what "directly" means: not in a nested
  ``def``/``lambda``/class body, not in a decorator or default of an
  ``async def``, which run in the enclosing scope);
* a wrapper stored in a name (or ``self.attribute``) and called later in the
  same coroutine body.

The fix is a span-exact splice: ``async_to_sync(f)(args)`` becomes
``await f(args)``; a callee that is not a primary expression, or a wrapper
call holding comments, keeps the wrapper's own parentheses
(``await (a or b)(args)``, B1/B17 of issue 16). No fix inside a generator
expression (``await`` would make it an async generator), under ``await``
already, or when the wrapper gets keyword arguments.
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from ..model import Edit, Finding, Fix
from ..sources.python import PythonModule
from ..sources.pruning import StatementText
from ..sources.python_asgiref import CharPositions
from . import FileMatcher
from ._coroutine_scope import Frame, ScopeVisitor, dotted_name, import_aliases, resolve

WRAPPERS = {"asgiref.sync.async_to_sync", "asgiref.sync.AsyncToSync"}
# Callees that ``await callee(args)`` parses as ``await (callee(args))`` without parentheses.
_PRIMARY = (ast.Name, ast.Attribute, ast.Call, ast.Subscript)

MESSAGE = "`{name}(...)(...)` in `async def` runs on the loop's thread: RuntimeError (asgiref up to 2.1.4 hangs)"
STORED = "wrapper `{target}` called in the coroutine that built it: RuntimeError (asgiref up to 2.1.4 hangs)"


def own_nodes(body: list) -> Iterator[ast.AST]:
    """Nodes of a function body that run in its own frame (nested bodies skipped)."""
    todo = list(body)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        todo.extend(ast.iter_child_nodes(node))


class _Finder(ScopeVisitor):
    def __init__(self, aliases: dict[str, str], statements: Optional[StatementText]):
        super().__init__(statements, tuple(aliases))
        self.aliases = aliases
        # (wrapper call, outer call, fixable)
        self.hits: list[tuple[ast.Call, ast.Call, bool]] = []
        # (call of a stored wrapper, the wrapper call that built it, the name it is stored under)
        self.stored_calls: list[tuple[ast.Call, ast.Call, str]] = []
        self.stored: dict[int, list[tuple[str, ast.Call, int]]] = {}  # frame id -> (target, wrapper, line)
        # Lines of `with pytest.raises(...)` / `self.assertRaises(...)` blocks: code there expects the
        # error on purpose (asgiref's own test of this very RuntimeError).
        self.expecting: list[tuple[int, int]] = []

    def visit_With(self, node: ast.With) -> None:
        self._expect(node)
        self.generic_visit(node)

    def _expect(self, node: ast.With) -> None:
        if any(isinstance(item.context_expr, ast.Call) and
               (dotted_name(item.context_expr.func) or "").rsplit(".", 1)[-1] in ("raises", "assertRaises")
               for item in node.items):
            self.expecting.append((node.lineno, node.end_lineno or node.lineno))

    def expected(self, node: ast.AST) -> bool:
        line = node.lineno  # type: ignore[attr-defined]
        return any(first <= line <= last for first, last in self.expecting)

    def is_wrapper(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and resolve(node.func, self.aliases) in WRAPPERS

    def visit_Call(self, node: ast.Call) -> None:
        if self.in_coroutine and self.is_wrapper(node.func) and not self.expected(node):
            fixable = not self.in_generator and not isinstance(self.parent(node), ast.Await)
            self.hits.append((node.func, node, fixable))  # type: ignore[arg-type]
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.in_coroutine and self.is_wrapper(node.value) and len(node.targets) == 1:
            target = dotted_name(node.targets[0])
            if target is not None:
                assert self.frame is not None
                self.stored.setdefault(id(self.frame), []).append((target, node.value, node.lineno))  # type: ignore
        self.generic_visit(node)

    def leave_frame(self, frame: Frame) -> None:
        stored = self.stored.pop(id(frame), None)
        if not stored:
            return
        body = frame.node.body  # type: ignore[attr-defined]
        nodes = list(own_nodes(body))
        for node in nodes:  # statements without the wrapper's name were pruned from the visit
            if isinstance(node, ast.With):
                self._expect(node)
        for node in nodes:
            if isinstance(node, ast.Call):
                name = dotted_name(node.func)
                for target, wrapper, line in stored:
                    if name == target and node.lineno > line and not self.expected(node):
                        self.stored_calls.append((node, wrapper, target))
                        break


def _drop_first_comma(tail: str) -> str:
    """The wrapper's closing text without the trailing comma of its argument list."""
    index = 0
    while index < len(tail):
        char = tail[index]
        if char == "#":
            newline = tail.find("\n", index)
            index = len(tail) if newline < 0 else newline
        elif char == ",":
            return tail[:index] + tail[index + 1:]
        elif char in " \t\r\n\\\f":
            index += 1
        else:
            break
    return tail


class AsyncToSyncInCoroutine(FileMatcher):
    def check_file(self, parsed: PythonModule) -> Iterator[Finding]:
        statements = StatementText.of(parsed.document)
        aliases = import_aliases(parsed.tree, statements, ("asgiref",), ("asgiref",))
        if not aliases:
            return
        finder = _Finder(aliases, statements)
        finder.visit(parsed.tree)
        if not finder.hits and not finder.stored_calls:
            return
        positions = CharPositions(parsed.document)
        document = parsed.document
        text = document.text

        def offsets(node: ast.AST) -> tuple[int, int]:
            line, column, end_line, end_column = positions.of(node)
            return document.offset(line, column), document.offset(end_line, end_column)

        for wrapper, outer, fixable in finder.hits:
            start, end = offsets(outer)
            span = document.span(start, end)
            name = resolve(wrapper.func, aliases).rsplit(".", 1)[1]  # type: ignore[union-attr]
            fix = None
            if fixable and len(wrapper.args) == 1 and not wrapper.keywords \
                    and not isinstance(wrapper.args[0], ast.Starred):
                fix = self._fix(document, offsets, finder, wrapper, outer)
            hint = fix.message if fix else "await the async function directly instead of wrapping it"
            yield Finding(self.rule.code, self.rule.severity, MESSAGE.format(name=name), document.display, span,
                          fix, hint)
        for call, wrapper, target in finder.stored_calls:
            start, end = offsets(call)
            name = resolve(wrapper.func, aliases).rsplit(".", 1)[1]  # type: ignore[union-attr]
            wrapped = ast.get_source_segment(text, wrapper.args[0]) if wrapper.args else None
            hint = f"`await {wrapped}(...)` instead of calling the wrapper" if wrapped else \
                "await the async function directly instead of calling the wrapper"
            yield Finding(self.rule.code, self.rule.severity, STORED.format(target=target),
                          document.display, document.span(start, end), None, hint)

    def _fix(self, document, offsets, finder: _Finder, wrapper: ast.Call, outer: ast.Call) -> Fix:
        text = document.text
        start, end = offsets(outer)
        _, func_end = offsets(wrapper.func)
        _, wrapper_end = offsets(wrapper)
        wrapped = wrapper.args[0]
        target_start, target_end = offsets(wrapped)
        head, tail = text[func_end:target_start], text[target_end:wrapper_end]
        wrapped_text = text[target_start:target_end]
        call_rest = text[wrapper_end:end]  # "(args)" of the outer call
        if isinstance(wrapped, _PRIMARY) and "#" not in head and "#" not in tail:
            replacement = f"await {wrapped_text}{call_rest}"
            shown = wrapped_text
        else:
            # Keep the wrapper's parentheses (and any comment in them) around the callee.
            replacement = f"await {head.lstrip()}{wrapped_text}{_drop_first_comma(tail)}{call_rest}"
            shown = f"({wrapped_text})" if not isinstance(wrapped, _PRIMARY) else wrapped_text
        parent = finder.parent(outer)
        if (isinstance(parent, (ast.Attribute, ast.Subscript)) and parent.value is outer) or \
                (isinstance(parent, ast.Call) and parent.func is outer):
            replacement = f"({replacement})"
        shown = " ".join(shown.split())
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return Fix("safe", f"Await `{shown}` directly", (Edit(document.display, document.span(start, end), replacement),))
