#!/usr/bin/env python3
"""Side-by-side speed benchmark: asgifix vs ruff's banned-api check vs grep (the I/O floor).

    python bench/run.py [--repeat N] [--only a,b,c,latency] [--keep-trees] [--write]

Needs: asgifix and its dependencies importable by this interpreter (the code of
this checkout is the one measured), ruff (``python -m pip install ruff``; found
next to this interpreter, on PATH, or as ``python -m ruff``), GNU grep. GNU
time (``/usr/bin/time``) is used for peak memory when present. Trees are built
under ``bench/.trees/`` (see bench/trees.py); Django's sdist is fetched once
with pip. See bench/README.md for how to read the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TREES = BENCH / ".trees"
RESULTS = BENCH / "RESULTS.md"
RUFF_CONFIG = BENCH / "ruff-banned.toml"
ANALYSIS_MARKER = "<!-- analysis: kept by run.py --write -->"
sys.path.insert(0, str(BENCH))

import trees  # noqa: E402

DEFAULT_NEEDLES = (b"asgiref", b"asgi_redis", b"channels", b"CHANNEL_LAYERS")
SECTIONS = ("a", "b", "c", "latency")

# Targets (issue 5).
TARGET_RUFF_RATIO = 1.0
TARGET_GREP_RATIO = 3.0
TARGET_LATENCY_MS = 100.0  # issue 15: 100 ms on any one file
TARGET_MEMORY_MB = 100.0


# -- tools -----------------------------------------------------------------------------

@dataclass
class Tools:
    asgifix: list[str]
    asgifix_env: dict
    ruff: Optional[list[str]]
    grep: Optional[str]
    gnu_time: Optional[str]
    python: str = sys.executable


def find_tools() -> Tools:
    env = dict(os.environ)
    # Measure this checkout's code, whatever is installed.
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("ASGIFIX_JOBS", None)
    env.pop("ASGIFIX_CACHE_DIR", None)
    # Every asgifix run is cold (no results cache) but the "asgifix warm" column's.
    env["ASGIFIX_NO_CACHE"] = "1"
    probe = subprocess.run([sys.executable, "-c", "import asgifix, sys; print(asgifix.__file__)"],
                           capture_output=True, text=True, env=env)
    if probe.returncode != 0:
        sys.exit(f"asgifix is not importable by {sys.executable}: install its dependencies "
                 f"(python -m pip install -e {REPO})\n{probe.stderr}")
    script = Path(sys.executable).parent / "asgifix"
    installed = subprocess.run([sys.executable, "-c", "import asgifix; print(asgifix.__file__)"],
                               capture_output=True, text=True, cwd="/")
    if script.is_file() and installed.stdout.strip() == probe.stdout.strip():
        asgifix = [str(script)]  # the console script, as pre-commit runs it
    else:
        asgifix = [sys.executable, "-m", "asgifix"]
    ruff: Optional[list[str]] = None
    beside = Path(sys.executable).parent / "ruff"
    if beside.is_file():
        ruff = [str(beside)]
    elif shutil.which("ruff"):
        ruff = [shutil.which("ruff")]
    elif subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True).returncode == 0:
        ruff = [sys.executable, "-m", "ruff"]
    gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    return Tools(asgifix, env, ruff, shutil.which("grep"), gnu_time)


def version_of(command: list[str], env: Optional[dict] = None) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env)
    except OSError:
        return "not found"
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"


def machine(tools: Tools) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": affinity,
        "cpu": cpu,
        "memory": memory,
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "asgifix": version_of(tools.asgifix + ["--version"], tools.asgifix_env) + f" ({REPO}, {git_head()})",
        "ruff": version_of(tools.ruff + ["--version"]) if tools.ruff else "not found (python -m pip install ruff)",
        "grep": version_of([tools.grep, "--version"]) if tools.grep else "not found",
        "prefilter": prefilter_backend(),
        "load": load_average(),
    }


def prefilter_backend() -> str:
    """Which bytes prefilter the measured asgifix uses (asgifix/prefilter.py): the `fast` extra or not."""
    code = ("from asgifix.prefilter import Prefilter; import importlib.util as u; "
            "print('aho-corasick (ahocorasick_rs, the fast extra)' if u.find_spec('ahocorasick_rs') "
            "else 'scans (no ahocorasick_rs)')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return result.stdout.strip() or "?"


def git_head() -> str:
    result = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return (result.stdout.strip() or "no git") + ("+dirty" if dirty else "")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def asgifix_needles(env: dict) -> tuple[bytes, ...]:
    """The bytes the default rule selection prefilters Python files on (or the brief's list)."""
    code = (
        "from asgifix.catalogue import load_catalogue, select_rules\n"
        "from asgifix.config import Settings\n"
        "from asgifix.engine import Engine\n"
        "s = Settings()\n"
        "e = Engine(s, select_rules(load_catalogue(), s.select, s.ignore))\n"
        "print(repr(sorted({n for k, v in e.needles.items() if k == 'python' and v for n in v})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    try:
        needles = tuple(eval(result.stdout.strip()))  # a list of bytes literals printed by repr
    except Exception:  # noqa: BLE001 - fall back to the brief's list
        needles = ()
    return needles or DEFAULT_NEEDLES


# -- measuring --------------------------------------------------------------------------

@dataclass
class Command:
    label: str
    argv: list[str]
    env: Optional[dict] = None
    cwd: Optional[Path] = None
    prepare: Optional[object] = None  # callable run before each run, untimed
    ok_codes: tuple[int, ...] = (0, 1)
    times: list[float] = field(default_factory=list)
    cpu_times: list[float] = field(default_factory=list)  # user + system CPU of the process tree
    rss_mb: Optional[float] = None  # largest single process (GNU time)
    tree_rss_mb: Optional[float] = None  # sum over the process tree (sampled)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu_median(self) -> Optional[float]:
        return statistics.median(self.cpu_times) if self.cpu_times else None


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(command: Command) -> float:
    if command.prepare:
        command.prepare()
    cpu = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(command.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=command.env,
                            cwd=command.cwd)
    elapsed = time.perf_counter() - start
    # CPU time as well: on a loaded shared machine wall time is mostly waiting for a core
    command.cpu_times.append(_children_cpu() - cpu)
    if result.returncode not in command.ok_codes:
        raise RuntimeError(f"{command.label}: exit {result.returncode}: {' '.join(command.argv)}\n"
                           f"{result.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def measure(commands: list[Command], repeat: int) -> None:
    """One untimed warm-up each, then ``repeat`` rounds alternating the commands."""
    for command in commands:
        run_once(command)
    for round_number in range(repeat):
        # Rotate the order each round so no tool always runs first (or right after another).
        shift = round_number % len(commands)
        for command in commands[shift:] + commands[:shift]:
            command.times.append(run_once(command))


def _memory_kb(pid: int) -> int:
    """Proportional set size (shared pages split between the processes sharing them: forked
    workers share most of their pages with the main process), else the resident set size."""
    try:
        match = re.search(r"^Pss:\s+(\d+)", Path(f"/proc/{pid}/smaps_rollup").read_text(), re.MULTILINE)
        if match:
            return int(match.group(1))
    except OSError:
        pass
    match = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) if match else 0


def _tree_rss_kb(pid: int) -> int:
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            total += _memory_kb(current)
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
                stack.extend(int(child) for child in children)
        except (OSError, ValueError):
            continue
    return total


def measure_memory(command: Command, gnu_time: Optional[str]) -> None:
    """Peak memory: GNU time's maximum resident set size (the largest process), and the
    peak of the whole process tree's summed PSS sampled every few milliseconds (workers included)."""
    if command.prepare:
        command.prepare()
    argv = ([gnu_time, "-v"] + command.argv) if gnu_time else command.argv
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=command.env,
                               cwd=command.cwd)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_kb(process.pid) - (_own_rss_kb(process.pid) if gnu_time else 0))
            stop.wait(0.003)

    sampler = threading.Thread(target=sample, daemon=True)
    if Path("/proc").is_dir():
        sampler.start()
    _, stderr = process.communicate()
    stop.set()
    if sampler.is_alive():
        sampler.join()
    text = stderr.decode(errors="replace")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if match:
        command.rss_mb = int(match.group(1)) / 1024
    command.tree_rss_mb = peak / 1024 if peak else None


