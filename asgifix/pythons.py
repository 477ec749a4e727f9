"""What a project's files say about the Python it runs on.

Read statically: PEP 621 ``requires-python``, Poetry's ``python`` dependency,
``python_requires`` in setup.cfg (``[options]``) or a literal one in setup.py, and
Pipfile's ``[requires] python_version``/``python_full_version``. The install sets
(:mod:`asgifix.install_sets`) decide which of them apply to which environment.
"""

from __future__ import annotations

import re
from typing import Optional

_SETUP_PY_PYTHON = re.compile(r"""\bpython_requires\s*=\s*(?P<q>["'])(?P<spec>[^"'\n]*)(?P=q)""")


def python_declarations(name: str, text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if name in ("pyproject.toml", "Pipfile"):
        from .sources.toml_source import tomllib

        try:
            data = tomllib.loads(text)
        except Exception:
            return out
        if name == "Pipfile":
            requires = data.get("requires")
            if isinstance(requires, dict):
                for key in ("python_full_version", "python_version"):
                    if isinstance(requires.get(key), str):
                        out.append((f"[requires] {key}", f"=={requires[key].strip()}.*"
                                    if key == "python_version" else f"=={requires[key].strip()}"))
                        break
            return out
        project = data.get("project")
        if isinstance(project, dict) and isinstance(project.get("requires-python"), str):
            out.append(("requires-python", project["requires-python"]))
        tool = data.get("tool")
        poetry = tool.get("poetry") if isinstance(tool, dict) else None
        dependencies = poetry.get("dependencies") if isinstance(poetry, dict) else None
        python = dependencies.get("python") if isinstance(dependencies, dict) else None
        if isinstance(python, str):
            from .sources.constraints import poetry_to_pep440

            spec, _ = poetry_to_pep440(python)
            if spec:
                out.append(("Poetry python", spec))
    elif name == "setup.cfg":
        import configparser

        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
            value = parser.get("options", "python_requires", fallback=None)
        except configparser.Error:
            value = None
        if value and value.strip():
            out.append(("python_requires", value.strip()))
    elif name == "setup.py":
        match = _SETUP_PY_PYTHON.search(text)
        if match and match.group("spec").strip():
            out.append(("python_requires", match.group("spec").strip()))
    return out


def python_floor(text: str) -> Optional[str]:
    """The oldest Python version ``text`` (a specifier set) allows: ``>=3.9`` 3.9, ``^3.8.1`` 3.8.1, ``>3.8`` 3.9."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier:
        return None
    probes = {f"{major}.{minor}" for major in (2, 3) for minor in range(0, 40)}
    probes |= {c.version[:-2] if c.version.endswith(".*") else c.version for c in spec}
    allowed = []
    for probe in probes:
        try:
            version = Version(probe)
        except InvalidVersion:
            continue
        if spec.contains(version, prereleases=True):
            allowed.append(version)
    return str(min(allowed)) if allowed else None

