"""AFX4xx: Channels 2→3→4 and Django ASGI wiring, judged against what the pins allow.

Every file's wiring facts come from :func:`asgifix.matchers.wiring_facts.collect_channels_wiring`.
Here they are joined into a small project index (which file is which module, what each name
is bound to, which classes are consumers through their bases in other modules), and each rule
decides from ``project.allowed_versions(...)`` and the release facts in ``rules/data/wiring.toml``
(read from the released files by scripts/build_knowledge.py) whether the code breaks:

* every allowed release breaks it: the rule's severity, with the fix;
* some do: a warning, never a rewrite (unless the fix is right on both sides);
* none do: nothing.

Name resolution is deliberately small (:class:`ProjectIndex.resolve`): module-level imports,
aliases, re-exports through other project modules, relative imports, try/except and
``if`` blocks (the first binding wins). It is the one place to swap for the project's shared
name resolution.
"""

from __future__ import annotations

import posixpath
from functools import lru_cache
from typing import Iterator, Optional

from ._text import short
from ..model import Edit, Finding, Fix, Span
from ..project import ProjectModel
from . import FileFacts, ProjectMatcher
from .wiring_facts import ClassInfo, ServerFile, WiringModule, django_fields_module

FACT = "channels-wiring"


# -- release facts ------------------------------------------------------------------

@lru_cache(maxsize=1)
def wiring_data() -> dict:
    from .._paths import data_dir
    from ..datafiles import load_toml

    return load_toml(data_dir() / "wiring.toml")


def _expand(intervals: list, releases: list[str]) -> set[str]:
    index = {release: position for position, release in enumerate(releases)}
    out: set[str] = set()
    for first, last in intervals:
        out.update(releases[index[first]: index[last] + 1])
    return out


@lru_cache(maxsize=None)
def having(fact: str) -> frozenset[str]:
    """Releases of the fact's package that have it (from the released files)."""
    data = wiring_data()
    for entry in data["fact"]:
        if entry["id"] == fact:
            return frozenset(_expand(entry["versions"], data["releases"][entry["package"]]))
    raise KeyError(fact)


@lru_cache(maxsize=None)
def recorded(package: str) -> frozenset[str]:
    return frozenset(wiring_data()["releases"].get(package, ()))


@lru_cache(maxsize=None)
def django_boundary(fact: str) -> tuple[str, bool]:
    """(the Django feature release, True when the fact was removed there / False when added)."""
    for entry in wiring_data()["django"]:
        if entry["id"] == fact:
            if "removed_in" in entry:
                return entry["removed_in"], True
            return entry["since"], False
    raise KeyError(fact)


def _newer_or_equal(version: str, boundary: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version) >= Version(boundary)
    except InvalidVersion:
        return False


class Versions:
    """The releases of one package an install set can end up with, and how that was decided."""

    def __init__(self, package: str, versions: Optional[list[str]], how: str):
        self.package = package
        self.versions = versions or []
        self.how = how  # "allowed" (resolver), "declared" (the set does not install as declared), "unpinned",
        # "installed" (`doctor`: what an environment has)

    @property
    def known(self) -> bool:
        return bool(self.versions)

    def split(self, predicate) -> tuple[list[str], list[str]]:
        yes = [v for v in self.versions if predicate(v)]
        return yes, [v for v in self.versions if not predicate(v)]

    def where(self) -> str:
        """Where the versions come from, for a note: ``the pins allow channels 3.0.5``."""
        return f"{self.describe()} is installed" if self.how == "installed" else f"the pins allow {self.describe()}"

    def describe(self, versions: Optional[list[str]] = None) -> str:
        chosen = versions if versions is not None else self.versions
        if not chosen:
            return f"no {self.package} release"
        text = chosen[0] if len(chosen) == 1 else f"{chosen[0]}–{chosen[-1]}"
        if self.how == "unpinned":
            return f"the newest {self.package} {text}"  # undeclared: what pip installs today
        return f"{self.package} {text}"


def versions_of(project: ProjectModel, package: str, used: bool = True) -> Versions:
    """What the set allows of ``package``; when the set does not install as declared (AFX301's
    finding), its own pins; when it is not declared but the code uses it, what pip installs today."""
    allowed = project.allowed_versions(package)
    if allowed:
        return Versions(package, allowed, "installed" if project.installed is not None else "allowed")
    if project.installed is not None:  # `doctor`: a package the environment lacks has no version to judge
        return Versions(package, None, "unknown")
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    from ..resolver import modelled, releases

    if not modelled(package):
        return Versions(package, None, "unknown")
    everything = []
    for version in releases(package):
        try:
            if not Version(version).is_prerelease:
                everything.append(version)
        except InvalidVersion:
            continue
    declared = [d for d in project.declarations if d.name == package and not d.locked]
    if declared:
        chosen = everything
        for declaration in declared:
            try:
                specifier = SpecifierSet(declaration.specifier or "")
            except InvalidSpecifier:
                continue
            chosen = [v for v in chosen if specifier.contains(v, prereleases=True)]
        return Versions(package, chosen, "declared")
    if used and everything and project.declarations:
        return Versions(package, everything[-1:], "unpinned")
    return Versions(package, None, "unknown")


def django_versions(project: ProjectModel, channels: Versions) -> Versions:
    django = versions_of(project, "django", used=False)
    if django.known:
        return django
    return Versions("django", None, "unknown")


def django_all_at_least(project: ProjectModel, channels: Versions, boundary: str) -> Optional[bool]:
    """True when every allowed Django is ``boundary`` or newer, False when some is older, None: unknown.

    Channels 4.0+ requires Django 3.2+ (channels-4.0.0 METADATA), so an unknown Django under an
    all-Channels-4 set counts as 3.2+."""
    django = django_versions(project, channels)
    if django.known:
        return all(_newer_or_equal(v, boundary) for v in django.versions)
    if channels.known and all(_newer_or_equal(v, "4.0.0") for v in channels.versions):
        return _newer_or_equal("3.2", boundary)
    return None


# -- the project index --------------------------------------------------------------

class Resolved:
    __slots__ = ("kind", "path", "name", "dotted")

    def __init__(self, kind: str, path: str = "", name: str = "", dotted: str = ""):
        self.kind = kind  # "class" (path, name), "module" (path), "external" (dotted), "other" (path, name)
        self.path = path
        self.name = name
        self.dotted = dotted


