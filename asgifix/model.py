"""The values that flow from sources through rules to reporters.

Positions are 1-based lines and columns (columns count Unicode code points);
``end_column`` is exclusive, as in SARIF and LSP. Edits also carry character
offsets into the decoded text, which is what the fixer splices with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

SEVERITIES = ("error", "warning", "info")
APPLICABILITIES = ("safe", "unsafe")


@dataclass(frozen=True)
class Span:
    start: int  # character offset in the decoded text
    end: int
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Edit:
    path: str  # display path of the file the edit applies to
    span: Span
    content: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "content": self.content,
        }


@dataclass(frozen=True)
class Fix:
    applicability: str  # "safe" or "unsafe"
    message: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "applicability": self.applicability,
            "message": self.message,
            "edits": [edit.to_json() for edit in self.edits],
        }


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    path: str
    span: Span
    fix: Optional[Fix] = None
    # One line telling the reader what to do when there is no automatic fix,
    # or what the fix will do when there is one.
    hint: Optional[str] = None
    # The text of the finding's first line, for reporters that show it.
    source_line: Optional[str] = field(default=None, compare=False)
    # The install sets (by name) the finding holds in, when the project has several.
    environments: tuple[str, ...] = ()
    # The details behind the message (the disagreeing pins, the releases, the evidence), one per
    # entry: the message stays one short sentence; reporters show these as notes or JSON fields.
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.code)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "fix": self.fix.to_json() if self.fix else None,
            "hint": self.hint,
            "environments": list(self.environments),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class FileError:
    """A file that could not be checked, with a one-line reason.

    ``fatal`` errors (unreadable, undecodable) make ``check`` exit 2; a file
    that was read but does not parse is reported without being fatal.
    """

    path: str
    message: str
    line: Optional[int] = None
    fatal: bool = True

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "message": self.message}
        if self.line is not None:
            data["line"] = self.line
        return data

    def __str__(self) -> str:
        location = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{location}: {self.message}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files_checked: int = 0
    # Files named on the command line, when the run was for them (asgifix.named): the others were read for their verdict.
    files_named: Optional[int] = None
    # Filled by `fix`: how many findings were fixed, and in which files.
    fixed: int = 0
    changed_paths: list[str] = field(default_factory=list)

    def sort(self) -> None:
        self.findings.sort(key=lambda f: f.sort_key)
        self.errors.sort(key=lambda e: (e.path, e.line or 0))
