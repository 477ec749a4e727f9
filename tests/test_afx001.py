"""AFX001: unknown asgifix codes in `# noqa` comments are reported (as ruff's RUF100), others left alone."""

from __future__ import annotations

from .conftest import run_cli


def _findings(root):
    return [(f["path"], f["line"], f["column"], f["code"]) for f in
            run_cli("check", ".", "--format", "json", "--select", "AFX001", cwd=root).json()["findings"]]


def test_unknown_codes_are_reported_at_the_code_and_known_or_foreign_ones_are_not(tree):
    root = tree({
        "requirements.txt": "Django==4.2.7  # noqa: AFX101, AFX999\nasgiref==3.7.2  # NOQA:afx42\n",
        "app/a.py": "import os  # noqa: E402, RUF100\nTEXT = '# noqa: AFX999'\nx = 1  # noqa: AFX777\n",
    })
    assert _findings(root) == [("app/a.py", 3, 16, "AFX001"), ("requirements.txt", 1, 32, "AFX001"),
                               ("requirements.txt", 2, 24, "AFX001")]


def test_the_fix_keeps_the_known_codes_and_never_leaves_a_bare_noqa(tree):
    root = tree({"requirements.txt": "asgiref 3.7.2  # noqa: AFX999, AFX101\nDjango==4.2.7  # noqa: AFX999\n",
                 "app/a.py": "x = 1  # noqa: AFX999 why\n# noqa: AFX998\n"})
    run_cli("fix", ".", "--select", "AFX001", cwd=root)
    assert (root / "requirements.txt").read_text() == "asgiref 3.7.2  # noqa: AFX101\nDjango==4.2.7\n"
    assert (root / "app/a.py").read_text() == "x = 1  # noqa: AFX999 why\n# noqa: AFX998\n"  # reported, not fixed
    assert len(_findings(root)) == 2
    # AFX101 stays suppressed on its line after the fix.
    assert run_cli("check", "requirements.txt", "--select", "AFX101", cwd=root).exit_code == 0


def test_an_unknown_code_can_itself_be_suppressed(tree):
    root = tree({"requirements.txt": "Django==4.2.7  # noqa: AFX999, AFX001\n"})
    assert _findings(root) == []