class ProjectIndex:
    """The project's modules for the wiring rules, over the one name resolution (:mod:`asgifix.names`):
    which file a dotted module is, and what a name used in a file stands for (a class of the
    project, a module of it, or something outside it, after following re-exports)."""

    def __init__(self, facts: list[FileFacts]):
        from ..names import ProjectIndex as NameIndex, module_paths

        self.modules: dict[str, WiringModule] = {}
        self.servers: dict[str, ServerFile] = {}
        self.names = NameIndex()
        self.files: dict[str, str] = {}  # dotted module -> display path
        for fact in facts:
            if isinstance(fact.value, ServerFile):
                self.servers[fact.path] = fact.value
                continue
            self.modules[fact.path] = fact.value
            if fact.value.names is not None:
                self.names.add(fact.path, fact.value.names)
            for dotted in module_paths(fact.path):
                self.files.setdefault(dotted, fact.path)
        self._consumer: dict[tuple[str, str], Optional[ClassInfo]] = {}

    def module_file(self, from_path: str, module: str, level: int) -> Optional[str]:
        """The project file of ``module`` (relative to ``from_path``'s package when ``level``)."""
        if level:
            from ..names import _absolute

            info = self.modules.get(from_path)
            own = info.module if info is not None else None
            if own is None:
                return None
            package = own if info.is_package else own.rpartition(".")[0]
            absolute = _absolute(module or None, level, package)
            return self.files.get(absolute) if absolute else None
        return self.files.get(module)

    def resolve(self, path: str, dotted: str, depth: int = 0) -> Optional[Resolved]:
        module = self.modules.get(path)
        if module is None or not dotted:
            return None
        parts = dotted.split(".")
        own = module.bindings.get(parts[0])
        if own is not None and own.kind in ("class", "other"):
            return Resolved(own.kind, path, parts[0]) if len(parts) == 1 else None
        if module.names is None:
            return None
        absolute = module.names.resolve_parts(parts)
        if absolute is None or absolute.startswith("."):
            return None
        return self.locate(self.names.resolve(absolute))

    def locate(self, dotted: str) -> Resolved:
        """``chat.consumers.ChatConsumer`` -> the class in chat/consumers.py; else a module, or external."""
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            path = self.files.get(".".join(parts[:cut]))
            if path is None:
                continue
            rest = parts[cut:]
            if not rest:
                return Resolved("module", path)
            own = self.modules[path].bindings.get(rest[0])
            if len(rest) == 1 and own is not None and own.kind in ("class", "other"):
                return Resolved(own.kind, path, rest[0])
            return Resolved("unknown", path, ".".join(rest))
        return Resolved("external", dotted=dotted)

    # -- consumers ------------------------------------------------------------------
    def consumer(self, path: str, dotted: str, bases: tuple[str, ...]) -> Optional[tuple[ClassInfo, str]]:
        """The class ``dotted`` names in ``path`` when it is a Channels consumer (with where it is defined)."""
        resolved = self.resolve(path, dotted)
        if resolved is None or resolved.kind != "class":
            return None
        info = self.modules[resolved.path].classes.get(resolved.name)
        if info is None:
            return None
        if self._is_consumer(resolved.path, info, bases, 0):
            return info, resolved.path
        return None

    def _is_consumer(self, path: str, info: ClassInfo, bases: tuple[str, ...], depth: int) -> bool:
        key = (path, info.name)
        if key in self._consumer:
            return self._consumer[key] is not None
        self._consumer[key] = None  # cycles count as "not a consumer"
        found = False
        if depth < 20:
            for base in info.bases:
                resolved = self.resolve(path, base)
                if resolved is None:
                    continue
                if resolved.kind == "external" and resolved.dotted.startswith(bases):
                    found = True
                elif resolved.kind == "class":
                    parent = self.modules[resolved.path].classes.get(resolved.name)
                    if parent is not None and self._is_consumer(resolved.path, parent, bases, depth + 1):
                        found = True
                if found:
                    break
        self._consumer[key] = info if found else None
        return found

    def init_takes_scope(self, path: str, info: ClassInfo, depth: int = 0) -> bool:
        """The class or a project base defines ``__init__(self, scope)`` (the Channels 2 signature)."""
        if info.init_takes_scope:
            return True
        if info.init_params is not None or depth > 20:
            return False
        for base in info.bases:
            resolved = self.resolve(path, base)
            if resolved is not None and resolved.kind == "class":
                parent = self.modules[resolved.path].classes.get(resolved.name)
                if parent is not None and self.init_takes_scope(resolved.path, parent, depth + 1):
                    return True
        return False

    # -- models ---------------------------------------------------------------------
    def reaches_models(self, path: str, eager_external: tuple[str, ...], seen: Optional[set] = None,
                       ) -> Optional[list[str]]:
        """The chain of modules from ``path`` to one that imports or defines models at import time."""
        seen = seen if seen is not None else set()
        if path in seen:
            return None
        seen.add(path)
        module = self.modules.get(path)
        if module is None:
            return None
        if module.has_models:
            return [path]
        for statement in module.statements:
            if statement.kind != "import":
                continue
            for imported, name, level in statement.imports:
                chain = self._import_reaches(path, imported, name, level, eager_external, seen)
                if chain is not None:
                    return [path] + chain
        return None

    def _import_reaches(self, path: str, imported: str, name: str, level: int, eager_external: tuple[str, ...],
                        seen: set) -> Optional[list[str]]:
        target = None
        if name:
            target = self.module_file(path, f"{imported}.{name}" if imported else name, level)
            if target is None and (imported or level):
                target = self.module_file(path, imported, level)
        else:
            parts = imported.split(".")
            for cut in range(len(parts), 0, -1):
                target = self.module_file(path, ".".join(parts[:cut]), 0)
                if target is not None:
                    break
        if target is not None:
            chain = self.reaches_models(target, eager_external, seen)
            if chain is not None or not self._names_models(imported, name):
                return chain
        if self._names_models(imported, name):
            module = f"{imported}.{name}" if name == "models" and imported else (
                imported if imported else name)
            if level:
                from ..names import _absolute

                info = self.modules.get(path)
                own = info.module if info is not None else None
                package = (own if info.is_package else own.rpartition(".")[0]) if own else None
                module = _absolute(module, level, package) or "." * level + module
            return [module]
        if level:
            return None
        dotted = f"{imported}.{name}" if name else imported
        if django_fields_module(imported) or django_fields_module(dotted):
            return None
        if imported.endswith(".models") or dotted.endswith(".models") or imported in eager_external:
            return [dotted]
        return None


    @staticmethod
    def _names_models(imported: str, name: str) -> bool:
        """``from .models import X``, ``from chat import models``, ``import chat.models``: a models module
        (read or not: model modules mention nothing the prefilter looks for)."""
        if django_fields_module(imported) or (imported == "django.db" and name == "models"):
            return False  # Django's fields and expressions, not a module of models
        return imported == "models" or imported.endswith(".models") or name == "models"


