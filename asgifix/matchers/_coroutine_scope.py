"""Where code runs, for the async rules (AFX501-AFX503): in a coroutine's own thread or not.

Code directly in an ``async def`` body runs in the thread of the event loop
that drives the coroutine. The body of a nested ``def``, ``lambda`` or class
does not run there by itself (it is typically handed to a thread, to
``sync_to_async`` or to a framework). The decorators, default arguments and
annotations of a function (async or not) run where the ``def`` statement runs,
i.e. in the *enclosing* scope (B2 of issue 16). A generator expression runs
lazily, in the thread that consumes it; ``await`` inside one turns it into an
async generator, so rules report there but never rewrite (B17).

:class:`ScopeVisitor` tracks this; rules subclass it and read
``self.frame`` (the innermost function frame, or None at module level),
``self.in_coroutine`` and ``self.in_generator``. Stdlib ``ast`` only.
"""

from __future__ import annotations

import ast
from typing import Optional

from ..sources.pruning import StatementText


class Frame:
    """One function or class body being visited."""

    __slots__ = ("node", "is_coroutine", "is_class", "parent")

    def __init__(self, node: ast.AST, is_coroutine: bool, is_class: bool, parent: Optional["Frame"]):
        self.node = node
        self.is_coroutine = is_coroutine
        self.is_class = is_class
        self.parent = parent


class ScopeVisitor(ast.NodeVisitor):
    def __init__(self, statements: Optional[StatementText] = None, words: tuple[str, ...] = ()):
        self.statements = statements
        self.words = words
        self.frame: Optional[Frame] = None
        self.generators = 0  # generator expressions enclosing the node being visited
        self.parents: dict[int, ast.AST] = {}

    # -- where are we ----------------------------------------------------------------------------
    @property
    def in_coroutine(self) -> bool:
        return self.frame is not None and self.frame.is_coroutine

    @property
    def in_generator(self) -> bool:
        return self.generators > 0

    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        return self.parents.get(id(node))

    # -- traversal -------------------------------------------------------------------------------
    def visit(self, node: ast.AST) -> None:
        # A statement whose lines spell none of the words holds nothing a rule looks for.
        if self.statements is not None and self.words and self.statements.lacks(node, self.words):
            return
        super().visit(node)

    def _visit_all(self, parent: ast.AST, nodes) -> None:
        for node in nodes:
            if node is not None:
                self.parents[id(node)] = parent
                self.visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            self.parents[id(child)] = node
            self.visit(child)

    def _arguments(self, node, args: ast.arguments, annotations: bool) -> None:
        """Defaults (and annotations) are evaluated where the ``def`` runs."""
        self._visit_all(node, args.defaults)
        self._visit_all(node, args.kw_defaults)
        if annotations:
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            self._visit_all(node, [a.annotation for a in every if a is not None])

    def _body(self, node: ast.AST, body, is_coroutine: bool, is_class: bool = False) -> None:
        self.frame = Frame(node, is_coroutine, is_class, self.frame)
        saved, self.generators = self.generators, 0
        try:
            if isinstance(body, list):
                self._visit_all(node, body)
            else:
                self._visit_all(node, [body])
            self.leave_frame(self.frame)
        finally:
            self.generators = saved
            self.frame = self.frame.parent

    def leave_frame(self, frame: Frame) -> None:
        """Called after a frame's body was visited (rules that pair statements use it)."""

    def visit_FunctionDef(self, node) -> None:
        self._visit_all(node, node.decorator_list)
        self._arguments(node, node.args, annotations=True)
        self._visit_all(node, [node.returns])
        self._body(node, node.body, is_coroutine=isinstance(node, ast.AsyncFunctionDef))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._arguments(node, node.args, annotations=False)
        self._body(node, node.body, is_coroutine=False)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_all(node, node.decorator_list)
        self._visit_all(node, node.bases)
        self._visit_all(node, node.keywords)
        self._body(node, node.body, is_coroutine=False, is_class=True)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self.generators += 1
        try:
            self.generic_visit(node)
        finally:
            self.generators -= 1


def dotted_name(node: ast.AST) -> Optional[str]:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def import_aliases(tree: ast.Module, statements: Optional[StatementText], words: tuple[str, ...],
                   modules: tuple[str, ...]) -> dict[str, str]:
    """Local names bound by imports of (or from) modules under ``modules`` -> their dotted target."""
    from ..sources.pruning import walk

    aliases: dict[str, str] = {}

    def wanted(module: str) -> bool:
        return any(module == m or module.startswith(m + ".") for m in modules)

    for node in walk(tree, statements, words):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module and wanted(node.module):
            for alias in node.names:
                if alias.name != "*":
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if wanted(alias.name):
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        aliases[top] = top
    return aliases


def resolve(node: ast.AST, aliases: dict[str, str]) -> Optional[str]:
    """The dotted target an expression names through ``aliases``, or None."""
    dotted = dotted_name(node)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    if head not in aliases:
        return None
    return f"{aliases[head]}.{rest}" if rest else aliases[head]
