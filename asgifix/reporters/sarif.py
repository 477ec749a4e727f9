"""SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps)."""

from __future__ import annotations

import json

from .. import __version__
from .._paths import REPOSITORY_URL, rule_doc_url
from ..catalogue import Rule
from ..model import Report
from . import RenderOptions, detail_text, json_safe

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    """A display path as a SARIF ``uri`` (a URI reference): relative paths stay relative,
    with spaces, ``#``, ``%`` and the like percent-encoded; absolute paths become ``file:`` URIs."""
    from urllib.parse import quote

    # The file name's own bytes are percent-encoded (a non-UTF-8 name keeps its bytes).
    raw = path.encode("utf-8", "surrogateescape")
    if path.startswith("/"):
        return "file://" + quote(raw, safe="/")
    return quote(raw, safe="/")


def _region(line: int, column: int, end_line: int, end_column: int) -> dict:
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def render(report: Report, rules: list[Rule], options: RenderOptions) -> str:
    index = {rule.code: position for position, rule in enumerate(rules)}
    driver_rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.explanation.split("\n\n")[0].replace("## What it does\n", "")},
            "helpUri": rule_doc_url(rule.code),
            "help": {"text": rule.explanation, "markdown": rule.explanation},
            "defaultConfiguration": {"level": _LEVELS[rule.severity]},
            "properties": {"category": rule.category, "fix": rule.fix_safety},
        }
        for rule in rules
    ]
    results = []
    for finding in report.findings:
        span = finding.span
        result = {
            "ruleId": finding.code,
            "level": _LEVELS[finding.severity],
            "message": {"text": finding.message + (f"\n{detail_text(finding)}" if finding.hint or finding.notes else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(finding.path)},
                        "region": _region(span.line, span.column, span.end_line, span.end_column),
                    }
                }
            ],
        }
        if finding.code in index:
            result["ruleIndex"] = index[finding.code]
        properties = {}
        if finding.hint:
            properties["hint"] = finding.hint
        if finding.notes:
            properties["notes"] = list(finding.notes)
        if finding.environments:
            properties["environments"] = list(finding.environments)
        if properties:
            result["properties"] = properties
        if finding.fix is not None:
            changes: dict[str, list] = {}
            for edit in finding.fix.edits:
                changes.setdefault(edit.path, []).append(
                    {
                        "deletedRegion": _region(
                            edit.span.line, edit.span.column, edit.span.end_line, edit.span.end_column
                        ),
                        "insertedContent": {"text": edit.content},
                    }
                )
            result["fixes"] = [
                {
                    "description": {"text": finding.fix.message},
                    "artifactChanges": [
                        {"artifactLocation": {"uri": _uri(path)}, "replacements": replacements}
                        for path, replacements in changes.items()
                    ],
                }
            ]
        results.append(result)
    notifications = [
        {
            "level": "error",
            "message": {"text": error.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(error.path)},
                        **({"region": {"startLine": error.line}} if error.line else {}),
                    }
                }
            ],
        }
        for error in report.errors
    ]
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "asgifix",
                        "version": __version__,
                        "informationUri": REPOSITORY_URL,
                        "rules": driver_rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "invocations": [
                    {
                        "executionSuccessful": not any(error.fatal for error in report.errors),
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": results,
            }
        ],
    }
    return json_safe(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
