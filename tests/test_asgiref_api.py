"""AFX201/AFX202: asgiref references resolved through imports, judged against the allowed releases."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine
from asgifix.sources.python_asgiref import asgiref_usage
from asgifix.textio import TextDocument

from .conftest import run_cli, told


def _usage(source: str):
    document = TextDocument.decode(Path("m.py"), "m.py", source.encode(), python=True)
    return asgiref_usage(document, ast.parse(source))


def _check(tree, files, *codes, target=None):
    root = tree(files)
    engine = Engine(Settings(target_asgiref=target), select_rules(load_catalogue(), list(codes) or ["AFX2"], []))
    report, _, _ = engine.run([str(root)])
    assert not report.errors, report.errors
    return report.findings


def test_references_through_aliases_and_chains():
    usage = _usage(
        "import asgiref.sync as s\n"
        "import asgiref\n"
        "from asgiref import local as loc\n"
        "from asgiref.wsgi import WsgiToAsgi as W\n"
        "x = s.ThreadSensitiveContext\n"
        "y = asgiref.compatibility.guarantee_single_callable\n"
        "z = loc.Local()\n"
    )
    dotted = [(r.dotted, r.how, r.line) for r in usage.references]
    assert dotted == [
        ("asgiref.sync", "import", 1),
        ("asgiref.local", "from-import", 3),
        ("asgiref.wsgi.WsgiToAsgi", "from-import", 4),
        ("asgiref.sync.ThreadSensitiveContext", "attribute", 5),
        ("asgiref.compatibility.guarantee_single_callable", "attribute", 6),
        ("asgiref.local.Local", "attribute", 7),
    ]
    assert [c.dotted for c in usage.calls] == ["asgiref.local.Local"]


def test_unrelated_modules_are_ignored():
    usage = _usage("import asgiref_extra\nfrom .asgiref import sync\nfrom myasgiref.sync import x\n")
    assert usage.references == [] and usage.calls == []


def test_guarded_imports_are_marked():
    usage = _usage(
        "try:\n    from asgiref.sync import ThreadSensitiveContext\n"
        "except ImportError:\n    ThreadSensitiveContext = None\n"
        "try:\n    from asgiref.sync import iscoroutinefunction\nexcept ValueError:\n    pass\n"
    )
    assert [(r.dotted.rsplit('.', 1)[1], r.guarded) for r in usage.references] == [
        ("ThreadSensitiveContext", True), ("iscoroutinefunction", False)]


def test_columns_count_characters_not_bytes():
    usage = _usage("é = 1; import asgiref.base_layer\n")
    (reference,) = usage.references
    assert (reference.line, reference.column, reference.end_column) == (1, 8, 33)


def test_calls_record_arguments_and_decorators():
    usage = _usage(
        "from asgiref.sync import sync_to_async\n"
        "@sync_to_async\ndef a(): pass\n"
        "@sync_to_async(thread_sensitive=False)\ndef b(): pass\n"
        "c = sync_to_async(a, False, *rest, executor=None, **extra)\n"
    )
    calls = [(c.positional, c.keywords, c.has_star_args, c.has_star_kwargs, c.decorator) for c in usage.calls]
    assert calls == [
        (1, (), False, False, True),
        (0, ("thread_sensitive",), False, False, True),
        (2, ("executor",), True, True, False),
    ]


def test_too_old_pin_names_the_real_cause(tree):
    (finding,) = _check(tree, {
        "requirements.txt": "Django==3.2\nasgiref==3.2.10\n",
        "app.py": "from asgiref.sync import ThreadSensitiveContext\n",
    }, "AFX201")
    assert finding.severity == "error"
    assert finding.message.startswith("`asgiref.sync.ThreadSensitiveContext` was added in asgiref 3.3.2:")
    assert "asgiref==3.2.10" in told(finding) and "requirements.txt:2" in told(finding)
    assert "older asgiref" in finding.message
    assert finding.hint == "require asgiref>=3.3.2"


def test_loose_range_is_a_warning(tree):
    (finding,) = _check(tree, {
        "requirements.txt": "asgiref>=3.2,<4\n",
        "app.py": "from asgiref.sync import ThreadSensitiveContext\n",
    }, "AFX201")
    assert finding.severity == "warning"
    assert "the pins also allow the older 3.2.0 to 3.3.1" in told(finding)


def test_removed_module_names_successor(tree):
    (finding,) = _check(tree, {
        "requirements.txt": "asgiref~=3.7\n",
        "layers.py": "import asgiref.base_layer\n",
    }, "AFX201")
    assert finding.message.startswith("`asgiref.base_layer` is gone since asgiref 2.1.0:")
    assert "last shipped in asgiref 2.0.1" in finding.notes
    assert "channels.layers.BaseChannelLayer" in finding.hint


def test_guarded_import_is_info(tree):
    (finding,) = _check(tree, {
        "requirements.txt": "asgiref==3.2.10\n",
        "app.py": "try:\n    from asgiref.sync import ThreadSensitiveContext\nexcept ImportError:\n    pass\n",
    }, "AFX201")
    assert finding.severity == "info"
    assert "fallback" in told(finding)


def test_unpinned_project_is_judged_against_newest(tree):
    findings = _check(tree, {
        "app.py": "from asgiref.sync import ThreadSensitiveContext\nfrom asgiref.inmemory import ChannelLayer\n",
    }, "AFX201")
    assert [f.line for f in findings] == [2]
    assert "asgiref is not pinned" in told(findings[0])


def test_target_asgiref_answers_what_breaks_on_upgrade(tree):
    files = {"requirements.txt": "asgiref==1.1.2\n", "app.py": "from asgiref.base_layer import BaseChannelLayer\n"}
    assert _check(tree, files, "AFX201") == []
    (finding,) = _check(tree, files, "AFX201", target="3.13.0")
    assert "--target-asgiref 3.13.0" in told(finding)


def test_never_existing_name(tree):
    (finding,) = _check(tree, {"app.py": "from asgiref.sync import sync_to_asnyc\n"}, "AFX201")
    assert "no asgiref release defines it" in finding.message


def test_noqa_on_python_line(tree):
    assert _check(tree, {
        "requirements.txt": "asgiref==3.2.10\n",
        "app.py": "from asgiref.sync import ThreadSensitiveContext  # noqa: AFX201\n",
    }, "AFX201") == []


def test_positional_keyword_only_argument(tree):
    (finding,) = _check(tree, {
        "requirements.txt": "asgiref==3.8.1\n",
        "app.py": "from asgiref.sync import sync_to_async\nf = sync_to_async(print, False)\n",
    }, "AFX202")
    assert finding.severity == "error"
    assert "2 positional arguments" in finding.message
    assert "keyword-only since asgiref 3.7.2" in finding.hint


def test_unknown_keyword_for_old_release(tree):
    (finding,) = _check(tree, {
        "requirements.txt": "asgiref==3.2.10\n",
        "app.py": "from asgiref.sync import sync_to_async\nf = sync_to_async(print, executor=None)\n",
    }, "AFX202")
    assert "keyword `executor`" in finding.message
    assert finding.hint == "require asgiref>=3.3.2"


def test_default_flip_when_upgrading(tree):
    files = {"requirements.txt": "asgiref==3.2.10\n",
             "app.py": "from asgiref.sync import sync_to_async\nf = sync_to_async(print)\n"}
    assert _check(tree, files, "AFX202") == []
    (finding,) = _check(tree, files, "AFX202", target="3.8.1")
    assert "default of `thread_sensitive`" in finding.message
    assert "False in asgiref 3.2.10" in told(finding) and "True in asgiref 3.8.1" in told(finding)


def test_fixture_shows_afx201_with_versions():
    result = run_cli("check", "fixtures/legacy-chat", "--format", "json",
                     cwd=Path(__file__).resolve().parent.parent)
    messages = {f["path"].rsplit("/", 1)[-1]: f["message"] for f in result.json()["findings"] if f["code"] == "AFX201"}
    assert "added in asgiref 3.3.2" in messages["presence.py"]
    assert "gone since asgiref 2.1.0" in messages["layers.py"]


def test_deprecated_typing_name_says_deprecated_then_removed(tree):
    # asgiref 3.4.0/3.4.1 still import WebsocketConnectEvent (module __getattr__, DeprecationWarning); 3.5.0 not
    (finding,) = _check(tree, {
        "requirements.txt": "asgiref~=3.7\n",
        "app.py": "from asgiref.typing import WebsocketConnectEvent\n",
    }, "AFX201")
    assert finding.message.startswith("`asgiref.typing.WebsocketConnectEvent` is gone since asgiref 3.5.0:")
    assert "deprecated in asgiref 3.4.0, last importable in 3.4.1" in finding.notes
    assert finding.hint.startswith("use `asgiref.typing.WebSocketConnectEvent`")
    assert finding.severity == "error"


def test_deprecated_typing_name_still_importable_in_3_4(tree):
    assert _check(tree, {
        "requirements.txt": "asgiref==3.4.1\n",
        "app.py": "from asgiref.typing import WebsocketConnectEvent\n",
    }, "AFX201") == []
    # a name renamed without an alias is simply gone from 3.4.0
    (finding,) = _check(tree, {
        "requirements.txt": "asgiref==3.4.1\n",
        "app.py": "from asgiref.typing import WebsocketScope\n",
    }, "AFX201")
    assert "is gone since asgiref 3.4.0" in finding.message and "last shipped in asgiref 3.3.4" in finding.notes
