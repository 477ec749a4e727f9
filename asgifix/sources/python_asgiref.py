"""What a Python module uses of asgiref, resolved through imports, aliases and attribute chains.

Detection uses only the stdlib ``ast``. Every reference keeps its exact span in
characters (``ast`` columns are UTF-8 byte offsets; they are converted here),
whether it sits under a ``try``/``except ImportError`` (the code already has a
fallback), and for calls, which arguments are passed.
"""

from __future__ import annotations

import ast
from ..records import dataclass, field
from typing import Iterator, Optional

from ..names import ModuleNames, catches_import_error, dotted_parts, module_names
from ..textio import TextDocument
from .pruning import StatementText


@dataclass(frozen=True)
class Reference:
    """A dotted asgiref path used by the code, e.g. ``asgiref.sync.ThreadSensitiveContext``."""

    dotted: str
    how: str  # "import" (import statement), "from-import", "attribute" (a.b.c in code)
    line: int
    column: int  # 1-based, characters
    end_line: int
    end_column: int
    guarded: bool  # inside try/except ImportError
    node_text: str = ""  # source text of the reference, for messages


@dataclass(frozen=True)
class Call:
    """A call of an asgiref callable: ``sync_to_async(f, thread_sensitive=False)``."""

    dotted: str
    positional: int  # number of positional arguments (None-safe; *args counts as unknown)
    keywords: tuple[str, ...]
    has_star_args: bool
    has_star_kwargs: bool
    line: int
    column: int
    end_line: int
    end_column: int
    decorator: bool = False  # used as @sync_to_async(...) or bare @sync_to_async
    # (line, character column) where each positional argument starts, for fixes that name them
    arguments: tuple[tuple[int, int], ...] = ()
    # keyword arguments given as a literal constant: (name, repr of the value)
    literals: tuple[tuple[str, str], ...] = ()


@dataclass
class AsgirefUsage:
    references: list[Reference] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    @property
    def keep_document(self) -> bool:
        """A call a fix may edit (AFX202 names arguments): the engine keeps the file's document."""
        return bool(self.calls)


class CharPositions:
    """Converts ``ast`` positions (UTF-8 byte columns) into 1-based character columns."""

    def __init__(self, document: TextDocument):
        self.document = document

    def column(self, line: int, byte_column: int) -> int:
        text = self.document.line_text(line)
        encoded = text.encode("utf-8", "surrogatepass")
        if byte_column >= len(encoded):
            return len(text) + 1 + (byte_column - len(encoded))
        return len(encoded[:byte_column].decode("utf-8", "replace")) + 1

    def of(self, node: ast.AST) -> tuple[int, int, int, int]:
        line = node.lineno  # type: ignore[attr-defined]
        end_line = getattr(node, "end_lineno", None) or line
        end_col = getattr(node, "end_col_offset", None)
        column = self.column(line, node.col_offset)  # type: ignore[attr-defined]
        end_column = self.column(end_line, end_col) if end_col is not None else column
        return line, column, end_line, end_column


_dotted = dotted_parts


class _Collector(ast.NodeVisitor):
    def __init__(self, document: TextDocument, names: ModuleNames):
        self.positions = CharPositions(document)
        self.usage = AsgirefUsage()
        # local name -> dotted asgiref path it is bound to (the shared name resolution, asgifix.names)
        self.aliases: dict[str, str] = {}
        for local in names.bindings:
            binding = names.binding(local)
            if binding is not None and (binding.target == "asgiref" or binding.target.startswith("asgiref.")):
                self.aliases[local] = binding.target
        self.guard_depth = 0
        self.decorator_calls: set[int] = set()
        self.statements = StatementText.of(document)

    def visit(self, node: ast.AST) -> None:
        # Statements that spell neither "asgiref" nor a name bound to it hold nothing to collect.
        if self.statements.lacks(node, ("asgiref", *self.aliases)):
            return
        super().visit(node)

    # -- imports ------------------------------------------------------------------
    def visit_Try(self, node: ast.Try) -> None:
        guarded = any(catches_import_error(handler) for handler in node.handlers)
        if guarded:
            self.guard_depth += 1
        for statement in node.body:
            self.visit(statement)
        if guarded:
            self.guard_depth -= 1
        for part in (node.handlers, node.orelse, node.finalbody):
            for statement in part:
                self.visit(statement)

    visit_TryStar = visit_Try  # Python 3.11 except*

    def _reference(self, dotted: str, how: str, node: ast.AST, text: str) -> None:
        line, column, end_line, end_column = self.positions.of(node)
        self.usage.references.append(
            Reference(dotted, how, line, column, end_line, end_column, self.guard_depth > 0, text)
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name != "asgiref" and not alias.name.startswith("asgiref."):
                continue
            if alias.name != "asgiref":
                self._reference(alias.name, "import", node, f"import {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or (module != "asgiref" and not module.startswith("asgiref.")):
            return
        for alias in node.names:
            if alias.name == "*":
                self._reference(module, "import", node, f"from {module} import *")
                continue
            dotted = f"{module}.{alias.name}"
            self._reference(dotted, "from-import", node, f"from {module} import {alias.name}")

    # -- uses in code ---------------------------------------------------------------
    def _resolve(self, node: ast.AST) -> Optional[str]:
        parts = _dotted(node)
        if not parts or parts[0] not in self.aliases:
            return None
        return ".".join([self.aliases[parts[0]], *parts[1:]])

    def visit_Attribute(self, node: ast.Attribute) -> None:
        resolved = self._resolve(node)
        if resolved is not None:
            # Report the longest chain once (a.b.c, not also a.b).
            self._reference(resolved, "attribute", node, ".".join(_dotted(node) or []))
            return
        self.generic_visit(node)

    def _function(self, node) -> None:
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            resolved = self._resolve(target)
            if resolved is not None:
                if isinstance(decorator, ast.Call):
                    self.decorator_calls.add(id(decorator))
                    self._call(decorator, resolved, decorator=True)
                else:
                    line, column, end_line, end_column = self.positions.of(decorator)
                    self.usage.calls.append(
                        Call(resolved, 1, (), False, False, line, column, end_line, end_column, True)
                    )
        self.generic_visit(node)

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        if id(node) not in self.decorator_calls:
            resolved = self._resolve(node.func)
            if resolved is not None:
                self._call(node, resolved)
        self.generic_visit(node)

    def _call(self, node: ast.Call, resolved: str, decorator: bool = False) -> None:
        positional = sum(1 for a in node.args if not isinstance(a, ast.Starred))
        star_args = any(isinstance(a, ast.Starred) for a in node.args)
        keywords = tuple(k.arg for k in node.keywords if k.arg is not None)
        star_kwargs = any(k.arg is None for k in node.keywords)
        line, column, end_line, end_column = self.positions.of(node)
        arguments = tuple(self.positions.of(a)[:2] for a in node.args) if not star_args else ()
        self.usage.calls.append(
            Call(resolved, positional, keywords, star_args, star_kwargs, line, column, end_line, end_column,
                 decorator, arguments,
                 tuple((k.arg, repr(k.value.value)) for k in node.keywords
                       if k.arg is not None and isinstance(k.value, ast.Constant)))
        )


def asgiref_usage(document: TextDocument, tree: ast.Module, names: Optional[ModuleNames] = None) -> AsgirefUsage:
    collector = _Collector(document, names if names is not None else module_names(tree))
    collector.visit(tree)
    return collector.usage


def iter_names(dotted: str) -> Iterator[str]:
    parts = dotted.split(".")
    for index in range(1, len(parts) + 1):
        yield ".".join(parts[:index])
