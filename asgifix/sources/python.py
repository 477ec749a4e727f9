"""Python modules, parsed once with the stdlib ``ast`` (libcst is kept for rewriting).

Detection never needs libcst: ``ast`` parses about ten times faster, and the
prefilter in the engine means only files that mention an interesting name get
this far.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

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
    fail to parse ever get here, so libcst is imported only for them.
    """
    import sys

    if sys.version_info >= (3, 12):
        return None  # this Python already knows the newest grammar libcst does
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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(new_text)
    except SyntaxError as exc:
        if _newer_grammar_tree(new_text) is None:
            return f"the fixed file would not parse ({exc})"
    except ValueError as exc:
        return f"the fixed file would not parse ({exc})"
    return None
