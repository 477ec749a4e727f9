"""Collector for the Channels/Django wiring rules (AFX4xx): what one Python module says about wiring.

Per file (only files the bytes prefilter lets through, parsed once with stdlib ``ast``),
:func:`collect_channels_wiring` records small facts: what each top-level name is bound to
(imports, classes), the classes with their bases and the methods the rules care about,
the applications handed to routers and test communicators, ``ProtocolTypeRouter`` mappings,
the top-level statements of an ``asgi.py`` (imports, the call that sets Django up), settings
(``INSTALLED_APPS``, ``ASGI_APPLICATION``) and ``django.conf.urls.url`` uses. The project
matchers in :mod:`asgifix.matchers.wiring` join the files (a consumer defined in one module
and routed in another) and judge them against the pins.

Positions carry character offsets, so the project matchers can propose fixes; a file with
a fixable candidate sets ``editable`` and the engine keeps its document for the fix.
"""

from __future__ import annotations

import ast
import dataclasses
from ..records import dataclass, field
from typing import Any, Optional

from ..model import Span

# Callables whose application argument is judged (by the name they are imported under, resolved later).
ROUTE_FUNCTIONS = ("path", "re_path", "url")
ROUTERS = ("URLRouter", "ChannelNameRouter", "ProtocolTypeRouter")
COMMUNICATORS = ("WebsocketCommunicator", "HttpCommunicator", "ApplicationCommunicator")
SETUP_CALLS = ("get_asgi_application", "setup", "get_default_application")
# Names whose calls the rules read: statements spelling none of them (nor a local alias) are not walked.
INTERESTING = ROUTE_FUNCTIONS + ROUTERS + COMMUNICATORS + SETUP_CALLS + (
    "AsgiHandler", "StaticFilesWrapper", "ASGIStaticFilesHandler", "as_asgi", "application")


@dataclass(frozen=True)
class Binding:
    """What a module-level name is bound to: an import, a class of this module, something else."""

    kind: str  # "import" (import a.b as c -> module a.b), "from" (from m import n), "class", "other"
    module: str = ""  # for "import"/"from": the module named (relative: with leading dots)
    name: str = ""  # for "from": the imported name
    line: int = 0


@dataclass(frozen=True)
class ClassInfo:
    name: str
    bases: tuple[str, ...]  # dotted source text of each base ("consumers.Base", "AsyncWebsocketConsumer")
    line: int
    init_takes_scope: bool  # def __init__(self, scope): the Channels 2 consumer signature
    init_params: Optional[tuple[str, ...]]  # positional parameters of __init__ besides self
    call_params: Optional[tuple[str, ...]]  # positional parameters of __call__ besides self (None: no __call__)
    call_is_async: bool
    span: Span


@dataclass(frozen=True)
class AppUse:
    """An expression handed to a router or communicator as an application."""

    where: str  # "path" / "re_path" / "url" / "URLRouter" / "ChannelNameRouter" / "WebsocketCommunicator"...
    callee: str  # dotted text of the callable the application is passed to
    dotted: str  # dotted text of the application (a Name or an attribute chain); "" for other shapes
    span: Span  # of the application expression (insert .as_asgi() at span.end)


@dataclass(frozen=True)
class ProtocolRouterUse:
    callee: str
    keys: tuple[str, ...]  # the literal string keys of the mapping
    literal: bool  # the argument is a dict display whose keys are all string literals
    span: Span  # of the call
    first_key: Optional[Span]  # of the first key (to insert "http" before it)


@dataclass(frozen=True)
class TopStatement:
    """One top-level statement of a module, as the asgi.py ordering rule sees it."""

    index: int
    kind: str  # "import", "setup" (runs get_asgi_application()/django.setup()), "environ", "other"
    line: int
    start: int  # offsets of the statement's full lines, with the comment lines just above it
    end: int
    imports: tuple[tuple[str, str, int], ...] = ()  # (module, name or "", level) for each imported thing
    binds: tuple[str, ...] = ()  # names the statement binds
    uses: tuple[str, ...] = ()  # names the statement reads
    setup_call: Optional[tuple[str, Span, bool]] = None  # (callee, span, standalone) of the setup call
    settings_module: Optional[tuple[str, Span]] = None  # DJANGO_SETTINGS_MODULE value set here
    noqa: bool = False