def _own_rss_kb(pid: int) -> int:
    """Memory of the GNU time wrapper itself, left out of the tree's sum."""
    try:
        return _memory_kb(pid)
    except OSError:
        return 0


# -- the sections -------------------------------------------------------------------------

@dataclass
class TreeResult:
    name: str
    tree: Path
    description: dict
    commands: dict[str, Command]
    counts: dict[str, str]


def check_commands(tools: Tools, tree: Path, needles: tuple[bytes, ...], cache_dir: Path) -> dict[str, Command]:
    commands = {"asgifix": Command("asgifix check", tools.asgifix + ["check", "--no-color", str(tree)],
                                   env=tools.asgifix_env)}
    # asgifix with its results cache filled (by the untimed warm-up run), as ruff's cached run:
    # the cache lives in bench/.trees (inside the project root, the current directory, here REPO).
    warm_dir = cache_dir.parent / cache_dir.name.replace("ruff", "asgifix")
    shutil.rmtree(warm_dir, ignore_errors=True)
    commands["asgifix_warm"] = Command("asgifix check (warm cache)", tools.asgifix + [
        "check", "--no-color", "--cache-dir", str(warm_dir), str(tree)],
        env={k: v for k, v in tools.asgifix_env.items() if k != "ASGIFIX_NO_CACHE"}, cwd=REPO)
    if tools.ruff:
        base = tools.ruff + ["check", "--config", str(RUFF_CONFIG), "--select", "TID251", "--no-fix",
                             "--output-format", "concise", "--quiet"]
        commands["ruff_cold"] = Command("ruff (--no-cache)", base + ["--no-cache", str(tree)])
        commands["ruff_cached"] = Command("ruff (cached)", base + ["--cache-dir", str(cache_dir), str(tree)])
    if tools.grep:
        argv = [tools.grep, "-rlF"]
        for needle in needles:
            argv += ["-e", needle.decode()]
        for glob in ("*.py", "*.txt", "*.in", "*.toml", "*.cfg", "Pipfile", "*.lock"):
            argv += [f"--include={glob}"]
        commands["grep"] = Command("grep -rlF", argv + [str(tree)])
    return commands


