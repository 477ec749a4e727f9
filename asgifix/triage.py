"""`asgifix triage`: read an error, pip/uv output, a traceback or a whole CI log and say what it means.

Three steps, each a pure function of the text:

* :func:`clean_lines` strips what terminals and CI runners add (ANSI colours, GitHub Actions
  timestamps and ``##[group]`` commands, GitLab section markers, BuildKit step prefixes,
  docker compose service prefixes, carriage-return progress lines);
* :func:`match_signatures` matches the lines against the signatures of ``rules/data/triage.toml``
  (data, loaded on first use) and fills each hit's texts with the groups of its pattern;
* :func:`versions_named` extracts the versions the log names (``asgiref 2.3.2``, ``Django 3.2``),
  and the explanations use them together with the knowledge data (``rules/data/*.json``).

With a project, :func:`project_check` runs the rules a signature points to through the real
engine, selecting only those codes, and returns the findings and the fix command.
"""

from __future__ import annotations

import bisect
import re
from .records import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

# How much of a log is read: the end of a bigger one (errors come last).
MAX_LOG_BYTES = 64 * 1024 * 1024
DEFAULT_WINDOW = 40

# --- cleaning ----------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
_GITLAB_SECTION = re.compile(r"section_(?:start|end):\d+:[\w.-]+(?:\[[^\]]*\])?")
# GitHub Actions raw logs (2024-01-01T00:00:00.0000000Z ), Heroku and other ISO timestamps with an
# offset, optionally followed by a dyno tag (app[web.1]: ).
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z ?|[+-]\d\d:?\d\d (?:[\w.-]+\[[\w.-]+\]: )?)")
# GitHub Actions workflow commands (##[group]) and docker buildx / BuildKit steps ("#9 7.207 ").
_HASH_PREFIX = re.compile(r"^(?:##\[(?:group|endgroup|error|warning|notice|debug|section|command)\]|#\d+ \d+\.\d+ )")
# docker compose: "web-1  | " / "ds-chat-chat-1   | "
_COMPOSE = re.compile(r"^[\w.-]+[-_]\d+\s+\| ?")


