"""What an installed environment holds, read from its metadata files (never by importing it).

An environment is the ordered list of its import path entries (an interpreter's ``sys.path``,
or the folders of ``pip install --target``). In each entry this reads

* ``*.dist-info/METADATA`` (wheels, modern pip), with ``top_level.txt`` and ``RECORD``;
* ``*.egg-info`` (a directory with ``PKG-INFO`` and ``requires.txt``, or a single ``PKG-INFO``
  file) and ``EGG-INFO`` of an ``*.egg`` directory that is itself on the path;
* the ASGI stack's top-level modules that sit in the entry without any distribution owning
  them (an ``asgiref/`` directory copied into a project): :data:`WATCHED_MODULES`.

Nothing here judges what it reads; :mod:`asgifix.doctor` does.
"""

from __future__ import annotations

import os
import re
from ..records import dataclass, field
from typing import Iterable, Optional

from .declared import canonical_name

# Top-level modules whose unowned copies matter: they shadow the installed distributions.
WATCHED_MODULES = ("asgiref", "channels", "daphne", "channels_redis", "django")
MAX_METADATA_BYTES = 4 * 1024 * 1024
_EXTENSION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.[^/]*\.(so|pyd)$|^([A-Za-z_][A-Za-z0-9_]*)\.(so|pyd)$")


@dataclass(frozen=True)
class Header:
    """One ``Key: value`` header of a metadata file, with where its text is."""

    key: str
    value: str
    line: int  # 1-based
    start: int  # character offsets of the value in the file's text
    end: int


@dataclass(frozen=True)
class RequirementLine:
    text: str  # as written (``asgiref (<4,>=3.3.2)``, ``asgiref~=1.1; extra == "tests"``)
    name: str  # canonical
    specifier: str
    marker: Optional[str]
    extras: tuple[str, ...]
    line: int
    start: int
    end: int


@dataclass
class Distribution:
    name: str  # canonical
    display_name: str  # as its metadata spells it
    version: str
    entry: str  # the path entry it was found in
    metadata_path: str  # METADATA / PKG-INFO
    kind: str  # "dist-info" or "egg-info"
    text: str  # the metadata file's text
    requires: list[RequirementLine] = field(default_factory=list)
    top_level: tuple[str, ...] = ()  # from top_level.txt
    modules: tuple[str, ...] = ()  # top-level modules its RECORD installs (regular packages and modules)
    editable: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def shipped(self) -> tuple[str, ...]:
        """The importable top-level names it installs: RECORD's when there is one, else top_level.txt's."""
        return self.modules or self.top_level

    def header(self, key: str) -> Optional[Header]:
        for header in parse_headers(self.text):
            if header.key.lower() == key.lower():
                return header
        return None


@dataclass(frozen=True)
class LooseModule:
    """A watched top-level module in a path entry that no distribution of that entry owns."""

    name: str
    path: str  # the directory or file
    entry: str
    regular: bool  # a module file or a package with __init__.py (a namespace directory is not)


@dataclass
class InstalledEnvironment:
    entries: list[str]
    distributions: list[Distribution]
    loose: list[LooseModule]
    python_version: str  # "3.11"
    markers: dict  # PEP 508 marker environment of the inspected interpreter
    interpreter: Optional[str] = None  # the --python given, if any
    target: Optional[str] = None  # the `pip install --target` folder inspected, if any
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message)

    def first(self, name: str) -> Optional[Distribution]:
        """The distribution of ``name`` that imports and that importlib.metadata finds: the first on the path."""
        name = canonical_name(name)
        return next((d for d in self.distributions if d.name == name), None)

    def all_of(self, name: str) -> list[Distribution]:
        name = canonical_name(name)
        return [d for d in self.distributions if d.name == name]

    def versions(self) -> dict[str, str]:
        """``{canonical name: version}`` of what imports (first copy of each)."""
        found: dict[str, str] = {}
        for dist in self.distributions:
            found.setdefault(dist.name, dist.version)
        return found


