"""AFX206: sync_to_async(async def) / async_to_sync(plain def), judged from the releases' own checks."""

from __future__ import annotations

import tomllib

from asgifix._paths import data_dir
from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine
from asgifix.matchers.wrapped_callee import releases_with


def _engine(target=None, unsafe=False) -> Engine:
    return Engine(Settings(target_asgiref=target), select_rules(load_catalogue(), ["AFX206"], []),
                  unsafe_fixes=unsafe)


def _findings(tree, source: str, pins: str = "asgiref==3.8.1\n", target=None):
    root = tree({"m.py": source, "requirements.txt": pins})
    return [f for f in _engine(target).run([str(root)])[0].findings if f.code == "AFX206"]


def test_data_agrees_with_the_curated_changes():
    """The generated per-release checks and behaviour.toml's hand-written entries name the same first releases."""
    changes = {c["id"]: c for c in tomllib.loads((data_dir() / "behaviour.toml").read_text())["change"]}
    refuses = releases_with("sync-to-async-refuses-coroutine-function")
    assert changes["sync-to-async-refuses-coroutine-functions"]["version"] == "3.3.2"
    assert "3.3.2" in refuses and "3.13.0" in refuses and "3.3.1" not in refuses
    assert releases_with("async-to-sync-refuses-sync-function") == {"3.3.2", "3.3.3"}
    assert "3.3.4" in releases_with("async-to-sync-warns-sync-function")
    assert changes["async-to-sync-sync-functions-warn"]["version"] == "3.3.4"


def test_nested_def_shadows_the_module_def(tree):
    source = ("from asgiref.sync import sync_to_async\n\nasync def load():\n    return 1\n\n"
              "def outer():\n    def load():\n        return 2\n    return sync_to_async(load)\n")
    assert _findings(tree, source) == []


def test_rebound_name_and_attribute_callee_are_not_guessed(tree):
    source = ("from asgiref.sync import sync_to_async\n\nasync def load():\n    return 1\n\n"
              "if True:\n    load = print\n\nclass C:\n    async def m(self):\n        return 1\n"
              "    def run(self):\n        return sync_to_async(self.m)\n\nw = sync_to_async(load)\n")
    assert _findings(tree, source) == []


def test_keywords_keep_the_finding_but_drop_the_fix(tree):
    source = ("from asgiref.sync import sync_to_async\n\nasync def load():\n    return 1\n\n"
              "w = sync_to_async(load, thread_sensitive=False)\n")
    found = _findings(tree, source)
    assert len(found) == 1 and found[0].severity == "error" and found[0].fix is None


def test_target_asgiref_decides(tree):
    source = ("from asgiref.sync import async_to_sync\n\ndef send(x):\n    return x\n\nf = async_to_sync(send)\n")
    assert [f.severity for f in _findings(tree, source, target="3.3.3")] == ["error"]
    assert _findings(tree, source, target="3.3.1") == []


def test_fix_converges_and_compiles(tree):
    source = ("from asgiref.sync import sync_to_async\n\n\n@sync_to_async\nasync def a():\n    return 1\n\n"
              "async def b():\n    return await sync_to_async(a)()\n")
    root = tree({"m.py": source, "requirements.txt": "asgiref==3.8.1\n"})
    _engine(unsafe=True).fix([str(root)])
    fixed = (root / "m.py").read_text()
    compile(fixed, "m.py", "exec")
    assert "@sync_to_async" not in fixed and "await a()" in fixed
    assert _engine(unsafe=True).fix([str(root)]).report.fixed == 0
