"""AFX502: a coroutine created and dropped, so the message it should send is lost.

In an async consumer's ``async def`` method, ``self.channel_layer.group_send(...)``,
``self.send(...)``, ``self.accept()`` and friends return coroutines; as a bare
expression statement they are never run (``RuntimeWarning: coroutine ... was
never awaited``). The same holds for ``database_sync_to_async(f)(...)`` /
``sync_to_async(f)(...)`` in any coroutine, and for channel layer calls in a
plain ``def`` (a sync consumer's method, a signal handler) not wrapped in
``async_to_sync``. Consumer kinds come from the class's bases (Channels'
classes, and this module's own classes built on them).

Only expression statements are reported: a coroutine stored, returned or passed
on is someone else's to await. Fixes: ``await `` in front (in a coroutine), or
``async_to_sync(layer.method)(args)`` (in a plain function; the import is added
when the module lacks it). Both are safe: the statement's value was unused.
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from ..model import Edit, Finding, Fix
from ..sources.python import PythonModule
from ..sources.pruning import StatementText
from ..sources.python_asgiref import CharPositions
from . import FileMatcher
from ._coroutine_scope import ScopeVisitor, dotted_name, import_aliases, resolve

ASYNC_BASES = {"AsyncWebsocketConsumer", "AsyncJsonWebsocketConsumer", "AsyncConsumer", "AsyncHttpConsumer"}
SYNC_BASES = {"WebsocketConsumer", "JsonWebsocketConsumer", "SyncConsumer"}
LAYER_METHODS = {"group_add", "group_discard", "group_send", "send"}
# Methods of Channels' async consumers that are coroutine functions, by the base that defines them.
ASYNC_SELF_METHODS = {"send", "accept", "close", "send_json", "base_send", "send_response", "send_headers",
                      "send_body", "websocket_accept"}
WRAPPERS = {"asgiref.sync.sync_to_async", "asgiref.sync.SyncToAsync", "channels.db.database_sync_to_async"}
GET_LAYER = {"channels.layers.get_channel_layer"}
ASYNC_TO_SYNC = "asgiref.sync.async_to_sync"


def consumer_kinds(tree: ast.Module, aliases: dict[str, str],
                   statements: Optional[StatementText] = None) -> dict[int, tuple[str, dict[str, bool]]]:
    """id(ClassDef) -> ("async" | "sync", {method name: is coroutine function}) for consumer classes.

    Kinds pass through the module's own classes (``class Base(AsyncWebsocketConsumer)``,
    ``class Chat(Base)``); methods defined along that chain are collected so that a
    ``send`` overridden as a plain ``def`` is not taken for a coroutine.
    """
    from ..sources.pruning import walk

    # (a statement whose lines do not spell ``class`` holds no class definition)
    classes = [node for node in walk(tree, statements, ("class",)) if isinstance(node, ast.ClassDef)]
    by_name = {node.name: node for node in classes}
    kinds: dict[int, tuple[str, dict[str, bool]]] = {}

    def methods(node: ast.ClassDef) -> dict[str, bool]:
        return {item.name: isinstance(item, ast.AsyncFunctionDef) for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def kind_of(node: ast.ClassDef, seen: frozenset = frozenset()) -> Optional[tuple[str, dict[str, bool]]]:
        if id(node) in kinds:
            return kinds[id(node)]
        if id(node) in seen:
            return None
        found: Optional[tuple[str, dict[str, bool]]] = None
        inherited: dict[str, bool] = {}
        for base in node.bases:
            target = resolve(base, aliases)
            if target is not None and target.startswith("channels."):
                last = target.rsplit(".", 1)[-1]
                if last in ASYNC_BASES:
                    found = found or ("async", {})
                elif last in SYNC_BASES:
                    found = found or ("sync", {})
            elif isinstance(base, ast.Name) and base.id in by_name and base.id not in aliases:
                parent = kind_of(by_name[base.id], seen | {id(node)})
                if parent is not None:
                    found = found or (parent[0], {})
                    for name, is_async in parent[1].items():
                        inherited.setdefault(name, is_async)
        if found is None:
            return None
        result = (found[0], {**inherited, **methods(node)})
        kinds[id(node)] = result
        return result

    for node in classes:
        kind_of(node)
    # kind_of calls itself through its closure: a reference cycle that would keep this module's
    # syntax tree alive until the garbage collector runs (rarely, during a run: engine.GC_THRESHOLD).
    kind_of = None  # noqa: F841
    return kinds


# Words a statement must spell to hold a hit besides an imported name: the layer and consumer
# methods (``send`` is in ``group_send``, ``send_json``, ...; ``accept`` in ``websocket_accept``).
FINDER_WORDS = frozenset({"send", "accept", "close", "group_add", "group_discard"})
assert all(any(word in method for word in FINDER_WORDS) for method in LAYER_METHODS | ASYNC_SELF_METHODS)


class _Finder(ScopeVisitor):
    def __init__(self, aliases, kinds, statements, words=()):
        super().__init__(statements, words)
        self.aliases = aliases
        self.kinds = kinds
        self.layers: list[set[str]] = [set()]  # names bound to get_channel_layer() per function frame
        self.hits: list[tuple[ast.Expr, str, str]] = []  # (statement, "await" | "wrap", what)

    def _consumer(self) -> Optional[tuple[str, dict[str, bool]]]:
        frame = self.frame
        if frame is None or frame.parent is None or not frame.parent.is_class:
            return None
        return self.kinds.get(id(frame.parent.node))

    def _body(self, node, body, is_coroutine, is_class=False):
        self.layers.append(set(self.layers[0]) if not is_class else set())
        try:
            super()._body(node, body, is_coroutine, is_class)
        finally:
            self.layers.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        value = node.value
        if isinstance(value, ast.Call) and resolve(value.func, self.aliases) in GET_LAYER:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.layers[-1].add(target.id)
        self.generic_visit(node)

    def _is_layer(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Call) and resolve(node.func, self.aliases) in GET_LAYER:
            return True
        if isinstance(node, ast.Name):
            return node.id in self.layers[-1]
        consumer = self._consumer()
        return consumer is not None and dotted_name(node) == "self.channel_layer"

    def visit_Expr(self, node: ast.Expr) -> None:
        call = node.value
        if isinstance(call, ast.Call) and self.frame is not None and not self.frame.is_class:
            what = self._coroutine_call(call)
            if what is not None:
                self.hits.append((node, "await" if self.in_coroutine else "wrap", what))
        self.generic_visit(node)

    def _coroutine_call(self, call: ast.Call) -> Optional[str]:
        """A description of the coroutine ``call`` makes, or None."""
        func = call.func
        if self.in_coroutine and isinstance(func, ast.Call) and resolve(func.func, self.aliases) in WRAPPERS:
            return f"{dotted_name(func.func)}(...)(...)"
        consumer = self._consumer()
        if not self.in_coroutine and consumer is not None and consumer[0] == "async":
            # A plain helper of an async consumer may be called on the loop's thread, where
            # async_to_sync would raise: no verdict.
            return None
        if isinstance(func, ast.Attribute) and func.attr in LAYER_METHODS and self._is_layer(func.value):
            return f"{ast.unparse(func.value) if not isinstance(func.value, ast.Call) else 'get_channel_layer()'}" \
                   f".{func.attr}(...)"
        if not self.in_coroutine:
            return None
        if consumer is None or consumer[0] != "async":
            return None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self" \
                and func.attr in ASYNC_SELF_METHODS and consumer[1].get(func.attr, True):
            return f"self.{func.attr}(...)"
        return None


class UnawaitedCoroutine(FileMatcher):
    def check_file(self, parsed: PythonModule) -> Iterator[Finding]:
        statements = StatementText.of(parsed.document)
        aliases = import_aliases(parsed.tree, statements, ("channels", "asgiref"), ("channels", "asgiref"))
        if not aliases:
            return
        kinds = consumer_kinds(parsed.tree, aliases, statements)
        # Only statements spelling one of these can hold a hit: every callee the finder resolves
        # starts at an imported name (an alias), and the methods it reports are spelled out.
        finder = _Finder(aliases, kinds, statements, tuple(sorted(set(aliases) | FINDER_WORDS)))
        finder.visit(parsed.tree)
        if not finder.hits:
            return
        document = parsed.document
        positions = CharPositions(document)

        def offsets(node: ast.AST) -> tuple[int, int]:
            line, column, end_line, end_column = positions.of(node)
            return document.offset(line, column), document.offset(end_line, end_column)

        wrapper_name = next((name for name, target in aliases.items() if target == ASYNC_TO_SYNC), None)
        import_edit = None if wrapper_name else self._import_edit(parsed, offsets)
        for statement, action, what in finder.hits:
            call: ast.Call = statement.value  # type: ignore[assignment]
            start, end = offsets(call)
            span = document.span(start, end)
            if action == "await":
                message = f"`{what}` makes a coroutine that is never awaited: it never runs and its message is lost"
                fix = Fix("safe", "Add `await`", (Edit(document.display, document.span(start, start), "await "),))
            else:
                message = (f"`{what}` in a plain function makes a coroutine that never runs: "
                           f"wrap it in `async_to_sync`")
                func_start, func_end = offsets(call.func)
                name = wrapper_name or "async_to_sync"
                edits = [Edit(document.display, document.span(func_start, func_start), f"{name}("),
                         Edit(document.display, document.span(func_end, func_end), ")")]
                if import_edit is not None:
                    edits.insert(0, import_edit)
                fix = Fix("safe", f"Call it through `{name}(...)`", tuple(edits))
            yield Finding(self.rule.code, self.rule.severity, message, document.display, span, fix, fix.message)

    @staticmethod
    def _import_edit(parsed: PythonModule, offsets) -> Edit:
        """Insert ``from asgiref.sync import async_to_sync`` after the module's last top-level import."""
        document = parsed.document
        newline = document.newline()
        imports = [node for node in parsed.tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        text = "from asgiref.sync import async_to_sync"
        if imports:
            _, end = offsets(imports[-1])
            return Edit(document.display, document.span(end, end), newline + text)
        return Edit(document.display, document.span(0, 0), text + newline)