@dataclass(frozen=True)
class CalledName:
    name: str  # dotted text of a called name ("get_asgi_application", "application")
    span: Span


@dataclass(frozen=True)
class ServerLine:
    """A command that starts gunicorn or daphne with an application (Procfile, Dockerfile, compose, script)."""

    server: str
    application: str  # "mysite.asgi:application"
    options: tuple[str, ...]  # every other token of the command, in order
    span: Span  # of the server word


@dataclass
class ServerFile:
    commands: list[ServerLine] = field(default_factory=list)
    editable: bool = False


@dataclass
class WiringModule:
    bindings: dict[str, Binding] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    apps: list[AppUse] = field(default_factory=list)
    protocol_routers: list[ProtocolRouterUse] = field(default_factory=list)
    statements: list[TopStatement] = field(default_factory=list)
    calls: list[CalledName] = field(default_factory=list)  # every call of a plain or dotted name
    self_call_assign: list[Span] = field(default_factory=list)  # application = application()
    installed_apps: Optional[tuple[tuple[tuple[str, Span], ...], Span]] = None  # (entries, list span)
    installed_apps_extended: bool = False  # INSTALLED_APPS += / .insert / .append elsewhere
    settings: dict[str, tuple[str, Span]] = field(default_factory=dict)  # ASGI_APPLICATION, WSGI_APPLICATION
    is_package: bool = False
    module: Optional[str] = None  # the module's dotted name (the longest candidate, see names.module_paths)
    names: Any = None  # asgifix.names.ModuleNames of the module
    has_models: bool = False  # defines a class on models.Model or imports Django models itself
    editable: bool = False  # a candidate that a project fix may edit: keep the document
    is_asgi_module: bool = False


def dotted_text(node: ast.AST) -> str:
    """``a.b.c`` for a plain name chain, "" otherwise (the one name-chain reader: names.dotted_parts)."""
    from ..names import dotted_parts

    parts = dotted_parts(node)
    return ".".join(parts) if parts else ""


class _Spans:
    def __init__(self, document):
        from ..sources.setup_py import char_offset

        self.document = document
        self.char_offset = char_offset

    def of(self, node: ast.AST) -> Span:
        start = self.char_offset(self.document, node.lineno, node.col_offset)
        end = self.char_offset(self.document, node.end_lineno, node.end_col_offset)
        return self.document.span(start, end)

    def statement_lines(self, node: ast.stmt, previous_end_line: int) -> tuple[int, int]:
        """Offsets of the statement's whole lines, with the comment lines right above it."""
        document = self.document
        first = node.lineno
        for decorator in getattr(node, "decorator_list", ()):
            first = min(first, decorator.lineno)
        while first - 1 > previous_end_line and document.line_text(first - 1).lstrip().startswith("#"):
            first -= 1
        last = node.end_lineno or node.lineno
        starts = document.line_starts
        start = starts[first - 1]
        end = starts[last] if last < len(starts) else len(document.text)
        return start, end


class _LazyUses:
    __slots__ = ("node",)

    def __init__(self, node: ast.AST):
        self.node = node


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bound_by(node: ast.stmt) -> set[str]:
    names: set[str] = set()
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            names.add(alias.asname or alias.name.split(".")[0])
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        names.add(node.name)
    elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _setup_call(node: ast.stmt) -> Optional[ast.Call]:
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            name = dotted_text(child.func)
            last = name.rsplit(".", 1)[-1]
            if last in ("get_asgi_application", "get_default_application") or name in ("django.setup", "setup"):
                return child
    return None


