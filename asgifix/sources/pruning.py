"""Skipping statements that a visitor cannot find anything in, by their source text.

The asgiref visitors look for imports of ``asgiref`` and for names bound to
it. A statement whose source lines contain neither the word ``asgiref`` nor
any of those names cannot hold such an import or a use of such a name: every
``Name``, attribute and import in it is spelled in those lines. Skipping it
(and all that is nested in it) gives the visitor's result unchanged, and on
real code most statements are skipped: a visitor walking every node costs
several times the parse.

Exactness needs the names to be spelled as the parser sees them: Python
NFKC-normalises non-ASCII identifiers, so a statement whose lines are not
all ASCII is never skipped.
"""

from __future__ import annotations

import ast
from collections import deque
from typing import Iterable, Iterator, Optional

from ..textio import TextDocument

# Tests turn this off to compare pruned and full walks.
ENABLED = True


class StatementText:
    """The source lines of statements of one document."""

    __slots__ = ("text", "starts")

    def __init__(self, document: TextDocument):
        self.text = document.text
        self.starts = document.line_starts  # the same line breaks as the tokenizer: \r\n, \r, \n

    def lacks(self, node: ast.AST, words: Iterable[str]) -> bool:
        """True when ``node`` is a statement whose source lines contain none of ``words``."""
        if not ENABLED or not isinstance(node, ast.stmt):
            return False
        first = node.lineno
        for decorator in getattr(node, "decorator_list", ()):  # decorators sit above a def's own line
            first = min(first, decorator.lineno)
        last = node.end_lineno or node.lineno
        starts = self.starts
        if first < 1 or first > len(starts):
            return False
        segment = self.text[starts[first - 1]:starts[last] if last < len(starts) else len(self.text)]
        if not segment.isascii():
            return False
        return not any(word in segment for word in words)


def walk(tree: ast.AST, statements: Optional[StatementText], words: tuple[str, ...]) -> Iterator[ast.AST]:
    """``ast.walk`` (breadth first, same order) without the statements that spell none of ``words``."""
    todo = deque([tree])
    while todo:
        node = todo.popleft()
        if statements is not None and statements.lacks(node, words):
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def statements(tree: ast.AST) -> Iterator[ast.stmt]:
    """Every statement of ``tree``, nested ones included (function, class, if/try/with/match bodies),
    depth first in source order, without walking expressions: several times cheaper than
    ``ast.walk`` for a visitor that looks only at statements (defs, classes, assignments)."""
    stack = list(reversed(getattr(tree, "body", ())))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            yield node
        for field in _BODIES:
            children = getattr(node, field, None)
            if children:
                stack.extend(reversed(children))
