"""``[tool.asgifix]`` configuration: finding it, validating it, merging the CLI over it."""

from __future__ import annotations

import re
import sys
from .records import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional


DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".env",
    "env",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    "site-packages",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".eggs",
    "*.egg-info",
)

PIN_STRATEGIES = ("newest", "unpin")

KNOWN_KEYS = {
    "select": "a list of rule codes or prefixes",
    "extend-select": "a list of rule codes or prefixes",
    "ignore": "a list of rule codes or prefixes",
    "exclude": "a list of glob patterns",
    "extend-exclude": "a list of glob patterns",
    "per-file-ignores": "a table mapping glob patterns to lists of codes",
    "target-asgiref": "a version string such as \"3.8.1\"",
    "pin-strategy": f"one of {', '.join(PIN_STRATEGIES)}",
    "respect-gitignore": "true or false",
    "force-exclude": "true or false",
    "cache-dir": "a directory path inside the project (default \".asgifix_cache\")",
}


class ConfigError(Exception):
    """Invalid configuration or usage; the message is one line naming the file and line."""


@dataclass
class Settings:
    select: list[str] = field(default_factory=lambda: ["ALL"])
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDES))
    extend_exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    target_asgiref: Optional[str] = None
    pin_strategy: str = "newest"
    respect_gitignore: bool = True  # skip what .gitignore files ignore (asgifix.gitignore)
    force_exclude: bool = False  # excludes apply to files named on the command line too
    cache_dir: Optional[str] = None  # the results cache (asgifix.cache); None: .asgifix_cache
    config_path: Optional[Path] = None

    @property
    def all_excludes(self) -> list[str]:
        return list(self.exclude) + list(self.extend_exclude)

    def merged(self, **overrides: Any) -> "Settings":
        """A copy with every override that is not None applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def find_config(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml with a [tool.asgifix] table, from ``start`` upwards."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for candidate_dir in (directory, *directory.parents):
        candidate = candidate_dir / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if re.search(r"^\s*\[\s*tool\.asgifix\s*[\].]", text, re.MULTILINE):
                return candidate
    return None


def _line_of_key(text: str, key: str) -> Optional[int]:
    """Line of ``key = ...`` inside the [tool.asgifix] table(s), for error messages."""
    in_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = bool(re.match(r"^\[\s*tool\.asgifix\s*[\].]", stripped))
            if in_table and key in stripped:
                return number
            continue
        if in_table and re.match(rf"^[\"']?{re.escape(key)}[\"']?\s*=", stripped):
            return number
    return None


def _string_list(value: Any, key: str, fail) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(key, f"{key} must be {KNOWN_KEYS[key]}")
    return list(value)


def validate_version(value: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        Version(value)
    except InvalidVersion:
        raise ValueError(f"{value!r} is not a valid version") from None
    return value


# A configuration file is a few kilobytes; a bigger one is not a configuration file.
MAX_CONFIG_BYTES = 1024 * 1024


def _read_config(path: Path) -> bytes:
    """The file's bytes: a regular file of at most MAX_CONFIG_BYTES, else ConfigError.

    Opened without blocking (a FIFO would wait for a writer forever) and checked with
    fstat on the opened file; read up to the cap (a device such as /dev/zero never ends).
    """
    import os
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: not a regular file (a configuration must be a TOML file)")
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: configuration file too big ({info.st_size} bytes; at most {MAX_CONFIG_BYTES})")
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_CONFIG_BYTES:  # it grew while being read
                raise ConfigError(f"{path}: configuration file too big (more than {MAX_CONFIG_BYTES} bytes)")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_settings(config_path: Optional[Path]) -> Settings:
    """Settings from ``config_path`` (a pyproject.toml or a dedicated TOML file)."""
    if config_path is None:
        return Settings()
    display = str(config_path)
    try:
        text = _read_config(config_path).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{display}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{display}: cannot read configuration: {exc}") from None
    if sys.version_info >= (3, 11):  # pragma: no cover - version dependent
        import tomllib  # only with a configuration file to read
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{display}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{display}: invalid TOML: nested too deeply to read") from None

    if config_path.name == "pyproject.toml":
        table = document.get("tool", {}).get("asgifix", {})
    else:
        # A dedicated file (asgifix.toml, or anything passed to --config) may use
        # either the bare keys or a [tool.asgifix] table.
        table = document.get("tool", {}).get("asgifix", document)

    def fail(key: str, message: str) -> None:
        line = _line_of_key(text, key)
        location = f"{display}:{line}" if line else display
        raise ConfigError(f"{location}: [tool.asgifix] {message}")

    if not isinstance(table, dict):
        fail("asgifix", "must be a table")
    for key in table:
        if key not in KNOWN_KEYS:
            close = [k for k in KNOWN_KEYS if k.replace("-", "_") == key or k.replace("-", "") == key]
            suggestion = f" (did you mean {close[0]!r}?)" if close else ""
            fail(key, f"unknown key {key!r}{suggestion}; known keys: {', '.join(sorted(KNOWN_KEYS))}")

    settings = Settings(config_path=config_path)
    from .catalogue import is_known_code_or_prefix

    for key, attribute in (("select", "select"), ("extend-select", "extend_select"), ("ignore", "ignore")):
        if key in table:
            codes = [c.upper() for c in _string_list(table[key], key, fail)]
            bad = [c for c in codes if not is_known_code_or_prefix(c)]
            if bad:
                fail(key, f"{key} has unknown rule code {bad[0]!r}")
            setattr(settings, attribute, codes)
    for key, attribute in (("exclude", "exclude"), ("extend-exclude", "extend_exclude")):
        if key in table:
            setattr(settings, attribute, _string_list(table[key], key, fail))
    if "per-file-ignores" in table:
        value = table["per-file-ignores"]
        if not isinstance(value, dict):
            fail("per-file-ignores", f"per-file-ignores must be {KNOWN_KEYS['per-file-ignores']}")
        mapping = {}
        for pattern, codes in value.items():
            codes = [c.upper() for c in _string_list(codes, "per-file-ignores", fail)]
            bad = [c for c in codes if not is_known_code_or_prefix(c)]
            if bad:
                fail("per-file-ignores", f"per-file-ignores[{pattern!r}] has unknown rule code {bad[0]!r}")
            mapping[pattern] = codes
        settings.per_file_ignores = mapping
    if "target-asgiref" in table:
        value = table["target-asgiref"]
        if not isinstance(value, str):
            fail("target-asgiref", f"target-asgiref must be {KNOWN_KEYS['target-asgiref']}")
        try:
            settings.target_asgiref = validate_version(value)
        except ValueError as exc:
            fail("target-asgiref", f"target-asgiref: {exc}")
    for key, attribute in (("respect-gitignore", "respect_gitignore"), ("force-exclude", "force_exclude")):
        if key in table:
            if not isinstance(table[key], bool):
                fail(key, f"{key} must be {KNOWN_KEYS[key]}")
            setattr(settings, attribute, table[key])
    if "pin-strategy" in table:
        value = table["pin-strategy"]
        if value not in PIN_STRATEGIES:
            fail("pin-strategy", f"pin-strategy must be {KNOWN_KEYS['pin-strategy']}")
        settings.pin_strategy = value
    if "cache-dir" in table:
        if not isinstance(table["cache-dir"], str) or not table["cache-dir"].strip():
            fail("cache-dir", f"cache-dir must be {KNOWN_KEYS['cache-dir']}")
        settings.cache_dir = table["cache-dir"]
    return settings
