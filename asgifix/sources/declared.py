"""One shape for a declared dependency in any format, and the edits that rewrite it in place.

Every source that declares dependencies (pyproject.toml, setup.cfg, setup.py,
Pipfile, requirements files) exposes its entries as :class:`DeclaredRequirement`
values: the text as the consuming tool reads it, where its characters are in
the document, and how a new value must be written back in that host syntax
(TOML quoting, a Python string literal, plain text). Rules work on this shape
and never need to know the host format; the host format's rules of writing
live here, in one place.

Three syntaxes of the *value* exist:

* ``pep508``: the value is a whole requirement, ``"asgiref>=3.5; python_version>'3.8'"``;
* ``poetry``: the package is the key and the value a Poetry constraint (``"^3.5"``);
* ``pipfile``: the package is the key and the value a PEP 440 specifier or ``"*"``.
"""

from __future__ import annotations

import re
from ..records import dataclass, field, replace
from typing import Optional

from ..textio import TextDocument

NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_PEP508_HEAD = re.compile(
    r"^(?P<lead>\s*)(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?P<extras>\s*\[[^\]]*\])?"
    r"(?P<spec>[^;@]*?)(?P<tail>\s*(?:[;@].*)?)$",
    re.DOTALL,
)


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Writer:
    """How a value is written back: ``codec`` is ``raw``, ``toml`` or ``python``.

    ``token_start``/``token_end`` delimit the whole literal (quotes included) and
    ``quote`` is its quoting; ``exact`` means the characters between the quotes
    are exactly the decoded value, so a sub-span of the value is a sub-span of
    the document.
    """

    codec: str
    token_start: int
    token_end: int
    quote: str = ""
    exact: bool = True


@dataclass(frozen=True)
class DeclaredRequirement:
    syntax: str  # pep508, poetry, pipfile
    value: str  # the decoded value (a requirement, a Poetry constraint, a Pipfile specifier)
    start: int  # document offsets of the value's characters
    end: int
    line: int
    group: str  # where in the file: "project.dependencies", "packages", "options.install_requires", ...
    writer: Optional[Writer]  # None: the value cannot be rewritten in place
    name: Optional[str] = None  # canonical name; None when the entry does not parse
    display_name: Optional[str] = None
    specifier: str = ""  # PEP 440 (Poetry and Pipfile constraints translated)
    marker: Optional[str] = None
    extras: tuple[str, ...] = ()
    kind: str = "requirement"  # requirement, url, path, vcs, invalid
    error: Optional[str] = None  # why the entry is invalid (kind == "invalid")
    key_start: Optional[int] = None  # poetry/pipfile: the package-name key as written
    key_end: Optional[int] = None
    constraint: bool = False  # constrains versions without requiring the package
    generated: bool = False  # pip-compile output or hashed: never rewritten silently

    @property
    def exact(self) -> bool:
        return self.writer is not None and self.writer.exact

    def declaration(self, document: TextDocument, source_kind: str, *, locked: bool = False):
        from ..project import Declaration

        return Declaration(
            name=self.name or "",
            specifier=self.specifier,
            marker=self.marker,
            path=document.display,
            line=self.line,
            source_kind=source_kind,
            start=self.start,
            end=self.end,
            text=self.value,
            locked=locked,
            generated=self.generated,
            constraint=self.constraint,
            group=self.group,
            extras=self.extras,
        )


@dataclass
class Replacement:
    """Character edits (start, end, content) that together perform one rewrite."""

    edits: list[tuple[int, int, str]] = field(default_factory=list)


