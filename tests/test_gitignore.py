""".gitignore is respected by default, as git reads it (asgifix/gitignore.py)."""

from __future__ import annotations

from asgifix.discovery import discover

from .conftest import run_cli

BROKEN = "asgiref 3.5.2\n"


def _found(root, *, respect=True, start=None):
    return sorted(s.display for s in discover([str(start or root)], (), respect_gitignore=respect))


def test_ignored_files_and_directories_are_skipped(tree):
    root = tree({
        ".git/HEAD": "",
        ".gitignore": "generated/\n*-old.txt\n/top-only.txt\n# a comment\n",
        "requirements.txt": "Django==4.2.7\n",
        "generated/requirements.txt": BROKEN,
        "requirements-old.txt": BROKEN,
        "top-only.txt": BROKEN,
        "sub/top-only.txt": BROKEN,  # anchored: only the top one is ignored
        "sub/requirements.txt": BROKEN,
    })
    names = [p.rsplit("/", 1)[-1] for p in _found(root, respect=False)]
    assert "requirements-old.txt" in names and len(names) == 4
    found = [p[len(str(root)) + 1:] for p in _found(root)]
    assert found == ["requirements.txt", "sub/requirements.txt"]


def test_a_deeper_gitignore_re_includes_and_adds(tree):
    root = tree({
        ".git/HEAD": "",
        ".gitignore": "*.in\n",
        "requirements.in": BROKEN,
        "svc/.gitignore": "!requirements.in\nrequirements-local.txt\n",
        "svc/requirements.in": BROKEN,
        "svc/requirements-local.txt": BROKEN,
        "other/requirements-local.txt": BROKEN,
    })
    found = [p[len(str(root)) + 1:] for p in _found(root)]
    assert found == ["other/requirements-local.txt", "svc/requirements.in"]


def test_a_walk_below_the_top_applies_the_work_trees_gitignore(tree):
    root = tree({".git/HEAD": "", ".gitignore": "app/legacy/\n", ".git/info/exclude": "scratch.txt\n",
                 "app/requirements.txt": "Django==4.2.7\n", "app/legacy/requirements.txt": BROKEN,
                 "app/scratch.txt": BROKEN})
    found = _found(root, start=root / "app")
    assert [p.rsplit("/", 2)[-2:] for p in found] == [["app", "requirements.txt"]]


def test_a_gitignore_above_a_directory_outside_any_work_tree_is_not_read(tree):
    root = tree({".gitignore": "project/requirements.txt\n", "project/requirements.txt": BROKEN})
    assert len(_found(root, start=root / "project")) == 1


def test_the_cli_respects_gitignore_unless_told_not_to(tree):
    root = tree({".git/HEAD": "", ".gitignore": "scratch/\n", "requirements.txt": "Django==4.2.7\n",
                 "scratch/requirements.txt": BROKEN})
    assert run_cli("check", ".", cwd=root).exit_code == 0
    result = run_cli("check", ".", "--no-respect-gitignore", "--format", "json", cwd=root)
    assert [f["path"] for f in result.json()["findings"]] == ["scratch/requirements.txt"]
    (root / "pyproject.toml").write_text("[tool.asgifix]\nrespect-gitignore = false\n")
    assert run_cli("check", ".", cwd=root).exit_code == 1
    # A named file is checked even when ignored (as with excludes).
    (root / "pyproject.toml").write_text("[tool.asgifix]\n")
    assert run_cli("check", "scratch/requirements.txt", cwd=root).exit_code == 1


def test_a_named_directory_that_a_gitignore_above_ignores_is_walked(tree):
    root = tree({".git/HEAD": "", ".gitignore": "vendored/\n*.bak.txt\n",
                 "vendored/proj/requirements.txt": BROKEN, "vendored/proj/requirements.bak.txt": BROKEN})
    found = _found(root, start=root / "vendored" / "proj")
    # (the file that ignores the root is not applied at all: its other patterns neither)
    assert [p.rsplit("/", 1)[-1] for p in found] == ["requirements.bak.txt", "requirements.txt"]
