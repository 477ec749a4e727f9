"""The codemod layer: rewrites keep every byte outside the edited nodes, converge, and decide from the pins."""

from __future__ import annotations

import codecs
import py_compile
import shutil

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine

from .conftest import FIXTURES, run_cli, write_tree


def _fix(root, codes=("AFX203", "AFX204"), unsafe=True):
    rules = select_rules(load_catalogue(), list(codes), [])
    return Engine(Settings(), rules, unsafe_fixes=unsafe).fix([str(root)])


def test_bom_crlf_and_coding_cookie_survive_an_import_rewrite(tmp_path):
    body = ("# -*- coding: latin-1 -*-\r\n# caf\xe9\r\nfrom channels.test import (\r\n"
            "    ChannelLiveServerTestCase,  # live\r\n)\r\nx = 1\r\n")
    raw = body.encode("latin-1")
    root = write_tree(tmp_path / "p", {"requirements.txt": "channels==4.3.2\n", "app/tests.py": raw,
                                       "app/bom.py": codecs.BOM_UTF8 + b"from channels.test import "
                                                     b"ChannelLiveServerTestCase\r\n\xc3\xa9 = 1\r\n"})
    _fix(root)
    assert (root / "app/tests.py").read_bytes() == body.replace(
        "    ChannelLiveServerTestCase,", "    ChannelsLiveServerTestCase as ChannelLiveServerTestCase,").replace(
        "channels.test ", "channels.testing ").encode("latin-1")
    assert (root / "app/bom.py").read_bytes() == (codecs.BOM_UTF8 + b"from channels.testing import "
                                                  b"ChannelsLiveServerTestCase as ChannelLiveServerTestCase\r\n"
                                                  b"\xc3\xa9 = 1\r\n")


def test_a_statement_sharing_its_line_is_split_with_a_semicolon(tmp_path):
    root = write_tree(tmp_path / "p", {"requirements.txt": "channels==4.3.2\n",
                                       "app/c.py": "import os; from asgiref.inmemory import ChannelLayer, X; y = 2\n"})
    _fix(root)
    assert (root / "app/c.py").read_text() == (
        "import os; from asgiref.inmemory import X; from channels.layers import InMemoryChannelLayer as ChannelLayer; "
        "y = 2\n")


def test_relative_and_local_imports_are_left_alone_and_untouched_files_stay_identical(tmp_path):
    files = {"requirements.txt": "channels==4.3.2\n",
             "app/rel.py": "from .websockets import WebsocketConsumer\n",
             "app/other.py": "import channels\nfrom channels.generic.websocket import WebsocketConsumer\n"}
    root = write_tree(tmp_path / "p", files)
    outcome = _fix(root)
    assert outcome.report.changed_paths == []
    for name, content in files.items():
        assert (root / name).read_text() == content


def test_a_second_fix_run_changes_nothing_and_the_straddle_is_reported(tmp_path):
    root = write_tree(tmp_path / "p", {"requirements.txt": "channels>=1.1,<3\n",
                                       "app/c.py": "from channels.generic.websockets import WebsocketConsumer\n"})
    outcome = _fix(root)
    assert outcome.report.changed_paths == []
    (finding,) = [f for f in outcome.report.findings if f.code == "AFX203"]
    assert finding.severity == "warning" and finding.fix is None
    assert "the pins allow both sides" in finding.message


def test_fixture_fix_then_check_leaves_only_findings_without_a_fix_and_every_module_compiles(tmp_path):
    project = tmp_path / "legacy-chat"
    shutil.copytree(FIXTURES / "legacy-chat", project)
    before = run_cli("check", str(project), "--format", "json").json()["findings"]
    assert any(f["code"] == "AFX201" for f in before)
    run_cli("fix", str(project), "--unsafe-fixes")
    after = run_cli("check", str(project), "--format", "json").json()["findings"]
    assert [f for f in after if f["fix"] is not None] == []
    settings = (project / "chat_project/settings.py").read_text()
    assert "asgi_redis" not in settings and '"ROUTING"' not in settings
    assert '"BACKEND": "channels_redis.core.RedisChannelLayer"' in settings
    assert "from channels.layers import BaseChannelLayer" in (project / "chat/layers.py").read_text()
    for module in project.rglob("*.py"):
        py_compile.compile(str(module), doraise=True, cfile=str(tmp_path / "out.pyc"))


