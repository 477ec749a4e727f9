"""AFX203: imports of names that moved (rules/data/moves.toml), rewritten when the pins say so.

The collector (:func:`collect_imports`) keeps, per file, the import bindings of a moved module
(from :mod:`asgifix.names`: aliases, guards, ``TYPE_CHECKING``, stars) and the statements moved
names could be merged into. The matcher judges them per install set (:func:`asgifix.moves.verdict`)
and defers the rewrite to :mod:`asgifix.codemod`: libcst is imported only when a fix is applied or shown.
"""

from __future__ import annotations

from ..records import dataclass
from typing import Iterator, Optional

from .. import moves as catalogue
from ._text import short
from ..model import Finding, Fix, Span
from ..names import Binding, names_of
from ..project import ProjectModel
from . import FileFacts, ProjectMatcher


@dataclass(frozen=True)
class ModuleUse:
    """One ``m.Name`` (or ``old.module.Name``) use of a module import: the chain up to ``Name``
    (ast positions: 1-based lines, UTF-8 byte columns) and the source text it has."""

    name: str
    line: int
    column: int
    end_line: int
    end_column: int
    text: str


@dataclass(frozen=True)
class ModuleUses:
    """How a module import (``import old.module as m`` / ``import old.module``) is used in its file."""

    line: int  # the import statement's position (its binding's)
    column: int
    uses: tuple[ModuleUse, ...]
    blocked: str = ""  # why the uses cannot all be rewritten ("" when they can)
    clashes: tuple[str, ...] = ()  # names the file binds other than by import (parameters, assignments)
    unseen: tuple[str, ...] = ()  # names spelled ``m.Name`` where the syntax tree has no such use (strings)
    alone: bool = True  # the statement imports this module only (``import a.b``, not ``import a.b, os``)


@dataclass(frozen=True)
class ImportFacts:
    candidates: tuple[Binding, ...]  # bindings importing from a module some move leaves
    merge: tuple[tuple[str, Binding], ...]  # (module, first unconditional module-level from-import of it)
    keep_document: bool = True  # the engine keeps the file's document: a fix may edit it
    module_uses: tuple[ModuleUses, ...] = ()  # of each ``import`` candidate


def _module_uses(parsed, names, bindings: list[Binding]) -> tuple[ModuleUses, ...]:
    """The attribute uses of each module-import binding, and anything that makes rewriting them unsafe:
    a bare use of the module, a rebinding of its name, a use the ``ast`` cannot see (a string annotation
    or a comment spelling ``m.``), a use of another submodule through a name the rewrite would unbind."""
    import ast
    import re

    from ..names import dotted_parts

    tree = parsed.tree
    text = parsed.document.text
    parents: dict[int, ast.AST] = {}
    assigned: set[str] = set()
    loads: dict[str, list[ast.Name]] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                loads.setdefault(node.id, []).append(node)
            else:
                assigned.add(node.id)
        elif isinstance(node, ast.arg):
            assigned.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            assigned.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            assigned.update(node.names)
    import_lines = set()
    for binding in names.imports:
        import_lines.update(range(binding.line, binding.end_line + 1))
    lines = text.splitlines()
    found = []
    for binding in bindings:
        prefix = [binding.local] if binding.asname else binding.module.split(".")
        local = binding.local or ""
        blocked = ""
        uses = []
        others = 0
        if local in assigned:
            blocked = f"`{local}` is also assigned in this module"
        elif binding.asname and len(names.bindings.get(local, ())) > 1:
            blocked = f"`{local}` is bound by several imports"
        for name_node in loads.get(local, ()):
            chain: ast.AST = name_node
            while isinstance(parents.get(id(chain)), ast.Attribute):
                chain = parents[id(chain)]
            parts = dotted_parts(chain) or [local]
            if parts[: len(prefix)] != prefix:
                others += 1  # another submodule through the same top-level name
                continue
            if len(parts) == len(prefix):
                blocked = blocked or f"`{'.'.join(prefix)}` is used as a module object"
                continue
            node = name_node
            for _ in range(len(prefix)):
                node = parents[id(node)]
            start = (node.lineno, node.col_offset)
            end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
            if start[0] == end[0]:
                segment = lines[start[0] - 1].encode("utf-8", "surrogatepass")[start[1]:end[1]].decode(
                    "utf-8", "replace")
            else:
                segment = ""
            uses.append(ModuleUse(parts[len(prefix)], start[0], start[1], end[0], end[1], segment))
        if others and not binding.asname:
            # ``import asgiref.typing`` also lets ``asgiref.sync...`` work when another import binds asgiref:
            # only a module-level unconditional import of the same top-level name keeps it bound
            keeps = [b for b in names.bindings.get(local, ()) if b is not binding and not b.conditional
                     and not b.local_scope]
            if not keeps:
                blocked = blocked or f"`{local}` is used for other modules too"
        pattern = re.compile(r"(?<![\w.])" + re.escape(local) + r"\s*\.")
        seen = sum(1 for number, line_text in enumerate(lines, 1)
                   if number not in import_lines for _ in pattern.finditer(line_text))
        unseen: list[str] = []
        if seen != len(uses) + others:
            blocked = blocked or f"`{local}.` also appears in strings or comments"
            # the names it is spelled with there (a string annotation): they can still be reported
            named = re.compile(r"(?<![\w.])" + r"\s*\.\s*".join(map(re.escape, prefix)) + r"\s*\.\s*(\w+)")
            spelled = [m.group(1) for number, line_text in enumerate(lines, 1) if number not in import_lines
                       for m in named.finditer(line_text)]
            remaining = [u.name for u in uses]
            for name in spelled:
                if name in remaining:
                    remaining.remove(name)
                else:
                    unseen.append(name)
        clashes = set(assigned)
        clashes.update(other for other, bound in names.bindings.items()
                       if any(b.target.partition(".")[0] != other for b in bound))
        alone = sum(1 for other in names.imports
                    if other.kind == "import" and (other.line, other.column) == (binding.line, binding.column)) == 1
        found.append(ModuleUses(binding.line, binding.column, tuple(uses), blocked, tuple(sorted(clashes)),
                                tuple(dict.fromkeys(unseen)), alone))
    return tuple(found)