# -- reading PEP 508 ------------------------------------------------------------------------
def analyse_pep508(value: str) -> dict:
    """Name, specifier, marker, extras and kind of a PEP 508 string; kind ``invalid`` with an error otherwise."""
    from .pep508 import InvalidRequirement, parse_requirement

    try:
        requirement = parse_requirement(value)
    except InvalidRequirement as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid requirement"
        head = NAME_RE.match(value.strip())
        return {"kind": "invalid", "error": message,
                "name": canonical_name(head.group()) if head else None,
                "display_name": head.group() if head else None}
    kind = "requirement"
    if requirement.url:
        kind = "vcs" if re.match(r"^[a-z]+\+", requirement.url) else "url"
    return {
        "kind": kind,
        "name": canonical_name(requirement.name),
        "display_name": requirement.name,
        "specifier": str(requirement.specifier),
        "marker": str(requirement.marker) if requirement.marker else None,
        "extras": tuple(sorted(requirement.extras)),
    }


def has_trailing_comma(value: str) -> bool:
    """``asgiref==3.5.2,``: accepted by packaging >= 22, rejected by pip <= 24.0 (packaging 21.3)."""
    core = value.split(";", 1)[0]
    return "@" not in core and bool(re.search(r",\s*$", core))


def pep508_entry(value: str, start: int, end: int, line: int, group: str, writer: Optional[Writer],
                 **extra) -> DeclaredRequirement:
    facts = analyse_pep508(value)
    return DeclaredRequirement("pep508", value, start, end, line, group, writer, **facts, **extra)


# -- writing ----------------------------------------------------------------------------------
def encode_python_string(value: str, quote: str) -> str:
    """``value`` as a Python string literal in quote style ``quote`` (``"`` or ``'``)."""
    quote = quote if quote in ("'", '"') else '"'
    body = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    body = body.replace(quote, "\\" + quote)
    return quote + body + quote


def value_edit(document: TextDocument, entry: DeclaredRequirement, new_value: str,
               old_part: Optional[tuple[int, int]] = None) -> Optional[tuple[int, int, str]]:
    """The edit that makes ``entry``'s value ``new_value``, in the host syntax; None if impossible.

    ``old_part`` (offsets into the *value*) narrows the edit to the part that
    changes, so comments and spacing inside the value stay untouched; it is used
    only when the value maps onto the document character for character.
    """
    writer = entry.writer
    if writer is None:
        return None
    if writer.codec == "raw":
        if not writer.exact or "\n" in new_value or "\r" in new_value:
            return None
        return _narrow(entry, new_value, old_part)
    if writer.codec == "toml":
        from .toml_spans import encode_string

        token = encode_string(new_value, writer.quote)
        inner = token[len(writer.quote):len(token) - len(writer.quote)]
        if writer.exact and token.startswith(writer.quote) and token.endswith(writer.quote) and inner == new_value:
            return _narrow(entry, new_value, old_part)
        return writer.token_start, writer.token_end, token
    if writer.codec == "python":
        token = encode_python_string(new_value, writer.quote)
        if writer.exact and token[1:-1] == new_value and writer.quote in ("'", '"'):
            return _narrow(entry, new_value, old_part)
        return writer.token_start, writer.token_end, token
    return None


def _narrow(entry: DeclaredRequirement, new_value: str,
            old_part: Optional[tuple[int, int]]) -> tuple[int, int, str]:
    """Replace only the characters that differ between the old and the new value."""
    old = entry.value
    if old_part is not None:
        a, b = old_part
        if old[:a] + new_value[a:len(new_value) - (len(old) - b)] + old[b:] == new_value:
            return entry.start + a, entry.start + b, new_value[a:len(new_value) - (len(old) - b)]
    return entry.start, entry.end, new_value


def rewrite_pep508(value: str, new_name: Optional[str] = None, new_specifier: Optional[str] = None,
                   drop_extras: bool = False) -> Optional[str]:
    """``value`` with its name and/or version part replaced; extras (unless dropped), marker and spacing kept.

    Returns None for URL requirements (``name @ url``), whose version is the URL.
    """
    match = _PEP508_HEAD.match(value)
    if not match or match.group("tail").lstrip().startswith("@"):
        return None
    name = new_name if new_name is not None else match.group("name")
    extras = "" if drop_extras else (match.group("extras") or "")
    spec = match.group("spec")
    if new_specifier is not None:
        # Keep the space the author left between name and operator ("Django >=3.2").
        lead = spec[: len(spec) - len(spec.lstrip())] if spec.strip() else ""
        spec = lead + new_specifier if new_specifier else ""
    return match.group("lead") + name + extras + spec + match.group("tail")