def decode_log(raw: bytes) -> str:
    """The text of a log: UTF-8 (a BOM dropped), UTF-16 when it starts with a BOM (PowerShell's ``>``)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return raw.decode("utf-8", errors="replace")


def clean_line(line: str) -> str:
    # Each step first looks for the character it needs: most lines of a big log need none.
    if "\x1b" in line or "\x9b" in line:
        line = _ANSI.sub("", line)
    if "section_" in line:
        line = _GITLAB_SECTION.sub("", line)
    if "\r" in line:
        # A progress bar rewrites its line: what is left on screen is the last segment.
        parts = [part for part in line.split("\r") if part.strip()]
        line = parts[-1] if parts else ""
    if line[:1].isdigit():
        line = _TIMESTAMP.sub("", line, count=1)
    if line[:1] == "#":
        line = _HASH_PREFIX.sub("", line, count=1)
    if "|" in line[:80]:
        line = _COMPOSE.sub("", line, count=1)
    return line.rstrip()


# A longer line (minified data, a progress dump) is cut: no error message is that long, and the
# patterns then cost time proportional to the log, not to its longest line.
MAX_LINE_CHARS = 20_000


def clean_lines(text: str) -> list[str]:
    return [clean_line(line[:MAX_LINE_CHARS]) for line in text.split("\n")]


# --- signatures --------------------------------------------------------------------------------


class SignatureError(Exception):
    """rules/data/triage.toml is malformed (a bug in the shipped data)."""


@dataclass(frozen=True)
class Signature:
    id: str
    title: str
    patterns: tuple[re.Pattern, ...]
    rules: tuple[str, ...]
    cause: str
    fix: str
    folklore: str = ""
    context: tuple[re.Pattern, ...] = ()
    unless: tuple[re.Pattern, ...] = ()
    unless_context: tuple[re.Pattern, ...] = ()
    window: int = DEFAULT_WINDOW
    supersedes: tuple[str, ...] = ()
    analysis: str = ""
    when: tuple[dict, ...] = ()
    claims: tuple[dict, ...] = ()
    reports: tuple[str, ...] = ()


_TEXT_KEYS = ("id", "title", "cause", "fix")
_ANALYSES = ("", "asgiref-constraints", "asgiref-name", "channels-name")


def _compile(patterns: Any, macros: dict[str, str], where: str) -> tuple[re.Pattern, ...]:
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise SignatureError(f"{where}: patterns must be a list of strings")
    compiled = []
    for pattern in patterns:
        for name, value in macros.items():
            pattern = pattern.replace("${" + name + "}", value)
        try:
            compiled.append(re.compile(pattern, re.MULTILINE))
        except re.error as exc:
            raise SignatureError(f"{where}: bad pattern {pattern!r}: {exc}") from None
    return tuple(compiled)


def parse_signatures(data: dict) -> tuple[Signature, ...]:
    macros = data.get("macros", {})
    signatures = []
    seen = set()
    for index, entry in enumerate(data.get("signature", [])):
        where = f"triage.toml signature {index + 1}"
        for key in _TEXT_KEYS:
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise SignatureError(f"{where}: missing {key}")
        if entry["id"] in seen:
            raise SignatureError(f"{where}: duplicate id {entry['id']!r}")
        seen.add(entry["id"])
        if entry.get("analysis", "") not in _ANALYSES:
            raise SignatureError(f"{where}: unknown analysis {entry['analysis']!r}")
        rules = entry.get("rules", [])
        if not rules or not all(isinstance(code, str) for code in rules):
            raise SignatureError(f"{where}: rules must name at least one rule code")
        signatures.append(Signature(
            id=entry["id"], title=entry["title"], cause=entry["cause"].strip(), fix=entry["fix"].strip(),
            folklore=entry.get("folklore", "").strip(),
            patterns=_compile(entry.get("patterns"), macros, where),
            context=_compile(entry.get("context", []), macros, where),
            unless=_compile(entry.get("unless", []), macros, where),
            unless_context=_compile(entry.get("unless_context", []), macros, where),
            window=int(entry.get("window", DEFAULT_WINDOW)),
            supersedes=tuple(entry.get("supersedes", ())),
            analysis=entry.get("analysis", ""),
            rules=tuple(rules),
            when=tuple(entry.get("when", ())),
            claims=tuple(entry.get("claims", ())),
            reports=tuple(entry.get("reports", ())),
        ))
    return tuple(signatures)


def signatures_path() -> Path:
    from ._paths import data_dir

    return data_dir() / "triage.toml"


@lru_cache(maxsize=None)
def load_signatures() -> tuple[Signature, ...]:
    """The shipped signatures, read and compiled once per process (on the first triage)."""
    from .catalogue import _toml

    with open(signatures_path(), "rb") as handle:
        return parse_signatures(_toml().load(handle))


# --- versions named in the log -----------------------------------------------------------------

_PACKAGES = {
    "asgiref": "asgiref", "django": "django", "channels": "channels", "daphne": "daphne",
    "channels-redis": "channels-redis", "channels_redis": "channels-redis",
    "asgi-redis": "asgi-redis", "asgi_redis": "asgi-redis", "asgi-ipc": "asgi-ipc", "asgi_ipc": "asgi-ipc",
    "asgi-amqp": "asgi-amqp", "asgi_amqp": "asgi-amqp", "uvicorn": "uvicorn",
}
_DISPLAY = {"django": "Django", "channels-redis": "channels-redis"}
_NAMES = "|".join(sorted((re.escape(name) for name in _PACKAGES), key=len, reverse=True))
_VERSION = r"\d+(?:\.\d+)+(?:(?:a|b|rc)\d+)?"
_MENTION = re.compile(
    rf"(?<![\w.-])(?P<name>{_NAMES})(?:==|-| \(| version | )v?(?P<version>{_VERSION})(?![\w.]*[\w])", re.IGNORECASE)
_INSTALLED = re.compile(
    rf"(?:you(?:'ll)? have|Successfully installed [^\n]*?|installed: ?|VersionConflict:? *\(|"
    rf"site-packages[/\\]|dist-packages[/\\])[ \t]*(?P<name>{_NAMES})[- ]v?(?P<version>{_VERSION})", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    package: str  # normalised name
    version: str
    line: int  # 1-based line of the cleaned log
    installed: bool


def display_name(package: str) -> str:
    return _DISPLAY.get(package, package)


def versions_named(lines: list[str]) -> list[Mention]:
    """Every (package, version) the log names, in order, each once; ``installed`` when the log says so."""
    # Only the lines that name a package of the stack are searched (a few in a big log).
    numbered = [(number, line) for number, line in enumerate(lines, 1) if _names_a_package(line)]
    lines = [line for _, line in numbered]
    text = "\n".join(lines)
    starts = _line_starts(lines)
    installed = {(_PACKAGES[m.group("name").lower()], m.group("version")): m.start("name")
                 for m in _INSTALLED.finditer(text)}
    found: dict[tuple[str, str], Mention] = {}
    for match in _MENTION.finditer(text):
        key = (_PACKAGES[match.group("name").lower()], match.group("version"))
        if key not in found:
            line = bisect.bisect_right(starts, match.start()) - 1
            found[key] = Mention(key[0], key[1], numbered[line][0], key in installed)
    for key, offset in installed.items():
        if key not in found:
            line = bisect.bisect_right(starts, offset) - 1
            found[key] = Mention(key[0], key[1], numbered[line][0], True)
    return sorted(found.values(), key=lambda m: m.line)


def _names_a_package(line: str) -> bool:
    low = line.lower()
    return "asgi" in low or "django" in low or "channels" in low or "daphne" in low or "uvicorn" in low


def _line_starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    return starts


def primary_versions(mentions: list[Mention]) -> dict[str, str]:
    """One version per package: the installed one when the log says which, else the first named."""
    chosen: dict[str, Mention] = {}
    for mention in mentions:
        current = chosen.get(mention.package)
        if current is None or (mention.installed and not current.installed):
            chosen[mention.package] = mention
    return {package: mention.version for package, mention in chosen.items()}


def _version(text: str):
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


def requirement_notes(versions: dict[str, str]) -> list[str]:
    """What each named release requires of asgiref (from its released metadata), against the named asgiref."""
    from . import knowledge

    notes = []
    asgiref = versions.get("asgiref")
    for package, version in versions.items():
        if package == "asgiref" or package not in knowledge.known_packages():
            continue
        if not knowledge.has_release(package, version):
            continue
        spec = knowledge.requirements_of(package, version).get("asgiref")
        if spec is None:
            continue
        note = f"{display_name(package)} {version} requires asgiref {spec or '(any version)'}"
        if asgiref and spec and _version(asgiref) is not None:
            from packaging.specifiers import SpecifierSet

            inside = SpecifierSet(spec).contains(asgiref, prereleases=True)
            note += f": asgiref {asgiref} {'satisfies it' if inside else 'is outside it'}"
        notes.append(note + ".")
    return notes


# --- matching ----------------------------------------------------------------------------------


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, values: dict[str, str]) -> str:
    try:
        return text.format_map(_Safe(values))
    except (ValueError, IndexError, KeyError, AttributeError):
        return text


@dataclass
class Hit:
    signature: Signature
    line: int  # 1-based
    text: str  # the cleaned line
    groups: dict[str, str]
    occurrences: int = 1
    notes: list[str] = field(default_factory=list)
    analysis: list[str] = field(default_factory=list)
    fix_hint: Optional[str] = None  # a computed fix, from the analysis

    @property
    def values(self) -> dict[str, str]:
        return self.groups

    def cause(self) -> str:
        return fill(self.signature.cause, self.groups)

    def folklore(self) -> str:
        return fill(self.signature.folklore, self.groups)

    def fix(self) -> str:
        return fill(self.signature.fix, self.groups)


def _window(lines: list[str], index: int, size: int) -> str:
    return "\n".join(lines[max(0, index - size): index + size + 1])


def match_signatures(lines: list[str], signatures: Optional[tuple[Signature, ...]] = None) -> list[Hit]:
    """The signatures the lines match, each once (its first hit, with the number of hits), in log order."""
    signatures = load_signatures() if signatures is None else signatures
    text = "\n".join(lines)
    starts = _line_starts(lines)
    hits: dict[str, Hit] = {}
    lines_hit: dict[str, set[int]] = {}
    for signature in signatures:
        for pattern in signature.patterns:
            for match in pattern.finditer(text):
                index = bisect.bisect_right(starts, match.start()) - 1
                line = lines[index]
                if any(u.search(line) for u in signature.unless):
                    continue
                if signature.context or signature.unless_context:
                    around = _window(lines, index, signature.window)
                    if signature.context and not any(c.search(around) for c in signature.context):
                        continue
                    if any(u.search(around) for u in signature.unless_context):
                        continue
                seen = lines_hit.setdefault(signature.id, set())
                if index in seen:
                    continue
                seen.add(index)
                hit = hits.get(signature.id)
                if hit is None:
                    groups = {k: v for k, v in match.groupdict().items() if v is not None}
                    hits[signature.id] = Hit(signature, index + 1, line, groups)
                else:
                    hit.occurrences += 1
                    if index + 1 < hit.line:
                        hit.line, hit.text = index + 1, line
                        hit.groups = {k: v for k, v in match.groupdict().items() if v is not None}
    # A specific signature replaces a general one that matched the same lines only.
    for hit in list(hits.values()):
        for general in hit.signature.supersedes:
            other = hits.get(general)
            if other is not None and lines_hit[general] <= lines_hit[hit.signature.id]:
                del hits[general]
    return sorted(hits.values(), key=lambda h: h.line)


# --- explanations computed from the knowledge data ---------------------------------------------


def _runs(versions: list[str], order: list[str]) -> list[tuple[str, str]]:
    positions = sorted(order.index(v) for v in versions if v in order)
    runs: list[tuple[str, str]] = []
    for position in positions:
        if runs and order.index(runs[-1][1]) == position - 1:
            runs[-1] = (runs[-1][0], order[position])
        else:
            runs.append((order[position], order[position]))
    return runs


def _runs_text(runs: list[tuple[str, str]]) -> str:
    return ", ".join(first if first == last else f"{first} to {last}" for first, last in runs)


def _moves_defined() -> dict:
    import json

    from ._paths import data_dir

    with open(data_dir() / "moves.json", encoding="utf-8") as handle:
        return json.load(handle).get("defined", {})


def analyse_channels_name(hit: Hit, versions: dict[str, str]) -> bool:
    """Which Channels releases define the name (or module) the error misses; False when the data does not know it."""
    module = hit.groups.get("module", "")
    name = hit.groups.get("name")
    defined = _moves_defined().get("channels", {})
    if name is not None:
        runs = defined.get(f"{module}:{name}")
        label = f"`{module}.{name}`"
    else:
        keys = [key for key in defined if key.split(":")[0] == module]
        runs = [run for key in keys for run in defined[key]] if keys else None
        label = f"`{module}`"
    if not runs:
        return False
    from . import knowledge

    order = knowledge.releases_of("channels")
    having = sorted({v for first, last in runs for v in order[order.index(first): order.index(last) + 1]},
                    key=order.index)
    spans = _runs_text(_runs(having, order))
    hit.analysis.append(f"{label} is in Channels {spans}" + (": a Channels 1 API." if _version(having[-1]) < _version("2.0.0")
                                                            else "."))
    installed = versions.get("channels")
    if installed and _version(installed) is not None:
        inside = any(_version(v) == _version(installed) for v in having)
        hit.analysis.append(f"The log names channels {installed}, which {'has it: another Channels is imported' if inside else 'does not'}.")
    return True


def analyse_asgiref_name(hit: Hit, versions: dict[str, str]) -> None:
    from . import knowledge

    module = hit.groups.get("module", "")
    name = hit.groups.get("name")
    if not module.startswith("asgiref"):
        return
    if name is None and not knowledge.module_exists_anywhere(module):
        # `No module named 'asgiref.sync.x'`: the deepest module asgiref has is the one reported.
        hit.analysis.append(f"No asgiref release has a module `{module}`: it is not asgiref's (a typo, or another "
                            f"package's module).")
        return
    having = knowledge.versions_having(module, name)
    label = f"`{module}.{name}`" if name else f"`{module}`"
    if not having:
        hit.analysis.append(f"No asgiref release has {label}: it is not part of asgiref.")
        return
    order = knowledge.asgiref_releases()
    runs = _runs(having, order)
    latest = knowledge.latest_asgiref_release()
    text = f"{label} is in asgiref {_runs_text(runs)}"
    if runs[-1][1] == latest:
        text += " (the newest release has it)"
    hit.analysis.append(text + ".")
    installed = versions.get("asgiref")
    if installed:
        canonical = next((v for v in order if _version(v) == _version(installed)), None)
        if canonical in having:
            hit.analysis.append(f"The log names asgiref {installed}, which has it: another asgiref is imported "
                                f"first (a second copy on sys.path, or a local asgiref file or directory).")
        elif canonical is not None:
            hit.analysis.append(f"The log names asgiref {installed}, which does not.")
    if runs[-1][1] == latest:
        hit.fix_hint = f"Install asgiref {runs[-1][0]} or later (the newest is {latest}) where the rest of the stack allows it."
    else:
        hit.fix_hint = (f"It was removed after asgiref {runs[-1][1]}: change the code that imports it, or hold "
                        f"asgiref at {runs[-1][1]} or older if the rest of the stack allows it.")


_REQ = r"(?P<req>(?P<pkg>{names})\s*(?P<spec>(?:[<>=!~]=?|===)\s*[\w.*+!-]+(?:\s*(?:,|and)\s*(?:[<>=!~]=?)\s*[\w.*+!-]+)*)?)"
_CONSTRAINT_NAMES = "asgiref|channels[-_]redis|channels|daphne|django|Django"


def _constraint_patterns() -> list[re.Pattern]:
    req = _REQ.format(names=_CONSTRAINT_NAMES)
    return [
        # pip 20.3+: "The user requested asgiref==3.2.10" / "django 3.2.12 depends on asgiref<4 and >=3.3.2"
        re.compile(rf"^\s*(?P<who>The user) requested {req}", re.I),
        re.compile(rf"^\s*(?P<who>[\w.-]+ [\w.!+-]+) depends on {req}", re.I),
        # pip's checker: "channels 2.1.3 has requirement asgiref~=2.3, but you'll have asgiref 3.0.0"
        re.compile(rf"^\s*(?P<who>[\w.-]+ [\w.!+-]+) (?:has requirement|requires) {req}, but you", re.I),
        # the legacy resolver: "  asgiref~=3.5.2 (from channels-postgres==0.0.5->-r requirements/main.in (line 5))"
        re.compile(rf"^\s*{req} \(from (?P<who>[^)\s]+?)(?:->[^)]*)?\)", re.I),
        # uv: "Because django==3.2.25 depends on asgiref>=3.3.2,<4 and you require asgiref==3.2.10"
        re.compile(rf"(?P<who>[\w.-]+==[\w.!+-]+) depends on {req}", re.I),
        re.compile(rf"(?P<who>you) require {req}", re.I),
        # pkg_resources: "(asgiref 2.0.1 (/usr/lib/...), Requirement.parse('asgiref~=1.1.2'), {'asgi-ipc'})"
        re.compile(rf"Requirement\.parse\('{req}'\), \{{(?P<who>[^}}]*)\}}", re.I),
    ]


def _normal_spec(spec: str) -> str:
    parts = [part.strip() for part in re.split(r"\s*(?:,|\band\b)\s*", spec.strip()) if part.strip()]
    return ",".join(part.replace(" ", "") for part in parts)


def constraints_named(lines: list[str]) -> list[tuple[str, str, str]]:
    """(who, package, specifier) for each requirement on the ASGI stack a resolver's output names."""
    patterns = _constraint_patterns()
    found: list[tuple[str, str, str]] = []
    for line in lines:
        if "depends on" not in line and "requested" not in line and "requirement" not in line.lower() \
                and "require" not in line and "(from " not in line:
            continue
        for pattern in patterns:
            for match in pattern.finditer(line):
                spec = _normal_spec(match.group("spec") or "")
                who = match.group("who").strip().strip("'\"")
                if who.lower() == "the user":
                    who = "your requirements"
                elif who == "you":
                    who = "your requirements"
                item = (who, _PACKAGES.get(match.group("pkg").lower().replace("_", "-"), match.group("pkg").lower()), spec)
                if item not in found:
                    found.append(item)
    return found


