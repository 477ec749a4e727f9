"""``.python-version`` (pyenv, uv) and ``runtime.txt`` (Heroku and its kin): the Python a project runs on.

They declare nothing; the install sets read them for the Python of the environment
nearest below them (see :mod:`asgifix.install_sets`). Never rewritten.
"""

from __future__ import annotations

import re
from ..records import dataclass
from typing import Optional

from ..textio import TextDocument

_VERSION = re.compile(r"^\s*(?:python-|cpython-)?(?P<version>\d+\.\d+(?:\.\d+)?)\b", re.IGNORECASE)


@dataclass
class PythonVersionFile:
    document: TextDocument


def parse(document: TextDocument) -> PythonVersionFile:
    return PythonVersionFile(document)


def declarations(model: PythonVersionFile) -> list:
    return []


def facts(model: PythonVersionFile) -> list:
    from ..install_sets import PYTHON_FACT, PythonPin

    document = model.document
    found = []
    for number in range(1, min(document.line_count, 20) + 1):
        line = document.line_text(number)
        if line.strip().startswith("#"):
            continue
        match = _VERSION.match(line)
        if match:
            found.append((PYTHON_FACT, PythonPin(document.display, number, match.group("version"),
                                                 document.path.name)))
    return found


def validate(document: TextDocument, new_text: str) -> Optional[str]:
    return None  # never rewritten