def counts(tools: Tools, tree: Path, commands: dict[str, Command]) -> dict[str, str]:
    """What each tool found (untimed), to show they do comparable work."""
    found: dict[str, str] = {}
    result = subprocess.run(tools.asgifix + ["check", "--format", "json", str(tree)], capture_output=True,
                            text=True, env=tools.asgifix_env)
    try:
        data = json.loads(result.stdout)
        by_code: dict[str, int] = {}
        for finding in data["findings"]:
            by_code[finding["code"]] = by_code.get(finding["code"], 0) + 1
        found["asgifix"] = ", ".join(f"{n} {code}" for code, n in sorted(by_code.items())) or "0"
    except (ValueError, KeyError):
        found["asgifix"] = "?"
    if "ruff_cold" in commands:
        argv = [a for a in commands["ruff_cold"].argv if a not in ("--quiet",)]
        argv[argv.index("concise")] = "json"
        result = subprocess.run(argv, capture_output=True, text=True)
        try:
            found["ruff"] = f"{len(json.loads(result.stdout))} TID251"
        except ValueError:
            found["ruff"] = "?"
    if "grep" in commands:
        result = subprocess.run(commands["grep"].argv, capture_output=True, text=True)
        found["grep"] = f"{len(result.stdout.splitlines())} files match"
    return found


def section_check(name: str, tree: Path, tools: Tools, repeat: int, needles: tuple[bytes, ...],
                  memory_paths: tuple[Path, ...] = ()) -> tuple[TreeResult, dict[str, Command]]:
    cache_dir = TREES / f".ruff-cache-{name}"
    commands = check_commands(tools, tree, needles, cache_dir)
    print(f"[{name}] {tree.name}: timing {', '.join(c.label for c in commands.values())} x{repeat} ...", flush=True)
    measure(list(commands.values()), repeat)
    for command in commands.values():
        measure_memory(command, tools.gnu_time)
    scaling: dict[str, Command] = {}
    for path in memory_paths:
        command = Command(f"asgifix check {path.name}", tools.asgifix + ["check", "--no-color", str(path)],
                          env=tools.asgifix_env)
        measure_memory(command, tools.gnu_time)
        scaling[str(path.relative_to(tree.parent))] = command
    return TreeResult(name, tree, trees.describe(tree), commands, counts(tools, tree, commands)), scaling


@dataclass
class FixResult:
    tree: Path
    description: dict
    files_changed: int
    findings_fixed: int
    commands: dict[str, Command]
    identical: bool
    phases: dict[str, dict[str, float]] = field(default_factory=dict)  # command key -> phase -> median seconds


# Runs `asgifix fix PATH` in-process with the engine's phases timed.
FIX_PHASES = """
import json, sys, time
import asgifix.engine as engine
spent = {}
def timed(name, function):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
    return wrapper
engine.Engine.run = timed("read + analyze (all rounds)", engine.Engine.run)
engine.validate_all = timed("validate fixed texts", engine.validate_all)
engine._write_all = timed("write files (atomic, fsync)", engine._write_all)
from asgifix.cli import main
sys.argv = ["asgifix", "fix", "-q", "--no-color", sys.argv[1]]
start = time.perf_counter()
try:
    main()
except SystemExit:
    pass
spent["whole fix (after start-up)"] = time.perf_counter() - start
sys.stderr.write("PHASES" + json.dumps(spent))
"""


def fix_phases(tools: Tools, env: dict, pristine: Path, work: Path, rounds: int = 3) -> dict[str, float]:
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        trees.fresh_copy(pristine, work)
        result = subprocess.run([sys.executable, "-c", FIX_PHASES, str(work)], capture_output=True, text=True,
                                env=env)
        if "PHASES" not in result.stderr:
            return {}
        for name, value in json.loads(result.stderr.rsplit("PHASES", 1)[1]).items():
            samples.setdefault(name, []).append(value)
    return {name: statistics.median(values) for name, values in samples.items()}


