"""pip requirements files, read the way pip reads them, with exact source spans.

pip's grammar decides what is valid: every logical line that is not obviously
a simple ``name==1.2`` pin goes through pip-requirements-parser (pip's own
parsing code). Its ``dumps()`` is lossy, so it is never used to write; instead
every entry keeps character offsets into the original text, and fixes splice
those spans. Line joining and comment stripping replicate pip's
``preprocess`` step by step (tests compare the two) while tracking offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from ..textio import TextDocument

# pip: req_file.COMMENT_RE
COMMENT_RE = re.compile(r"(^|\s+)(#.*)$")
_SPLITLINES_KEEPENDS = str.splitlines

# A conservative subset of PEP 508 that every pip accepts: a name with
# optional extras and plain release-number specifiers. Anything else goes to
# pip's own parser. tests/test_requirements_source.py checks that every line
# this accepts is also accepted by pip-requirements-parser.
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_RELEASE = r"[0-9]+(?:\.[0-9]+)*"
_CLAUSE = rf"(?:==|!=|<=|>=|<|>)\s*{_RELEASE}|~=\s*[0-9]+(?:\.[0-9]+)+"
SIMPLE_REQUIREMENT = re.compile(
    rf"^(?P<name>{_NAME})\s*(?:\[\s*{_NAME}(?:\s*,\s*{_NAME})*\s*\])?\s*"
    rf"(?P<spec>(?:{_CLAUSE})(?:\s*,\s*(?:{_CLAUSE}))*)?$"
)
# Lines that name another file: -r/--requirement, -c/--constraint.
INCLUDE_RE = re.compile(
    r"^(?P<flag>-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?<=-r)|(?<=-c))(?P<target>\S.*)$"
)


@dataclass
class LogicalLine:
    """One logical line as pip sees it, after joining continuations and removing the comment."""

    line: int  # first physical line, 1-based (pip reports this one)
    text: str  # what pip parses
    offsets: list[int]  # document offset of each character of ``text``
    comment: Optional[str] = None

    @property
    def start(self) -> int:
        return self.offsets[0]

    @property
    def end(self) -> int:
        return self.offsets[-1] + 1

    def span_of(self, start: int, end: int) -> tuple[int, int]:
        """Document offsets of ``text[start:end]``."""
        if start >= end:
            position = self.offsets[start] if start < len(self.offsets) else self.end
            return position, position
        return self.offsets[start], self.offsets[end - 1] + 1

    @property
    def contiguous(self) -> bool:
        """True when the text occupies one unbroken run of the document (no continuation inside)."""
        return self.offsets[-1] - self.offsets[0] == len(self.offsets) - 1


@dataclass
class RequirementEntry:
    """A requirement, include, option or invalid line of a requirements file."""

    kind: str  # "requirement", "editable", "url", "path", "include", "constraint", "option", "invalid"
    logical: LogicalLine
    requirement_text: str = ""  # the requirement part of the line (before options)
    name: Optional[str] = None  # canonical (PEP 503) project name
    display_name: Optional[str] = None  # as written
    specifier: str = ""  # PEP 440 specifier set as written, e.g. ">=3.2,<4"
    marker: Optional[str] = None
    extras: tuple[str, ...] = ()
    hashes: tuple[str, ...] = ()
    target: Optional[str] = None  # include target for kind include/constraint
    error: Optional[str] = None  # pip's message for kind invalid
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def line(self) -> int:
        return self.logical.line

    @property
    def requirement_span(self) -> tuple[int, int]:
        """Document offsets of the requirement part of the line."""
        return self.logical.span_of(0, len(self.requirement_text))


@dataclass
class RequirementsFile:
    document: TextDocument
    entries: list[RequirementEntry]
    # pip-compile output: generated, with '# via' annotations or a header.
    compiled: bool = False
    hashed: bool = False

    @property
    def requirements(self) -> list[RequirementEntry]:
        return [e for e in self.entries if e.kind == "requirement"]


def logical_lines(text: str) -> list[LogicalLine]:
    """pip's ``preprocess`` (join_lines + split_comments), keeping character offsets."""
    physical: list[tuple[int, int, str]] = []  # (line number, start offset, text without ending)
    offset = 0
    for number, chunk in enumerate(_SPLITLINES_KEEPENDS(text, True), start=1):
        body = chunk.rstrip("\r\n")
        # str.splitlines also splits on \v, \f, \x1c-\x1e, \x85, \u2028, \u2029: strip any one of them.
        if len(body) == len(chunk) and chunk and chunk[-1] in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029":
            body = chunk[:-1]
        physical.append((number, offset, body))
        offset += len(chunk)

    joined: list[tuple[int, str, list[int]]] = []
    pending_text: list[str] = []
    pending_offsets: list[int] = []
    primary = 0
    for number, start, body in physical:
        if not body.endswith("\\") or COMMENT_RE.match(body):
            chars = body
            offsets = list(range(start, start + len(body)))
            if COMMENT_RE.match(body):
                # pip prefixes a space so the comment is matched later; it maps to the line start.
                chars = " " + body
                offsets = [start] + offsets
            if pending_text:
                pending_text.append(chars)
                pending_offsets.extend(offsets)
                joined.append((primary, "".join(pending_text), pending_offsets))
                pending_text, pending_offsets = [], []
            else:
                joined.append((number, chars, offsets))
        else:
            if not pending_text:
                primary = number
            # pip uses line.strip("\\"): backslashes go from both ends.
            lead = len(body) - len(body.lstrip("\\"))
            stripped = body.strip("\\")
            pending_text.append(stripped)
            pending_offsets.extend(range(start + lead, start + lead + len(stripped)))
    if pending_text:
        joined.append((primary, "".join(pending_text), pending_offsets))

    result: list[LogicalLine] = []
    for number, line, offsets in joined:
        match = COMMENT_RE.search(line)
        before = line[: match.start()] if match else line
        comment = match.group(2).strip() if match else None
        stripped = before.strip()
        if not stripped:
            if comment is not None:
                result.append(LogicalLine(number, "", [offsets[match.start(2)]] if offsets else [0], comment))
            continue
        first = len(before) - len(before.lstrip())
        result.append(LogicalLine(number, stripped, offsets[first : first + len(stripped)], comment))
    return result


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split_args(text: str) -> str:
    """pip's break_args_options: the requirement part is every token before the first option."""
    tokens = text.split(" ")
    args = []
    for token in tokens:
        if token.startswith("-"):
            break
        args.append(token)
    return " ".join(args)