def _environ_value(node: ast.stmt) -> Optional[ast.Constant]:
    """The value an ``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x")`` / ``os.environ[...] = "x"`` sets."""
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and dotted_text(child.func).endswith("environ.setdefault") \
                and len(child.args) == 2 and isinstance(child.args[0], ast.Constant) \
                and child.args[0].value == "DJANGO_SETTINGS_MODULE" and isinstance(child.args[1], ast.Constant) \
                and isinstance(child.args[1].value, str):
            return child.args[1]
        if isinstance(child, ast.Assign) and len(child.targets) == 1 and isinstance(child.targets[0], ast.Subscript):
            target = child.targets[0]
            key = target.slice
            if dotted_text(target.value).endswith("environ") and isinstance(key, ast.Constant) \
                    and key.value == "DJANGO_SETTINGS_MODULE" and isinstance(child.value, ast.Constant) \
                    and isinstance(child.value.value, str):
                return child.value
    return None


def django_fields_module(module: str) -> bool:
    """``django.db.models`` (fields, Q, F, functions): importing it needs no app registry; only
    defining a model class, or importing a module that defines some (``django.contrib.auth.models``), does."""
    return module == "django.db.models" or module.startswith("django.db.models.")


def _is_models_import(module: str, names: list[str]) -> bool:
    if django_fields_module(module):
        return False
    if module.endswith(".models") or module == "models":
        return True
    if module == "django.contrib.auth" and "get_user_model" in names:
        return False  # the function; calling it at import time is what needs the registry
    return False


