"""`asgifix doctor`: what is wrong with an installed environment, read without importing it.

1. Which path entries: the current interpreter's ``sys.path``, another interpreter's (``--python``:
   it is run in a subprocess with ``-I -c`` to print its ``sys.path`` and marker values; that runs
   the interpreter only, never an installed package), or ``pip install --target`` folders.
2. What is installed there: :mod:`asgifix.sources.installed` reads the metadata files.
3. The AFX6xx rules judge it (:mod:`asgifix.matchers.installed`); the fix they suggest is one
   ``pip install`` line chosen by the resolver (:func:`asgifix.matchers.installed.install_line`).
4. With a project, the engine checks its code and settings against the installed versions
   (:class:`asgifix.project.InstalledPins` in place of the project's pins): the AFX2xx and AFX4xx
   rules, whose verdicts depend on versions.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import subprocess
import sys
from .records import dataclass, field
from typing import Optional

from .model import FileError, Finding, Report

# Rules run on a project's code against the installed versions (the version-dependent code rules).
PROJECT_RULES = ("AFX2", "AFX4")
PROBE_TIMEOUT = 60  # seconds an interpreter may take to print its path

# Runs inside the inspected interpreter (any Python 3): prints its path and PEP 508 marker values.
# Only the standard library is imported; -I keeps the current directory and PYTHON* variables out.
PROBE = r"""
import json, os, platform, sys
def fmt(info):
    version = '%d.%d.%d' % (info[0], info[1], info[2])
    if info[3] != 'final':
        version += info[3][0] + str(info[4])
    return version
impl = getattr(sys, 'implementation', None)
markers = {
    'implementation_name': impl.name if impl else 'cpython',
    'implementation_version': fmt(impl.version) if impl else '0',
    'os_name': os.name,
    'platform_machine': platform.machine(),
    'platform_release': platform.release(),
    'platform_system': platform.system(),
    'platform_version': platform.version(),
    'python_full_version': platform.python_version(),
    'platform_python_implementation': platform.python_implementation(),
    'python_version': '.'.join(platform.python_version_tuple()[:2]),
    'sys_platform': sys.platform,
}
sys.stdout.write(json.dumps({'path': sys.path, 'markers': markers, 'executable': sys.executable}))
"""


class DoctorError(Exception):
    """The environment cannot be inspected (a one-line reason for the user)."""


@dataclass
class Outcome:
    report: Report
    environment: object  # InstalledEnvironment
    line: Optional[str] = None  # the suggested pip command
    install: dict = field(default_factory=dict)  # {package: version} the line installs
    unsolvable: bool = False


def interpreter_of(path: str) -> str:
    """``--python``: an interpreter, or a virtual environment's directory (its bin/python)."""
    if os.path.isdir(path):
        for candidate in (os.path.join(path, "bin", "python"), os.path.join(path, "Scripts", "python.exe")):
            if os.path.isfile(candidate):
                return candidate
        raise DoctorError(f"{path}: a directory without bin/python (for a `pip install --target` folder use --path)")
    if not os.path.exists(path):
        raise DoctorError(f"{path}: no such interpreter")
    return path


def is_target_folder(path: str) -> bool:
    """A directory with installed metadata in it and no interpreter: what `pip install --target` leaves."""
    if not os.path.isdir(path) or any(os.path.isfile(os.path.join(path, *p)) for p in
                                      (("bin", "python"), ("Scripts", "python.exe"))):
        return False
    try:
        return any(name.endswith((".dist-info", ".egg-info")) for name in os.listdir(path))
    except OSError:
        return False


