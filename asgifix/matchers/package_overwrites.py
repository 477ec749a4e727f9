"""AFX105: declared packages whose releases install the same top-level module.

Which release installs which top-level import names is data, read from the files
pip installs (``rules/data/release_facts.json``: each wheel's file list, or the
sdist's ``top_level.txt``). pip does not check for such clashes: the package it
installs last overwrites the other's files, and uninstalling one removes files the
other still needs. The best-known case is ``django-channels`` (a notification
library) next to ``channels`` (Django Channels): both install ``channels/``.
"""

from __future__ import annotations

from typing import Iterator, Optional

from ._text import short
from ..model import Finding, Span
from ..project import Declaration, ProjectModel
from . import ProjectMatcher


def _span(project: ProjectModel, declaration: Declaration) -> Span:
    document = project.documents.get(declaration.path)
    if document is not None and declaration.end > declaration.start:
        return document.span(declaration.start, declaration.end)
    return Span(declaration.start, declaration.end, declaration.line, 1, declaration.line, 1)


def _describe(declaration: Declaration) -> str:
    return (declaration.text or declaration.name).strip() or declaration.name


class PackageOverwritesModule(ProjectMatcher):
    facts = ("django-wiring",)

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        declarations = [d for d in project.declarations if d.name and not d.constraint]
        if not declarations:
            return
        from .. import knowledge

        try:
            knowledge.packages_shipping("channels")
        except (OSError, KeyError, ValueError):
            return  # release data not installed: nothing to judge with
        ignore = set(self.params.get("ignore-modules", []))
        # One declaration per package: the first outside a lock file, else the first.
        chosen: dict[str, Declaration] = {}
        for d in sorted(declarations, key=lambda d: d.locked):
            chosen.setdefault(d.name, d)
        # Cheap first pass: only packages some of whose releases share a top-level module.
        shared: dict[str, set[str]] = {}
        for name in chosen:
            for module in knowledge.top_level_modules(name, include_namespace=False):
                if module not in ignore and len(knowledge.packages_shipping(module)) > 1:
                    shared.setdefault(name, set()).add(module)
        if not shared:
            return
        allowed = {name: self._allowed(knowledge, chosen[name]) for name in shared}
        modules = {name: {m for v in allowed[name]
                          for m in knowledge.top_level_modules(name, v, include_namespace=False)} & shared[name]
                   for name in shared}
        imports = self._imports(project)
        by_module: dict[str, list[str]] = {}
        for name in sorted(modules, key=lambda n: (chosen[n].path, chosen[n].line)):
            for module in sorted(modules[name]):
                by_module.setdefault(module, []).append(name)
        for module, names in sorted(by_module.items()):
            if len(names) >= 2:
                yield from self._clash(project, knowledge, module, names, chosen, allowed, imports)
            else:
                finding = self._alone(project, knowledge, module, names[0], chosen, allowed, imports)
                if finding is not None:
                    yield finding

    # -- data ---------------------------------------------------------------------------
    @staticmethod
    def _allowed(knowledge, declaration: Declaration) -> list[str]:
        """Recorded releases the declaration allows (all of them when it has no specifier)."""
        releases = knowledge.releases_of(declaration.name)
        if not declaration.specifier:
            return releases
        from ..compat import can_agree

        return [v for v in releases if can_agree(f"=={v}", declaration.specifier)]

    @staticmethod
    def _imports(project: ProjectModel) -> list[tuple[str, str, int]]:
        """(dotted module, path, line) of every import and CHANNEL_LAYERS backend the code names."""
        found = []
        for facts in project.facts.get("django-wiring", []):
            for wiring in facts.value:
                if wiring.how == "imported":
                    found.append((wiring.text, facts.path, wiring.span.line))
                elif wiring.how == "as a CHANNEL_LAYERS BACKEND" and "." in wiring.text:
                    found.append((wiring.text.rsplit(".", 1)[0], facts.path, wiring.span.line))
        return sorted(found, key=lambda item: (item[1], item[2]))

    @staticmethod
    def _shipped(knowledge, name: str, module: str, versions: list[str]) -> Optional[set[str]]:
        """Dotted modules under ``module`` that some allowed release of ``name`` installs."""
        out: set[str] = set()
        for v in versions:
            listed = knowledge.submodules_shipped(name, module, v)
            if listed is None:
                return None
            out.update(listed)
        return out

    def _missing_import(self, knowledge, name: str, module: str, versions: list[str],
                        imports: list[tuple[str, str, int]]) -> Optional[tuple[str, str, int]]:
        """The first import under ``module`` that no allowed release of ``name`` installs but
        another recorded package does (so a typo is not blamed on the package)."""
        shipped = self._shipped(knowledge, name, module, versions)
        if shipped is None:
            return None
        others = [p for p in knowledge.packages_shipping(module) if p != name]
        for dotted, path, line in imports:
            if not dotted.startswith(module + ".") or dotted in shipped:
                continue
            if any(dotted in (knowledge.submodules_shipped(p, module) or ()) for p in others):
                return dotted, path, line
        return None

    # -- findings ----------------------------------------------------------------------
    def _clash(self, project, knowledge, module, names, chosen, allowed, imports) -> Iterator[Finding]:
        """Two or more declared packages install ``module``: report the one the code does not use."""
        broken: dict[str, tuple[str, str, int]] = {}
        for name in names:
            missing = self._missing_import(knowledge, name, module, allowed[name], imports)
            if missing is not None:
                broken[name] = missing
        # The package whose files would break the code's imports is the one to report; when the
        # code tells nothing apart, the later declaration.
        culprits = [n for n in names if n in broken] or names[1:]
        for name in culprits:
            others = [n for n in names if n != name]
            other = others[0]
            declaration = chosen[name]
            message = (f"`{short(_describe(declaration), 30)}` and `{short(_describe(chosen[other]), 30)}` both "
                       f"install `{module}/`: the one installed last overwrites the other")
            notes: tuple[str, ...] = ()
            if name in broken:
                dotted, path, line = broken[name]
                notes = (f"{name} is a different project with its own `{module}/`; installed after {other} it "
                         f"replaces it, and `import {dotted}` at {path}:{line} fails with \"No module named "
                         f"'{dotted}'\"",)
                hint = (f"remove {name}, then reinstall {other}: "
                        f"pip uninstall -y {name} {other} && pip install {other}")
            else:
                hint = (f"keep only the one the code means: uninstalling either also deletes the shared "
                        f"`{module}/` files, so reinstall the one you keep "
                        f"(pip uninstall -y {' '.join(names)} && pip install <the one you keep>)")
            yield Finding(self.rule.code, self.rule.severity, message, declaration.path,
                          _span(project, declaration), None, hint, notes=notes)

    def _alone(self, project, knowledge, module, name, chosen, allowed, imports) -> Optional[Finding]:
        """``name`` alone installs ``module``, but the code imports modules of another package's ``module``."""
        missing = self._missing_import(knowledge, name, module, allowed[name], imports)
        if missing is None:
            return None
        dotted, path, line = missing
        owners = [p for p in knowledge.packages_shipping(module) if p != name
                  and dotted in (knowledge.submodules_shipped(p, module) or ())]
        if not owners:
            return None
        owner = owners[0]
        declaration = chosen[name]
        message = (f"`{short(_describe(declaration), 30)}` installs its own `{module}` package, not the one from {owner}: "
                   f"`import {short(dotted, 30)}` fails")
        notes = (f"`import {dotted}` at {path}:{line} fails with \"No module named '{dotted}'\"",)
        hint = (f"{name} is a different project from {owner}; declare {owner} instead, and if both were "
                f"installed, reinstall it (pip uninstall -y {name} {owner} && pip install {owner})")
        return Finding(self.rule.code, self.rule.severity, message, declaration.path,
                       _span(project, declaration), None, hint, notes=notes)
