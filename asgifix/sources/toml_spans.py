"""Where each key and value of a TOML document is, as character offsets.

``tomllib`` decides what a document *means* (and whether it is valid); it
keeps no positions. This module walks the same text once more and records,
for every key/value pair, the span of its key and of its value, so sources
can point findings at the exact string and fixes can splice exactly that
string. It is only ever run on text tomllib has accepted, so it can be
small: it recognises TOML's token shapes and does not re-validate them.

Why span-exact edits rather than tomlkit: tomlkit keeps formatting well, but
replacing a value through it may re-quote the string (literal to basic) or
re-serialise an inline table; splicing the characters of one string keeps
every other byte by construction, and tomllib re-parses the result before
it is written.
"""

from __future__ import annotations

import re
from ..records import dataclass, field
from typing import Any, Optional, Union

Path = tuple  # a key path: str keys, int indexes for arrays of tables / array items

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_WS = " \t"
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


class TomlSpanError(Exception):
    """The text is not TOML this locator understands (tomllib should have refused it first)."""


@dataclass
class Node:
    """A value with its span. ``kind`` is string, array, table (inline) or scalar."""

    kind: str
    start: int  # offset of the first character of the value (the opening quote/bracket)
    end: int  # offset after its last character
    value: Any = None  # decoded string for strings; items/entries for containers
    quote: str = ""  # '"', "'", '\"\"\"' or "'''" for strings
    items: list["Node"] = field(default_factory=list)  # arrays
    entries: list["KeyValue"] = field(default_factory=list)  # inline tables

    @property
    def content_start(self) -> int:
        return self.start + len(self.quote)

    @property
    def content_end(self) -> int:
        return self.end - len(self.quote)

    @property
    def is_string(self) -> bool:
        return self.kind == "string"


@dataclass
class KeyValue:
    path: Path  # full path from the document root
    key_start: int  # span of the last key part as written (with its quotes)
    key_end: int
    value: Node
    line_start: int  # offset of the start of the line the pair begins on

    @property
    def key(self) -> Any:
        return self.path[-1]


@dataclass
class Table:
    """A ``[table]`` or ``[[array.of.tables]]`` section: header span and where its body ends."""

    path: Path
    header_start: int
    header_end: int
    body_end: int  # offset where the next header starts (or the end of the text)
    entries: list[KeyValue] = field(default_factory=list)  # direct pairs, in order