def probe(python: str) -> dict:
    """The interpreter's ``sys.path`` and marker values, from a subprocess that imports only the stdlib."""
    try:
        result = subprocess.run([python, "-I", "-c", PROBE], capture_output=True, text=True,
                                timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise DoctorError(f"{python}: cannot run it ({type(exc).__name__}: {exc})") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise DoctorError(f"{python}: it exited with status {result.returncode}: {last[:200]}")
    try:
        data = json.loads(result.stdout)
        paths = [str(p) for p in data["path"]]
        markers = {str(k): str(v) for k, v in data["markers"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DoctorError(f"{python}: it did not print its path (is it a Python interpreter?)") from None
    return {"path": paths, "markers": markers, "executable": str(data.get("executable") or python)}


def inspect(python: Optional[str] = None, target_dirs: tuple[str, ...] = (), project: Optional[str] = None):
    """The :class:`~asgifix.sources.installed.InstalledEnvironment` to judge.

    ``target_dirs``: ``pip install --target`` folders, inspected alone (with the interpreter's
    Python for markers). ``project``: its directory comes first on the path, as it does for
    ``python manage.py`` (a local ``asgiref/`` there shadows the installed one).
    """
    from .sources.installed import read_environment

    if python and not target_dirs and is_target_folder(python):
        # `--python ./package` naming a `pip install --target` folder: inspected as --path would.
        python, target_dirs = None, (python,)
    interpreter = interpreter_of(python) if python else sys.executable
    probed = probe(interpreter)
    if target_dirs:
        for directory in target_dirs:
            if not os.path.isdir(directory):
                raise DoctorError(f"{directory}: no such directory")
        entries = list(target_dirs)
    else:
        entries = [p for p in probed["path"] if p]
    if project is not None:
        entries.insert(0, project)
    return read_environment(entries, probed["markers"]["python_version"], probed["markers"],
                            interpreter=probed["executable"], target=target_dirs[0] if target_dirs else None)


def command_line(environment, install: dict) -> str:
    """``/venv/bin/python -m pip install asgiref==3.11.1`` (``--target`` folders: ``--upgrade --target DIR``)."""
    parts = [environment.interpreter or "python", "-m", "pip", "install"]
    if environment.target:
        parts += ["--upgrade", "--target", environment.target]
    names = {d.name: d.display_name for d in environment.distributions}
    parts += [f"{names.get(name, name)}=={version}" for name, version in sorted(install.items())]
    return " ".join(shlex.quote(part) for part in parts)


def run(environment, rules: list, project: Optional[str] = None, project_rules: Optional[list] = None) -> Outcome:
    """Judge ``environment`` with the AFX6xx ``rules`` (and ``project`` with ``project_rules``)."""
    from .matchers import RuleContext, lazy_matcher
    from .matchers.installed import channels1_era, install_line

    report = Report()
    context = RuleContext()
    findings: list[Finding] = []
    excluded: set[str] = set()
    for rule in rules:
        matcher = lazy_matcher(rule, context)
        if not matcher.is_environment:
            continue
        findings.extend(matcher.matcher().check_environment(environment))
        if rule.matcher == "installed-channels1":
            excluded |= {dist.name for dist, _ in channels1_era(environment, list(rule.params.get("packages", [])))}
    install = install_line(environment, excluded)
    outcome = Outcome(report, environment)
    if install:
        outcome.install = install
        outcome.line = command_line(environment, install)
    outcome.unsolvable = install is None
    excluded_paths = {d.metadata_path for d in environment.distributions if d.name in excluded}
    texts = {d.metadata_path: d.text for d in environment.distributions}
    for finding in findings:
        if finding.path in texts and finding.span.start < finding.span.end:  # show the metadata line
            lines = texts[finding.path].splitlines()
            if 0 < finding.span.line <= len(lines):
                finding = dataclasses.replace(finding, source_line=lines[finding.span.line - 1])
        if finding.code == "AFX601":
            if finding.path in excluded_paths:
                finding = dataclasses.replace(finding, hint="a Channels 1 package: replace it rather than "
                                                            "move asgiref back (see AFX602)")
            elif outcome.line:
                finding = dataclasses.replace(finding, hint=f"run `{outcome.line}`")
            elif outcome.unsolvable:
                finding = dataclasses.replace(finding, hint="no versions satisfy every installed package together: "
                                                            "uninstall the one that asks the impossible")
        report.findings.append(dataclasses.replace(finding, path=_shown(finding.path)))
    for path, message in environment.errors:
        report.errors.append(FileError(_shown(path), message, fatal=False))
    report.files_checked = len(environment.distributions)
    if project is not None and project_rules:
        project_report = check_project(environment, project, project_rules)
        # `asgifix fix` rewrites against the project's pins, not this environment: no fix is offered here.
        report.findings.extend(dataclasses.replace(f, fix=None) for f in project_report.findings)
        report.errors.extend(project_report.errors)
        report.files_checked += project_report.files_checked
    report.sort()
    return outcome


def _shown(path: str) -> str:
    """A path under the current directory relative to it (as `check` shows them); others as they are."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith(os.pardir) else relative


def check_project(environment, project: str, rules: list) -> Report:
    """The engine's findings on ``project``, judged against the installed versions."""
    from .config import Settings, find_config, load_settings
    from .engine import Engine
    from .project import InstalledPins
    from pathlib import Path

    from .config import ConfigError

    try:
        settings = load_settings(find_config(Path(project)))
    except ConfigError:  # a broken configuration is `check`'s error; doctor judges with the defaults
        settings = Settings()
    pins = InstalledPins(tuple(sorted(environment.versions().items())), environment.python_version)
    engine = Engine(settings, rules, installed=pins)
    report, _, _ = engine.run([project])
    return report


def main(project, python, target_dirs, output_format: str, quiet: bool, color: bool, fail) -> int:
    """The command: inspect, judge, print; the exit code (0 clean, 1 findings, 2 error)."""
    import click

    from .catalogue import CatalogueError, load_catalogue, select_rules
    from .reporters import RenderOptions, printable, renderer

    try:
        catalogue = load_catalogue()
        environment = inspect(python, tuple(target_dirs), project)
    except CatalogueError as exc:
        raise fail(str(exc)) from None
    except DoctorError as exc:
        raise fail(str(exc)) from None
    rules = select_rules(catalogue, ["AFX6"], [])
    project_rules = select_rules(catalogue, list(PROJECT_RULES), []) if project is not None else None
    outcome = run(environment, rules, project, project_rules)
    report = outcome.report
    text = renderer(output_format)(report, list(catalogue), RenderOptions(color=color, quiet=quiet))
    if output_format == "json":
        data = json.loads(text)
        data["environment"] = {"python": environment.interpreter, "python_version": environment.python_version,
                               "paths": environment.entries, "distributions": len(environment.distributions)}
        data["suggested_command"] = outcome.line
        data["install"] = outcome.install
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif output_format == "text":
        where = environment.target or environment.interpreter
        before = "" if quiet else f"Inspected {printable(str(where))} (Python {environment.python_version}).\n"
        after = f"To fix the installed versions, run:\n    {printable(outcome.line)}\n" if outcome.line else ""
        if color:  # the report is rich markup already; what is added around it is escaped
            from rich.console import Console
            from rich.markup import escape

            Console(soft_wrap=True, highlight=False).print(escape(before) + text + escape(after), end="")
            text = None
        else:
            text = before + text + after
    if text is not None:
        click.echo(text, nl=False)
    if any(error.fatal for error in report.errors):
        return 2
    return 1 if report.findings else 0
