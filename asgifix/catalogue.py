"""The rule catalogue: one TOML file per rule under ``rules/``.

A rule is data: code, name, summary, explanation, severity, fix safety, the
matcher (the kind of check) that implements it with its parameters, and the
examples that document it and that the test suite runs. A new breakage of a
known kind is a new TOML file; only a new kind needs a new matcher.
"""

from __future__ import annotations

import re
import sys
from .records import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

from ._paths import rules_dir
from .model import SEVERITIES



def _toml():
    """tomllib, imported on first use (a run that fails before reading the catalogue never pays for it)."""
    if sys.version_info >= (3, 11):  # pragma: no cover - version dependent
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib

CODE_PATTERN = re.compile(r"^AFX[0-6][0-9]{2}$")
FIX_SAFETY = ("safe", "unsafe", "none")
FIX_AVAILABILITY = ("always", "sometimes", "never")
FILE_KINDS = ("requirements", "python", "pyproject", "setup-cfg", "setup-py", "pipfile", "lock", "server-config",
              "python-version", "installed")  # installed: metadata of an installed environment (`doctor`)


class CatalogueError(Exception):
    """The shipped catalogue is broken: a packaging or authoring bug."""


@dataclass(frozen=True)
class Example:
    kind: str  # "invalid" (has ``after`` when fixable) or "valid"
    file: str  # file name the example is checked as, e.g. requirements.txt
    before: str
    after: Optional[str] = None
    description: str = ""
    # Extra files that form the example project (name -> content).
    context: dict = field(default_factory=dict)
    # Options the example runs with (e.g. {"target-asgiref": "3.13.0", "unsafe-fixes": true}).
    options: dict = field(default_factory=dict)
    # Where the finding is reported when that is not ``file``: a rule about a
    # package used in code (reported at the use) whose fix edits a dependency file.
    reported_in: Optional[str] = None


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    explanation: str
    severity: str
    fix_safety: str
    fix_availability: str
    matcher: str
    file_kinds: tuple[str, ...]
    params: dict
    examples: tuple[Example, ...]
    source: Path

    @property
    def category(self) -> str:
        return {
            "0": "asgifix's own comments",
            "1": "dependency declarations",
            "2": "asgiref API",
            "3": "version conflicts",
            "4": "Channels/Django wiring",
            "5": "async usage",
            "6": "installed environments",
        }[self.code[3]]

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "summary": self.summary,
            "category": self.category,
            "severity": self.severity,
            "fix": self.fix_safety,
            "fix_availability": self.fix_availability,
            "applies_to": list(self.file_kinds),
            "explanation": self.explanation,
        }