def collect_channels_wiring(parsed) -> Optional[tuple[WiringModule, set[int]]]:
    """Collector (see matchers.COLLECTORS): the wiring facts of one Python module."""
    from ..sources.server_config import ServerConfig

    if isinstance(parsed, ServerConfig):
        return _server_file(parsed)
    tree = getattr(parsed, "tree", None)
    if tree is None:
        return None
    document = parsed.document
    spans = _Spans(document)
    info = WiringModule()
    info.is_package = document.path.name == "__init__.py"
    lines: set[int] = set()

    # Imports: the project's one name resolution (asgifix.names); module-level bindings only
    # (try/except ImportError and TYPE_CHECKING blocks included: the first binding of a name wins).
    from ..names import module_names, module_paths

    dotted_paths = module_paths(document.display)
    info.module = dotted_paths[0] if dotted_paths else None
    info.names = module_names(tree, module=info.module, is_package=info.is_package)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            info.bindings[node.name] = Binding("class", line=node.lineno)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            info.bindings[node.name] = Binding("other", line=node.lineno)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for name in _bound_by(node):
                info.bindings[name] = Binding("other", line=node.lineno)
    for local, found in info.names.bindings.items():
        module_level = [b for b in found if not b.local_scope]
        if not module_level or local in info.bindings:
            continue
        first = module_level[0]
        if first.kind == "import":
            info.bindings[local] = Binding("import", first.target, "", first.line)
        else:
            info.bindings[local] = Binding("from", first.module, first.name or "", first.line)

    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = tuple(dotted_text(b) for b in node.bases)
            init_scope = False
            init_params: Optional[tuple[str, ...]] = None
            call_params: Optional[tuple[str, ...]] = None
            call_async = False
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    positional = [a.arg for a in item.args.posonlyargs + item.args.args]
                    if item.name == "__init__":
                        init_params = tuple(positional[1:])
                        init_scope = positional[1:2] == ["scope"]
                    if item.name == "__call__":
                        call_params = tuple(positional[1:])
                        call_async = isinstance(item, ast.AsyncFunctionDef)
            if any(b.endswith("Model") for b in bases) and any("models" in b or b == "Model" for b in bases):
                info.has_models = True
            info.classes[node.name] = ClassInfo(node.name, bases, node.lineno, init_scope, init_params, call_params,
                                                call_async, spans.of(node))
            lines.add(node.lineno)
    for binding in info.names.imports:
        # a module-level import of Django's models (one inside a function runs later)
        if not binding.local_scope and binding.kind == "from" and binding.module.startswith("django.") \
                and _is_models_import(binding.module, [binding.name or ""]):
            info.has_models = True
    if not info.has_models and "get_user_model" in document.text:
        # `User = get_user_model()` at module level asks the app registry at import time
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if any(isinstance(call, ast.Call) and dotted_text(call.func).rsplit(".", 1)[-1] == "get_user_model"
                   for call in ast.walk(node)):
                info.has_models = True
                break
    # Calls: only statements that spell an interesting name (or a local alias of one) are walked.
    from ..sources.pruning import StatementText, walk

    words = set(INTERESTING) | {local for local, b in info.bindings.items()
                                if b.kind == "from" and b.name in INTERESTING}
    for node in walk(tree, StatementText.of(document), tuple(sorted(words))):
        if isinstance(node, ast.Call):
            callee = dotted_text(node.func)
            if not callee:
                continue
            info.calls.append(CalledName(callee, spans.of(node.func)))
            last = callee.rsplit(".", 1)[-1]
            if "." not in callee:
                bound = info.bindings.get(callee)
                if bound is not None and bound.kind == "from":
                    last = bound.name  # from django.urls import re_path as rp: rp(...) is re_path(...)
            if last in ROUTE_FUNCTIONS and len(node.args) >= 2:
                _app(info, spans, last, callee, node.args[1], lines)
            elif last in COMMUNICATORS and node.args:
                _app(info, spans, last, callee, node.args[0], lines)
            elif last == "URLRouter" and node.args and isinstance(node.args[0], (ast.List, ast.Tuple)):
                pass  # its items are path()/re_path() calls, seen on their own
            elif last == "ChannelNameRouter" and node.args and isinstance(node.args[0], ast.Dict):
                for value in node.args[0].values:
                    _app(info, spans, last, callee, value, lines)
            elif last == "ProtocolTypeRouter" and node.args:
                mapping = node.args[0]
                if isinstance(mapping, ast.Dict):
                    keys = tuple(k.value for k in mapping.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
                    literal = len(keys) == len(mapping.keys)
                    first = spans.of(mapping.keys[0]) if mapping.keys and mapping.keys[0] is not None else None
                    info.protocol_routers.append(ProtocolRouterUse(callee, keys, literal, spans.of(node), first))
                    lines.add(node.lineno)
                    for value in mapping.values:
                        # a consumer class directly as a protocol's application
                        _app(info, spans, last, callee, value, lines)
                else:
                    info.protocol_routers.append(ProtocolRouterUse(callee, (), False, spans.of(node), None))

    # top-level statements, settings
    previous_end = 0
    for index, node in enumerate(tree.body):
        start, end = spans.statement_lines(node, previous_end)
        previous_end = node.end_lineno or node.lineno
        names = _bound_by(node)
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            target_names = [t.id for t in targets if isinstance(t, ast.Name)]
            value = node.value
            for name in target_names:
                if name in ("ASGI_APPLICATION", "WSGI_APPLICATION") and isinstance(value, ast.Constant) \
                        and isinstance(value.value, str):
                    info.settings[name] = (value.value, spans.of(value))
                    lines.add(node.lineno)
                if name == "INSTALLED_APPS":
                    if isinstance(node, ast.AugAssign):
                        info.installed_apps_extended = True
                    elif isinstance(value, (ast.List, ast.Tuple)) and info.installed_apps is None:
                        entries = tuple((e.value, spans.of(e)) for e in value.elts
                                        if isinstance(e, ast.Constant) and isinstance(e.value, str))
                        if len(entries) == len(value.elts):
                            info.installed_apps = (entries, spans.of(value))
                            info.editable = True
                            lines.add(node.lineno)
                    else:
                        info.installed_apps_extended = True
                if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == name \
                        and not value.args and not value.keywords and name == "application":
                    info.self_call_assign.append(spans.of(node))
                    lines.add(node.lineno)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            callee = dotted_text(node.value.func)
            if callee.startswith("INSTALLED_APPS.") or callee.endswith("INSTALLED_APPS.insert"):
                info.installed_apps_extended = True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported = []
            if isinstance(node, ast.Import):
                imported = [(alias.name, "", 0) for alias in node.names]
            else:
                imported = [(node.module or "", alias.name, node.level) for alias in node.names]
            text = document.text[start:end]
            info.statements.append(TopStatement(index, "import", node.lineno, start, end, tuple(imported),
                                                tuple(sorted(names)), (), noqa="noqa" in text))
            continue
        segment = document.text[start:end]
        setup = _setup_call(node) if any(word in segment for word in SETUP_CALLS) else None
        environ = _environ_value(node) if "DJANGO_SETTINGS_MODULE" in segment else None
        uses = _LazyUses(node)
        if setup is not None:
            callee = dotted_text(setup.func)
            standalone = (isinstance(node, ast.Expr) and node.value is setup) or (
                isinstance(node, ast.Assign) and node.value is setup and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name))
            info.statements.append(TopStatement(index, "setup", node.lineno, start, end, (), tuple(sorted(names)),
                                                uses, (callee, spans.of(setup), standalone)))
            # An ASGI entry module: get_asgi_application(), or django.setup() in an asgi*.py. A test
            # or a script that calls django.setup() is no ASGI server's import (Django's own tests).
            if callee.endswith("get_asgi_application") or document.path.name.lower().startswith("asgi"):
                info.is_asgi_module = True
            lines.add(node.lineno)
        elif environ is not None:
            info.statements.append(TopStatement(index, "environ", node.lineno, start, end, (), tuple(sorted(names)),
                                                uses, settings_module=(environ.value, spans.of(environ))))
            lines.add(node.lineno)
        else:
            info.statements.append(TopStatement(index, "other", node.lineno, start, end, (), tuple(sorted(names)),
                                                uses))
    if info.is_asgi_module:
        info.editable = True
    # names each statement reads: only the ordering rule needs them, only in modules that set Django up
    info.statements = [dataclasses.replace(st, uses=tuple(sorted(_names_in(st.uses.node)))
                                           if info.is_asgi_module else ())
                       if isinstance(st.uses, _LazyUses) else st for st in info.statements]
    if info.apps or info.protocol_routers:
        info.editable = True
    if any(b.kind == "from" and b.module in ("django.conf.urls", "channels.http", "channels.staticfiles")
           for b in info.bindings.values()) or any(c.name == "get_asgi_application" for c in info.calls):
        info.editable = True
    interesting = (info.classes or info.apps or info.protocol_routers or info.is_asgi_module or info.settings
                   or info.installed_apps or info.self_call_assign or info.has_models
                   or any(b.kind in ("import", "from") for b in info.bindings.values()))
    if not interesting:
        return None
    for statement in info.statements:
        if statement.kind in ("import", "setup", "environ"):
            lines.add(statement.line)
    return info, lines


