"""AFX203: imports of names that moved (rules/data/moves.toml), rewritten when the pins say so.

The collector (:func:`collect_imports`) keeps, per file, the import bindings of a moved module
(from :mod:`asgifix.names`: aliases, guards, ``TYPE_CHECKING``, stars) and the statements moved
names could be merged into. The matcher judges them per install set (:func:`asgifix.moves.verdict`)
and builds the rewrite with :mod:`asgifix.codemod` (libcst is imported only then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from .. import moves as catalogue
from ..model import Finding, Fix, Span
from ..names import Binding, names_of
from ..project import ProjectModel
from . import FileFacts, ProjectMatcher


@dataclass(frozen=True)
class ImportFacts:
    candidates: tuple[Binding, ...]  # bindings importing from a module some move leaves
    merge: tuple[tuple[str, Binding], ...]  # (module, first unconditional module-level from-import of it)
    keep_document: bool = True  # the engine keeps the file's document: a fix may edit it


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
    return ImportFacts(candidates, tuple(merge.items())), lines


def _statement(binding: Binding):
    from ..codemod import Statement

    return Statement(binding.line, binding.column, binding.end_line, binding.end_column)


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
            for bindings in statements.values():
                yield from self._statement(project, facts.path, bindings, dict(value.merge), table, judge)

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
        if first.kind == "import":
            moved = [m for m in table.values() if m.old_module == first.module and judge(m).state == "rewrite"]
            if moved:
                yield Finding(self.rule.code, self.rule.severity,
                              f"`import {first.module}`: names it uses moved to `{moved[0].new_module}`, and module "
                              f"imports are not rewritten",
                              path, span, None, f"import from {moved[0].new_module} instead",
                              notes=(f"moved: {', '.join(f'`{m.old_name}`' for m in moved)}",))
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
        if document is not None:
            from ..codemod import import_move_edits

            targets = {module: _statement(b) for module, b in merge.items()}
            edits = import_move_edits(document, _statement(first), renames, targets)
            if edits:
                unsafe = any(m.applicability != "safe" for m in rewritten)
                fix = Fix("unsafe" if unsafe else "safe",
                          f"import {', '.join(m.new_name for m in rewritten)} from its new module", tuple(edits))
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