def parse(document: TextDocument) -> RequirementsFile:
    """Classify every logical line of a requirements file. Never raises on file content."""
    entries: list[RequirementEntry] = []
    lines = logical_lines(document.text)
    for logical in lines:
        if not logical.text:
            continue
        entries.append(_classify(logical))
    head = document.text[:2000]
    compiled = "pip-compile" in head or bool(re.search(r"^\s*#\s+via\s", document.text, re.MULTILINE))
    hashed = any(entry.hashes for entry in entries)
    return RequirementsFile(document, entries, compiled=compiled, hashed=hashed)


def _classify(logical: LogicalLine) -> RequirementEntry:
    text = logical.text
    include = INCLUDE_RE.match(text)
    if include:
        flag = include.group("flag")
        kind = "include" if flag in ("-r", "--requirement") else "constraint"
        return RequirementEntry(kind, logical, target=include.group("target").strip())
    simple = SIMPLE_REQUIREMENT.match(text)
    if simple:
        return _simple_entry(logical, simple)
    return _pip_entry(logical)


def _simple_entry(logical: LogicalLine, match: "re.Match[str]") -> RequirementEntry:
    text = logical.text
    name = match.group("name")
    spec = re.sub(r"\s+", "", match.group("spec") or "")
    extras: tuple[str, ...] = ()
    bracket = text.find("[")
    if bracket != -1:
        extras = tuple(x.strip() for x in text[bracket + 1 : text.index("]")].split(",") if x.strip())
    return RequirementEntry(
        "requirement",
        logical,
        requirement_text=text,
        name=_canonical(name),
        display_name=name,
        specifier=spec,
        extras=extras,
    )


def _pip_entry(logical: LogicalLine) -> RequirementEntry:
    """Everything beyond the simple subset is decided by pip's own code."""
    import pip_requirements_parser as pip  # imported only for lines that need it (~90 ms)

    text = logical.text
    requirement_text = _split_args(text)
    requirement_line = pip.RequirementLine(line=text, line_number=logical.line, filename="")
    try:
        args, options, arguments = _parse_line(pip, text)
        parsed_line = pip.ParsedLine(
            requirement_string=args,
            options=options,
            is_constraint=False,
            requirement_line=requirement_line,
            arguments=arguments,
        )
    except Exception as exc:  # pip reports these lines as invalid too
        return RequirementEntry("invalid", logical, requirement_text, error=_pip_message(exc))

    entry: Optional[RequirementEntry] = None
    try:
        for handled in pip.handle_line(parsed_line):
            if isinstance(handled, pip.InvalidRequirementLine):
                return RequirementEntry("invalid", logical, requirement_text, error=handled.error_message)
            if isinstance(handled, pip.OptionLine):
                legacy = [o for o in handled.options if o in pip.LEGACY_OPTIONS_DEST]
                if legacy:
                    return RequirementEntry(
                        "invalid",
                        logical,
                        requirement_text,
                        error=f"Unsupported, legacy option: {pip.OPT_BY_OPTIONS_DEST[legacy[0]]}",
                    )
                entry = RequirementEntry("option", logical, options=dict(handled.options))
                continue
            entry = _requirement_from_pip(pip, logical, requirement_text, handled)
    except Exception as exc:
        return RequirementEntry("invalid", logical, requirement_text, error=_pip_message(exc))
    return entry if entry is not None else RequirementEntry("option", logical)


