"""`asgifix doctor --python` on a real virtual environment with a broken combination (needs the package index)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import venv

import pytest


@pytest.mark.network
def test_doctor_finds_django_32_on_an_old_asgiref_and_its_line_repairs_it(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    # Django 3.2 requires asgiref<4,>=3.3.2; --no-deps lets pip install an older one beside it.
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "Django==3.2.25", "asgiref==3.2.10"],
                   check=True, capture_output=True)

    def doctor():
        result = subprocess.run([sys.executable, "-m", "asgifix", "doctor", "--python", python, "--format", "json"],
                                capture_output=True, text=True)
        assert result.returncode in (0, 1), result.stderr
        return result.returncode, json.loads(result.stdout)

    code, data = doctor()
    assert code == 1
    [finding] = [f for f in data["findings"] if f["code"] == "AFX601"]
    assert finding["message"] == "Django 3.2.25 requires asgiref<4,>=3.3.2, but asgiref 3.2.10 is installed"
    assert finding["path"].startswith(str(env_dir)) and finding["path"].endswith("Django-3.2.25.dist-info/METADATA")
    command = data["suggested_command"]
    assert command.startswith(f"{python} -m pip install asgiref==3.")
    assert list(data["install"]) == ["asgiref"]

    subprocess.run(shlex.split(command) + ["-q"], check=True, capture_output=True)
    code, data = doctor()
    assert (code, data["findings"], data["suggested_command"]) == (0, [], None)
    installed = subprocess.run([python, "-m", "pip", "show", "asgiref"], capture_output=True, text=True).stdout
    assert f"Version: {command.rsplit('==', 1)[1]}" in installed
