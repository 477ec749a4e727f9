"""Validate ``asgifix upgrade`` against the package index: the rewritten sets install, the code compiles.

For every fixture under fixtures/upgrade/ (and fixtures/legacy-chat), a copy is upgraded
(``asgifix upgrade COPY``, default ``--to latest``); then, for each install set of the plan
and each Python of the set (the oldest and the newest it declares; 3.12 when it declares
none), ``uv pip compile --python-version P`` resolves what the set now declares plus
``asgiref==TARGET`` as a constraint: the rewritten set must install with the target asgiref.
Every rewritten ``.py`` file must compile (``compile()``, never imported). A second
``upgrade --dry-run`` must have nothing to do.

Needs the package index (uv downloads metadata), so it is not part of the test suite: run it
by hand, or with ``pytest -m network tests/test_validate_upgrade.py``.

    python scripts/validate_upgrade.py [--uv PATH] [--report bench/UPGRADE.md]

Prints one line per check and the totals; exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from asgifix.catalogue import load_catalogue, select_rules  # noqa: E402
from asgifix.config import Settings  # noqa: E402
from asgifix.upgrade import run_upgrade  # noqa: E402

FIXTURES = ["upgrade/channels1", "upgrade/channels2", "upgrade/channels3", "upgrade/modern", "upgrade/poetry",
            "upgrade/monorepo", "upgrade/old-python", "legacy-chat"]
DEFAULT_PYTHON = "3.12"


def _upgrade(root: Path):
    settings = Settings()
    rules = select_rules(load_catalogue(), settings.select, settings.ignore)
    return run_upgrade([str(root)], settings, rules, write=True)


def _set_inputs(root: Path, entries: list[str]) -> list[str]:
    """What uv resolves for a set: its requirements files (``-r`` followed by uv), or its package directory."""
    inputs = []
    for entry in entries:
        path = Path(entry)
        if path.name in ("setup.py", "setup.cfg", "pyproject.toml"):
            inputs.append(str(path.parent / "pyproject.toml") if (path.parent / "pyproject.toml").exists()
                          else str(path.parent / ("setup.cfg" if (path.parent / "setup.cfg").exists() else "setup.py")))
        else:
            inputs.append(str(path))
    return list(dict.fromkeys(inputs))


def resolves(uv: str, inputs: list[str], target: str, python: str, workdir: Path) -> tuple[bool, str]:
    constraint = workdir / "asgiref-target.txt"
    constraint.write_text(f"asgiref=={target}\n")
    proc = subprocess.run([uv, "pip", "compile", "--python-version", python, "--no-header", "--quiet",
                           "--no-config", "-c", str(constraint), *inputs],
                          capture_output=True, text=True, timeout=300, cwd=workdir)
    if proc.returncode != 0:
        return False, (proc.stderr.strip().splitlines() or [""])[-1][:200]
    pinned = [line.strip() for line in proc.stdout.splitlines() if line.strip().lower().startswith("asgiref==")]
    if pinned != [f"asgiref=={target}"]:
        return False, f"resolved {pinned or 'no asgiref'}"
    return True, ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", default=shutil.which("uv") or str(Path(sys.executable).parent / "uv"))
    parser.add_argument("--report", help="write the table as Markdown to this file")
    args = parser.parse_args(argv)
    if Path(args.uv).exists():
        args.uv = str(Path(args.uv).resolve())
    rows = []
    resolved = resolve_total = compiled = compile_total = idempotent = 0
    for fixture in FIXTURES:
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory) / Path(fixture).name
            shutil.copytree(REPO / "fixtures" / fixture, root)
            outcome = _upgrade(root)
            sets = {s.name: s for s in _install_sets(root)}
            for plan in outcome.plans:
                if plan.blocked or not plan.target:
                    rows.append((fixture, plan.name, "-", "-", f"no plan: {plan.blocked}", False))
                    resolve_total += 1
                    continue
                install_set = sets.get(plan.name)
                entries = [str(root.parent / e) if not Path(e).is_absolute() else e
                           for e in (install_set.entries if install_set else ())]
                pythons = list(plan.pythons) or [DEFAULT_PYTHON]
                for python in pythons:
                    ok, why = resolves(args.uv, _set_inputs(root, entries), plan.target, python, Path(directory))
                    resolve_total += 1
                    resolved += ok
                    name = plan.name.replace(str(root.parent) + "/", "")
                    rows.append((fixture, name, python, plan.target, "installs" if ok else f"FAILS: {why}", ok))
                    print(f"{'ok  ' if ok else 'FAIL'} {fixture:20} {name:55} py{python:5} asgiref=={plan.target} {why}")
            for path in outcome.changed_paths:
                if path.endswith(".py") and not path.endswith("setup.py"):
                    compile_total += 1
                    try:
                        compile(Path(path).read_text(), path, "exec")
                        compiled += 1
                    except SyntaxError as exc:
                        print(f"FAIL {path} does not compile: {exc}")
            again = run_upgrade([str(root)], Settings(), select_rules(load_catalogue(), Settings().select,
                                                                     Settings().ignore), write=False)
            idempotent += not again.changed_paths
            if again.changed_paths:
                print(f"FAIL {fixture}: a second upgrade would change {again.changed_paths}")
    print(f"{resolved}/{resolve_total} rewritten sets resolve with the target asgiref on each of their Pythons; "
          f"{compiled}/{compile_total} rewritten .py files compile; "
          f"{idempotent}/{len(FIXTURES)} fixtures unchanged by a second upgrade")
    if args.report:
        lines = ["| fixture | install set | Python | target | `uv pip compile --python-version` |",
                 "|---|---|---|---|---|"]
        lines += [f"| {f} | `{s}` | {p} | {t} | {d} |" for f, s, p, t, d, _ in rows]
        lines.append("")
        lines.append(f"- {resolved}/{resolve_total} rewritten sets resolve with the target asgiref on each of "
                     f"their Pythons")
        lines.append(f"- {compiled}/{compile_total} rewritten .py files compile")
        lines.append(f"- {idempotent}/{len(FIXTURES)} fixtures: a second `upgrade` changes nothing")
        Path(args.report).write_text("\n".join(lines) + "\n")
    ok = resolved == resolve_total and compiled == compile_total and idempotent == len(FIXTURES)
    return 0 if ok else 1


def _install_sets(root: Path):
    from asgifix.engine import Engine

    settings = Settings()
    engine = Engine(settings, select_rules(load_catalogue(), settings.select, settings.ignore), jobs=1)
    _, project, _ = engine.run([str(root)])
    return project.install_sets


if __name__ == "__main__":
    sys.exit(main())
