"""GitHub Actions workflow commands: one annotation per finding, on its real line."""

from __future__ import annotations

from ..catalogue import Rule
from ..model import Report
from . import RenderOptions, printable

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
        message = finding.message + (f" ({finding.hint})" if finding.hint else "")
        lines.append(f"::{_LEVELS[finding.severity]} {properties}::{_escape_data(message)}")
    for error in report.errors:
        where = f"file={_escape_property(error.path)}" + (f",line={error.line}" if error.line else "")
        lines.append(f"::error {where},title=asgifix::{_escape_data(error.message)}")
    return "".join(line + "\n" for line in lines)