# -- metadata files -------------------------------------------------------------------------
def parse_headers(text: str) -> list[Header]:
    """RFC 822 style headers (METADATA, PKG-INFO) up to the first blank line; continuation lines join."""
    headers: list[Header] = []
    offset = 0
    current: Optional[list] = None  # [key, value, line, start, end]
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            break
        if line[0] in " \t" and current is not None:
            current[1] += "\n" + line.strip()
            current[4] = offset + len(line)
        elif ":" in line:
            if current is not None:
                headers.append(Header(*current))
            key, _, value = line.partition(":")
            value_start = offset + len(key) + 1 + (len(value) - len(value.lstrip()))
            current = [key.strip(), value.strip(), number, value_start, offset + len(line.rstrip())]
        offset += len(raw)
    if current is not None:
        headers.append(Header(*current))
    return headers


def _requirement(text: str, line: int, start: int, end: int) -> Optional[RequirementLine]:
    from .pep508 import InvalidRequirement, parse_requirement

    try:
        parsed = parse_requirement(text)
    except InvalidRequirement:
        # Metadata before PEP 508 wrote `name (>=1.0)`; packaging reads that form too,
        # so what is left is broken metadata: it requires nothing we can judge.
        return None
    return RequirementLine(text, canonical_name(parsed.name), str(parsed.specifier),
                           str(parsed.marker) if parsed.marker else None, tuple(sorted(parsed.extras)),
                           line, start, end)


def _requires_txt(text: str, path: str) -> list[RequirementLine]:
    """An egg-info ``requires.txt``: lines, with ``[extra]``/``[extra:marker]``/``[:marker]`` sections."""
    found: list[RequirementLine] = []
    section_marker: Optional[str] = None
    offset = 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        line = raw.strip()
        start = offset + (len(raw) - len(raw.lstrip()))
        offset += len(raw)
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, marker = line[1:-1].partition(":")
            parts = []
            if extra.strip():
                parts.append(f'extra == "{extra.strip()}"')
            if marker.strip():
                parts.append(f"({marker.strip()})")
            section_marker = " and ".join(parts) or None
            continue
        requirement_text = f"{line}; {section_marker}" if section_marker else line
        requirement = _requirement(requirement_text, number, start, start + len(line))
        if requirement is not None:
            found.append(requirement)
    return found


