"""AFX201/AFX202: code that uses asgiref names or arguments the allowed asgiref releases lack.

Per file, :func:`collect_asgiref_usage` records what the code references (cheap:
only files containing ``asgiref`` get here). Once the whole project is read,
the matchers judge those references against the asgiref releases the project's
pins allow (or ``--target-asgiref``), using the API history extracted from
every released asgiref (``rules/data/asgiref_api.json``).
"""

from __future__ import annotations

from typing import Iterator, Optional

from .. import knowledge
from ..names import names_of
from ..asgiref_scope import AsgirefScope, pinned_scope, project_scope, release_runs, span_text
from ..model import Finding, Fix, Span
from ..project import ProjectModel
from ..sources.python_asgiref import AsgirefUsage, Call, Reference, asgiref_usage
from . import FileFacts, ProjectMatcher


def collect_asgiref_usage(parsed) -> Optional[tuple[AsgirefUsage, set[int]]]:
    if getattr(parsed, "tree", None) is None:
        return None  # not Python (a rule that also reads declaration files asked for it)
    usage = asgiref_usage(parsed.document, parsed.tree, names_of(parsed))
    if not usage.references and not usage.calls:
        return None
    lines = {r.line for r in usage.references} | {r.end_line for r in usage.references}
    lines |= {c.line for c in usage.calls} | {c.end_line for c in usage.calls}
    return usage, lines


def _span(item) -> Span:
    # Offsets are not needed for findings without fixes; positions are exact.
    return Span(0, 0, item.line, item.column, item.end_line, item.end_column)