def with_generated(entry: DeclaredRequirement, generated: bool) -> DeclaredRequirement:
    return replace(entry, generated=generated)


def describe_group(group: str) -> str:
    """Where an entry sits, in the words of its file: ``[project.optional-dependencies] redis``."""
    fixed = {
        "project.dependencies": "[project] dependencies",
        "options.install_requires": "[options] install_requires",
        "setup.install_requires": "setup(install_requires=...)",
        "requirements": "requirements",
    }
    if group in fixed:
        return fixed[group]
    for prefix, table in (("project.optional-dependencies.", "[project.optional-dependencies]"),
                          ("dependency-groups.", "[dependency-groups]"),
                          ("options.extras_require.", "[options.extras_require]"),
                          ("tool.pdm.dev-dependencies.", "[tool.pdm.dev-dependencies]")):
        if group.startswith(prefix):
            return f"{table} {group[len(prefix):]}"
    if group.startswith("setup.extras_require."):
        return f"setup(extras_require={{{group[len('setup.extras_require.'):]!r}: ...}})"
    if group.startswith("tool.uv."):
        return f"[tool.uv] {group[len('tool.uv.'):]}"
    return f"[{group}]"


def styled_name(old_display: str, new_canonical: str) -> str:
    """``new_canonical`` spelled like ``old_display`` was: ``asgi_redis`` -> ``channels_redis``."""
    if "_" in old_display and "-" not in old_display:
        return new_canonical.replace("-", "_")
    return new_canonical


def package_replacement(document: TextDocument, entry: DeclaredRequirement, new_name: Optional[str],
                        version: Optional[str], unpin: bool = False) -> Optional[tuple[list[tuple[int, int, str]], str]]:
    """Edits making ``entry`` declare ``new_name`` (None: same package) at ``version``, in its host syntax.

    The version style is kept (``==`` stays exact, a Poetry caret stays a caret,
    unpinned stays unpinned); extras are dropped when the package changes (they
    belong to the old one). Returns (edits, the new declaration as text) or None
    when the entry cannot be rewritten in place.
    """
    from .constraints import pep440_like, poetry_like

    name = styled_name(entry.display_name or "", new_name) if new_name else None
    if entry.syntax == "pep508":
        old_spec = entry.specifier
        spec = "" if unpin or not old_spec or version is None else pep440_like(old_spec, version)
        if version is None and old_spec and not unpin:
            return None
        new_value = rewrite_pep508(entry.value, name, spec, drop_extras=name is not None)
        if new_value is None:
            return None
        edit = value_edit(document, entry, new_value)
        return ([edit], new_value.strip()) if edit else None
    if entry.key_start is None or entry.key_end is None:
        return None
    edits: list[tuple[int, int, str]] = []
    key_token = document.text[entry.key_start:entry.key_end]
    shown_name = name or key_token.strip("\"'")
    if name:
        quote = key_token[0] if key_token[:1] in ("'", '"') else ""
        edits.append((entry.key_start, entry.key_end, f"{quote}{name}{quote}"))
    shown_value = entry.value
    if entry.writer is not None:
        if entry.syntax == "poetry":
            new_value = "*" if unpin or version is None and entry.value.strip() in ("", "*") else (
                poetry_like(entry.value, version) if version else None)
        else:
            new_value = "*" if unpin or entry.value.strip() in ("", "*") else (
                pep440_like(entry.specifier, version) if version else None)
        if new_value is None:
            return None
        if new_value != entry.value:
            edit = value_edit(document, entry, new_value)
            if edit is None:
                return None
            edits.append(edit)
        shown_value = new_value
    if not edits:
        return None
    return edits, f'{shown_name} = "{shown_value}"' if shown_value else shown_name