def _read_text(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_METADATA_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_METADATA_BYTES:
        return None
    return data.decode("utf-8", errors="replace")


def _record_modules(text: str) -> tuple[str, ...]:
    """Top-level regular packages and modules a RECORD lists (namespace directories left out)."""
    found: dict[str, None] = {}
    for line in text.splitlines():
        path = line.rsplit(",", 2)[0] if line.count(",") >= 2 else line.split(",")[0]
        path = path.strip().strip('"')
        if not path or path.startswith(("..", "/")):
            continue
        parts = path.split("/")
        if len(parts) == 2 and parts[1] == "__init__.py" and parts[0].isidentifier():
            found[parts[0]] = None
        elif len(parts) == 1:
            if path.endswith(".py") and path[:-3].isidentifier():
                found[path[:-3]] = None
            else:
                match = _EXTENSION.match(path)
                if match:
                    found[match.group(1) or match.group(3)] = None
    return tuple(found)


def _lines(text: Optional[str]) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(line.strip() for line in text.splitlines() if line.strip() and line.strip().isidentifier())


def read_distribution(info_dir: str, entry: str) -> Optional[Distribution]:
    """A ``*.dist-info`` or ``*.egg-info`` (directory or file) as a :class:`Distribution`, or None."""
    is_dist_info = info_dir.endswith(".dist-info")
    if is_dist_info:
        metadata_path = os.path.join(info_dir, "METADATA")
    elif os.path.isdir(info_dir):
        metadata_path = os.path.join(info_dir, "PKG-INFO")
    else:
        metadata_path = info_dir  # distutils wrote the egg-info as one PKG-INFO file
    text = _read_text(metadata_path)
    if text is None:
        return None
    headers = parse_headers(text)
    values = {}
    for header in headers:
        values.setdefault(header.key.lower(), header.value)
    name, version = values.get("name"), values.get("version")
    if not name or not version:
        return None
    dist = Distribution(canonical_name(name), name, version, entry, metadata_path,
                        "dist-info" if is_dist_info else "egg-info", text)
    if is_dist_info:
        for header in headers:
            if header.key.lower() == "requires-dist":
                requirement = _requirement(header.value, header.line, header.start, header.end)
                if requirement is None:
                    dist.problems.append(f"line {header.line}: unreadable Requires-Dist {header.value!r}")
                else:
                    dist.requires.append(requirement)
        record = _read_text(os.path.join(info_dir, "RECORD"))
        if record:
            dist.modules = _record_modules(record)
        direct = _read_text(os.path.join(info_dir, "direct_url.json"))
        if direct and '"editable": true' in direct.replace("'", '"'):
            dist.editable = True
    elif os.path.isdir(info_dir):
        requires = _read_text(os.path.join(info_dir, "requires.txt"))
        if requires:
            dist.requires = _requires_txt(requires, info_dir)
    if os.path.isdir(info_dir):
        namespaces = set(_lines(_read_text(os.path.join(info_dir, "namespace_packages.txt"))))
        dist.top_level = tuple(n for n in _lines(_read_text(os.path.join(info_dir, "top_level.txt")))
                               if n not in namespaces)
    return dist


def read_entry(entry: str) -> tuple[list[Distribution], list[LooseModule]]:
    """The distributions in one path entry (sorted by name) and the watched modules nobody there owns."""
    try:
        names = sorted(os.listdir(entry))
    except OSError:
        return [], []
    dists: list[Distribution] = []
    if entry.endswith(".egg") and "EGG-INFO" in names:
        dist = read_distribution(os.path.join(entry, "EGG-INFO"), entry)
        if dist is not None:
            dists.append(dist)
    for name in names:
        if name.endswith((".dist-info", ".egg-info")):
            dist = read_distribution(os.path.join(entry, name), entry)
            if dist is not None:
                dists.append(dist)
    owned = {module for dist in dists for module in dist.shipped}
    # A distribution without RECORD or top_level.txt owns the module named like it (old egg-info).
    owned |= {dist.name.replace("-", "_") for dist in dists if not dist.shipped}
    loose: list[LooseModule] = []
    for module in WATCHED_MODULES:
        if module in owned:
            continue
        package = os.path.join(entry, module)
        if os.path.isdir(package):
            loose.append(LooseModule(module, package, entry, os.path.isfile(os.path.join(package, "__init__.py"))))
        elif os.path.isfile(package + ".py"):
            loose.append(LooseModule(module, package + ".py", entry, True))
    return dists, loose


def read_environment(entries: Iterable[str], python_version: str, markers: dict, *,
                     interpreter: Optional[str] = None, target: Optional[str] = None) -> InstalledEnvironment:
    """Every distribution on ``entries``, in path order (the first of a name is the one that imports)."""
    seen: set[str] = set()
    ordered: list[str] = []
    for entry in entries:
        entry = os.path.abspath(entry or os.curdir)
        if entry in seen:
            continue
        seen.add(entry)
        ordered.append(entry)
    environment = InstalledEnvironment(ordered, [], [], python_version, dict(markers), interpreter, target)
    editable_modules: set[str] = set()
    per_entry = []
    for entry in ordered:
        if not os.path.isdir(entry):
            continue  # zip files and missing entries hold no installed metadata we read
        dists, loose = read_entry(entry)
        per_entry.append((dists, loose))
        editable_modules |= {m for d in dists if d.editable for m in d.shipped}
    for dists, loose in per_entry:
        environment.distributions.extend(dists)
        # An editable install's code lives in its checkout, on the path without metadata beside it.
        environment.loose.extend(m for m in loose if m.name not in editable_modules)
        for dist in dists:
            for problem in dist.problems:
                environment.errors.append((dist.metadata_path, problem))
    return environment
