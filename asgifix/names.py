"""One name resolution for every matcher: what each local name of a module refers to.

Built on the stdlib ``ast`` from the import statements alone (one walk over the
statements, never over expressions), so it costs little next to the parse:

    names = module_names(tree, module="chat.consumers")
    names.resolve(node)            # "asgiref.base_layer.BaseChannelLayer" for ``bl.BaseChannelLayer``
    names.imports_from("channels.generic.websockets")   # the bindings a rewrite would touch

What it understands:

* ``import a.b.c`` (binds ``a``), ``import a.b as x`` (binds ``x`` to ``a.b``),
  ``from a.b import C as D`` (binds ``D`` to ``a.b.C``), relative imports when the
  module's own dotted path is given;
* ``try: ... except ImportError:`` -- bindings in the ``try`` body are ``guarded``
  (the code has a fallback), bindings in such a handler are ``fallback``;
* ``if TYPE_CHECKING:`` (also ``typing.TYPE_CHECKING``) -- bindings are ``type_only``;
* ``from x import *`` -- recorded in :attr:`ModuleNames.stars`, never resolved to a name
  (a codemod reports it and leaves it alone);
* imports inside functions and classes are recorded with ``local=True``; assignments
  that rebind a name are not followed (an import is what the code says it uses).

Re-exports from the project's own modules are resolved by :class:`ProjectIndex`:
``from myproj.compat import BaseChannelLayer`` resolves through
``myproj/compat.py``'s own ``from asgiref.base_layer import BaseChannelLayer``.

Bindings are small frozen values (no ``ast`` nodes), so they travel between
worker processes with a file's facts. Positions are ``ast``'s: 1-based lines,
UTF-8 byte columns (``CharPositions`` in :mod:`asgifix.sources.python_asgiref` converts).
"""

from __future__ import annotations

import ast
from .records import dataclass, field
from typing import Iterable, Iterator, Optional

__all__ = ["Binding", "ModuleNames", "ProjectIndex", "module_names", "module_paths", "dotted_parts", "names_of"]

# Exception names whose handler makes the ``try`` body an import with a fallback.
IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass(frozen=True)
class Binding:
    """One name bound by one import statement.

    ``target`` is the dotted path the local name stands for: ``asgiref.base_layer``
    for ``import asgiref.base_layer as bl``, ``asgiref`` for ``import asgiref.base_layer``
    (which binds ``asgiref``), ``channels.routing.URLRouter`` for
    ``from channels.routing import URLRouter as R``. ``module`` is the module the
    statement imports from (``from`` and ``star``) or imports (``import``); ``name`` the
    imported name of a ``from`` import. A star import has ``local is None`` and ``kind == "star"``.
    """

    local: Optional[str]
    target: str
    kind: str  # "import", "from", "star"
    module: str
    name: Optional[str]
    asname: Optional[str]
    # the import statement's extent (ast positions: 1-based lines, UTF-8 byte columns)
    line: int
    column: int
    end_line: int
    end_column: int
    guarded: bool = False  # in the body of try/except ImportError
    fallback: bool = False  # in an except ImportError handler
    type_only: bool = False  # under if TYPE_CHECKING:
    local_scope: bool = False  # inside a function or class body
    level: int = 0  # relative import level as written (target is already absolute when resolvable)

    @property
    def conditional(self) -> bool:
        """Whether the binding depends on something at run time (a fallback, or type checking only)."""
        return self.guarded or self.fallback or self.type_only


