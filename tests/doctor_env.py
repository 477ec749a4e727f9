"""Installed environments for `doctor` tests, made of real dist-info folders or described in a few lines.

``tests/data/doctor/dists/`` holds dist-info folders extracted from released wheels (see SOURCES.md
there): :func:`install` copies them into a folder as pip would have left them (with the modules
their RECORD names). :func:`materialise` builds the tiny site-packages an AFX6xx rule example
describes (``rules/AFX6*.toml``, ``file = "site-packages"``), one line per item, in path order:

    site-packages/Django-3.2.25.dist-info  requires asgiref (<4,>=3.3.2); pytz
    site-packages/django_channels-0.7.0.dist-info  ships channels
    project/asgiref/__init__.py

A dist-info line writes METADATA (Name, Version, one Requires-Dist per ``;``-separated item after
``requires``), top_level.txt and RECORD with the modules after ``ships`` (default: the name in
lower case) and creates those packages; any other line creates that file. The folders, in the
order they first appear, are the path.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

DISTS = Path(__file__).resolve().parent / "data" / "doctor" / "dists"
# The marker values of a CPython 3.11 on Linux: what the examples and fixture environments are judged on.
MARKERS = {
    "implementation_name": "cpython", "implementation_version": "3.11.4", "os_name": "posix",
    "platform_machine": "x86_64", "platform_release": "6.1.0", "platform_system": "Linux",
    "platform_version": "#1 SMP", "python_full_version": "3.11.4", "platform_python_implementation": "CPython",
    "python_version": "3.11", "sys_platform": "linux",
}


def install(folder: Path, *dist_infos: str) -> Path:
    """Copy the named real dist-info folders (``"Django-3.2.25"``) into ``folder``, with their packages."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in dist_infos:
        source = DISTS / f"{name}.dist-info"
        assert source.is_dir(), source
        shutil.copytree(source, folder / source.name)
        record = (source / "RECORD").read_text()
        for line in record.splitlines():
            path = line.split(",")[0]
            if path.endswith("__init__.py") and path.count("/") == 1:
                (folder / path).parent.mkdir(parents=True, exist_ok=True)
                (folder / path).write_text("")
    return folder


def materialise(root: Path, description: str) -> list[str]:
    """Build what ``description`` says under ``root``; the path entries, in order."""
    entries: list[str] = []
    for raw in description.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        head, _, rest = line.partition("  ")
        folder, _, item = head.partition("/")
        entry = root / folder
        entry.mkdir(parents=True, exist_ok=True)
        if str(entry) not in entries:
            entries.append(str(entry))
        match = re.fullmatch(r"(.+)-([^-]+)\.dist-info", item)
        if match is None:
            (entry / item).parent.mkdir(parents=True, exist_ok=True)
            (entry / item).write_text("")
            continue
        name, version = match.groups()
        requires, ships = [], [name.lower().replace("-", "_")]
        for part in re.split(r"\s{2,}", rest.strip()) if rest.strip() else []:
            keyword, _, value = part.partition(" ")
            if keyword == "requires":
                requires = [r.strip() for r in value.split(";") if r.strip()]
                # `; extra == ...` / `; python_version ...` belong to the requirement before them
                joined: list[str] = []
                for item_ in requires:
                    if re.match(r"(extra|python_version|sys_platform)\b", item_) and joined:
                        joined[-1] += f"; {item_}"
                    else:
                        joined.append(item_)
                requires = joined
            elif keyword == "ships":
                ships = [m.strip() for m in value.split(",")]
        info = entry / f"{name}-{version}.dist-info"
        info.mkdir()
        metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
        (info / "METADATA").write_text(metadata)
        (info / "top_level.txt").write_text("".join(f"{m}\n" for m in ships))
        record = [f"{m}/__init__.py,," for m in ships] + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
        (info / "RECORD").write_text("\n".join(record) + "\n")
        for module in ships:
            (entry / module).mkdir(exist_ok=True)
            (entry / module / "__init__.py").write_text("")
    return entries
