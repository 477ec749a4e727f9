"""AFX103: a package the code clearly uses (import, INSTALLED_APPS, CHANNEL_LAYERS) that nothing declares.

Two halves. Per Python file (cheap: a bytes prefilter, then stdlib ``ast``),
:meth:`UndeclaredPackage.facts` records each use as a ``package-use`` fact.
Once every file is read, :meth:`check_project` compares the uses with the
project's declarations and reports each undeclared package once, at its
first use, with a fix that declares it in the project's main declaration
file, in that file's format.
"""

from __future__ import annotations

import ast
import posixpath
import re
from ..records import dataclass
from typing import Iterator, Optional

from .. import sources
from ..compat import can_agree, choose, project_constraints
from ..model import Edit, Finding, Fix, Span
from ..project import ProjectModel
from ..sources.declared import canonical_name
from ..sources.pruning import StatementText, walk
from . import ProjectMatcher


@dataclass(frozen=True)
class Wiring:
    """One place code names a package: an import, an INSTALLED_APPS entry, a CHANNEL_LAYERS backend."""

    how: str  # "imported", "in INSTALLED_APPS", "as a CHANNEL_LAYERS BACKEND", "run as the server"
    text: str  # what was written: "channels.layers", "daphne", "channels_redis.core.RedisChannelLayer"
    span: Span


@dataclass(frozen=True)
class PackageUse:
    package: str  # canonical name
    path: str
    span: Span
    how: str
    text: str


def _strings(node: ast.AST) -> Iterator[ast.Constant]:
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield child


def _target_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    else:
        return []
    names = []
    for target in targets:
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, ast.Attribute):
            names.append(target.attr)  # settings.INSTALLED_APPS = ...
    return names


INSTALLED = "installed by a command"  # Wiring.how of `pip install NAME` in a Dockerfile, script, ...
# ASGI servers whose start commands are collected from server configuration files;
# which of them a rule cares about is its data ("commands").
ASGI_SERVERS = ("daphne", "uvicorn", "hypercorn")


def collect_wiring(parsed) -> Optional[tuple[list[Wiring], set[int]]]:
    """Collector (see matchers.COLLECTORS): every import, INSTALLED_APPS string and layer BACKEND of a module,
    and every command that starts an ASGI server in a Procfile, Dockerfile, script, ...

    Which of them name which package is the rule's data, applied in check_project.
    """
    from ..sources.server_config import ServerConfig, installed_packages, server_commands

    if isinstance(parsed, ServerConfig):
        document = parsed.document
        started = [Wiring("run as the server", command.text, document.span(command.start, command.end))
                   for command in server_commands(parsed, ASGI_SERVERS)]
        # A package the same files install (RUN pip install daphne) is not undeclared.
        started += [Wiring(INSTALLED, canonical_name(name), document.span(start, end))
                    for name, start, end, _ in installed_packages(parsed)]
        return (started, {w.span.line for w in started}) if started else None
    if getattr(parsed, "tree", None) is None:
        return None  # not Python (a rule that also reads declaration files asked for it)

    from ..sources.setup_py import char_offset

    document = parsed.document
    found: list[Wiring] = []

    def span_of(node: ast.AST) -> Span:
        start = char_offset(document, node.lineno, node.col_offset)
        end = char_offset(document, node.end_lineno, node.end_col_offset)
        return document.span(start, end)

    def apps(value: Optional[ast.AST]) -> None:
        if value is not None:
            for constant in _strings(value):
                found.append(Wiring("in INSTALLED_APPS", constant.value, span_of(constant)))

    # Only statements spelling one of these can hold an import or an assignment looked at here.
    for node in walk(parsed.tree, StatementText.of(document), ("import", "INSTALLED_APPS", "CHANNEL_LAYERS")):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Wiring("imported", alias.name, span_of(node)))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(Wiring("imported", node.module, span_of(node)))
        names = _target_names(node)
        if "INSTALLED_APPS" in names:
            apps(node.value)
        if "CHANNEL_LAYERS" in names and node.value is not None:
            for child in ast.walk(node.value):
                if isinstance(child, ast.Dict):
                    for key, item in zip(child.keys, child.values):
                        if (isinstance(key, ast.Constant) and key.value == "BACKEND"
                                and isinstance(item, ast.Constant) and isinstance(item.value, str)):
                            found.append(Wiring("as a CHANNEL_LAYERS BACKEND", item.value, span_of(item)))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("append", "insert", "extend")
                and (getattr(node.func.value, "id", None) or getattr(node.func.value, "attr", None)) == "INSTALLED_APPS"):
            for argument in node.args:
                apps(argument)
    if not found:
        return None
    return found, {w.span.line for w in found}


