"""Which pip releases accept one logical line of a requirements file.

pip's verdict on a line has two parts, and both changed between releases:

* the options: the line is split at its first token starting with ``-``; the
  rest is shlex-split and parsed with an optparse table of the options a
  requirements file may carry (``--hash``, ``-C``/``--config-settings``,
  ``--no-binary``, ...). Options that a requirement line does not keep are
  parsed and then ignored; an unknown or malformed option rejects the line.
* the requirement: pip splits off the environment marker, tells URLs, paths,
  archives and wheels from names, and parses the name part as a PEP 508
  requirement. pip 24.0 and older vendor the old requirement grammar (it
  allowed "legacy" versions such as ``>=4.0.0.2<4.0.1.0`` and rejected a
  trailing comma); pip 24.1 and newer the new one.

The per-release facts (option tables, grammar, marker variables, VCS schemes,
byte order marks) are data read from the released pip wheels by
scripts/build_pip_grammar.py into rules/data/pip_grammar.json; this module
applies them. tests/test_pip_grammar.py checks its verdicts against every
recorded pip's own parser on a corpus of lines.

Nothing here imports pip or reads the file system: a path line (``./pkg``) is
taken to name a directory that exists where pip runs.
"""

from __future__ import annotations

import json
import re
from ..records import dataclass, field
from functools import lru_cache
from typing import Any, Optional

from .._paths import data_dir

GRAMMAR_FILE = "pip_grammar.json"

# pip: req_file.ENV_VAR_RE. pip expands ${NAME} from the environment at install time.
ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
# Values tried for a ${NAME} whose value asgifix cannot know: the line is accepted when
# one of them makes it valid (a version, a word).
_ENV_STAND_INS = ("0", "x")

_WHITESPACE = " \t\n\r"
_IDENTIFIER = re.compile(r"[A-Za-z0-9]+(?:[-_.]*[A-Za-z0-9]+)*")
_MARKER_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_MARKER_KEYWORDS = {"and", "or", "not", "in"}

# PEP 440 version clauses, as the old grammar matched them (one operator and its version).
_N = r"[0-9]+"
_PRE = r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?"
_POST = r"(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?"
_DEV = r"(?:[-_.]?dev[-_.]?[0-9]*)?"
_LOCAL = r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?"
_EPOCH = rf"(?:{_N}!)?"
_COMPATIBLE = re.compile(rf"~=\s*v?{_EPOCH}{_N}(?:\.{_N})+{_PRE}{_POST}{_DEV}", re.IGNORECASE)
_IDENTITY = re.compile(r"===\s*\S*")
# The old grammar's "legacy" clause: one of six operators and any run of characters
# but whitespace, a comma, a semicolon or a closing parenthesis.
_LEGACY_CLAUSE = re.compile(r"(?:==|!=|<=|>=|<|>)\s*[^,;\s)]*")

# pip: utils/filetypes.ARCHIVE_EXTENSIONS
_ARCHIVE_EXTENSIONS = (".zip", ".whl", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma",
                       ".tar.gz", ".tgz", ".tar")
_EGG_FRAGMENT = re.compile(r"[#&]egg=([^&]*)")
_PROJECT_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_STRIP_EXTRAS = re.compile(r"^(.+)(\[[^\]]+\])$")
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


class Rejected(Exception):
    """pip refuses the line; the message says why, in pip's words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# -- the recorded pip releases ---------------------------------------------------------

class Pip:
    """One recorded pip release: its line parser's option table and its grammar."""

    def __init__(self, version: str, record: dict, table: dict):
        self.version = version
        self.packaging = record["packaging"]
        self.old_grammar = self.packaging.split(".")[0] == "21"
        self.marker_variables = frozenset(record["marker_variables"])
        self.checks_egg_fragment = bool(record["checks_egg_fragment"])
        # `name -e path`: an editable install of the name (pip 25.0+) or a plain requirement
        self.editable_with_requirement = bool(record["editable_with_requirement"])
        self.long: dict[str, dict] = {}
        self.short: dict[str, dict] = {}
        for option in table["options"]:
            for name in option["long"]:
                self.long[name] = option
            for name in option["short"]:
                self.short[name] = option
        self.requirement_options = tuple(table["requirement_options"])
        self.editable_options = tuple(table["editable_options"])
        self.vcs_schemes = frozenset(table["vcs_schemes"])
        self.url_schemes = frozenset(("http", "https", "file", "ftp")) | self.vcs_schemes
        # what decides a verdict, as a key: pips that agree on all of it judge every line alike
        self.profile = (table["id"], self.old_grammar, self.marker_variables, self.checks_egg_fragment,
                        self.editable_with_requirement)

    @property
    def series(self) -> str:
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class Grammar:
    pips: tuple[Pip, ...]  # oldest first
    oldest_reported: str  # pips older than this are recorded, not reported

    @property
    def newest(self) -> Pip:
        return self.pips[-1]


