"""Install sets: verdicts are made in the environment one install really gives, on its Pythons.

Each fixture under fixtures/install-sets/ is a pattern from real repositories (see
bench/CORPUS.md): what must be reported there, and what must not.
"""

from __future__ import annotations

import shutil

import pytest

from asgifix import environment, install_sets
from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine

from .conftest import FIXTURES, write_tree, told

SETS = FIXTURES / "install-sets"


def _engine(codes=None, unsafe=False, target=None):
    settings = Settings(target_asgiref=target)
    rules = select_rules(load_catalogue(), codes or settings.select, settings.ignore)
    return Engine(settings, rules, unsafe_fixes=unsafe, jobs=1)


def _run(root, codes=None, **options):
    report, project, _ = _engine(codes, **options).run([str(root)])
    return report, project


def _codes(report):
    return sorted((f.code, f.path.rsplit("/", 1)[-1], f.line) for f in report.findings)


def _copy(name, tmp_path):
    target = tmp_path / name
    shutil.copytree(SETS / name, target)
    return target


# -- the fixtures ------------------------------------------------------------------------

def test_a_consistent_channels_1_stack_is_not_broken():
    report, project = _run(SETS / "channels1-stack")
    assert report.findings == []
    (only,) = project.install_sets
    assert project.view(only, project.facts).allowed_versions("asgiref") == ["1.1.2"]


def test_the_same_channels_1_stack_with_a_target_shows_what_the_move_needs():
    report, _ = _run(SETS / "channels1-stack", target="3.13.0")
    codes = {f.code for f in report.findings}
    assert {"AFX102", "AFX201", "AFX301"} <= codes


def test_a_copy_is_an_environment_of_its_own():
    report, project = _run(SETS / "copy-file")
    names = {s.name.rsplit("/", 1)[-1]: s for s in project.install_sets}
    assert set(names) == {"requirements.txt", "requirements - copy.txt"}
    assert names["requirements - copy.txt"].copy and names["requirements - copy.txt"].home is None
    # The real file's conflict is reported (the copy's Django 3.2 pins used to hide it) ...
    (finding,) = report.findings
    assert (finding.code, finding.path.rsplit("/", 1)[-1]) == ("AFX301", "requirements.txt")
    assert finding.environments == (names["requirements.txt"].name,)


def test_files_a_dockerfile_installs_are_read_whatever_their_name(tmp_path):
    root = _copy("pip-includes", tmp_path)
    report, project = _run(root)
    (only,) = project.install_sets
    assert sorted(p.rsplit("/", 1)[-1] for p in only.files) == ["base.pip", "production.pip"]
    assert only.pythons == ("3.9",) and only.python_declared and "FROM python:3.9-slim" in only.python_where
    (finding,) = report.findings
    assert finding.code == "AFX301" and finding.path.endswith("deps/base.pip")
    # The pin written installs on the image's Python 3.9 (asgiref 3.12+ needs 3.10).
    assert "`asgiref==3.11.1`" in finding.fix.message and "Python 3.9" in finding.fix.message
    _engine().fix([str(root)])
    assert (root / "deps/base.pip").read_text() == "Django==4.2.7\nchannels==4.1.0\nasgiref==3.11.1\n"
    assert _run(root)[0].findings == []


def test_a_package_only_the_lock_file_has_is_declared():
    report, project = _run(SETS / "pipfile-lock-only")
    assert report.findings == []
    (only,) = project.install_sets
    assert only.locks == (only.entries[0],)


def test_an_unpinned_asgiref_is_what_the_other_pins_allow():
    report, project = _run(SETS / "capped-asgiref")
    # django==1.8.12 caps channels at 1.x (channels 2 needs Django 1.11), which needs asgiref~=1.1.
    (only,) = project.install_sets
    assert project.view(only, project.facts).allowed_versions("asgiref") == ["1.1.2"]
    (finding,) = report.findings
    assert finding.code == "AFX201" and "other pins give asgiref 1.1.2" in told(finding)


def test_a_monorepo_has_one_environment_per_service_and_no_conflict_between_them():
    report, project = _run(SETS / "monorepo")
    assert report.findings == []
    homes = sorted(s.home.rsplit("/", 1)[-1] for s in project.install_sets)
    assert homes == ["legacy", "modern"]


