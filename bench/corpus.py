"""Measure asgifix on a corpus of real public Django/Channels repositories.

    python bench/corpus.py                      # materialise, run, compare, print the table
    python bench/corpus.py --label main-abc123  # name the results file
    python bench/corpus.py --only owner+name,.. # a subset (ids as in repos.toml)
    python bench/corpus.py --compare-only FILE  # re-score a results file against labels.toml

The corpus is listed in bench/corpus/repos.toml (repository, commit, era). Each repository is
materialised at its commit into bench/.corpus/<id>/ (git-ignored): from a local mirror
(--mirror, default /work/.mirror/<owner+name>/repo, read with `git archive`) when it has the
commit, else by `git clone` from github.com into bench/.corpus-git/<id>. What could not be had is
listed and left out of the figures.

asgifix (on PATH, or --asgifix PATH) runs in each repository root as
`asgifix check --format json --exit-zero .`; `asgifix fix --diff --unsafe-fixes .` is also run
and kept for reading. Results go to bench/corpus/results/<label>.json (findings) and
bench/corpus/results/<label>.diffs/<id>.diff. They are scored against bench/corpus/labels.toml:
findings are matched by (repo, code, path, line); real breakages are "found" when a finding of
the expected code names the same file (nearest line, each finding counted once).

Standard library only (tomllib needs Python 3.11+). Not part of the test suite: it needs the
mirrors or the network.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS_DIR = HERE / "corpus"
REPOS_TOML = CORPUS_DIR / "repos.toml"
LABELS_TOML = CORPUS_DIR / "labels.toml"
RESULTS_DIR = CORPUS_DIR / "results"
WORK = HERE / ".corpus"
CLONES = HERE / ".corpus-git"
DEFAULT_MIRROR = Path("/work/.mirror")
RUN_TIMEOUT = 300


def load_repos() -> list[dict]:
    data = tomllib.loads(REPOS_TOML.read_text(encoding="utf-8"))
    repos = []
    for entry in data.get("repo", []):
        entry = dict(entry)
        entry.setdefault("id", entry["name"].replace("/", "+"))
        repos.append(entry)
    ids = [r["id"] for r in repos]
    dup = [i for i, n in Counter(ids).items() if n > 1]
    if dup:
        sys.exit(f"repos.toml: duplicate ids {dup}")
    return repos


def load_labels() -> tuple[list[dict], list[dict]]:
    if not LABELS_TOML.exists():
        return [], []
    data = tomllib.loads(LABELS_TOML.read_text(encoding="utf-8"))
    return data.get("finding", []), data.get("breakage", [])


# --------------------------------------------------------------------------- materialise

def _git(*args: str, cwd: Path | None = None, data: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=not data)


def _mirror_gitdir(mirror: Path, repo_id: str, name: str) -> Path | None:
    base = mirror / name.replace("/", "+") / "repo"
    for cand in (base / ".git", base):
        if cand.is_dir() and _git("--git-dir", str(cand), "rev-parse", "--git-dir").returncode == 0:
            return cand
    return None


def _has_commit(gitdir: Path, commit: str) -> bool:
    return _git("--git-dir", str(gitdir), "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0


def _extract(gitdir: Path, commit: str, dest: Path) -> str | None:
    """Write the tree of `commit` into dest; blobs the mirror lacks (large files) are skipped."""
    ls = _git("--git-dir", str(gitdir), "ls-tree", "-r", "-z", "--full-tree", commit, data=True)
    if ls.returncode != 0:
        return f"git ls-tree failed: {ls.stderr.decode(errors='replace').strip()[:200]}"
    entries = []
    for rec in ls.stdout.split(b"\0"):
        if not rec:
            continue
        meta, _, path = rec.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode in (b"100644", b"100755"):
            entries.append((sha.decode(), path.decode("utf-8", "surrogateescape")))
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    proc = subprocess.Popen(["git", "--git-dir", str(gitdir), "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    skipped = 0
    assert proc.stdin and proc.stdout
    for sha, path in entries:
        proc.stdin.write(sha.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            skipped += 1
            continue
        body = proc.stdout.read(int(header[2]))
        proc.stdout.read(1)
        target = (tmp / path).resolve()
        if not str(target).startswith(str(tmp.resolve()) + os.sep):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    proc.stdin.close()
    proc.wait()
    (tmp / ".corpus-commit").write_text(commit + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    if skipped:
        print(f"  {dest.name}: {skipped} blob(s) absent from the source (large files), skipped", file=sys.stderr)
    return None


def materialise(repo: dict, mirror: Path, allow_clone: bool) -> tuple[str, str]:
    """Return (status, detail): status 'ok' or 'missing'."""
    dest = WORK / repo["id"]
    commit = repo["commit"]
    stamp = dest / ".corpus-commit"
    if stamp.exists() and stamp.read_text().strip() == commit:
        return "ok", "cached"
    gitdir = _mirror_gitdir(mirror, repo["id"], repo["name"])
    if gitdir is not None and _has_commit(gitdir, commit):
        err = _extract(gitdir, commit, dest)
        return ("ok", f"mirror {gitdir}") if err is None else ("missing", err)
    if not allow_clone:
        return "missing", "no mirror with that commit (and --no-clone)"
    clone = CLONES / repo["id"]
    if not (clone / "HEAD").exists():
        CLONES.mkdir(parents=True, exist_ok=True)
        proc = _git("clone", "--bare", "--quiet", f"https://github.com/{repo['name']}.git", str(clone))
        if proc.returncode != 0:
            shutil.rmtree(clone, ignore_errors=True)
            return "missing", f"git clone failed: {proc.stderr.strip()[:200]}"
    if not _has_commit(clone, commit):
        _git("--git-dir", str(clone), "fetch", "--quiet", "origin", commit)
    if not _has_commit(clone, commit):
        return "missing", f"commit {commit[:12]} not in the clone of {repo['name']}"
    err = _extract(clone, commit, dest)
    return ("ok", f"clone {clone}") if err is None else ("missing", err)


# --------------------------------------------------------------------------- run

def run_one(args: tuple[str, str, str]) -> dict:
    repo_id, asgifix, diff_dir = args
    root = WORK / repo_id
    env = dict(os.environ, NO_COLOR="1")
    out: dict = {"id": repo_id}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([asgifix, "check", "--format", "json", "--exit-zero", "."], cwd=root,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        out.update(status="timeout", seconds=RUN_TIMEOUT, findings=[])
        return out
    out["seconds"] = round(time.perf_counter() - t0, 2)
    out["returncode"] = proc.returncode
    out["stderr"] = proc.stderr[-4000:]
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        out.update(status="bad-output", findings=[], stdout=proc.stdout[-2000:])
        return out
    out["status"] = "ok"
    out["findings"] = [
        {k: f.get(k) for k in ("code", "severity", "message", "path", "line", "column", "hint")}
        | {"fix": (f.get("fix") or {}).get("applicability")}
        for f in doc.get("findings", [])
    ]
    out["errors"] = doc.get("errors", [])
    try:
        fix = subprocess.run([asgifix, "fix", "--diff", "--unsafe-fixes", "--exit-zero", "."], cwd=root,
                             capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env)
        Path(diff_dir, f"{repo_id}.diff").write_text(fix.stdout + ("\n# stderr:\n" + fix.stderr if fix.stderr else ""))
        out["fix_returncode"] = fix.returncode
    except subprocess.TimeoutExpired:
        out["fix_returncode"] = "timeout"
    return out


def default_label() -> str:
    proc = _git("rev-parse", "--short", "HEAD", cwd=HERE)
    return proc.stdout.strip() if proc.returncode == 0 else "unlabelled"


def find_asgifix(given: str | None) -> str:
    if given:
        return str(Path(given).resolve())
    found = shutil.which("asgifix")
    if found:
        return found
    sibling = Path(sys.executable).with_name("asgifix")
    if sibling.exists():
        return str(sibling)
    sys.exit("asgifix not found on PATH: pass --asgifix PATH")


# --------------------------------------------------------------------------- score

def _key(f: dict) -> tuple:
    return (f["repo"], f["code"], f["path"], int(f["line"]))


def _code_matches(expected: str, code: str) -> bool:
    """AFX4xx (a rule not written yet) is caught by any AFX4.. finding; AFX301 only by AFX301."""
    if expected.endswith("xx"):
        return code.startswith(expected[:-2])
    return code == expected


def score(results: dict, finding_labels: list[dict], breakages: list[dict]) -> dict:
    labels = {}
    for lab in finding_labels:
        labels[_key(lab)] = lab
    ran = {rid for rid, r in results["repos"].items() if r.get("status") == "ok"}
    per_code: dict[str, Counter] = defaultdict(Counter)
    unlabelled, wrong_list, right_list = [], [], []
    findings_by_repo: dict[str, list[dict]] = defaultdict(list)
    for rid, r in results["repos"].items():
        for f in r.get("findings", []):
            f = dict(f, repo=rid)
            findings_by_repo[rid].append(f)
            lab = labels.get(_key(f))
            c = per_code[f["code"]]
            c["findings"] += 1
            if lab is None:
                c["unlabelled"] += 1
                unlabelled.append(f)
            else:
                c[lab["verdict"]] += 1
                if lab["verdict"] in ("right", "wrong"):
                    (wrong_list if lab["verdict"] == "wrong" else right_list).append((f, lab))
    stale = [lab for k, lab in labels.items() if k[0] in ran and not any(
        _key(dict(f, repo=k[0])) == k for f in findings_by_repo.get(k[0], []))]
    # breakages: found by a finding of the expected code in the same file, nearest line, once each
    used: set[int] = set()
    brk_rows = []
    for b in breakages:
        if b["repo"] not in ran or not b.get("read", True) or b.get("verdict") == "unsure":
            brk_rows.append((b, None if b["repo"] in ran else "not run"))
            continue
        cands = [f for f in findings_by_repo.get(b["repo"], [])
                 if _code_matches(b["code"], f["code"]) and f["path"] == b["path"] and id(f) not in used]
        if cands:
            best = min(cands, key=lambda f: abs(int(f["line"]) - int(b.get("line", 0))))
            used.add(id(best))
            brk_rows.append((b, best))
        else:
            brk_rows.append((b, None))
    matched = {id(f) for _, f in brk_rows if isinstance(f, dict)}
    orphans = [lab for f, lab in right_list if not any(
        _key(dict(g, repo=f["repo"])) == _key(lab) and id(g) in matched for g in findings_by_repo[f["repo"]])]
    return {"per_code": per_code, "unlabelled": unlabelled, "wrong": wrong_list, "right": right_list,
            "stale": stale, "breakages": brk_rows, "ran": ran, "orphans": orphans}


def report(results: dict, sc: dict) -> str:
    lines = []
    w = lines.append
    w(f"asgifix corpus run '{results['label']}' ({results.get('asgifix_version', '?')}): "
      f"{len(sc['ran'])} repositories ran, {len(results.get('missing', {}))} could not be had")
    for rid, why in sorted(results.get("missing", {}).items()):
        w(f"  NOT AVAILABLE {rid}: {why}")
    for rid, r in sorted(results["repos"].items()):
        if r.get("status") != "ok":
            w(f"  FAILED {rid}: {r.get('status')} {r.get('stderr', '')[-200:]}")
    w("")
    w(f"{'code':8} {'findings':>8} {'right':>6} {'wrong':>6} {'unsure':>6} {'unlab.':>6} {'precision':>9}")
    tot = Counter()
    for code in sorted(sc["per_code"]):
        c = sc["per_code"][code]
        tot.update(c)
        judged = c["right"] + c["wrong"]
        prec = f"{c['right'] / judged:.0%}" if judged else "-"
        w(f"{code:8} {c['findings']:8} {c['right']:6} {c['wrong']:6} {c['unsure']:6} {c['unlabelled']:6} {prec:>9}")
    judged = tot["right"] + tot["wrong"]
    prec = f"{tot['right'] / judged:.1%}" if judged else "-"
    w(f"{'all':8} {tot['findings']:8} {tot['right']:6} {tot['wrong']:6} {tot['unsure']:6} {tot['unlabelled']:6} {prec:>9}")
    w("")
    by_code: dict[str, Counter] = defaultdict(Counter)
    counted = [(b, f) for b, f in sc["breakages"] if f != "not run" and b.get("read", True)
               and b.get("verdict", "real") != "unsure"]
    for b, f in counted:
        by_code[b["code"]]["total"] += 1
        by_code[b["code"]]["found" if f else "missed"] += 1
    w(f"{'expected':8} {'breakages':>9} {'found':>6} {'missed':>6} {'recall':>7}")
    rt = Counter()
    for code in sorted(by_code):
        c = by_code[code]
        rt.update(c)
        w(f"{code:8} {c['total']:9} {c['found']:6} {c['missed']:6} {c['found'] / c['total']:7.0%}")
    rec = f"{rt['found'] / rt['total']:.1%}" if rt["total"] else "-"
    w(f"{'all':8} {rt['total']:9} {rt['found']:6} {rt['missed']:6} {rec:>7}")
    w("")
    w(f"precision = right / (right + wrong) = {tot['right']}/{judged} = {prec}")
    w(f"recall    = breakages found / breakages = {rt['found']}/{rt['total']} = {rec}")
    if sc["unlabelled"]:
        w("")
        w(f"UNLABELLED findings ({len(sc['unlabelled'])}): add them to labels.toml")
        for f in sc["unlabelled"]:
            w(f"  {f['repo']} {f['code']} {f['path']}:{f['line']}  {f['message'][:150]}")
    if sc["stale"]:
        w("")
        w(f"Labels that no finding matched any more ({len(sc['stale'])}):")
        for lab in sc["stale"]:
            w(f"  {lab['repo']} {lab['code']} {lab['path']}:{lab['line']} ({lab['verdict']})")
    if sc["orphans"]:
        w("")
        w(f"Right findings with no [[breakage]] entry ({len(sc['orphans'])}): add one so recall counts it")
        for lab in sc["orphans"]:
            w(f"  {lab['repo']} {lab['code']} {lab['path']}:{lab['line']}")
    missed = [(b, f) for b, f in counted if not f]
    if missed:
        w("")
        w(f"MISSED breakages ({len(missed)}):")
        for b, _ in missed:
            w(f"  [{b['code']}] {b['repo']} {b['path']}:{b.get('line', '?')}  {b['description'][:140]}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--asgifix", help="the asgifix executable (default: the one on PATH)")
    ap.add_argument("--label", help="results name (default: this checkout's short git sha)")
    ap.add_argument("--mirror", default=str(DEFAULT_MIRROR), help="directory of local mirrors (owner+name/repo)")
    ap.add_argument("--no-clone", action="store_true", help="never clone from github.com")
    ap.add_argument("--only", help="comma-separated repository ids to run")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--compare-only", metavar="RESULTS_JSON", help="score an existing results file")
    ap.add_argument("--quiet", action="store_true", help="print only the summary table")
    opts = ap.parse_args(argv)

    finding_labels, breakages = load_labels()
    if opts.compare_only:
        results = json.loads(Path(opts.compare_only).read_text())
        print(report(results, score(results, finding_labels, breakages)))
        return 0

    repos = load_repos()
    if opts.only:
        wanted = set(opts.only.split(","))
        repos = [r for r in repos if r["id"] in wanted]
    asgifix = find_asgifix(opts.asgifix)
    label = opts.label or default_label()
    version = subprocess.run([asgifix, "--version"], capture_output=True, text=True).stdout.strip()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    diff_dir = RESULTS_DIR / f"{label}.diffs"
    diff_dir.mkdir(exist_ok=True)

    missing: dict[str, str] = {}
    ready = []
    for r in repos:
        status, detail = materialise(r, Path(opts.mirror), not opts.no_clone)
        if status == "ok":
            ready.append(r["id"])
        else:
            missing[r["id"]] = detail
            print(f"could not get {r['name']} @ {r['commit'][:12]}: {detail}", file=sys.stderr)

    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=opts.jobs) as pool:
        outs = list(pool.map(run_one, [(rid, asgifix, str(diff_dir)) for rid in ready]))
    results = {
        "label": label, "asgifix": asgifix, "asgifix_version": version,
        "seconds": round(time.perf_counter() - t0, 1), "missing": missing,
        "repos": {o["id"]: o | {"commit": next(r["commit"] for r in repos if r["id"] == o["id"])} for o in outs},
    }
    out_path = RESULTS_DIR / f"{label}.json"
    out_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out_path.relative_to(HERE.parent)} ({results['seconds']} s)\n")
    text = report(results, score(results, finding_labels, breakages))
    print(text if not opts.quiet else text.split("\nUNLABELLED")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
