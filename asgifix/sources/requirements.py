"""pip requirements files, read the way pip reads them, with exact source spans.

pip's grammar decides what is valid: every logical line that is not obviously
a simple ``name==1.2`` pin is judged by :mod:`.pip_grammar`, which applies the
option tables and requirement grammars of the released pips (recorded from
their wheels), and says which releases reject a line. Every entry keeps
character offsets into the original text, and fixes splice those spans. Line joining and comment stripping replicate pip's
``preprocess`` step by step (tests compare the two) while tracking offsets.
"""

from __future__ import annotations

import re
from ..records import dataclass, field
from functools import lru_cache
from typing import Any, Optional

from ..textio import TextDocument

# pip: req_file.COMMENT_RE
COMMENT_RE = re.compile(r"(^|\s+)(#.*)$")
_SPLITLINES_KEEPENDS = str.splitlines


def _comment_start(line: str) -> Optional[tuple[int, int]]:
    """``COMMENT_RE.search(line)``'s start and the start of its group 2, or None, in linear time.

    The regular expression retries ``\\s+`` from every position of a run of spaces (a
    line of 40,000 spaces took seconds). The leftmost match belongs to the first ``#``
    at the line's start or after whitespace; it starts where that whitespace run starts.
    """
    position = line.find("#")
    while position != -1:
        if position == 0:
            return 0, 0
        if line[position - 1].isspace():
            start = position - 1
            while start > 0 and line[start - 1].isspace():
                start -= 1
            return start, position
        position = line.find("#", position + 1)
    return None

