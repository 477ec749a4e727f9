"""GitHub Actions workflow commands: one annotation per finding, on its real line.

Each annotation's text starts with ``path:line:col: CODE`` so the job log reads like the
text output. GitHub shows at most 10 annotations of each level per step (the log keeps every
line), so past 10 a closing notice says how many there are; upload SARIF for the full list.
"""

from __future__ import annotations

from ..catalogue import Rule
from ..model import Report
from . import RenderOptions, detail_text, printable

# GitHub displays at most this many error (and as many warning) annotations per step.
ANNOTATION_LIMIT = 10

_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(value: str) -> str:
    # The runner reads %0A and %0D back as line breaks inside one annotation; every other
    # control character (terminal escapes) and a lone surrogate (a non-UTF-8 file name) is escaped.
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(value)


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, rules: list[Rule], options: RenderOptions) -> str:
    lines = []
    for finding in report.findings:
        span = finding.span
        properties = (
            f"file={_escape_property(finding.path)},line={span.line},col={span.column},"
            f"endLine={span.end_line},endColumn={span.end_column},title={_escape_property(finding.code)}"
        )
        message = f"{finding.path}:{span.line}:{span.column}: {finding.code} {finding.message}"
        details = detail_text(finding)
        if details:
            message += "\n" + details
        lines.append(f"::{_LEVELS[finding.severity]} {properties}::{_escape_data(message)}")
    for error in report.errors:
        where = f"file={_escape_property(error.path)}" + (f",line={error.line}" if error.line else "")
        lines.append(f"::error {where},title=asgifix::{_escape_data(error.message)}")
    shown = {}
    for finding in report.findings:
        shown[finding.severity] = shown.get(finding.severity, 0) + 1
    if any(count > ANNOTATION_LIMIT for count in shown.values()):
        lines.append(f"::notice title=asgifix::{len(report.findings)} findings: GitHub shows only "
                     f"{ANNOTATION_LIMIT} annotations of each level per step; the job log lists them all "
                     f"(upload --format sarif to code scanning to see every one on its line)")
    return "".join(line + "\n" for line in lines)
