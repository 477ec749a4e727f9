"""The progress bar: on stderr, for long scans, only when stderr is a terminal."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import REPO

pty = pytest.importorskip("pty")


def _check_with_stderr_on(tmp_path, terminal: bool) -> tuple[str, str]:
    for index in range(600):
        (tmp_path / f"module_{index}.py").write_text("import os\n")
    environment = dict(os.environ, PYTHONPATH=str(REPO))
    environment.pop("NO_COLOR", None)
    if terminal:
        controller, worker = pty.openpty()
        stderr = worker
    else:
        controller = None
        stderr = subprocess.PIPE
    process = subprocess.Popen([sys.executable, "-m", "asgifix", "check", str(tmp_path)], cwd=REPO,
                               env=environment, stdout=subprocess.PIPE, stderr=stderr)
    stdout, piped_stderr = process.communicate(timeout=120)
    if not terminal:
        return stdout.decode(), piped_stderr.decode()
    os.close(worker)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO once the worker side is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return stdout.decode(), b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_stderr_only(tmp_path):
    stdout, stderr = _check_with_stderr_on(tmp_path, terminal=True)
    assert "Checking" in stderr and "━" in stderr  # the count and the (pulsing) bar
    assert "Checking" not in stdout
    assert "All checks passed (600 files checked)." in stdout


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    stdout, stderr = _check_with_stderr_on(tmp_path, terminal=False)
    assert stderr == ""
    assert "All checks passed (600 files checked)." in stdout
