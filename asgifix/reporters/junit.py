"""JUnit XML, for CI systems that show test reports (Jenkins, GitLab ``reports: junit``, Azure).

One ``testsuite`` named asgifix; a ``testcase`` per finding (classname: the file, name:
``CODE line:column``) holding a ``failure``, an ``error`` per file that could not be
checked, and one passing testcase when nothing was found (so the report is never empty).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr, escape

from ..catalogue import Rule
from ..model import Report
from . import RenderOptions, detail_text, printable

# XML 1.0 allows no C0 control other than tab, newline and carriage return.
_XML_SAFE = {code: None for code in range(0x20) if code not in (0x09, 0x0A, 0x0D)}


def _text(value: str) -> str:
    return escape(printable(value).translate(_XML_SAFE))


def _attribute(value: str) -> str:
    return quoteattr(printable(value).translate(_XML_SAFE))


def render(report: Report, rules: list[Rule], options: RenderOptions) -> str:
    cases = []
    for finding in report.findings:
        span = finding.span
        body = f"{finding.path}:{span.line}:{span.column}: {finding.code} {finding.message}"
        details = detail_text(finding)
        if details:
            body += "\n" + details
        cases.append(
            f"    <testcase classname={_attribute(finding.path)} name={_attribute(f'{finding.code} {span.line}:{span.column}')}>\n"
            f"      <failure type={_attribute(finding.code)} message={_attribute(finding.message)}>{_text(body)}</failure>\n"
            f"    </testcase>"
        )
    for error in report.errors:
        cases.append(
            f"    <testcase classname={_attribute(error.path)} name={_attribute('could not be checked')}>\n"
            f"      <error message={_attribute(error.message)}>{_text(str(error))}</error>\n"
            f"    </testcase>"
        )
    if not cases:
        cases.append(f"    <testcase classname=\"asgifix\" name={_attribute(f'{report.files_checked} files checked')}/>")
    header = (f'<testsuite name="asgifix" tests="{len(cases)}" failures="{len(report.findings)}" '
              f'errors="{len(report.errors)}">')
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>", "  " + header, *cases, "  </testsuite>",
             "</testsuites>"]
    return "\n".join(lines) + "\n"
