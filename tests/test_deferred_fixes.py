"""Fixes whose edits need the rewriting library are built when a fix is applied or shown, not for a check
that only marks them; the [*]/[~] marker they show must agree with the edits they build."""

from __future__ import annotations

import pickle

import pytest

from asgifix import engine as engine_module
from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine
from asgifix.model import Deferred, Edit, Finding, Fix, Span

from .conftest import run_cli, write_tree

MOVED = "from asgiref.inmemory import ChannelLayer\n\nlayer = ChannelLayer()\n"


def _engine(codes=("AFX203",), unsafe=True):
    return Engine(Settings(), select_rules(load_catalogue(), list(codes), []), unsafe_fixes=unsafe)


def _moved(report):
    (finding,) = [f for f in report.findings if f.code == "AFX203"]
    return finding


def _apply(text, edits):
    for edit in sorted(edits, key=lambda e: e.span.start, reverse=True):
        text = text[:edit.span.start] + edit.content + text[edit.span.end:]
    return text


def test_a_check_marks_the_rewrite_and_builds_it_only_when_asked(tmp_path):
    root = write_tree(tmp_path / "p", {"requirements.txt": "channels==4.3.2\n", "app/c.py": MOVED})
    finding = _moved(_engine().run([str(root)])[0])
    assert finding.fix is not None and finding.fix.pending
    assert finding.fix.paths == (finding.path,)
    edits = finding.fix.edits
    assert not finding.fix.pending
    assert {e.path for e in edits} == {finding.path}
    assert _apply(MOVED, edits) == MOVED.replace(
        "from asgiref.inmemory import ChannelLayer", "from channels.layers import InMemoryChannelLayer as ChannelLayer")


def test_a_deferred_fix_pickles_unbuilt_and_equals_the_original(tmp_path):
    root = write_tree(tmp_path / "p", {"requirements.txt": "channels==4.3.2\n", "app/c.py": MOVED})
    finding = _moved(_engine().run([str(root)])[0])
    copy = pickle.loads(pickle.dumps(finding))
    assert finding.fix.pending and copy.fix.pending  # pickling builds nothing
    assert copy == finding  # the documents are copies: equal by their built edits
    assert copy.fix.edits == finding.fix.edits
    assert hash(copy) == hash(finding)
    with pytest.raises(AttributeError):
        finding.fix.message = "x"  # type: ignore[misc]


def test_check_and_fix_outputs_agree_with_the_built_edits(tmp_path):
    """The text marker, the JSON edits and what `fix` writes come from the same fix."""
    root = write_tree(tmp_path / "p", {"requirements.txt": "channels==4.3.2\n", "app/c.py": MOVED})
    text = run_cli("check", "--no-color", str(root)).stdout
    assert "AFX203" in text and "[~]" in text  # the move is an unsafe fix
    (finding,) = [f for f in run_cli("check", "--format", "json", str(root)).json()["findings"]
                  if f["code"] == "AFX203"]
    assert finding["fix"]["applicability"] == "unsafe" and finding["fix"]["edits"]
    run_cli("fix", "--unsafe-fixes", str(root))
    assert (root / "app/c.py").read_text() == MOVED.replace(
        "from asgiref.inmemory import ChannelLayer", "from channels.layers import InMemoryChannelLayer as ChannelLayer")


def test_a_build_that_makes_no_edits_changes_nothing_and_the_finding_stays(tmp_path, monkeypatch):
    """Should a statement the syntax tree accepted fail the rewriting parser, the fix is a no-op."""
    import asgifix.codemod

    monkeypatch.setattr(asgifix.codemod, "import_move_edits", lambda *args, **kwargs: None)
    root = write_tree(tmp_path / "p", {"requirements.txt": "channels==4.3.2\n", "app/c.py": MOVED})
    outcome = _engine().fix([str(root)])
    assert outcome.report.changed_paths == [] and outcome.report.fixed == 0
    assert not [e for e in outcome.report.errors if e.fatal]
    finding = _moved(outcome.report)
    assert finding.fix is not None and finding.fix.edits == ()
    assert (root / "app/c.py").read_text() == MOVED


CASES = {
    "merge": "from asgiref.inmemory import ChannelLayer\nfrom channels.layers import get_channel_layer\n",
    "split": "import os; from asgiref.inmemory import ChannelLayer, X; y = 2\n",
    "parenthesised": "from channels.test import (\n    ChannelLiveServerTestCase,  # live\n    WebsocketCommunicator,\n)\n",
    "nested": "def f():\n    from asgiref.base_layer import BaseChannelLayer\n    return BaseChannelLayer\n",
    "module": "import asgiref.base_layer\n\nclass L(asgiref.base_layer.BaseChannelLayer):\n    pass\n",
    "alias": "import channels.generic.websockets as ws\n\nclass C(ws.WebsocketConsumer):\n    pass\n",
}