def _releases(package: str) -> list[str]:
    from . import knowledge

    if package == "asgiref":
        return [v for v in knowledge.asgiref_releases() if not (knowledge.asgiref_release_info(v) or {}).get("yanked")]
    try:
        return [v for v in knowledge.releases_of(package) if not knowledge.is_yanked(package, v)]
    except Exception:
        return []


def _allowed(package: str, spec: str) -> Optional[list[str]]:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    releases = _releases(package)
    if not releases:
        return None
    try:
        specifier = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    return [v for v in releases if specifier.contains(v, prereleases=False)] if spec else \
        [v for v in releases if not (_version(v) and _version(v).is_prerelease)]


def analyse_constraints(hit: Hit, lines: list[str], installed: Optional[dict[str, str]] = None) -> None:
    """The constraints a resolver's output names, what each allows, and what satisfies all of them.

    ``installed``: the versions the log says are installed (``you'll have asgiref 3.0.0``).
    """
    installed = installed or {}
    around = lines[max(0, hit.line - 1 - 40): hit.line + 40]
    constraints = constraints_named(around)
    by_package: dict[str, list[tuple[str, str]]] = {}
    for who, package, spec in constraints:
        by_package.setdefault(package, []).append((who, spec))
    for package, wanted in by_package.items():
        if len(wanted) < 2 and not hit.signature.id.startswith(("pip-installed", "contextual")):
            continue
        name = display_name(package)
        sets: list[tuple[str, str, list[str]]] = []
        for who, spec in wanted:
            allowed = _allowed(package, spec)
            if allowed is None:
                continue
            sets.append((who, spec, allowed))
            shown = f"{name}{spec}" if spec else f"{name} (any version)"
            have = installed.get(package)
            against = ""
            if have is not None and spec:
                inside = any(_version(v) == _version(have) for v in allowed)
                against = f"; the installed {have} is {'one of them' if inside else 'not'}"
            if allowed:
                span = allowed[0] if len(allowed) == 1 else f"{allowed[0]} to {allowed[-1]}"
                hit.analysis.append(f"{who}: {shown}, that is {name} {span}{against}.")
                if package == "asgiref" and all(_version(v) < _version("2.0.0") for v in allowed):
                    hit.analysis.append(f"{who} holds asgiref at 1.x, the Channels 1 era: nothing on Channels 2 "
                                        f"or later installs with it; it has to go (AFX102).")
            else:
                hit.analysis.append(f"{who}: {shown}, which no release of {name} is.")
        if len(sets) < 2:
            continue
        common = [v for v in sets[0][2] if all(v in other for _, _, other in sets[1:])]
        if common:
            span = common[0] if len(common) == 1 else f"{common[0]} to {common[-1]}"
            hit.analysis.append(f"{name} {span} satisfies all of them.")
            user = [spec for who, spec, _ in sets if who == "your requirements"]
            if user:
                hit.fix_hint = (f"Change your {name} pin to a release in {span} (or drop it); in a project, "
                                f"`asgifix fix` picks the one that also installs on its Pythons.")
            else:
                hit.fix_hint = f"Install a {name} release in {span}: every dependent named accepts those."
        else:
            clash = next(((a, b) for i, a in enumerate(sets) for b in sets[i + 1:]
                          if not set(a[2]) & set(b[2])), (sets[0], sets[1]))
            hit.analysis.append(f"No {name} release satisfies all of them: {clash[0][0]} ({name}{clash[0][1]}) and "
                                f"{clash[1][0]} ({name}{clash[1][1]}) exclude each other.")
            others = [item for item in sets if item[0] != "your requirements"]
            mine = [item for item in sets if item[0] == "your requirements"]
            agreed = [v for v in others[0][2] if all(v in o[2] for o in others[1:])] if others else []
            if mine and agreed:
                span = agreed[0] if len(agreed) == 1 else f"{agreed[0]} to {agreed[-1]}"
                hit.fix_hint = (f"Your {name} pin is the one to move: the packages named accept {name} {span}; "
                                f"pin one of those or drop the pin (in a project, `asgifix fix` picks the one "
                                f"that also installs on its Pythons).")
            else:
                hit.fix_hint = (f"One of the dependents has to move to a release that accepts the other's {name}: "
                                f"no pin of {name} itself can satisfy both.")