_INDEX: dict[int, tuple[list, ProjectIndex]] = {}


def project_index(project: ProjectModel) -> Optional[ProjectIndex]:
    facts = project.facts.get(FACT)
    if not facts:
        return None
    key = id(facts)
    cached = _INDEX.get(key)
    if cached is not None and cached[0] is facts:
        return cached[1]
    if len(_INDEX) > 1024:  # (one per install set's view: a matcher asks about every view in turn)
        _INDEX.clear()
    index = ProjectIndex(facts)
    _INDEX[key] = (facts, index)
    return index


def _insert(span: Span, at_end: bool = True) -> Span:
    if at_end:
        return Span(span.end, span.end, span.end_line, span.end_column, span.end_line, span.end_column)
    return Span(span.start, span.start, span.line, span.column, span.line, span.column)


def _line_span(project: ProjectModel, path: str, start: int, end: int) -> Optional[Span]:
    document = project.documents.get(path)
    if document is None:
        return None
    return document.span(start, end)


def _first_from_import(module: WiringModule):
    """Where an added ``from django... import ...`` goes: before the first from-import (after ``import os``),
    else before the first import."""
    imports = [s for s in module.statements if s.kind == "import"]
    return next((s for s in imports if any(name for _, name, _ in s.imports)), imports[0] if imports else None)


class _WiringMatcher(ProjectMatcher):
    facts = (FACT,)

    def _finding(self, severity: str, message: str, path: str, span: Span, fix: Optional[Fix] = None,
                 hint: Optional[str] = None, notes: tuple[str, ...] = ()) -> Finding:
        return Finding(self.rule.code, severity, message, path, span, fix, hint, notes=notes)

    def _channels(self, project: ProjectModel) -> Versions:
        return versions_of(project, "channels")

    def _judged(self, project: ProjectModel) -> tuple[Optional["ProjectIndex"], Versions]:
        """The project's modules and the channels releases to judge them against; no index when
        there is nothing to judge (no wiring facts, or no channels version known)."""
        index = project_index(project)
        if index is None:
            return None, Versions("channels", None, "unknown")
        channels = self._channels(project)
        return (index if channels.known else None), channels

    def _bases(self) -> tuple[str, ...]:
        return tuple(self.params.get("consumer-bases", ("channels.consumer.", "channels.generic.")))


# -- AFX401 -------------------------------------------------------------------------