def test_findings_name_the_environment_they_hold_in():
    report, project = _run(SETS / "prod-and-dev")
    assert len(project.install_sets) == 2
    assert _codes(report) == [("AFX201", "compat.py", 1), ("AFX301", "dev.txt", 2)]
    for finding in report.findings:
        assert len(finding.environments) == 1 and finding.environments[0].endswith("requirements/dev.txt")


# -- how sets are formed ----------------------------------------------------------------

def _sets(tmp_path, files):
    root = write_tree(tmp_path / "p", files)
    _, project = _run(root)
    return {tuple(sorted(e.split("/p/", 1)[-1] for e in s.entries)): s for s in project.install_sets}


def test_an_included_file_is_no_entry_and_a_shared_include_serves_both(tmp_path):
    sets = _sets(tmp_path, {"requirements/base.txt": "Django==4.2.7\n", "requirements/prod.txt": "-r base.txt\n",
                            "requirements/dev.txt": "-r base.txt\npytest\n"})
    assert set(sets) == {("requirements/dev.txt",), ("requirements/prod.txt",)}
    for install_set in sets.values():
        assert any(f.endswith("requirements/base.txt") for f in install_set.files)
        assert install_set.home.endswith("/p")  # the parent of requirements/


def test_dev_requirements_join_the_package_and_alternatives_do_not(tmp_path):
    sets = _sets(tmp_path, {
        "pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndependencies = ["Django>=4.2"]\n',
        "requirements-dev.txt": "pytest\n", "requirements-django50.txt": "django==5.0.6\n",
        "setup.cfg": "[metadata]\nname = x\n"})
    assert ("pyproject.toml", "requirements-dev.txt", "setup.cfg") in sets
    assert ("requirements-django50.txt",) in sets


def test_editable_install_joins_the_package(tmp_path):
    sets = _sets(tmp_path, {"pkg/setup.py": 'from setuptools import setup\nsetup(install_requires=["Django==4.2.7"])\n',
                            "requirements.txt": "-e ./pkg\nasgiref==3.7.2\n"})
    assert ("pkg/setup.py", "requirements.txt") in sets


def test_a_compiled_file_and_its_source_are_peers(tmp_path):
    sets = _sets(tmp_path, {"requirements.in": "django\n",
                            "requirements.txt": "#    pip-compile requirements.in\ndjango==4.2.7\n"})
    assert set(sets) == {("requirements.in",), ("requirements.txt",)}


@pytest.mark.parametrize("files, pythons, declared", [
    ({".python-version": "3.10.4\n"}, ("3.10",), False),  # near the set, not the set's own word
    ({"runtime.txt": "python-3.8.12\n"}, ("3.8",), False),
    ({"Dockerfile": "FROM python:3.12-slim AS base\nRUN pip install -r requirements.txt\n"}, ("3.12",), True),
    ({"pyproject.toml": '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.11"\n'},
     ("3.11", "3.12", "3.13", "3.14"), False),
    ({}, ("3.8", "3.9", "3.10", "3.11"), False),  # Django 4.2.7's classifiers (Requires-Python >=3.8)
    ({".github/workflows/ci.yml": 'jobs:\n  t:\n    strategy:\n      matrix:\n        python-version: ["3.10", "3.12"]\n'
      "    steps:\n      - run: pip install -r requirements.txt\n"}, ("3.10", "3.12"), True),
])
def test_the_python_of_a_set(tmp_path, files, pythons, declared):
    sets = _sets(tmp_path, {"requirements.txt": "Django==4.2.7\n", **files})
    install_set = next(s for key, s in sets.items() if "requirements.txt" in key)
    assert install_set.pythons == pythons and install_set.python_declared == declared


@pytest.mark.parametrize("path, copy", [
    ("requirements - copy.txt", True), ("requirements.txt.bak", True), ("old/requirements.txt", True),
    ("requirements_backup.txt", True), ("requirements (1).txt", True),
    ("requirements.txt", False), ("requirements-dev.txt", False), ("requirements/bold.txt", False),
])
def test_copies(path, copy):
    assert install_sets.is_copy(path) == copy


# -- the fix policy: the newest asgiref every pin accepts AND that installs on every Python ----------

