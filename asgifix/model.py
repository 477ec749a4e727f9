"""The values that flow from sources through rules to reporters.

Positions are 1-based lines and columns (columns count Unicode code points);
``end_column`` is exclusive, as in SARIF and LSP. Edits also carry character
offsets into the decoded text, which is what the fixer splices with.
"""

from __future__ import annotations

from .records import FrozenInstanceError, dataclass, field
from typing import Any, Callable, Optional

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


class Deferred:
    """A call made later, ``function(*args)``: how a fix's edits are built only when something needs them.

    ``function`` is a module-level function and ``args`` are hashable and picklable, so a finding holding
    a deferred fix pickles (worker processes, a cache) and two equal calls compare equal without being made.
    """

    __slots__ = ("function", "args")

    def __init__(self, function: Callable[..., Any], *args: Any):
        self.function = function
        self.args = args

    def __call__(self) -> Any:
        return self.function(*self.args)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Deferred) and self.function is other.function and self.args == other.args

    def __hash__(self) -> int:
        return hash((self.function, self.args))

    def __reduce__(self):
        return (Deferred, (self.function, *self.args))

    def __repr__(self) -> str:
        return f"Deferred({getattr(self.function, '__qualname__', self.function)})"


class Fix:
    """A fix: its applicability, a message, and the edits it makes.

    The edits are given (``Fix(applicability, message, edits)``), or built when first asked for
    (``Fix(applicability, message, build=Deferred(...), paths=(file,))``): a rewrite that needs the
    rewriting library makes a check that only shows the fix's marker pay nothing for it. A matcher
    that defers its edits decides from its own facts that the fix exists; ``paths`` are the files
    the edits will touch. A build that yields nothing leaves a fix without edits: applying it changes
    nothing and the finding stays. Frozen, like the other values here.
    """

    __slots__ = ("applicability", "message", "_edits", "_build", "_paths")

    def __init__(self, applicability: str, message: str, edits: Optional[tuple[Edit, ...]] = None, *,
                 build: Optional[Deferred] = None, paths: tuple[str, ...] = ()):
        if (edits is None) == (build is None):
            raise TypeError("a Fix has either its edits or a build for them")
        setter = object.__setattr__
        setter(self, "applicability", applicability)
        setter(self, "message", message)
        setter(self, "_edits", None if edits is None else tuple(edits))
        setter(self, "_build", build)
        setter(self, "_paths", tuple(paths))

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    __delattr__ = __setattr__  # type: ignore[assignment]

    @property
    def edits(self) -> tuple[Edit, ...]:
        if self._edits is None:
            built = self._build()  # type: ignore[misc]
            object.__setattr__(self, "_edits", tuple(built) if built else ())
        return self._edits  # type: ignore[return-value]

    @property
    def pending(self) -> bool:
        """Whether the edits are still to be built."""
        return self._edits is None

    @property
    def paths(self) -> tuple[str, ...]:
        """The files the edits touch (without building deferred edits)."""
        if self._build is not None:
            return self._paths
        return tuple(dict.fromkeys(edit.path for edit in self._edits or ()))

    def identity(self) -> Any:
        """What tells this fix's edits from another's: the edits, or while they are not built, their build."""
        if self._edits is None:
            return self._build
        return tuple((e.path, e.span.start, e.span.end, e.content) for e in self._edits)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fix):
            return NotImplemented
        if (self.applicability, self.message) != (other.applicability, other.message):
            return False
        if self._build is not None and self._build == other._build:
            return True
        return self.edits == other.edits

    def __hash__(self) -> int:
        return hash((self.applicability, self.message))

    def __reduce__(self):
        return (_restore_fix, (self.applicability, self.message, self._edits, self._build, self._paths))

    def __repr__(self) -> str:
        edits = "<deferred>" if self._edits is None else repr(self._edits)
        return f"Fix(applicability={self.applicability!r}, message={self.message!r}, edits={edits})"

    def to_json(self) -> dict[str, Any]:
        return {
            "applicability": self.applicability,
            "message": self.message,
            "edits": [edit.to_json() for edit in self.edits],
        }


def _restore_fix(applicability, message, edits, build, paths) -> Fix:
    fix = Fix.__new__(Fix)
    for name, value in (("applicability", applicability), ("message", message), ("_edits", edits),
                        ("_build", build), ("_paths", paths)):
        object.__setattr__(fix, name, value)
    return fix


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
