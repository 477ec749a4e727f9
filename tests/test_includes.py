"""-r/-c includes: followed like pip, read when discovery would not, problems reported, nothing fetched."""

from __future__ import annotations

import socket

import pytest

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine


def _run(root, codes=("AFX101", "AFX104"), paths=None):
    engine = Engine(Settings(), select_rules(load_catalogue(), list(codes), []), base_dir=root)
    return engine.run([str(p) for p in (paths or [root])])


def _afx104(report):
    """(file name, line, column, message and notes) of each AFX104 finding."""
    return [(f.path.rsplit("/", 1)[-1], f.line, f.span.column, " | ".join((f.message, *f.notes)))
            for f in report.findings if f.code == "AFX104"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("asgifix tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_a_cycle_is_reported_once_at_the_include_that_closes_it(tree):
    root = tree({"requirements/a.txt": "-r b.txt\nDjango==4.2.7\n", "requirements/b.txt": "-r a.txt\n"})
    report, _, _ = _run(root)
    problems = _afx104(report)
    assert len(problems) == 1
    name, line, column, message = problems[0]
    assert (name, line, column) == ("b.txt", 1, 4)
    assert "a.txt -> b.txt -> a.txt" in message and "leads back here" in message


def test_a_file_including_itself_is_a_cycle(tree):
    root = tree({"requirements.txt": "Django==4.2.7\n--requirement requirements.txt\n"})
    report, _, _ = _run(root)
    assert [(p[0], p[1], p[2]) for p in _afx104(report)] == [("requirements.txt", 2, 15)]


def test_a_diamond_is_not_a_cycle(tree):
    root = tree({
        "requirements.txt": "-r a.txt\n-r b.txt\n",
        "a.txt": "-r common.txt\n", "b.txt": "-r common.txt\n", "common.txt": "asgiref==3.7.2\n",
    })
    report, project, _ = _run(root)
    assert _afx104(report) == []
    assert [d.path.rsplit("/", 1)[-1] for d in project.declarations] == ["common.txt"]


def test_missing_url_outside_and_directory_includes(tmp_path):
    root = tmp_path / "project"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "shared.txt").write_text("asgiref 1\n")
    (root / "requirements.txt").write_text(
        "-r missing.txt\n"
        "-r https://example.invalid/base.txt\n"
        "-r ../shared.txt\n"
        "-r sub\n"
        "-c ${CONSTRAINTS}/c.txt\n"
    )
    report, _, _ = _run(root)
    kinds = [(line, message.split(",")[0]) for _, line, _, message in _afx104(report)]
    assert kinds == [
        (1, "Includes missing.txt"),
        (2, "Includes the URL https://example.invalid/base.txt: every install depends on that server | pip downloads "
            "it at install time"),
        (3, "Includes ../shared.txt"),
        (4, "Includes sub"),
    ]
    # ../shared.txt is outside the project: never read (its malformed line is not reported)
    assert not any(f.path.endswith("shared.txt") for f in report.findings)
    assert report.errors == []


def test_included_files_are_read_even_where_discovery_does_not_look(tree):
    root = tree({
        "requirements.txt": "-r node_modules/extra.txt\n-r base.pip\n",
        "base.pip": "asgiref 3.7.2\n",
        "node_modules/extra.txt": "channels=4.0.0\n",
    })
    report, project, _ = _run(root)
    found = sorted(f.path[len(str(root)) + 1:] for f in report.findings if f.code == "AFX101")
    assert found == ["base.pip", "node_modules/extra.txt"]
    assert {d.name for d in project.declarations} == {"asgiref", "channels"}


def test_included_file_in_an_excluded_directory_is_fixed_in_place(tree):
    root = tree({"requirements.txt": "-r .venv-reqs/base.txt\n", ".venv-reqs/base.txt": "asgiref 3.7.2\n"})
    settings = Settings(extend_exclude=[".venv-reqs"])
    engine = Engine(settings, select_rules(load_catalogue(), ["AFX101"], []), base_dir=root)
    engine.fix([str(root)])
    assert (root / ".venv-reqs/base.txt").read_text() == "asgiref==3.7.2\n"


def test_includes_resolve_relative_to_the_including_file(tree):
    root = tree({
        "requirements/dev.txt": "-r base.txt\n-c ../constraints/pins.txt\n",
        "requirements/base.txt": "Django==4.2.7\n",
        "constraints/pins.txt": "asgiref<4\n",
    })
    report, project, _ = _run(root)
    assert _afx104(report) == []
    by_name = {d.name: d for d in project.declarations}
    # pins.txt is reached only through -c: its lines constrain, they do not require
    assert by_name["asgiref"].constraint is True
    assert by_name["django"].constraint is False


def test_a_file_given_explicitly_may_include_its_parent_directory(tree):
    root = tree({"requirements/dev.txt": "-r ../requirements.txt\n", "requirements.txt": "Django==4.2.7\n"})
    report, project, _ = _run(root, paths=[root / "requirements" / "dev.txt"])
    assert _afx104(report) == []
    assert [d.name for d in project.declarations] == ["django"]


def test_undefined_dependency_group_include(tree):
    root = tree({"pyproject.toml": '[dependency-groups]\ndev = [{include-group = "test"}, "pytest"]\n'
                                   'lint = ["ruff"]\nall = [{include-group = "lint"}]\n'})
    report, _, _ = _run(root)
    assert [(line, column) for _, line, column, _ in _afx104(report)] == [(2, 25)]
