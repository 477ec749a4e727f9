"""The pip installed in the test environment, used as an oracle: its own requirements-file code.

Every venv has pip; its internals are used here (never by asgifix) to ask what
this pip makes of a file or of one logical line. asgifix's verdicts are per
recorded pip release (rules/data/pip_grammar.json); :func:`recorded_version`
names the recorded release this pip is judged as (the same release, or the
newest recorded one of the same series or older).
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Optional

import pip
from pip._internal.req import req_file
from pip._internal.req.constructors import install_req_from_parsed_requirement

from asgifix.sources.pip_grammar import grammar, version_key

VERSION = pip.__version__


def recorded_version() -> str:
    """The recorded release whose verdicts stand for this pip."""
    own = version_key(VERSION.split("+")[0].split("rc")[0].split("b")[0])
    recorded = [p.version for p in grammar().pips if version_key(p.version)[:2] <= own[:2]]
    assert recorded, f"pip {VERSION} is older than every recorded pip"
    same_series = [v for v in recorded if version_key(v)[:2] == own[:2]]
    return (same_series or recorded)[-1]


def file_error(path: Path) -> Optional[str]:
    """None when this pip reads the whole file (every line, as a requirement or an option), else its message."""
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        for parsed in req_file.parse_requirements(str(path), session=None):
            install_req_from_parsed_requirement(parsed)
    except BaseException as exc:  # pip reports a rejected line with an exception
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return str(getattr(exc, "msg", None) or exc).strip() or type(exc).__name__
    finally:
        os.chdir(cwd)
    return None


def logical_lines(text: str) -> list[tuple[int, str]]:
    """pip's own preprocessing: continuations joined, comments cut, ${VAR} expanded."""
    return list(req_file.preprocess(text))


def line_error(line: str) -> Optional[str]:
    """What this pip says about one logical line (no -r/-c following), or None when it accepts it."""
    parser = req_file.get_line_parser(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pip's deprecation notices
        return _line_error(parser, line)


def _line_error(parser, line: str) -> Optional[str]:
    try:
        args, opts = parser(line)
        parsed_line = req_file.ParsedLine("requirements.txt", 1, args, opts, False)
        is_requirement = getattr(parsed_line, "is_requirement", None)
        if is_requirement is None:  # pip 24.1 and newer: a property
            is_requirement = parsed_line.requirement is not None
        if not is_requirement:
            return None
        parsed = req_file.handle_requirement_line(parsed_line, None)
        install_req_from_parsed_requirement(parsed)
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return str(getattr(exc, "msg", None) or exc).strip() or type(exc).__name__
    return None


_LOCAL_PATH = re.compile(r"^(?:(?:-e|--editable)(?:\s+|=))?(?:\.{1,2}(?:[/\\]|$)|[/\\~])")


def invalid_lines(text: str) -> set[int]:
    """The (first physical) numbers of the logical lines this pip rejects, each judged on its own.

    A local path (``./pkg``, ``-e ../lib``) is taken to exist, as asgifix takes it: whether
    it does depends on where pip runs, not on the line.
    """
    return {number for number, line in logical_lines(text)
            if not _LOCAL_PATH.match(line) and line_error(line) is not None}
