"""AFX501 fixes: exact splices that keep every other byte, in every scope shape."""

from __future__ import annotations

import pytest

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine


def _fix(tree, source: bytes) -> tuple[bytes, list]:
    root = tree({"m.py": source})
    engine = Engine(Settings(), select_rules(load_catalogue(), ["AFX501"], []))
    outcome = engine.fix([str(root)])
    return (root / "m.py").read_bytes(), outcome.report.findings


@pytest.mark.parametrize(
    "before, after",
    [
        (b"from asgiref.sync import async_to_sync as a2s\r\nasync def f(g):\r\n    x = a2s(g)(1)[0]  \r\n",
         b"from asgiref.sync import async_to_sync as a2s\r\nasync def f(g):\r\n    x = (await g(1))[0]  \r\n"),
        (b"import asgiref.sync\nasync def f(g):\n    return asgiref.sync.AsyncToSync(g)()()\n",
         b"import asgiref.sync\nasync def f(g):\n    return (await g())()\n"),
        ("from asgiref.sync import async_to_sync\nasync def f(g):\n    s = 'é'; async_to_sync(g)(s)\n".encode(),
         "from asgiref.sync import async_to_sync\nasync def f(g):\n    s = 'é'; await g(s)\n".encode()),
        (b"from asgiref.sync import async_to_sync\nasync def f(gs):\n    return [async_to_sync(g)() for g in gs]\n",
         b"from asgiref.sync import async_to_sync\nasync def f(gs):\n    return [await g() for g in gs]\n"),
    ],
)
def test_fixes(tree, before, after):
    fixed, remaining = _fix(tree, before)
    assert fixed == after
    assert remaining == []


@pytest.mark.parametrize(
    "source",
    [
        b"from asgiref.sync import async_to_sync\ndef f(g):\n    async_to_sync(g)()\n",
        b"from asgiref.sync import async_to_sync\nasync def f(g):\n    h = lambda: async_to_sync(g)()\n",
        b"from asgiref.sync import async_to_sync\nasync def f(g):\n    class C:\n        x = async_to_sync(g)\n",
        b"from mylib import async_to_sync\nasync def f(g):\n    async_to_sync(g)()\n",
        b"from asgiref.sync import async_to_sync\nasync def f(g):\n    async_to_sync(g)()  # noqa: AFX501\n",
    ],
)
def test_not_reported(tree, source):
    fixed, remaining = _fix(tree, source)
    assert fixed == source
    assert remaining == []
