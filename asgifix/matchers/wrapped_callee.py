"""AFX206: ``sync_to_async(async_fn)`` and ``async_to_sync(plain_def)`` on asgiref releases that refuse them.

The collector (:func:`collect_wrapped_callees`) finds calls (and the nearest decorator) of the asgiref
wrappers, resolved through the module's imports (:mod:`asgifix.names`: aliases, ``from asgiref import
sync``), whose callee is a plain name bound exactly once at module level by a ``def`` or an ``async def``
of the same module, with no decorator and not shadowed by an enclosing function, lambda or class. Anything
else (attributes, imported callables, decorated defs, parameters) is never guessed at.

Which releases refuse or warn is data (rules/data/asgiref_checks.json, read from every release's
asgiref/sync.py by ``scripts/build_knowledge.py --only wrapper-checks``), judged per install set.
"""

from __future__ import annotations

import ast
import json
from ..records import dataclass
from functools import lru_cache
from typing import Iterator, Optional

from .._paths import data_dir
from ..model import Edit, Finding, Fix, Span
from ..names import names_of
from . import FileFacts, ProjectMatcher

# wrapper (dotted, as names.py resolves it) -> which kind of callable it takes
WRAPPERS = {
    "asgiref.sync.sync_to_async": "sync_to_async",
    "asgiref.sync.SyncToAsync": "sync_to_async",
    "channels.db.database_sync_to_async": "sync_to_async",  # DatabaseSyncToAsync(SyncToAsync)
    "channels.db.DatabaseSyncToAsync": "sync_to_async",
    "asgiref.sync.async_to_sync": "async_to_sync",
    "asgiref.sync.AsyncToSync": "async_to_sync",
}
# the callee kind each wrapper refuses
REFUSED = {"sync_to_async": "async", "async_to_sync": "sync"}


@dataclass(frozen=True)
class WrappedCallee:
    wrapper: str  # "sync_to_async" / "async_to_sync" (the kind of wrapper)
    spelled: str  # the wrapper as written ("s2a", "sync.sync_to_async")
    callee: str
    callee_kind: str  # "async" or "sync"
    callee_line: int
    line: int  # of the call (or decorator), 1-based character columns
    column: int
    end_line: int
    end_column: int
    decorator: bool = False
    # the fix's replacement for the call's span: the callee alone (no other argument or keyword), or ""
    # for a decorator whose own line can go; None when there is no mechanical rewrite
    replacement: Optional[str] = None
    removal: Optional[tuple[int, int, int, int]] = None  # decorator: the (line, col, end_line, end_col) removed


@dataclass(frozen=True)
class CalleeFacts:
    uses: tuple[WrappedCallee, ...]
    keep_document: bool = True


def _module_defs(tree: ast.Module) -> dict[str, tuple[str, int]]:
    """Names bound exactly once at module level, by an undecorated def/async def: name -> (kind, line)."""
    counts: dict[str, int] = {}
    defs: dict[str, tuple[str, int]] = {}

    def bind(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bind(node.name)
            if not node.decorator_list:
                defs[node.name] = ("async" if isinstance(node, ast.AsyncFunctionDef) else "sync", node.lineno)
        elif isinstance(node, ast.ClassDef):
            bind(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bind((alias.asname or alias.name).partition(".")[0])
        elif isinstance(node, (ast.If, ast.Try, ast.For, ast.While, ast.With, ast.AsyncFor, ast.AsyncWith)) or \
                type(node).__name__ in ("TryStar", "Match"):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    todo.append(child)
                elif isinstance(child, ast.excepthandler):
                    todo.extend(child.body)
                    if child.name:
                        bind(child.name)
                elif type(child).__name__ == "match_case":
                    todo.extend(child.body)  # type: ignore[attr-defined]
            for target in _targets(node):
                bind(target)
        else:
            for target in _targets(node):
                bind(target)
    return {name: found for name, found in defs.items() if counts.get(name) == 1}


def _targets(node: ast.AST) -> list[str]:
    """Names a statement binds at its own level (assignments, loop and with targets, walrus, globals)."""
    found = []
    if isinstance(node, ast.Assign):
        roots = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        roots = [node.target]
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        roots = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        roots = [item.optional_vars for item in node.items if item.optional_vars is not None]
    else:
        roots = []
    for root in roots:
        found += [n.id for n in ast.walk(root) if isinstance(n, ast.Name)]
    if isinstance(node, (ast.Expr, ast.Assign, ast.If, ast.While)):
        found += [n.target.id for n in ast.walk(node) if isinstance(n, ast.NamedExpr)
                  and isinstance(n.target, ast.Name)]
    return found


def _scope_binds(node: ast.AST) -> set[str]:
    """Every name a function, lambda or class scope binds (parameters, assignments, defs, imports)."""
    bound: set[str] = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                bound.add(arg.arg)
    body = node.body if isinstance(node.body, list) else [node.body]  # type: ignore[attr-defined]
    todo = list(body)
    while todo:
        child = todo.pop()
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(child.name)
            continue
        if isinstance(child, ast.Lambda):
            continue
        if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
            bound.add(child.id)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).partition(".")[0] for a in child.names)
        elif isinstance(child, ast.ExceptHandler) and child.name:
            bound.add(child.name)
        elif isinstance(child, (ast.Global, ast.Nonlocal)):
            bound.update(child.names)
        todo.extend(ast.iter_child_nodes(child))
    return bound


