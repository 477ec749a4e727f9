"""The rewrite layer: Python rewrites as ordinary fixes (``Edit`` spans of whole statements or expressions).

Detection is done on the stdlib ``ast`` (:mod:`asgifix.names`); this module is imported only when a
file gets a rewrite, and only then imports libcst. The node to change is found by its ``ast``
position, and libcst parses just that statement's source (``parse_statement``, cached per text) --
not the whole module: no metadata pass and no tree copy are needed, and on a tree where every
module gets a rewrite libcst is ~7% of the run instead of ~77% (bench/codemod.py). The node is
transformed and printed back (with the statement's own line ending); the edit replaces exactly the
old node's characters, so every byte outside it (encoding, BOM, line endings, comments,
formatting) stays as it was, and the engine's own ``fix`` machinery (overlap rules, ``--diff``,
JSON edits, validation, atomic writes, the second pass that must change nothing) applies unchanged.

API:

* :func:`module_import_edits` -- ``import old.module [as m]`` -> ``import new.module [as m]`` (AFX203 rewrites the uses).
* :func:`import_move_edits` -- ``from old import A, B as C`` with some names moved: rewrites the
  statement in place (aliases, parentheses and comments inside it kept), splits it when only some
  names move, and merges moved names into an existing ``from new import ...`` statement.
* :func:`replace_edit` / :func:`insert_edit` -- an ``Edit`` for a character span of a document.
* :func:`char_offset` -- ``ast`` (line, UTF-8 byte column) -> character offset.
"""

from __future__ import annotations

from collections import OrderedDict
from .records import dataclass
from typing import Any, Optional, Sequence

from .model import Edit
from .textio import TextDocument

# libcst modules parsed for rewriting, by document text (a fix round asks several rules about one file).
_PARSED: "OrderedDict[tuple[str, int], Any]" = OrderedDict()
_PARSED_MAX = 32

# How much of a run's time went to libcst (parse + print), for the benchmark.
LIBCST_SECONDS = [0.0]


def char_offset(document: TextDocument, line: int, byte_column: int) -> int:
    text = document.line_text(line)
    prefix = text.encode("utf-8", "surrogatepass")[:byte_column].decode("utf-8", "replace")
    return document.line_starts[line - 1] + len(prefix)


def replace_edit(document: TextDocument, start: int, end: int, content: str) -> Edit:
    return Edit(document.display, document.span(start, end), content)


def insert_edit(document: TextDocument, at: int, content: str) -> Edit:
    return Edit(document.display, document.span(at, at), content)


def _parse_statement(text: str, newline: str = "\n"):
    """The libcst node of one import statement's source (cached: a fix round asks about each once)."""
    if "\r\n" in text:
        newline = "\r\n"
    elif "\r" in text:
        newline = "\r"
    elif "\n" in text:
        newline = "\n"
    key = (newline, hash(text))
    cached = _PARSED.get(key)
    if cached is not None:
        _PARSED.move_to_end(key)
        return cached
    import time

    started = time.perf_counter()
    import libcst as cst

    try:
        line = cst.parse_statement(text, config=cst.PartialParserConfig(default_newline=newline))
    except cst.ParserSyntaxError:
        line = None
    node = line.body[0] if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
    LIBCST_SECONDS[0] += time.perf_counter() - started
    _PARSED[key] = (node, cst.Module(body=[], default_newline=newline) if node is not None else None)
    if len(_PARSED) > _PARSED_MAX:
        _PARSED.popitem(last=False)
    return _PARSED[key]


def _dotted_node(dotted: str):
    import libcst as cst

    parts = dotted.split(".")
    node: Any = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


@dataclass(frozen=True)
class Statement:
    """Where an import statement is (``ast`` positions, as :class:`asgifix.names.Binding` has them)."""

    line: int
    column: int  # UTF-8 byte column
    end_line: int
    end_column: int


def _span(document: TextDocument, statement: Statement) -> tuple[int, int]:
    return (char_offset(document, statement.line, statement.column),
            char_offset(document, statement.end_line, statement.end_column))


def _node_at(document: TextDocument, statement: Statement):
    """(libcst node, module for printing) of the import statement at ``statement``: the statement's own
    source is parsed (parenthesised continuation lines parse as they are), never the whole file."""
    start, end = _span(document, statement)
    return _parse_statement(document.text[start:end], document.newline())


def _alias_name(alias) -> str:
    import libcst as cst

    name = alias.name
    parts = []
    while isinstance(name, cst.Attribute):
        parts.append(name.attr.value)
        name = name.value
    parts.append(name.value)
    return ".".join(reversed(parts))