@pytest.mark.parametrize("django, asgiref", [
    ("3.0.14", "3.4.1"), ("3.2.25", "3.4.1"),  # Python 3.6 and up
    ("4.0.10", "3.8.1"), ("4.2.7", "3.8.1"),  # 3.8 and up
    ("5.0.6", "3.12.1"), ("5.2.8", "3.12.1"),  # 3.10 and up
    ("6.0", "3.13.0"),  # 3.12 and up
])
def test_a_bare_django_pin_gets_an_asgiref_that_installs_on_its_oldest_python(tmp_path, django, asgiref):
    root = write_tree(tmp_path / "p", {"requirements.txt": f"Django=={django}\nasgiref==3.0.0\n"})
    _engine(["AFX301"]).fix([str(root)])
    assert (root / "requirements.txt").read_text() == f"Django=={django}\nasgiref=={asgiref}\n"
    assert _run(root)[0].findings == []


def test_the_fix_is_unsafe_when_it_crosses_a_default_the_code_relies_on(tmp_path):
    root = write_tree(tmp_path / "p", {"requirements.txt": "Django==3.2.25\nasgiref==3.2.10\n",
                                       "app.py": "from asgiref.sync import sync_to_async\nf = sync_to_async(len)\n"})
    (finding,) = [f for f in _run(root, ["AFX301"])[0].findings]
    assert finding.fix.applicability == "unsafe" and "thread_sensitive" in finding.fix.message


def test_what_pip_installs_follows_pips_order():
    # An unpinned Channels 1 layer beside unpinned channels: pip takes the newest channels and
    # backtracks asgi-redis to 1.1.0 (whose metadata allows any asgiref), not Channels 1.
    from asgifix.project import Declaration

    declarations = [Declaration(n, s, None, "r.txt", i, "requirements")
                    for i, (n, s) in enumerate([("django", ">=1.9"), ("channels", ">=0.10"), ("asgi-redis", ">=0.9")])]
    solution = environment.build_problem(declarations).solve(order=environment.pip_order(declarations))
    assert solution["channels"].startswith("4.") and solution["asgi-redis"] == "1.1.0"


def test_an_unpinned_channels_1_layer_beside_channels_4_is_reported(tmp_path):
    root = write_tree(tmp_path / "p", {"requirements.txt": "Django\nchannels\nasgi_redis\n"})
    (finding,) = _run(root, ["AFX102"])[0].findings
    assert "asgi_redis" in finding.message


def test_a_search_that_gives_up_is_reported(tmp_path, monkeypatch):
    from asgifix import resolver

    monkeypatch.setattr(resolver, "NODE_BUDGET", 0)
    resolver._SOLVED.clear()
    environment.clear_cache()
    root = write_tree(tmp_path / "p", {"requirements.txt": "Django==4.2.7\nasgiref==3.2.10\n"})
    try:
        (finding,) = _run(root, ["AFX301"])[0].findings
    finally:
        resolver._SOLVED.clear()
        environment.clear_cache()
    assert finding.severity == "info" and "gave up" in finding.message


def test_an_empty_requirements_file_does_not_hide_the_full_one_above_it(tmp_path):
    # shubhamtodkar06/final_project: backend/requirements.txt is empty, the root one declares channels.
    write_tree(tmp_path, {
        "requirements.txt": "Django==4.2.7\nchannels==4.3.1\nchannels-redis==4.3.0\n",
        "backend/requirements.txt": "",
        "backend/chat/consumers.py": "from channels.generic.websocket import WebsocketConsumer\n",
        "backend/site/settings.py": 'CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}\n',
    })
    report, _ = _run(tmp_path, ["AFX103"])
    assert report.findings == []


def test_an_empty_requirements_file_alone_still_serves_its_code(tmp_path):
    write_tree(tmp_path, {
        "backend/requirements.txt": "",
        "backend/chat/consumers.py": "from channels.generic.websocket import WebsocketConsumer\n",
    })
    report, _ = _run(tmp_path, ["AFX103"])
    assert [(f.code, f.path.endswith("backend/chat/consumers.py")) for f in report.findings] == [("AFX103", True)]