def package_uses(path: str, wiring: list[Wiring], packages: list[dict]) -> list[PackageUse]:
    """The wiring entries that name one of ``packages`` (the rule's data)."""
    uses = []
    for entry in wiring:
        if entry.how == INSTALLED:
            continue
        for row in packages:
            package = canonical_name(row["package"])
            top = entry.text.split(".")[0]
            if entry.how == "imported":
                hit = top in row.get("modules", [])
            elif entry.how == "in INSTALLED_APPS":
                # "channels", or an AppConfig path such as "daphne.apps.DaphneConfig"
                hit = top in row.get("installed-apps", []) and (entry.text == top or entry.text.startswith(top + ".apps."))
            elif entry.how == "run as the server":
                hit = entry.text.split()[0] in row.get("commands", [])  # "daphne -b 0.0.0.0 chat.asgi:application"
            else:
                hit = any(entry.text.startswith(prefix) for prefix in row.get("backend-prefixes", []))
            if hit:
                uses.append(PackageUse(package, path, entry.span, entry.how, entry.text))
                break
    return uses


class UndeclaredPackage(ProjectMatcher):
    # -- whole project ---------------------------------------------------------------------
    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        packages = self.params.get("packages", [])
        uses: list[PackageUse] = []
        from ..engine import noqa_codes

        for file_facts in project.facts.get("django-wiring", []):
            for use in package_uses(file_facts.path, file_facts.value, packages):
                # A "# noqa: AFX103" silences that use only; another use still reports the package.
                codes = noqa_codes(file_facts.lines.get(use.span.line, ""))
                if codes is None or (codes and self.rule.code not in codes):
                    uses.append(use)
        if not uses or not _has_declaration_files(project):
            return  # no dependency file at all (a code-only subset): nowhere it could have been declared
        own_names = {canonical_name(n) for n in project.facts.get("project-name", []) if isinstance(n, str)}
        # Installed by the files that build the environment (RUN pip install daphne): not undeclared.
        own_names |= {entry.text for facts in project.facts.get("django-wiring", []) for entry in facts.value
                      if entry.how == INSTALLED}
        first: dict[str, list[PackageUse]] = {}
        for use in sorted(uses, key=lambda u: (u.path, u.span.line, u.span.column)):
            first.setdefault(use.package, []).append(use)
        rows = {canonical_name(p["package"]): p for p in self.params.get("packages", [])}
        for package, its_uses in sorted(first.items()):
            if package in own_names or self._declared(project, package, rows.get(package, {})):
                continue
            yield self._finding(project, package, its_uses, rows.get(package, {}))

    @staticmethod
    def _declared(project: ProjectModel, package: str, row: dict) -> bool:
        providers = row.get("provided-by", [])
        # An environment installed from a lock file alone (a Pipfile.lock without its Pipfile):
        # what the lock pins is what is installed.
        lock_only = bool(project.declarations) and all(d.locked for d in project.declarations)
        # Another environment of the same project (requirements-test.txt beside requirements.txt)
        # that declares it: the package is declared, this file is an add-on or a variant.
        peers = {id(d) for d in project.peer_declarations}
        for declaration in [*project.declarations, *project.peer_declarations]:
            if (declaration.locked and (not lock_only or id(declaration) in peers)) or declaration.constraint:
                continue
            if declaration.name == package:
                return True
            if _unknown_extra_brings(declaration, package):
                return True
            for provider in providers:
                if declaration.name != canonical_name(provider["package"]):
                    continue
                if provider.get("extra") and provider["extra"] not in declaration.extras:
                    continue
                below = provider.get("below")
                if below and (not declaration.specifier or can_agree(declaration.specifier, f">={below}")):
                    continue  # newer releases of the provider no longer bring the package along
                return True
        return False

    def _finding(self, project: ProjectModel, package: str, uses: list[PackageUse], row: dict) -> Finding:
        use = uses[0]
        more = f" (and {len(uses) - 1} more place{'s' if len(uses) > 2 else ''})" if len(uses) > 1 else ""
        failure = (f"{use.text.split()[0]}: command not found" if use.how == "run as the server"
                   else f"No module named '{package.replace('-', '_')}'")
        message = f"`{package}` is used but declared nowhere: a fresh install fails with \"{failure}\""
        notes = (f"{use.how}: `{use.text}`{more}", "no dependency file of the project declares it")
        predecessor = next((d for d in project.declarations if not d.locked and d.name in
                            {canonical_name(p) for p in row.get("predecessors", [])}), None)
        if predecessor is not None:
            # The old package is declared: replacing it (AFX102's fix) declares this one; adding it
            # here as well would declare it twice.
            hint = (f"{predecessor.path} declares its Channels 1 predecessor {predecessor.name}: replace that "
                    f"with {package} (AFX102 does)")
            return Finding(self.rule.code, self.rule.severity, message, use.path, use.span, None, hint, notes=notes)
        fix, hint = self._fix(project, package)
        return Finding(self.rule.code, self.rule.severity, message, use.path, use.span, fix, hint, notes=notes)

    def _fix(self, project: ProjectModel, package: str) -> tuple[Optional[Fix], str]:
        # With the peers' pins too: every peer environment then chooses the same release (one edit).
        from types import SimpleNamespace

        everyone = SimpleNamespace(declarations=[*project.declarations, *project.peer_declarations])
        constraints = project_constraints(everyone, self.context.target_asgiref)
        release, relaxed = choose(package, constraints, python=project.install_set.python_floor if project.install_set else None)
        version = None if self.context.pin_strategy == "unpin" or release is None else release.version
        for path in _main_files(project):
            document = project.documents[path]
            kind = _kind_of(project, path)
            module = sources.reader(kind)
            adder = getattr(module, "add_requirement", None) if module else None
            if adder is None:
                continue
            try:
                model = module.parse(document)
            except sources.SourceProblem:
                continue
            specifier = _specifier_for(kind, model, version)
            added = adder(model, package, specifier)
            if not added:
                continue
            where, edits = added
            shown = f"{package}{specifier}"
            message = f"Declare `{shown}` in {path}, in `{where}`" if "(" in where else \
                f"Declare `{shown}` in {path} ({where})"
            if version is None:
                message += "; no release with known requirements fits the project's pins, so it is unpinned: choose a version"
            elif relaxed:
                message += (f"; the project's {', '.join(relaxed)} pins contradict each other (see AFX3xx), "
                            f"so the version ignores them: review it")
            safety = "safe" if version and not relaxed else "unsafe"
            from .version_conflict import lock_command

            relock = lock_command(project, path, kind)
            if relock:
                safety = "unsafe"  # the lock file no longer matches until it is regenerated
                message += f"; then re-run {relock}"
            fix = Fix(safety, message, tuple(Edit(path, document.span(a, b), content) for a, b, content in edits))
            return fix, message
        return None, f"declare {package} in the project's dependencies (asgifix found no file it can add it to)"