def _require(data: dict, key: str, path: Path, kind: type = str) -> Any:
    if key not in data:
        raise CatalogueError(f"{path}: missing key {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise CatalogueError(f"{path}: {key!r} must be a {kind.__name__}")
    return value


def _parse_rule_file(path: Path) -> dict:
    tomllib = _toml()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{path}: {exc}") from None


def _load_rule(path: Path, data: Optional[dict] = None) -> Rule:
    if data is None:
        data = _parse_rule_file(path)
    code = _require(data, "code", path)
    if not CODE_PATTERN.match(code) or path.stem != code:
        raise CatalogueError(f"{path}: code {code!r} must look like AFX101 and match the file name")
    severity = _require(data, "severity", path)
    if severity not in SEVERITIES:
        raise CatalogueError(f"{path}: severity must be one of {SEVERITIES}")
    fix_safety = _require(data, "fix", path)
    if fix_safety not in FIX_SAFETY:
        raise CatalogueError(f"{path}: fix must be one of {FIX_SAFETY}")
    availability = data.get("fix-availability", "never" if fix_safety == "none" else "always")
    if availability not in FIX_AVAILABILITY:
        raise CatalogueError(f"{path}: fix-availability must be one of {FIX_AVAILABILITY}")
    kinds = tuple(_require(data, "applies-to", path, list))
    unknown = set(kinds) - set(FILE_KINDS)
    if unknown:
        raise CatalogueError(f"{path}: unknown file kinds {sorted(unknown)}")
    examples = []
    for raw in data.get("examples", []):
        kind = _require(raw, "kind", path)
        if kind not in ("invalid", "valid"):
            raise CatalogueError(f"{path}: example kind must be 'invalid' or 'valid'")
        examples.append(
            Example(
                kind=kind,
                file=_require(raw, "file", path),
                before=_require(raw, "before", path),
                after=raw.get("after"),
                description=raw.get("description", ""),
                context=dict(raw.get("context", {})),
                options=dict(raw.get("options", {})),
                reported_in=raw.get("reported-in"),
            )
        )
    if not any(e.kind == "invalid" for e in examples) or not any(e.kind == "valid" for e in examples):
        raise CatalogueError(f"{path}: a rule needs at least one invalid and one valid example")
    return Rule(
        code=code,
        name=_require(data, "name", path),
        summary=_require(data, "summary", path),
        explanation=_require(data, "explanation", path).strip(),
        severity=severity,
        fix_safety=fix_safety,
        fix_availability=availability,
        matcher=_require(data, "matcher", path),
        file_kinds=kinds,
        params=dict(data.get("params", {})),
        examples=tuple(examples),
        source=path,
    )


COMPILED = "catalogue.json"  # the rule files, parsed, beside them (scripts/build_docs.py writes it)


def _digest(texts: list[tuple[str, bytes]]) -> str:
    from .datafiles import sha256

    digest = sha256()
    for name, raw in texts:
        digest.update(name.encode() + b"\0" + raw + b"\0")
    return digest.hexdigest()


def compiled_catalogue(directory: Optional[Path] = None) -> str:
    """The text of ``rules/catalogue.json``: every rule file parsed, keyed by the digest of their bytes."""
    import json

    directory = directory or rules_dir()
    paths = sorted(directory.glob("AFX*.toml"))
    texts = [(path.name, path.read_bytes()) for path in paths]
    rules = {path.name: _parse_rule_file(path) for path in paths}
    # key order kept: the TOML order of an example's files is the order its page shows them
    return json.dumps({"digest": _digest(texts), "rules": rules}, ensure_ascii=False, indent=0) + "\n"


def _compiled(directory: Path, texts: list[tuple[str, bytes]]) -> Optional[dict]:
    """The parsed rule files from ``catalogue.json`` when it was made from exactly these files.

    Parsing thirty TOML files costs a one-file check ~70 ms; this JSON loads in a few. A file
    edited since (or a missing or broken JSON) falls back to the TOML: never a stale rule."""
    import json

    try:
        data = json.loads((directory / COMPILED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("digest") != _digest(texts):
        return None
    rules = data.get("rules")
    return rules if isinstance(rules, dict) and set(rules) == {name for name, _ in texts} else None


@lru_cache(maxsize=None)
def load_catalogue(directory: Optional[Path] = None) -> tuple[Rule, ...]:
    """Every rule, sorted by code. Raises CatalogueError on a malformed entry."""
    directory = directory or rules_dir()
    if not directory.is_dir():
        raise CatalogueError(f"rule catalogue not found at {directory} (broken installation?)")
    paths = sorted(directory.glob("AFX*.toml"))
    try:
        texts = [(path.name, path.read_bytes()) for path in paths]
    except OSError as exc:
        raise CatalogueError(f"{directory}: {exc}") from None
    parsed = _compiled(directory, texts) or {}
    rules = [_load_rule(path, parsed.get(path.name)) for path in paths]
    if not rules:
        raise CatalogueError(f"rule catalogue at {directory} holds no rules (broken installation?)")
    return tuple(rules)


def rule_by_code(code: str) -> Optional[Rule]:
    code = code.upper()
    for rule in load_catalogue():
        if rule.code == code:
            return rule
    return None


def select_rules(rules: Iterable[Rule], select: Iterable[str], ignore: Iterable[str]) -> list[Rule]:
    """Rules whose code starts with a selected prefix and with no ignored prefix.

    The longest matching prefix wins, so ``--select AFX1 --ignore AFX101`` keeps
    the other AFX1xx rules and ``--ignore AFX1 --select AFX102`` keeps AFX102
    (as in ruff).
    """
    select = [s.upper() for s in select]
    ignore = [i.upper() for i in ignore]
    chosen: list[Rule] = []
    for rule in rules:
        best_select = max((len(s) for s in select if s == "ALL" or rule.code.startswith(s)), default=-1)
        best_ignore = max((len(i) for i in ignore if i == "ALL" or rule.code.startswith(i)), default=-1)
        # A tie (the same prefix selected and ignored) means ignored.
        if best_select > best_ignore:
            chosen.append(rule)
    return chosen


def is_known_code_or_prefix(value: str) -> bool:
    value = value.upper()
    if value == "ALL":
        return True
    # Any prefix of the code space is valid, including reserved codes with no rule yet.
    return bool(re.match(r"^AFX([0-6][0-9]{0,2})?$", value))