@dataclass
class ModuleNames:
    """The import bindings of one module, in source order, and how local names resolve."""

    module: Optional[str] = None
    imports: list[Binding] = field(default_factory=list)
    stars: list[Binding] = field(default_factory=list)
    # local name -> its bindings, in source order (a try/except fallback binds a name twice)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)

    def binding(self, local: str) -> Optional[Binding]:
        """The first binding of ``local`` (module-level preferred), or None."""
        found = self.bindings.get(local)
        if not found:
            return None
        for binding in found:
            if not binding.local_scope:
                return binding
        return found[0]

    def resolve_parts(self, parts: Iterable[str]) -> Optional[str]:
        """``["bl", "BaseChannelLayer"]`` -> ``"asgiref.base_layer.BaseChannelLayer"``; None when unbound."""
        parts = list(parts)
        if not parts:
            return None
        binding = self.binding(parts[0])
        if binding is None:
            return None
        return ".".join([binding.target, *parts[1:]])

    def resolve(self, node: ast.AST) -> Optional[str]:
        """The dotted path a ``Name``/``Attribute`` chain stands for, or None (not imported here)."""
        parts = dotted_parts(node)
        return self.resolve_parts(parts) if parts else None

    def binding_of(self, node: ast.AST) -> Optional[Binding]:
        """The binding of the first name of a ``Name``/``Attribute`` chain."""
        parts = dotted_parts(node)
        return self.binding(parts[0]) if parts else None

    def imports_from(self, prefix: str) -> list[Binding]:
        """Bindings (stars included) whose module is ``prefix`` or a submodule of it, or whose target is under it."""
        dotted = prefix + "."
        found = []
        for binding in self.imports:
            if (binding.module == prefix or binding.module.startswith(dotted) or binding.target == prefix
                    or binding.target.startswith(dotted)):
                found.append(binding)
        return found

    def locals_for(self, target: str) -> list[str]:
        """Local names bound exactly to ``target``."""
        return [local for local, found in self.bindings.items() if any(b.target == target for b in found)]

    def mentions(self, prefix: str) -> bool:
        return bool(self.imports_from(prefix))


