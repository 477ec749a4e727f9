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
import re
from bisect import bisect_left, bisect_right
from collections import deque
from typing import Iterable, Iterator, Optional

from ..textio import TextDocument

# Tests turn this off to compare pruned and full walks.
ENABLED = True


class StatementText:
    """The source lines of statements of one document.

    ``lacks`` asks whether a statement's lines spell a word; visitors ask it of every statement
    they might skip, nested ones too. Instead of slicing the statement's text each time, the
    lines holding each word are found once per document (one ``str.find`` pass per word), and a
    statement lacks the word when none of those lines lies between its first and last line.
    """

    __slots__ = ("text", "starts", "_lines", "_wide", "document")

    def __init__(self, document: TextDocument):
        self.document = document
        self.text = document.text
        self.starts = document.line_starts  # the same line breaks as the tokenizer: \r\n, \r, \n
        self._lines: dict[str, list[int]] = {}
        self._wide: Optional[list[int]] = None  # lines holding a non-ASCII character

    @classmethod
    def of(cls, document: TextDocument) -> "StatementText":
        """The document's StatementText, shared by the visitors of one file (they run one after another)."""
        last = _LAST[0]
        if last is not None and last.document is document:
            return last
        made = _LAST[0] = cls(document)
        return made

    def _word_lines(self, word: str) -> list[int]:
        lines = self._lines.get(word)
        if lines is None:
            lines = self._lines[word] = []
            text, starts = self.text, self.starts
            count = len(starts)
            at = text.find(word)
            while at >= 0:
                line = bisect_right(starts, at)  # 1-based: the line holding offset `at`
                lines.append(line)
                if line >= count:
                    break
                at = text.find(word, starts[line])  # (the next line on: one entry a line)
        return lines

    def _wide_lines(self) -> list[int]:
        wide = self._wide
        if wide is None:
            wide = self._wide = [] if self.text.isascii() else sorted(
                {bisect_right(self.starts, m.start()) for m in _NON_ASCII.finditer(self.text)})
        return wide

    def lacks(self, node: ast.AST, words: Iterable[str]) -> bool:
        """True when ``node`` is a statement whose source lines contain none of ``words``."""
        if not ENABLED or not isinstance(node, ast.stmt):
            return False
        first = node.lineno
        for decorator in getattr(node, "decorator_list", ()):  # decorators sit above a def's own line
            first = min(first, decorator.lineno)
        last = node.end_lineno or node.lineno
        if first < 1 or first > len(self.starts):
            return False
        wide = self._wide_lines()
        if wide:
            index = bisect_left(wide, first)
            if index < len(wide) and wide[index] <= last:
                return False
        for word in words:
            lines = self._word_lines(word)
            index = bisect_left(lines, first)
            if index < len(lines) and lines[index] <= last:
                return False
        return True


# The StatementText made last (StatementText.of).
_LAST: list = [None]
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


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
