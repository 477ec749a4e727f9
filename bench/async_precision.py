"""Precision check of the async rules (AFX5xx) on the libraries that define the correct patterns.

asgiref, Channels, daphne and channels_redis build ``async_to_sync`` wrappers in
coroutines, call channel layers and send from consumers all day: every AFX5
finding on their own source is a false alarm (issue 11). This downloads the
sdists of the newest and of one old release of each (``pip download --no-deps
--no-binary :all:`` into ``bench/.trees/async-precision/``, reused when present),
unpacks them and runs ``asgifix check --select AFX5`` on each source tree.

    python bench/async_precision.py            # prints a table; exit 1 when any finding is reported
    python bench/async_precision.py --json     # the same as JSON

Needs the package index (the first time); tests/test_async_precision.py runs it
under the ``network`` marker.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".trees" / "async-precision"
# (distribution, old release); the newest is whatever the index serves today.
PACKAGES = [("asgiref", "3.2.10"), ("channels", "2.4.0"), ("daphne", "2.5.0"), ("channels_redis", "2.4.2")]


def download(spec: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    existing = sorted(into.glob("*.tar.gz")) + sorted(into.glob("*.zip"))
    if not existing:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "-d", str(into), spec], check=True)
        existing = sorted(into.glob("*.tar.gz")) + sorted(into.glob("*.zip"))
    return existing[0]


def unpack(archive: Path) -> Path:
    target = archive.parent / "src"
    if not target.exists():
        target.mkdir()
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as handle:
                handle.extractall(target)
        else:
            with tarfile.open(archive) as handle:
                handle.extractall(target, filter="data")
    tops = [p for p in target.iterdir() if p.is_dir()]
    return tops[0] if len(tops) == 1 else target


def check(tree: Path) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-m", "asgifix", "check", "--select", "AFX5", "--format", "json",
                             str(tree)], capture_output=True, text=True, env=env)
    if result.returncode not in (0, 1):
        raise SystemExit(f"asgifix failed on {tree}: {result.stderr.strip()}")
    return json.loads(result.stdout)["findings"]


def python_files(tree: Path) -> int:
    return sum(1 for _ in tree.rglob("*.py"))


def run() -> list[dict]:
    rows = []
    for name, old in PACKAGES:
        for label, spec in (("latest", name), ("old", f"{name}=={old}")):
            archive = download(spec, CACHE / f"{name}-{label}")
            tree = unpack(archive)
            findings = check(tree)
            rows.append({"package": name, "release": archive.name, "python_files": python_files(tree),
                         "findings": len(findings),
                         "details": [f"{f['path']}:{f['line']} {f['code']} {f['message']}" for f in findings]})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print("| sdist | .py files | AFX5 findings |\n| --- | ---: | ---: |")
        for row in rows:
            print(f"| {row['release']} | {row['python_files']} | {row['findings']} |")
            for detail in row["details"]:
                print(f"|   {detail} | | |")
    return 1 if any(row["findings"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