def split_dotted(dotted: str) -> tuple[Optional[str], list[str]]:
    """(module, rest): the longest prefix that is an asgiref module in any release."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        if knowledge.module_exists_anywhere(module):
            return module, parts[cut:]
    return None, parts[1:]


def _runs(versions: list[str], releases: list[str]) -> str:
    return release_runs(versions, releases)


def _expand(intervals, releases: list[str]) -> list[str]:
    """Releases inside inclusive ``[[first, last], ...]`` intervals over the release order."""
    index = {release: position for position, release in enumerate(releases)}
    expanded = []
    for first, last in intervals:
        expanded.extend(releases[index[first]: index[last] + 1])
    return expanded


class _AsgirefMatcher(ProjectMatcher):
    def _usages(self, project: ProjectModel) -> Iterator[tuple[str, AsgirefUsage]]:
        for facts in project.facts.get("asgiref-usage", ()):
            assert isinstance(facts, FileFacts)
            yield facts.path, facts.value

    def _severity(self, guarded: bool, everywhere: bool) -> str:
        if guarded:
            return "info"
        return self.rule.severity if everywhere else "warning"


class AsgirefNameMatcher(_AsgirefMatcher):
    """AFX201: a module or name that does not exist in the allowed asgiref releases."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        usages = list(self._usages(project))
        if not usages:
            return
        scope = project_scope(project, self.context.target_asgiref)
        successors: dict = self.params.get("successors", {})
        # A verdict depends on the name and whether a fallback guards it, not on where it is.
        verdicts: dict[tuple[str, bool], Optional[tuple[str, str, str]]] = {}
        for path, usage in usages:
            seen: set[tuple[str, int]] = set()
            for reference in usage.references:
                key = (reference.dotted, reference.line)
                if key in seen:
                    continue
                seen.add(key)
                shape = (reference.dotted, reference.guarded)
                if shape not in verdicts:
                    verdicts[shape] = self._judge(reference, scope, successors)
                verdict = verdicts[shape]
                if verdict is not None:
                    severity, message, hint, notes = verdict
                    yield Finding(self.rule.code, severity, message, path, _span(reference), None, hint, notes=notes)

    def _judge(self, reference: Reference, scope: AsgirefScope, successors: dict) -> Optional[tuple]:
        """``(severity, message, hint, notes)`` when the reference names something the allowed releases lack."""
        module, rest = split_dotted(reference.dotted)
        releases = knowledge.asgiref_releases()
        if module is None:
            return self._verdict(reference, f"`{reference.dotted}`: no asgiref release has this module",
                                 "check the spelling; `asgifix explain AFX201` lists where names moved", True)
        name = rest[0] if rest else None
        member = rest[1] if len(rest) > 1 else None
        label = module if name is None else f"{module}.{name}" if member is None else f"{module}.{name}.{member}"
        present = knowledge.versions_having(module, name, member) if name else knowledge.versions_having(module)
        if member is not None and not present:
            # Attributes set at run time are not in the release data: judge the class instead.
            if knowledge.versions_having(module, name):
                label, member = f"{module}.{name}", None
                present = knowledge.versions_having(module, name)
        if not present:
            where = f"module {module}" if name else "asgiref"
            return self._verdict(reference, f"`{label}`: no asgiref release defines it in {where}",
                                 "check the spelling; see the asgiref changelog", True)
        deprecation = knowledge.deprecation_of(module, name) if name and member is None else None
        if deprecation:
            # still importable (with a DeprecationWarning) from `deprecated` until `removed`
            start = releases.index(deprecation["deprecated"])
            stop = releases.index(deprecation["removed"]) if deprecation.get("removed") else len(releases)
            present = sorted(set(present) | set(releases[start:stop]), key=releases.index)
        allowed = list(scope.versions)
        missing = [v for v in allowed if v not in set(present)]
        if not missing:
            return None
        everywhere = len(missing) == len(allowed)
        first, last = present[0], present[-1]
        index = {release: position for position, release in enumerate(releases)}
        successor = successors.get(label) or successors.get(module)
        notes = [scope.reason]
        if all(index.get(v, -1) > index[last] for v in missing):
            removed_in = releases[index[last] + 1] if index[last] + 1 < len(releases) else "a later release"
            if everywhere:
                message = f"`{label}` is gone since asgiref {removed_in}: the import fails on the project's asgiref"
            else:
                message = f"`{label}` is gone since asgiref {removed_in}: the import fails on some allowed releases"
                notes.append(f"the pins allow {span_text(missing)} without it")
            if deprecation:
                notes.append(f"deprecated in asgiref {deprecation['deprecated']}, last importable in {last}")
            else:
                notes.append(f"last shipped in asgiref {last}")
            hint = successor or f"pin asgiref<={last}, or stop using `{label}`"
            if deprecation and deprecation.get("replacement"):
                new_module, _, new_name = deprecation["replacement"].partition(":")
                hint = (f"use `{new_module}.{new_name}` (asgiref {deprecation['deprecated']} and later) "
                        f"instead")
        elif all(index.get(v, len(releases)) < index[first] for v in missing):
            too_old = scope.pins_without(set(present)) if scope.disagree else []
            if too_old:
                message = f"`{label}` was added in asgiref {first}: the import fails on an older asgiref pin"
                notes = [f"{', '.join(too_old)} {'is' if len(too_old) == 1 else 'are'} too old",
                         "the project's asgiref pins disagree with each other"]
                everywhere = True  # installing from that pin fails
            elif everywhere:
                message = f"`{label}` was added in asgiref {first}: the import fails on the project's older asgiref"
            else:
                message = f"`{label}` was added in asgiref {first}: the import fails on older releases the pins allow"
                notes.append(f"the pins also allow the older {span_text(missing)}")
            hint = f"require asgiref>={first}"
        else:
            message = f"`{label}` is missing from some asgiref releases the pins allow: the import fails there"
            notes += [f"only asgiref {_runs(present, releases)} have it",
                      f"the pins allow {span_text(missing)} without it"]
            hint = successor or f"pin asgiref to a release that has `{label}`"
        if reference.guarded:
            notes.append("imported under try/except ImportError, so the code has a fallback")
        return self._verdict(reference, message, hint, everywhere, tuple(notes))

    def _verdict(self, reference: Reference, message: str, hint: str, everywhere: bool,
                 notes: tuple[str, ...] = ()) -> tuple:
        return self._severity(reference.guarded, everywhere), message, hint, notes