class _Finder(ast.NodeVisitor):
    def __init__(self, parsed, names, wrappers: dict[str, str], defs: dict[str, tuple[str, int]],
                 words: tuple[str, ...] = ()):
        from ..sources.pruning import StatementText
        from ..sources.python_asgiref import CharPositions

        self.names = names
        self.wrappers = wrappers
        self.defs = defs
        self.positions = CharPositions(parsed.document)
        self.document = parsed.document
        # The enclosing function, lambda and class scopes; what each binds is computed only when a
        # wrapped call asks (most scopes hold none).
        self.shadowed: list[ast.AST] = []
        self._binds: dict[int, set[str]] = {}
        self.uses: list[WrappedCallee] = []
        self.decorators: set[int] = set()
        # A wrapper (call or decorator) resolves through the binding of its first name, so a
        # statement whose lines spell none of those names holds none (see sources/pruning.py).
        self.words = words
        self.statements = StatementText.of(parsed.document) if words else None

    def visit(self, node: ast.AST) -> None:
        if self.statements is not None and self.statements.lacks(node, self.words):
            return
        super().visit(node)

    def _wrapper(self, node: ast.AST) -> Optional[str]:
        resolved = self.names.resolve(node)
        return self.wrappers.get(resolved) if resolved else None

    def _callee(self, name: str) -> Optional[tuple[str, int]]:
        found = self.defs.get(name)
        if found is None:
            return None
        for scope in self.shadowed:
            binds = self._binds.get(id(scope))
            if binds is None:
                binds = self._binds[id(scope)] = _scope_binds(scope)
            if name in binds:
                return None
        return found

    def _scope(self, node) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._decorator(node)
            for decorator in node.decorator_list:
                self.visit(decorator)
            for default in (*node.args.defaults, *node.args.kw_defaults):
                if default is not None:
                    self.visit(default)
        elif isinstance(node, ast.ClassDef):
            for child in (*node.decorator_list, *node.bases, *node.keywords):
                self.visit(child)
        self.shadowed.append(node)
        body = node.body if isinstance(node.body, list) else [node.body]
        for statement in body:
            self.visit(statement)
        self.shadowed.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _scope

    def _decorator(self, node) -> None:
        """The decorator nearest the def wraps the def itself."""
        if not node.decorator_list:
            return
        decorator = node.decorator_list[-1]
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        wrapper = self._wrapper(target)
        if wrapper is None:
            return
        if isinstance(decorator, ast.Call):
            self.decorators.add(id(decorator))
        kind = "async" if isinstance(node, ast.AsyncFunctionDef) else "sync"
        if REFUSED[wrapper] != kind:
            return
        line, column, end_line, end_column = self.positions.of(decorator)
        removal = None
        if wrapper == "sync_to_async" and not isinstance(decorator, ast.Call) and line == end_line:
            # the whole "@wrapper" line, when it holds nothing else
            text = self.document.line_text(line)
            if text.strip() == "@" + ".".join(_parts(decorator)):
                removal = (line, 1, line + 1, 1)
        self.uses.append(WrappedCallee(wrapper, ".".join(_parts(target)), node.name, kind, node.lineno,
                                       line, column, end_line, end_column, True,
                                       "" if removal else None, removal))

    def visit_Call(self, node: ast.Call) -> None:
        if id(node) not in self.decorators and node.args and isinstance(node.args[0], ast.Name):
            wrapper = self._wrapper(node.func)
            if wrapper is not None:
                name = node.args[0].id
                found = self._callee(name)
                if found is not None and REFUSED[wrapper] == found[0]:
                    line, column, end_line, end_column = self.positions.of(node)
                    replacement = None
                    if wrapper == "sync_to_async" and len(node.args) == 1 and not node.keywords:
                        replacement = name  # an async callable either way: `await sync_to_async(f)(x)` -> `await f(x)`
                    self.uses.append(WrappedCallee(wrapper, ".".join(_parts(node.func)), name, found[0], found[1],
                                                   line, column, end_line, end_column, False, replacement))
        self.generic_visit(node)


