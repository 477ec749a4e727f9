"""AFX104: an include that pip (or uv, for dependency groups) cannot follow, or asgifix must not."""

from __future__ import annotations

from typing import Iterator

from ..includes import PROBLEM_FACT
from ..model import Finding
from . import ProjectMatcher

_HINTS = {
    "missing": "create the file or correct the path (it is relative to the including file)",
    "not-a-file": "name a requirements file, not a directory",
    "url": "vendor the file into the project and include it by a relative path",
    "outside": "check that file with asgifix too (pass its directory), or move it into the project",
    "cycle": "remove one of the includes so the files no longer include each other",
    "missing-group": "define the group under [dependency-groups] or correct its name",
}


class BrokenInclude(ProjectMatcher):
    def check_project(self, project) -> Iterator[Finding]:
        for problem in project.facts.get(PROBLEM_FACT, []):
            yield Finding(
                self.rule.code,
                self.rule.severity,
                problem.detail[:1].upper() + problem.detail[1:],
                problem.path,
                problem.span,
                None,
                _HINTS.get(problem.kind),
                notes=(problem.note,) if problem.note else (),
            )
