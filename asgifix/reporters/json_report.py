"""The JSON contract (documented in the README; tests pin it).

``{"asgifix_version", "findings": [...], "errors": [...]}``; with ``fix`` also
``"fixed"`` (how many findings were fixed) and ``"changed_files"``. With
``--statistics``, ``"statistics": [{"code", "name", "count", "fixable"}]``.
"""

from __future__ import annotations

import json

from .. import __version__
from ..catalogue import Rule
from ..model import Report
from . import RenderOptions, json_safe, statistics


def render(report: Report, rules: list[Rule], options: RenderOptions) -> str:
    data: dict = {
        "asgifix_version": __version__,
        "findings": [finding.to_json() for finding in report.findings],
        "errors": [error.to_json() for error in report.errors],
    }
    if options.mode == "fix":
        data["fixed"] = report.fixed
        data["changed_files"] = report.changed_paths
    if options.statistics:
        data["statistics"] = statistics(report, rules)
    return json_safe(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"