class AsgirefSignatureMatcher(_AsgirefMatcher):
    """AFX202: arguments the allowed asgiref releases do not accept, and defaults that change."""

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        usages = list(self._usages(project))
        if not usages:
            return
        scope = project_scope(project, self.context.target_asgiref)
        pinned = pinned_scope(project) if scope.target else scope
        releases = knowledge.asgiref_releases()
        # A verdict depends on the callable and the call's shape, not on where it is:
        # a project calls sync_to_async(f) in many places, judged once.
        verdicts: dict[tuple, list[tuple[str, str, str]]] = {}
        for path, usage in usages:
            for call in usage.calls:
                shape = (call.dotted, call.positional, call.keywords, call.has_star_args, call.has_star_kwargs,
                         call.literals)
                judged = verdicts.get(shape)
                if judged is None:
                    judged = verdicts[shape] = self._judge(call, scope, pinned, releases)
                for severity, message, hint, recipe, notes in judged:
                    fix = _call_fix(project.documents.get(path), call, recipe) if recipe else None
                    yield Finding(self.rule.code, severity, message, path, _span(call), fix, hint, notes=notes)

    def _judge(self, call: Call, scope, pinned, releases) -> list[tuple[str, str, str, Optional[tuple]]]:
        """``(severity, message, hint, recipe)`` for each problem of a call of this shape; the recipe says
        how to fix it wherever a call of this shape is (see :func:`_call_fix`), or is None."""
        module, rest = split_dotted(call.dotted)
        if module is None or not rest:
            return []
        qualname = ".".join(rest)
        if not knowledge.signature_history(module, qualname):
            return []
        return [*self._arguments(call, module, qualname, scope, releases),
                *self._executor(call, module, qualname, scope, releases),
                *self._defaults(call, module, qualname, scope, pinned, releases)]

    def _executor(self, call, module, qualname, scope, releases) -> Iterator[tuple]:
        """``executor=`` with ``thread_sensitive`` true (given, or by default): a TypeError from the
        release of behaviour.toml's "sync-to-async-executor-excludes-thread-sensitive" on."""
        if "executor" not in call.keywords or call.has_star_kwargs or dict(call.literals).get("executor") == "None":
            return
        changes = [c for c in knowledge.behaviour_changes(module, qualname.split(".")[0])
                   if c["id"] == "sync-to-async-executor-excludes-thread-sensitive"]
        if not changes:
            return
        since = releases.index(changes[0]["version"]) if changes[0]["version"] in releases else len(releases)
        given = dict(call.literals).get("thread_sensitive")
        if "thread_sensitive" in call.keywords and given is None:
            return  # a computed value: cannot tell
        if given is not None and given != "True":
            return
        failing = []
        for version in scope.versions:
            if releases.index(version) < since:
                continue
            if given is None:
                params = knowledge.signature_in(module, qualname, version) or []
                default = next((p.default for p in params if p.name == "thread_sensitive"), None)
                if default != "True":
                    continue
            failing.append(version)
        if not failing:
            return
        everywhere = len(failing) == len(scope.versions)
        how = "by default" if given is None else "given"
        message = (f"`{qualname}(...)` with `executor=` and thread_sensitive=True {how}: TypeError on asgiref "
                   f"{_runs(failing, releases)}")
        recipe = ("explicit", "thread_sensitive", "False") if given is None and not call.decorator else None
        yield (self._severity(False, everywhere), message,
               "pass thread_sensitive=False with executor= (the executor runs the function)", recipe,
               (scope.reason,))

    def _rejects(self, call: Call, params) -> Optional[str]:
        """Why a release with ``params`` rejects the call, or None."""
        names = {p.name for p in params if p.kind != "positional-only"}
        has_var_keyword = any(p.kind == "var-keyword" for p in params)
        for keyword in call.keywords:
            if keyword not in names and not has_var_keyword:
                return f"keyword `{keyword}`"
        if not call.has_star_args and not call.has_star_kwargs and not call.decorator:
            slots = [p for p in params if p.kind in ("positional-only", "positional-or-keyword")
                     and p.name not in ("self", "cls")]
            for index, param in enumerate(slots):
                # A required parameter (no default) the call leaves out: CurrentThreadExecutor() on 3.9.0+.
                if param.default is None and index >= call.positional and param.name not in call.keywords:
                    return f"no `{param.name}` argument"
        if not call.has_star_args and not any(p.kind == "var-positional" for p in params):
            positional = [p for p in params if p.kind in ("positional-only", "positional-or-keyword")
                          and p.name not in ("self", "cls")]
            if call.positional > len(positional):
                return f"{call.positional} positional arguments"
        return None

    def _arguments(self, call, module, qualname, scope, releases) -> Iterator[tuple[str, str, str]]:
        rejected: dict[str, list[str]] = {}
        for version in scope.versions:
            params = knowledge.signature_in(module, qualname, version)
            if params is None:
                continue  # a missing name is AFX201's finding
            reason = self._rejects(call, params)
            if reason:
                rejected.setdefault(reason, []).append(version)
        for reason, versions in rejected.items():
            everywhere = len(versions) == len(scope.versions)
            accepting = [v for v in releases
                         if (p := knowledge.signature_in(module, qualname, v)) is not None
                         and self._rejects(call, p) is None]
            where = f"accepted in asgiref {_runs(accepting, releases)}" if accepting else "accepted by no release"
            message = f"`{qualname}(...)` with {reason}: TypeError on asgiref {_runs(versions, releases)}"
            notes = (where, scope.reason)
            newer = accepting and releases.index(accepting[0]) > releases.index(versions[-1])
            if newer:
                hint = f"require asgiref>={accepting[0]}"
            elif "positional" in reason:
                hint = "pass the later arguments by keyword" + self._keyword_only_since(module, qualname, releases)
            elif reason.startswith("no `"):
                hint = f"pass {reason[4:-10]}= (required since asgiref {versions[0]})"
            else:
                hint = "drop the argument, or pin an asgiref release that accepts it"
            recipe = None
            if "positional" in reason and accepting and not newer:
                recipe = self._keyword_recipe(call, module, qualname, scope, accepting[-1])
            yield self._severity(False, everywhere), message, hint, recipe, notes

    @staticmethod
    def _keyword_recipe(call, module, qualname, scope, accepting: str) -> Optional[tuple]:
        """("keywords", first index, names): name the positional arguments past what every allowed
        release takes positionally, with the names a release that took them positionally gives them."""
        old = [p.name for p in knowledge.signature_in(module, qualname, accepting) or []
               if p.kind in ("positional-only", "positional-or-keyword") and p.name not in ("self", "cls")]
        limit = len(old)
        for version in scope.versions:
            params = knowledge.signature_in(module, qualname, version)
            if params is None:
                return None
            slots = [p for p in params if p.kind in ("positional-only", "positional-or-keyword")
                     and p.name not in ("self", "cls")]
            limit = min(limit, len(slots))
            accepted = {p.name for p in params if p.kind in ("positional-or-keyword", "keyword-only")}
            if any(name not in accepted for name in old[limit: call.positional]):
                return None
        names = tuple(old[limit: call.positional])
        if not names or len(call.arguments) < call.positional:
            return None
        return ("keywords", limit, names)

    @staticmethod
    def _keyword_only_since(module: str, qualname: str, releases: list[str]) -> str:
        for version in releases:
            params = knowledge.signature_in(module, qualname, version) or []
            keyword_only = [p.name for p in params if p.kind == "keyword-only"]
            if keyword_only:
                return f" ({', '.join(keyword_only)} keyword-only since asgiref {version})"
        return ""

    def _defaults(self, call, module, qualname, scope, pinned, releases) -> Iterator[tuple[str, str, str]]:
        """A parameter the call leaves out whose default differs across the releases in play."""
        in_play = sorted(set(scope.versions) | set(pinned.versions), key=releases.index)
        if len(in_play) < 2:
            return
        params = knowledge.signature_in(module, qualname, in_play[-1]) or []
        positional_slots = [p.name for p in params if p.kind in ("positional-only", "positional-or-keyword")]
        passed = set(call.keywords) | set(positional_slots[: call.positional])
        in_play_set = set(in_play)
        for param in params:
            if param.name in passed or call.has_star_kwargs or param.default is None:
                continue
            defaults: dict[str, list[str]] = {}
            for intervals, default in knowledge.param_default_history(module, qualname, param.name):
                for release in _expand(intervals, releases):
                    if release in in_play_set and default is not None:
                        defaults.setdefault(default, []).append(release)
            if len(defaults) < 2:
                continue
            described = "; ".join(f"{default} in asgiref {_runs(versions, releases)}"
                                  for default, versions in defaults.items())
            context = (f"the pins allow {pinned.describe()}, and the target is {scope.describe()}"
                       if scope.target else scope.reason)
            message = (f"`{qualname}(...)` relies on the default of `{param.name}`, which differs between the "
                       f"asgiref releases in play")
            notes = (f"the default is {described}", context)
            hint = f"pass {param.name}= explicitly to keep one behaviour"
            # The fix writes the default of the newest release in play: the code then behaves under every
            # release in play as it will after the upgrade (thread_sensitive=True is what ORM code needs;
            # the old parallel behaviour is right only for code that touches no database, a human call).
            kept = next((d for d, versions in defaults.items() if in_play[-1] in versions), None)
            recipe = ("explicit", param.name, kept) if kept is not None and not call.decorator else None
            yield "warning", message, hint, recipe, notes