def section_fix(tools: Tools, repeat: int) -> FixResult:
    pristine = trees.build_fixdense(TREES)
    work = TREES / "fixdense-work"

    def fresh() -> None:
        trees.fresh_copy(pristine, work)

    env_one = dict(tools.asgifix_env, ASGIFIX_JOBS="1")
    commands = {
        "one": Command("asgifix fix, 1 process", tools.asgifix + ["fix", "--no-color", "-q", str(work)], env=env_one,
                       prepare=fresh),
        "all": Command(f"asgifix fix, {machine_cores()} processes", tools.asgifix + ["fix", "--no-color", "-q", str(work)],
                       env=tools.asgifix_env, prepare=fresh),
    }
    print(f"[c] {pristine.name}: timing {', '.join(c.label for c in commands.values())} x{repeat} ...", flush=True)
    measure(list(commands.values()), repeat)
    for command in commands.values():
        measure_memory(command, tools.gnu_time)
    # Same bytes whatever the number of processes; and what was fixed.
    digests = []
    report = {}
    for env in (env_one, tools.asgifix_env):
        fresh()
        result = subprocess.run(tools.asgifix + ["fix", "--format", "json", str(work)], capture_output=True, text=True,
                                env=env)
        digests.append(trees.tree_digest(work))
        try:
            report = json.loads(result.stdout)
        except ValueError:
            report = {}
    phases = {"one": fix_phases(tools, env_one, pristine, work), "all": fix_phases(tools, tools.asgifix_env, pristine, work)}
    shutil.rmtree(work, ignore_errors=True)
    return FixResult(pristine, trees.describe(pristine), len(report.get("changed_files", [])), report.get("fixed", 0),
                     commands, digests[0] == digests[1], phases)


def machine_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def section_latency(tools: Tools, repeat: int) -> dict[str, Command]:
    sample = TREES / "latency"
    sample.mkdir(parents=True, exist_ok=True)
    import random

    rng = random.Random(trees.SEED)
    # Each case is a project of its own (a folder), as pre-commit sees one: a module beside the
    # requirements that pin it, a clean requirements file alone, a broken one alone, an unrelated
    # module alone. (Until session 5 they shared one folder, so every case also read the broken file.)
    shutil.rmtree(sample, ignore_errors=True)
    for case in ("module", "unrelated", "clean", "broken"):
        (sample / case).mkdir(parents=True)
    module = sample / "module" / "consumers.py"
    module.write_text(trees.python_module(rng, ("from asgiref.sync import async_to_sync",
                                                "from asgiref.base_layer import BaseChannelLayer")))
    (sample / "module" / "requirements.txt").write_text("\n".join(trees.GOOD_REQUIREMENTS) + "\n")
    unrelated = sample / "unrelated" / "unrelated.py"
    unrelated.write_text(trees.python_module(rng))
    clean = sample / "clean" / "requirements.txt"
    clean.write_text("\n".join(trees.GOOD_REQUIREMENTS) + "\n")
    broken = sample / "broken" / "requirements.txt"
    broken.write_text("\n".join(trees.GOOD_REQUIREMENTS[:5] + ("asgiref 3.5.2",)) + "\n")
    rounds = max(repeat * 4, 20)
    commands = {
        "python": Command("python -c pass", [sys.executable, "-c", "pass"]),
        # The floor the CLI library sets (click stays: see issue 15): what any click CLI pays to start.
        "click": Command("python -c 'import click' (the CLI's floor)", [sys.executable, "-c", "import click"]),
        "unrelated": Command("asgifix check unrelated.py (no asgiref/Channels)",
                             tools.asgifix + ["check", "--no-color", str(unrelated)], env=tools.asgifix_env),
        "module": Command("asgifix check consumers.py", tools.asgifix + ["check", "--no-color", str(module)],
                          env=tools.asgifix_env),
        "requirements": Command("asgifix check requirements.txt (clean)",
                                tools.asgifix + ["check", "--no-color", str(clean)], env=tools.asgifix_env),
        "broken": Command("asgifix check requirements.txt (an invalid line)",
                          tools.asgifix + ["check", "--no-color", str(broken)], env=tools.asgifix_env),
    }
    if tools.ruff:
        commands["ruff"] = Command("ruff check consumers.py (reference)",
                                   tools.ruff + ["check", "--config", str(RUFF_CONFIG), "--select", "TID251",
                                                 "--no-cache", "--quiet", str(module)])
    print(f"[latency] one-file invocations x{rounds} ...", flush=True)
    measure(list(commands.values()), rounds)
    for command in commands.values():
        measure_memory(command, tools.gnu_time)
    return commands