def test_sets_serving_by_home_index_answers_as_asking_every_set():
    """The indexed lookup of the deepest home (install_sets._home_index) against the loop it replaces."""
    import random

    from asgifix import install_sets
    from asgifix.install_sets import InstallSet, _sets_serving

    rng = random.Random(19)
    dirs = ["", "a", "a/b", "a/b/c", "d", "d/e", "a/x"]
    for _ in range(300):
        sets = []
        for number in range(rng.randint(1, 5)):
            homes = tuple(rng.sample(dirs, rng.randint(1, 2)))
            sets.append(InstallSet(name=f"s{number}", entries=[f"{homes[0]}/requirements.txt".lstrip("/")],
                                   files={f"{homes[0]}/requirements.txt".lstrip("/")}, home=homes[0],
                                   homes=homes))
        path = rng.choice(["a/b/c/m.py", "a/m.py", "d/e/f/m.py", "m.py", "q/m.py", "a/x/y.py"])
        fast = _sets_serving(sets, path)
        install_sets._HOME_INDEXES.clear()
        original = install_sets._home_index
        try:
            install_sets._home_index = lambda _sets: None  # the loop
            slow = _sets_serving(sets, path)
        finally:
            install_sets._home_index = original
        assert [s.name for s in fast] == [s.name for s in slow], (path, [(s.name, s.homes) for s in sets])


def test_a_folder_named_old_above_the_checked_path_does_not_make_its_files_copies(tmp_path):
    """`is_copy` judges only directories below the paths the run was given (found by the latency15 work)."""
    from .conftest import run_cli, write_tree

    files = {"requirements.txt": "channels==4.1.0\nasgiref==3.2.0\n",
             "app/a.py": "from asgiref.sync import ThreadSensitiveContext\n"}  # AFX201 on asgiref 3.2.0
    reports = []
    for parent in ("plain", "old"):
        project = tmp_path / parent / "site"
        write_tree(project, files)
        report = run_cli("check", "--format", "json", "--exit-zero", str(project), cwd=tmp_path).json()
        reports.append(sorted((f["code"], f["path"].rsplit("/site/", 1)[-1], f["line"]) for f in report["findings"]))
    assert ("AFX201", "app/a.py", 1) in reports[0]
    assert reports[0] == reports[1]
    # below the checked path, `old/` still marks a copy
    from asgifix.install_sets import is_copy

    assert is_copy("site/old/requirements.txt", ("site",))
    assert not is_copy("old/site/requirements.txt", ("old/site",))
    assert is_copy("old/requirements.txt")


def test_a_list_of_system_packages_named_like_requirements_is_no_environment(tmp_path):
    """APSL/sauron: docker/system-requirements.txt lists apt packages; the Dockerfile pip-installs the root
    requirements.txt, which declares daphne. The apt list must not become the environment of docker/ (which
    made `daphne` "declared nowhere" there, with a fix adding it to the apt list)."""
    from .conftest import run_cli, write_tree

    write_tree(tmp_path, {
        "requirements.txt": "asgiref==1.0.0\nchannels==0.17.3\ndaphne==0.15.0\nDjango==1.10.2\n",
        "docker/system-requirements.txt": "mercurial\ngit\nlibldap2-dev\nlibsasl2-dev\n",
        "docker/docker-entrypoint.sh": "#!/bin/bash\nexec daphne -b 0.0.0.0 -p 8000 main.asgi:channel_layer\n",
    })
    report = run_cli("check", "--format", "json", "--exit-zero", ".", cwd=tmp_path).json()
    assert [f for f in report["findings"] if f["code"] == "AFX103"] == []
    # named on the command line (or installed by `pip install -r`), it is read as pip would
    named = run_cli("check", "--format", "json", "--exit-zero", "docker/system-requirements.txt", cwd=tmp_path)
    assert named.exit_code == 0
    from asgifix.sources.requirements import _SYSTEM_LIST

    for name in ("system-requirements.txt", "apt-requirements.txt", "requirements-apt.txt", "requirements.system.txt"):
        assert _SYSTEM_LIST.search(name), name
    for name in ("requirements.txt", "requirements-dev.txt", "test-requirements.txt", "requirements-osx-arm.txt",
                 "requirements/production.txt", "dev_requirements.txt"):
        assert not _SYSTEM_LIST.search(name), name