_DEFAULT_OPTIONS: Optional[dict] = None


def _parse_line(pip: Any, text: str) -> tuple:
    """``pip.get_line_parser()(text)``, without building an option parser for a line with no options.

    pip builds a fresh optparse parser for every line (about 0.5 ms). A line
    none of whose space-separated tokens starts with ``-`` has no options:
    pip's parser then returns the line as the requirement, its default option
    values and no arguments, which is what this returns, from defaults
    computed once (and copied: some of them are lists).
    """
    global _DEFAULT_OPTIONS
    if any(token.startswith("-") for token in text.split(" ")):
        return pip.get_line_parser()(text)
    if _DEFAULT_OPTIONS is None:
        _DEFAULT_OPTIONS = dict(vars(pip.build_parser().get_default_values()))
    import optparse

    options = optparse.Values({k: list(v) if isinstance(v, list) else v for k, v in _DEFAULT_OPTIONS.items()})
    return text, options, []


def _requirement_from_pip(pip: Any, logical: LogicalLine, requirement_text: str, parsed: Any) -> RequirementEntry:
    if parsed.invalid_options:
        invalid = pip.dumps_global_options(parsed.invalid_options)
        return RequirementEntry(
            "invalid",
            logical,
            requirement_text,
            error=f"Invalid global options, not supported with a requirement spec: {invalid}",
        )
    try:
        install = pip.build_req_from_parsedreq(parsed)
    except Exception as exc:
        return RequirementEntry("invalid", logical, requirement_text, error=_pip_message(exc))
    req = install.req
    hashes = tuple(install.hash_options or ())
    if parsed.is_editable:
        kind = "editable"
    elif install.link is not None and req is None:
        kind = "path"
    elif install.link is not None:
        kind = "url"
    else:
        kind = "requirement"
    if req is None:
        return RequirementEntry(kind, logical, requirement_text, hashes=hashes, options=dict(parsed.options or {}))
    return RequirementEntry(
        kind,
        logical,
        requirement_text,
        name=_canonical(req.name),
        display_name=req.name,
        specifier=str(req.specifier),
        marker=_marker_text(install, req),
        extras=tuple(sorted(req.extras)),
        hashes=hashes,
        options=dict(parsed.options or {}),
    )


def _pip_message(exc: BaseException) -> str:
    return str(getattr(exc, "msg", None) or exc).strip()


def first_line_of(message: str) -> str:
    """pip's messages carry a caret diagram on later lines; the first line is the sentence."""
    return message.strip().splitlines()[0] if message.strip() else message


def declarations(model: RequirementsFile) -> list:
    from ..project import Declaration

    found = []
    for entry in model.entries:
        if entry.name and entry.kind in ("requirement", "url"):
            start, end = entry.requirement_span
            found.append(
                Declaration(
                    name=entry.name,
                    specifier=entry.specifier,
                    marker=entry.marker,
                    path=model.document.display,
                    line=entry.line,
                    source_kind="requirements",
                    start=start,
                    end=end,
                    text=entry.requirement_text,
                    generated=model.compiled or bool(entry.hashes),
                )
            )
    return found


def validate(document: TextDocument, new_text: str) -> Optional[str]:
    """A fix may not turn any line into one that pip rejects."""
    before = {e.logical.text for e in parse(document).entries if e.kind == "invalid"}
    after = [e for e in parse(document.with_text(new_text)).entries if e.kind == "invalid"]
    new_invalid = [e for e in after if e.logical.text not in before]
    if new_invalid:
        return f"line {new_invalid[0].line} would become a line pip rejects"
    return None


def _marker_text(install: Any, req: Any) -> Optional[str]:
    # pip moves the requirement's marker onto the InstallRequirement.
    marker = getattr(install, "marker", None) or req.marker
    return str(marker) if marker else None
