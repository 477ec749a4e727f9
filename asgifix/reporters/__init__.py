"""Reporters turn a :class:`~asgifix.model.Report` into text, JSON, SARIF or GitHub annotations.

Each reporter is a function ``render(report, rules, options) -> str``; the CLI
writes the string. Keeping them pure makes every format testable byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..catalogue import Rule
from ..model import Report

FORMATS = ("text", "json", "sarif", "github")


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
    else:  # pragma: no cover - click validates the choice
        raise ValueError(f"unknown format {name!r}")
    return render


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