def import_profile(tools: Tools, path: Path) -> list[tuple[int, str]]:
    """The biggest cumulative imports of a one-file check (python -X importtime)."""
    argv = tools.asgifix if tools.asgifix[0] != sys.executable else [sys.executable, "-m", "asgifix"]
    if argv[0] != sys.executable:
        argv = [sys.executable, "-X", "importtime", argv[0]]
    else:
        argv = [sys.executable, "-X", "importtime", "-m", "asgifix"]
    result = subprocess.run(argv + ["check", "--no-color", str(path)], capture_output=True, text=True,
                            env=tools.asgifix_env)
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and not match.group(3):  # top-level imports only
            rows.append((int(match.group(2)), match.group(4)))
    return sorted(rows, reverse=True)[:8]


PROFILE_CATEGORIES = (
    # (label, substrings of "file:function" as pstats names them); first match wins
    ("start-up: imports, regex compiles, rule catalogue", (
        "<frozen importlib", "marshal.loads", "<frozen zipimport", "/re/_", "re/__init__", "tomllib",
        "dataclasses.py", "catalogue.py", "builtins.exec", "__build_class__", "_imp.", "click/", "config.py",
        "enum.py", "typing.py", "functools.py")),
    ("discovery (scandir, classify, excludes)", ("asgifix/discovery.py", "posix.scandir", "builtins.sorted")),
    ("reading + bytes prefilter", ("asgifix/textio.py:", "posix.open", "posix.read", "posix.fstat", "posix.close",
                                   "engine.py:", "parallel.py")),
    ("Python parse (ast)", ("builtins.compile", "/ast.py:33(parse)", "sources/python.py")),
    ("asgiref visitors (collector, AFX501)", ("python_asgiref.py", "async_usage.py", "pruning.py", "/ast.py")),
    ("requirements files (incl. pip's parser)", ("sources/requirements.py", "pip_requirements_parser", "packaging",
                                                 "optparse", "shlex", "malformed_requirement.py")),
    ("project rules + knowledge data", ("asgiref_api.py", "knowledge.py", "asgiref_scope.py", "json/")),
    ("reporting", ("reporters/",)),
)


