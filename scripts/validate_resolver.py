#!/usr/bin/env python3
"""Validate asgifix's resolver (AFX301) against a real resolver, ``uv pip compile``.

Samples pin sets over Django (3.0+), channels, daphne, channels-redis, asgiref
(a few with asgi-redis, ranges such as ``Django>=4.2,<5`` or extras such as
``channels[daphne]``), asks ``uv pip compile`` whether each resolves, asks
asgifix the same question by the code path AFX301 uses (the requirements file
is read by asgifix's engine, the problem built by
``asgifix.matchers.version_conflict.build_problem`` and solved by
``asgifix.resolver.Problem.solve``), and prints the agreement rate and a table of
disagreements. Where both say "resolves", each side's installation is then
checked by the other (uv compiles the pins plus asgifix's chosen releases;
asgifix judges the pins plus the releases uv chose): agreeing on the verdict
for different reasons would show up there. It needs the package index; it is
not part of the test suite.

    python -m venv /tmp/uvenv && /tmp/uvenv/bin/pip install uv
    python scripts/validate_resolver.py --uv /tmp/uvenv/bin/uv            # 240 samples
    python scripts/validate_resolver.py --limit 20 --seed 7 --jobs 2 --no-report

Both sides resolve for the same Python version (``--python-version``, default
3.12; see PYTHON_VERSION_WHY). uv's answers are cached in
``bench/.validate-cache/uv.json`` (git-ignored), so a re-run only asks uv about
new pin sets. A pin set whose resolution needs an sdist that does not build
(ancient releases) or that hits a network error is reported apart and not
counted. uv is given ``--exclude-newer`` the day after the newest upload
recorded in the knowledge data, so releases published after the data was
generated cannot make the two sides differ.

With no ``--limit`` and without ``--no-report``, the results are written to
``bench/VALIDATION.md`` between the ``generated`` markers (text outside them is
kept: that is where the disagreements are explained); a run for another
``--python-version`` writes its own section. ``--limit`` counts the random
samples; the hand-picked PROBES come on top unless ``--no-probes``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as _dt
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from packaging.version import Version  # noqa: E402

from asgifix import knowledge  # noqa: E402
from asgifix.catalogue import load_catalogue, select_rules  # noqa: E402
from asgifix.config import Settings  # noqa: E402
from asgifix.engine import Engine  # noqa: E402
from asgifix.matchers.version_conflict import build_problem, problem_declarations  # noqa: E402
from asgifix.resolver import Problem, Undecided, Unrecorded, modelled, requirements  # noqa: E402

CACHE_DIR = REPO / "bench" / ".validate-cache"
CACHE_FILE = CACHE_DIR / "uv.json"
REPORT = REPO / "bench" / "VALIDATION.md"
MARKERS = "<!-- generated:begin python {} -->", "<!-- generated:end python {} -->"

DEFAULT_SAMPLES = 240
DEFAULT_SEED = 20261125
PYTHON_VERSION = "3.12"
PYTHON_VERSION_WHY = (
    "3.12 is the oldest Python that every sampled release accepts: Django 6.0+ declares "
    "Requires-Python >=3.12, Django 5.x >=3.10, asgiref 3.13.0 >=3.11, and no release of Django, "
    "channels, daphne, channels-redis, asgi-redis or asgiref declares an upper bound or an "
    "exclusion, so at 3.12 Requires-Python removes no sampled release and the comparison covers "
    "Django 3.0 ... 6.1 alike. (uv reads --python-version as a minimum and ignores Requires-Python "
    "upper bounds; with none in the modelled data, that and an exact 3.12 agree.)")

#: The names written in requirement files, by canonical name.
SPELLING = {"django": "Django", "channels": "channels", "daphne": "daphne",
            "channels-redis": "channels-redis", "asgiref": "asgiref", "asgi-redis": "asgi-redis"}
CORE = ("django", "channels", "daphne", "channels-redis", "asgiref")

NETWORK_ERRORS = ("error sending request", "Failed to fetch", "Request failed", "connection", "timed out",
                  "dns error", "tcp connect error", "HTTP status server error", "status code 5")
BUILD_ERRORS = ("Failed to build", "failed to build", "Failed to download and build", "Build backend failed",
                "Failed to prepare", "build backend", "Failed to resolve requirements from `setup.py`",
                "setup.py", "was not found in the cache", "metadata")


# ---------------------------------------------------------------------------------------------
# releases
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Release:
    package: str
    version: str
    uploaded: str
    yanked: bool

    @property
    def final(self) -> bool:
        return not Version(self.version).is_prerelease


def _releases(package: str) -> List[Release]:
    out = []
    if package == "asgiref":
        for version in knowledge.asgiref_releases():
            info = knowledge.asgiref_release_info(version) or {}
            out.append(Release(package, version, info.get("uploaded", ""), bool(info.get("yanked"))))
    else:
        for version in knowledge.releases_of(package):
            record = knowledge.release_record(package, version)
            out.append(Release(package, version, record.get("uploaded", ""), bool(record.get("yanked"))))
    if package == "django":
        out = [r for r in out if Version(r.version) >= Version("3.0a1")]
    return out


def newest_upload() -> str:
    dates = [r.uploaded for p in (*CORE, "asgi-redis") for r in _releases(p) if r.uploaded]
    for package in knowledge.known_packages():
        dates += [knowledge.release_record(package, v).get("uploaded", "") for v in knowledge.releases_of(package)]
    return max(d for d in dates if d)


# ---------------------------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------------------------

@dataclass
class Sample:
    ident: int
    kind: str
    lines: List[str]

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


#: Hand-picked pin sets at the edges of the model, drawn with every sample (kind ``probe``):
#: yanked releases and the specifiers that pin them, pre-releases, spelling, duplicate
#: declarations, extras, and releases outside the recorded range (Django before 2.2a1).
PROBES = (
    ("Django==4.2.7", "asgiref==3.7"),  # 3.7.0 is yanked: a short == pins it
    ("Django==4.2.7", "asgiref==3.7.0.0"),
    ("Django==4.2.7", "asgiref===3.7.0"),
    ("Django==4.2.7", "asgiref==3.7.0"),
    ("Django==4.2.7", "asgiref==3.7.0.*"),  # a wildcard does not pin
    ("Django==4.2.7", "asgiref==3.7.0,>=3.6"),  # nor does a compound specifier
    ("Django==4.2.7", "asgiref>=3.7,<3.7.1"),
    ("Django==4.2.7", "asgiref==3.7.0", "asgiref>=3.6"),
    ("Django>=4.2.12,<4.2.13", "asgiref==3.7.2"),  # Django 4.2.12 is yanked
    ("Django==4.2.12", "asgiref==3.7.2"),
    ("Django==5.0a1", "channels==4.0.0"),
    ("Django>=5.0a1,<5.1", "asgiref<3.7.2"),
    ("Django==3.1b1", "channels==2.4.0"),
    ("Django==6.1rc1", "asgiref<3.9"),
    ("daphne==4.0.0b1", "asgiref==3.5.2"),
    ("channels[daphne]==4.0.0b1", "Django==4.1"),
    ("channels[daphne]==4.0.0b1", "daphne<4.0.0"),
    ("channels[daphne]==4.0.0", "daphne==3.0.2"),
    ("channels[daphne]==4.2.0", "daphne==4.0.0", "Django>=4.2,<5"),
    ("Channels_Redis==4.1.0", "DJANGO==4.2"),
    ("Django>=4.2", "Django<5", "asgiref<3.6"),
    ("Django>=3.2", "Django<5", "asgiref<3.6"),
    ("Django!=4.2.7,>=4.2.6,<4.2.8", "asgiref==3.6.0"),
    ("Django==1.11.29", "channels==1.1.8", "asgi-redis==1.4.3", "asgiref==1.1.2"),  # Django before 2.2a1
    ("Django==1.11.29", "channels==1.1.8", "asgiref==3.2.10"),
    ("Django==2.1.15", "channels==2.1.7"),
    ("Django==2.0.13", "channels==2.4.0"),
    ("Django>=1.11,<2.0", "channels==2.1.7"),
    ("Django<2", "channels==2.4.0"),
    ("Django==2.2.28", "channels==2.4.0", "asgiref==3.2.10"),
)


class Sampler:
    """Pin sets of several kinds, from a seeded generator.

    * ``era``: releases of 2-5 packages that were current together (the newest, or one of the
      last few, uploaded before a random date): mostly installable;
    * ``near``: an era set with one pin moved a few releases: the boundaries of the ranges;
    * ``random``: 2-5 releases drawn independently: mostly not installable;
    * ``range``: an era or random set where a pin becomes a range (``Django>=4.2,<5``);
    * ``extras``: ``channels[daphne]`` with other pins;
    * ``asgi-redis``: the Channels 1 layer with Channels 1 era or current pins.
    """

    KINDS = (("era", 34), ("near", 16), ("random", 30), ("range", 10), ("extras", 5), ("asgi-redis", 5))

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.releases = {p: _releases(p) for p in (*CORE, "asgi-redis")}

    # -- helpers --------------------------------------------------------------------------------
    def _packages(self, low: int = 2, high: int = 5) -> List[str]:
        count = self.rng.randint(low, high)
        chosen = self.rng.sample(CORE, count)
        return [p for p in CORE if p in chosen]

    def _era_release(self, package: str, date: str) -> Optional[Release]:
        before = [r for r in self.releases[package] if r.final and not r.yanked and r.uploaded <= date]
        if not before:
            return None
        # the newest half the time, otherwise one of the few before it
        back = 0 if self.rng.random() < 0.5 else self.rng.randint(1, 4)
        return before[max(0, len(before) - 1 - back)]

    def _date(self) -> str:
        django = [r for r in self.releases["django"] if r.final]
        return self.rng.choice(django).uploaded

    @staticmethod
    def _pin(release: Release, extras: str = "") -> str:
        return f"{SPELLING[release.package]}{extras}=={release.version}"

    def _era(self) -> List[Release]:
        date = self._date()
        chosen = []
        for package in self._packages():
            release = self._era_release(package, date)
            if release is not None:
                chosen.append(release)
        return chosen

    def _random(self) -> List[Release]:
        return [self.rng.choice(self.releases[p]) for p in self._packages()]

    # -- kinds ----------------------------------------------------------------------------------
    def era(self) -> List[str]:
        return [self._pin(r) for r in self._era()]

    def near(self) -> List[str]:
        chosen = self._era()
        if not chosen:
            return []
        index = self.rng.randrange(len(chosen))
        release = chosen[index]
        pool = [r for r in self.releases[release.package] if not r.yanked]
        position = next(i for i, r in enumerate(pool) if r.version == release.version) if release in pool else 0
        step = self.rng.choice((-3, -2, -1, 1, 2, 3))
        chosen[index] = pool[min(len(pool) - 1, max(0, position + step))]
        return [self._pin(r) for r in chosen]

    def random(self) -> List[str]:
        return [self._pin(r) for r in self._random()]

    def range(self) -> List[str]:
        chosen = self._era() if self.rng.random() < 0.6 else self._random()
        lines = []
        ranged = False
        for release in chosen:
            if not ranged or self.rng.random() < 0.3:
                spec = self._range_for(release)
                if spec:
                    lines.append(f"{SPELLING[release.package]}{spec}")
                    ranged = True
                    continue
            lines.append(self._pin(release))
        return lines

    def _range_for(self, release: Release) -> Optional[str]:
        v = Version(release.version)
        major, minor = v.release[0], (v.release[1] if len(v.release) > 1 else 0)
        forms = [f">={major}.{minor},<{major}.{minor + 1}", f"~={major}.{minor}.0", f">={major}.{minor}",
                 f">={major},<{major + 1}", f"<{major}.{minor + 1}", f"=={major}.{minor}.*",
                 f"!={release.version},>={major}.{minor}", f"=={release.version}.0", f"==={release.version}"]
        if release.package == "django":
            forms += [">=4.2,<5", ">=3.2,<4", ">=5.0,<5.1", ">=5.2,<6"]
        if release.package == "asgiref":
            forms += ["<3.6", ">=3.8", ">=3.2,<3.5", "~=3.7"]
        return self.rng.choice(forms)

    def extras(self) -> List[str]:
        fours = [r for r in self.releases["channels"] if Version(r.version) >= Version("4.0.0") and not r.yanked]
        channels = self.rng.choice(fours)
        lines = [self._pin(channels, "[daphne]")]
        for package in self.rng.sample(("django", "daphne", "asgiref", "channels-redis"), self.rng.randint(1, 3)):
            if self.rng.random() < 0.6:
                release = self._era_release(package, channels.uploaded)
            else:
                release = self.rng.choice(self.releases[package])
            if release is not None:
                lines.append(self._pin(release))
        return lines

    def asgi_redis(self) -> List[str]:
        layer = self.rng.choice([r for r in self.releases["asgi-redis"] if not r.yanked])
        lines = [self._pin(layer)]
        if self.rng.random() < 0.5:  # the Channels 1 era around it
            for package in self.rng.sample(("channels", "daphne", "asgiref"), self.rng.randint(1, 3)):
                release = self._era_release(package, layer.uploaded)
                if release is not None:
                    lines.append(self._pin(release))
        else:
            for release in self._era()[:self.rng.randint(1, 3)]:
                lines.append(self._pin(release))
        return lines

    def draw(self, count: int, probes: bool = True) -> List[Sample]:
        kinds = [k for k, _ in self.KINDS]
        weights = [w for _, w in self.KINDS]
        samples: List[Sample] = []
        seen = set()
        for lines in PROBES if probes else ():
            samples.append(Sample(len(samples) + 1, "probe", list(lines)))
            seen.add(tuple(sorted(lines)))
        count += len(samples)
        attempts = 0
        while len(samples) < count and attempts < count * 50:
            attempts += 1
            kind = self.rng.choices(kinds, weights)[0]
            lines = getattr(self, kind.replace("-", "_"))()
            names = [re.split(r"[\[<>=~!]", line, maxsplit=1)[0].lower() for line in lines]
            if not 2 <= len(lines) <= 5 or len(set(names)) != len(names):
                continue
            self.rng.shuffle(lines)
            key = tuple(sorted(lines))
            if key in seen:
                continue
            seen.add(key)
            samples.append(Sample(len(samples) + 1, kind, lines))
        return samples


# ---------------------------------------------------------------------------------------------
# uv's side
# ---------------------------------------------------------------------------------------------

@dataclass
class UvResult:
    status: str  # resolves | fails | build-error | network-error
    resolved: Dict[str, str] = field(default_factory=dict)
    message: str = ""

    def to_json(self) -> dict:
        return {"status": self.status, "resolved": self.resolved, "message": self.message}


class Uv:
    def __init__(self, executable: List[str], python_version: str, interpreter: Optional[str],
                 exclude_newer: Optional[str], index_url: Optional[str], cache_file: Path):
        self.executable = executable
        self.python_version = python_version
        self.interpreter = interpreter
        self.exclude_newer = exclude_newer
        self.index_url = index_url
        self.cache_file = cache_file
        self.lock = threading.Lock()
        self.cache: Dict[str, dict] = {}
        if cache_file.exists():
            try:
                self.cache = json.loads(cache_file.read_text(encoding="utf-8"))
            except ValueError:
                self.cache = {}
        self.version = subprocess.run([*executable, "--version"], capture_output=True, text=True,
                                      check=True).stdout.strip()

    def command(self, path: str) -> List[str]:
        command = [*self.executable, "pip", "compile", "--python-version", self.python_version,
                   "--no-header", "--quiet", "--no-config", "--no-annotate"]
        if self.interpreter:
            command += ["--python", self.interpreter]
        if self.exclude_newer:
            command += ["--exclude-newer", self.exclude_newer]
        if self.index_url:
            command += ["--index-url", self.index_url]
        return command + [path]

    def key(self, text: str) -> str:
        basis = json.dumps([text, self.python_version, self.exclude_newer, self.index_url])
        return hashlib.sha256(basis.encode()).hexdigest()[:24]

    def compile(self, text: str) -> UvResult:
        key = self.key(text)
        with self.lock:
            hit = self.cache.get(key)
        if hit is not None:
            return UvResult(hit["status"], hit.get("resolved", {}), hit.get("message", ""))
        result = self._run(text)
        if result.status != "network-error":
            entry = result.to_json()
            entry.update(requirements=text, uv=self.version)
            with self.lock:
                self.cache[key] = entry
        return result

    def _run(self, text: str) -> UvResult:
        with tempfile.TemporaryDirectory(prefix="afx-validate-") as directory:
            path = os.path.join(directory, "requirements.in")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
            env["UV_NO_PROGRESS"] = "1"
            for attempt in range(3):
                try:
                    proc = subprocess.run(self.command(path), capture_output=True, text=True, env=env,
                                          timeout=600, cwd=directory)
                except subprocess.TimeoutExpired:
                    result = UvResult("network-error", message="uv timed out after 600 s")
                    continue
                result = classify(proc.returncode, proc.stdout, proc.stderr)
                if result.status != "network-error":
                    return result
                time.sleep(2 + 3 * attempt)
            return result

    def save(self) -> None:
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        with self.lock:
            data = json.dumps(self.cache, indent=1, sort_keys=True)
        tmp = self.cache_file.with_suffix(".tmp")
        tmp.write_text(data + "\n", encoding="utf-8")
        tmp.replace(self.cache_file)


def classify(returncode: int, stdout: str, stderr: str) -> UvResult:
    """uv's answer: a resolution, a failure to resolve, or an error that says nothing about the pins."""
    message = stderr.strip()
    if returncode == 0:
        resolved = {}
        for line in stdout.splitlines():
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                name, _, version = line.partition("==")
                resolved[knowledge.normalize_name(name.split("[", 1)[0].strip())] = version.split(";")[0].strip()
        return UvResult("resolves", resolved)
    if "No solution found when resolving dependencies" in message:
        # A build failure inside the derivation makes the answer about the build, not the pins.
        if re.search(r"(failed to build|build backend|could not be built|was unable to build|"
                     r"invalid metadata|failed to (download|parse|read))", message, re.I):
            return UvResult("build-error", message=message[-3000:])
        return UvResult("fails", message=message[-3000:])
    if any(marker.lower() in message.lower() for marker in NETWORK_ERRORS) and "build" not in message.lower():
        return UvResult("network-error", message=message[-3000:])
    return UvResult("build-error", message=message[-3000:])


