"""AFX101: a requirement line that pip rejects, repaired only when the intent is evident."""

from __future__ import annotations

import re
from typing import Iterator, Optional

from ..model import Edit, Finding, Fix
from ..sources.requirements import (
    LogicalLine,
    RequirementEntry,
    RequirementsFile,
    _NAME,
    _pip_entry,
    first_line_of,
)
from . import FileMatcher

_EXTRAS = r"\[[^\]]*\]"
_OPERATORS = {"=": "==", "==": "==", "===": "===", "~=": "~=", "!=": "!=", "<=": "<=", ">=": ">=",
              "<": "<", ">": ">", "=>": ">=", "=<": "<="}
_OP = r"===|==|~=|!=|<=|>=|=>|=<|<|>|="
_VERSION_TOKEN = r"[A-Za-z0-9][A-Za-z0-9.*+!_-]*"
_CORE = re.compile(rf"^(?P<name>{_NAME})(?P<extras>\s*{_EXTRAS})?(?P<rest>.*)$", re.DOTALL)
_CLAUSE = re.compile(rf"\s*(?P<op>{_OP})?\s*(?P<version>{_VERSION_TOKEN})\s*(?P<comma>,)?")


def _clean_pip_message(message: str) -> str:
    first = first_line_of(message)
    first = re.sub(r"^Invalid requirement:\s*:?\s*", "", first)
    return first.rstrip(" :") or "invalid requirement"


def _is_version(text: str) -> bool:
    from packaging.version import InvalidVersion, Version

    candidate = text[:-2] if text.endswith(".*") else text
    try:
        Version(candidate)
    except InvalidVersion:
        return False
    return True


def propose_repair(requirement_text: str) -> tuple[Optional[str], str]:
    """The evident rewrite of a rejected requirement, or None and the reason there is none.

    Only the name and version clauses are touched; extras and the text from
    the environment marker on are kept as written.
    """
    marker_at = requirement_text.find(";")
    core = requirement_text if marker_at == -1 else requirement_text[:marker_at]
    tail = "" if marker_at == -1 else requirement_text[marker_at:]
    trailing_space = core[len(core.rstrip()):]
    core = core.rstrip()
    if "@" in core or "://" in core:
        return None, "it is a URL requirement; check the URL by hand"
    match = _CORE.match(core)
    if not match:
        return None, "the project name itself is not valid"
    name, extras, rest = match.group("name"), match.group("extras") or "", match.group("rest")
    if not rest.strip(" ,"):
        if rest.strip() and _parses(name + extras.strip() + trailing_space + tail):
            return name + extras.strip() + trailing_space + tail, ""
        return None, "pip's parser rejects the line for a reason asgifix cannot repair"
    clauses = []
    position = 0
    while position < len(rest):
        clause = _CLAUSE.match(rest, position)
        if not clause or clause.end() == position:
            word = rest[position:].strip().split()[0] if rest[position:].strip() else rest[position:]
            return None, f"{word!r} is not a version clause; write the specifier by hand (e.g. {name}==1.2.3)"
        clauses.append(clause)
        position = clause.end()
    rewritten = []
    for index, clause in enumerate(clauses):
        op, version = clause.group("op"), clause.group("version")
        if op is None and index > 0:
            return None, "two versions are given; it is not clear which one is meant"
        if not _is_version(version):
            hint = f"{name}=={version[:-2]}.*" if version.endswith((".x", ".X")) else f"{name}==1.2.3"
            return None, f"{version!r} is not a PEP 440 version (for a wildcard write {hint})"
        if version.endswith(".*") and (op or "==") not in ("==", "=", "!="):
            return None, f"a wildcard version only goes with == or != (not {op})"
        rewritten.append(_OPERATORS[op or "=="] + version)
    repaired = name + extras.strip() + ",".join(rewritten) + trailing_space + tail
    if not _parses(repaired):
        return None, "the evident rewrite is still not a valid requirement"
    return repaired, ""


def _parses(requirement: str) -> bool:
    from ..sources.pep508 import InvalidRequirement, parse_requirement

    try:
        parse_requirement(requirement)
    except InvalidRequirement:
        return False
    return True


# Who reads each host format, for messages.
_READER_OF = {
    "pyproject": "build backends and installers reject it",
    "setup-cfg": "setuptools rejects it",
    "setup-py": "setuptools rejects it",
}