def apply_when(hit: Hit, versions: dict[str, str]) -> None:
    for condition in hit.signature.when:
        package = condition.get("package", "")
        named = versions.get(package)
        if named is None or _version(named) is None:
            continue
        version = _version(named)
        below, at_least = condition.get("below"), condition.get("at_least")
        if below is not None and not version < _version(below):
            continue
        if at_least is not None and not version >= _version(at_least):
            continue
        values = dict(hit.groups)
        values.update({key.replace("-", "_"): value for key, value in versions.items()})
        hit.notes.append(fill(condition.get("say", ""), values))


# --- the whole run -----------------------------------------------------------------------------


@dataclass
class ProjectResult:
    path: str
    findings: list  # asgifix.model.Finding
    errors: list  # asgifix.model.FileError
    fix_command: Optional[str] = None
    problem: Optional[str] = None


@dataclass
class TriageResult:
    lines: int
    hits: list[Hit]
    mentions: list[Mention]
    versions: dict[str, str]
    version_notes: list[str]
    project: Optional[str] = None
    by_signature: dict[str, ProjectResult] = field(default_factory=dict)

    @property
    def recognised(self) -> bool:
        return bool(self.hits)


def triage_text(text: str) -> TriageResult:
    lines = clean_lines(text)
    if lines and lines[-1] == "":
        lines.pop()
    hits = match_signatures(lines)
    mentions = versions_named(lines) if hits else []
    versions = primary_versions(mentions)
    for hit in list(hits):
        if hit.signature.analysis == "channels-name" and not analyse_channels_name(hit, versions):
            hits.remove(hit)  # a name the release data does not know: not claimed
        elif hit.signature.analysis == "asgiref-name":
            analyse_asgiref_name(hit, versions)
        elif hit.signature.analysis == "asgiref-constraints":
            analyse_constraints(hit, lines, {m.package: m.version for m in mentions if m.installed})
        apply_when(hit, versions)
    notes = requirement_notes(versions) if hits else []
    return TriageResult(len(lines), hits, mentions, versions, notes)


PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "manage.py", "requirements.txt",
                   "requirements", "poetry.lock", "uv.lock")


def looks_like_project(path: Path) -> bool:
    try:
        names = {entry.name for entry in path.iterdir()}
    except OSError:
        return False
    return bool(names & set(PROJECT_MARKERS)) or any(name.startswith("requirements") and name.endswith(".txt")
                                                      for name in names)


def project_check(project: str, codes: tuple[str, ...]) -> ProjectResult:
    """Run the rules ``codes`` on ``project`` through the engine, as ``asgifix check --select`` does."""
    from .catalogue import load_catalogue, select_rules
    from .config import ConfigError, find_config, load_settings
    from .engine import Engine

    try:
        settings = load_settings(find_config(Path(project)))
    except ConfigError as exc:
        return ProjectResult(project, [], [], problem=str(exc))
    known = {rule.code for rule in load_catalogue()}
    codes = tuple(code for code in codes if code in known)
    rules = select_rules(load_catalogue(), list(codes), [])
    engine = Engine(settings.merged(select=list(codes), extend_select=[], ignore=[]), rules,
                    base_dir=Path(project))
    try:
        report, _, _ = engine.run([project])
    finally:
        engine.shutdown_pool()
    report.sort()
    result = ProjectResult(project, list(report.findings), list(report.errors))
    fixable = [f for f in report.findings if f.fix is not None]
    if fixable:
        selected = ",".join(sorted({f.code for f in fixable}))
        unsafe = any(f.fix.applicability == "unsafe" for f in fixable)
        result.fix_command = f"asgifix fix --select {selected}{' --unsafe-fixes' if unsafe else ''} {_quoted(project)}"
    return result