@dataclass
class TomlSpans:
    text: str
    pairs: dict[Path, KeyValue] = field(default_factory=dict)
    tables: dict[Path, Table] = field(default_factory=dict)
    order: list[KeyValue] = field(default_factory=list)

    def get(self, *path: Union[str, int]) -> Optional[KeyValue]:
        return self.pairs.get(tuple(path))

    def children(self, *path: Union[str, int]) -> list[KeyValue]:
        """Pairs directly below ``path`` (a table, an inline table or dotted keys), in document order."""
        prefix = tuple(path)
        return [kv for kv in self.order if len(kv.path) == len(prefix) + 1 and kv.path[:-1] == prefix]

    def array_tables(self, *path: str) -> list[Table]:
        """``[[path]]`` sections in order."""
        prefix = tuple(path)
        found = [t for p, t in self.tables.items() if len(p) == len(prefix) + 1 and p[:-1] == prefix
                 and isinstance(p[-1], int)]
        return sorted(found, key=lambda t: t.header_start)


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.result = TomlSpans(text)
        self.table_path: Path = ()
        self.array_counts: dict[Path, int] = {}
        self.current: Optional[Table] = None

    # -- low level ------------------------------------------------------------------
    def peek(self, count: int = 1) -> str:
        return self.text[self.pos:self.pos + count]

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WS:
            self.pos += 1

    def skip_comment(self) -> None:
        if self.peek() == "#":
            while self.pos < len(self.text) and self.text[self.pos] not in "\r\n":
                self.pos += 1

    def skip_blank(self) -> None:
        """Whitespace, newlines and comments (inside arrays)."""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in _WS or char in "\r\n":
                self.pos += 1
            elif char == "#":
                self.skip_comment()
            else:
                return

    def expect(self, literal: str) -> None:
        if not self.text.startswith(literal, self.pos):
            line = self.text.count("\n", 0, self.pos) + 1
            raise TomlSpanError(f"expected {literal!r} at line {line}")
        self.pos += len(literal)

    def line_start(self, offset: int) -> int:
        return max(self.text.rfind("\n", 0, offset), self.text.rfind("\r", 0, offset)) + 1

    # -- document -------------------------------------------------------------------
    def run(self) -> TomlSpans:
        self.current = Table((), 0, 0, len(self.text))
        self.result.tables[()] = self.current
        while self.pos < len(self.text):
            self.skip_blank()
            if self.pos >= len(self.text):
                break
            if self.peek() == "[":
                self.header()
            else:
                self.pair(self.table_path, self.current)
            self.skip_ws()
            self.skip_comment()
        return self.result

    def header(self) -> None:
        start = self.pos
        array = self.peek(2) == "[["
        self.pos += 2 if array else 1
        self.skip_ws()
        keys, _, _ = self.key()
        self.skip_ws()
        self.expect("]]" if array else "]")
        if self.current is not None:
            self.current.body_end = start
        if array:
            path: Path = self._resolve_arrays(tuple(keys[:-1])) + (keys[-1],)
            index = self.array_counts.get(path, 0)
            self.array_counts[path] = index + 1
            path = path + (index,)
        else:
            path = self._resolve_arrays(tuple(keys))
        self.table_path = path
        self.current = Table(path, start, self.pos, len(self.text))
        self.result.tables[path] = self.current

    def _resolve_arrays(self, path: Path) -> Path:
        """``[a.b]`` after ``[[a]]`` means the last element of array ``a``."""
        resolved: list = []
        for part in path:
            resolved.append(part)
            count = self.array_counts.get(tuple(resolved))
            if count:
                resolved.append(count - 1)
        return tuple(resolved)

    def key(self) -> tuple[list[str], int, int]:
        """A dotted key: its parts, and the span of the last part."""
        parts: list[str] = []
        last_start = last_end = self.pos
        while True:
            self.skip_ws()
            last_start = self.pos
            char = self.peek()
            if char == '"':
                parts.append(self.basic_string()[0])
            elif char == "'":
                parts.append(self.literal_string()[0])
            else:
                match = _BARE_KEY.match(self.text, self.pos)
                if not match:
                    raise TomlSpanError(f"expected a key at offset {self.pos}")
                parts.append(match.group())
                self.pos = match.end()
            last_end = self.pos
            self.skip_ws()
            if self.peek() == ".":
                self.pos += 1
                continue
            return parts, last_start, last_end

    def pair(self, base: Path, table: Optional[Table]) -> KeyValue:
        begin = self.pos
        keys, key_start, key_end = self.key()
        self.skip_ws()
        self.expect("=")
        self.skip_ws()
        path = base + tuple(keys)
        value = self.value(path)
        pair = KeyValue(path, key_start, key_end, value, self.line_start(begin))
        self.result.pairs[path] = pair
        self.result.order.append(pair)
        if table is not None and len(keys) == 1:
            table.entries.append(pair)
        return pair

    # -- values -----------------------------------------------------------------------
    def value(self, path: Path) -> Node:
        start = self.pos
        char = self.peek()
        if char == '"':
            quote = '"""' if self.peek(3) == '"""' else '"'
            text = self.ml_basic_string() if quote == '"""' else self.basic_string()[0]
            return Node("string", start, self.pos, text, quote)
        if char == "'":
            quote = "'''" if self.peek(3) == "'''" else "'"
            text = self.ml_literal_string() if quote == "'''" else self.literal_string()[0]
            return Node("string", start, self.pos, text, quote)
        if char == "[":
            return self.array(path)
        if char == "{":
            return self.inline_table(path)
        return self.scalar()

    def scalar(self) -> Node:
        start = self.pos
        match = _DATE_TIME.match(self.text, self.pos)
        if match:
            self.pos = match.end()
        while self.pos < len(self.text) and self.text[self.pos] not in " \t\r\n,]}#":
            self.pos += 1
        if self.pos == start:
            raise TomlSpanError(f"expected a value at offset {start}")
        return Node("scalar", start, self.pos, self.text[start:self.pos])

    def array(self, path: Path) -> Node:
        start = self.pos
        self.expect("[")
        items: list[Node] = []
        while True:
            self.skip_blank()
            if self.peek() == "]":
                self.pos += 1
                break
            items.append(self.value(path + (len(items),)))
            self.skip_blank()
            if self.peek() == ",":
                self.pos += 1
        return Node("array", start, self.pos, None, items=items)

    def inline_table(self, path: Path) -> Node:
        start = self.pos
        self.expect("{")
        entries: list[KeyValue] = []
        while True:
            self.skip_blank()  # TOML 1.1 allows newlines here; tomllib 1.0 refuses them first
            if self.peek() == "}":
                self.pos += 1
                break
            entries.append(self.pair(path, None))
            self.skip_blank()
            if self.peek() == ",":
                self.pos += 1
        return Node("table", start, self.pos, None, entries=entries)

    # -- strings -------------------------------------------------------------------------
    def basic_string(self) -> tuple[str, int]:
        self.expect('"')
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise TomlSpanError("unterminated string")
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(out), self.pos
            if char == "\\":
                out.append(self._escape())
                continue
            out.append(char)
            self.pos += 1

    def _escape(self) -> str:
        code = self.text[self.pos + 1:self.pos + 2]
        if code in _ESCAPES:
            self.pos += 2
            return _ESCAPES[code]
        if code in ("u", "U", "x"):
            width = {"u": 4, "U": 8, "x": 2}[code]
            digits = self.text[self.pos + 2:self.pos + 2 + width]
            self.pos += 2 + width
            return chr(int(digits, 16))
        raise TomlSpanError(f"unknown escape at offset {self.pos}")

    def ml_basic_string(self) -> str:
        self.expect('"""')
        if self.peek(2) == "\r\n":
            self.pos += 2
        elif self.peek() == "\n":
            self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise TomlSpanError("unterminated string")
            if self.text.startswith('"""', self.pos):
                # Up to two quotes may sit right before the closing delimiter.
                extra = 0
                while extra < 2 and self.text.startswith('"', self.pos + 3 + extra):
                    extra += 1
                out.append('"' * extra)
                self.pos += 3 + extra
                return "".join(out)
            char = self.text[self.pos]
            if char == "\\":
                following = self.text[self.pos + 1:self.pos + 2]
                if following in (" ", "\t", "\r", "\n"):
                    # A line-ending backslash trims the newline and the whitespace after it.
                    probe = self.pos + 1
                    while probe < len(self.text) and self.text[probe] in " \t":
                        probe += 1
                    if probe < len(self.text) and self.text[probe] in "\r\n":
                        while probe < len(self.text) and self.text[probe] in " \t\r\n":
                            probe += 1
                        self.pos = probe
                        continue
                out.append(self._escape())
                continue
            out.append(char)
            self.pos += 1

    def literal_string(self) -> tuple[str, int]:
        self.expect("'")
        end = self.text.find("'", self.pos)
        if end == -1:
            raise TomlSpanError("unterminated string")
        value = self.text[self.pos:end]
        self.pos = end + 1
        return value, self.pos

    def ml_literal_string(self) -> str:
        self.expect("'''")
        if self.peek(2) == "\r\n":
            self.pos += 2
        elif self.peek() == "\n":
            self.pos += 1
        end = self.text.find("'''", self.pos)
        if end == -1:
            raise TomlSpanError("unterminated string")
        extra = 0
        while extra < 2 and self.text.startswith("'", end + 3 + extra):
            extra += 1
        value = self.text[self.pos:end + extra]
        self.pos = end + 3 + extra
        return value