class MalformedRequirement(FileMatcher):
    def check_file(self, parsed) -> Iterator[Finding]:
        if not isinstance(parsed, RequirementsFile):
            yield from self._check_declared(parsed)
            return
        for entry in parsed.entries:
            if entry.kind == "invalid":
                yield self._invalid(parsed, entry)
            elif entry.rejected_by and _reported(entry.rejected_by):
                yield self._rejected_by_older(parsed, entry)

    def _finding(self, parsed: RequirementsFile, entry: RequirementEntry, message: str,
                 repaired: Optional[str], reason: str, whole_line: bool = False,
                 notes: tuple[str, ...] = ()) -> Finding:
        document = parsed.document
        if entry.requirement_text and not whole_line:
            start, end = entry.requirement_span
        else:
            start, end = entry.logical.start, entry.logical.end
        span = document.span(start, end)
        fix = None
        hint: Optional[str]
        if repaired is not None and (parsed.compiled or entry.hashes):
            source = f"`{parsed.compiled_from}`" if parsed.compiled_from else "its .in source"
            hint = (
                f"this file is generated (pip-compile or --hash pins): change the requirement to "
                f"`{repaired}` in {source} and re-compile; asgifix does not edit generated pins"
            )
        elif repaired is not None and not entry.logical.contiguous:
            hint = f"the line is continued with '\\'; rewrite it by hand as `{repaired}`"
        elif repaired is not None:
            fix = Fix("safe", f"Rewrite as `{repaired}`", (Edit(document.display, span, repaired),))
            hint = fix.message
        else:
            hint = f"no automatic fix: {reason}"
        return Finding(self.rule.code, self.rule.severity, message, document.display, span, fix, hint,
                       notes=notes)

    def _invalid(self, parsed: RequirementsFile, entry: RequirementEntry) -> Finding:
        from ..sources.pip_grammar import describe_versions

        pip_says = _clean_pip_message(entry.error or "")
        text = entry.requirement_text or entry.logical.text
        rejecting = _reported(entry.rejected_by)
        who = ("pip rejects" if not entry.rejected_by or _all_reported(rejecting)
               else f"{describe_versions(entry.rejected_by)} reject")
        notes = (f"pip says: {pip_says}",)
        if entry.requirement_text and _options_at_fault(entry):
            message = f"Invalid option in `{_short(entry.logical.text, 40)}`: {who} this line"
            return self._finding(parsed, entry, message, None, "correct or remove the option", whole_line=True,
                                 notes=notes)
        message = f"Invalid requirement `{_short(text, 50)}`: {who} this line"
        if not entry.requirement_text:
            return self._finding(parsed, entry, message, None, "the line holds options only; fix them by hand",
                                 notes=notes)
        repaired, reason = propose_repair(entry.requirement_text)
        if repaired is not None and not _accepted_by_pip(entry, repaired):
            repaired, reason = None, "the evident rewrite is still rejected by pip"
        return self._finding(parsed, entry, message, repaired, reason, notes=notes)

    def _rejected_by_older(self, parsed: RequirementsFile, entry: RequirementEntry) -> Finding:
        """Today's pip accepts the line, a pip still in use does not (a trailing comma, a new option)."""
        from ..sources.pip_grammar import accepted_versions, describe_versions

        older, newer = describe_versions(entry.rejected_by), accepted_versions(entry.rejected_by)
        text = entry.requirement_text.strip() or entry.logical.text
        why = _clean_pip_message(entry.older_error or "")
        notes = (f"{newer} accept it",) + ((f"{older} say: {why}",) if why else ())
        if re.search(r",\s*(;|$)", entry.requirement_text.split(";")[0] + ";"):
            message = f"Trailing comma in `{_short(text, 50)}`: {older} reject this line"
            notes = notes[:1]
        else:
            message = f"`{_short(text, 50)}`: {older} reject this line"
        if entry.requirement_text and _options_at_fault(entry):
            # the requirement is fine: an option on the line is what the older pips do not know
            message = f"`{_short(entry.logical.text, 50)}`: {older} reject this line"
            return self._finding(parsed, entry, message, None,
                                 f"an option on the line is new; remove it or require a newer pip ({newer})",
                                 whole_line=True, notes=notes)
        if not entry.requirement_text:
            return self._finding(parsed, entry, message, None,
                                 f"the option is new; remove it or require a newer pip ({newer})", notes=notes)
        repaired, reason = propose_repair(entry.requirement_text)
        if repaired is not None and not _accepted_by_pip(entry, repaired):
            repaired, reason = None, f"write the requirement in a form every pip accepts ({older} reject it)"
        return self._finding(parsed, entry, message, repaired, reason, notes=notes)


    # -- pyproject.toml, setup.cfg, setup.py, Pipfile --------------------------------------
    def _check_declared(self, parsed) -> Iterator[Finding]:
        """The same check on every other format, through the shared DeclaredRequirement shape."""
        from ..sources.declared import has_trailing_comma

        for entry in getattr(parsed, "entries", ()):
            if entry.kind == "invalid":
                yield self._declared_invalid(parsed, entry)
            elif entry.syntax == "pep508" and entry.kind == "requirement" and has_trailing_comma(entry.value):
                repaired, reason = propose_repair(entry.value)
                message = f"Trailing comma in `{_short(entry.value.strip(), 50)}`: pip 24.0 and older reject it"
                yield self._declared_finding(parsed, entry, message, repaired, reason,
                                             (f"in {_where(entry)}", "older build tools reject it too"))

    def _declared_invalid(self, parsed, entry) -> Finding:
        from ..sources.constraints import repair_pipfile, repair_poetry

        error = (entry.error or "invalid").rstrip(".")
        notes = (f"in {_where(entry)}", error)
        if entry.syntax == "poetry":
            message = f"Invalid Poetry constraint `{_short(entry.value, 40)}` for {entry.display_name}: Poetry rejects it"
            repaired = repair_poetry(entry.value)
            reason = "the constraint's intent is not evident; write it by hand (e.g. \"^1.2\")"
        elif entry.syntax == "pipfile":
            message = f"Invalid version `{_short(entry.value, 40)}` for {entry.display_name}: pipenv rejects it"
            repaired = repair_pipfile(entry.value)
            reason = "the version's intent is not evident; write a PEP 440 specifier (e.g. \"==1.2.3\") or \"*\""
        else:
            reader = _READER_OF.get(_kind_of(parsed), "installers reject it")
            message = f"Invalid requirement `{_short(entry.value, 50)}`: {reader}"
            repaired, reason = propose_repair(entry.value)
        return self._declared_finding(parsed, entry, message, repaired, reason, notes)

    def _declared_finding(self, parsed, entry, message: str, repaired: Optional[str], reason: str,
                          notes: tuple[str, ...] = ()) -> Finding:
        from ..sources.declared import value_edit

        document = parsed.document
        span = document.span(entry.start, entry.end)
        fix = None
        if repaired is not None:
            edit = value_edit(document, entry, repaired)
            if edit is not None:
                start, end, content = edit
                fix = Fix("safe", f"Rewrite as `{repaired}`", (Edit(document.display, document.span(start, end), content),))
                hint = fix.message
            else:
                hint = f"rewrite it by hand as `{repaired}` (asgifix cannot rewrite this literal in place)"
        else:
            hint = f"no automatic fix: {reason}"
        return Finding(self.rule.code, self.rule.severity, message, document.display, span, fix, hint,
                       notes=notes)


