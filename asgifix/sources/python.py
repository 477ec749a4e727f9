"""Python modules, parsed once with the stdlib ``ast`` (libcst is kept for rewriting).

Detection never needs libcst: ``ast`` parses about ten times faster, and the
prefilter in the engine means only files that mention an interesting name get
this far.
"""

from __future__ import annotations

import ast
import warnings
from ..records import dataclass

from typing import Optional

from ..textio import TextDocument
from . import SourceProblem


@dataclass
class PythonModule:
    document: TextDocument
    tree: ast.Module


def parse(document: TextDocument) -> PythonModule:
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences in legacy code are not our business.
            warnings.simplefilter("ignore")
            tree = ast.parse(document.text, filename=document.display)
    except SyntaxError as exc:
        tree = _newer_grammar_tree(document.text)
        if tree is None:
            raise SourceProblem(f"cannot parse: {exc.msg}", exc.lineno) from None
        return PythonModule(document, tree)
    except (ValueError, RecursionError, MemoryError) as exc:
        reason = str(exc) or ("nested too deeply for Python's parser" if not isinstance(exc, ValueError)
                              else type(exc).__name__)
        raise SourceProblem(f"cannot parse: {reason}", None) from None
    return PythonModule(document, tree)


def _newer_grammar_tree(text: str) -> Optional[ast.Module]:
    """A tree for a module this Python cannot parse but a newer one can (PEP 701 f-strings on 3.11).

    libcst's parser knows the newer grammar; the f-strings it finds are masked as ``( ... )``
    of the same length (newlines kept), so stdlib ``ast`` parses the rest with every position
    unchanged. None when libcst cannot parse it either (a real syntax error). Only files that
    fail to parse and spell an f-string prefix ever get that far, so libcst is imported only for them.
    """
    import re
    import sys

    if sys.version_info >= (3, 12):
        return None  # this Python already knows the newest grammar libcst does
    if not re.search(r"[fF][rR]?['\"]", text):
        return None  # no f-string can start here (every prefix with an f ends ``f"`` or ``fr"``): nothing to mask
    try:
        import libcst
        from libcst.metadata import MetadataWrapper, PositionProvider
    except ImportError:  # pragma: no cover - libcst is a dependency
        return None
    module = None
    for version in ("3.14", "3.13", "3.12"):
        try:
            module = libcst.parse_module(text, config=libcst.PartialParserConfig(python_version=version))
            break
        except Exception:  # libcst raises ParserSyntaxError, or ValueError for an unknown version
            continue
    if module is None:
        return None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    ranges: list[tuple[int, int]] = []

    class Finder(libcst.CSTVisitor):
        def visit_FormattedString(self, node) -> bool:
            where = positions[node]
            ranges.append((starts[where.start.line - 1] + where.start.column,
                           starts[where.end.line - 1] + where.end.column))
            return False  # the outermost f-string is masked whole

    wrapper.visit(Finder())
    if not ranges:
        return None
    pieces, position = [], 0
    for start, end in sorted(ranges):
        inner = "".join("\n" if c in "\r\n" else " " for c in text[start + 1:end - 1])
        pieces += [text[position:start], "(", inner, ")"]
        position = end
    pieces.append(text[position:])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse("".join(pieces))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def declarations(model: PythonModule) -> list:
    return []


def validate(document: TextDocument, new_text: str) -> Optional[str]:
    return guard(document, new_text, None)


# An edit as the guard sees it: its first and last line in the old text, and how many
# lines it adds (negative: removes).
EditedLines = "tuple[int, int, int]"


def guard(document: TextDocument, new_text: str, edited: "Optional[list[tuple[int, int, int]]]") -> Optional[str]:
    """Why ``new_text`` must not replace a Python file, or None.

    It must compile (not only parse: ``await`` outside an async function, ``return``
    outside a function and the like are compile-time errors) unless the original did not
    compile either; and with ``edited`` (the edits' line ranges), every statement outside
    the edited lines must have the same syntax tree as before: an edit changes only itself.
    Compiling never runs the code.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            new_tree = ast.parse(new_text)
    except SyntaxError as exc:
        # A module only a newer Python parses (PEP 701 f-strings) is read with that grammar.
        new_tree = _newer_grammar_tree(new_text)
        if new_tree is None:
            return f"the fixed file would not parse ({exc})"
    except ValueError as exc:
        return f"the fixed file would not parse ({exc})"
    except (RecursionError, MemoryError):
        return "the fixed file would be nested too deeply to parse"
    problem = _compile_problem(new_text, document.display)
    if problem is not None and _compile_problem(document.text, document.display) is None:
        return f"the fixed file would not compile ({problem})"
    if edited:
        try:
            old_tree = ast.parse(document.text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None  # the original does not parse: nothing outside the edits to compare
        try:
            changed = _changed_outside(old_tree, new_tree, edited)
        except RecursionError:
            return "the fixed file is nested too deeply to compare with the original"
        if changed is not None:
            return f"the fix would change code outside its edit (line {changed})"
    return None


def _compile_problem(text: str, filename: str) -> Optional[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{exc.msg}, line {exc.lineno}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _statement_lists(node: ast.AST):
    for name in ("body", "orelse", "finalbody", "handlers", "cases"):
        value = getattr(node, name, None)
        if isinstance(value, list):
            yield value


def _changed_outside(old_tree: ast.Module, new_tree: ast.Module, edited: "list[tuple[int, int, int]]") -> Optional[int]:
    """The first old line of a statement outside the edits whose tree differs in the new text, or None.

    A statement is outside when none of its lines is edited; it is looked up in the new
    tree at its line shifted by the edits above it (same column), and compared with
    ``ast.dump`` (positions left out). Only the largest such statements are compared, so
    the cost is linear in the tree.
    """
    from bisect import bisect_right

    edited = sorted(edited)
    starts = [first for first, _, _ in edited]
    shifts = []  # cumulative line shift after each edit
    total = 0
    for _, _, added in edited:
        total += added
        shifts.append(total)

    def touches(first: int, last: int) -> bool:
        # Edits do not overlap, so their last lines grow with their first lines: of the
        # edits starting by ``last``, the latest reaches furthest.
        index = bisect_right(starts, last)
        return index > 0 and edited[index - 1][1] >= first

    def shift(line: int) -> int:
        index = bisect_right(starts, line) - 1
        return line + (shifts[index] if index >= 0 else 0)

    new_at: dict[tuple[int, int], ast.AST] = {}
    stack: list[ast.AST] = [new_tree]
    while stack:
        node = stack.pop()
        for statements in _statement_lists(node):
            for statement in statements:
                if hasattr(statement, "lineno"):  # (a match statement's cases have no position)
                    new_at.setdefault((statement.lineno, statement.col_offset), statement)
                stack.append(statement)
    stack = [old_tree]
    while stack:
        node = stack.pop()
        for statements in _statement_lists(node):
            for statement in statements:
                if not hasattr(statement, "lineno"):
                    stack.append(statement)
                    continue
                first, last = statement.lineno, statement.end_lineno or statement.lineno
                if touches(first, last):
                    stack.append(statement)  # compare what it holds, outside the edit
                    continue
                twin = new_at.get((shift(first), statement.col_offset))
                if twin is None or ast.dump(twin) != ast.dump(statement):
                    return first
    return None