# A conservative subset of PEP 508 that every pip accepts: a name with
# optional extras and plain release-number specifiers. Anything else goes to
# pip's grammar. tests/test_pip_grammar.py checks that every corpus line this
# accepts is accepted by every recorded pip.
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_RELEASE = r"[0-9]+(?:\.[0-9]+)*"
_CLAUSE = rf"(?:==|!=|<=|>=|<|>)\s*{_RELEASE}|~=\s*[0-9]+(?:\.[0-9]+)+"
SIMPLE_REQUIREMENT = re.compile(
    rf"^(?P<name>{_NAME})\s*(?:\[\s*{_NAME}(?:\s*,\s*{_NAME})*\s*\]\s*)?"
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
    via: tuple[str, ...] = ()  # pip-compile's "# via" annotation: what pulled this pin in
    rejected_by: tuple[str, ...] = ()  # the recorded pip releases that reject the line (pip_grammar)
    older_error: Optional[str] = None  # what an older pip says, when only older pips reject it

    @property
    def line(self) -> int:
        return self.logical.line

    @property
    def requirement_span(self) -> tuple[int, int]:
        """Document offsets of the requirement part of the line."""
        return self.logical.span_of(0, len(self.requirement_text))

    @property
    def requirement_core(self) -> tuple[str, int, int]:
        """The requirement without the spaces before its options (``--hash`` ...), and its offsets."""
        text = self.requirement_text.rstrip()
        start, end = self.logical.span_of(0, len(text))
        return text, start, end


@dataclass
class RequirementsFile:
    document: TextDocument
    entries: list[RequirementEntry]
    # pip-compile output: generated, with '# via' annotations or a header.
    compiled: bool = False
    hashed: bool = False
    # The .in file pip-compile read, as written in its header (relative to this file).
    compiled_from: Optional[str] = None

    @property
    def requirements(self) -> list[RequirementEntry]:
        return [e for e in self.entries if e.kind == "requirement"]


@lru_cache(maxsize=16)
def logical_lines(text: str) -> tuple[LogicalLine, ...]:
    """pip's ``preprocess`` (join_lines + split_comments), keeping character offsets.

    Remembered for the last few texts: the engine asks :func:`looks_foreign` and
    then :func:`parse` about the same text, and a fix re-reads what it wrote.
    The lines are shared: never change them.
    """
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
        cut = _comment_start(line)
        before = line[:cut[0]] if cut else line
        comment = line[cut[1]:].strip() if cut else None
        stripped = before.strip()
        if not stripped:
            if comment is not None:
                result.append(LogicalLine(number, "", [offsets[cut[1]]] if offsets else [0], comment))
            continue
        first = len(before) - len(before.lstrip())
        result.append(LogicalLine(number, stripped, offsets[first : first + len(stripped)], comment))
    return tuple(result)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(document: TextDocument) -> RequirementsFile:
    """Classify every logical line of a requirements file. Never raises on file content."""
    entries: list[RequirementEntry] = []
    lines = logical_lines(document.text)
    last_requirement: Optional[RequirementEntry] = None
    via: list[str] = []
    in_via = False
    for logical in lines:
        if not logical.text:
            # pip-compile writes "    # via x" (or "# via" then "#   x" lines) under each pin.
            comment = logical.comment or ""
            via_match = re.match(r"#\s+via(?:\s+(?P<first>.*))?$", comment)
            if via_match and last_requirement is not None:
                in_via = True
                if via_match.group("first"):
                    via.append(via_match.group("first").strip())
            elif in_via and re.match(r"#\s{2,}\S", comment):
                via.append(comment[1:].strip())
            else:
                in_via = False
            if last_requirement is not None and via:
                last_requirement.via = tuple(via)
            continue
        entry = _classify(logical)
        entries.append(entry)
        last_requirement, via, in_via = entry, [], False
    head = document.text[:2000]
    compiled = "pip-compile" in head or bool(re.search(r"^\s*#\s+via\s", document.text, re.MULTILINE))
    hashed = any(entry.hashes for entry in entries)
    compiled_from = None
    header = re.search(r"^#\s+pip-compile\b(?P<args>[^\r\n]*)", head, re.MULTILINE)
    if header:
        inputs = [a for a in header.group("args").split() if not a.startswith("-") and "=" not in a]
        compiled_from = inputs[0] if inputs else None
    return RequirementsFile(document, entries, compiled=compiled, hashed=hashed, compiled_from=compiled_from)


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
    """Everything beyond the simple subset is judged with pip's grammar (:mod:`.pip_grammar`).

    A line's verdict depends on its text alone (pip_grammar never looks at the
    file system), so it is judged once per text: a monorepo repeats its lines
    in every service, and a fix re-reads each file after editing it.
    """
    from .pip_grammar import judge_cached

    verdict = judge_cached(logical.text)
    text = verdict.requirement_text
    if verdict.kind == "invalid":
        return RequirementEntry("invalid", logical, text, error=verdict.error, hashes=verdict.hashes,
                                rejected_by=verdict.rejected_by)
    if verdict.kind == "option":
        return RequirementEntry("option", logical, options=dict(verdict.options), rejected_by=verdict.rejected_by,
                                older_error=verdict.older_error)
    req = verdict.requirement
    kind = verdict.kind
    if (req is not None and kind == "path") or (kind == "requirement" and getattr(req, "url", None)):
        kind = "url"  # a wheel file or `name @ URL`: pip installs that file
    entry = RequirementEntry(kind, logical, text, hashes=verdict.hashes, options=dict(verdict.options),
                             rejected_by=verdict.rejected_by, older_error=verdict.older_error)
    if req is not None:
        entry.name = _canonical(req.name)
        entry.display_name = req.name
        entry.specifier = str(req.specifier)
        entry.marker = verdict.marker or (str(req.marker) if req.marker else None)
        entry.extras = tuple(sorted(req.extras))
    elif verdict.expanded and kind == "requirement":
        # `asgiref==${ASGIREF_VERSION}`: the package is known, its version only at install time.
        head = re.match(_NAME, text)
        if head and not text[head.end():].startswith(("${", "$")):
            entry.name, entry.display_name = _canonical(head.group()), head.group()
    return entry


def first_line_of(message: str) -> str:
    """pip's messages carry a caret diagram on later lines; the first line is the sentence."""
    return message.strip().splitlines()[0] if message.strip() else message


def requirement_entries(model: RequirementsFile) -> list:
    """The file's requirements in the shape every declaration source shares (see sources.declared)."""
    from .declared import DeclaredRequirement, Writer

    constraint = is_constraints_file(model.document)
    found = []
    for entry in model.entries:
        if entry.kind not in ("requirement", "url", "editable", "invalid") or not entry.requirement_text:
            continue
        text, start, end = entry.requirement_core
        # Continued lines map to several pieces of the document: not rewritable in place.
        writer = Writer("raw", start, end) if end - start == len(text) else None
        found.append(DeclaredRequirement(
            "pep508", text, start, end, entry.line, "requirements", writer,
            name=entry.name, display_name=entry.display_name, specifier=entry.specifier,
            marker=entry.marker, extras=entry.extras,
            kind={"editable": "path", "invalid": "invalid"}.get(entry.kind, entry.kind),
            error=entry.error, constraint=constraint,
            generated=model.compiled or bool(entry.hashes),
        ))
    return found


def is_constraints_file(document: TextDocument) -> bool:
    """pip-tools and pip name constraint files so; they limit versions and install nothing."""
    return "constraint" in document.path.name.lower()


def fully_pinned(model: RequirementsFile) -> bool:
    """A pip-compile output where every requirement is pinned with ==: a lock file in all but name."""
    requirements = [e for e in model.entries if e.kind == "requirement"]
    return model.compiled and bool(requirements) and all(
        re.fullmatch(r"===?[^,*]+", e.specifier or "") for e in requirements)


def declarations(model: RequirementsFile) -> list:
    from ..project import Declaration

    constraint = is_constraints_file(model.document)
    locked = fully_pinned(model)
    found = []
    for entry in model.entries:
        if entry.kind == "invalid" and entry.requirement_text and not entry.name:
            # A malformed line still says which package is meant ("asgiref 3.5.2"): it is declared,
            # with no usable version (AFX101 reports the line itself).
            head = re.match(_NAME, entry.requirement_text)
            if head and not entry.requirement_text.startswith(("-", ".", "/")) and "://" not in entry.requirement_text:
                text, start, end = entry.requirement_core
                found.append(Declaration(
                    name=_canonical(head.group()), specifier="", marker=None, path=model.document.display,
                    line=entry.line, source_kind="requirements", start=start, end=end,
                    text=text, generated=model.compiled or bool(entry.hashes),
                    constraint=constraint, group="requirements"))
            continue
        if entry.name and entry.kind in ("requirement", "url"):
            text, start, end = entry.requirement_core
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
                    text=text,
                    locked=locked,
                    generated=model.compiled or bool(entry.hashes),
                    constraint=constraint,
                    group="requirements",
                    extras=entry.extras,
                )
            )
    return found