def _accepted_by_pip(entry: RequirementEntry, repaired: str) -> bool:
    """Re-judge the whole logical line with the repair in place: every pip asgifix reports for must accept it."""
    logical = entry.logical
    text = repaired + logical.text[len(entry.requirement_text):]
    trial = _pip_entry(LogicalLine(logical.line, text, list(range(len(text)))))
    return trial.kind != "invalid" and not _reported(trial.rejected_by)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _options_at_fault(entry: RequirementEntry) -> bool:
    """The line has options, and its requirement alone is accepted by every pip asgifix reports for."""
    from ..sources.pip_grammar import judge

    if entry.requirement_text == entry.logical.text:
        return False
    alone = judge(entry.requirement_text.strip())
    return alone.kind != "invalid" and not _reported(alone.rejected_by)


def _reported(rejected_by: tuple[str, ...]) -> tuple[str, ...]:
    """The rejecting pips asgifix reports for (pip 24.0 and newer: see rules/data/pip_grammar.json)."""
    if not rejected_by:
        return ()
    from ..sources.pip_grammar import reported_rejections

    return reported_rejections(rejected_by)


def _all_reported(rejecting: tuple[str, ...]) -> bool:
    from ..sources.pip_grammar import grammar, version_key

    floor = version_key(grammar().oldest_reported)
    return len(rejecting) == sum(1 for p in grammar().pips if version_key(p.version) >= floor)


def _where(entry) -> str:
    from ..sources.declared import describe_group

    return describe_group(entry.group)


def _kind_of(parsed) -> str:
    name = type(parsed).__name__
    return {"PyprojectFile": "pyproject", "SetupCfg": "setup-cfg", "SetupPy": "setup-py"}.get(name, "")