def _call_fix(document, call: Call, recipe: tuple) -> Optional[Fix]:
    """The edits a recipe of :meth:`AsgirefSignatureMatcher._judge` makes on one call."""
    if document is None:
        return None
    from ..codemod import insert_edit

    if recipe[0] == "keywords":
        _, first, names = recipe
        edits = tuple(insert_edit(document, document.offset(*call.arguments[first + index]), f"{name}=")
                      for index, name in enumerate(names))
        return Fix("safe", f"pass {', '.join(names)} by keyword", edits)
    if recipe[0] == "explicit":
        _, name, value = recipe
        end = document.offset(call.end_line, call.end_column) - 1
        text = document.text
        if end < 0 or text[end] != ")":
            return None
        before = end - 1
        while before >= 0 and text[before] in " \t\r\n":
            before -= 1
        separator = "" if text[before] in "(," else ", "
        return Fix("unsafe", f"pass {name}={value} explicitly",
                   (insert_edit(document, end, f"{separator}{name}={value}"),))
    return None


def changes_between(project: ProjectModel, old: list[str], new: str, limit: int = 3) -> str:
    """What the code of ``project`` relies on that moving from the ``old`` releases to ``new`` changes.

    A name every old release has and ``new`` lacks, and a parameter the code leaves to its
    default where the default differs; "" when the move is transparent to the code.
    """
    releases = knowledge.asgiref_releases()
    crossed: list[str] = []
    seen: set[str] = set()
    for facts in project.facts.get("asgiref-usage", ()):
        usage = facts.value
        for reference in usage.references:
            module, rest = split_dotted(reference.dotted)
            if module is None:
                continue
            name = rest[0] if rest else None
            label = module if name is None else f"{module}.{name}"
            present = set(knowledge.versions_having(module, name) if name else knowledge.versions_having(module))
            if label not in seen and all(v in present for v in old) and new not in present:
                seen.add(label)
                crossed.append(f"`{label}` ({facts.path}:{reference.line}) is not in asgiref {new}")
        for call in usage.calls:
            module, rest = split_dotted(call.dotted)
            if module is None or not rest or call.has_star_kwargs:
                continue
            qualname = ".".join(rest)
            params = knowledge.signature_in(module, qualname, new) or []
            positional = [p.name for p in params if p.kind in ("positional-only", "positional-or-keyword")]
            passed = set(call.keywords) | set(positional[: call.positional])
            for param in params:
                if param.name in passed or param.default is None:
                    continue
                defaults: dict[str, set] = {}
                for intervals, default in knowledge.param_default_history(module, qualname, param.name):
                    for release in _expand(intervals, releases):
                        if release in old or release == new:
                            defaults.setdefault(str(default), set()).add(release)
                new_default = next((d for d, where in defaults.items() if new in where), None)
                old_defaults = {d for d, where in defaults.items() if where & set(old)}
                key = f"{qualname}.{param.name}"
                if new_default is not None and old_defaults - {new_default} and key not in seen:
                    seen.add(key)
                    crossed.append(f"`{qualname}(...)` ({facts.path}:{call.line}) leaves `{param.name}` to its "
                                   f"default, which becomes {new_default}")
    return "; ".join(crossed[:limit]) + (f" and {len(crossed) - limit} more" if len(crossed) > limit else "")
