"""``asgifix upgrade``: plans for the fixtures under fixtures/upgrade/, applying them, idempotence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from asgifix import knowledge
from asgifix.cli import main
from asgifix.upgrade import _crossed, asgiref_finals, choose_target

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
UPGRADE = FIXTURES / "upgrade"


def _newest_on(python: str) -> str:
    """The newest asgiref whose Requires-Python admits ``python`` (computed here from the data)."""
    from packaging.specifiers import SpecifierSet

    return next(v for v in asgiref_finals()
                if SpecifierSet((knowledge.asgiref_release_info(v) or {}).get("requires_python") or "").contains(
                    python + ".0"))


def _plan(path: Path, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["upgrade", str(path), "--dry-run", "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def _moves(plan: dict) -> dict:
    return {m["package"]: m for m in plan["moves"]}


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_channels1_project_moves_onto_channels_2_plus_and_replaces_asgi_redis():
    code, out = _plan(UPGRADE / "channels1")
    assert code == 1
    (plan,) = out["plans"]
    assert plan["pythons"] == ["3.10"]
    moves = _moves(plan)
    assert moves["asgiref"]["from"] == "==1.1.2" and moves["asgiref"]["to"] == f"=={plan['target']}"
    assert moves["asgi-redis"]["kind"] == "replace" and moves["asgi-redis"]["to"].startswith("channels-redis==")
    django = moves["django"]
    assert django["from"] == "==1.11.29" and django["django_major"]
    assert "3.10" in knowledge.supported_pythons("django", django["to"][2:])  # imports on the set's Python
    assert int(moves["channels"]["to"][2:].split(".")[0]) >= 2
    assert any("django-upgrade" in note for note in plan["notes"])
    # the moves cross channels 3.0.3 (CVE-2020-35681, AsgiHandler) and asgiref 3.11.1 (CVE-2025-14550)
    assert [f["cve"] for f in moves["channels"]["security_fixes"]] == [["CVE-2020-35681"]]
    assert ["CVE-2025-14550"] in [f["cve"] for f in moves["asgiref"]["security_fixes"]]
    assert any("CVE-2020-35681" in note and "AsgiHandler" in note for note in plan["notes"])
    # Channels 1 consumers are for a person; the layer backend is rewritten.
    assert any(f["code"] == "AFX205" for f in out["remaining"])
    assert any(f["code"] == "AFX204" and f["fix"] for f in out["code_changes"])


def test_channels2_project_on_django_3_0_takes_the_newest_asgiref_its_python_runs():
    code, out = _plan(UPGRADE / "channels2")
    (plan,) = out["plans"]
    assert plan["pythons"] == ["3.8"]
    assert plan["target"] == _newest_on("3.8") != asgiref_finals()[0]
    assert "needs Python" in plan["target_note"]
    moves = _moves(plan)
    assert set(moves) == {"asgiref"}  # channels 2.4 / Django 3.0 accept asgiref 3.x
    assert "channels/mysite" not in json.dumps(out["code_changes"])


def test_channels3_project_on_django_3_2_moves_no_pin_but_gets_the_codemods():
    code, out = _plan(UPGRADE / "channels3")
    (plan,) = out["plans"]
    assert plan["moves"] == [] and not plan["blocked"]
    assert code == 1  # the code still has changes to make
    assert [f["code"] for f in out["code_changes"] if f["fix"]] == ["AFX402"]


def test_modern_project_needs_only_an_asgiref_bump():
    code, out = _plan(UPGRADE / "modern")
    (plan,) = out["plans"]
    assert plan["target"] == asgiref_finals()[0]
    assert [(m["package"], m["from"], m["to"]) for m in plan["moves"]] == [
        ("asgiref", "==3.8.1", f"=={asgiref_finals()[0]}")]
    assert out["changed_files"] == [str(UPGRADE / "modern" / "requirements.txt")]


def test_poetry_project_is_rewritten_in_poetry_syntax_and_names_the_lock_command(tmp_path):
    root = _copy("upgrade/poetry", tmp_path)
    lock_before = (root / "poetry.lock").read_bytes()
    result = CliRunner().invoke(main, ["upgrade", str(root)])
    assert result.exit_code in (0, 1), result.output
    assert "re-run `poetry lock`" in result.output
    target = _newest_on("3.10")
    text = (root / "pyproject.toml").read_text()
    assert f'asgiref = "{target}"' in text and 'django = "^3.2"' in text
    assert (root / "poetry.lock").read_bytes() == lock_before  # lock files are never rewritten


def test_two_service_monorepo_gets_one_plan_per_service_each_on_its_own_python():
    code, out = _plan(UPGRADE / "monorepo")
    plans = {Path(p["install_set"]).parent.name: p for p in out["plans"]}
    assert set(plans) == {"chat", "api"}
    assert plans["api"]["pythons"] == ["3.12"] and plans["api"]["target"] == asgiref_finals()[0]
    assert plans["chat"]["pythons"] == ["3.9"] and plans["chat"]["target"] == _newest_on("3.9")
    assert plans["chat"]["target"] != plans["api"]["target"]


def test_python_too_old_for_the_requested_asgiref_says_so_and_proposes_one():
    code, out = _plan(UPGRADE / "old-python", "--to", asgiref_finals()[0])
    (plan,) = out["plans"]
    proposal = _newest_on("3.8")
    assert plan["blocked"] and f"--to {proposal}" in plan["blocked"]
    assert out["changed_files"] == [] and code == 1
    code, out = _plan(UPGRADE / "old-python")
    (plan,) = out["plans"]
    assert plan["target"] == proposal
    assert _moves(plan)["asgiref"]["to"] == f"=={proposal}"


def test_choose_target_refuses_an_unknown_release():
    from asgifix.upgrade import UpgradeProblem

    with pytest.raises(UpgradeProblem):
        choose_target("99.0", ("3.12",))
    assert choose_target("latest", ()) == (asgiref_finals()[0], "")


@pytest.mark.parametrize("fixture", ["upgrade/channels1", "upgrade/monorepo", "legacy-chat"])
def test_apply_then_a_second_upgrade_changes_nothing(tmp_path, fixture):
    root = _copy(fixture, tmp_path)
    first = CliRunner().invoke(main, ["upgrade", str(root)])
    assert first.exit_code in (0, 1), first.output
    after = _snapshot(root)
    assert after != _snapshot(FIXTURES / fixture)
    again = CliRunner().invoke(main, ["upgrade", str(root), "--dry-run"])
    assert again.exit_code == 0, again.output
    assert "nothing to change" in again.output.lower()
    CliRunner().invoke(main, ["upgrade", str(root)])
    assert _snapshot(root) == after


def test_dry_run_writes_nothing(tmp_path):
    root = _copy("legacy-chat", tmp_path)
    before = _snapshot(root)
    result = CliRunner().invoke(main, ["upgrade", str(root), "--dry-run"])
    assert result.exit_code == 1
    assert "+channels_redis==" in result.output and "-asgi_redis==1.4.3" in result.output
    assert _snapshot(root) == before


def test_legacy_chat_upgrade_rewrites_both_asgiref_pins_and_the_layer(tmp_path):
    root = _copy("legacy-chat", tmp_path)
    CliRunner().invoke(main, ["upgrade", str(root)])
    target = asgiref_finals()[0]
    assert f"asgiref=={target}" in (root / "requirements.txt").read_text()
    assert (root / "requirements-dev.txt").read_text().splitlines()[-1] == f"asgiref=={target}"
    assert "channels_redis.core.RedisChannelLayer" in (root / "chat_project" / "settings.py").read_text()
    check = CliRunner().invoke(main, ["check", str(root), "--select", "AFX1,AFX3", "--format", "json"])
    assert not [f for f in json.loads(check.output)["findings"] if f["code"] in ("AFX101", "AFX102", "AFX301")]


def test_the_bundled_legacy_fixture_keeps_its_findings():
    assert CliRunner().invoke(main, ["check", str(FIXTURES / "legacy-chat")]).exit_code == 1


def test_usage_errors_exit_2():
    assert CliRunner().invoke(main, ["upgrade", str(UPGRADE / "modern"), "--to", "soon"]).exit_code == 2
    assert CliRunner().invoke(main, ["upgrade", str(UPGRADE / "modern"), "--python", "three"]).exit_code == 2
    assert CliRunner().invoke(main, ["upgrade", str(UPGRADE / "modern"), "--to", "99.0"]).exit_code == 2


def test_python_option_overrides_the_declared_python():
    code, out = _plan(UPGRADE / "modern", "--python", "3.9")
    (plan,) = out["plans"]
    assert plan["pythons"] == ["3.9"] and plan["target"] == _newest_on("3.9")


def test_security_fixes_crossed_come_from_the_release_data():
    fixes = knowledge.security_fixes("daphne")
    if not fixes:
        pytest.fail("release_facts.json records no daphne security fix")
    version = fixes[0]["version"]
    crossed = _crossed("daphne", "4.1.2", version)
    assert {c["version"] for c in crossed} == {version} and crossed[0]["cve"]
    assert _crossed("daphne", version, version) == []


FORMATS = {
    "pyproject.toml": ('[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.11"\n'
                       'dependencies = [\n    "Django>=4.2,<5",\n    "asgiref==3.7.2",\n]\n',
                       '    "asgiref=={target}",\n', "3.11"),
    "Pipfile": ('[packages]\ndjango = "==3.2.25"\nchannels = "==3.0.5"\nasgiref = "==3.5.2"\n\n'
                '[requires]\npython_version = "3.10"\n', 'asgiref = "=={target}"\n', "3.10"),
    "setup.py": ('from setuptools import setup\n\nsetup(\n    name="x",\n    python_requires=">=3.12",\n'
                 '    install_requires=["Django==4.2.16", "asgiref==3.7.2", "asgi_redis==1.4.3"],\n)\n',
                 '"asgiref=={target}", "channels_redis==', "3.12"),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_declaration_format_is_rewritten_in_its_own_syntax(tmp_path, name):
    text, expected, python = FORMATS[name]
    (tmp_path / name).write_text(text)
    result = CliRunner().invoke(main, ["upgrade", str(tmp_path), "--format", "json"])
    out = json.loads(result.output)
    (plan,) = out["plans"]
    assert plan["pythons"][0] == python and plan["target"] == _newest_on(python)
    after = (tmp_path / name).read_text()
    assert expected.format(target=plan["target"]) in after
    untouched = [line for line in text.splitlines() if "asgiref" not in line and "asgi_redis" not in line]
    assert all(line in after.splitlines() for line in untouched)


def test_a_target_older_than_the_pins_accept_is_refused_never_moved_back():
    code, out = _plan(UPGRADE / "modern", "--to", "3.7.2")
    (plan,) = out["plans"]
    assert "django 5.1.4 requires asgiref<4,>=3.8.1" in plan["blocked"]
    assert plan["moves"] == [] and out["changed_files"] == [] and code == 1


def test_the_readme_shows_what_upgrade_really_prints_on_the_legacy_fixture():
    import os
    import re

    readme = (FIXTURES.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## `asgifix upgrade`"):]
    shown = re.search(r"```text\n(.*?)```", section, re.DOTALL).group(1)
    diff = re.search(r"```diff\n(.*?)```", section, re.DOTALL).group(1)
    cwd = os.getcwd()
    os.chdir(FIXTURES.parent)  # the README runs it from the repository root
    try:
        result = CliRunner().invoke(main, ["upgrade", "fixtures/legacy-chat", "--dry-run", "--no-color"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 1
    printed, _, printed_diff = result.output.partition("--- a/")
    assert printed.rstrip() == shown.rstrip()
    for chunk in diff.split("--- a/")[1:]:
        assert chunk.rstrip() in printed_diff


def test_a_base_file_two_pythons_share_is_not_written_for_one_of_them(tmp_path):
    (tmp_path / "base.txt").write_text("Django==4.2.16\nasgiref==3.7.2\n")
    for service, python in (("a", "3.9"), ("b", "3.12")):
        (tmp_path / "services" / service).mkdir(parents=True)
        (tmp_path / "services" / service / "requirements.txt").write_text("-r ../../base.txt\n")
        (tmp_path / "services" / service / "Dockerfile").write_text(
            f"FROM python:{python}\nCOPY . .\nRUN pip install -r requirements.txt\n")
    code, out = _plan(tmp_path)
    targets = sorted(p["target"] for p in out["plans"])
    assert targets == sorted([_newest_on("3.9"), _newest_on("3.12")]) and targets[0] != targets[1]
    assert out["changed_files"] == []
    assert all(any("written differently" in n for n in p["notes"]) for p in out["plans"])
    code, out = _plan(tmp_path, "--to", _newest_on("3.9"))  # one release both run: written once
    assert out["changed_files"] == [str(tmp_path / "base.txt")]
