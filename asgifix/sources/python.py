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
        raise SourceProblem(f"cannot parse: {exc.msg}", exc.lineno) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        reason = str(exc) or ("nested too deeply for Python's parser" if not isinstance(exc, ValueError)
                              else type(exc).__name__)
        raise SourceProblem(f"cannot parse: {reason}", None) from None
    return PythonModule(document, tree)


def declarations(model: PythonModule) -> list:
    return []


def validate(document: TextDocument, new_text: str) -> Optional[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(new_text)
    except (SyntaxError, ValueError) as exc:
        return f"the fixed file would not parse ({exc})"
    return None
