"""The README's GitHub Actions, GitLab CI and pre-commit snippets and action.yml: each YAML parses,
and the asgifix commands in it run through the real CLI on a small broken project."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")  # in the test extra

from asgifix._paths import REPOSITORY_URL  # noqa: E402

from .conftest import REPO  # noqa: E402

BIN = Path(sys.executable).parent


def test_yaml_is_installed():
    import yaml  # noqa: F401  (importorskip must never skip the snippets into green)


def _snippets() -> dict[str, str]:
    """README ```yaml blocks, by the file name their first comment line gives."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = {}
    for body in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL):
        first = body.splitlines()[0]
        assert first.startswith("# "), f"a README YAML block must name its file: {first!r}"
        blocks[first[2:].strip()] = body
    return blocks


def _project(tmp_path) -> Path:
    """A small broken project: a malformed pin (an error) and a pin conflict."""
    root = tmp_path / "project"
    root.mkdir(parents=True)
    (root / "requirements.txt").write_text("Django==4.2.7\nasgiref 3.5.2\nchannels==4.1.0\n", encoding="utf-8")
    return root


def _bash(command: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = dict(os.environ)
    environment.pop("FORCE_COLOR", None)
    environment["PATH"] = f"{BIN}{os.pathsep}{environment.get('PATH', '')}"
    environment.update(env or {})
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=600)


def _asgifix_commands(lines) -> list[str]:
    return [line for line in lines if isinstance(line, str) and line.startswith("asgifix ")]


def _installs_from_repository(lines) -> None:
    installs = [line for line in lines if isinstance(line, str) and "install" in line and "git+" in line]
    for line in installs:
        assert f"git+{REPOSITORY_URL}" in line, line


def test_readme_has_the_three_snippets():
    assert {".pre-commit-config.yaml", ".github/workflows/asgifix.yml", ".gitlab-ci.yml"} <= set(_snippets())


def test_github_actions_snippets(tmp_path):
    workflows = {name: yaml.safe_load(body) for name, body in _snippets().items()
                 if name.startswith(".github/workflows/")}
    assert len(workflows) == 2
    ran = 0
    for name, workflow in workflows.items():
        steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
        uses = [step["uses"] for step in steps if "uses" in step]
        assert any(u.startswith("actions/checkout@") for u in uses), name
        action = [step for step in steps if step.get("uses", "").startswith("asgifix/asgifix@")]
        if action:  # the repository's own action: its inputs must exist in action.yml
            inputs = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))["inputs"]
            assert set(action[0].get("with", {})) <= set(inputs)
            assert REPOSITORY_URL.endswith("/" + action[0]["uses"].split("@")[0])
        runs = [step["run"] for step in steps if "run" in step]
        _installs_from_repository(runs)
        for command in _asgifix_commands(runs):
            result = _bash(command, _project(tmp_path / str(ran)))
            ran += 1
            assert result.returncode == 1, result.stderr  # the fixture is broken on purpose
            annotations = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
            assert annotations and all("::requirements.txt:" in a for a in annotations)
    assert ran == 1


def test_gitlab_snippet(tmp_path):
    config = yaml.safe_load(_snippets()[".gitlab-ci.yml"])
    job = config["asgifix"]
    _installs_from_repository(job["script"])
    report_name = job["artifacts"]["reports"]["codequality"]
    commands = _asgifix_commands(job["script"])
    assert commands
    root = _project(tmp_path)
    for command in commands:
        result = _bash(command, root)
        assert result.returncode == 1, result.stderr
        assert "Found " in result.stdout  # the job log shows the findings
    issues = json.loads((root / report_name).read_text(encoding="utf-8"))
    assert issues and {"description", "check_name", "fingerprint", "severity", "location"} <= set(issues[0])


def test_pre_commit_snippet():
    config = yaml.safe_load(_snippets()[".pre-commit-config.yaml"])
    (repo,) = config["repos"]
    assert repo["repo"] == REPOSITORY_URL
    assert repo["rev"] and all(hook["id"] in {"asgifix", "asgifix-fix"} for hook in repo["hooks"])
    hooks_file = REPO / ".pre-commit-hooks.yaml"
    if hooks_file.exists():  # the hook definitions (another change adds them): the ids must be there
        defined = {hook["id"] for hook in yaml.safe_load(hooks_file.read_text(encoding="utf-8"))}
        assert {hook["id"] for hook in repo["hooks"]} <= defined


# -- action.yml ---------------------------------------------------------------------------------

def _action():
    return yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def _expression(text: str, inputs: dict, context: dict) -> str:
    def value(match):
        name = match.group(1).strip()
        if name.startswith("inputs."):
            return inputs[name[len("inputs."):]]
        return context[name]
    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", value, text)


def _condition(condition: str, inputs: dict) -> bool:
    """The `if:` forms action.yml uses: `inputs.X == 'v'`, joined by `&&`, and `always()`."""
    for part in condition.split("&&"):
        part = part.strip()
        if part == "always()":
            continue
        match = re.fullmatch(r"inputs\.([\w-]+) == '([^']*)'", part)
        assert match, f"an `if:` form the test does not know: {part!r}"
        if inputs[match.group(1)] != match.group(2):
            return False
    return True


def _run_action(tmp_path, root: Path, **given) -> tuple[list[subprocess.CompletedProcess], dict]:
    action = _action()
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update(given)
    context = {"github.action_path": str(REPO)}
    results = []
    for step in action["runs"]["steps"]:
        if "if" in step and not _condition(step["if"], inputs):
            continue
        if "uses" in step:
            assert step["uses"].startswith("github/codeql-action/upload-sarif@")
            continue
        env = {key: _expression(str(value), inputs, context) for key, value in step.get("env", {}).items()}
        if step["name"] == "Install asgifix":
            # Installing needs the package index; check what it installs, and use this checkout's asgifix.
            assert env["ASGIFIX_SOURCE"] == str(REPO) and (REPO / "pyproject.toml").is_file()
            assert '"$ASGIFIX_SOURCE"' in step["run"] and "$GITHUB_PATH" in step["run"]
            continue
        results.append(_bash(step["run"], root, env))
    return results, inputs


def test_action_is_a_composite_with_documented_inputs():
    action = _action()
    assert action["runs"]["using"] == "composite"
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name
    for step in action["runs"]["steps"]:
        assert "run" not in step or step.get("shell") == "bash"
        assert "${{" not in step.get("run", ""), "expressions go through env, never into the script"


def test_action_annotates_and_writes_sarif(tmp_path):
    root = _project(tmp_path)
    results, inputs = _run_action(tmp_path, root, sarif="true")
    sarif_step, check_step = results
    assert sarif_step.returncode == 0, sarif_step.stderr
    assert check_step.returncode == 1
    assert any(line.startswith("::error file=") for line in check_step.stdout.splitlines())
    document = json.loads((root / inputs["sarif-file"]).read_text(encoding="utf-8"))
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    assert not list(jsonschema.Draft4Validator(schema).iter_errors(document))


def test_action_inputs_reach_the_command(tmp_path):
    root = _project(tmp_path)
    (check_step,) = _run_action(tmp_path, root, args="--select AFX101")[0]
    assert check_step.returncode == 1
    titles = set(re.findall(r"title=(AFX\d+)", check_step.stdout))
    assert titles == {"AFX101"}
    (passing,) = _run_action(tmp_path, root, args="--select AFX101", **{"fail-on": "error"})[0]
    assert passing.returncode == 1  # AFX101 is an error
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "requirements.txt").write_text("Django==4.2.7\nasgiref==3.7.2\n", encoding="utf-8")
    (ok,) = _run_action(tmp_path, clean)[0]
    assert ok.returncode == 0 and ok.stdout == ""
    assert not (clean / "asgifix.sarif").exists()  # sarif defaults to false