def import_move_edits(document: TextDocument, statement: Statement, renames: dict[str, tuple[str, str]],
                      merge_into: Optional[dict[str, Statement]] = None) -> Optional[list[Edit]]:
    """Edits moving names of one ``from M import ...`` statement.

    ``renames``: imported name -> (new module, new name). A renamed name keeps its local
    spelling (``from new import NewName as OldName``) unless it had an alias, so no use of it
    has to change. ``merge_into``: new module -> an existing ``from new_module import ...``
    statement of the same scope to add the names to. None when the statement is not found
    as expected (the caller reports without a fix).
    """
    import time

    import libcst as cst

    node, module = _node_at(document, statement)
    if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar) or node.relative:
        return None
    started = time.perf_counter()
    kept: list = []
    moved: "OrderedDict[str, list]" = OrderedDict()
    own_module = module.code_for_node(node.module) if node.module is not None else ""
    renamed_here = False
    for alias in node.names:
        name = _alias_name(alias)
        if name not in renames:
            kept.append(alias)
            continue
        new_module, new_name = renames[name]
        if alias.asname is None and new_name != name:
            asname = cst.AsName(name=cst.Name(name))
        else:
            asname = alias.asname
        renamed = alias.with_changes(name=cst.Name(new_name), asname=asname)
        if new_module == own_module:  # a rename within the module: in place, order kept
            kept.append(renamed)
            renamed_here = True
        else:
            moved.setdefault(new_module, []).append(renamed)
    if not moved and not renamed_here:
        return None
    last_comma = node.names[-1].comma

    def fix_commas(aliases: list) -> list:
        aliases = list(aliases)
        if aliases:
            aliases[-1] = aliases[-1].with_changes(comma=last_comma)
        return aliases

    def code(new_node) -> str:
        # The node was parsed from its own text at top level: printing it the same way keeps every
        # byte of its continuation lines (their indentation is literal inside the parentheses).
        return module.code_for_node(new_node.with_changes(semicolon=cst.MaybeSentinel.DEFAULT))

    edits: list[Edit] = []
    additions: list[str] = []
    # Merging empties this statement when every name goes elsewhere: only at module level, where
    # the emptied line can go (inside a block it might be the block's only statement).
    merge_into = (merge_into or {}) if statement.column == 0 else {}
    for new_module, aliases in moved.items():
        target = merge_into.get(new_module)
        target_node = _node_at(document, target)[0] if target is not None else None
        if (isinstance(target_node, cst.ImportFrom) and not isinstance(target_node.names, cst.ImportStar)
                and target != statement):
            present = {(_alias_name(a), a.asname.name.value if a.asname else None) for a in target_node.names}
            extra = [a for a in aliases
                     if (_alias_name(a), a.asname.name.value if a.asname else None) not in present]
            if extra:
                names = list(target_node.names)
                names[-1] = names[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                merged = names + [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in extra]
                merged[-1] = merged[-1].with_changes(comma=target_node.names[-1].comma)
                start, end = _span(document, target)
                edits.append(replace_edit(document, start, end, code(target_node.with_changes(names=merged))))
            continue
        additions.append(new_module)
    start, end = _span(document, statement)
    if not kept and len(additions) == 1:
        # Everything moves to one module: rewrite in place, keeping parentheses and comments.
        new_module = additions[0]
        content = code(node.with_changes(module=_dotted_node(new_module), names=fix_commas(moved[new_module])))
    else:
        pieces = []
        if kept:
            pieces.append(code(node.with_changes(names=fix_commas(kept))))
        for new_module in additions:
            aliases = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in moved[new_module]]
            for index in range(len(aliases) - 1):
                aliases[index] = aliases[index].with_changes(
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            fresh = cst.ImportFrom(module=_dotted_node(new_module), names=aliases)
            pieces.append(module.code_for_node(fresh))
        line_text = document.line_text(statement.line)
        indent = line_text[: start - document.line_starts[statement.line - 1]]
        after = document.line_text(statement.end_line)[end - document.line_starts[statement.end_line - 1]:]
        if indent.strip() or after.lstrip().startswith(";"):
            separator = "; "  # the statement shares its line with others
        else:
            separator = document.newline() + indent
        content = separator.join(pieces)
        if not pieces and not indent and not after.strip():
            # Every name was merged elsewhere: the statement's line goes, line ending included.
            line_end = document.line_starts[statement.end_line] if statement.end_line < document.line_count \
                else len(document.text)
            end = line_end
    LIBCST_SECONDS[0] += time.perf_counter() - started
    edits.insert(0, replace_edit(document, start, end, content))
    return edits


def module_import_edits(document: TextDocument, statement: Statement, old_module: str,
                        new_module: str) -> Optional[list[Edit]]:
    """``import old.module as x`` -> ``import new.module as x``, ``import old.module`` -> ``import new.module``
    (the caller checked and rewrites every use). None unless the statement imports exactly ``old_module``."""
    import libcst as cst

    node, module = _node_at(document, statement)
    if not isinstance(node, cst.Import) or len(node.names) != 1:
        return None
    alias = node.names[0]
    if _alias_name(alias) != old_module:
        return None
    new_node = node.with_changes(names=[alias.with_changes(name=_dotted_node(new_module))],
                                 semicolon=cst.MaybeSentinel.DEFAULT)
    start, end = _span(document, statement)
    return [replace_edit(document, start, end, module.code_for_node(new_node))]


def names_in(aliases: Sequence[str]) -> str:
    return ", ".join(f"`{a}`" for a in aliases)