def profile_breakdown(tools: Tools, tree: Path) -> list[tuple[str, float]]:
    """Where one process's time goes on ``tree`` (cProfile, ASGIFIX_JOBS=1): seconds by category.

    cProfile slows Python code more than C code, so the shares are indicative.
    """
    import pstats

    out = TREES / f".profile-{tree.name}.pstats"
    env = dict(tools.asgifix_env, ASGIFIX_JOBS="1")
    # (asgifix's command line leaves with os._exit, before `python -m cProfile` could write its
    # file: the profile is taken around cli.main, which returns)
    code = ("import cProfile, sys\nprofile = cProfile.Profile()\nprofile.enable()\nfrom asgifix.cli import main\n"
            f"try:\n    main(['check', '-q', {str(tree)!r}])\nexcept SystemExit:\n    pass\n"
            f"profile.disable()\nprofile.dump_stats({str(out)!r})\n")
    subprocess.run([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    if not out.is_file():
        return []
    stats = pstats.Stats(str(out)).stats  # {(file, line, name): (cc, nc, tottime, cumtime, callers)}

    def category(function: tuple) -> Optional[str]:
        filename, line, name = function
        key = f"{filename}:{line}({name})" if filename != "~" else name
        return next((label for label, parts in PROFILE_CATEGORIES if any(p in key for p in parts)), None)

    totals: dict[str, float] = {}
    for function, (_, _, tottime, _, callers) in stats.items():
        label = category(function)
        if label is not None or not callers:
            totals[label or "other"] = totals.get(label or "other", 0.0) + tottime
            continue
        # A builtin or library function: its time goes to its callers' parts, in proportion.
        weights = {caller: values[2] + values[3] for caller, values in callers.items()}
        whole = sum(weights.values()) or 1.0
        for caller, weight in weights.items():
            label = category(caller) or "other"
            totals[label] = totals.get(label, 0.0) + tottime * weight / whole
    out.unlink()
    order = [label for label, _ in PROFILE_CATEGORIES] + ["other"]
    return [(label, totals.get(label, 0.0)) for label in order]


# -- the report -----------------------------------------------------------------------------

def s(seconds: float) -> str:
    return f"{seconds:.3f} s"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def mb(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.0f} MB"


def ratio(a: Optional[Command], b: Optional[Command]) -> str:
    if a is None or b is None or not b.times:
        return "–"
    return f"{a.median / b.median:.2f}×"


def spread(command: Command) -> str:
    return f"{s(command.median)} ({min(command.times):.3f}–{max(command.times):.3f})"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(info: dict, repeat: int, check: list[TreeResult], scaling: dict[str, Command], fix: Optional[FixResult],
           latency: Optional[dict[str, Command]], imports: list[tuple[int, str]],
           profiles: dict[str, list[tuple[str, float]]]) -> tuple[str, list[tuple[str, str, str, bool]]]:
    out: list[str] = []
    targets: list[tuple[str, str, str, bool]] = []
    add = out.append
    add("## Machine\n")
    for key in ("nproc", "cpu", "memory", "os", "python", "asgifix", "ruff", "grep"):
        add(f"- **{key}**: {info[key]}")
    add(f"- **load average** at start / end: {info['load']} / {info.get('load_end', '?')}")
    add(f"- **repetitions**: {repeat} per command (alternating, after one warm-up run each; median, with min–max)\n")
    if check:
        add("## Check: wall time (median of runs, min–max)\n")
        add("asgifix check and ruff --no-cache are cold (no results cache); asgifix warm and ruff cached run "
            "with the cache their untimed warm-up run filled.\n")
        add("| tree | files (.py / requirements) | MB of .py | asgifix check | ruff --no-cache | asgifix warm "
            "| ruff cached | grep -rlF | asgifix ÷ ruff (cold) | asgifix warm ÷ ruff cached | asgifix ÷ grep |")
        add("|---|---|---|---|---|---|---|---|---|---|---|")
        for result in check:
            c = result.commands
            d = result.description
            add(f"| {result.name}: {result.tree.name} | {d['python_files']} / {d['requirement_files']} | "
                f"{d['python_mb']:.1f} | {spread(c['asgifix'])} | "
                f"{spread(c['ruff_cold']) if 'ruff_cold' in c else '–'} | "
                f"{spread(c['asgifix_warm']) if 'asgifix_warm' in c else '–'} | "
                f"{spread(c['ruff_cached']) if 'ruff_cached' in c else '–'} | "
                f"{spread(c['grep']) if 'grep' in c else '–'} | {ratio(c['asgifix'], c.get('ruff_cold'))} | "
                f"{ratio(c.get('asgifix_warm'), c.get('ruff_cached'))} | {ratio(c['asgifix'], c.get('grep'))} |")
            if "ruff_cold" in c:
                r = c["asgifix"].median / c["ruff_cold"].median
                targets.append((f"({result.name}) asgifix check ≤ {TARGET_RUFF_RATIO:.1f}× ruff --no-cache",
                                f"{r:.2f}×", f"{s(c['asgifix'].median)} vs {s(c['ruff_cold'].median)}",
                                r <= TARGET_RUFF_RATIO))
            if "grep" in c:
                r = c["asgifix"].median / c["grep"].median
                targets.append((f"({result.name}) asgifix check ≤ {TARGET_GREP_RATIO:.0f}× grep -rlF", f"{r:.2f}×",
                                f"{s(c['asgifix'].median)} vs {s(c['grep'].median)}", r <= TARGET_GREP_RATIO))
        add("")
        add("CPU time (user + system of the whole process tree, median of the same runs): what each tool costs "
            "whatever the load of the machine (wall time on a shared machine is partly waiting for a core).\n")
        add("| tree | asgifix check | asgifix warm | ruff --no-cache | grep -rlF | asgifix ÷ ruff (CPU) "
            "| asgifix ÷ grep (CPU) |")
        add("|---|---|---|---|---|---|---|")
        for result in check:
            c = result.commands
            cpu = {k: c[k].cpu_median for k in ("asgifix", "asgifix_warm", "ruff_cold", "grep") if k in c}

            def cpu_ratio(other: str) -> str:
                return f"{cpu['asgifix'] / cpu[other]:.2f}×" if cpu.get(other) and cpu.get("asgifix") else "–"

            add(f"| {result.name}: {result.tree.name} | " + " | ".join(
                s(cpu[k]) if cpu.get(k) is not None else "–" for k in ("asgifix", "asgifix_warm", "ruff_cold", "grep"))
                + f" | {cpu_ratio('ruff_cold')} | {cpu_ratio('grep')} |")
        add("")
        add("What each tool found (same trees, untimed run):\n")
        for result in check:
            add(f"- {result.name}: " + "; ".join(f"{tool}: {text}" for tool, text in result.counts.items()))
        add("")
        if profiles:
            add("Where one asgifix process spends its time (cProfile of `ASGIFIX_JOBS=1 asgifix check`, seconds of "
                "profiled time; profiling inflates Python code more than C, so read the shares, not the sums):\n")
            names = list(profiles)
            add("| part | " + " | ".join(names) + " |")
            add("|---|" + "---|" * len(names))
            labels = [label for label, _ in next(iter(profiles.values()))]
            for index, label in enumerate(labels):
                cells = []
                for name in names:
                    total = sum(value for _, value in profiles[name]) or 1.0
                    value = profiles[name][index][1]
                    cells.append(f"{value:.2f} s ({100 * value / total:.0f}%)")
                add(f"| {label} | " + " | ".join(cells) + " |")
            add("")
        add("## Check: peak memory\n")
        add("GNU time's maximum resident set size (largest single process); in brackets the peak of the summed PSS "
            "(proportional set size: pages shared by forked workers counted once) of the whole process tree, sampled "
            "every 3 ms (worker processes included).\n")
        add("| tree | asgifix check | ruff --no-cache | ruff cached | grep -rlF |")
        add("|---|---|---|---|---|")
        for result in check:
            c = result.commands
            cells = [f"{mb(c[k].rss_mb)} [{mb(c[k].tree_rss_mb)}]" if k in c else "–"
                     for k in ("asgifix", "ruff_cold", "ruff_cached", "grep")]
            add(f"| {result.name}: {result.tree.name} | " + " | ".join(cells) + " |")
        add("")
        if scaling:
            add("asgifix check peak memory as the tree grows:\n")
            add("| path | .py files | peak RSS [process tree] |")
            add("|---|---|---|")
            for path, command in scaling.items():
                files = trees.describe(TREES / path)["python_files"]
                add(f"| {path} | {files} | {mb(command.rss_mb)} [{mb(command.tree_rss_mb)}] |")
            add("")
            peaks = [max(c.rss_mb or 0, c.tree_rss_mb or 0) for c in scaling.values()]
            biggest = max(peaks)
            targets.append((f"(b) peak memory ≤ {TARGET_MEMORY_MB:.0f} MB", f"{biggest:.0f} MB",
                            "largest of GNU time max RSS and sampled process-tree RSS", biggest <= TARGET_MEMORY_MB))
            if len(peaks) > 1:
                growth = peaks[-1] - peaks[0]
                targets.append(("(b) memory flat as the tree grows (5k → 20k files: < 10 MB more)",
                                f"+{growth:.0f} MB", " → ".join(f"{p:.0f} MB" for p in peaks), growth < 10))
    if fix:
        one, both = fix.commands["one"], fix.commands["all"]
        add("## Fix throughput (hit-dense tree)\n")
        d = fix.description
        add(f"Tree `{fix.tree.name}`: {d['requirement_files']} requirements files and {d['python_files']} Python modules, "
            f"every one with findings; each run starts from a fresh copy (copy time not counted). "
            f"{fix.files_changed} files changed, {fix.findings_fixed} findings fixed per run. Output identical for "
            f"1 and {machine_cores()} processes: **{'yes' if fix.identical else 'NO'}**.\n")
        add("| run | wall (median, min–max) | files changed/s | peak RSS [process tree] |")
        add("|---|---|---|---|")
        for command in (one, both):
            add(f"| {command.label} | {spread(command)} | {fix.files_changed / command.median:.0f} | "
                f"{mb(command.rss_mb)} [{mb(command.tree_rss_mb)}] |")
        speedup = one.median / both.median
        add(f"\nSpeed-up on {machine_cores()} cores: **{speedup:.2f}×**\n")
        parallel_speedup = None
        if fix.phases.get("one") and fix.phases.get("all"):
            add("Where a fix run's time goes (median of 3 instrumented runs, seconds):\n")
            add(f"| phase | 1 process | {machine_cores()} processes | speed-up |")
            add("|---|---|---|---|")
            for name, value in fix.phases["one"].items():
                other = fix.phases["all"].get(name)
                add(f"| {name} | {value:.2f} | {other:.2f} | {value / other:.2f}× |" if other else
                    f"| {name} | {value:.2f} | – | – |")
            parallel = ("read + analyze (all rounds)", "validate fixed texts")
            one_parallel = sum(fix.phases["one"].get(name, 0.0) for name in parallel)
            all_parallel = sum(fix.phases["all"].get(name, 0.0) for name in parallel)
            if all_parallel:
                parallel_speedup = one_parallel / all_parallel
            add("\nReading, analysis and validation run in the pool; writing is file-system bound (creating each "
                "temporary file costs ~0.4 ms of kernel time here, already spread over threads) and stays "
                "the same with more processes.\n")
        ok = fix.identical and speedup >= 1.3
        detail = (f"{fix.files_changed / both.median:.0f} vs {fix.files_changed / one.median:.0f} files/s; "
                  f"analysis + validation {parallel_speedup:.2f}× faster; " if parallel_speedup else "")
        targets.append((f"(c) fix uses both cores (≥ 1.3× faster than 1 process, same output)",
                        f"{speedup:.2f}× overall", detail + f"identical output: {'yes' if fix.identical else 'NO'}",
                        ok))
    if latency:
        add("## One-file invocation latency (what pre-commit does)\n")
        add("| command | wall (median, min–max) | minus `python -c pass` | CPU (median) | peak RSS |")
        add("|---|---|---|---|---|")
        floor = latency["python"].median
        for key, command in latency.items():
            add(f"| {command.label} | {ms(command.median)} ({min(command.times) * 1000:.0f}–"
                f"{max(command.times) * 1000:.0f}) | {'' if key == 'python' else '+' + ms(command.median - floor)} | "
                f"{ms(command.cpu_median) if command.cpu_median is not None else '–'} | {mb(command.rss_mb)} |")
        add("")
        for key in ("unrelated", "module", "requirements", "broken"):
            command = latency[key]
            targets.append((f"one-file `{command.label}` ≤ {TARGET_LATENCY_MS:.0f} ms", ms(command.median),
                            f"python -c pass: {ms(floor)}; python -c 'import click': {ms(latency['click'].median)}",
                            command.median * 1000 <= TARGET_LATENCY_MS))
        if imports:
            add("Largest top-level imports of `asgifix check consumers.py` (`python -X importtime`, cumulative µs, "
                "inflated by the measurement itself):\n")
            add("| module | µs |")
            add("|---|---|")
            for micros, module in imports:
                add(f"| {module} | {micros} |")
            add("")
    summary = ["## Targets\n", "| target | measured | detail | |", "|---|---|---|---|"]
    for name, value, detail, ok in targets:
        summary.append(f"| {name} | {value} | {detail} | {verdict(ok)} |")
    summary.append("")
    return "\n".join(summary + out) + "\n", targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command (default 5)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections: a (Django), b (monorepo), c (fix), latency")
    parser.add_argument("--keep-trees", action="store_true",
                        help="keep the generated trees under bench/.trees for the next run (default: remove them, "
                             "keeping only the downloaded Django sdist)")
    parser.add_argument("--write", action="store_true", help=f"write the table to {RESULTS.relative_to(REPO)}")
    parser.add_argument("--django", default=trees.DJANGO_VERSION, help="Django version for tree (a)")
    args = parser.parse_args()
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    tools = find_tools()
    # Measure what an installed wheel runs: byte-compiled modules (pip compiles
    # them at install time; an editable checkout under PYTHONDONTWRITEBYTECODE
    # would otherwise recompile every module on every run).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "asgifix")], check=False)
    if not tools.ruff:
        print("ruff not found: the ruff columns are skipped. Get it with: "
              f"{sys.executable} -m pip install ruff", file=sys.stderr)
    if not tools.grep:
        print("grep not found: the grep column is skipped.", file=sys.stderr)
    info = machine(tools)
    TREES.mkdir(parents=True, exist_ok=True)
    needles = asgifix_needles(tools.asgifix_env)
    check_results: list[TreeResult] = []
    scaling: dict[str, Command] = {}
    fix_result = latency = None
    imports: list[tuple[int, str]] = []
    profiles: dict[str, list[tuple[str, float]]] = {}
    try:
        if "a" in only:
            tree = trees.build_django(TREES, args.django)
            result, _ = section_check("a", tree, tools, args.repeat, needles)
            check_results.append(result)
            profiles[f"a: {tree.name}"] = profile_breakdown(tools, tree)
        if "b" in only:
            print("[b] building the monorepo (once; reused with --keep-trees) ...", flush=True)
            tree = trees.build_monorepo(TREES)
            result, scaling = section_check("b", tree, tools, args.repeat, needles,
                                            memory_paths=(tree / "q0", tree))
            check_results.append(result)
            profiles[f"b: {tree.name}"] = profile_breakdown(tools, tree)
        if "c" in only:
            fix_result = section_fix(tools, args.repeat)
        if "latency" in only:
            latency = section_latency(tools, args.repeat)
            imports = import_profile(tools, TREES / "latency" / "module" / "consumers.py")
    finally:
        if not args.keep_trees:
            for child in TREES.iterdir() if TREES.is_dir() else ():
                if child.name != "downloads":
                    shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
    info["load_end"] = load_average()
    text, targets = render(info, args.repeat, check_results, scaling, fix_result, latency, imports, profiles)
    print()
    print(text)
    if args.write:
        header = ("# asgifix benchmark results\n\nWritten by `python bench/run.py --write` "
                  f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, sections: {','.join(sorted(only))}). "
                  "See bench/README.md for what each tree and column means.\n\n")
        # A hand-written analysis below the marker survives re-runs.
        kept = ""
        if RESULTS.is_file() and ANALYSIS_MARKER in RESULTS.read_text():
            kept = "\n" + ANALYSIS_MARKER + RESULTS.read_text().split(ANALYSIS_MARKER, 1)[1]
        RESULTS.write_text(header + text + kept)
        print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