def collect_imports(parsed) -> Optional[tuple[ImportFacts, set[int]]]:
    if getattr(parsed, "tree", None) is None:
        return None
    names = names_of(parsed)
    old_modules = catalogue.old_modules("import")
    candidates = tuple(b for b in names.imports if b.module in old_modules and b.kind in ("from", "star", "import"))
    if not candidates:
        return None
    new_modules = {m.new_module for m in catalogue.moves_for("import").values()}
    merge: dict[str, Binding] = {}
    for binding in names.imports:
        if (binding.kind == "from" and binding.module in new_modules and not binding.conditional
                and not binding.local_scope and binding.module not in merge):
            merge[binding.module] = binding
    lines = {b.line for b in candidates} | {b.end_line for b in candidates}
    module_imports = [b for b in candidates if b.kind == "import"]
    uses = _module_uses(parsed, names, module_imports) if module_imports else ()
    return ImportFacts(candidates, tuple(merge.items()), module_uses=uses), lines


def _finding_span(document, binding: Binding) -> Span:
    if document is None:
        return Span(0, 0, binding.line, binding.column + 1, binding.end_line, binding.end_column + 1)
    from ..codemod import char_offset

    return document.span(char_offset(document, binding.line, binding.column),
                         char_offset(document, binding.end_line, binding.end_column))


def _statement(binding: Binding):
    from ..codemod import Statement

    return Statement(binding.line, binding.column, binding.end_line, binding.end_column)


# The rewrites are built when a fix is applied or shown (a check that only marks them [*] does not
# import the rewriting library): module-level functions, so a deferred fix pickles.
def _import_move_edits(document, statement, renames: tuple, targets: tuple):
    from ..codemod import import_move_edits

    return import_move_edits(document, statement, dict(renames), dict(targets))


def _module_import_edits(document, statement, old_module: str, new_module: str, use_edits: tuple):
    from ..codemod import module_import_edits

    found = module_import_edits(document, statement, old_module, new_module)
    return [*found, *use_edits] if found else None