# ---------------------------------------------------------------------------------------------
# asgifix's side
# ---------------------------------------------------------------------------------------------

@dataclass
class AsgifixResult:
    status: str  # resolves | fails | undecided
    solution: Dict[str, Optional[str]] = field(default_factory=dict)
    problem: Optional[Problem] = None


class Asgifix:
    def __init__(self, python_version: str):
        self.python_version = python_version
        self.rules = select_rules(load_catalogue(), ["AFX301"], [])

    def verdict(self, text: str) -> AsgifixResult:
        with tempfile.TemporaryDirectory(prefix="afx-validate-") as directory:
            Path(directory, "requirements.txt").write_text(text, encoding="utf-8")
            engine = Engine(Settings(), self.rules, base_dir=Path(directory))
            _, project, _ = engine.run([directory])
        problem = build_problem(problem_declarations(project), self.python_version)
        try:
            solution = problem.solve()
        except Undecided:
            return AsgifixResult("undecided", problem=problem)
        if solution is None:
            return AsgifixResult("fails", problem=problem)
        return AsgifixResult("resolves", {k: v for k, v in sorted(solution.items()) if v}, problem)


# ---------------------------------------------------------------------------------------------
# diagnosis of a disagreement
# ---------------------------------------------------------------------------------------------

def explain_uv_solution(problem: Problem, resolved: Dict[str, str]) -> str:
    """Why asgifix rejects the versions uv installed (uv resolves, asgifix does not)."""
    chosen = {name: version for name, version in resolved.items() if modelled(name)}
    reasons = []
    for name, version in sorted(chosen.items()):
        if name in problem.declared and version not in problem.candidates(name):
            if version not in (knowledge.asgiref_releases() if name == "asgiref" else knowledge.releases_of(name)):
                reasons.append(f"{name} {version} is not in the knowledge data")
            else:
                reasons.append(f"{name} {version} is not a candidate of the declared specifiers "
                               "(pre-release, yanked or Requires-Python)")
        extras = problem.extras(name)
        try:
            needs = requirements(name, version, extras)
        except knowledge.UnknownRelease:
            reasons.append(f"{name} {version} is not in the knowledge data")
            continue
        for other, spec in needs.items():
            if other not in chosen:
                if modelled(other):
                    reasons.append(f"{name} {version} requires {other}{spec} but uv installed no {other}")
                continue
            from asgifix.resolver import _allows

            if not _allows(spec, chosen[other]):
                reasons.append(f"the data says {name} {version} requires {other}{spec}, uv chose {other} {chosen[other]}")
    return "; ".join(reasons) or "asgifix accepts uv's versions when pinned: a search bug"


