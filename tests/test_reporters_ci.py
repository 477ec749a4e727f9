"""The CI formats (SARIF against the official schema, GitLab Code Quality, JUnit, GitHub
annotations), --fail-on and --output-file, run through the CLI on real projects."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from asgifix._paths import REPOSITORY_URL, rule_doc_url
from asgifix.catalogue import load_catalogue

from .conftest import FIXTURES, REPO, run_cli

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
LEGACY = str(FIXTURES / "legacy-chat")
# An import whose verdict depends on a range that straddles the move: a warning, not an error.
STRADDLING = {"chat/consumers.py": "from channels.generic.websockets import WebsocketConsumer\n",
              "requirements.txt": "channels>=1.1,<3\n"}


def _sarif_validator():
    jsonschema = pytest.importorskip("jsonschema")  # in the test extra: a missing one is an install bug
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return jsonschema.Draft4Validator(schema)


def test_jsonschema_is_installed():
    # importorskip above must never turn the schema test green by skipping.
    import jsonschema  # noqa: F401


@pytest.mark.parametrize("command", [["check", LEGACY], ["fix", LEGACY, "--diff"]])
def test_sarif_validates_against_the_official_schema(command, tmp_path):
    validator = _sarif_validator()
    if command[0] == "fix":  # a fix run's report (with fixes applied in a copy) validates too
        import shutil

        shutil.copytree(LEGACY, tmp_path / "legacy")
        command = ["fix", str(tmp_path / "legacy")]
    result = run_cli(*command, "--format", "sarif")
    document = json.loads(result.stdout)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    run = document["runs"][0]
    if command[0] == "check":
        assert run["results"], "the legacy fixture has findings"
        assert any("fixes" in result for result in run["results"])


def test_sarif_with_file_errors_validates(tree):
    root = tree({"requirements.txt": "asgiref 3.5.2\n", "pyproject.toml": "[project\nname = 'x'\n"})
    document = run_cli("check", str(root), "--format", "sarif").json()
    assert not list(_sarif_validator().iter_errors(document))
    assert document["runs"][0]["invocations"][0]["toolExecutionNotifications"]


def test_sarif_links_point_at_committed_docs():
    document = run_cli("check", LEGACY, "--format", "sarif").json()
    driver = document["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == REPOSITORY_URL
    for rule in driver["rules"]:
        assert rule["helpUri"] == rule_doc_url(rule["id"])
        page = rule["helpUri"].split("/blob/main/", 1)[1]
        assert (REPO / page).is_file(), f"{rule['helpUri']} names no committed file"


def test_repository_url_is_pyprojects():
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert f'Repository = "{REPOSITORY_URL}"' in text


def test_gitlab_code_quality():
    data = run_cli("check", LEGACY, "--format", "gitlab").json()
    assert isinstance(data, list) and data
    fingerprints = set()
    for issue in data:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(issue["location"]["path"], str)
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1
        fingerprints.add(issue["fingerprint"])
    assert len(fingerprints) == len(data), "fingerprints must be unique"
    again = run_cli("check", LEGACY, "--format", "gitlab").json()
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in data]


def test_gitlab_fingerprint_survives_moved_lines(tree):
    root = tree({"requirements.txt": "asgiref 3.5.2\n"})
    before = run_cli("check", str(root), "--format", "gitlab").json()
    (root / "requirements.txt").write_text("# a comment moves the line\nasgiref 3.5.2\n", encoding="utf-8")
    after = run_cli("check", str(root), "--format", "gitlab").json()
    assert before[0]["location"]["lines"]["begin"] == 1 and after[0]["location"]["lines"]["begin"] == 2
    assert before[0]["fingerprint"] == after[0]["fingerprint"]


def test_junit_xml(tree):
    result = run_cli("check", LEGACY, "--format", "junit")
    assert result.exit_code == 1
    root = ElementTree.fromstring(result.stdout)
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    failures = [case for case in cases if case.find("failure") is not None]
    assert int(suite.get("failures")) == len(failures) > 0
    assert int(suite.get("tests")) == len(cases)
    first = failures[0].find("failure")
    assert first.get("type").startswith("AFX") and first.get("message")
    clean = tree({"requirements.txt": "Django==4.2.7\nasgiref==3.7.2\n"})
    passed = ElementTree.fromstring(run_cli("check", str(clean), "--format", "junit").stdout)
    (case,) = passed.iter("testcase")
    assert case.find("failure") is None


def test_junit_escapes_markup(tree):
    root = tree({"requirements.txt": "asgiref <3.5 & \x1b[31mred\n"})
    ElementTree.fromstring(run_cli("check", str(root), "--format", "junit").stdout)  # parses


def test_github_annotation_carries_location_and_notice_past_ten(tree):
    root = tree({"requirements.txt": "".join(f"pkg{n} {n}.0\n" for n in range(12))})
    result = run_cli("check", "requirements.txt", "--format", "github", cwd=root)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::error file=requirements.txt,line=1,")
    assert "::requirements.txt:1:1: AFX101 " in lines[0]
    assert len(lines) == 13 and lines[-1].startswith("::notice title=asgifix::12 findings: GitHub shows only 10")
    few = tree({"requirements.txt": "asgiref 3.5.2\n"})
    assert "::notice" not in run_cli("check", "requirements.txt", "--format", "github", cwd=few).stdout


def test_fail_on_severity(tree):
    root = tree(STRADDLING)
    data = run_cli("check", str(root), "--format", "json").json()
    assert {f["severity"] for f in data["findings"]} == {"warning"}
    assert run_cli("check", str(root)).exit_code == 1  # default: warning
    assert run_cli("check", str(root), "--fail-on", "info").exit_code == 1
    assert run_cli("check", str(root), "--fail-on", "error").exit_code == 0
    broken = tree({"requirements.txt": "asgiref 3.5.2\n"})
    assert run_cli("check", str(broken), "--fail-on", "error").exit_code == 1
    assert run_cli("check", str(broken), "--fail-on", "error", "--exit-zero").exit_code == 0
    assert run_cli("check", str(root), "--fail-on", "fatal").exit_code == 2  # a usage error


def test_output_file_writes_report_and_keeps_exit_code(tree, tmp_path):
    target = tmp_path / "out" / "asgifix.sarif"
    target.parent.mkdir()
    result = run_cli("check", LEGACY, "--format", "sarif", "--output-file", str(target), "--no-color")
    assert result.exit_code == 1
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["runs"][0]["results"]
    assert "AFX" in result.stdout and "Found " in result.stdout  # the log still shows the findings as text
    assert not result.stdout.lstrip().startswith("{")
    clean = tree({"requirements.txt": "Django==4.2.7\nasgiref==3.7.2\n"})
    report = tmp_path / "gl.json"
    assert run_cli("check", str(clean), "--format", "gitlab", "-o", str(report)).exit_code == 0
    assert json.loads(report.read_text(encoding="utf-8")) == []
    missing = run_cli("check", str(clean), "--format", "json", "-o", str(tmp_path / "no" / "dir.json"))
    assert missing.exit_code == 2 and "cannot write the report" in missing.stderr


def test_every_format_is_offered():
    from asgifix.reporters import FORMATS

    help_text = run_cli("check", "--help").stdout
    for name in FORMATS:
        assert name in help_text
    assert {rule.code for rule in load_catalogue()}  # the catalogue loads


def test_output_file_with_diff_is_a_usage_error(tree, tmp_path):
    root = tree({"requirements.txt": "asgiref 3.5.2\n"})
    result = run_cli("fix", str(root), "--diff", "--output-file", str(tmp_path / "r.json"))
    assert result.exit_code == 2 and "--output-file does not apply to --diff" in result.stderr
    assert not (tmp_path / "r.json").exists()
    assert (root / "requirements.txt").read_text(encoding="utf-8") == "asgiref 3.5.2\n"