def _app(info: WiringModule, spans: _Spans, where: str, callee: str, node: ast.AST, lines: set[int]) -> None:
    dotted = dotted_text(node)
    if not dotted:
        return  # a call (Consumer.as_asgi(), a middleware stack, a router), a lambda, ...
    info.apps.append(AppUse(where, callee, dotted, spans.of(node)))
    lines.add(node.lineno)
    lines.add(node.end_lineno or node.lineno)


_SEPARATORS = {"&&", "||", ";", "|", "&"}


def _server_file(parsed) -> Optional[tuple[ServerFile, set[int]]]:
    from ..sources.server_config import _APPLICATION, _tokens, server_commands

    document = parsed.document
    found = ServerFile()
    for command in server_commands(parsed, ("gunicorn", "daphne")):
        line = document.line_text(command.line)
        offset = document.line_starts[command.line - 1]
        tokens = [value for value, start, _ in _tokens(line) if offset + start >= command.start]
        words = []
        for value in tokens[1:]:
            if value in _SEPARATORS:
                break
            words.append(value)
        application = next((w for w in words if _APPLICATION.match(w)), "")
        options = tuple(w for w in words if w != application)
        found.commands.append(ServerLine(command.server, application, options,
                                         document.span(command.start, command.end)))
    if not found.commands:
        return None
    return found, {c.span.line for c in found.commands}
