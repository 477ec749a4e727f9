"""AFX503: the synchronous Django ORM used in a coroutine's own thread.

Django 3.0 and later raise ``SynchronousOnlyOperation`` when a query runs in a
thread with a running event loop (django/utils/asyncio.py ``async_unsafe``, first
shipped in Django 3.0). The verdict depends on the Django an install set allows,
so :func:`collect_sync_orm` records the sites per file (stdlib ``ast``; only
files spelling ``objects``, ``.save(`` or ``.delete(`` get here) and
:class:`SyncOrmInCoroutine` judges them per install set.

Reported, directly in an ``async def`` body (see :mod:`._coroutine_scope`):

* a manager chain ending in a method that queries: ``Room.objects.get(...)``,
  ``Room.objects.filter(...).first()``, ``.count()``, ``.exists()``, ...;
* a lazy QuerySet (``Room.objects.filter(...)``, a name bound to one, or the result
  of ``await sync_to_async(Room.objects.filter)(...)``) evaluated there: a plain
  ``for``, a comprehension, ``list()``/``len()``/``bool()``..., an integer index,
  or a query method called on it;
* ``.save()``, ``.delete()``, ``.refresh_from_db()`` on an instance the same
  coroutine built (``Room(...)``) or fetched (``get``/``first``/``create``..., their
  async forms, or through ``sync_to_async``).

Not reported: a lazy QuerySet that is only built, passed on or returned; ``async for``
over it; anything run through ``sync_to_async``/``database_sync_to_async`` or inside
a nested function; generator expressions (they run where they are consumed).
A model is a name imported from a ``models`` module, a class of the module built on
``...Model``, or ``get_user_model()``.
"""

from __future__ import annotations

import ast
from ..records import dataclass
from typing import Iterator, Optional

from ._text import short
from ..model import Finding, Span
from ..project import ProjectModel
from . import FileFacts, ProjectMatcher
from ..sources.pruning import StatementText
from ._coroutine_scope import ScopeVisitor, dotted_name

LAZY = {"all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "values", "values_list",
        "annotate", "alias", "distinct", "only", "defer", "using", "none", "reverse", "select_for_update",
        "extra", "union", "intersection", "difference", "dates", "datetimes", "complex_filter"}
QUERYING = {"get", "first", "last", "count", "exists", "create", "get_or_create", "update_or_create",
            "bulk_create", "bulk_update", "in_bulk", "latest", "earliest", "aggregate", "update", "delete",
            "iterator", "contains", "explain"}
RETURNS_INSTANCE = {"get", "first", "last", "create", "latest", "earliest"}
INSTANCE_METHODS = {"save", "delete", "refresh_from_db"}
EVALUATING_BUILTINS = {"list", "tuple", "set", "len", "bool", "sorted", "dict", "sum", "any", "all", "max", "min"}
WRAPPERS = {"sync_to_async", "database_sync_to_async", "SyncToAsync"}

# First Django release with each async counterpart. Read from the released wheels:
# Django-4.1: django/db/models/query.py defines `async def aget` (L661), `acount` (L623), `afirst` (L1049),
# `aexists` (L1228), `adelete` (L1141), ... and QuerySet.__aiter__ (L397); Django-4.0.10 defines none of them.
# Django-4.2: django/db/models/base.py defines `async def asave` (L823), `adelete` (L1136),
# `arefresh_from_db` (L747); Django-4.1's base.py does not.
QUERYSET_ASYNC_SINCE = "4.1"
INSTANCE_ASYNC_SINCE = "4.2"
# Django-3.0: django/utils/asyncio.py `async_unsafe` raises SynchronousOnlyOperation when the thread's
# event loop is running; django/db/backends/base/base.py decorates connect/cursor with it. Django-2.2.28
# has no django/utils/asyncio.py.
RAISES_SINCE = "3.0"


@dataclass(frozen=True)
class OrmSite:
    line: int
    column: int
    end_line: int
    end_column: int
    kind: str  # "query" | "evaluate" | "instance"
    text: str  # the expression, shortened, as written
    method: str  # the querying method, the instance method, or how a QuerySet is evaluated
    wrapper: str  # "database_sync_to_async" when the module uses Channels, else "sync_to_async"
    async_form: str  # the async ORM spelling (`await x.aget(...)`), "" when there is none


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 50 else text[:47] + "..."