def _unknown_extra_brings(declaration, package: str) -> bool:
    """``openwisp-utils[channels] @ URL``: an extra named after the package (or its family: ``channels``
    for ``channels-redis``) of a distribution whose metadata asgifix does not have may well bring it.
    What it brings cannot be known without that metadata, so the package is not called undeclared."""
    if not declaration.extras:
        return False
    from ..resolver import releases

    if releases(declaration.name):
        return False  # a distribution in the data: its extras are known (provided-by)
    for extra in declaration.extras:
        extra = canonical_name(extra)
        if package == extra or package.startswith(extra + "-"):
            return True
    return False


def _kind_of(project: ProjectModel, path: str) -> str:
    for declaration in project.declarations:
        if declaration.path == path:
            return declaration.source_kind
    from ..discovery import classify
    from pathlib import Path

    return classify(Path(path), explicit=True) or ""


def _specifier_for(kind: str, model, version: Optional[str]) -> str:
    """``==V`` where the file pins exactly (most requirements ``==``), else ``>=V``; "" without a version."""
    if not version:
        return ""
    if kind == "requirements":
        requirements = [e for e in model.entries if e.kind == "requirement"]
        exact = [e for e in requirements if e.specifier.startswith("==")]
        if requirements and len(exact) * 2 > len(requirements):
            return f"=={version}"
    return f">={version}"


# Files a new dependency goes to, best first (same depth): where the project declares what it needs.
_KIND_ORDER = {"pyproject": 0, "requirements": 1, "pipfile": 2, "setup-cfg": 3, "setup-py": 4}


def _main_files(project: ProjectModel) -> list[str]:
    from ..install_sets import is_add_on

    # A file is no place for a new requirement when everything it declares is
    # generated (pip-compile output) or a constraint (a -c file).
    by_path: dict[str, list] = {}
    for declaration in project.declarations:
        by_path.setdefault(declaration.path, []).append(declaration)
    generated = {p for p, ds in by_path.items() if all(d.generated for d in ds)}
    constraint = {p for p, ds in by_path.items() if all(d.constraint for d in ds)}
    candidates = []
    install_set = project.install_set
    # The set's own files, and those of its peers (the other environments of the same project
    # directory): every peer then proposes the same edit, made once.
    files = set(install_set.files).union(*(p.files for p in project.peers)) if install_set is not None else None
    entries = set(install_set.entries).union(*(p.entries for p in project.peers)) if install_set is not None else None
    for path in project.documents:
        if files is not None and path not in files:
            continue  # another environment's file: never written into
        kind = _kind_of(project, path)
        if kind not in _KIND_ORDER or path in generated or path in constraint:
            continue
        name = posixpath.basename(path).lower()
        # The set's entry files first (what is installed), then requirements.in / requirements.txt /
        # base before dev, test, docs variants.
        # (a dev/test entry that includes the base file is an add-on: the base is the place)
        entry = 0 if entries is None or (path in entries and not is_add_on(path)) else 1
        preference = 0 if name in ("requirements.in", "requirements.txt", "base.txt", "base.in") else 1
        candidates.append((path.count("/"), entry, _KIND_ORDER[kind], preference, path))
    return [path for *_, path in sorted(candidates)]


def _has_declaration_files(project: ProjectModel) -> bool:
    if any(not d.locked for d in project.declarations):
        return True
    for path, document in project.documents.items():
        kind = _kind_of(project, path)
        if kind in ("requirements", "setup-cfg", "setup-py", "pipfile"):
            return True
        # a pyproject.toml that declares a project, not one holding only tool settings
        if kind == "pyproject" and re.search(r"^\[(project|tool\.poetry)\b", document.text, re.MULTILINE):
            return True
    return False