def locate(text: str) -> TomlSpans:
    """Spans of every key and value in ``text`` (which tomllib has accepted)."""
    return _Scanner(text).run()


def raw_is_value(text: str, node: Node) -> bool:
    """True when the characters between the quotes are exactly the decoded value (no escapes)."""
    return node.is_string and text[node.content_start:node.content_end] == node.value


def encode_string(value: str, quote: str) -> str:
    """``value`` as a TOML string token, in the quoting style ``quote`` when that style can hold it."""
    if quote == "'" and "'" not in value and not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", value):
        return f"'{value}'"
    if quote == "'''" and "'''" not in value and not value.endswith("'"):
        return f"'''{value}'''"
    escaped = []
    for char in value:
        if char == '"':
            escaped.append('\\"')
        elif char == "\\":
            escaped.append("\\\\")
        elif char == "\n":
            escaped.append("\\n")
        elif char == "\t":
            escaped.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def string_replacement(text: str, node: Node, new_value: str) -> tuple[int, int, str]:
    """(start, end, content) replacing string ``node`` by ``new_value``, touching as little as possible.

    When the old string has no escapes and the new value needs none in the same
    quoting style, only the characters between the quotes change; otherwise the
    whole token is rewritten (in the same style when it can hold the value).
    """
    token = encode_string(new_value, node.quote)
    same_style = token.startswith(node.quote) and token.endswith(node.quote) and len(token) >= 2 * len(node.quote)
    if same_style and raw_is_value(text, node):
        inner = token[len(node.quote):len(token) - len(node.quote)]
        if inner == new_value:
            return node.content_start, node.content_end, new_value
    return node.start, node.end, token


def tomllib_error_line(exc: Exception) -> Optional[int]:
    """The line number tomllib puts in its messages ("... (at line 3, column 7)")."""
    match = re.search(r"at line (\d+)", str(exc))
    return int(match.group(1)) if match else None