@lru_cache(maxsize=1)
def grammar() -> Grammar:
    with open(data_dir() / GRAMMAR_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    pips = []
    for version in data["versions"]:
        record = data["pips"][version]
        table = dict(data["tables"][record["table"]], id=record["table"])
        pips.append(Pip(version, record, table))
    return Grammar(tuple(pips), data["oldest_reported"])


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# -- the verdict on one line ---------------------------------------------------------------

@dataclass
class LineVerdict:
    """What pip makes of one logical line (after continuations are joined and the comment cut)."""

    kind: str  # "requirement", "editable", "url", "path", "option", "invalid"
    requirement_text: str = ""  # the part before the first option
    requirement: Any = None  # the parsed requirement (name, extras, specifier, marker), if any
    marker: Optional[str] = None
    hashes: tuple[str, ...] = ()
    options: dict = field(default_factory=dict)
    error: Optional[str] = None  # the newest pip's message, when it rejects the line
    rejected_by: tuple[str, ...] = ()  # every recorded pip that rejects the line
    older_error: Optional[str] = None  # an older pip's message, when only older pips reject
    expanded: bool = False  # the line holds ${VAR} references (judged for some value of them)


def judge(text: str) -> LineVerdict:
    """Every recorded pip's verdict on ``text``, one logical line (not cached: see judge_cached)."""
    g = grammar()
    if ENV_VAR_RE.search(text):
        return _judge_with_variables(text, g)
    return _judge(text, g)


@lru_cache(maxsize=4096)
def judge_cached(text: str) -> LineVerdict:
    """:func:`judge`, remembered per text: a line's verdict depends on its text alone."""
    return judge(text)


def _judge(text: str, g: Grammar) -> LineVerdict:
    verdicts: dict[tuple, tuple[Optional[str], Optional[tuple]]] = {}
    rejected = []
    newest_error: Optional[str] = None
    older_error: Optional[str] = None
    accepted: Optional[tuple] = None
    for pip in reversed(g.pips):
        if pip.profile not in verdicts:
            try:
                verdicts[pip.profile] = (None, _judge_for(text, pip))
            except Rejected as exc:
                verdicts[pip.profile] = (exc.message, None)
        error, result = verdicts[pip.profile]
        if error is not None:
            rejected.append(pip.version)
            if pip is g.newest:
                newest_error = error
            elif older_error is None:
                older_error = error
        elif accepted is None:
            accepted = result
    rejected_by = tuple(reversed(rejected))
    requirement_text = break_args_options(text)[0]
    if newest_error is not None:
        return LineVerdict("invalid", requirement_text, error=newest_error, rejected_by=rejected_by,
                           hashes=_hashes_of(text))
    kind, requirement, marker, options = accepted  # type: ignore[misc]
    return LineVerdict(kind, requirement_text, requirement, marker, tuple(_flatten_hashes(options.get("hashes"))),
                       options, rejected_by=rejected_by, older_error=older_error)


def _judge_with_variables(text: str, g: Grammar) -> LineVerdict:
    first: Optional[LineVerdict] = None
    for stand_in in _ENV_STAND_INS:
        verdict = _judge(ENV_VAR_RE.sub(stand_in, text), g)
        first = first or verdict
        if verdict.kind != "invalid":
            break
    else:
        verdict = first  # type: ignore[assignment]
    # The values are not known: no version, marker or hash is read from the line.
    return LineVerdict(verdict.kind, break_args_options(text)[0], None, None, (), {},
                       error=verdict.error, rejected_by=verdict.rejected_by, older_error=verdict.older_error,
                       expanded=True)


def _hashes_of(text: str) -> tuple[str, ...]:
    """The --hash values written on a line pip rejects (so it is never rewritten silently)."""
    return tuple(re.findall(r"--hash[= ]\s*(\S+)", text))


def _flatten_hashes(hashes: Optional[dict]) -> list[str]:
    return [f"{algorithm}:{digest}" for algorithm, digests in (hashes or {}).items() for digest in digests]


def break_args_options(line: str) -> tuple[str, str]:
    """pip: req_file.break_args_options. The requirement is every token before the first option."""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]), " ".join(tokens[index:])
    return line, ""


