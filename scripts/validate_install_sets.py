"""Validate that AFX301's fixes install, on the oldest and the newest Python of the install set.

For every Django line from 3.0 to 6.0 (the newest patch release of each), a project
``Django==X`` + a conflicting ``asgiref==3.0.0`` is written twice: bare, and with a
``pyproject.toml`` that declares ``requires-python`` as the oldest Python that Django
line supports. ``asgifix fix`` runs on it; then ``uv pip compile --python-version P`` checks
that the fixed requirements resolve on the oldest and the newest Python of the install
set asgifix found. Needs the package index (uv downloads metadata), so it is not part of
the test suite: run it by hand, or with ``pytest -m network tests/test_validate_install_sets.py``.

    python scripts/validate_install_sets.py [--uv PATH] [--report bench/INSTALL-SETS.md]

Prints one line per case and the total; exits 1 when any case does not install.
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

from asgifix import knowledge  # noqa: E402
from asgifix.catalogue import load_catalogue, select_rules  # noqa: E402
from asgifix.config import Settings  # noqa: E402
from asgifix.engine import Engine  # noqa: E402

LINES = ("3.0", "3.1", "3.2", "4.0", "4.1", "4.2", "5.0", "5.1", "5.2", "6.0")


def newest_patch(line: str) -> str:
    from packaging.version import Version

    finals = [v for v in knowledge.releases_of("django") if v.startswith(line + ".") or v == line]
    finals = [v for v in finals if not Version(v).is_prerelease and Version(v).release[:2] == Version(line).release]
    return max(finals, key=Version)


def cases() -> list[tuple[str, str, bool]]:
    out = []
    for line in LINES:
        version = newest_patch(line)
        out.append((line, version, False))
        out.append((line, version, True))
    return out


def run_case(root: Path, version: str, declared: bool) -> tuple[list[str], str, list[str]]:
    """Fix the project; return (the Pythons of its set, the fixed requirements, problems)."""
    (root / "requirements.txt").write_text(f"Django=={version}\nasgiref==3.0.0\n")
    if declared:
        oldest = knowledge.supported_pythons("django", version)[0]
        (root / "pyproject.toml").write_text(
            f'[project]\nname = "probe"\nversion = "1"\nrequires-python = ">={oldest}"\n'
            f'dependencies = ["Django=={version}"]\n')
    settings = Settings()
    engine = Engine(settings, select_rules(load_catalogue(), settings.select, settings.ignore), jobs=1)
    engine.fix([str(root)])
    report, project, _ = engine.run([str(root)])
    problems = [f"{f.code} {f.message}" for f in report.findings if f.code.startswith("AFX3")]
    pythons = [s.pythons for s in project.install_sets if any(e.endswith("requirements.txt") for e in s.entries)]
    return list(pythons[0]) if pythons else [], (root / "requirements.txt").read_text(), problems


def resolves(uv: str, requirements: Path, python: str) -> tuple[bool, str]:
    proc = subprocess.run([uv, "pip", "compile", "--python-version", python, "--no-header", "--quiet",
                           "--no-config", str(requirements)], capture_output=True, text=True, timeout=300)
    return proc.returncode == 0, (proc.stderr.strip().splitlines() or [""])[-1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", default=shutil.which("uv") or "uv")
    parser.add_argument("--report", help="write the table as Markdown to this file")
    args = parser.parse_args(argv)
    rows = []
    passed = total = 0
    for line, version, declared in cases():
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            pythons, fixed, problems = run_case(root, version, declared)
            asgiref = next((l for l in fixed.splitlines() if l.startswith("asgiref")), "?")
            checks = []
            for python in dict.fromkeys((pythons[0], pythons[-1])) if pythons else ():
                ok, why = resolves(args.uv, root / "requirements.txt", python)
                checks.append((python, ok, why))
            ok = bool(checks) and all(c[1] for c in checks) and not problems
            total += 1
            passed += ok
            where = "requires-python" if declared else "inferred"
            detail = ", ".join(f"{p}: {'ok' if o else 'FAILS ' + w}" for p, o, w in checks) or "no Python found"
            if problems:
                detail += "; left: " + "; ".join(problems)
            rows.append((f"Django=={version}", where, asgiref, detail, ok))
            print(f"{'ok  ' if ok else 'FAIL'} Django=={version:8} {where:15} {asgiref:16} {detail}")
    print(f"{passed}/{total} fixed projects install on the oldest and the newest Python of their set")
    if args.report:
        lines = ["| project | Python from | asgiref after `fix` | `uv pip compile --python-version` |",
                 "|---|---|---|---|"]
        lines += [f"| `{p}` + `asgiref==3.0.0` | {w} | `{a}` | {d} |" for p, w, a, d, _ in rows]
        lines.append(f"\n{passed}/{total} install.")
        Path(args.report).write_text("\n".join(lines) + "\n")
    return 0 if passed == total else 1


if __name__ == "__main__":
    sys.exit(main())
