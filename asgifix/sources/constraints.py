"""Poetry and Pipfile version constraints, translated to PEP 440 for checking and written back in kind.

Poetry's syntax (poetry-core's ``parse_constraint``): ``*``; ``^1.2`` (caret:
up to the next change of the first non-zero part); ``~1.2`` (tilde: up to
the next minor); ``1.2.*`` wildcards; PEP 440 operators with
``=`` meaning ``==``; a bare version meaning ``==``; clauses joined by
commas or spaces; alternatives joined by ``||``. Pipfile values are PEP 440
specifiers or ``*``.

Rules check the PEP 440 translation; fixes write the *host* syntax back
(``^4.2`` stays a caret), see :func:`poetry_like`.
"""

from __future__ import annotations

import re
from typing import Optional

_POETRY_CLAUSE = re.compile(
    r"\s*(?P<op>\^|~=|~|===|==|=>|=<|>=|<=|!=|<>|=|>|<)?\s*(?P<version>v?[0-9][0-9A-Za-z.*+!_-]*)\s*(?P<sep>,)?"
)


def _valid_version(text: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _release(version: str) -> Optional[list[int]]:
    match = re.match(r"^v?(\d+(?:\.\d+)*)", version)
    return [int(part) for part in match.group(1).split(".")] if match else None


def _caret(version: str) -> Optional[str]:
    parts = _release(version)
    if parts is None:
        return None
    # The upper bound bumps the first non-zero part among those given (^0.0 -> <0.1, ^0 -> <1).
    index = next((i for i, part in enumerate(parts) if part != 0), len(parts) - 1)
    upper = parts[: index + 1]
    upper[-1] += 1
    upper += [0] * (len(parts) - len(upper))
    return f">={version.lstrip('v')},<{'.'.join(map(str, upper))}"


def _tilde(version: str) -> Optional[str]:
    parts = _release(version)
    if parts is None:
        return None
    keep = parts[:2] if len(parts) >= 2 else parts[:1]
    upper = list(keep)
    upper[-1] += 1
    upper += [0] * (len(parts) - len(upper))
    return f">={version.lstrip('v')},<{'.'.join(map(str, upper))}"


def poetry_to_pep440(constraint: str) -> tuple[Optional[str], Optional[str]]:
    """(PEP 440 specifier set, None), or (None, why it is not a valid Poetry constraint).

    A union (``^2.0 || ^3.0``) has no PEP 440 equivalent: it translates to ``""``
    (no known bound), so checks built on it never report a false conflict.
    """
    text = constraint.strip()
    if text in ("", "*"):
        return "", None
    alternatives = re.split(r"\s*\|\|?\s*", text)
    translated = []
    for alternative in alternatives:
        spec, error = _poetry_and(alternative)
        if error:
            return None, error
        translated.append(spec)
    if len(translated) > 1:
        return "", None
    return translated[0], None


def _poetry_and(text: str) -> tuple[Optional[str], Optional[str]]:
    if text.strip() in ("", "*"):
        return "", None
    clauses: list[str] = []
    position = 0
    while position < len(text):
        match = _POETRY_CLAUSE.match(text, position)
        if not match or match.end() == position:
            rest = text[position:].strip()
            return None, f"{rest!r} is not a version constraint"
        position = match.end()
        op, version = match.group("op") or "", match.group("version")
        clause, error = _poetry_clause(op, version)
        if error:
            return None, error
        if clause:
            clauses.append(clause)
    return ",".join(clauses), None


def _poetry_clause(op: str, version: str) -> tuple[Optional[str], Optional[str]]:
    if op in ("=>", "=<"):
        return None, f"{op!r} is not an operator (did you mean {op[::-1]!r}?)"
    if op == "<>":
        op = "!="
    if re.match(r"^v?\d+(?:\.\d+)*\.[xX]$", version):
        # poetry-core (checked against 2.5.0) refuses x-wildcards; ".*" is the spelling it accepts.
        return None, f"{version!r} is not a version (for a wildcard write {version[:-2]}.*)"
    wildcard = re.match(r"^v?(\d+(?:\.\d+)*)\.\*$", version)
    if wildcard:
        if op not in ("", "=", "==", "!="):
            return None, f"a wildcard version only goes with == or != (not {op})"
        return f"{'!=' if op == '!=' else '=='}{wildcard.group(1)}.*", None
    bare = version.lstrip("v")
    if not _valid_version(bare):
        return None, f"{version!r} is not a version"
    if op == "^":
        return _caret(version), None
    if op == "~":
        return _tilde(version), None
    if op == "~=":
        if len(_release(version) or []) < 2:
            return _tilde(version), None
        return f"~={bare}", None
    if op in ("", "="):
        return f"=={bare}", None
    return f"{op}{bare}", None


def pipfile_to_pep440(value: str) -> tuple[Optional[str], Optional[str]]:
    """A Pipfile version value as a PEP 440 specifier set, or the reason it is not one."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    text = value.strip()
    if text in ("", "*"):
        return "", None
    try:
        return str(SpecifierSet(text)), None
    except InvalidSpecifier:
        return None, f"{value!r} is not a PEP 440 version specifier"


def repair_pipfile(value: str) -> Optional[str]:
    """The evident PEP 440 spelling of a malformed Pipfile specifier (``=1.2``, ``1.2``, ``=>1.2``)."""
    from ..matchers.malformed_requirement import propose_repair

    if pipfile_to_pep440(value)[1] is None:
        return None  # already valid
    # A placeholder name (and a space, so "3.7.2" is not read as part of it) turns the value
    # into a requirement the PEP 508 repair understands.
    repaired, _ = propose_repair("x " + value.strip())
    if repaired is None or not repaired.startswith("x"):
        return None
    candidate = repaired[1:].strip()
    spec, error = pipfile_to_pep440(candidate)
    return candidate if error is None and spec else None


def repair_poetry(value: str) -> Optional[str]:
    """The evident fix of a malformed Poetry constraint: swapped operators, stray commas."""
    candidate = re.sub(r"=>", ">=", value)
    candidate = re.sub(r"=<", "<=", candidate)
    candidate = re.sub(r"(\d)\.[xX]\b", r"\1.*", candidate)
    candidate = re.sub(r",\s*,", ",", candidate)
    if candidate == value:
        return None
    spec, error = poetry_to_pep440(candidate)
    return candidate if error is None else None


_WILDCARD = re.compile(r"^(?P<op>==\s*)?(?P<prefix>\d+(?:\.\d+)*)\.\*$")


def _wildcard_like(text: str, version: str) -> Optional[str]:
    """``1.*`` -> ``4.*``, ``==1.2.*`` -> ``==4.3.*``: a wildcard stays a wildcard of the same depth."""
    match = _WILDCARD.match(text)
    if match is None:
        return None
    depth = match.group("prefix").count(".") + 1
    release = re.match(r"\d+(?:\.\d+)*", version)
    if release is None:
        return None
    parts = (release.group(0).split(".") + ["0"] * depth)[:depth]
    return f"{match.group('op') or ''}{'.'.join(parts)}.*"


def poetry_like(old: str, version: str) -> str:
    """A Poetry constraint for ``version`` in the style of ``old`` (caret stays caret, ...)."""
    text = old.strip()
    if text in ("", "*"):
        return "*"
    wildcard = _wildcard_like(text, version)
    if wildcard is not None:
        return wildcard
    for op in ("^", "~=", "~", "==", ">="):
        if text.startswith(op):
            return f"{op}{version}"
    if text[:1].isdigit() and "," not in text and " " not in text and not re.search(r"[*xX]", text):
        return version  # a bare version means ==
    return f">={version}"


def pep440_like(old_specifier: str, version: str) -> str:
    """A PEP 440 specifier for ``version`` in the style of ``old_specifier``."""
    text = old_specifier.strip()
    if not text:
        return ""
    wildcard = _wildcard_like(text, version) if text.startswith("==") else None
    if wildcard is not None:
        return wildcard
    if text.startswith("==") and "," not in text and "*" not in text:
        return f"=={version}"
    if text.startswith("~=") and "," not in text:
        return f"~={version}"
    return f">={version}"
