"""The benchmark trees, built under ``bench/.trees/`` (git-ignored).

* ``django``   -- Django's own source tree: the sdist of one pinned release,
  fetched with ``pip download --no-deps --no-binary :all:`` and unpacked.
* ``monorepo`` -- a generated monorepo of 20,000 Python modules in four
  quarters of 5,000 (so memory can be compared at 5k and 20k files), 0.5% of
  which import removed asgiref/Channels APIs, ~2% of which mention asgiref or
  channels harmlessly (they pass a bytes prefilter and must be parsed), plus a
  ``requirements.txt`` per service, a few with AFX101 problems.
* ``fixdense`` -- a tree where every file needs a fix, for ``asgifix fix``
  throughput. Today: requirements files with AFX101 fixes (``asgiref 3.5.2``
  -> ``asgiref==3.5.2``); Python files with removed imports are added too, so
  source codemods are measured as soon as they land.

Generation is deterministic: the same seed gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

DJANGO_VERSION = "5.2.8"
MONOREPO_FILES = 20_000
MONOREPO_QUARTERS = 4
FLAGGED_SHARE = 0.005  # modules importing removed APIs
DECOY_SHARE = 0.02  # modules mentioning asgiref/channels harmlessly
FIXDENSE_FILES = 2_000
SEED = 20240505
GENERATOR_VERSION = "3"  # bump when the generated content changes

# Imports of APIs that asgifix flags (removed or moved in asgiref/Channels).
FLAGGED_IMPORTS = (
    "from asgiref.base_layer import BaseChannelLayer",
    "from asgiref.sync import ThreadSensitiveContext",
    "import asgi_redis",
    "from asgi_redis import RedisChannelLayer",
    "from asgiref.inmemory import ChannelLayer",
    "from asgiref.base_layer import BaseChannelLayer as _Base",
)
# Mentions that pass a bytes prefilter but are not findings.
DECOY_LINES = (
    "from asgiref.sync import sync_to_async",
    "from asgiref.sync import async_to_sync",
    "from channels.layers import get_channel_layer",
    "# notify subscribers on all configured channels",
    'CHANNEL_LAYERS_HINT = "see settings.CHANNEL_LAYERS"',
    "from channels.db import database_sync_to_async",
)
# Patterns for `ruff check --select TID251` that flag the same modules/names.
RUFF_BANNED = {
    "asgiref.base_layer": "removed in asgiref 2.1; use channels.layers.BaseChannelLayer",
    "asgiref.inmemory": "removed in asgiref 2.1; use channels.layers.InMemoryChannelLayer",
    "asgiref.sync.ThreadSensitiveContext": "use asgiref.sync.ThreadSensitiveContext from asgiref>=3.3 only",
    "asgi_redis": "replaced by channels_redis",
}

_WORDS = (
    "account", "order", "invoice", "message", "room", "user", "profile", "session", "event", "ticket",
    "payment", "report", "device", "channel_name", "group", "member", "notice", "audit", "export", "search",
    "billing", "cart", "product", "review", "comment", "thread", "upload", "import_job", "schedule", "quota",
)
_STDLIB = ("import logging", "import json", "import datetime", "import uuid", "import re",
           "from decimal import Decimal", "from typing import Any, Optional", "import os",
           "from collections import defaultdict", "from functools import cached_property")
_DJANGO = ("from django.db import models", "from django.conf import settings",
           "from django.http import JsonResponse", "from django.utils import timezone",
           "from django.core.exceptions import ValidationError", "from django.urls import path",
           "from django.contrib.auth import get_user_model", "from django.views import View")


def _camel(word: str) -> str:
    return "".join(part.capitalize() for part in word.split("_"))


def _function(rng: random.Random, name: str) -> str:
    arg = rng.choice(_WORDS)
    body = []
    for _ in range(rng.randint(2, 9)):
        word = rng.choice(_WORDS)
        kind = rng.randint(0, 4)
        if kind == 0:
            body.append(f"    {word} = {arg}.get({word!r}, {rng.randint(0, 999)})")
        elif kind == 1:
            body.append(f"    if {word} is None:\n        raise ValueError(\"missing {word} for {name}\")")
        elif kind == 2:
            body.append(f"    log.debug(\"%s: %r\", {name!r}, {arg})")
        elif kind == 3:
            body.append(f"    for item in {arg}.get({word!r}, ()):\n        total += len(str(item))")
        else:
            body.append(f"    result[{word!r}] = [x for x in range({rng.randint(1, 50)}) if x % 3]")
    return (f"def {name}({arg}, *, strict=False):\n"
            f"    \"\"\"Compute the {name.replace('_', ' ')} of a {arg}.\"\"\"\n"
            f"    total = 0\n    result = {{}}\n" + "\n".join(body) + "\n    return result, total\n")


def _class(rng: random.Random, word: str) -> str:
    name = _camel(word) + rng.choice(("Service", "Model", "Handler", "View", "Serializer"))
    fields = "\n".join(
        f"    {rng.choice(_WORDS)}_{i} = models.{rng.choice(('CharField(max_length=64)', 'IntegerField(default=0)', 'DateTimeField(null=True)', 'BooleanField(default=False)'))}"
        for i in range(rng.randint(2, 8))
    )
    methods = "\n".join(
        "    " + _function(rng, f"{rng.choice(_WORDS)}_{i}").replace("\n", "\n    ").rstrip() + "\n"
        for i in range(rng.randint(1, 4))
    )
    return f"class {name}:\n    \"\"\"{word.replace('_', ' ').capitalize()} handling.\"\"\"\n\n{fields}\n\n{methods}"


def python_module(rng: random.Random, extra: tuple[str, ...] = ()) -> str:
    imports = sorted(set(rng.sample(_STDLIB, rng.randint(1, 4)))) + sorted(set(rng.sample(_DJANGO, rng.randint(0, 3))))
    parts = [f"\"\"\"{rng.choice(_WORDS).capitalize()} {rng.choice(('views', 'services', 'tasks', 'helpers'))}.\"\"\"\n",
             "\n".join(imports + list(extra)), "", "log = logging.getLogger(__name__)" if "import logging" in imports
             else "log = __import__('logging').getLogger(__name__)", "", ""]
    for index in range(rng.randint(1, 5)):
        parts.append(_class(rng, rng.choice(_WORDS)) if rng.random() < 0.5 else
                     _function(rng, f"{rng.choice(_WORDS)}_{index}"))
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


GOOD_REQUIREMENTS = ("Django==4.2.16", "channels==4.1.0", "channels-redis==4.2.0", "daphne==4.1.2",
                     "asgiref==3.8.1", "psycopg2-binary==2.9.9", "redis==5.0.8", "celery==5.4.0",
                     "requests==2.32.3", "sentry-sdk==2.14.0")
BAD_REQUIREMENTS = ("asgiref 3.5.2", "Django = 3.2", "channels =>2.0", "daphne==3.0.2,", "redis=4.5.1")


def requirements_file(rng: random.Random, bad: int) -> str:
    lines = ["# Service dependencies (generated)"] + rng.sample(GOOD_REQUIREMENTS, rng.randint(4, len(GOOD_REQUIREMENTS)))
    for line in rng.sample(BAD_REQUIREMENTS, bad):
        lines.insert(rng.randint(1, len(lines)), line)
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _stamp(tree: Path) -> Path:
    return tree / ".bench-complete"


def _complete(tree: Path, key: str) -> bool:
    stamp = _stamp(tree)
    return stamp.is_file() and stamp.read_text() == key


def _fresh(tree: Path) -> None:
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)


def build_monorepo(root: Path, files: int = MONOREPO_FILES, seed: int = SEED) -> Path:
    tree = root / "monorepo"
    key = f"{GENERATOR_VERSION}:{files}:{seed}"
    if _complete(tree, key):
        return tree
    _fresh(tree)
    rng = random.Random(seed)
    flagged = set(rng.sample(range(files), round(files * FLAGGED_SHARE)))
    decoys = set(rng.sample(sorted(set(range(files)) - flagged), round(files * DECOY_SHARE)))
    per_quarter = files // MONOREPO_QUARTERS
    per_service = 100
    bad_services = {3, 17, 42, 61, 150}
    for index in range(files):
        quarter, rest = divmod(index, per_quarter)
        service, rest = divmod(rest, per_service)
        app, module = divmod(rest, 20)
        directory = tree / f"q{quarter}" / f"svc_{service:03d}" / f"app_{app}"
        extra: tuple[str, ...] = ()
        if index in flagged:
            extra = (FLAGGED_IMPORTS[index % len(FLAGGED_IMPORTS)],)
        elif index in decoys:
            extra = (DECOY_LINES[index % len(DECOY_LINES)],)
        _write(directory / f"{rng.choice(_WORDS)}_{module}.py", python_module(rng, extra))
        if rest == 0:
            number = quarter * 1000 + service
            bad = 2 if number in bad_services else 0
            _write(tree / f"q{quarter}" / f"svc_{service:03d}" / "requirements.txt", requirements_file(rng, bad))
    _stamp(tree).write_text(key)
    return tree


def build_fixdense(root: Path, files: int = FIXDENSE_FILES, seed: int = SEED) -> Path:
    """The pristine fix-dense tree; runs work on a copy (see ``fresh_copy``)."""
    tree = root / "fixdense"
    key = f"{GENERATOR_VERSION}:{files}:{seed}"
    if _complete(tree, key):
        return tree
    _fresh(tree)
    rng = random.Random(seed + 1)
    for index in range(files):
        directory = tree / f"group_{index // 100:02d}" / f"svc_{index % 100:03d}"
        # Every file needs fixes: requirements with evident AFX101 repairs ...
        lines = ["# pinned during the 2020 upgrade"] + rng.sample(GOOD_REQUIREMENTS, 6)
        for line in ("asgiref 3.5.2", "Django = 3.2", "channels =>2.0"):
            lines.insert(rng.randint(1, len(lines)), line)
        _write(directory / "requirements.txt", "\n".join(lines) + "\n")
    # ... and Python modules with removed imports (fixed once source codemods exist).
    for index in range(files // 4):
        directory = tree / f"group_{index // 100:02d}" / f"svc_{index % 100:03d}"
        _write(directory / "layers.py", python_module(rng, (FLAGGED_IMPORTS[index % len(FLAGGED_IMPORTS)],)))
    _stamp(tree).write_text(key)
    return tree


def fresh_copy(pristine: Path, work: Path) -> Path:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(pristine, work, ignore=shutil.ignore_patterns(".bench-complete"))
    return work


def tree_digest(tree: Path) -> str:
    """A digest of every file's path and bytes: equal trees, equal digests."""
    digest = hashlib.sha256()
    for directory, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(directory, name)
            digest.update(str(path.relative_to(tree)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_django(root: Path, version: str = DJANGO_VERSION, python: str = sys.executable) -> Path:
    tree = root / f"django-{version}"
    key = f"django:{version}"
    if _complete(tree, key):
        return tree
    downloads = root / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloads / f"django-{version}.tar.gz"
    if not archive.is_file():
        command = [python, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", f"Django=={version}",
                   "-d", str(downloads), "--quiet"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not archive.is_file():
            raise RuntimeError(f"could not download Django {version} with pip:\n{result.stderr.strip()}")
    _fresh(tree)
    with tarfile.open(archive) as tar:
        if sys.version_info >= (3, 12):
            tar.extractall(tree, filter="data")
        else:
            tar.extractall(tree)
    # The sdist unpacks to django-X.Y.Z/; keep that single top-level directory's contents.
    (inner,) = [p for p in tree.iterdir() if p.is_dir()]
    for child in inner.iterdir():
        child.rename(tree / child.name)
    inner.rmdir()
    _stamp(tree).write_text(key)
    return tree


def describe(tree: Path) -> dict:
    """File counts and sizes, for the table."""
    python_files = python_bytes = requirement_files = all_files = all_bytes = 0
    for directory, _dirs, filenames in os.walk(tree):
        for name in filenames:
            if name == ".bench-complete":
                continue
            size = os.path.getsize(os.path.join(directory, name))
            all_files += 1
            all_bytes += size
            if name.endswith(".py"):
                python_files += 1
                python_bytes += size
            elif name.endswith(".txt") and "requirements" in name:
                requirement_files += 1
    return {"python_files": python_files, "python_mb": python_bytes / 1e6, "requirement_files": requirement_files,
            "all_files": all_files, "all_mb": all_bytes / 1e6}