def _judge_for(text: str, pip: Pip) -> tuple:
    """(kind, requirement, marker, options) for one pip, or Rejected."""
    args, options_text = break_args_options(text)
    options = _options_for(options_text, pip) if options_text else {}
    editables = options.get("editables") or []
    if args and not pip.editable_with_requirement:
        editables = []
    if args:
        requirement_string = args
    elif editables:
        requirement_string = editables[0]
    else:
        return ("option", None, None, options)
    keep = pip.editable_options if editables else pip.requirement_options
    kept = {dest: options[dest] for dest in keep if options.get(dest)}
    if editables:
        requirement = _editable(requirement_string, pip)
        return ("editable", requirement, None, kept)
    kind, requirement, marker = _requirement_line(requirement_string, pip)
    return (kind, requirement, marker, kept)


# -- options: optparse, as pip configures it --------------------------------------------

_BY_TABLE: dict[str, Pip] = {}


def _options_for(options_text: str, pip: Pip) -> dict:
    """The parsed options (a fresh copy), parsed once per option table: many pips share one."""
    _BY_TABLE.setdefault(pip.profile[0], pip)
    parsed = _options_of_table(options_text, pip.profile[0])
    if isinstance(parsed, Rejected):
        raise parsed
    return {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v) for k, v in parsed.items()}


@lru_cache(maxsize=256)
def _options_of_table(options_text: str, table: str) -> Any:
    try:
        return _parse_options(options_text, _BY_TABLE[table])
    except Rejected as exc:
        return exc


@lru_cache(maxsize=64)
def _split_options(options_text: str) -> Any:
    import shlex

    try:
        return tuple(shlex.split(options_text))
    except ValueError:
        return Rejected(f"Could not split options: {options_text}")


def _parse_options(options_text: str, pip: Pip) -> dict:
    arguments = _split_options(options_text)
    if isinstance(arguments, Rejected):
        raise arguments
    values: dict[str, Any] = {}
    position = 0
    while position < len(arguments):
        argument = arguments[position]
        position += 1
        if argument == "--":
            break  # the rest are positional arguments, which pip ignores
        if argument.startswith("--"):
            name, has_value, explicit = argument.partition("=")
            option = _match_long(name, pip)
            if option["takes_value"]:
                if has_value:
                    value = explicit
                elif position < len(arguments):
                    value = arguments[position]
                    position += 1
                else:
                    raise Rejected(f"{name} option requires 1 argument")
                _store(option, name, value, values)
            elif has_value:
                raise Rejected(f"{name} option does not take a value")
            else:
                _store(option, name, None, values)
        elif argument.startswith("-") and len(argument) > 1:
            index = 1
            while index < len(argument):
                name = "-" + argument[index]
                index += 1
                option = pip.short.get(name)
                if option is None:
                    raise Rejected(f"no such option: {name}")
                if option["takes_value"]:
                    if index < len(argument):
                        value = argument[index:]
                    elif position < len(arguments):
                        value = arguments[position]
                        position += 1
                    else:
                        raise Rejected(f"{name} option requires 1 argument")
                    _store(option, name, value, values)
                    break
                _store(option, name, None, values)
        # anything else is a positional argument: pip parses and ignores it
    return values


def _match_long(name: str, pip: Pip) -> dict:
    """optparse accepts any unambiguous prefix of a long option."""
    if name in pip.long:
        return pip.long[name]
    candidates = sorted(option for option in pip.long if option.startswith(name))
    if len(candidates) == 1:
        return pip.long[candidates[0]]
    if not candidates:
        raise Rejected(f"no such option: {name}")
    raise Rejected(f"ambiguous option: {name} ({', '.join(candidates)}?)")