class ConsumerWithoutAsAsgi(_WiringMatcher):
    """AFX401: a consumer class routed (or given to a test communicator) without ``.as_asgi()``."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        index, channels = self._judged(project)
        if index is None:
            return
        needs, fine = channels.split(lambda v: v in having("channels.as_asgi"))
        bases = self._bases()
        if fine:
            yield from self._as_asgi_without_it(index, channels, needs, fine, bases)
        if not needs:
            return  # Channels 2: a consumer class is the application
        for path, module in index.modules.items():
            for use in module.apps:
                found = index.consumer(path, use.dotted, bases)
                if found is None:
                    continue
                info, where = found
                name = use.dotted.rsplit(".", 1)[-1]
                what = "given to" if use.where in ("WebsocketCommunicator", "HttpCommunicator",
                                                   "ApplicationCommunicator") else "routed by"
                if fine:
                    message = (f"`{name}` is {what} `{use.where}` as a class: {channels.describe(needs)} needs "
                               f"`.as_asgi()`, which {channels.describe(fine)} lacks")
                    yield self._finding("warning", message, path, use.span, None,
                                        "pin channels to one side of 3.0, then add `.as_asgi()` or keep the class")
                    continue
                message = f"`{name}` is {what} `{use.where}` as a class; Channels 3+ needs `{name}.as_asgi()`"
                if index.init_takes_scope(where, info):
                    yield self._finding(self.rule.severity, message, path, use.span, None,
                                        f"`{info.name}.__init__(self, scope)` is the Channels 2 signature: make it "
                                        f"`__init__(self, *args, **kwargs)`, then add `.as_asgi()`")
                    continue
                fix = Fix("safe", "add .as_asgi()", (Edit(path, _insert(use.span), ".as_asgi()"),))
                yield self._finding(self.rule.severity, message, path, use.span, fix,
                                    "add `.as_asgi()`: the router then builds one consumer per connection",
                                    (channels.where(),))


    def _as_asgi_without_it(self, index, channels, needs, fine, bases) -> Iterator[Finding]:
        """``Consumer.as_asgi()`` where the pins allow a Channels release without it (2.x)."""
        for path, module in index.modules.items():
            for call in module.calls:
                if not call.name.endswith(".as_asgi"):
                    continue
                owner = call.name[: -len(".as_asgi")]
                if index.consumer(path, owner, bases) is None:
                    continue
                name = owner.rsplit(".", 1)[-1]
                severity = self.rule.severity if not needs else "warning"
                message = (f"`{name}.as_asgi()` does not exist in {channels.describe(fine)}: AttributeError "
                           f"when the routing is imported")
                yield self._finding(severity, message, path, call.span, None,
                                    "require channels>=3.0, or route the class itself on Channels 2")


# -- AFX402 -------------------------------------------------------------------------

_REMOVED = {
    ("channels.http", "AsgiHandler"): ("channels.http", "django.core.asgi", "get_asgi_application",
                                       "django.core.asgi"),
    ("channels.staticfiles", "StaticFilesWrapper"): ("channels.staticfiles", "django.contrib.staticfiles.handlers",
                                                     "ASGIStaticFilesHandler", "django.asgi_static_files_handler"),
}


class RemovedChannelsHandler(_WiringMatcher):
    """AFX402: ``channels.http.AsgiHandler`` / ``channels.staticfiles.StaticFilesWrapper`` (gone in Channels 4)."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        index, channels = self._judged(project)
        if index is None:
            return
        for path, module in index.modules.items():
            for local, binding in module.bindings.items():
                if binding.kind != "from":
                    continue
                key = (binding.module, binding.name)
                if key not in _REMOVED:
                    continue
                fact, new_module, new_name, django_fact = _REMOVED[key]
                yield from self._judge(project, index, path, module, local, binding, channels, fact, new_module,
                                       new_name, django_fact)

    def _judge(self, project, index, path, module, local, binding, channels, fact, new_module, new_name, django_fact):
        gone, present = channels.split(lambda v: v not in having(fact))
        old = f"{binding.module}.{binding.name}"
        old_channels = [v for v in channels.versions if v not in having("channels.as_asgi")]
        since, _ = django_boundary(django_fact)
        django_ok = django_all_at_least(project, channels, since)
        statement = next((s for s in module.statements if s.kind == "import" and s.line == binding.line), None)
        document = project.documents.get(path)
        span = document.span(statement.start, statement.end - 1) if (statement and document) else \
            Span(0, 0, binding.line, 1, binding.line, 1)
        notes: tuple[str, ...] = ()
        if not gone:
            severity = "info"
            message = f"`{old}` is deprecated in Channels 3; Django's `{new_module}.{new_name}` replaces it"
        elif present:
            severity = "warning"
            message = f"`{old}` is gone in {channels.describe(gone)}: `No module named '{binding.module}'`"
            notes = (f"{channels.describe(present)} still have it",)
        else:
            severity = self.rule.severity
            message = f"`{old}` is gone in Channels 4: `No module named '{binding.module}'`"
            notes = (f"the pins allow {channels.describe()}",)
        if old_channels:
            if not gone:
                return  # Channels 2 (or 2 and 3): the handler is the way there
            yield self._finding(severity, message, path, span, None,
                                "the Channels 2 routers cannot run Django's ASGI 3 handler: pin one Channels major",
                                notes)
            return
        if django_ok is not True:
            hint = (f"`{new_name}` needs Django {since}+; the pins allow older Django, where `{binding.name}` is the "
                    f"only way" if django_ok is False else f"use `{new_module}.{new_name}` (Django {since}+)")
            if gone:
                yield self._finding(severity, message, path, span, None, hint, notes)
            return
        fix = self._fix(project, path, module, local, binding, statement, new_module, new_name)
        yield self._finding(severity, message, path, span, fix,
                            f"use `{new_module}.{new_name}`" + ("" if fix else " (by hand: the import is shared)"),
                            notes)

    def _fix(self, project, path, module, local, binding, statement, new_module, new_name) -> Optional[Fix]:
        document = project.documents.get(path)
        if document is None or statement is None or local != binding.name or len(statement.imports) != 1:
            return None
        if new_name in module.bindings:
            return None
        text = document.text[statement.start:statement.end]
        line_start = document.text.find(f"from {binding.module} import {binding.name}", statement.start,
                                         statement.end)
        if line_start < 0:
            return None
        old = f"from {binding.module} import {binding.name}"
        edits = [Edit(path, document.span(line_start, line_start + len(old)), f"from {new_module} import {new_name}")]
        for call in module.calls:
            if call.name == local:
                edits.append(Edit(path, call.span, new_name))
        bare = sum(1 for call in module.calls if call.name == local)
        if text.count(binding.name) != 1 or bare == 0:
            return None
        # every use must be a call: a class used as an application (Channels 2) is not this fix
        if document.text.count(local) != bare + 1:
            return None
        return Fix("unsafe", f"use {new_module}.{new_name}", tuple(edits))


# -- AFX403 -------------------------------------------------------------------------