def dotted_parts(node: ast.AST) -> Optional[list[str]]:
    """``a.b.c`` -> ``["a", "b", "c"]``; None for anything that is not a plain name chain."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for node in types:
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        if name in IMPORT_ERRORS:
            return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _absolute(module: Optional[str], level: int, package: Optional[str]) -> Optional[str]:
    if not level:
        return module or ""
    if package is None:
        return None
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base) or None


# Statements whose bodies hold statements: (body attributes) per node type.
_BODIES = ("body", "orelse", "finalbody")


def module_names(tree: ast.Module, module: Optional[str] = None, is_package: bool = False) -> ModuleNames:
    """Every import binding of ``tree``.

    ``module`` is the module's own dotted path (``chat.consumers``), needed only to make
    relative imports absolute; ``is_package`` says it is a package's ``__init__``.
    """
    package = module if is_package else (module.rpartition(".")[0] if module else None)
    names = ModuleNames(module)
    imports = names.imports
    # (statement, guarded, fallback, type_only, local_scope): an explicit stack, source order kept
    todo: list[tuple[ast.stmt, bool, bool, bool, bool]] = [
        (statement, False, False, False, False) for statement in reversed(tree.body)]
    while todo:
        node, guarded, fallback, type_only, local_scope = todo.pop()
        kind = type(node)
        if kind is ast.Import or kind is ast.ImportFrom:
            position = (node.lineno, node.col_offset, node.end_lineno or node.lineno,
                        node.end_col_offset if node.end_col_offset is not None else node.col_offset)
            flags = dict(guarded=guarded, fallback=fallback, type_only=type_only, local_scope=local_scope)
            if kind is ast.Import:
                for alias in node.names:
                    if alias.asname:
                        binding = Binding(alias.asname, alias.name, "import", alias.name, None, alias.asname,
                                          *position, **flags)
                    else:
                        top = alias.name.partition(".")[0]
                        binding = Binding(top, top, "import", alias.name, None, None, *position, **flags)
                    imports.append(binding)
                    names.bindings.setdefault(binding.local, []).append(binding)
            else:
                base = _absolute(node.module, node.level, package)
                if base is None:  # a relative import of a module whose package is unknown
                    base = "." * node.level + (node.module or "")
                for alias in node.names:
                    if alias.name == "*":
                        binding = Binding(None, base, "star", base, "*", None, *position, level=node.level, **flags)
                        imports.append(binding)
                        names.stars.append(binding)
                        continue
                    local = alias.asname or alias.name
                    target = f"{base}.{alias.name}" if base else alias.name
                    binding = Binding(local, target, "from", base, alias.name, alias.asname, *position,
                                      level=node.level, **flags)
                    imports.append(binding)
                    names.bindings.setdefault(local, []).append(binding)
            continue
        children: list[tuple[ast.stmt, bool, bool, bool, bool]] = []
        if kind is ast.Try or kind.__name__ == "TryStar":
            catches = any(catches_import_error(h) for h in node.handlers)  # type: ignore[attr-defined]
            children += [(s, guarded or catches, fallback, type_only, local_scope) for s in node.body]
            for handler in node.handlers:  # type: ignore[attr-defined]
                handles = catches and catches_import_error(handler)
                children += [(s, guarded, fallback or handles, type_only, local_scope) for s in handler.body]
            children += [(s, guarded, fallback, type_only, local_scope)
                         for s in (*node.orelse, *node.finalbody)]  # type: ignore[attr-defined]
        elif kind is ast.If:
            typing_only = _is_type_checking(node.test)  # type: ignore[attr-defined]
            children += [(s, guarded, fallback, type_only or typing_only, local_scope)
                         for s in node.body]  # type: ignore[attr-defined]
            children += [(s, guarded, fallback, type_only, local_scope) for s in node.orelse]  # type: ignore
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            children += [(s, guarded, fallback, type_only, True) for s in node.body]  # type: ignore[attr-defined]
        elif kind in (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith):
            for attribute in _BODIES:
                children += [(s, guarded, fallback, type_only, local_scope) for s in getattr(node, attribute, ())]
        elif kind.__name__ == "Match":
            for case in node.cases:  # type: ignore[attr-defined]
                children += [(s, guarded, fallback, type_only, local_scope) for s in case.body]
        else:
            continue
        todo.extend(reversed(children))
    return names


def module_paths(display: str) -> list[str]:
    """Dotted module names a file may be imported as, longest first.

    ``src/myproj/compat.py`` -> ``["src.myproj.compat", "myproj.compat", "compat"]``: which
    directory is on ``sys.path`` is not known statically, so every suffix is a candidate.
    """
    path = display.replace("\\", "/")
    if path.endswith(".py"):
        path = path[:-3]
    elif path.endswith(".pyi"):
        path = path[:-4]
    parts = [p for p in path.split("/") if p and p != "."]
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        # a directory such as "my-project/" cannot be a package: only the suffix after it can
        while parts and not all(p.isidentifier() for p in parts):
            parts.pop(0)
    return [".".join(parts[i:]) for i in range(len(parts))]


class ProjectIndex:
    """The project's own modules and what they import: re-exports are followed to their origin.

    ``add(display_path, names)`` registers a module under every dotted name it may be
    imported as (:func:`module_paths`); :meth:`resolve` follows ``from myproj.compat import X``
    through ``myproj/compat.py``'s own imports (and its star imports) until the path leaves
    the project. Only module-level bindings re-export.
    """

    MAX_HOPS = 16

    def __init__(self) -> None:
        self.modules: dict[str, ModuleNames] = {}

    def add(self, display: str, names: ModuleNames) -> None:
        for dotted in module_paths(display):
            self.modules.setdefault(dotted, names)

    def __contains__(self, module: str) -> bool:
        return module in self.modules

    def _split(self, dotted: str) -> Optional[tuple[ModuleNames, list[str]]]:
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            names = self.modules.get(".".join(parts[:cut]))
            if names is not None:
                return names, parts[cut:]
        return None

    def resolve(self, dotted: str) -> str:
        """Where ``dotted`` really comes from: ``myproj.compat.BaseChannelLayer`` ->
        ``asgiref.base_layer.BaseChannelLayer`` when ``myproj/compat.py`` imports it from there."""
        seen = {dotted}
        for _ in range(self.MAX_HOPS):
            found = self._split(dotted)
            if found is None:
                return dotted
            names, rest = found
            nxt = self._through(names, rest)
            if nxt is None or nxt in seen:
                return dotted
            seen.add(nxt)
            dotted = nxt
        return dotted

    def chain(self, dotted: str) -> Iterator[str]:
        """``dotted`` and each re-export hop after it."""
        yield dotted
        resolved = dotted
        for _ in range(self.MAX_HOPS):
            found = self._split(resolved)
            if found is None:
                return
            nxt = self._through(*found)
            if nxt is None or nxt == resolved:
                return
            resolved = nxt
            yield resolved

    @staticmethod
    def _through(names: ModuleNames, rest: list[str]) -> Optional[str]:
        bindings = [b for b in names.bindings.get(rest[0], ()) if not b.local_scope]
        if bindings:
            return ".".join([bindings[0].target, *rest[1:]])
        for star in names.stars:
            if not star.local_scope and not star.module.startswith("."):
                # Star re-exports are followed for reading only; which names a star brings
                # is not known without the other module, so the first one is assumed.
                return ".".join([star.module, *rest])
        return None


def names_of(parsed) -> ModuleNames:
    """The :class:`ModuleNames` of a parsed Python file (``PythonModule``), computed once per file
    however many collectors ask (kept on the parsed object, which lives for one analysis)."""
    names = getattr(parsed, "_asgifix_names", None)
    if names is None:
        names = module_names(parsed.tree)
        try:
            parsed._asgifix_names = names
        except AttributeError:  # pragma: no cover - a parsed object without a __dict__
            pass
    return names
