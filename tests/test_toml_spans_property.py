"""Property: for any dependency strings in any TOML quoting, spans find them and edits keep every other byte."""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from asgifix.sources.declared import Writer, DeclaredRequirement, value_edit
from asgifix.sources.toml_spans import encode_string, locate
from asgifix.textio import TextDocument

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

VALUES = st.text(alphabet=st.sampled_from(list("asgiref=<>~!,;. 0123'\"\\[]#é\t")), max_size=20)
QUOTES = st.sampled_from(['"', "'", '"""', "'''"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(VALUES, QUOTES), min_size=1, max_size=5), st.sampled_from(["\n", "\r\n"]),
       st.integers(0, 4), VALUES)
def test_spans_and_edits(items, newline, which, replacement):
    tokens = [encode_string(value, quote) for value, quote in items]
    text = f"# deps{newline}[project]{newline}dependencies = [{newline}" + "".join(
        f"    {token},  # c{newline}" for token in tokens) + f"]{newline}[tool.x]{newline}y = 1{newline}"
    values = tomllib.loads(text)["project"]["dependencies"]
    node = locate(text).get("project", "dependencies").value
    assert [item.value for item in node.items] == values
    index = which % len(node.items)
    item = node.items[index]
    writer = Writer("toml", item.start, item.end, item.quote,
                    exact=text[item.content_start:item.content_end] == item.value)
    entry = DeclaredRequirement("pep508", item.value, item.content_start, item.content_end, 1, "g", writer)
    document = TextDocument(None, "pyproject.toml", text.encode(), text, "utf-8", False)
    start, end, content = value_edit(document, entry, replacement)
    fixed = text[:start] + content + text[end:]
    expected = list(values)
    expected[index] = replacement
    assert tomllib.loads(fixed)["project"]["dependencies"] == expected
    assert fixed[:item.start] == text[:item.start] and fixed[end + len(fixed) - len(text):] == text[end:]
