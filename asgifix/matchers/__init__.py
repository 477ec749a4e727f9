"""Matchers: the code behind each *kind* of known breakage.

A rule in ``rules/`` names its matcher and gives it parameters; one matcher can
serve many rules (every removed import is the same kind of check with other
data). Matchers are imported lazily by name so a run pays only for the kinds
of check it actually needs.

Two shapes exist:

* :class:`FileMatcher` looks at one parsed file at a time (``check_file``).
  ``needles`` is the bytes prefilter: a Python file that contains none of them
  is never parsed for this matcher.
* :class:`ProjectMatcher` looks at the whole project model after every file
  has been read (``check_project``): conflicts between pins in different files,
  a package used in code but declared nowhere.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Optional

if TYPE_CHECKING:  # pragma: no cover
    from ..catalogue import Rule
    from ..model import Finding
    from ..project import ProjectModel

class MatcherSpec:
    """Where a matcher lives and what the engine must know before importing it.

    ``shape`` is "file" (:class:`FileMatcher`), "project" (:class:`ProjectMatcher`) or
    "environment" (:class:`EnvironmentMatcher`, run by ``asgifix doctor`` only);
    ``needles`` is a file matcher's bytes prefilter; ``facts`` names the
    :data:`COLLECTORS` a project matcher reads. Kept here, as data, so that
    building an engine imports no matcher module: a run imports a matcher
    (and what it needs: the resolver, the knowledge data) only when it has
    something to check (tests/test_matchers_registry.py checks these against the classes).
    """

    __slots__ = ("target", "shape", "needles", "facts", "data_needles")

    def __init__(self, target: str, shape: str, needles: tuple[bytes, ...] = (), facts: tuple[str, ...] = (),
                 data_needles: tuple[tuple[str, str, str], ...] = ()):
        self.target = target
        self.shape = shape
        self.needles = needles
        self.facts = facts
        # (collector, table, key): params of the rule naming modules the matcher looks for in code
        # (``[[params.obsolete]] code-modules = [...]``); their top-level names are added to that
        # collector's needles (see rule_needles), so the prefilter lets through every file that
        # names them, whatever the rule's data grows to.
        self.data_needles = data_needles


# matcher name -> where it lives ("module:Class", relative to this package) and its shape
REGISTRY: dict[str, MatcherSpec] = {
    "malformed-requirement": MatcherSpec("malformed_requirement:MalformedRequirement", "file"),
    "obsolete-package": MatcherSpec("obsolete_package:ObsoletePackage", "project",
                                    facts=("django-wiring", "asgiref-usage"),
                                    data_needles=(("django-wiring", "obsolete", "code-modules"),
                                                  ("django-wiring", "obsolete", "code-backends"))),
    "undeclared-package": MatcherSpec("undeclared_package:UndeclaredPackage", "project", facts=("django-wiring",),
                                      data_needles=tuple(("django-wiring", "packages", key) for key in (
                                          "modules", "installed-apps", "backend-prefixes", "commands"))),
    "broken-include": MatcherSpec("broken_include:BrokenInclude", "project"),
    "asgiref-name": MatcherSpec("asgiref_api:AsgirefNameMatcher", "project", facts=("asgiref-usage",)),
    "asgiref-signature": MatcherSpec("asgiref_api:AsgirefSignatureMatcher", "project", facts=("asgiref-usage",)),
    "async-to-sync-in-coroutine": MatcherSpec("async_usage:AsyncToSyncInCoroutine", "file",
                                              needles=(b"async_to_sync", b"AsyncToSync")),
    # (asgiref-usage: a pin fix that crosses an asgiref change the code relies on is unsafe)
    "version-conflict": MatcherSpec("version_conflict:VersionConflict", "project", facts=("asgiref-usage",)),
    "python-conflict": MatcherSpec("version_conflict:PythonConflict", "project"),
    "package-overwrites-module": MatcherSpec("package_overwrites:PackageOverwritesModule", "project",
                                             facts=("django-wiring",)),
    "channel-layer-settings": MatcherSpec("channel_settings:ChannelLayerSettings", "project",
                                          facts=("channel-layers", "channels-wiring")),
    "channels1-api": MatcherSpec("channels1:Channels1Api", "project", facts=("channels1-usage",)),
    "moved-import": MatcherSpec("moves:MovedImport", "project", facts=("python-imports",)),
    "wrapped-callee-kind": MatcherSpec("wrapped_callee:WrappedCalleeKind", "project", facts=("wrapped-callees",)),
    # Channels/Django wiring (AFX4xx), all over the "channels-wiring" facts
    "consumer-without-as-asgi": MatcherSpec("wiring:ConsumerWithoutAsAsgi", "project", facts=("channels-wiring",)),
    "removed-channels-handler": MatcherSpec("wiring:RemovedChannelsHandler", "project", facts=("channels-wiring",)),
    "protocol-router-without-http": MatcherSpec("wiring:ProtocolRouterWithoutHttp", "project",
                                                facts=("channels-wiring",)),
    "asgi-import-order": MatcherSpec("wiring:AsgiImportOrder", "project", facts=("channels-wiring",)),
    "asgi-module-mistakes": MatcherSpec("wiring:AsgiModuleMistakes", "project", facts=("channels-wiring",)),
    "daphne-runserver": MatcherSpec("wiring:DaphneRunserver", "project", facts=("channels-wiring",)),
    "asgi-application-setting": MatcherSpec("wiring:AsgiApplicationSetting", "project", facts=("channels-wiring",)),
    "asgi2-middleware": MatcherSpec("wiring:Asgi2Middleware", "project", facts=("channels-wiring",)),
    "django-url-route": MatcherSpec("wiring:DjangoUrlRoute", "project", facts=("channels-wiring",)),
    "known-bad-combination": MatcherSpec("wiring:KnownBadCombination", "project", facts=("channel-layers",)),
    "unawaited-coroutine": MatcherSpec("unawaited:UnawaitedCoroutine", "file",
                                       needles=(b"channel_layer", b"sync_to_async", b"Consumer")),
    "sync-orm-in-coroutine": MatcherSpec("sync_orm:SyncOrmInCoroutine", "project", facts=("sync-orm",)),
    # (refined: see REFINEMENTS["AFX001"])
    "unknown-noqa-code": MatcherSpec("unknown_noqa:UnknownNoqaCode", "file", needles=(b"noqa", b"NOQA", b"NoQA")),
    # Installed environments (AFX6xx): judged by `asgifix doctor` from metadata files, never by the engine.
    "installed-requirement": MatcherSpec("installed:UnmetRequirement", "environment"),
    "installed-channels1": MatcherSpec("installed:Channels1Packages", "environment"),
    "installed-module-twice": MatcherSpec("installed:ModuleShippedTwice", "environment"),
    "installed-shadowed": MatcherSpec("installed:ShadowedCopies", "environment"),
}


class Refinement:
    """When a needle found in a file really means the file can matter (see :data:`REFINEMENTS`):
    every group of ``all_of`` has one of its words in the file's bytes, and the file's name
    (lower-cased) starts with ``name_prefix`` or contains ``name_has``, when given. Checked
    only for the files a needle let through."""

    __slots__ = ("all_of", "name_has", "name_prefix", "folded")

    def __init__(self, all_of: tuple[tuple[bytes, ...], ...] = (), name_has: Optional[str] = None,
                 name_prefix: Optional[str] = None, folded: Optional[bytes] = None):
        self.all_of = all_of
        self.name_has = name_has
        self.name_prefix = name_prefix
        self.folded = folded  # a lower-case word the file must hold in any case

    def holds(self, raw: bytes, name: str) -> bool:
        if self.name_has is not None and self.name_has not in name.lower():
            return False
        if self.name_prefix is not None and not name.lower().startswith(self.name_prefix):
            return False
        if self.folded is not None and self.folded not in raw.lower():
            return False
        for group in self.all_of:
            for word in group:
                if word in raw:
                    break
            else:
                return False
        return True


class Gate:
    """A matcher's or collector's prefilter: the file holds one of ``needles`` whose refinement
    (if it has one) holds. No needles: every file."""

    __slots__ = ("needles", "refinements")

    def __init__(self, needles: tuple[bytes, ...], refinements: Optional[dict[bytes, Refinement]] = None):
        self.needles = needles
        self.refinements = refinements or {}

    def admits(self, raw: bytes, name: str) -> bool:
        if not self.needles:
            return True
        refinements = self.refinements
        for needle in self.needles:
            if needle in raw:
                refinement = refinements.get(needle)
                if refinement is None or refinement.holds(raw, name):
                    return True
        return False


# Fact collectors: cheap per-file extractors whose results project matchers
# judge together with the project's pins. Each runs at most once per file,
# however many rules need it. name -> ("module:function", bytes needles).
COLLECTORS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "asgiref-usage": ("asgiref_api:collect_asgiref_usage", (b"asgiref",)),
    # imports, INSTALLED_APPS entries and CHANNEL_LAYERS backends (AFX103)
    # Django ORM calls in coroutines (AFX503)
    # (only a coroutine can misuse the ORM: a file without `async def` has nothing to report)
    "sync-orm": ("sync_orm:collect_sync_orm", (b"async def",)),
    "django-wiring": ("undeclared_package:collect_wiring", (b"channels", b"daphne", b"CHANNEL_LAYERS")),
    # imports from modules that moved (AFX203): the codemod layer's candidates
    "python-imports": ("moves:collect_imports", (b"asgiref", b"channels")),
    # Channels 1 APIs, Local subclasses, Channels 1 server commands (AFX205)
    "channels1-usage": ("channels1:collect_channels1", (b"channels", b"reply_channel", b"channel_session",
                                                         b"asgiref.local", b"runworker", b"channel_layer")),
    # sync_to_async(async def) / async_to_sync(plain def) of the same module (AFX206)
    "wrapped-callees": ("wrapped_callee:collect_wrapped_callees", (b"sync_to_async", b"async_to_sync",
                                                                   b"SyncToAsync", b"AsyncToSync")),
    # CHANNEL_LAYERS settings (AFX204), in any module that assigns it
    "channel-layers": ("channel_settings:collect_channel_layers", (b"CHANNEL_LAYERS",)),
    # AFX4xx: routing, consumers (and their bases in other modules), middleware, asgi.py, settings,
    # server commands. Model modules need not be read: an import of `models` is recognised by its name.
    "channels-wiring": ("wiring_facts:collect_channels_wiring",
                        (b"channels", b"Consumer", b"consumer", b"routing", b"get_asgi_application",
                         b"django.setup", b"INSTALLED_APPS", b"ASGI_APPLICATION", b"Communicator",
                         b"django.conf.urls", b"Middleware", b"gunicorn", b"daphne")),
}


def _load(target: str) -> Any:
    module_name, attribute = target.split(":")
    return getattr(importlib.import_module(f"{__name__}.{module_name}"), attribute)


class UnknownMatcher(Exception):
    pass


class RuleContext:
    """What a matcher may know about the run besides the file: settings and options."""

    def __init__(self, target_asgiref: Optional[str] = None, pin_strategy: str = "newest"):
        self.target_asgiref = target_asgiref
        self.pin_strategy = pin_strategy


class Matcher:
    needles: ClassVar[tuple[bytes, ...]] = ()

    def __init__(self, rule: "Rule", context: RuleContext):
        self.rule = rule
        self.context = context
        self.params: dict[str, Any] = rule.params


class FileMatcher(Matcher):
    def check_file(self, parsed: Any) -> Iterable["Finding"]:  # pragma: no cover - interface
        raise NotImplementedError


class ProjectMatcher(Matcher):
    # Names of COLLECTORS whose facts this matcher reads from project.facts.
    facts: ClassVar[tuple[str, ...]] = ()

    def check_project(self, project: "ProjectModel") -> Iterable["Finding"]:  # pragma: no cover
        raise NotImplementedError


class EnvironmentMatcher(Matcher):
    """Judges an installed environment (:class:`asgifix.sources.installed.InstalledEnvironment`)."""

    def check_environment(self, environment: Any) -> Iterable["Finding"]:  # pragma: no cover - interface
        raise NotImplementedError


class FileFacts:
    """What a collector found in one file, with the text of the lines it refers to
    (so findings made later from it can show the line and honour ``# noqa``)."""

    __slots__ = ("path", "value", "lines")

    def __init__(self, path: str, value: Any, lines: dict[int, str]):
        self.path = path
        self.value = value
        self.lines = lines


class LazyMatcher:
    """A rule's matcher, imported and built on its first check (see :class:`MatcherSpec`)."""

    __slots__ = ("rule", "context", "spec", "_matcher", "gate")

    def __init__(self, rule: "Rule", context: RuleContext, spec: MatcherSpec):
        self.rule = rule
        self.context = context
        self.spec = spec
        self._matcher: Optional[Matcher] = None
        self.gate = gate(spec.needles, rule.code)

    @property
    def needles(self) -> tuple[bytes, ...]:
        return self.spec.needles

    @property
    def facts(self) -> tuple[str, ...]:
        return self.spec.facts

    @property
    def is_project(self) -> bool:
        return self.spec.shape == "project"

    @property
    def is_environment(self) -> bool:
        return self.spec.shape == "environment"

    def matcher(self) -> Matcher:
        if self._matcher is None:
            self._matcher = _load(self.spec.target)(self.rule, self.context)
        return self._matcher

    def check_file(self, parsed: Any) -> Iterable["Finding"]:
        return self.matcher().check_file(parsed)

    def check_project(self, project: "ProjectModel") -> Iterable["Finding"]:
        return self.matcher().check_project(project)


class LazyCollector:
    """A collector function, imported on its first call."""

    __slots__ = ("target", "_function")

    def __init__(self, target: str):
        self.target = target
        self._function: Any = None

    def __call__(self, parsed: Any) -> Any:
        if self._function is None:
            self._function = _load(self.target)
        return self._function(parsed)


# Needles that admit a file to a collector only with more evidence: words that each site the
# collector records must spell, or the file name the rules require. A file whose only needles are
# refined ones that do not hold is not parsed for that collector. (Each entry says why that is exact.)
REFINEMENTS: dict[str, dict[bytes, Refinement]] = {
    # AFX001 judges only codes of asgifix's own (`AFX` and digits, in any case): a `# noqa` file
    # that spells no `afx` in any case holds no directive it could report.
    "AFX001": {needle: Refinement(folded=b"afx") for needle in (b"noqa", b"NOQA", b"NoQA")},
    # An ORM site (sync_orm._Finder) is a manager chain (`.objects`), a QuerySet from one, or
    # `.save()`/`.delete()`/`.refresh_from_db()` on an instance; it starts from a model: a name
    # from a models module, a class on `...Model`/`AbstractUser`/`AbstractBaseUser`, or
    # get_user_model() (sync_orm._models and _is_model).
    "sync-orm": {b"async def": Refinement(all_of=(
        (b"objects", b"save", b"delete", b"refresh_from_db"),
        (b"models", b"Model", b"AbstractUser", b"AbstractBaseUser", b"get_user_model")))},
    "channels-wiring": {
        # AFX406 reads INSTALLED_APPS only when it lists "channels" or "daphne" (needles of their
        # own): a settings module that names neither has nothing for the wiring rules.
        b"INSTALLED_APPS": Refinement(all_of=((b"channels", b"daphne"),)),
        # Middleware matters as ASGI middleware (AFX408: `__call__(self, scope)`; one an asgi.py
        # imports, AFX404): every ASGI middleware spells `scope`. Django's HTTP middleware and the
        # class paths of the MIDDLEWARE setting do not.
        b"Middleware": Refinement(all_of=((b"scope",),)),
        # django.setup() makes an ASGI entry module only in an asgi*.py (wiring_facts: is_asgi_module;
        # get_asgi_application() is a needle of its own); elsewhere it is a script's or a test's.
        b"django.setup": Refinement(name_prefix="asgi"),
        # AFX409 judges django.conf.urls.url only in a routing module or in one that imports from
        # channels (a needle of its own): Django's own urls.py files are django-upgrade's to fix.
        b"django.conf.urls": Refinement(name_has="routing"),
        # The word "routing" counts in a module that routes (Django's database routing does not):
        # one that builds a websocket route table or a Channels router.
        b"routing": Refinement(all_of=((b"websocket", b"URLRouter", b"ProtocolTypeRouter", b"ChannelNameRouter",
                                        b"channel_routing", b"route(", b"path(", b"url("),)),
    },
}


def gate(needles: tuple[bytes, ...], name: Optional[str] = None) -> Gate:
    """The gate of a collector, or of a rule's file matcher (by code), with its refinements."""
    return Gate(needles, REFINEMENTS.get(name, {}) if name else None)


def collector(name: str) -> tuple[LazyCollector, tuple[bytes, ...]]:
    target, needles = COLLECTORS[name]
    return LazyCollector(target), needles


def rule_needles(rule: "Rule", spec: MatcherSpec, collector_name: str) -> tuple[bytes, ...]:
    """The needles a rule's data adds to a collector's prefilter (see ``MatcherSpec.data_needles``):
    the top-level name of every module, backend or command its params name (``asgi_redis`` for
    ``asgi_redis.core.RedisChannelLayer``)."""
    found: set[bytes] = set()
    for name, table, key in spec.data_needles:
        if name != collector_name:
            continue
        entries = rule.params.get(table, ())
        for entry in entries if isinstance(entries, list) else (entries,):
            values = entry.get(key, ()) if isinstance(entry, dict) else ()
            for value in values if isinstance(values, list) else (values,):
                if isinstance(value, str):
                    top = value.split(".", 1)[0].strip()
                    if top:
                        found.add(top.encode("utf-8"))
    return tuple(sorted(found))


def matcher_spec(name: str) -> MatcherSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownMatcher(f"no matcher named {name!r} (known: {', '.join(sorted(REGISTRY))})") from None


def matcher_class(name: str) -> type:
    return _load(matcher_spec(name).target)


def lazy_matcher(rule: "Rule", context: RuleContext) -> LazyMatcher:
    return LazyMatcher(rule, context, matcher_spec(rule.matcher))