class ProtocolRouterWithoutHttp(_WiringMatcher):
    """AFX403: ``ProtocolTypeRouter({...})`` without an ``"http"`` key (Channels 4 no longer adds one)."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        index, channels = self._judged(project)
        if index is None:
            return
        for path, module in index.modules.items():
            for router in module.protocol_routers:
                if not router.literal or "http" in router.keys or not router.keys:
                    continue
                resolved = index.resolve(path, router.callee)
                if resolved is None or resolved.kind != "external" or \
                        resolved.dotted != "channels.routing.ProtocolTypeRouter":
                    continue
                yield from self._judge(project, index, path, module, router, channels)

    def _judge(self, project, index, path, module, router, channels):
        lost, kept = channels.split(lambda v: v not in having("channels.auto_http"))
        if not lost:
            # Channels 2 and 3 add AsgiHandler themselves (3 with a deprecation warning): nothing
            # breaks until the pins allow Channels 4 (`--target-asgiref`/`upgrade` show that move).
            return
        if kept:
            message = (f"`ProtocolTypeRouter` has no `\"http\"`: {channels.describe(lost)} answer HTTP with "
                       f"`No application configured for scope type 'http'`")
            yield self._finding("warning", message, path, router.span, None,
                                "add `\"http\": get_asgi_application()` once the pins allow only Channels 4")
            return
        message = ("`ProtocolTypeRouter` has no `\"http\"`: every HTTP request fails with "
                   "`No application configured for scope type 'http'`")
        fix = None
        document = project.documents.get(path)
        if document is not None and router.first_key is not None and \
                django_all_at_least(project, channels, "3.0") is True:
            edits = []
            local = next((name for name, b in module.bindings.items()
                          if b.kind == "from" and b.module == "django.core.asgi" and b.name == "get_asgi_application"),
                         None)
            if local is None:
                if "get_asgi_application" in module.bindings:
                    local = None
                else:
                    first_import = _first_from_import(module)
                    if first_import is not None:
                        at = document.line_starts[first_import.line - 1]
                        edits.append(Edit(path, document.span(at, at),
                                          "from django.core.asgi import get_asgi_application\n"))
                        local = "get_asgi_application"
            if local is not None:
                key = router.first_key
                line_text = document.line_text(key.line)
                indent = line_text[: len(line_text) - len(line_text.lstrip())]
                quote = document.text[key.start]
                quote = quote if quote in "'\"" else '"'
                same_line = document.text[router.span.start:key.start].count("\n") == 0
                insertion = f"{quote}http{quote}: {local}(),\n{indent}" if not same_line else \
                    f"{quote}http{quote}: {local}(), "
                edits.append(Edit(path, _insert(key, at_end=False), insertion))
                fix = Fix("unsafe", "serve HTTP with Django's ASGI application", tuple(edits))
        yield self._finding(self.rule.severity, message, path, router.span, fix,
                            "add `\"http\": get_asgi_application()` (leave it out only if HTTP is served elsewhere)")


# -- AFX404 -------------------------------------------------------------------------

def _loaded_after_setup(index: ProjectIndex) -> set[str]:
    """Modules only ASGI_APPLICATION names (``cc.routing.application``): channels' runserver and
    ``get_default_application()`` import them once Django is set up, so their import order is safe.
    An ``asgi*.py``, or a module a server command starts, is an entry point all the same."""
    named: set[str] = set()
    for module in index.modules.values():
        value = module.settings.get("ASGI_APPLICATION")
        if value and isinstance(value[0], str):
            named.add(value[0].rpartition(".")[0])
    started = {command.application.partition(":")[0]
               for server_file in index.servers.values() for command in server_file.commands}
    loaded = set()
    for dotted in named - started:
        path = index.files.get(dotted)
        if path is not None and not posixpath.basename(path).lower().startswith("asgi"):
            loaded.add(path)
    return loaded


class AsgiImportOrder(_WiringMatcher):
    """AFX404: ``asgi.py`` imports code that reaches the models before Django is set up."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        index = project_index(project)
        if index is None:
            return
        channels = self._channels(project)
        eager: tuple[str, ...] = ()
        auth_note = ""
        if channels.known:
            eager_versions, lazy = channels.split(lambda v: v in having("channels.auth_eager_models"))
            if eager_versions:
                eager = ("channels.auth",)
                if lazy:
                    auth_note = f" ({channels.describe(eager_versions)} only)"
        after_setup = _loaded_after_setup(index)
        for path, module in index.modules.items():
            if not module.is_asgi_module or path in after_setup:
                continue
            setup = next((s for s in module.statements if s.kind == "setup"), None)
            if setup is None:
                continue
            early = []
            for statement in module.statements:
                if statement.index >= setup.index:
                    break
                if statement.kind != "import":
                    continue
                for imported, name, level in statement.imports:
                    chain = index._import_reaches(path, imported, name, level, eager, {path})
                    if chain is not None:
                        early.append((statement, imported, level, chain))
                        break
            if not early:
                continue
            fix = self._fix(project, module, path, setup, [s for s, _, _, _ in early])
            for statement, imported, level, chain in early:
                what = "." * level + imported if level else imported
                names = [self._dotted(index, c) for c in chain]
                # name the modules as the import does: strip what lies above the imported package
                if names and not level and names[0].endswith(what):
                    prefix = names[0][: len(names[0]) - len(what)]
                    names = [n[len(prefix):] if prefix and n.startswith(prefix) else n for n in names]
                reached = "Django models" if chain[-1] != "channels.auth" else "`channels.auth` (auth models)"
                route = " → ".join(dict.fromkeys([what] + names[1:]))
                via = f" via {route}" if len(chain) > 1 else ""
                callee = setup.setup_call[0].rsplit(".", 1)[-1] if setup.setup_call else "get_asgi_application"
                extra = auth_note if (chain[-1] == "channels.auth") else ""
                message = (f"`{short(what)}` is imported before `{callee}()` and reaches {reached}: "
                           f"AppRegistryNotReady")
                notes = (f"daphne and uvicorn raise it at startup{extra}",)
                document = project.documents.get(path)
                line_start = document.line_starts[statement.line - 1] if document is not None else statement.start
                document_span = _line_span(project, path, line_start, statement.end - 1) or \
                    Span(0, 0, statement.line, 1, statement.line, 1)
                severity = self.rule.severity if not auth_note or chain[-1] != "channels.auth" else "warning"
                yield self._finding(severity, message, path, document_span,
                                    fix if statement is early[0][0] else None,
                                    f"run `{callee}()` first, then import it (imported{via})" if via else
                                    f"run `{callee}()` first, then import it", notes)

    @staticmethod
    def _dotted(index: ProjectIndex, item: str) -> str:
        module = index.modules.get(item)
        return module.module if module is not None and module.module else item

    def _fix(self, project, module: WiringModule, path: str, setup, early) -> Optional[Fix]:
        document = project.documents.get(path)
        if document is None or setup.setup_call is None:
            return None
        callee, call_span, standalone = setup.setup_call
        first = early[0]
        statements = module.statements
        if standalone:
            # move the early imports (with their comments) to just after the setup statement
            moved_names = {name for s in early for name in s.binds}
            for statement in statements:
                if first.index <= statement.index <= setup.index and statement not in early:
                    if moved_names & set(statement.uses):
                        return None  # code between uses what would move below it
            pieces = []
            edits = []
            for statement in early:
                text = document.text[statement.start:statement.end]
                if not text.endswith("\n"):
                    text += "\n"
                if not statement.noqa:
                    body, newline = text.rstrip("\r\n"), text[len(text.rstrip("\r\n")):]
                    head, _, last = body.rpartition("\n")
                    if last.startswith(("from ", "import ")):  # a one-line import: mark it for sorters / E402
                        text = (head + "\n" if head else "") + last + "  # noqa: E402" + newline
                pieces.append(text)
                start, end = statement.start, statement.end
                before = document.text[:start]
                if (not before or before.endswith(("\n\n", "\r\n\r\n"))) and \
                        document.text[end:end + 1] in ("\n", "\r"):
                    end += 2 if document.text[end:end + 2] == "\r\n" else 1  # no double blank line left behind
                edits.append(Edit(path, document.span(start, end), ""))
            tail = document.text[setup.start:setup.end]
            at = setup.end
            moved = "".join(pieces)
            if not tail.endswith("\n"):
                moved = "\n" + moved
            edits.append(Edit(path, document.span(at, at), moved))
            return Fix("unsafe", f"import it after {callee}()", tuple(edits))
        # the call is nested in a bigger statement: run it first, under a name
        if not callee.endswith("get_asgi_application") or "django_asgi_app" in module.bindings:
            return None
        local = callee.split(".")[0]
        binding = module.bindings.get(local)
        if binding is None or binding.line >= first.line:
            return None
        for statement in statements:
            if statement.kind == "environ" and statement.index > first.index:
                return None  # the settings module is chosen after the early import: by hand
        if document.text[call_span.start:call_span.end].count("(") != 1:
            return None  # arguments
        at = first.start
        return Fix("unsafe", "call get_asgi_application() before the imports", (
            Edit(path, document.span(at, at), f"django_asgi_app = {document.text[call_span.start:call_span.end]}\n"),
            Edit(path, call_span, "django_asgi_app"),
        ))


