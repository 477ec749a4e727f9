"""`asgifix doctor` on fixture environments made of real dist-info folders (tests/data/doctor/SOURCES.md)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from asgifix import knowledge
from asgifix.catalogue import load_catalogue, select_rules
from asgifix.doctor import run
from asgifix.sources.installed import read_entry, read_environment

from .conftest import run_cli, write_tree, told
from .doctor_env import DISTS, MARKERS, install

RULES = select_rules(load_catalogue(), ["AFX6"], [])


def _doctor(*entries, project=None):
    environment = read_environment([str(e) for e in entries], "3.11", MARKERS)
    project_rules = select_rules(load_catalogue(), ["AFX2", "AFX4"], []) if project else None
    return run(environment, RULES, str(project) if project else None, project_rules)


def _newest_asgiref(specifier: str, python: str = "3.11") -> str:
    """An oracle independent of the resolver: the newest final, unyanked asgiref in ``specifier`` for ``python``."""
    fitting = []
    for version in knowledge.asgiref_releases():
        info = knowledge.asgiref_release_info(version) or {}
        if Version(version).is_prerelease or info.get("yanked"):
            continue
        if info.get("requires_python") and python not in SpecifierSet(info["requires_python"]):
            continue
        if version in SpecifierSet(specifier):
            fitting.append(Version(version))
    return str(max(fitting))


def test_django_32_with_an_older_asgiref_is_reported_at_its_requirement_with_one_pip_line(tmp_path):
    site = install(tmp_path / "site-packages", "Django-3.2.25", "asgiref-3.2.10")
    outcome = _doctor(site)
    [finding] = outcome.report.findings
    assert finding.code == "AFX601" and finding.severity == "error"
    assert finding.message == "Django 3.2.25 requires asgiref<4,>=3.3.2, but asgiref 3.2.10 is installed"
    metadata = (DISTS / "Django-3.2.25.dist-info" / "METADATA").read_text()
    line = metadata.splitlines()[finding.span.line - 1]
    assert finding.path.endswith("Django-3.2.25.dist-info/METADATA") and line == "Requires-Dist: asgiref (<4,>=3.3.2)"
    assert line[finding.span.column - 1:finding.span.end_column - 1] == "asgiref (<4,>=3.3.2)"
    expected = _newest_asgiref("<4,>=3.3.2")
    assert outcome.install == {"asgiref": expected}
    assert outcome.line.endswith(f"-m pip install asgiref=={expected}")
    assert finding.hint == f"run `{outcome.line}`"


def test_a_consistent_environment_is_clean(tmp_path):
    site = install(tmp_path / "site-packages", "Django-3.2.25", "asgiref-3.11.1", "channels-3.0.5",
                   "daphne-3.0.2", "channels_redis-3.4.1")
    outcome = _doctor(site)
    assert outcome.report.findings == []
    assert outcome.install == {} and outcome.line is None
    assert outcome.report.files_checked == 5


def test_missing_and_old_requirements_get_one_line_that_satisfies_every_dependent(tmp_path):
    site = install(tmp_path / "site-packages", "Django-3.2.25", "asgiref-3.2.10", "channels-3.0.5")
    outcome = _doctor(site)
    messages = sorted(f.message for f in outcome.report.findings)
    assert messages == [
        "Django 3.2.25 requires asgiref<4,>=3.3.2, but asgiref 3.2.10 is installed",
        "channels 3.0.5 requires asgiref<4,>=3.5.0, but asgiref 3.2.10 is installed",
        "channels 3.0.5 requires daphne<4,>=3.0, which is not installed",
    ]
    assert set(outcome.install) == {"asgiref", "daphne"}
    # Every installed dependent's requirement holds for the versions the line installs.
    assert outcome.install["asgiref"] in SpecifierSet("<4,>=3.5.0") & SpecifierSet("<4,>=3.3.2")
    assert outcome.install["daphne"] in SpecifierSet("<4,>=3.0")
    daphne_needs = knowledge.requirements_of("daphne", outcome.install["daphne"])["asgiref"]
    assert outcome.install["asgiref"] in SpecifierSet(daphne_needs)
    assert len({f.hint for f in outcome.report.findings}) == 1  # the same single line everywhere


def test_asgi_redis_next_to_asgiref_3_is_a_channels_1_package_and_stays_out_of_the_line(tmp_path):
    site = install(tmp_path / "site-packages", "Django-3.2.25", "asgiref-3.2.10", "asgi_redis-1.4.3")
    outcome = _doctor(site)
    by_code = {}
    for finding in outcome.report.findings:
        by_code.setdefault(finding.code, []).append(finding)
    [channels1] = by_code["AFX602"]
    assert channels1.path.endswith("asgi_redis-1.4.3.dist-info/METADATA") and channels1.span.line == 2
    assert "channels-redis" in channels1.hint
    redis_601 = [f for f in by_code["AFX601"] if "asgi-redis" in f.message or "asgi_redis" in f.message]
    assert redis_601 and "AFX602" in redis_601[0].hint
    # The line serves Django, not asgi_redis (which wants asgiref~=1.1.2).
    assert outcome.install == {"asgiref": _newest_asgiref("<4,>=3.3.2")}


def test_a_channels_1_environment_on_asgiref_1_is_not_a_channels_1_finding(tmp_path):
    site = install(tmp_path / "site-packages", "asgiref-1.1.2", "asgi_redis-1.4.3", "channels-1.1.8", "daphne-1.4.2")
    outcome = _doctor(site)
    assert [f.code for f in outcome.report.findings if f.code == "AFX602"] == []


def test_django_channels_over_channels_is_one_module_installed_twice(tmp_path):
    site = install(tmp_path / "site-packages", "Django-3.2.25", "asgiref-3.11.1", "channels-3.0.5", "daphne-3.0.2",
                   "django_channels-0.7.0")
    outcome = _doctor(site)
    [finding] = outcome.report.findings
    assert finding.code == "AFX603"
    assert finding.path.endswith("django_channels-0.7.0.dist-info/METADATA")
    assert finding.message == ("django-channels 0.7.0 and channels 3.0.5 both install the module `channels`: "
                               "one overwrote the other's files")
    assert "pip uninstall django-channels" in finding.hint and "--force-reinstall channels==3.0.5" in finding.hint


def test_a_local_asgiref_directory_shadows_the_installed_one(tmp_path):
    site = install(tmp_path / "site-packages", "Django-3.2.25", "asgiref-3.11.1")
    project = write_tree(tmp_path / "project", {"asgiref/__init__.py": "", "manage.py": "import os\n"})
    outcome = _doctor(project, site)
    [finding] = outcome.report.findings
    assert finding.code == "AFX604" and finding.severity == "error"
    assert finding.path == str(project / "asgiref")
    assert "not the installed asgiref 3.11.1" in finding.message


def test_a_second_asgiref_further_down_the_path_is_a_warning_at_the_hidden_copy(tmp_path):
    first = install(tmp_path / "vendor", "asgiref-3.11.1")
    second = install(tmp_path / "site-packages", "Django-3.2.25", "asgiref-3.2.10")
    outcome = _doctor(first, second)
    [finding] = outcome.report.findings
    assert finding.code == "AFX604" and finding.severity == "warning"
    assert finding.path == str(second / "asgiref-3.2.10.dist-info" / "METADATA")
    # The first copy is what imports: Django's requirement is met by 3.11.1.
    assert not [f for f in outcome.report.findings if f.code == "AFX601"]


def test_an_egg_info_with_requires_txt_is_read(tmp_path):
    site = install(tmp_path / "site-packages", "Django-3.2.25", "asgiref-3.2.10")
    shutil.copytree(DISTS.parent / "egg" / "channels.egg-info", site / "channels.egg-info")
    dists, _ = read_entry(str(site))
    [channels] = [d for d in dists if d.name == "channels"]
    assert channels.kind == "egg-info" and channels.version == "3.0.5"
    assert [(r.name, r.specifier) for r in channels.requires if not r.marker] == [
        ("django", ">=2.2"), ("asgiref", "<4,>=3.5.0"), ("daphne", "<4,>=3.0")]
    assert all(r.marker == 'extra == "tests"' for r in channels.requires if r.name == "pytest")
    outcome = _doctor(site)
    assert "channels 3.0.5 requires daphne<4,>=3.0, which is not installed" in [f.message for f in outcome.report.findings]


def test_markers_are_evaluated_for_the_inspected_python(tmp_path):
    site = write_tree(tmp_path / "site-packages", {
        "asgiref-3.2.10.dist-info/METADATA": "Metadata-Version: 2.1\nName: asgiref\nVersion: 3.2.10\n",
        "shim-1.0.dist-info/METADATA": ("Metadata-Version: 2.1\nName: shim\nVersion: 1.0\n"
                                        "Requires-Dist: asgiref>=3.5; python_version >= \"3.10\"\n"),
    })
    on_311 = read_environment([str(site)], "3.11", MARKERS)
    on_38 = read_environment([str(site)], "3.8", {**MARKERS, "python_version": "3.8", "python_full_version": "3.8.18"})
    assert [f.code for f in run(on_311, RULES).report.findings] == ["AFX601"]
    assert run(on_38, RULES).report.findings == []


def test_project_code_is_judged_against_the_installed_asgiref(tmp_path):
    site = install(tmp_path / "site-packages", "Django-3.2.25", "asgiref-3.2.10")
    project = write_tree(tmp_path / "project", {
        "chat/consumers.py": "from asgiref.sync import ThreadSensitiveContext\n",
    })
    outcome = _doctor(project, site, project=project)
    code_findings = [f for f in outcome.report.findings if f.path.endswith("consumers.py")]
    assert code_findings and code_findings[0].code.startswith("AFX2")
    assert "3.2.10" in told(code_findings[0])
    # With an asgiref that has the name, the code is fine.
    site2 = install(tmp_path / "site2", "Django-3.2.25", "asgiref-3.11.1")
    assert [f for f in _doctor(project, site2, project=project).report.findings if f.path.endswith("consumers.py")] == []


def test_cli_on_a_target_folder_prints_findings_and_the_line(tmp_path):
    site = install(tmp_path / "target", "Django-3.2.25", "asgiref-3.2.10")
    result = run_cli("doctor", "--path", str(site), "--format", "json")
    assert result.exit_code == 1, result.stderr
    data = result.json()
    assert [f["code"] for f in data["findings"]] == ["AFX601"]
    expected = _newest_asgiref("<4,>=3.3.2", ".".join(map(str, sys.version_info[:2])))
    assert data["install"] == {"asgiref": expected}
    assert data["suggested_command"].endswith(f"pip install --upgrade --target {site} asgiref=={expected}")
    text = run_cli("doctor", "--path", str(site), "--no-color")
    assert text.exit_code == 1 and "AFX601" in text.stdout and f"asgiref=={expected}" in text.stdout.splitlines()[-1]


def test_cli_clean_environment_exits_0_and_bad_interpreter_is_one_line(tmp_path):
    site = install(tmp_path / "target", "Django-3.2.25", "asgiref-3.11.1")
    result = run_cli("doctor", "--path", str(site), "--no-color")
    assert result.exit_code == 0 and "All checks passed" in result.stdout
    bad = run_cli("doctor", "--python", str(tmp_path / "nope"))
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1 and "no such interpreter" in bad.stderr


def test_cli_asks_another_interpreter_for_its_path(tmp_path):
    # This interpreter, named by path: its sys.path comes from a subprocess, not from asgifix's own.
    result = run_cli("doctor", "--python", sys.executable, "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    data = result.json()
    assert data["environment"]["python_version"] == ".".join(map(str, sys.version_info[:2]))
    assert any(p.endswith("site-packages") for p in data["environment"]["paths"])


def test_broken_metadata_is_a_one_line_error_and_the_run_goes_on(tmp_path):
    site = install(tmp_path / "site-packages", "Django-3.2.25", "asgiref-3.2.10")
    write_tree(site, {
        "broken-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: broken\nVersion: 1.0\nRequires-Dist: asgiref >=>= 3\n",
        "noname.dist-info/METADATA": "\xff\xfe garbage without headers\n",
        "empty.egg-info": "",
    })
    outcome = _doctor(site)
    assert [f.code for f in outcome.report.findings] == ["AFX601"]
    [error] = outcome.report.errors
    assert error.path.endswith("broken-1.0.dist-info/METADATA") and "line 4" in error.message and not error.fatal


def test_a_program_that_is_not_python_is_refused_in_one_line(tmp_path):
    result = run_cli("doctor", "--python", shutil.which("echo") or "/bin/echo")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "did not print its path" in result.stderr


def test_check_never_runs_the_environment_rules(tmp_path):
    write_tree(tmp_path, {"requirements.txt": "Django==3.2.25\nasgiref==3.2.10\n"})
    result = run_cli("check", "--select", "AFX6", "--format", "json", str(tmp_path))
    assert result.exit_code == 0 and result.json()["findings"] == []


def test_packages_that_block_the_move_move_with_it_and_the_complaining_one_stays(tmp_path):
    # Django 3.2 wants asgiref 3.3.2+; channels 1.1.8 and daphne 1.4.2 (content with asgiref 1.1.2) block it.
    site = install(tmp_path / "site-packages", "Django-3.2.25", "asgiref-1.1.2", "channels-1.1.8", "daphne-1.4.2")
    outcome = _doctor(site)
    assert [f.code for f in outcome.report.findings] == ["AFX601"]
    install_set = outcome.install
    assert "django" not in install_set and {"asgiref", "channels", "daphne"} <= set(install_set)
    after = {"django": "3.2.25", **install_set}
    # What each resulting release requires (from the release data) holds for the others.
    assert after["asgiref"] in SpecifierSet("<4,>=3.3.2")
    for package in ("channels", "daphne"):
        for required, specifier in knowledge.requirements_of(package, after[package]).items():
            if specifier is not None and required in after:
                assert after[required] in SpecifierSet(specifier), (package, required, specifier)


def test_a_target_folder_given_to_python_is_detected(tmp_path):
    site = install(tmp_path / "target", "Django-3.2.25", "asgiref-3.2.10")
    result = run_cli("doctor", "--python", str(site), "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert result.json()["environment"]["paths"] == [str(site)]
    assert " --target " in result.json()["suggested_command"]
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = run_cli("doctor", "--python", str(empty))
    assert refused.exit_code == 2 and "--path" in refused.stderr


ROUTING_PROJECT = {
    # requirements.txt says Channels 2; the environment decides.
    "requirements.txt": "channels==2.4.0\nDjango==3.2.25\n",
    "chat/__init__.py": "",
    "chat/consumers.py": ("from channels.generic.websocket import AsyncJsonWebsocketConsumer\n\n\n"
                          "class ChatConsumer(AsyncJsonWebsocketConsumer):\n    pass\n"),
    "chat/routing.py": ("from django.urls import re_path\n\nfrom chat.consumers import ChatConsumer\n\n"
                        "websocket_urlpatterns = [re_path(r\"ws/chat/$\", ChatConsumer)]\n"),
}


def test_wiring_is_judged_against_the_installed_channels_not_the_pins(tmp_path):
    project = write_tree(tmp_path / "project", ROUTING_PROJECT)
    with_3 = install(tmp_path / "site3", "Django-3.2.25", "asgiref-3.11.1", "channels-3.0.5", "daphne-3.0.2")
    found = [f for f in _doctor(with_3, project=project).report.findings if f.code == "AFX401"]
    assert found and found[0].path.endswith("routing.py") and "channels 3.0.5 is installed" in told(found[0])
    assert found[0].fix is None  # `fix` rewrites against the pins, so doctor offers none
    # No channels installed: nothing to judge the routing against (not "the newest channels").
    without = install(tmp_path / "site", "Django-3.2.25", "asgiref-3.11.1")
    assert [f for f in _doctor(without, project=project).report.findings if f.code == "AFX401"] == []
