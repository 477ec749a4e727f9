"""Python modules, parsed once with the stdlib ``ast`` (libcst is kept for rewriting).

Detection never needs libcst: ``ast`` parses about ten times faster, and the
prefilter in the engine means only files that mention an interesting name get
this far.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

from ..textio import TextDocument


class PythonSyntaxProblem(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


@dataclass
class PythonModule:
    document: TextDocument
    tree: ast.Module


def parse_python(document: TextDocument) -> PythonModule:
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences in legacy code are not our business.
            warnings.simplefilter("ignore")
            tree = ast.parse(document.text, filename=document.display)
    except SyntaxError as exc:
        raise PythonSyntaxProblem(f"cannot parse: {exc.msg}", exc.lineno) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise PythonSyntaxProblem(f"cannot parse: {exc}", None) from None
    return PythonModule(document, tree)