def test_every_advertised_rewrite_builds_edits(tmp_path):
    """The availability a matcher decides without building must be what the build then does:
    over the rule's own examples and the shapes the rewrite handles."""
    sources = dict(CASES)
    for rule in select_rules(load_catalogue(), ["AFX203"], []):
        for index, example in enumerate(rule.examples):
            if example.file.endswith(".py"):
                sources[f"example{index}"] = example.before.lstrip("\n")
    pending = 0
    for name, source in sources.items():
        root = write_tree(tmp_path / name, {"requirements.txt": "channels==4.3.2\n", "app/c.py": source})
        for finding in _engine().run([str(root)])[0].findings:
            if finding.fix is not None and finding.fix.pending:
                pending += 1
                assert finding.fix.edits, (name, finding.line, finding.code)
    assert pending >= len(CASES)


def test_module_imports_are_rewritten_only_when_the_statement_imports_that_module_alone(tmp_path):
    source = "import channels.generic.websockets as ws{extra}\n\nclass C(ws.WebsocketConsumer):\n    pass\n"
    root = write_tree(tmp_path / "p", {"requirements.txt": "channels==4.3.2\n",
                                       "app/c.py": source.format(extra="")})
    finding = _moved(_engine().run([str(root)])[0])
    assert finding.fix is not None and finding.fix.pending and finding.fix.edits
    root = write_tree(tmp_path / "q", {"requirements.txt": "channels==4.3.2\n",
                                       "app/c.py": source.format(extra=", os")})
    finding = _moved(_engine().run([str(root)])[0])
    assert finding.fix is None and finding.hint.startswith("not rewritten")


def test_sets_that_make_the_same_rewrite_share_one_finding(tmp_path):
    root = write_tree(tmp_path / "p", {
        "requirements/base.txt": "channels==4.3.2\n",
        "requirements/prod.txt": "-r base.txt\nDjango==5.1.4\n",
        "requirements/dev.txt": "-r base.txt\nDjango==4.2.17\n",
        "app/c.py": MOVED})
    report, project, _ = _engine().run([str(root)])
    assert len(project.install_sets) == 2
    finding = _moved(report)
    assert len(finding.environments) == 2
    assert finding.fix.pending  # judging the sets built nothing
    outcome = _engine().fix([str(root)])
    assert outcome.report.fixed == 1
    assert "from channels.layers import InMemoryChannelLayer as ChannelLayer" in (root / "app/c.py").read_text()


def _edits_of(*contents):
    return [Edit("a.py", Span(0, 3, 1, 1, 1, 4), content) for content in contents]


def _build(*contents):
    return _edits_of(*contents) or None


def _build_tagged(tag, *contents):
    """Another call that makes the same edits (a build whose arguments differ in what the edits do not use)."""
    return _build(*contents)


def test_merging_keys_deferred_fixes_by_the_edits_they_build():
    """Two different builds of the same edits merge, in the sets' order; a build of nothing is no fix."""
    def finding(fix):
        return Finding("AFX203", "error", "m", "a.py", Span(0, 3, 1, 1, 1, 4), fix)

    one = Fix("safe", "x", build=Deferred(_build_tagged, "set one", "new"), paths=("a.py",))
    other = Fix("safe", "x", build=Deferred(_build, "new"), paths=("a.py",))
    empty = Fix("safe", "x", build=Deferred(_build), paths=("a.py",))
    eager = Fix("safe", "x", tuple(_edits_of("new")))
    assert one.identity() != other.identity()
    by_fix = {one.identity(): (finding(one), ["s1", "s3"]), other.identity(): (finding(other), ["s2"]),
              empty.identity(): (finding(empty), ["s4"])}
    merged = engine_module._by_edits(by_fix, {"s1": 0, "s2": 1, "s3": 2, "s4": 3})
    assert list(merged) == [eager.identity(), None]
    kept, names = merged[eager.identity()]
    assert kept.fix is one and names == ["s1", "s2", "s3"]
    assert merged[None][0].fix is None and merged[None][1] == ["s4"]
    # one key: nothing is built
    fresh = Fix("safe", "x", build=Deferred(_build, "new"), paths=("a.py",))
    assert engine_module._by_edits({fresh.identity(): (finding(fresh), ["s1"])}, {"s1": 0})
    assert fresh.pending
    assert fresh == eager and eager == fresh