class _Finder(ScopeVisitor):
    def __init__(self, source: str, models: set[str], model_modules: set[str],
                 statements: Optional[StatementText] = None):
        super().__init__()
        # A site lies in a coroutine and starts from a model, a models module or get_user_model()
        # spelled in that coroutine (a name bound to a query is bound in the same frame), so a
        # def or class whose lines spell none of them holds no site and is not visited.
        self.pruning = statements
        self.prune_words = tuple(sorted(models | model_modules | {"get_user_model"}))
        self.source = source
        self.models = models
        self.model_modules = model_modules
        self.sites: list[tuple[ast.AST, str, str, str, str]] = []
        self.lazy_names: list[set[str]] = [set()]
        self.instance_names: list[set[str]] = [set()]

    def visit(self, node: ast.AST) -> None:
        if self.pruning is not None and isinstance(node, ast.stmt):
            # Every site is directly in a coroutine's body: outside one, a statement whose lines do
            # not spell `async` holds no coroutine, so no site (nor a name bound for one).
            if not self.in_coroutine and self.pruning.lacks(node, ("async",)):
                return
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                    self.pruning.lacks(node, self.prune_words):
                return
        super().visit(node)

    # -- what an expression is ---------------------------------------------------------------------
    def _is_model(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.models
        if isinstance(node, ast.Attribute):
            return dotted_name(node.value) in self.model_modules
        if isinstance(node, ast.Call) and not node.args:
            return (dotted_name(node.func) or "").rsplit(".", 1)[-1] == "get_user_model"
        return False

    def _manager(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "objects" and self._is_model(node.value)

    def _chain(self, node: ast.AST) -> Optional[list[str]]:
        """Method names of ``Model.objects.a(...).b(...)`` outermost first, or None."""
        methods = []
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            methods.append(node.func.attr)
            node = node.func.value
        if self._manager(node):
            return methods
        if isinstance(node, ast.Name) and node.id in self.lazy_names[-1]:
            return methods
        return None

    def _lazy(self, node: ast.AST) -> bool:
        """A QuerySet not yet evaluated: a lazy chain, a name bound to one, or sync_to_async(lazy)(...)."""
        if isinstance(node, ast.Await):
            value = node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Call) and \
                    (dotted_name(value.func.func) or "").rsplit(".", 1)[-1] in WRAPPERS and value.func.args:
                wrapped = value.func.args[0]
                return isinstance(wrapped, ast.Attribute) and wrapped.attr in LAZY and (
                    self._manager(wrapped.value) or self._lazy(wrapped.value))
            return False
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return self._lazy(node.value)  # a sliced QuerySet is still lazy
        if self._manager(node):
            return False  # a manager is not iterable
        chain = self._chain(node)
        return chain is not None and all(m in LAZY for m in chain) and (
            bool(chain) or isinstance(node, ast.Name))

    def _instance(self, node: ast.AST) -> bool:
        """An expression giving a model instance this coroutine built or fetched."""
        if isinstance(node, ast.Await):
            value = node.value
            if isinstance(value, ast.Call):
                if isinstance(value.func, ast.Call) and \
                        (dotted_name(value.func.func) or "").rsplit(".", 1)[-1] in WRAPPERS and value.func.args:
                    wrapped = value.func.args[0]
                    return isinstance(wrapped, ast.Attribute) and wrapped.attr in RETURNS_INSTANCE and \
                        self._chain_of_attribute(wrapped)
                chain = self._chain(value)
                return bool(chain) and chain[0].startswith("a") and chain[0][1:] in RETURNS_INSTANCE
            return False
        if isinstance(node, ast.Call):
            if self._is_model(node.func) and not isinstance(node.func, ast.Call):
                return True
            chain = self._chain(node)
            return bool(chain) and chain[0] in RETURNS_INSTANCE
        return isinstance(node, ast.Name) and node.id in self.instance_names[-1]

    def _chain_of_attribute(self, node: ast.Attribute) -> bool:
        return self._manager(node.value) or self._lazy(node.value)

    # -- scopes --------------------------------------------------------------------------------------
    def _body(self, node, body, is_coroutine, is_class=False):
        self.lazy_names.append(set())
        self.instance_names.append(set())
        try:
            super()._body(node, body, is_coroutine, is_class)
        finally:
            self.lazy_names.pop()
            self.instance_names.pop()

    def _site(self, node: ast.AST, kind: str, method: str, receiver: Optional[ast.AST] = None) -> None:
        if self.in_coroutine and not self.in_generator:
            async_form = ""
            if receiver is not None and not isinstance(receiver, ast.Await):
                args = "()" if isinstance(node, ast.Call) and not node.args and not node.keywords else "(...)"
                async_form = f"await {_short(ast.get_source_segment(self.source, receiver) or '')}.a{method}{args}"
            elif method == "len()" and isinstance(node, ast.Call):
                async_form = f"await {_short(ast.get_source_segment(self.source, node.args[0]) or '')}.acount()"
            self.sites.append((node, kind, method, _short(ast.get_source_segment(self.source, node) or ""),
                               async_form))

    # -- the sites -----------------------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        if not self.in_coroutine:
            return
        for target in node.targets:
            if isinstance(target, ast.Name):
                for names in (self.lazy_names[-1], self.instance_names[-1]):
                    names.discard(target.id)
                if self._lazy(node.value):
                    self.lazy_names[-1].add(target.id)
                elif self._instance(node.value):
                    self.instance_names[-1].add(target.id)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            chain = self._chain(node)
            if chain and chain[0] in QUERYING and all(m in LAZY for m in chain[1:]):
                self._site(node, "query", chain[0], func.value)
            elif func.attr in INSTANCE_METHODS and self._instance(func.value):
                self._site(node, "instance", func.attr, func.value)
            elif func.attr in QUERYING and self._lazy(func.value) and isinstance(func.value, ast.Await):
                self._site(node, "query", func.attr, func.value)
        elif isinstance(func, ast.Name) and func.id in EVALUATING_BUILTINS and len(node.args) == 1 \
                and self._lazy(node.args[0]):
            self._site(node, "evaluate", f"{func.id}()")
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        if self._lazy(node.iter):
            self._site(node.iter, "evaluate", "for")
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        if not node.is_async and self._lazy(node.iter):
            self._site(node.iter, "evaluate", "for")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not isinstance(node.slice, ast.Slice) and self._lazy(node.value):
            self._site(node, "evaluate", "index")
        self.generic_visit(node)


def _module_level(tree: ast.Module):
    """Module-level statements, into if/try/with blocks (where imports and model classes live),
    not into functions: walking every node of every file was most of this collector's time."""
    stack = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)) or type(node).__name__ == "TryStar":
            for name in ("body", "orelse", "finalbody"):
                stack.extend(reversed(getattr(node, name, []) or []))
            for handler in getattr(node, "handlers", []) or []:
                stack.extend(reversed(handler.body))


