"""The fast paths of discovery give the same answers as the plain definitions."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from asgifix.config import DEFAULT_EXCLUDES
from asgifix.discovery import ExcludeMatcher, SourceFile, classify, classify_name, discover, display_path, is_excluded

_segment = st.sampled_from(["a", "b", "build", "svc", "old", "x.py", "y.egg-info", "node_modules", "[ab]", "c d"])
_relative = st.lists(_segment, min_size=1, max_size=4).map("/".join)
_pattern = st.one_of(
    st.sampled_from(list(DEFAULT_EXCLUDES) + ["svc/old", "./build", "./svc/*", "*/old", "*.py", "[ab]", "a/",
                                              "?", "svc/*.py", "[!a]*", "[", "c d", "./a"]),
    _relative,
)


@settings(max_examples=400, deadline=None)
@given(patterns=st.lists(_pattern, max_size=6), relative=_relative)
def test_exclude_matcher_agrees_with_is_excluded(patterns, relative):
    name = relative.rsplit("/", 1)[-1]
    assert ExcludeMatcher(patterns)(relative, name) == is_excluded(relative, name, patterns)


@pytest.mark.parametrize("name, parent", [
    ("requirements.txt", ""), ("base.txt", "requirements"), ("base.txt", "other"), ("x.py", "a"),
    ("Pipfile", ""), ("dev.in", "reqs"), ("setup.cfg", "x"), ("poetry.lock", ""), ("notes.md", "requirements"),
])
def test_classify_name_agrees_with_classify(name, parent):
    for explicit in (False, True):
        assert classify_name(name, parent, explicit=explicit) == classify(Path(parent, name), explicit=explicit)


def _tree(tmp_path: Path) -> Path:
    for relative in ("requirements/base.txt", "app/models.py", "app/sub/views.py", "build/x.py", "requirements.txt",
                     "deep/er/still/requirements-dev.txt", "docs/readme.md"):
        path = tmp_path / "proj" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
    return tmp_path / "proj"


@pytest.mark.parametrize("spelling", ["{p}", "{p}/", "{p}//", "{p}/.", "{p}/../proj", "./{rel}", "{rel}/", "."])
def test_display_paths_equal_display_path_of_given_and_relative(tmp_path, monkeypatch, spelling):
    project = _tree(tmp_path)
    monkeypatch.chdir(project if spelling == "." else tmp_path)
    given = spelling.format(p=str(project), rel="proj")
    found = list(discover([given], DEFAULT_EXCLUDES))
    assert found
    for source in found:
        relative = Path(os.path.relpath(source.path, given)).as_posix()
        assert source.display == display_path(given, relative)
    assert not any("build" in s.display.split("/") for s in found)


def test_one_tree_and_overlapping_trees_list_each_file_once(tmp_path):
    project = _tree(tmp_path)
    alone = [s.display for s in discover([str(project)], ())]
    both = [s.display for s in discover([str(project), str(project / "app"), str(project / "app" / "models.py")], ())]
    assert both == alone
    assert len(alone) == len(set(alone))


def test_source_file_path_is_a_path_and_survives_pickling(tmp_path):
    source = SourceFile(str(tmp_path / "a.py"), "a.py", "python", False)
    assert source.fspath == str(tmp_path / "a.py")
    assert source.path == tmp_path / "a.py" and isinstance(source.path, Path)
    copy = pickle.loads(pickle.dumps(source))
    assert copy == source and hash(copy) == hash(source)
    assert copy.path == source.path and copy.display == "a.py" and copy.kind == "python" and not copy.explicit
    assert SourceFile(tmp_path / "a.py", "a.py", "python", False) == source