def _store(option: dict, name: str, value: Optional[str], values: dict) -> None:
    dest = option["dest"]
    if option["choices"] is not None and value not in option["choices"]:
        choices = ", ".join(repr(c) for c in option["choices"])
        raise Rejected(f"option {name}: invalid choice: {value!r} (choose from {choices})")
    check = option["check"]
    if check == "hash":
        algorithm, colon, digest = (value or "").partition(":")
        if not colon:
            raise Rejected(f"Arguments to {name} must be a hash name followed by a value, like --hash=sha256:abcde...")
        if algorithm not in ("sha256", "sha384", "sha512"):
            raise Rejected(f"Allowed hash algorithms for {name} are sha256, sha384, sha512.")
        values.setdefault("hashes", {}).setdefault(algorithm, []).append(digest)
    elif check == "config_settings":
        key, equals, setting = (value or "").partition("=")
        if not equals:
            raise Rejected(f"Arguments to {name} must be of the form KEY=VAL")
        values.setdefault(dest, {})[key] = setting
    elif check in ("format_control", "release_control"):
        if (value or "").startswith("-"):
            raise Rejected(f"{name} option requires 1 argument.")
        values.setdefault(dest, []).append(value)
    elif option["takes_value"]:
        values.setdefault(dest, []).append(value)
    else:
        values[dest] = True


# -- the requirement: pip's constructors --------------------------------------------------

def _is_url(name: str, pip: Pip) -> bool:
    match = _URL_SCHEME.match(name)
    return bool(match) and match.group(1).lower() in pip.url_schemes


def _looks_like_path(name: str) -> bool:
    return "/" in name or "\\" in name or name.startswith(".")


# A path asgifix takes for a directory that exists where pip runs: no URL scheme, no
# space or requirement punctuation ("asgiref @ ./vendor" is a requirement, not a directory).
_PLAUSIBLE_PATH = re.compile(r"(?:[A-Za-z]:)?[\w.~/\\+-]+")


def _plausible_directory(path: str) -> bool:
    return _looks_like_path(path) and _PLAUSIBLE_PATH.fullmatch(path) is not None and "://" not in path


