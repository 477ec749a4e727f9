"""GitLab Code Quality (``artifacts: reports: codequality``): a JSON array of issues.

Each issue has ``description``, ``check_name``, ``fingerprint``, ``severity`` and
``location.path`` / ``location.lines.begin``, the fields GitLab reads. The fingerprint
is stable when lines move: it hashes the rule, the file, the message and the text of the
finding's line (and counts repeats), so a merge request shows only new findings as new.
"""

from __future__ import annotations

import hashlib
import json

from ..catalogue import Rule
from ..model import Report
from . import RenderOptions, json_safe

# GitLab's levels: info, minor, major, critical, blocker.
SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


def _fingerprint(parts: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()


def render(report: Report, rules: list[Rule], options: RenderOptions) -> str:
    issues = []
    seen: dict[tuple[str, ...], int] = {}
    for finding in report.findings:
        key = (finding.code, finding.path, finding.message, (finding.source_line or "").strip())
        seen[key] = seen.get(key, 0) + 1
        issues.append({
            "description": f"{finding.code} {finding.message}",
            "check_name": finding.code,
            "fingerprint": _fingerprint(key + (str(seen[key]),)),
            "severity": SEVERITIES[finding.severity],
            "location": {"path": finding.path, "lines": {"begin": finding.span.line, "end": finding.span.end_line}},
        })
    for error in report.errors:
        key = ("error", error.path, error.message)
        issues.append({
            "description": f"asgifix could not check this file: {error.message}",
            "check_name": "asgifix-error",
            "fingerprint": _fingerprint(key),
            "severity": "major" if error.fatal else "minor",
            "location": {"path": error.path, "lines": {"begin": error.line or 1}},
        })
    return json_safe(json.dumps(issues, indent=2, ensure_ascii=False)) + "\n"