def _models(tree: ast.Module) -> tuple[set[str], set[str], bool, bool]:
    """(model names, module aliases of models modules, imports django, uses channels)."""
    models: set[str] = set()
    modules: set[str] = set()
    django = channels = False
    for node in _module_level(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            django = django or module.split(".")[0] == "django"
            channels = channels or module.split(".")[0] == "channels"
            if (module == "models" or module.endswith(".models")) and not module.startswith("django.db"):
                models.update(a.asname or a.name for a in node.names if a.name != "*" and a.name[:1].isupper())
            for alias in node.names:
                if alias.name == "models" and module.split(".")[0] != "django":
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                django = django or alias.name.split(".")[0] == "django"
                channels = channels or alias.name.split(".")[0] == "channels"
                if alias.name.endswith(".models") and alias.asname:
                    modules.add(alias.asname)
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = (dotted_name(base) or "").rsplit(".", 1)[-1]
                if name in ("Model", "AbstractUser", "AbstractBaseUser") or (name.endswith("Model") and django):
                    models.add(node.name)
    return models, modules, django, channels


def collect_sync_orm(parsed) -> Optional[tuple[list[OrmSite], set[int]]]:
    tree = getattr(parsed, "tree", None)
    if tree is None:
        return None
    models, modules, _django, channels = _models(tree)
    text = parsed.document.text
    if not models and not modules and "get_user_model" not in text:
        return None
    finder = _Finder(text, models, modules, StatementText.of(parsed.document))
    finder.visit(tree)
    if finder.sites:
        # Code under `with self.assertRaises(SynchronousOnlyOperation)` / `pytest.raises(...)`
        # expects the error on purpose (Django's own tests of this very check).
        expecting = [(n.lineno, n.end_lineno or n.lineno) for n in ast.walk(tree)
                     if isinstance(n, (ast.With, ast.AsyncWith)) and any(
                         isinstance(i.context_expr, ast.Call) and
                         _call_name(i.context_expr.func).startswith(("raises", "assertRaises"))
                         for i in n.items)]
        finder.sites = [site for site in finder.sites
                        if not any(first <= site[0].lineno <= last for first, last in expecting)]
    if not finder.sites:
        return None
    from ..sources.python_asgiref import CharPositions

    positions = CharPositions(parsed.document)
    wrapper = "database_sync_to_async" if channels else "sync_to_async"
    sites = []
    for node, kind, method, shown, async_form in finder.sites:
        line, column, end_line, end_column = positions.of(node)
        sites.append(OrmSite(line, column, end_line, end_column, kind, shown, method, wrapper, async_form))
    return sites, {s.line for s in sites} | {s.end_line for s in sites}


def _version(text: str):
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


class SyncOrmInCoroutine(ProjectMatcher):
    """AFX503: judged per install set from the Django releases it allows."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        facts = project.facts.get("sync-orm", ())
        if not facts:
            return
        allowed = project.allowed_versions("django")
        if allowed is None:
            # Django is not among what this set installs (or not in the data): the code imports
            # models, so it runs on some Django; any Django pip installs today raises. Warn,
            # without naming an async API the project may not have.
            severity, raising, since_query, since_instance = "warning", "Django 3.0 and later raise", False, False
        else:
            from packaging.version import Version

            versions = [v for v in map(_version, allowed) if v is not None]
            failing = [v for v in versions if v >= Version(RAISES_SINCE)]
            if not failing:
                return
            everywhere = len(failing) == len(versions)
            severity = self.rule.severity if everywhere else "warning"
            raising = "Django raises" if everywhere else \
                f"Django 3.0+ raises, and the set allows {versions[0]} to {versions[-1]}"
            since_query = all(v >= Version(QUERYSET_ASYNC_SINCE) for v in versions)
            since_instance = all(v >= Version(INSTANCE_ASYNC_SINCE) for v in versions)
        for fact in facts:
            assert isinstance(fact, FileFacts)
            for site in fact.value:
                message, hint = self._describe(site, raising, since_query, since_instance)
                span = Span(0, 0, site.line, site.column, site.end_line, site.end_column)
                yield Finding(self.rule.code, severity, message, fact.path, span, None, hint,
                              notes=(f"{raising} SynchronousOnlyOperation in a coroutine",))

    @staticmethod
    def _describe(site: OrmSite, raising: str, since_query: bool, since_instance: bool) -> tuple[str, str]:
        wrap = f"run the ORM code in a function through `await {site.wrapper}(f)()`"
        if site.kind == "query":
            message = f"`{_short(site.text)}` queries the database in `async def`: SynchronousOnlyOperation"
            hint = f"`{site.async_form}` (Django 4.1+)" if since_query and site.async_form else wrap
        elif site.kind == "instance":
            message = f"`{_short(site.text)}` writes to the database in `async def`: SynchronousOnlyOperation"
            hint = f"`{site.async_form}` (Django 4.2+)" if since_instance and site.async_form else wrap
        elif site.method in ("for", "index"):
            how = "iterating" if site.method == "for" else "indexing"
            message = f"{how} `{short(site.text, 40)}` queries the database in `async def`: SynchronousOnlyOperation"
            hint = "use `async for` (Django 4.1+)" if since_query and site.method == "for" else wrap
        else:
            message = f"`{_short(site.text)}` evaluates a QuerySet in `async def`: SynchronousOnlyOperation"
            hint = f"`{site.async_form}` (Django 4.1+)" if since_query and site.async_form else wrap
        return message, hint


def _call_name(func: ast.AST) -> str:
    """``assertRaisesMessage`` of ``self.assertRaisesMessage``, ``raises`` of ``pytest.raises``."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""