class MovedImport(ProjectMatcher):
    """AFX203: an import of a name that moved, on pins where only the new place exists."""

    facts = ("python-imports",)

    def check_project(self, project: ProjectModel) -> Iterator[Finding]:
        table = catalogue.moves_for("import")
        verdicts: dict[str, catalogue.Verdict] = {}

        def judge(move: catalogue.Move) -> catalogue.Verdict:
            if move.old not in verdicts:
                verdicts[move.old] = catalogue.verdict(move, project.allowed_versions, project.pythons)
            return verdicts[move.old]

        for facts in project.facts.get("python-imports", ()):
            assert isinstance(facts, FileFacts)
            value: ImportFacts = facts.value
            statements: dict[tuple[int, int], list[Binding]] = {}
            for binding in value.candidates:
                statements.setdefault((binding.line, binding.column), []).append(binding)
            module_uses = {(u.line, u.column): u for u in value.module_uses}
            for key, bindings in statements.items():
                if bindings[0].kind == "import":
                    yield from self._module_import(project, facts.path, bindings, module_uses.get(key), table, judge)
                    continue
                yield from self._statement(project, facts.path, bindings, dict(value.merge), table, judge)

    def _module_import(self, project, path, bindings, uses: Optional[ModuleUses], table, judge) -> Iterator[Finding]:
        """``import old.module as m`` / ``import old.module``: rewritten with every ``m.Name`` use, or
        reported without a fix when a use cannot be rewritten safely."""
        first = bindings[0]
        if first.guarded or first.fallback or uses is None or len(bindings) != 1:
            return
        document = project.documents.get(path)
        span = _finding_span(document, first)
        used: dict[str, catalogue.Move] = {}
        for name in (*(u.name for u in uses.uses), *uses.unseen):
            move = table.get(f"{first.module}.{name}")
            if move is not None:
                used.setdefault(name, move)
        relevant = {name: (move, judge(move)) for name, move in used.items() if judge(move).state != "fine"}
        if not relevant:
            return  # no moved name is used through the module (or the pins keep the old place)
        straddling = [(m, v) for m, v in relevant.values() if v.state == "straddle"]
        for move, _ in straddling:
            since = catalogue.first_release(move.new_package, move.new)
            yield Finding(self.rule.code, "warning",
                          f"`{move.old_dotted}` moved to `{move.new_module}` in {move.new_package} {since}, and the "
                          f"pins allow both sides",
                          path, span, None, f"pin {move.old_package} to one side of the move, then run `asgifix fix`")
        rewritten = [m for m, v in relevant.values() if v.state == "rewrite"]
        if not rewritten:
            return
        new_modules = {m.new_module for m in rewritten}
        changes_module = any(m.new_module != first.module for m in rewritten)
        new_module = next(iter(new_modules))
        why = ""
        if straddling:
            why = "the pins straddle some of its names"
        elif uses.blocked:
            why = uses.blocked
        elif changes_module and (len(new_modules) != 1 or any(
                u.name not in used or relevant.get(u.name, (None, None))[1] is None
                or relevant[u.name][1].state != "rewrite" for u in uses.uses)):
            why = f"names that did not move to `{new_module}` are used through it"
        elif changes_module and not first.asname and new_module.partition(".")[0] != first.local \
                and new_module.partition(".")[0] in uses.clashes:
            why = f"`{new_module.partition('.')[0]}` is already bound to something else here"
        fix = None
        if not why and document is not None:
            fix = self._module_fix(document, first, uses, used, changes_module, new_module, rewritten)
            if fix is None:
                why = "a use is spelled over several lines"
        move = rewritten[0]
        others = f" (and {len(rewritten) - 1} more)" if len(rewritten) > 1 else ""
        last = catalogue.last_release(move.old_package, move.old)
        gone = f"is gone after {move.old_package} {last}" if last else f"is in no {move.old_package} release"
        where = (f"it is in `{short(move.new_module, 36)}`" if move.new_name == move.old_name
                 else f"it is `{short(move.new_dotted, 36)}`")
        message = f"`{short(move.old_dotted, 46)}`{others} {gone}: {where}"
        hint = "; ".join(dict.fromkeys(m.note for m in rewritten))
        if why:
            hint = f"not rewritten: {why}; use `{move.new_dotted}` by hand ({hint})"
        yield Finding(self.rule.code, self.rule.severity, message, path, span, fix, hint,
                      notes=tuple(f"`{m.old_dotted}` is now `{m.new_dotted}`" for m in rewritten))

    def _module_fix(self, document, binding: Binding, uses: ModuleUses, used, changes_module: bool,
                    new_module: str, rewritten) -> Optional[Fix]:
        from ..codemod import char_offset, replace_edit
        from ..model import Deferred

        if changes_module and not uses.alone:
            return None  # the import statement is rewritten whole: it must import this module only
        edits = []
        for use in uses.uses:
            move = used.get(use.name)
            if move is None or move not in rewritten:
                continue  # a name that stays (a pure rename within the module keeps the import)
            if binding.asname:
                expected, content = f"{binding.local}.{use.name}", f"{binding.local}.{move.new_name}"
            else:
                expected, content = f"{binding.module}.{use.name}", move.new_dotted
            if use.text != expected:
                return None
            if content != expected:
                start = char_offset(document, use.line, use.column)
                end = char_offset(document, use.end_line, use.end_column)
                edits.append(replace_edit(document, start, end, content))
        unsafe = any(m.applicability != "safe" for m in rewritten)
        applicability = "unsafe" if unsafe else "safe"
        message = f"use {', '.join(m.new_name for m in rewritten)} from `{new_module}`"
        if changes_module:
            # ``import old.module [as m]`` of a module-only statement: the rewrite is certain from the syntax tree
            build = Deferred(_module_import_edits, document, _statement(binding), binding.module, new_module,
                             tuple(edits))
            return Fix(applicability, message, build=build, paths=(document.display,))
        if not edits:
            return None
        return Fix(applicability, message, tuple(edits))

    def _statement(self, project, path, bindings, merge, table, judge) -> Iterator[Finding]:
        first = bindings[0]
        span = Span(0, 0, first.line, first.column + 1, first.end_line, first.end_column + 1)
        document = project.documents.get(path)
        if document is not None:
            from ..codemod import char_offset

            span = document.span(char_offset(document, first.line, first.column),
                                 char_offset(document, first.end_line, first.end_column))
        if first.guarded or first.fallback:
            return  # try/except ImportError: the code already handles both places
        if first.kind == "star":
            moved = [m for m in table.values() if m.old_module == first.module and judge(m).state != "fine"]
            if moved:
                yield Finding(self.rule.code, "warning",
                              f"`from {first.module} import *` takes names that moved, and star imports are not "
                              f"rewritten",
                              path, span, None,
                              f"import the names explicitly from {', '.join(sorted({m.new_module for m in moved}))}",
                              notes=(f"moved: {', '.join(m.old_name for m in moved)}",))
            return
        renames: dict[str, tuple[str, str]] = {}
        rewritten: list[catalogue.Move] = []
        straddling: list[tuple[catalogue.Move, catalogue.Verdict]] = []
        for binding in bindings:
            move = table.get(binding.target)
            if move is None:
                continue
            verdict = judge(move)
            if verdict.state == "rewrite":
                renames[binding.name or ""] = (move.new_module, move.new_name)
                rewritten.append(move)
            elif verdict.state == "straddle":
                straddling.append((move, verdict))
        for move, verdict in straddling:
            since = catalogue.first_release(move.new_package, move.new)
            yield Finding(self.rule.code, "warning",
                          f"`{move.old_dotted}` moved in {move.new_package} {since}, and the pins allow both sides "
                          f"of the move",
                          path, span, None, f"pin {move.old_package} to one side of the move, then run `asgifix fix`",
                          notes=(f"its new place is `{move.new_module}`",))
        if not rewritten:
            return
        fix = None
        if document is not None and first.level == 0:
            # The rewrite exists for an absolute ``from M import ...`` with a name to move (what the syntax
            # tree says here): it is built when it is applied or shown.
            from ..model import Deferred

            targets = tuple((module, _statement(b)) for module, b in merge.items())
            build = Deferred(_import_move_edits, document, _statement(first), tuple(renames.items()), targets)
            unsafe = any(m.applicability != "safe" for m in rewritten)
            fix = Fix("unsafe" if unsafe else "safe",
                      f"import {', '.join(m.new_name for m in rewritten)} from its new module",
                      build=build, paths=(document.display,))
        move = rewritten[0]
        others = f" (and {len(rewritten) - 1} more)" if len(rewritten) > 1 else ""
        if move.new_package == "python":
            message = (f"`{move.old_dotted}`{others} is deprecated (asgiref 3.13.0); every Python of the project "
                       f"has `{move.new_dotted}`")
            severity = "warning"
        else:
            last = catalogue.last_release(move.old_package, move.old)
            gone = f"is gone after {move.old_package} {last}" if last else f"is in no {move.old_package} release"
            message = f"`{move.old_dotted}`{others} {gone}: the import fails"
            severity = self.rule.severity
        hint = "; ".join(dict.fromkeys(m.note for m in rewritten))
        notes = tuple(f"`{m.old_dotted}` is now `{m.new_dotted}`" for m in rewritten)
        yield Finding(self.rule.code, severity, message, path, span, fix, hint, notes=notes)
