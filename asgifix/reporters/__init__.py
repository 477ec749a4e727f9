"""Reporters turn a :class:`~asgifix.model.Report` into text, JSON, SARIF, GitHub annotations,
GitLab Code Quality or JUnit XML.

Each reporter is a function ``render(report, rules, options) -> str``; the CLI
writes the string. Keeping them pure makes every format testable byte for byte.
"""

from __future__ import annotations

import re
from ..records import dataclass
from typing import Callable

from ..catalogue import Rule
from ..model import Report

FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit")

# What a repository's text must not put raw into a terminal or CI log: C0 and C1 controls
# (terminal escapes, line breaks that start a forged `::workflow-command` line), DEL, Unicode
# line/paragraph separators and bidirectional overrides, and lone surrogates (the undecodable
# bytes of a non-UTF-8 file name, which no strict UTF-8 stream can encode).
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def _escaped(match: "re.Match[str]") -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that surrogateescape kept: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters, separators and lone surrogates shown as escapes (``\\n``, ``\\x1b``)."""
    if _UNPRINTABLE.search(text) is None:  # the common case: nothing to escape
        return text
    return _UNPRINTABLE.sub(_escaped, text)


def json_safe(text: str) -> str:
    """A JSON document's text with lone surrogates written as ``\\udcXX`` escapes, so any UTF-8 stream takes it."""
    return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    quiet: bool = False
    statistics: bool = False
    mode: str = "check"  # "check" or "fix"
    unsafe_fixes: bool = False


def renderer(name: str) -> Callable[[Report, list[Rule], RenderOptions], str]:
    if name == "text":
        from .text import render
    elif name == "json":
        from .json_report import render
    elif name == "sarif":
        from .sarif import render
    elif name == "github":
        from .github import render
    elif name == "gitlab":
        from .gitlab import render
    elif name == "junit":
        from .junit import render
    else:  # pragma: no cover - click validates the choice
        raise ValueError(f"unknown format {name!r}")
    return render


def detail_text(finding) -> str:
    """The finding's hint and notes as one text, for formats with a single message field."""
    parts = [f"help: {finding.hint}"] if finding.hint else []
    parts += [f"note: {note}" for note in finding.notes]
    return "\n".join(parts)


def statistics(report: Report, rules: list[Rule]) -> list[dict]:
    names = {rule.code: rule.name for rule in rules}
    counts: dict[str, list[int]] = {}
    for finding in report.findings:
        entry = counts.setdefault(finding.code, [0, 0])
        entry[0] += 1
        entry[1] += finding.fix is not None
    return [
        {"code": code, "name": names.get(code, ""), "count": count, "fixable": fixable}
        for code, (count, fixable) in sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))
    ]
