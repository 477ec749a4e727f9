"""Record and compare asgifix's findings, so a speed change can prove it changed none.

    python bench/findings.py record bench/.trees/speed-before.json   # every fixture and benchmark tree
    python bench/findings.py compare bench/.trees/speed-before.json  # run again, compare, exit 1 on a difference
    python bench/findings.py corpus bench/corpus/results/A.json bench/corpus/results/B.json
    python bench/findings.py snapshot tests/data/findings_fixtures.json  # after an intended change

``record``/``compare`` run ``asgifix check --format json --exit-zero .`` (and, on the fixtures,
``asgifix fix --diff --unsafe-fixes --exit-zero .``) in each target directory: every fixture
project (``fixtures/*`` and ``fixtures/*/*``) and the benchmark trees that exist under
``bench/.trees`` (build them with ``python bench/run.py --keep-trees``). The whole JSON report is
compared (messages, hints, fixes, errors), not only the codes. ``corpus`` compares two results
files of ``bench/corpus.py`` (findings and errors of every repository, and the fix diffs next to
them). tests/test_findings_snapshot.py checks the fixtures against the committed snapshot
tests/data/findings_fixtures.json.

Standard library only; not part of the test suite (the trees are large).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FIXTURES = REPO / "fixtures"
TREES = HERE / ".trees"
BENCH_TREES = ("django-5.2.8", "monorepo")


def fixture_targets() -> list[Path]:
    targets = []
    for top in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        targets.append(top)
        targets.extend(sorted(p for p in top.iterdir() if p.is_dir() and not p.name.startswith(".")))
    return targets


def run(asgifix: list[str], target: Path, *args: str, jobs: str = "") -> str:
    env = dict(os.environ, NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    if jobs:
        env["ASGIFIX_JOBS"] = jobs
    proc = subprocess.run([*asgifix, *args, "."], cwd=target, capture_output=True, text=True, env=env, timeout=600)
    return proc.stdout + (f"\n# exit {proc.returncode}\n# stderr:\n{proc.stderr}" if proc.stderr else "")


def collect(asgifix: list[str], with_trees: bool = True) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for target in fixture_targets():
        key = target.relative_to(REPO).as_posix()
        out[key] = {"check": run(asgifix, target, "check", "--format", "json", "--exit-zero"),
                    "fix-diff": run(asgifix, target, "fix", "--diff", "--unsafe-fixes", "--exit-zero")}
    if with_trees:
        for name in BENCH_TREES:
            tree = TREES / name
            if tree.is_dir():
                key = f"bench/.trees/{name}"
                out[key] = {"check": run(asgifix, tree, "check", "--format", "json", "--exit-zero"),
                            "check, 1 process": run(asgifix, tree, "check", "--format", "json", "--exit-zero",
                                                    jobs="1")}
    return out


def differences(before: dict, after: dict) -> list[str]:
    problems = []
    for key in sorted(set(before) | set(after)):
        if key not in after:
            problems.append(f"{key}: missing now")
            continue
        if key not in before:
            problems.append(f"{key}: new target (not in the recording)")
            continue
        for what in sorted(set(before[key]) | set(after[key])):
            if before[key].get(what) != after[key].get(what):
                problems.append(f"{key}: {what} differs")
    return problems


def compare_corpus(a: Path, b: Path) -> list[str]:
    first, second = json.loads(a.read_text()), json.loads(b.read_text())
    problems = []
    for rid in sorted(set(first["repos"]) | set(second["repos"])):
        x, y = first["repos"].get(rid, {}), second["repos"].get(rid, {})
        for field in ("status", "findings", "errors", "returncode"):
            if x.get(field) != y.get(field):
                problems.append(f"{rid}: {field} differs")
        da, db = a.with_suffix(".diffs") / f"{rid}.diff", b.with_suffix(".diffs") / f"{rid}.diff"
        if (da.read_text() if da.exists() else None) != (db.read_text() if db.exists() else None):
            problems.append(f"{rid}: fix diff differs")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("record", "compare", "corpus", "snapshot"))
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--asgifix", default=None, help="the asgifix command (default: this interpreter's -m asgifix)")
    parser.add_argument("--fixtures-only", action="store_true")
    args = parser.parse_args()
    if args.command == "corpus":
        if len(args.files) != 2:
            parser.error("corpus needs two results files")
        problems = compare_corpus(*args.files)
        print("\n".join(problems) if problems else "corpus: identical findings, errors and fix diffs")
        return 1 if problems else 0
    asgifix = [args.asgifix] if args.asgifix else [sys.executable, "-m", "asgifix"]
    if args.command == "snapshot":  # the fixtures' output, for tests/test_findings_snapshot.py
        found = collect(asgifix, with_trees=False)
        args.files[0].write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
        print(f"wrote the output of {len(found)} fixture projects to {args.files[0]}")
        return 0
    found = collect(asgifix, with_trees=not args.fixtures_only)
    if args.command == "record":
        args.files[0].write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(found)} targets in {args.files[0]}")
        return 0
    recorded = json.loads(args.files[0].read_text())
    if args.fixtures_only:
        recorded = {k: v for k, v in recorded.items() if k.startswith("fixtures/")}
    problems = differences(recorded, found)
    print("\n".join(problems) if problems else f"{len(found)} targets: identical output")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