def _quoted(path: str) -> str:
    import shlex

    return shlex.quote(path)


def check_projects(result: TriageResult, project: str) -> None:
    """Run each hit's rules on the project (one engine run per distinct set of codes)."""
    result.project = project
    done: dict[tuple[str, ...], ProjectResult] = {}
    for hit in result.hits:
        codes = hit.signature.rules
        if codes not in done:
            done[codes] = project_check(project, codes)
        result.by_signature[hit.signature.id] = done[codes]


def read_log(source: str) -> bytes:
    """The bytes of FILE, or of stdin for ``-``: the last MAX_LOG_BYTES of a bigger one."""
    import sys

    if source == "-":
        data = sys.stdin.buffer.read()
        return data[-MAX_LOG_BYTES:]
    with open(source, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - MAX_LOG_BYTES))
        return handle.read()


def run_command(source: Optional[str], project: Optional[str], no_project: bool, output_format: str, fail) -> int:
    """The `asgifix triage` command: 0 when the text is recognised, 1 when not (``fail`` raises exit 2)."""
    import sys

    import click

    if source is None:
        if sys.stdin.isatty():
            raise fail("triage reads an error from FILE or from stdin: paste it into "
                       "`asgifix triage -` (end with Ctrl-D) or pipe a log into it")
        source = "-"
    try:
        raw = read_log(source)
    except OSError as exc:
        raise fail(f"{source}: {exc.strerror or exc}") from None
    result = triage_text(decode_log(raw))
    if result.recognised and not no_project:
        if project is None and looks_like_project(Path.cwd()):
            project = "."
        if project is not None:
            check_projects(result, project)
    from .reporters.triage import render_json, render_text

    click.echo(render_json(result) if output_format == "json" else render_text(result), nl=False)
    return 0 if result.recognised else 1
