"""Prose named like a requirements file is recognised early, without pip's parser.

``looks_foreign`` may only say True where ``is_foreign`` (after a full parse
with pip's grammar) would: every line it counts must be one pip rejects and
that reads as prose.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from asgifix.sources import requirements
from asgifix.sources.requirements import LogicalLine, _certainly_prose, _classify, _prose_like
from asgifix.textio import TextDocument

WORDS = st.sampled_from([
    "asgiref", "Django", "the", "is", "a", "channels", "3.5.2", "==", "=", ">=", ";", "@", "[x]", "(", ")",
    "-e", "--hash=sha256:abc", ".", "..", "./x", "/abs", "C:\\x", "x.zip", "pkg.tar.gz", "https://h/p",
    "git+https://h/r.git", "`code`", ":ref:", "===", "---", "~/x", "${VAR}", "'q'", '"q"', "*", "<", ">",
    "#", "python_version", "<'3.8'", "and", "or", "extra", "x_y", "a.b-c", "1", "0.1", "!", "%", "^", ",",
])
LINES = st.lists(WORDS, min_size=1, max_size=7).map(" ".join) | st.lists(WORDS, min_size=1, max_size=4).map("".join)


def _document(text: str, name: str = "constraints.txt") -> TextDocument:
    return TextDocument.decode(Path(name), name, text.encode(), python=False)


@settings(max_examples=400, deadline=None)
@given(LINES)
def test_a_line_counted_as_prose_is_one_pip_rejects_and_reads_as_prose(text):
    text = text.strip()
    if not text or not _certainly_prose(text):
        return
    entry = _classify(LogicalLine(1, text, list(range(len(text)))))
    assert entry.kind == "invalid", (text, entry.kind)
    assert _prose_like(entry)


@settings(max_examples=150, deadline=None)
@given(st.lists(LINES, max_size=12))
def test_looks_foreign_implies_is_foreign(lines):
    document = _document("\n".join(lines) + "\n")
    if requirements.looks_foreign(document):
        assert requirements.is_foreign(requirements.parse(document))


PROSE = """\
=====================
Database constraints
=====================

.. module:: django.db.models.constraints

The classes defined in this module create database constraints. They are added
in the model :attr:`Meta.constraints <django.db.models.Options.constraints>`
option.

``name``
--------
The name of the constraint. You must always specify a unique name.
"""


def test_docs_prose_is_recognised_without_pip(monkeypatch):
    def no_pip(logical):
        raise AssertionError(f"pip's parser was asked about {logical.text!r}")

    monkeypatch.setattr(requirements, "_pip_entry", no_pip)
    assert requirements.looks_foreign(_document(PROSE))


def test_requirements_with_typos_are_not_prose():
    typos = "django 3.2\nasgiref 3.5.2\nchannels 3.0\ndaphne 3.0\nDjango = 3.2\n"
    assert not requirements.looks_foreign(_document(typos, "requirements.txt"))
    # Three sentences among many real requirements: not enough to call the file prose.
    mixed = "\n".join(["Django==4.2"] * 8 + ["this line is prose"] * 3) + "\n"
    assert not requirements.looks_foreign(_document(mixed, "requirements.txt"))