def _parts(node: ast.AST) -> list[str]:
    from ..names import dotted_parts

    return dotted_parts(node) or ["?"]


def collect_wrapped_callees(parsed) -> Optional[tuple[CalleeFacts, set[int]]]:
    tree = getattr(parsed, "tree", None)
    if tree is None:
        return None
    names = names_of(parsed)
    if not any(b.target in WRAPPERS or b.target in ("asgiref", "asgiref.sync", "channels", "channels.db")
               for b in names.imports):
        return None
    defs = _module_defs(tree)  # (a decorator needs none: it wraps the def below it)
    words = {b.local for b in names.imports if b.local and (
        b.target in WRAPPERS or any(w.startswith(b.target + ".") for w in WRAPPERS))}
    finder = _Finder(parsed, names, WRAPPERS, defs, tuple(sorted(words)))
    finder.visit(tree)
    if not finder.uses:
        return None
    lines = {u.line for u in finder.uses} | {u.end_line for u in finder.uses}
    return CalleeFacts(tuple(finder.uses)), lines


@lru_cache(maxsize=1)
def checks() -> dict:
    with open(data_dir() / "asgiref_checks.json", encoding="utf-8") as handle:
        return json.load(handle)


def releases_with(check_id: str) -> frozenset[str]:
    data = checks()
    releases = data["releases"]
    index = {r: i for i, r in enumerate(releases)}
    found: set[str] = set()
    for first, last in data["checks"][check_id]["versions"]:
        found.update(releases[index[first]: index[last] + 1])
    return frozenset(found)


class WrappedCalleeKind(ProjectMatcher):
    """AFX206: a wrapper given the kind of function it refuses, on the releases the set allows."""

    facts = ("wrapped-callees",)

    def check_project(self, project) -> Iterator[Finding]:
        facts_list = project.facts.get("wrapped-callees", ())
        if not facts_list:
            return
        from ..asgiref_scope import project_scope, span_text

        scope = project_scope(project, self.context.target_asgiref)
        allowed = list(scope.versions)
        for facts in facts_list:
            assert isinstance(facts, FileFacts)
            document = project.documents.get(facts.path)
            for use in facts.value.uses:
                yield from self._judge(use, facts.path, document, allowed, scope, span_text)

    def _judge(self, use: WrappedCallee, path, document, allowed, scope, runs) -> Iterator[Finding]:
        if use.wrapper == "sync_to_async":
            raising = [v for v in allowed if v in releases_with("sync-to-async-refuses-coroutine-function")]
            warning: list[str] = []
        else:
            raising = [v for v in allowed if v in releases_with("async-to-sync-refuses-sync-function")]
            warning = [v for v in allowed if v in releases_with("async-to-sync-warns-sync-function")]
        if not raising and not warning:
            return
        shown = f"@{use.spelled}" if use.decorator else f"{use.spelled}({use.callee})"
        what = "an `async def`" if use.callee_kind == "async" else "a plain `def`"
        span = Span(0, 0, use.line, use.column, use.end_line, use.end_column)
        if document is not None:
            span = document.span(document.offset(use.line, use.column), document.offset(use.end_line, use.end_column))
        if raising:
            severity = self.rule.severity if len(raising) == len(allowed) else "warning"
            message = f"`{shown}`: `{use.callee}` is {what}, and asgiref {runs(raising)} raise TypeError"
        else:
            severity = "warning"
            message = (f"`{shown}`: `{use.callee}` is {what}; asgiref {runs(warning)} warn, then await what it "
                       f"returns")
        if use.wrapper == "sync_to_async":
            hint = f"`{use.callee}` is already a coroutine function: await it directly ({scope.reason})"
        else:
            hint = (f"call `{use.callee}(...)` directly, or make it an `async def` ({scope.reason})")
        fix = None
        if severity == self.rule.severity and document is not None and use.replacement is not None:
            if use.removal is not None:
                line, column, end_line, end_column = use.removal
                start = document.offset(line, column)
                end = document.line_starts[end_line - 1] if end_line <= document.line_count else len(document.text)
                edit = Edit(document.display, document.span(start, end), "")
                fix = Fix("unsafe", f"remove @{use.spelled} from `{use.callee}`", (edit,))
            else:
                start = document.offset(use.line, use.column)
                end = document.offset(use.end_line, use.end_column)
                fix = Fix("unsafe", f"use `{use.callee}` itself",
                          (Edit(document.display, document.span(start, end), use.replacement),))
        yield Finding(self.rule.code, severity, message, path, span, fix, hint)