def facts(model: RequirementsFile) -> list:
    """Includes to follow (the engine resolves them) and where a compiled file came from."""
    from ..includes import INCLUDE_FACT, include_request

    found: list = []
    for entry in model.entries:
        if entry.kind in ("include", "constraint") and entry.target:
            text = entry.logical.text
            target_at = text.rfind(entry.target)
            start, end = entry.logical.span_of(target_at, target_at + len(entry.target))
            found.append((INCLUDE_FACT, include_request(model.document, start, end, entry.target,
                                                        entry.kind == "constraint")))
        elif entry.kind in ("editable", "path"):
            # `-e .`, `.`, `./pkg[dev]`: a local package installed into the same environment (install sets).
            target = entry.requirement_text or re.sub(r"^\s*(-e|--editable)[\s=]*", "", entry.logical.text)
            target = target.split("#", 1)[0].strip().split("[", 1)[0]
            if target.startswith((".", "/")) and "://" not in target:
                from ..install_sets import LOCAL_INSTALL_FACT

                found.append((LOCAL_INSTALL_FACT, (model.document.display, target)))
    if model.compiled:
        found.append(("compiled-requirements", (model.document.display, model.compiled_from)))
    return found


def add_requirement(model: RequirementsFile, name: str, specifier: str) -> Optional[tuple[str, list[tuple[int, int, str]]]]:
    """An edit adding the line ``name+specifier``: in alphabetical place when the file is sorted, else at the end."""
    document = model.document
    text = document.text
    newline = document.newline()
    line = name + specifier
    requirements = [e for e in model.entries if e.kind == "requirement" and e.name and e.logical.contiguous]
    names = [e.name for e in requirements]
    if len(names) >= 2 and names == sorted(names):
        from .declared import canonical_name

        after = [e for e in requirements if e.name > canonical_name(name)]
        if after:
            start = document.line_starts[after[0].line - 1]
            return "requirements", [(start, start, line + newline)]
    if text and not text.endswith(("\n", "\r")):
        return "requirements", [(len(text), len(text), newline + line + newline)]
    return "requirements", [(len(text), len(text), line + newline)]


