"""What the TOML-based declaration sources (pyproject.toml, Pipfile) share.

Reading: tomllib for the meaning, :mod:`.toml_spans` for positions. Writing:
span-exact edits only (see toml_spans for why not tomlkit), checked by
re-parsing with tomllib before anything is written.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

from ..textio import TextDocument
from . import SourceProblem
from .declared import DeclaredRequirement, Writer, canonical_name, pep508_entry
from .toml_spans import KeyValue, Node, TomlSpanError, TomlSpans, locate, raw_is_value, tomllib_error_line

if sys.version_info >= (3, 11):  # pragma: no cover - version dependent
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


NESTED_TOO_DEEPLY = "invalid TOML: arrays or inline tables nested too deeply to read (Python's recursion limit)"


def load(document: TextDocument) -> tuple[dict, TomlSpans]:
    try:
        data = tomllib.loads(document.text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).split(" (at line")[0]
        line = tomllib_error_line(exc)
        if line is None and "end of document" in str(exc):
            line = max(1, document.text.count("\n") + (0 if document.text.endswith("\n") else 1))
        raise SourceProblem(f"invalid TOML: {message}", line) from None
    except RecursionError:
        # tomllib parses arrays and inline tables recursively (so do build backends and pip):
        # some hundreds of levels exhaust Python's stack. One file's error, not the run's.
        raise SourceProblem(NESTED_TOO_DEEPLY, None) from None
    try:
        spans = locate(document.text)
    except RecursionError:
        raise SourceProblem(NESTED_TOO_DEEPLY, None) from None
    except (TomlSpanError, IndexError, ValueError) as exc:  # pragma: no cover - tomllib accepted it
        raise SourceProblem(f"cannot locate positions in this TOML file: {exc}") from None
    return data, spans


def parses(text: str) -> Optional[str]:
    """Why ``text`` is not TOML, or None."""
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return f"the fixed file would not be valid TOML ({exc})"
    except RecursionError:
        return "the fixed file would be nested too deeply to read"
    return None


def writer_for(text: str, node: Node) -> Writer:
    return Writer("toml", node.start, node.end, node.quote, exact=raw_is_value(text, node))


def pep508_strings(document: TextDocument, node: Optional[Node], group: str, **extra) -> list[DeclaredRequirement]:
    """Every string of a TOML array, as PEP 508 entries.

    A value of another type (``dependencies = "Django"``) is a file that pip and
    every build backend reject: :class:`SourceProblem`, at the value's line.
    """
    if node is None:
        return []
    if node.kind != "array":
        raise SourceProblem(f"`{group}` must be an array of requirement strings, not a {node.kind}",
                            document.position(node.start)[0])
    found = []
    for item in node.items:
        if not item.is_string and item.kind != "table":  # (tables: PEP 735 include-group)
            raise SourceProblem(f"`{group}` must hold requirement strings, not a {item.kind}",
                                document.position(item.start)[0])
        if item.is_string:
            line = document.position(item.content_start)[0]
            found.append(pep508_entry(item.value, item.content_start, item.content_end, line, group,
                                      writer_for(document.text, item), **extra))
    return found


def keyed_entries(document: TextDocument, pairs: list[KeyValue], group: str, syntax: str,
                  translate, skip: tuple[str, ...] = ()) -> list[DeclaredRequirement]:
    """Entries of a ``name = constraint`` table (Poetry, Pipfile), in their string, table and array forms.

    ``translate(value) -> (pep440 or None, error or None)`` turns the host
    constraint into PEP 440 for checking.
    """
    found: list[DeclaredRequirement] = []
    for pair in pairs:
        key = pair.key
        if not isinstance(key, str) or key.lower() in skip:
            continue
        forms = pair.value.items if pair.value.kind == "array" else [pair.value]
        for form in forms:
            found.append(_keyed_entry(document, pair, form, group, syntax, translate))
    return found


def _keyed_entry(document: TextDocument, pair: KeyValue, node: Node, group: str, syntax: str,
                 translate) -> DeclaredRequirement:
    text = document.text
    common: dict[str, Any] = {
        "name": canonical_name(pair.key),
        "display_name": pair.key,
        "key_start": pair.key_start,
        "key_end": pair.key_end,
    }
    key_line = document.position(pair.key_start)[0]
    version_node: Optional[Node] = None
    if node.is_string:
        version_node = node
    elif node.kind == "table":
        fields = {entry.path[-1]: entry.value for entry in node.entries}
        extras = fields.get("extras")
        if extras is not None and extras.kind == "array":
            common["extras"] = tuple(sorted(i.value for i in extras.items if i.is_string))
        markers = fields.get("markers")
        if markers is not None and markers.is_string:
            common["marker"] = markers.value
        for source_key, kind in (("git", "vcs"), ("hg", "vcs"), ("svn", "vcs"), ("bzr", "vcs"),
                                 ("path", "path"), ("file", "path"), ("url", "url")):
            if source_key in fields:
                return DeclaredRequirement(syntax, "", pair.key_start, pair.key_end, key_line, group, None,
                                           kind=kind, **common)
        version = fields.get("version")
        if version is not None and version.is_string:
            version_node = version
    if version_node is None:
        # No version given ({extras = [...]} alone): the package at any version.
        return DeclaredRequirement(syntax, "", pair.key_start, pair.key_end, key_line, group, None, **common)
    spec, error = translate(version_node.value)
    line = document.position(version_node.content_start)[0]
    return DeclaredRequirement(
        syntax,
        version_node.value,
        version_node.content_start,
        version_node.content_end,
        line,
        group,
        writer_for(text, version_node),
        specifier=spec or "",
        kind="invalid" if error else "requirement",
        error=error,
        **common,
    )


# -- insertion ----------------------------------------------------------------------------
def _line_end(text: str, offset: int) -> int:
    """Offset just after the line ending of the line holding ``offset`` (or the end of the text)."""
    for index in range(offset, len(text)):
        if text[index] == "\n":
            return index + 1
        if text[index] == "\r":
            return index + 2 if text[index + 1:index + 2] == "\n" else index + 1
    return len(text)


def append_to_array(document: TextDocument, node: Node, element: str) -> Optional[list[tuple[int, int, str]]]:
    """Edits adding the string ``element`` as the last item of array ``node``, in the array's own layout."""
    from .toml_spans import encode_string

    text = document.text
    items = [i for i in node.items]
    quote = '"'
    if items and items[-1].is_string and items[-1].quote in ('"', "'"):
        quote = items[-1].quote
    token = encode_string(element, quote)
    if not items:
        inner = text[node.start + 1:node.end - 1]
        if inner.strip():
            return None  # only comments inside: leave the layout to a human
        return [(node.start + 1, node.end - 1, token)]
    last = items[-1]
    after = text[last.end:node.end - 1]
    trailing_comma = after.lstrip(" \t").startswith(",")
    closing_line = document.position(node.end - 1)[0]
    last_line = document.position(last.end)[0]
    if closing_line > last_line:
        # Multi-line array: a new line under the last item, with its indentation.
        line_start = document.line_starts[document.position(last.start)[0] - 1]
        indent = text[line_start:last.start]
        if indent.strip():
            indent = " " * 4
        edits = []
        if not trailing_comma:
            edits.append((last.end, last.end, ","))
        insert_at = _line_end(text, last.end)
        edits.append((insert_at, insert_at, f"{indent}{token},{document.newline()}"))
        return edits
    if trailing_comma:
        comma = last.end + after.index(",") + 1
        return [(comma, comma, f" {token},")]
    return [(last.end, last.end, f", {token}")]


def append_to_table(document: TextDocument, spans: TomlSpans, path: tuple, line: str) -> Optional[tuple[int, int, str]]:
    """An edit adding ``line`` (``key = value``) as the last pair of the ``[path]`` section."""
    table = spans.tables.get(path)
    if table is None or not table.entries:
        return None
    text = document.text
    last = table.entries[-1]
    insert_at = _line_end(text, last.value.end)
    newline = document.newline()
    if insert_at == len(text) and not text.endswith(("\n", "\r")):
        return insert_at, insert_at, newline + line
    return insert_at, insert_at, line + newline
