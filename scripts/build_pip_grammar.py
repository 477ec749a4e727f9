"""Build rules/data/pip_grammar.json and tests/data/pip_grammar/verdicts.json from released pip wheels.

What pip accepts in a requirements file changes between releases: the options a
line may carry, and the requirement grammar (pip 24.0 and older vendor
packaging 21.3; pip 24.1 and newer a packaging of the new parser). This script
downloads the pip wheels listed in VERSIONS (or reads them from --wheels DIR),
and runs each one's own requirements-file parser, in isolation (``python -S``
with only that wheel on ``sys.path``), on the corpus in tests/data/pip_grammar/:

* rules/data/pip_grammar.json (shipped, read by asgifix.sources.pip_grammar):
  for each pip, its vendored packaging version, the option table of its
  requirements-file line parser (the strings, whether each takes a value, its
  checks), which options a requirement line keeps, and its VCS schemes;
* tests/data/pip_grammar/verdicts.json (tests only): for every corpus case,
  which of these pips accept it, and the newest pip's message when it rejects.

Re-runnable: ``python scripts/build_pip_grammar.py [--wheels DIR]``. Downloads
use ``python -m pip download`` (PyPI); nothing else reaches the network.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "pip_grammar"
GRAMMAR_OUT = ROOT / "rules" / "data" / "pip_grammar.json"
VERDICTS_OUT = CORPUS / "verdicts.json"

VERSIONS = [
    "22.3.1", "23.0.1", "23.1.2", "23.2.1", "23.3.2", "24.0", "24.1", "24.2", "24.3.1",
    "25.0.1", "25.1.1", "25.2", "25.3", "26.0.1", "26.1.2", "26.2.1", "26.3",
]

# ${VAR} references are expanded by pip from the environment at install time; the
# corpus is judged with these set (and every other variable unset).
ENVIRONMENT = {
    "ASGIREF_VERSION": "3.7.2",
    "INDEX_URL": "https://example.org/simple",
    "GITHUB_TOKEN": "ghp_0123456789",
}

# Marker variable names probed in each pip's vendored marker parser.
MARKER_CANDIDATES = [
    "python_version", "python_full_version", "os_name", "sys_platform", "platform_release", "platform_system",
    "platform_version", "platform_machine", "platform_python_implementation", "implementation_name",
    "implementation_version", "extra", "extras", "dependency_groups", "os.name", "sys.platform",
    "platform.version", "platform.machine", "platform.python_implementation", "python_implementation",
]

# Pips older than this are recorded (and checked against), but a line only they reject is
# not reported: pip 24.0 is the last release with the old requirement grammar (packaging
# 21.3), so every line a release of the old grammar rejects is reported, and features
# added before it (such as a per-line --config-settings, pip 23.1) are not.
OLDEST_REPORTED = "24.0"

# Runs inside `python -S` with one pip wheel first on sys.path.
HARNESS = r'''
import json, os, sys, logging, optparse
logging.disable(logging.CRITICAL)
cases = json.loads(sys.stdin.read())
from pip._internal.req import req_file
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.vcs import vcs
try:
    from pip._vendor.packaging import __version__ as packaging_version
except ImportError:
    from pip._vendor.packaging.__about__ import __version__ as packaging_version
import pip

def kind_of(option):
    callback = getattr(option, "callback", None)
    name = getattr(callback, "__name__", "") if callback else ""
    return {"_handle_merge_hash": "hash", "_handle_config_settings": "config_settings",
            "_handle_no_binary": "format_control", "_handle_only_binary": "format_control",
            "_handle_all_releases": "release_control", "_handle_only_final": "release_control",
            }.get(name, name or None)

parser = req_file.build_parser()
options = []
for option in parser.option_list:
    options.append({
        "long": option._long_opts, "short": option._short_opts, "dest": option.dest,
        "takes_value": bool(option.takes_value()), "nargs": option.nargs or 0,
        "choices": sorted(option.choices) if option.choices else None, "check": kind_of(option),
    })
requirement_dests = [o().dest for o in req_file.SUPPORTED_OPTIONS_REQ]
editable_dests = [o().dest for o in getattr(req_file, "SUPPORTED_OPTIONS_EDITABLE_REQ", [])]
from pip._vendor.packaging.markers import Marker
marker_variables = []
for name in MARKER_CANDIDATES:
    try:
        Marker(name + ' == "x"')
        marker_variables.append(name)
    except Exception:
        pass
from pip._internal.models.link import Link
try:
    Link("https://example.org/a.tar.gz#egg=a[b]").egg_fragment
    checks_egg_fragment = False
except Exception:
    checks_egg_fragment = True
try:
    boms = [encoding for _, encoding in req_file.BOMS]
except AttributeError:
    from pip._internal.utils.encoding import BOMS
    boms = [encoding for _, encoding in BOMS]
# Is a line with a requirement and an -e option editable (pip 25.0 and newer) or not?
probe_opts = req_file.build_parser().parse_args(["-e", "probe"])[0]
editable_with_args = bool(req_file.ParsedLine("r.txt", 1, "x", probe_opts, False).is_editable)
table = {"pip": pip.__version__, "packaging": packaging_version, "options": options,
         "editable_with_requirement": editable_with_args,
         "marker_variables": marker_variables, "checks_egg_fragment": checks_egg_fragment, "boms": boms,
         "requirement_options": requirement_dests, "editable_options": editable_dests,
         "vcs_schemes": sorted(vcs.all_schemes)}

results = {}
for key, path in cases:
    try:
        parsed = list(req_file.parse_requirements(path, session=None))
        for item in parsed:
            install_req_from_parsed_requirement(item)
        results[key] = None
    except BaseException as exc:
        message = str(getattr(exc, "msg", None) or exc).strip() or type(exc).__name__
        results[key] = message.splitlines()[0][:300]
print(json.dumps({"table": table, "results": results}))
'''


def corpus_cases() -> list[tuple[str, bytes]]:
    """Every case as (key, file content): the lines of lines.txt, then the files of files/."""
    cases = []
    for raw in (CORPUS / "lines.txt").read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("## "):
            continue
        cases.append((raw, (raw + "\n").encode("utf-8")))
    for path in sorted((CORPUS / "files").iterdir()):
        cases.append(("files/" + path.name, path.read_bytes()))
    return cases


def make_tree(directory: Path) -> None:
    """What the corpus's paths and includes point at, where pip runs."""
    (directory / "pyproject.toml").write_text('[project]\nname = "root"\nversion = "0"\n')
    (directory / "local_pkg").mkdir()
    (directory / "local_pkg" / "pyproject.toml").write_text('[project]\nname = "local-pkg"\nversion = "0"\n')
    (directory / "base.txt").write_text("")
    (directory / "constraints.txt").write_text("")


