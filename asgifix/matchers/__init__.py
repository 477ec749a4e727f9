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

# matcher name -> "module:Class" (relative to this package)
REGISTRY: dict[str, str] = {
    "malformed-requirement": "malformed_requirement:MalformedRequirement",
    "obsolete-package": "obsolete_package:ObsoletePackage",
    "undeclared-package": "undeclared_package:UndeclaredPackage",
    "broken-include": "broken_include:BrokenInclude",
    "asgiref-name": "asgiref_api:AsgirefNameMatcher",
    "asgiref-signature": "asgiref_api:AsgirefSignatureMatcher",
    "async-to-sync-in-coroutine": "async_usage:AsyncToSyncInCoroutine",
    "version-conflict": "version_conflict:VersionConflict",
}

# Fact collectors: cheap per-file extractors whose results project matchers
# judge together with the project's pins. Each runs at most once per file,
# however many rules need it. name -> ("module:function", bytes needles).
COLLECTORS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "asgiref-usage": ("asgiref_api:collect_asgiref_usage", (b"asgiref",)),
    # imports, INSTALLED_APPS entries and CHANNEL_LAYERS backends (AFX103)
    "django-wiring": ("undeclared_package:collect_wiring", (b"channels", b"daphne", b"CHANNEL_LAYERS")),
}


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


class FileFacts:
    """What a collector found in one file, with the text of the lines it refers to
    (so findings made later from it can show the line and honour ``# noqa``)."""

    __slots__ = ("path", "value", "lines")

    def __init__(self, path: str, value: Any, lines: dict[int, str]):
        self.path = path
        self.value = value
        self.lines = lines


def collector(name: str):
    target, needles = COLLECTORS[name]
    module_name, function_name = target.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, function_name), needles


def matcher_class(name: str) -> type:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise UnknownMatcher(f"no matcher named {name!r} (known: {', '.join(sorted(REGISTRY))})") from None
    module_name, class_name = target.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, class_name)