def validate(document: TextDocument, new_text: str) -> Optional[str]:
    """A fix may not turn any line into one that pip rejects."""
    before = {e.logical.text for e in parse(document).entries if e.kind == "invalid"}
    after = [e for e in parse(document.with_text(new_text)).entries if e.kind == "invalid"]
    new_invalid = [e for e in after if e.logical.text not in before]
    if new_invalid:
        return f"line {new_invalid[0].line} would become a line pip rejects"
    return None


_NAME_START = re.compile(r"^[A-Za-z0-9]")
_OPTION_START = re.compile(r"^--?[A-Za-z]")


def _prose_like(entry: RequirementEntry) -> bool:
    """A rejected line that reads like text, not like a mistyped requirement.

    ``asgiref 3.5.2`` or ``Django = 3.2`` are requirements with a typo (few
    tokens, a name first); ``.. note::``, ``=====`` or a sentence are not.
    """
    text = entry.logical.text.split(";", 1)[0]
    if _OPTION_START.match(text):
        return False  # "-r" without a file, "--hash" alone: requirements syntax pip rejects, not prose
    return not _NAME_START.match(text) or len(text.split()) >= 4


# Lines pip certainly rejects and _prose_like counts as prose, decided without
# pip: a name followed by a word (PEP 508 allows only extras, a specifier, "@",
# ";" or the end after a name) in a sentence of 4+ words, or a line starting
# with punctuation pip never reads as a requirement, an option, a path or a URL.
# Lines that pip could take for a path or URL ("/", "\\", "@", "://", an archive
# name) are never counted.
_SENTENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*[ \t]+[A-Za-z]")
_PUNCTUATION_START = re.compile(r"[^A-Za-z0-9\-./~\\$\s]")
_PATH_LIKE = re.compile(r"[/\\@]|\.(?:zip|whl|tar|tgz|tbz|txz|tlz|gz|bz2|xz|lz|lzma)\b", re.IGNORECASE)


def _certainly_prose(text: str) -> bool:
    if _PATH_LIKE.search(text):
        return False
    if _PUNCTUATION_START.match(text):
        return True
    return _SENTENCE.match(text) is not None and len(text.split(";", 1)[0].split()) >= 4


# Names that say a file lists the operating system's packages for apt, apk or brew
# (``docker/system-requirements.txt`` of bare names such as ``libldap2-dev``), not pip's.
_SYSTEM_LIST = re.compile(r"(?:^|[-_.])(?:system|apt|apk|brew|deb|debian|ubuntu|alpine|os)[-_.]?requirements"
                          r"|requirements[-_.](?:system|apt|apk|brew|deb|debian|ubuntu|alpine|os)(?:[-_.]|$)")


def looks_foreign(document: TextDocument) -> bool:
    """:func:`is_foreign` decided early, without pip's parser, for clear-cut prose, or for a file
    whose name says it lists system packages (``system-requirements.txt``, ``apt-requirements.txt``).
    A file pip is told to read (named, a ``-r`` include, a ``pip install -r`` command) is read all the same.

    Counts only lines that pip certainly rejects and that read as prose: when
    they alone reach :func:`is_foreign`'s threshold, parsing the file line by
    line with pip's grammar cannot change the answer (tests check that every
    line counted here is one pip rejects). True means "is_foreign would say so".
    """
    if _SYSTEM_LIST.search(document.path.name.lower()):
        return True
    texts = [logical.text for logical in logical_lines(document.text) if logical.text]
    prose = sum(1 for text in texts if _certainly_prose(text))
    return prose >= 3 and prose * 10 >= len(texts) * 3


def is_foreign(model: RequirementsFile) -> bool:
    """True when a file found by its name (``docs/ref/constraints.txt``) is prose, not requirements.

    The engine then reports nothing for it, unless the file was named on the
    command line or by a ``-r``/``-c`` include.
    """
    prose = sum(1 for entry in model.entries if entry.kind == "invalid" and _prose_like(entry))
    return prose >= 3 and prose * 10 >= len(model.entries) * 3