def wheel_dir(version: str, wheels: Path, unpack: Path) -> Path:
    target = unpack / version
    if target.exists():
        return target
    wheel = wheels / f"pip-{version}-py3-none-any.whl"
    if not wheel.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                        f"pip=={version}", "-d", str(wheels)], check=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def run_pip(version: str, site: Path, cases: list[tuple[str, bytes]], work: Path) -> dict:
    case_dir = work / "cases"
    case_dir.mkdir(exist_ok=True)
    make_tree(case_dir)  # what -r/-c name (relative to the including file)
    if not (work / "local_pkg").exists():
        make_tree(work)  # what paths name (relative to where pip runs)
    listed = []
    for index, (key, content) in enumerate(cases):
        path = case_dir / f"case{index:04d}.txt"
        path.write_bytes(content)
        listed.append((key, str(path)))
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8",
           "PIP_NO_INPUT": "1", "PIP_CONFIG_FILE": os.devnull, **ENVIRONMENT}
    code = (f"import sys; sys.path.insert(0, {str(site)!r}); MARKER_CANDIDATES = {MARKER_CANDIDATES!r}; "
            f"exec({HARNESS!r})")
    done = subprocess.run([sys.executable, "-S", "-c", code], input=json.dumps(listed), cwd=work,
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"pip {version}: harness failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="directory holding (or to receive) the pip wheels")
    args = parser.parse_args()
    cases = corpus_cases()
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        wheels = args.wheels or scratch_path / "wheels"
        wheels.mkdir(parents=True, exist_ok=True)
        tables, verdicts = {}, {key: {} for key, _ in cases}
        for version in VERSIONS:
            site = wheel_dir(version, wheels, scratch_path / "unpacked")
            work = scratch_path / f"work-{version}"
            work.mkdir()
            answer = run_pip(version, site, cases, work)
            table = answer["table"]
            assert table["pip"] == version, (table["pip"], version)
            tables[version] = table
            for key, message in answer["results"].items():
                verdicts[key][version] = message
            print(f"pip {version}: packaging {table['packaging']}, "
                  f"{sum(m is not None for m in answer['results'].values())} of {len(cases)} cases rejected")

    newest = VERSIONS[-1]
    # Consecutive pips with the same line parser share one table (named by its first pip).
    distinct: dict[str, dict] = {}
    pips = {}
    for version in VERSIONS:
        per_pip = ("pip", "packaging", "marker_variables", "checks_egg_fragment", "boms",
                   "editable_with_requirement")
        table = {k: v for k, v in tables[version].items() if k not in per_pip}
        name = next((n for n, t in distinct.items() if t == table), version)
        distinct.setdefault(name, table)
        pips[version] = {"packaging": tables[version]["packaging"], "table": name,
                         **{k: tables[version][k] for k in per_pip[2:]}}
    grammar = {"generated_by": "scripts/build_pip_grammar.py", "versions": VERSIONS, "pips": pips,
               "oldest_reported": OLDEST_REPORTED, "environment": ENVIRONMENT,
               "tables": distinct}
    GRAMMAR_OUT.write_text(json.dumps(grammar, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    out = {}
    for key, by_version in verdicts.items():
        accepted = [v for v in VERSIONS if by_version[v] is None]
        out[key] = {"accepted_by": accepted if 0 < len(accepted) < len(VERSIONS) else ("all" if accepted else "none"),
                    "newest_message": by_version[newest]}
    VERDICTS_OUT.write_text(json.dumps({"generated_by": "scripts/build_pip_grammar.py", "environment": ENVIRONMENT,
                                        "versions": VERSIONS, "cases": out}, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    print(f"wrote {GRAMMAR_OUT.relative_to(ROOT)} and {VERDICTS_OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