def _is_archive(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith(_ARCHIVE_EXTENSIONS)


def _requirement_line(name: str, pip: Pip) -> tuple[str, Any, Optional[str]]:
    """pip: constructors.parse_req_from_line. Returns (kind, requirement or None, marker)."""
    separator = "; " if _is_url(name, pip) else ";"
    marker = None
    if separator in name:
        name, marker_text = name.split(separator, 1)
        marker_text = marker_text.strip()
        if marker_text:
            marker = _check_marker(marker_text, pip, name.strip())
    name = name.strip()
    if _is_url(name, pip):
        return "url", _link_requirement(name, pip), marker
    plain, _extras = _strip_extras(name)
    if _plausible_directory(plain) and not _is_archive(plain):
        # pip installs the directory if it exists where pip runs: asgifix assumes it does.
        return "path", None, marker
    if _is_archive(plain):
        parts = name.split("@", 1)
        if not (len(parts) >= 2 and not _looks_like_path(parts[0])):
            return "path", _link_requirement(plain.replace("\\", "/"), pip), marker
    return "requirement", _parse_requirement(name, pip), marker


def _strip_extras(path: str) -> tuple[str, Optional[str]]:
    match = _STRIP_EXTRAS.match(path)
    if match:
        return match.group(1).rstrip(), match.group(2)
    return path, None


def _link_requirement(url: str, pip: Pip) -> Any:
    """The requirement a URL or archive names: a wheel's name and version, or its #egg= fragment."""
    path = url.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    filename = path.rsplit("/", 1)[-1]
    if filename.lower().endswith(".whl"):
        from urllib.parse import unquote

        from packaging.utils import InvalidWheelFilename, parse_wheel_filename

        try:
            wheel_name, wheel_version, _, _ = parse_wheel_filename(unquote(filename))
        except InvalidWheelFilename as exc:
            raise Rejected(str(exc)) from None
        return _parse_requirement(f"{wheel_name}=={wheel_version}", pip)
    egg = _egg_fragment(url, pip)
    return _parse_requirement(egg, pip) if egg else None


def _egg_fragment(url: str, pip: Pip) -> Optional[str]:
    match = _EGG_FRAGMENT.search(url)
    if not match:
        return None
    project = match.group(1)
    if not project:
        return None
    if pip.checks_egg_fragment and not _PROJECT_NAME.match(project):
        raise Rejected(f"the #egg= fragment {project!r} is not a project name")
    return project


def _editable(text: str, pip: Pip) -> Any:
    """pip: constructors.parse_editable (a local directory is assumed to exist)."""
    direct = None
    try:
        direct = _parse_requirement(text, pip, whole=True)
    except Rejected:
        pass
    if direct is not None and direct.url:
        url, name = direct.url, direct
    else:
        plain, _extras = _strip_extras(text)
        if plain.lower().startswith("file:") or _plausible_directory(plain):
            return None  # a local project: pip reads its name from it
        url = text
        for scheme in sorted({s.split("+", 1)[0] for s in pip.vcs_schemes}):
            if url.lower().startswith(scheme + ":"):
                url = f"{scheme}+{url}"
                break
        egg = _egg_fragment(url, pip)
        name = _parse_requirement(egg, pip) if egg else None
    scheme = _URL_SCHEME.match(url)
    if not (scheme and scheme.group(1).lower() in pip.vcs_schemes) and not url.lower().startswith("file:"):
        raise Rejected(f"{text} is not a valid editable requirement. It should either be a path to a local "
                       f"project or a VCS URL")
    if name is None and not url.lower().startswith("file:"):
        raise Rejected(f"Could not detect requirement name for '{text}', please specify one with "
                       f"your_package_name @ URL")
    return name


def _check_marker(marker: str, pip: Pip, name: str) -> str:
    """The marker in its normal form, or Rejected.

    The variables must be ones this pip knows; the syntax is checked with the
    installed marker parser, every variable written as one it surely knows (so an
    older installed parser does not reject a variable newer pips added).
    """
    from packaging.markers import InvalidMarker, Marker

    unknown = sorted(set(_marker_words(marker)) - pip.marker_variables)
    if unknown:
        raise Rejected(f"Expected a marker variable or quoted string (pip {pip.series} does not know {unknown[0]})")
    try:
        Marker(_MARKER_TOKEN.sub(_plain_variable, marker))
    except InvalidMarker as exc:
        raise Rejected(_first_line(str(exc))) from None
    try:
        return str(Marker(marker))
    except InvalidMarker:
        return marker


_MARKER_TOKEN = re.compile(r"('[^']*'|\"[^\"]*\")|([A-Za-z_][A-Za-z0-9_.]*)")


def _plain_variable(match: "re.Match[str]") -> str:
    word = match.group(2)
    return match.group() if word is None or word in _MARKER_KEYWORDS else "python_version"


def _marker_words(marker: str):
    unquoted = re.sub(r"'[^']*'|\"[^\"]*\"", " ", marker)
    for word in _MARKER_WORD.findall(unquoted):
        if word not in _MARKER_KEYWORDS:
            yield word


def _parse_requirement(text: str, pip: Pip, whole: bool = False) -> Any:
    """``text`` as a PEP 508 requirement, in this pip's grammar. ``whole``: the marker is part of it."""
    requirement = _modern(text)
    if pip.old_grammar:
        _old_grammar_check(text, whole)
        if isinstance(requirement, Rejected):
            return _OldRequirement(text)
    if isinstance(requirement, Rejected):
        raise requirement
    if not whole and any(str(spec).endswith("]") for spec in requirement.specifier):
        raise Rejected("Extras after version")
    if whole and requirement.marker is not None:
        _check_marker(str(requirement.marker), pip, requirement.name)
    return requirement


@lru_cache(maxsize=4096)
def _modern(text: str) -> Any:
    from .pep508 import InvalidRequirement, parse_requirement

    try:
        return parse_requirement(text)
    except InvalidRequirement as exc:
        return Rejected(_first_line(str(exc)))


class _OldRequirement:
    """A requirement only the old grammar accepts (``asgiref>=3.5-foo``): name and extras are known."""

    def __init__(self, text: str):
        head = _IDENTIFIER.match(text.lstrip(_WHITESPACE))
        self.name = head.group() if head else text
        self.extras: set = set()
        self.specifier = ()
        self.marker = None
        self.url = None


def _old_grammar_check(text: str, whole: bool) -> None:
    """The requirement grammar of pip 24.0 and older (packaging 21.3), as a recogniser.

    name [extras] (@ url | version clauses [","-separated, optionally in parentheses]) [; marker]
    where a clause is a PEP 440 one or a "legacy" one (any version text), and
    nothing may follow: a trailing comma is rejected.
    """
    position = _skip(text, 0)
    name = _IDENTIFIER.match(text, position)
    if not name:
        raise Rejected("Expected a package name (pip 24.0 and older)")
    position = _skip(text, name.end())
    if text.startswith("[", position):
        position = _skip(text, position + 1)
        extra = _IDENTIFIER.match(text, position)
        if extra:
            position = _skip(text, extra.end())
            while text.startswith(",", position):
                extra = _IDENTIFIER.match(text, _skip(text, position + 1))
                if not extra:
                    break
                position = _skip(text, extra.end())
        if not text.startswith("]", position):
            raise Rejected("Expected ']' after the extras (pip 24.0 and older)")
        position = _skip(text, position + 1)
    if text.startswith("@", position):
        url = re.compile(r"[^ ]+").match(text, _skip(text, position + 1))
        if not url:
            raise Rejected("Expected a URL after '@' (pip 24.0 and older)")
        _old_url_check(url.group())
        position = _skip(text, url.end())
    else:
        position = _old_clauses(text, position)
    if text.startswith(";", position) and whole:
        return  # the marker is judged with the newer grammar's marker parser
    if position != len(text):
        raise Rejected(f"Parse error at {text[position:position + 8]!r} (pip 24.0 and older)")


def _old_clauses(text: str, position: int) -> int:
    start = position
    parenthesised = text.startswith("(", position)
    if parenthesised:
        position = _skip(text, position + 1)
    end = _old_clause(text, position)
    if end is None:
        return start
    position = end
    while True:
        after_comma = _skip(text, position)
        if not text.startswith(",", after_comma):
            break
        end = _old_clause(text, _skip(text, after_comma + 1))
        if end is None:
            break
        position = end
    position = _skip(text, position)
    if parenthesised:
        if not text.startswith(")", position):
            return start
        position = _skip(text, position + 1)
    return position


def _old_clause(text: str, position: int) -> Optional[int]:
    best = None
    for pattern in (_COMPATIBLE, _IDENTITY, _LEGACY_CLAUSE):
        match = pattern.match(text, position)
        if match and (best is None or match.end() > best):
            best = match.end()
    if best is not None and text[position:best].endswith("]"):
        raise Rejected(f"Extras after version '{text[position:best]}'.")
    return best


def _old_url_check(url: str) -> None:
    from urllib.parse import urlparse, urlunparse

    parsed = urlparse(url)
    if parsed.scheme == "file":
        if urlunparse(parsed) != url:
            raise Rejected("Invalid URL given (pip 24.0 and older)")
    elif not (parsed.scheme and parsed.netloc):
        raise Rejected(f"Invalid URL: {url} (pip 24.0 and older)")


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    return position


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


# -- what a finding says about versions ---------------------------------------------------------

def reported_rejections(rejected_by: tuple[str, ...]) -> tuple[str, ...]:
    """Those of ``rejected_by`` that are ``oldest_reported`` or newer."""
    floor = version_key(grammar().oldest_reported)
    return tuple(v for v in rejected_by if version_key(v) >= floor)


def describe_versions(rejected: tuple[str, ...]) -> str:
    """'pip 24.0 and older', 'pip 24.1 and newer', 'pip 24.1 to 25.0', or 'every pip' (series names)."""
    pips = grammar().pips
    versions = [p.version for p in pips]
    series = {p.version: p.series for p in pips}
    chosen = [v in rejected for v in versions]
    if all(chosen):
        return "every pip"
    runs, start = [], None
    for index, flag in enumerate(chosen + [False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start, index - 1))
            start = None
    parts = []
    for first, last in runs:
        if first == 0:
            parts.append(f"pip {series[versions[last]]} and older")
        elif last == len(versions) - 1:
            parts.append(f"pip {series[versions[first]]} and newer")
        elif first == last:
            parts.append(f"pip {series[versions[first]]}")
        else:
            parts.append(f"pip {series[versions[first]]} to {series[versions[last]]}")
    return ", ".join(parts)


def accepted_versions(rejected: tuple[str, ...]) -> str:
    return describe_versions(tuple(p.version for p in grammar().pips if p.version not in rejected))