# -- AFX405 -------------------------------------------------------------------------

class AsgiModuleMistakes(_WiringMatcher):
    """AFX405: an asgi.py that cannot start: ``get_asgi_application`` never imported, ``application()``
    called on itself, a ``DJANGO_SETTINGS_MODULE`` that is no module of the project."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        index = project_index(project)
        if index is None:
            return
        for path, module in index.modules.items():
            for call in module.calls:
                if call.name == "get_asgi_application" and "get_asgi_application" not in module.bindings:
                    yield self._unimported(project, path, module, call)
                    break
            for span in module.self_call_assign:
                yield self._finding(self.rule.severity,
                                    "`application = application()` calls the ASGI application at import time",
                                    path, span, None, "assign the application itself: `application = ...`")
            if module.is_asgi_module:
                yield from self._settings_module(project, index, path, module)

    def _unimported(self, project, path, module, call) -> Finding:
        document = project.documents.get(path)
        fix = None
        channels = self._channels(project)
        if document is not None and django_all_at_least(project, channels, "3.0") is True:
            first_import = _first_from_import(module)
            at = document.line_starts[first_import.line - 1] if first_import else 0
            if first_import is None:
                return self._finding(self.rule.severity, "`get_asgi_application` is called but never imported",
                                     path, call.span, None, "add `from django.core.asgi import get_asgi_application`")
            fix = Fix("safe", "import get_asgi_application",
                      (Edit(path, document.span(at, at), "from django.core.asgi import get_asgi_application\n"),))
        return self._finding(self.rule.severity,
                             "`get_asgi_application` is called but never imported: NameError at startup",
                             path, call.span, fix, "add `from django.core.asgi import get_asgi_application`")

    def _settings_module(self, project, index, path, module) -> Iterator[Finding]:
        for statement in module.statements:
            if statement.settings_module is None:
                continue
            value, span = statement.settings_module
            if not value or index.module_file(path, value, 0) is not None:
                continue
            disk = project.paths.get(path)
            if disk is None or _unimportable(disk):
                continue
            if not _module_on_disk(disk, value):
                yield self._finding("warning", f"DJANGO_SETTINGS_MODULE names `{short(value)}`, no module of this "
                                               f"project: ImproperlyConfigured at startup", path, span, None,
                                    "name the settings module as it is imported from the project root")


def _module_on_disk(disk: str, dotted: str) -> bool:
    """Whether module ``dotted`` is a file beside ``disk`` or in one of the three directories above it
    (where ``manage.py`` puts the project on ``sys.path``)."""
    import os

    parts = dotted.split(".")
    directory = os.path.dirname(os.path.abspath(disk))
    for _ in range(4):
        base = os.path.join(directory, *parts)
        if os.path.isfile(base + ".py") or os.path.isfile(os.path.join(base, "__init__.py")):
            return True
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return False


def _documentation(project: ProjectModel, path: str) -> bool:
    """A module under ``docs/`` or ``doc/`` of the project: settings for building the documentation,
    never served. Only the part below the install set's home counts (the project may live in ~/docs)."""
    home = project.install_set.home if project.install_set is not None else None
    if home and path.startswith(home + "/"):
        path = path[len(home) + 1:]
    return any(part.lower() in ("docs", "doc") for part in path.split("/")[:-1])


def _unimportable(disk: str) -> bool:
    """A module in a directory no import can name, inside a package (``cfehome/old-settings/asgi.py``):
    kept for reference, run by nothing."""
    import os

    directory = os.path.dirname(os.path.abspath(disk))
    for _ in range(8):
        parent = os.path.dirname(directory)
        if parent == directory:
            return False
        if not os.path.basename(directory).isidentifier() and os.path.isfile(os.path.join(parent, "__init__.py")):
            return True
        directory = parent
    return False


# -- AFX406 -------------------------------------------------------------------------

