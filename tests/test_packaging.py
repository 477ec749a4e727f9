"""The built wheel carries the catalogue, and a non-editable install finds it.

Builds the wheel offline (hatchling from the test environment, no build
isolation), installs it into a fresh target directory with no access to this
checkout, and runs the installed CLI from elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from .conftest import REPO


def test_wheel_ships_catalogue_and_installed_cli_finds_it(tmp_path):
    wheel_dir = tmp_path / "wheel"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(wheel_dir), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheel_dir.glob("asgifix-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "asgifix/rules/AFX101.toml" in names
    assert not any(name.startswith("rules/") for name in names)

    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("asgiref 3.5.2\n")
    env = dict(os.environ, PYTHONPATH=str(target))
    probe = subprocess.run(
        [sys.executable, "-c", "import asgifix, asgifix._paths as p; print(asgifix.__file__); print(p.rules_dir())"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )
    module_file, rules_dir = probe.stdout.split()
    assert module_file.startswith(str(target)), "the installed copy must be the one imported"
    assert rules_dir == str(target / "asgifix" / "rules")
    check = subprocess.run(
        [sys.executable, "-m", "asgifix", "check", "."], cwd=project, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert check.returncode == 1, check.stderr
    assert "requirements.txt:1:1: AFX101" in check.stdout