def test_safe_fixes_alone_leave_the_dead_backend_reported(tmp_path):
    """Without --unsafe-fixes asgi_redis stays declared, so the settings are not rewritten, and say so."""
    project = tmp_path / "legacy-chat"
    shutil.copytree(FIXTURES / "legacy-chat", project)
    run_cli("fix", str(project))
    after = run_cli("check", str(project), "--format", "json").json()["findings"]
    assert "asgi_redis.RedisChannelLayer" in (project / "chat_project/settings.py").read_text()
    (backend,) = [f for f in after if f["code"] == "AFX204" and "BACKEND" in f["message"]]
    assert backend["fix"] is None and "AFX102" in backend["hint"]


def test_module_alias_is_rewritten_with_its_uses_only_when_every_use_moved(tmp_path):
    """``import old.module as ws``: the import and ``ws.Name`` uses change together (unsafe here), or not at all."""
    source = "import channels.generic.websockets as ws\n\nclass C(ws.WebsocketConsumer):\n    pass\n"
    root = write_tree(tmp_path / "p", {"requirements.txt": "channels==4.3.2\n", "app/c.py": source})
    outcome = _fix(root, unsafe=False)
    assert outcome.report.changed_paths == []  # unsafe: not without --unsafe-fixes
    (finding,) = [f for f in outcome.report.findings if f.code == "AFX203"]
    assert finding.fix is not None and finding.fix.applicability == "unsafe"
    _fix(root)
    assert (root / "app/c.py").read_text() == source.replace("websockets", "websocket")
    blocked = source + "handler = ws\n"  # the module object itself is used
    root = write_tree(tmp_path / "q", {"requirements.txt": "channels==4.3.2\n", "app/c.py": blocked})
    (finding,) = [f for f in _fix(root).report.findings if f.code == "AFX203"]
    assert finding.fix is None and "module object" in finding.hint


def test_module_import_keeps_other_submodules_bound(tmp_path):
    """``import asgiref.base_layer`` beside ``import asgiref.sync``: the rewrite leaves ``asgiref`` bound."""
    source = ("import asgiref.base_layer\nimport asgiref.sync\n\n"
              "class L(asgiref.base_layer.BaseChannelLayer):\n    run = asgiref.sync.async_to_sync\n")
    root = write_tree(tmp_path / "p", {"requirements.txt": "channels==4.3.2\n", "app/l.py": source})
    _fix(root)
    fixed = (root / "app/l.py").read_text()
    assert fixed == source.replace("import asgiref.base_layer", "import channels.layers").replace(
        "asgiref.base_layer.BaseChannelLayer", "channels.layers.BaseChannelLayer")
    alone = "import asgiref.base_layer\n\nclass L(asgiref.base_layer.BaseChannelLayer):\n    run = asgiref.sync\n"
    root = write_tree(tmp_path / "q", {"requirements.txt": "channels==4.3.2\n", "app/l.py": alone})
    (finding,) = [f for f in _fix(root).report.findings if f.code == "AFX203"]
    assert finding.fix is None and "other modules" in finding.hint
    twice = "import asgiref.inmemory as mem\nimport asgiref.inmemory as mem\n\nx = mem.ChannelLayer\n"
    root = write_tree(tmp_path / "r", {"requirements.txt": "channels==4.3.2\n", "app/l.py": twice})
    assert all(f.fix is None for f in _fix(root).report.findings if f.code == "AFX203")