class DaphneRunserver(_WiringMatcher):
    """AFX406: Channels 4's runserver is daphne's: ``"daphne"`` must be in INSTALLED_APPS before staticfiles."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        index, channels = self._judged(project)
        if index is None:
            return
        websockets = any(("websocket" in r.keys) for m in index.modules.values() for r in m.protocol_routers)
        for path, module in index.modules.items():
            if module.installed_apps is None:
                continue
            entries, list_span = module.installed_apps
            names = [name for name, _ in entries]
            if "daphne" in names:
                yield from self._order(project, path, entries)
                continue
            if "channels" not in names or not websockets or module.installed_apps_extended:
                continue
            if _documentation(project, path):
                continue  # docs/conf.py's settings for a Sphinx build: no runserver runs them
            without, with_ = channels.split(lambda v: v not in having("channels.runserver"))
            if not without:
                continue
            daphne = versions_of(project, "daphne", used=False)
            declared = daphne.known and daphne.how != "unpinned"
            broken_daphne = [v for v in daphne.versions if v not in having("daphne.runserver")]
            severity = self.rule.severity if not with_ else "warning"
            message = (f"`\"daphne\"` is not in INSTALLED_APPS: `runserver` serves no websockets (404) under "
                       f"{channels.describe(without)}")
            fix = None
            if not with_ and not (declared and len(broken_daphne) == len(daphne.versions)):
                fix = self._insert_first(project, path, entries, declared and not broken_daphne)
            if not declared:
                hint = "add \"daphne\" first in INSTALLED_APPS and declare `daphne` (AFX103 adds it)"
            elif len(broken_daphne) == len(daphne.versions):
                hint = (f"require daphne>=4.0 (not 4.1.1), then add \"daphne\" first: {daphne.describe()} "
                        f"ships no runserver command")
            elif broken_daphne:
                hint = (f"add \"daphne\" first; daphne {', '.join(broken_daphne)} ships no runserver command: "
                        f"avoid {'it' if len(broken_daphne) == 1 else 'them'}")
            else:
                hint = "add \"daphne\" first in INSTALLED_APPS"
            yield self._finding(severity, message, path, entries[0][1], fix, hint)

    def _insert_first(self, project, path, entries, safe: bool) -> Optional[Fix]:
        document = project.documents.get(path)
        if document is None or not entries:
            return None
        first = entries[0][1]
        quote = document.text[first.start]
        line_text = document.line_text(first.line)
        before = line_text[: first.column - 1]
        if before.strip() in ("", "["):
            if before.strip() == "":
                insertion = f"{quote}daphne{quote},\n{before}"
            else:
                insertion = f"{quote}daphne{quote}, "
        else:
            insertion = f"{quote}daphne{quote}, "
        return Fix("safe" if safe else "unsafe", "put \"daphne\" first in INSTALLED_APPS",
                   (Edit(path, _insert(first, at_end=False), insertion),))

    def _order(self, project, path, entries) -> Iterator[Finding]:
        names = [name for name, _ in entries]
        if "django.contrib.staticfiles" not in names:
            return
        if names.index("daphne") < names.index("django.contrib.staticfiles"):
            return
        daphne = versions_of(project, "daphne")
        if not daphne.known:
            return
        checked, unchecked = daphne.split(lambda v: v in having("daphne.E001"))
        if not checked:
            return
        daphne_span = entries[names.index("daphne")][1]
        message = "`\"daphne\"` comes after `django.contrib.staticfiles`: daphne.E001 stops every manage.py command"
        fix = None
        document = project.documents.get(path)
        if document is not None and not unchecked:
            line = document.line_text(daphne_span.line)
            if line.strip().rstrip(",") in ('"daphne"', "'daphne'") and line.strip().endswith(","):
                start = document.line_starts[daphne_span.line - 1]
                end = document.line_starts[daphne_span.line] if daphne_span.line < len(document.line_starts) \
                    else len(document.text)
                static = entries[names.index("django.contrib.staticfiles")][1]
                static_line = document.line_starts[static.line - 1]
                if document.line_text(static.line).strip().startswith(("'django.contrib.staticfiles'",
                                                                        '"django.contrib.staticfiles"')):
                    fix = Fix("safe", "move \"daphne\" before django.contrib.staticfiles", (
                        Edit(path, document.span(start, end), ""),
                        Edit(path, document.span(static_line, static_line), document.text[start:end]),
                    ))
        yield self._finding(self.rule.severity if not unchecked else "warning", message, path, daphne_span, fix,
                            "list \"daphne\" before \"django.contrib.staticfiles\" (the top is simplest)")


# -- AFX407 -------------------------------------------------------------------------

class AsgiApplicationSetting(_WiringMatcher):
    """AFX407: ``ASGI_APPLICATION`` naming the WSGI application, or a module/name the project lacks;
    an ASGI application under a WSGI server; daphne options the allowed daphne releases removed."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        index = project_index(project)
        if index is None:
            return
        yield from self._servers(project, index)
        for path, module in index.modules.items():
            setting = module.settings.get("ASGI_APPLICATION")
            if setting is None:
                continue
            value, span = setting
            target, _, name = value.rpartition(".")
            wsgi = module.settings.get("WSGI_APPLICATION")
            if target.endswith("wsgi") or (wsgi is not None and wsgi[0] == value):
                yield self._finding(self.rule.severity, f"ASGI_APPLICATION names `{value}`, the WSGI application: "
                                                        f"TypeError on the first request", path, span, None,
                                    "point it at the ASGI application (usually `<project>.asgi.application`)")
                continue
            file = index.module_file(path, target, 0)
            if file is None:
                # Not a module this run read: on disk it may still be (one the prefilter skipped).
                # A missing module of a package the project has is certain; elsewhere it may be installed.
                disk = project.paths.get(path)
                package = target.partition(".")[0]
                if disk is not None and target and not _unimportable(disk) and not _module_on_disk(disk, target) \
                        and _module_on_disk(disk, package):
                    yield self._finding(self.rule.severity, f"ASGI_APPLICATION names `{short(value)}`, a module the "
                                                            f"project lacks: ImportError at startup",
                                        path, span, None, "name the module that defines the application "
                                                          "(usually `<project>.asgi.application`)")
                continue
            if name not in index.modules[file].bindings:
                yield self._finding(self.rule.severity, f"ASGI_APPLICATION names `{value}`, but `{target}` defines "
                                                        f"no `{name}`", path, span, None,
                                    f"define `{name}` in {file}, or name the attribute it defines")


    def _servers(self, project, index) -> Iterator[Finding]:
        daphne: Optional[Versions] = None
        for path, server_file in index.servers.items():
            for command in server_file.commands:
                module = command.application.partition(":")[0]
                if command.server == "gunicorn":
                    if not module.endswith("asgi"):
                        continue
                    options = command.options
                    if any(o in ("-k", "-c", "--config") or o.startswith(("--worker-class", "-k", "--config="))
                           for o in options):
                        continue  # a worker class, or a configuration file that may name one
                    yield self._finding(self.rule.severity, f"gunicorn serves `{command.application}` with its "
                                                            f"WSGI workers: TypeError on every request",
                                        path, command.span, None,
                                        "add `-k uvicorn.workers.UvicornWorker` (or run daphne/uvicorn)")
                    continue
                if daphne is None:
                    daphne = versions_of(project, "daphne")
                if not daphne.known:
                    continue
                for option in command.options:
                    flag = option.split("=", 1)[0]
                    fact = f"daphne.option.{flag}"
                    try:
                        accepting = having(fact)
                    except KeyError:
                        continue
                    gone, kept = daphne.split(lambda v: v not in accepting)
                    if not gone:
                        continue
                    severity = self.rule.severity if not kept else "warning"
                    yield self._finding(severity, f"daphne {flag} was removed: {daphne.describe(gone)} fails with "
                                                  f"`unrecognized arguments`", path, command.span, None,
                                        f"drop {flag} (daphne 3+ detects the ASGI version; subprotocols are "
                                        f"chosen in the consumer)")