def pins_of(solution: Dict[str, Optional[str]]) -> List[str]:
    return [f"{name}=={version}" for name, version in sorted(solution.items())
            if version and not (isinstance(version, Unrecorded) and not version.pinned)]


def uv_pins(resolved: Dict[str, str]) -> List[str]:
    return [f"{name}=={version}" for name, version in sorted(resolved.items()) if modelled(name)]


def with_pins(sample: Sample, pins: List[str]) -> str:
    return sample.text + "".join(pin + "\n" for pin in pins)


def build_cause(message: str) -> str:
    """The failed build and the exception it ended with, from uv's message."""
    failed = re.search(r"Failed to (?:build|download and build) `[^`]+`", message)
    errors = re.findall(r"^\s*(\w+(?:Error|Exception): .*)$", message, re.M)
    parts = [failed.group(0)] if failed else []
    if errors:
        parts.append(errors[-1].strip())
    return ": ".join(parts) if parts else first_cause(message)


def first_cause(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    cause = [line for line in lines if not line.startswith("error:")]
    return " ".join(cause)[:600] if cause else (lines[0] if lines else "")


# ---------------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------------

@dataclass
class Row:
    sample: Sample
    uv: UvResult
    asgifix: AsgifixResult
    diagnosis: str = ""
    # where both resolve: uv on the pins plus asgifix's releases, asgifix on the pins plus uv's
    uv_on_asgifix: Optional[UvResult] = None
    asgifix_on_uv: Optional[AsgifixResult] = None

    @property
    def cross_checked(self) -> bool:
        return self.uv_on_asgifix is not None and self.asgifix_on_uv is not None

    @property
    def cross_agrees(self) -> bool:
        return (self.cross_checked and self.uv_on_asgifix.status == "resolves"
                and self.asgifix_on_uv.status == "resolves")

    def cross_failure(self) -> str:
        parts = []
        if self.uv_on_asgifix is not None and self.uv_on_asgifix.status != "resolves":
            parts.append(f"uv on asgifix's releases ({', '.join(pins_of(self.asgifix.solution))}): "
                         f"{self.uv_on_asgifix.status}: {first_cause(self.uv_on_asgifix.message)}")
        if self.asgifix_on_uv is not None and self.asgifix_on_uv.status != "resolves":
            parts.append(f"asgifix on uv's releases ({', '.join(uv_pins(self.uv.resolved))}): "
                         f"{self.asgifix_on_uv.status}")
        return "; ".join(parts)

    @property
    def compared(self) -> bool:
        return self.uv.status in ("resolves", "fails") and self.asgifix.status in ("resolves", "fails")

    @property
    def agrees(self) -> bool:
        return self.compared and self.uv.status == self.asgifix.status


def find_uv(given: Optional[str]) -> List[str]:
    if given:
        return [given]
    if os.environ.get("UV"):
        return [os.environ["UV"]]
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        import uv  # type: ignore[import-not-found]

        return [uv.find_uv_bin()]
    except Exception:
        raise SystemExit("uv not found: install it (python -m venv /tmp/uvenv && /tmp/uvenv/bin/pip install uv) "
                         "and pass --uv /tmp/uvenv/bin/uv")


def run(args) -> Tuple[List[Row], Uv]:
    exclude_newer = args.exclude_newer
    if exclude_newer == "auto":
        newest = _dt.date.fromisoformat(newest_upload())
        exclude_newer = (newest + _dt.timedelta(days=1)).isoformat()
    elif exclude_newer in ("", "none"):
        exclude_newer = None
    uv = Uv(find_uv(args.uv), args.python_version, args.interpreter, exclude_newer, args.index_url,
            Path(args.cache))
    samples = Sampler(args.seed).draw(args.limit or DEFAULT_SAMPLES, probes=not args.no_probes)
    asgifix = Asgifix(args.python_version)
    verdicts = {s.ident: asgifix.verdict(s.text) for s in samples}
    started = time.monotonic()
    results: Dict[int, UvResult] = {}
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = {pool.submit(uv.compile, s.text): s for s in samples}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            sample = futures[future]
            results[sample.ident] = future.result()
            if done % 20 == 0:
                uv.save()
                print(f"  uv: {done}/{len(samples)} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    rows = [Row(s, results[s.ident], verdicts[s.ident]) for s in samples]
    for row in rows:
        if not row.compared or row.agrees:
            continue
        if row.uv.status == "resolves":
            row.diagnosis = "uv installs " + ", ".join(
                f"{k} {v}" for k, v in sorted(row.uv.resolved.items()) if modelled(k)) + "; " + \
                explain_uv_solution(row.asgifix.problem, row.uv.resolved)
        else:
            forced = uv.compile(row.sample.text + "".join(p + "\n" for p in pins_of(row.asgifix.solution)))
            row.diagnosis = (f"asgifix installs {', '.join(pins_of(row.asgifix.solution))}; uv on those pins: "
                             f"{forced.status}: {first_cause(forced.message)}")
    if not args.no_cross_check:
        both = [r for r in rows if r.compared and r.agrees and r.uv.status == "resolves"]
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            futures = {pool.submit(uv.compile, with_pins(r.sample, pins_of(r.asgifix.solution))): r for r in both}
            for future in concurrent.futures.as_completed(futures):
                futures[future].uv_on_asgifix = future.result()
        for row in both:
            row.asgifix_on_uv = asgifix.verdict(with_pins(row.sample, uv_pins(row.uv.resolved)))
    uv.save()
    return rows, uv


def summary(rows: List[Row]) -> Dict[str, int]:
    compared = [r for r in rows if r.compared]
    return {
        "samples": len(rows),
        "compared": len(compared),
        "agree": sum(r.agrees for r in compared),
        "uv_resolves": sum(r.uv.status == "resolves" for r in compared),
        "uv_fails": sum(r.uv.status == "fails" for r in compared),
        "build_errors": sum(r.uv.status == "build-error" for r in rows),
        "network_errors": sum(r.uv.status == "network-error" for r in rows),
        "undecided": sum(r.asgifix.status == "undecided" for r in rows),
        "cross_checked": sum(r.cross_checked for r in rows),
        "cross_agree": sum(r.cross_agrees for r in rows),
    }


def rate(counts: Dict[str, int]) -> str:
    if not counts["compared"]:
        return "n/a"
    return f"{100.0 * counts['agree'] / counts['compared']:.1f}%"


def one_line(sample: Sample) -> str:
    return ", ".join(sample.lines)


def print_results(rows: List[Row], counts: Dict[str, int], seconds: float) -> None:
    disagreements = [r for r in rows if r.compared and not r.agrees]
    if disagreements:
        print("Disagreements:")
        print(f"{'#':>4}  {'kind':10}  {'uv':9}  {'asgifix':9}  pins / diagnosis")
        for row in disagreements:
            print(f"{row.sample.ident:>4}  {row.sample.kind:10}  {row.uv.status:9}  {row.asgifix.status:9}  "
                  f"{one_line(row.sample)}")
            print(f"{'':40}{row.diagnosis}")
    skipped = [r for r in rows if not r.compared]
    if skipped:
        print("Not compared:")
        for row in skipped:
            print(f"{row.sample.ident:>4}  {row.sample.kind:10}  uv {row.uv.status}, asgifix {row.asgifix.status}: "
                  f"{one_line(row.sample)}  [{build_cause(row.uv.message)[:200]}]")
    print(f"samples {counts['samples']}, compared {counts['compared']} (uv: {counts['uv_resolves']} resolve, "
          f"{counts['uv_fails']} fail), build errors {counts['build_errors']}, network errors "
          f"{counts['network_errors']}, asgifix undecided {counts['undecided']}")
    cross = [r for r in rows if r.cross_checked and not r.cross_agrees]
    if cross:
        print("Solutions the other side rejects:")
        for row in cross:
            print(f"{row.sample.ident:>4}  {row.sample.kind:10}  {one_line(row.sample)}")
            print(f"{'':40}{row.cross_failure()}")
    print(f"agreement: {counts['agree']}/{counts['compared']} = {rate(counts)}  ({seconds:.0f} s)")
    if counts["cross_checked"]:
        print(f"solutions cross-checked: {counts['cross_agree']}/{counts['cross_checked']}")


def write_report(path: Path, rows: List[Row], counts: Dict[str, int], uv: Uv, args, seconds: float) -> None:
    md = lambda text: text.replace("|", "\\|")  # noqa: E731
    begin, end = (marker.format(args.python_version) for marker in MARKERS)
    out = [begin, f"## Python {args.python_version}", "",
           f"- **Agreement: {counts['agree']}/{counts['compared']} = {rate(counts)}** "
           f"({counts['uv_resolves']} pin sets uv resolves, {counts['uv_fails']} it does not)",
           f"- samples: {counts['samples']} (seed {args.seed}); not compared: {counts['build_errors']} build "
           f"errors, {counts['network_errors']} network errors, {counts['undecided']} asgifix undecided",
           f"- date: {_dt.date.today().isoformat()}; {uv.version}; Python version {args.python_version} on both "
           f"sides; uv --exclude-newer {uv.exclude_newer or '(none)'}",
           f"- command: `uv pip compile --python-version {args.python_version} --no-header --quiet --no-config "
           f"--no-annotate --exclude-newer {uv.exclude_newer} requirements.in`",
           f"- run time: {seconds:.0f} s on this run (uv answers cached in bench/.validate-cache/)"]
    if counts["cross_checked"]:
        out.append(f"- **Solutions cross-checked: {counts['cross_agree']}/{counts['cross_checked']}**: of the pin "
                   "sets both resolve, uv installs them together with the releases asgifix chose, and asgifix "
                   "accepts them together with the releases uv chose")
    out.append("")
    disagreements = [r for r in rows if r.compared and not r.agrees]
    out += ["### Disagreements", ""]
    if not disagreements:
        out += ["None.", ""]
    else:
        out += ["| # | kind | pins | uv | asgifix | diagnosis |", "| ---: | --- | --- | --- | --- | --- |"]
        for row in disagreements:
            out.append(f"| {row.sample.ident} | {row.sample.kind} | `{md(one_line(row.sample))}` | {row.uv.status} "
                       f"| {row.asgifix.status} | {md(row.diagnosis)} |")
        out.append("")
    cross = [r for r in rows if r.cross_checked and not r.cross_agrees]
    if cross:
        out += ["### Solutions the other side rejects", "", "| # | kind | pins | what failed |",
                "| ---: | --- | --- | --- |"]
        for row in cross:
            out.append(f"| {row.sample.ident} | {row.sample.kind} | `{md(one_line(row.sample))}` "
                       f"| {md(row.cross_failure())} |")
        out.append("")
    skipped = [r for r in rows if not r.compared]
    if skipped:
        out += ["### Not compared", "", "| # | kind | pins | uv | why |", "| ---: | --- | --- | --- | --- |"]
        for row in skipped:
            why = build_cause(row.uv.message)[:300] if row.uv.status != "resolves" else "asgifix undecided"
            out.append(f"| {row.sample.ident} | {row.sample.kind} | `{md(one_line(row.sample))}` | {row.uv.status} "
                       f"| {md(why)} |")
        out.append("")
    out += ["### Every sample", "", "| # | kind | pins | uv | asgifix | uv installs (modelled packages) |",
            "| ---: | --- | --- | --- | --- | --- |"]
    for row in rows:
        installs = ", ".join(f"{k} {v}" for k, v in sorted(row.uv.resolved.items()) if modelled(k))
        out.append(f"| {row.sample.ident} | {row.sample.kind} | `{md(one_line(row.sample))}` | {row.uv.status} "
                   f"| {row.asgifix.status} | {installs} |")
    out += ["", end]
    generated = "\n".join(out)
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if begin in text and end in text:
            head, _, rest = text.partition(begin)
            _, _, tail = rest.partition(end)
            path.write_text(head + generated + tail, encoding="utf-8")
        else:
            path.write_text(text.rstrip("\n") + "\n\n" + generated + "\n", encoding="utf-8")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Resolver validation\n\nWritten by `scripts/validate_resolver.py`.\n\n" + generated + "\n",
                    encoding="utf-8")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None,
                        help=f"random samples to draw (default {DEFAULT_SAMPLES}; the probes come on top)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--no-probes", action="store_true", help=f"leave out the {len(PROBES)} hand-picked probes")
    parser.add_argument("--jobs", type=int, default=2, help="uv processes at once (default 2)")
    parser.add_argument("--python-version", default=PYTHON_VERSION, help="for both sides (default 3.12)")
    parser.add_argument("--uv", default=None, help="the uv executable (default: $UV, uv on PATH, the uv module)")
    parser.add_argument("--interpreter", default=sys.executable,
                        help="interpreter uv builds sdists with (default: this one)")
    parser.add_argument("--exclude-newer", default="auto",
                        help="passed to uv; 'auto' (default): the day after the newest upload in the data; 'none'")
    parser.add_argument("--index-url", default=os.environ.get("ASGIFIX_INDEX_URL"))
    parser.add_argument("--cache", default=str(CACHE_FILE))
    parser.add_argument("--report", default=None,
                        help=f"write the results there (default: {REPORT.relative_to(REPO)} when no --limit)")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--no-cross-check", action="store_true",
                        help="skip checking each side's installation with the other where both resolve")
    parser.add_argument("--json", default=None, help="also write every row as JSON there")
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows, uv = run(args)
    seconds = time.monotonic() - started
    counts = summary(rows)
    print_results(rows, counts, seconds)
    report = args.report or (None if args.limit else str(REPORT))
    if report and not args.no_report:
        write_report(Path(report), rows, counts, uv, args, seconds)
        print(f"written {report}")
    if args.json:
        Path(args.json).write_text(json.dumps([{
            "id": r.sample.ident, "kind": r.sample.kind, "pins": r.sample.lines, "uv": r.uv.status,
            "asgifix": r.asgifix.status, "uv_resolved": r.uv.resolved, "asgifix_solution": r.asgifix.solution,
            "diagnosis": r.diagnosis, "uv_message": r.uv.message,
            "cross_check": (None if not r.cross_checked else r.cross_failure() or "ok")} for r in rows],
            indent=1) + "\n")
    return 0 if counts["agree"] == counts["compared"] and counts["cross_agree"] == counts["cross_checked"] else 1


if __name__ == "__main__":
    sys.exit(main())
