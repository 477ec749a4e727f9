"""Property: whatever a requirements file holds, reading never raises, fixes make no line pip rejects,
bytes outside the fixed lines stay, and a second fix changes nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asgifix import compat
from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine
from asgifix.sources.requirements import parse
from asgifix.textio import TextDocument

PIECES = st.sampled_from([
    "asgiref==3.5.2", "asgiref 3.5.2", "channels=4.0", "Django =>3.2", "daphne>=2,", "django 3.x",
    "asgi_redis==1.4.3", "asgi-ipc", "channels==1.1.8", "pkg[extra] 1.2", "x==1.0 ; python_version < '3.8'",
    "asgiref=3.5.2 ; python_version >= \"3.8\"  # note", "# a comment", "   # indented", "", "  ",
    "bar==1.0 \\", "  --hash=sha256:abc", "\\", "-e .", "git+https://example.com/x.git#egg=x",
    "--index-url https://example.invalid/simple", "qux=1 \\", "naïve==1", "a==1,,", "\t# tab",
    "baz  # trailing", "Django>=3.2,<4", "req==1.0 --hash=sha256:def",
])
ENGINE = None


def _engine():
    global ENGINE
    if ENGINE is None:
        rules = select_rules(load_catalogue(), ["AFX101", "AFX102"], [])
        ENGINE = Engine(Settings(), rules, unsafe_fixes=True)
    return ENGINE


def _invalid_lines(path: Path) -> set[int]:
    from .pip_oracle import invalid_lines

    return invalid_lines(path.read_text(encoding="utf-8-sig"))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(PIECES, max_size=10), st.sampled_from(["\n", "\r\n"]), st.booleans(), st.booleans())
def test_fixes_parse_and_converge(monkeypatch, pieces, newline, final_newline, bom):
    monkeypatch.setattr(compat, "_knowledge", lambda: None)
    text = newline.join(pieces) + (newline if final_newline else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    document = TextDocument.decode(Path("requirements.txt"), "requirements.txt", data)
    parse(document)  # never raises on content

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "requirements.txt"
        path.write_bytes(data)
        before_invalid = _invalid_lines(path)
        _engine().fix([directory])
        fixed = path.read_bytes()
        # pip's own parser rejects no line it accepted before (fixes never move lines)
        assert _invalid_lines(path) <= before_invalid
        # encoding details survive: BOM, and no mixing of line endings
        assert fixed.startswith(b"\xef\xbb\xbf") == bom
        if newline == "\r\n":
            assert b"\n" not in fixed.replace(b"\r\n", b"")
        # lines without a finding are untouched: the fix keeps the line count and every comment
        assert fixed.decode("utf-8").count(newline) == data.decode("utf-8").count(newline)
        for piece in pieces:
            if piece.strip().startswith("#"):
                assert piece.encode() in fixed
        # a second run is a no-op
        _engine().fix([directory])
        assert path.read_bytes() == fixed