# -- AFX408 -------------------------------------------------------------------------

class Asgi2Middleware(_WiringMatcher):
    """AFX408: ASGI-2 middleware (``def __call__(self, scope)``) under Channels 3+."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        index, channels = self._judged(project)
        if index is None:
            return
        asgi3, asgi2 = channels.split(lambda v: v in having("channels.asgi3_middleware"))
        if not asgi3:
            return
        for path, module in index.modules.items():
            for info in module.classes.values():
                if info.call_params != ("scope",) or info.call_is_async:
                    continue
                wraps = info.init_params is not None and info.init_params[:1] in (("inner",), ("app",),
                                                                                  ("application",))
                middleware_base = False
                for base in info.bases:
                    resolved = index.resolve(path, base)
                    if resolved is not None and resolved.kind == "external" and \
                            resolved.dotted.startswith("channels.middleware."):
                        middleware_base = True
                if not (wraps or middleware_base):
                    continue
                severity = self.rule.severity if not asgi2 else "warning"
                message = (f"`{short(info.name, 30)}.__call__(self, scope)` is ASGI 2 middleware: "
                           f"{channels.describe(asgi3)} passes three arguments")
                yield self._finding(severity, message, path, info.span, None,
                                    "make it `async def __call__(self, scope, receive, send)` returning "
                                    "`await self.inner(scope, receive, send)`")


# -- AFX409 -------------------------------------------------------------------------

class DjangoUrlRoute(_WiringMatcher):
    """AFX409: ``django.conf.urls.url()`` (removed in Django 4.0) → ``django.urls.re_path()``."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        index = project_index(project)
        if index is None:
            return
        django = versions_of(project, "django")
        if not django.known:
            return
        removed_in, _ = django_boundary("django.conf.urls.url")
        gone, kept = django.split(lambda v: _newer_or_equal(v, removed_in))
        if not gone:
            return
        for path, module in index.modules.items():
            # Websocket routing only (a routing module, or one that uses Channels' routers): Django's
            # own urls.py files are Django's upgrade, not the ASGI stack's (django-upgrade fixes them).
            if "routing" not in path.rsplit("/", 1)[-1] and not any(
                    (getattr(b, "module", None) or "").startswith("channels") for b in module.bindings.values()):
                continue
            binding = module.bindings.get("url")
            local = "url"
            if binding is None or binding.kind != "from" or binding.module != "django.conf.urls" or \
                    binding.name != "url":
                found = [(n, b) for n, b in module.bindings.items()
                         if b.kind == "from" and b.module == "django.conf.urls" and b.name == "url"]
                if not found:
                    continue
                local, binding = found[0]
            statement = next((s for s in module.statements if s.kind == "import" and s.line == binding.line), None)
            document = project.documents.get(path)
            span = document.span(statement.start, statement.end - 1) if (statement and document) else \
                Span(0, 0, binding.line, 1, binding.line, 1)
            fix = None
            if document is not None and statement is not None and local == "url" and len(statement.imports) == 1 \
                    and "re_path" not in module.bindings:
                old = "from django.conf.urls import url"
                at = document.text.find(old, statement.start, statement.end)
                if at >= 0:
                    edits = [Edit(path, document.span(at, at + len(old)), "from django.urls import re_path")]
                    edits += [Edit(path, call.span, "re_path") for call in module.calls if call.name == "url"]
                    uses = document.text.count("url(") - document.text.count("_url(") - \
                        document.text.count(".url(")
                    if uses == len(edits) - 1:
                        fix = Fix("safe", "use django.urls.re_path", tuple(edits))
            severity = self.rule.severity if not kept else "warning"
            where = django.describe(gone)
            message = f"`django.conf.urls.url` is gone in {where}: ImportError when the routing is imported"
            yield self._finding(severity, message, path, span, fix,
                                "use `django.urls.re_path` (the same regex routes; it exists since Django 2.0)")


# -- AFX310 -------------------------------------------------------------------------

class KnownBadCombination(ProjectMatcher):
    """AFX310: releases that install together but break together (``[[combination]]`` in wiring.toml)."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        if not project.declarations:
            return
        backends = {layer.backend_value for facts in project.facts.get("channel-layers", ())
                    for layer in facts.value.layers}
        for combination in wiring_data().get("combination", ()):
            needed = combination.get("backends")
            if needed and not any(b.startswith(tuple(needed)) for b in backends):
                continue  # the broken code path is a layer the project does not configure
            ranges = combination["versions"]
            hits: dict[str, tuple[list[str], bool]] = {}
            for package, intervals in ranges.items():
                releases = wiring_data()["releases"][package]
                bad = _expand(intervals, releases)
                allowed = project.allowed_versions(package)
                if not allowed:
                    break
                inside = [v for v in allowed if v in bad]
                if not inside:
                    break
                hits[package] = (inside, len(inside) == len(allowed))
            else:
                yield from self._report(project, combination, hits)

    def _report(self, project, combination, hits) -> Iterator[Finding]:
        declared = [d for package in hits for d in project.declarations
                    if d.name == package and not d.locked and not d.constraint]
        if not declared:
            return
        from ..compat import intended_specifier

        if any(not d.specifier and intended_specifier(d) for d in declared):
            return  # a malformed line (AFX101's finding) is read for its intent: judge it once it parses
        where = declared[0]
        certain = all(every for _, every in hits.values())
        if not certain:
            # A range that merely can install the bad releases: pip installs the newest, which is
            # not one of them (6 of 6 such findings on the corpus were wrong).
            return
        pins = ", ".join(f"{p} {v[0] if len(v) == 1 else v[0] + '–' + v[-1]}" for p, (v, _) in sorted(hits.items()))
        severity = combination["severity"]
        message = f"{pins}: {combination['summary']}"
        document = project.documents.get(where.path)
        if document is not None and where.end > where.start:
            span = document.span(where.start, where.end)
        else:
            span = Span(0, 0, where.line, 1, where.line, 1)
        yield Finding(self.rule.code, severity, message, where.path, span, None, combination["fix"],
                      notes=(combination["reason"],))
