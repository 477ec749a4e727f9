#!/usr/bin/env python3
"""Build asgifix's knowledge data from the releases the package index serves.

Usage::

    python scripts/build_knowledge.py [--cache DIR] [--only asgiref|ecosystem|facts|moves|wiring|security]
        [--changelog-repo asgiref=GITDIR --changelog-repo channels=GITDIR]
                                      [--index-url URL] [--workers N]

Writes (deterministically, sorted, diff-friendly):

* ``rules/data/asgiref_api.json`` -- the API of every module of every asgiref
  release, extracted with the standard library ``ast`` module from the
  released files (nothing is imported, installed or executed);
* ``rules/data/ecosystem.json`` -- what every release of Django, channels,
  daphne, the channel layers and the other packages listed in ``ECOSYSTEM``
  requires of asgiref / django / channels / daphne, and its Requires-Python.

How the index is used (pip only, no other host is contacted):

* ``pip index versions --pre NAME`` lists the versions (cross-check);
* pip's own index client (its session, configuration and the PEP 691 JSON
  "simple" page it fetches) gives each release's files, yanked flags, the
  index's Requires-Python and upload times. Files are downloaded with the
  same session and checked against the index's sha256. ``pip download`` is
  *not* used for sdists because it always runs the sdist's build backend
  (``setup.py``) to prepare metadata -- which this script must never do;
* ``pip install --dry-run --no-deps --ignore-installed --only-binary :all:
  --report`` gives a wheel's core metadata (PEP 658: only the metadata file
  is downloaded when the index serves it). Releases without a usable wheel
  are read statically from their sdist: PKG-INFO, then the
  ``*.egg-info/requires.txt`` the sdist ships, then ``setup.cfg`` /
  ``setup.py`` parsed with ``ast`` (never run).

pip's configuration files and PIP_* index variables are neutralised so that
the result depends on the index alone (``--index-url``, default PyPI); a
``global.cert`` / proxy configured for pip is carried over.

Everything downloaded is kept under the cache directory (default
``.knowledge-cache/``) so a re-run only fetches what is new.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import configparser
import email.parser
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from asgifix._paths import data_dir  # noqa: E402

DEFAULT_INDEX = "https://pypi.org/simple"
SCHEMA_VERSION = 1

#: Requirement names recorded for every ecosystem release.
RELEVANT = ("asgiref", "django", "channels", "daphne")

#: The packages whose releases are recorded, with why and from which version.
#: ``min_version``: earlier releases are left out (documented in the data).
ECOSYSTEM: Dict[str, Dict[str, Any]] = {
    "django": {
        "min_version": "2.2a1",
        "why": "Django 3.0+ requires asgiref; the 2.2 line is recorded to show it has no "
        "asgiref requirement. Releases before 2.2a1 are not recorded.",
    },
    "channels": {"why": "Django Channels; 0.9+ require asgiref, 0.9-3.x require daphne, 4.x only via the [daphne] extra."},
    "daphne": {"why": "Channels' ASGI server; requires asgiref except 2.1.0-2.2.5."},
    "channels-redis": {"why": "Channels 2+ Redis channel layer (successor of asgi-redis)."},
    "asgi-redis": {"why": "Channels 1 era Redis channel layer (asgiref 1.x)."},
    "asgi-ipc": {"why": "Channels 1 era POSIX IPC channel layer (asgiref 1.x)."},
    "asgi-amqp": {"why": "Channels 1 era AMQP/RabbitMQ channel layer (asgiref 1.x)."},
    "channels-rabbitmq": {"why": "Channels 2+ RabbitMQ channel layer."},
    "channels-postgres": {"why": "Channels 4 PostgreSQL channel layer."},
    "channels-valkey": {"why": "Channels 4 Valkey channel layer."},
    "uvicorn": {"why": "ASGI server often used with Django; 0.14.0-0.17.6 required asgiref."},
    "starlette": {"why": "Checked because folklore links it to asgiref: no release requires asgiref."},
    "opentelemetry-instrumentation-asgi": {
        "why": "Common in Django deployments; most releases require asgiref ~= 3.0."
    },
    "django-cors-headers": {"why": "Common Django app; requires asgiref>=3.6 from 4.3.1."},
    "django-htmx": {"why": "Common Django app; requires asgiref>=3.6 from 1.17.2."},
    "django-browser-reload": {"why": "Common Django dev app; requires asgiref>=3.6 from 1.12.1."},
    "django-channels-graphql-ws": {"why": "Channels-based GraphQL server pinning asgiref/channels/Django."},
    "djangochannelsrestframework": {"why": "Channels-based REST framework pinning channels/Django (no direct asgiref requirement)."},
    "django-channels": {"why": "A different project that ships a top-level channels/ package and overwrites Django Channels."},
}

#: Names looked up once on the index and not served by it (recorded in the data).
NOT_ON_INDEX = ("asgi-rabbitmq",)

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".zip", ".whl")


# --------------------------------------------------------------------------
# pip access
# --------------------------------------------------------------------------

_PIP_ENV: Optional[Dict[str, str]] = None


def pip_env() -> Dict[str, str]:
    """Environment for pip subprocesses: only the chosen index, pip's TLS/proxy settings kept."""
    global _PIP_ENV
    if _PIP_ENV is None:
        carried: Dict[str, str] = {}
        try:
            out = subprocess.run(
                [sys.executable, "-m", "pip", "config", "list"],
                capture_output=True, text=True, check=False,
            ).stdout
        except OSError:
            out = ""
        for line in out.splitlines():
            m = re.match(r"^(?:global|download|install|index)\.([\w-]+)='(.*)'$", line.strip())
            if m and m.group(1) in ("cert", "client-cert", "proxy", "trusted-host", "timeout", "retries"):
                carried["PIP_" + m.group(1).upper().replace("-", "_")] = m.group(2)
        env = dict(os.environ)
        for key in list(env):
            if key in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_NO_INDEX",
                       "PIP_REQUIRE_VIRTUALENV", "PIP_CONSTRAINT", "PIP_REQUIREMENT"):
                del env[key]
        for key, value in carried.items():
            env.setdefault(key, value)
        env["PIP_CONFIG_FILE"] = os.devnull
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        _PIP_ENV = env
    return _PIP_ENV


# Runs in a pip subprocess: uses pip's own session (configuration, TLS, retries)
# to fetch the index's project page and to download files.
_PIP_HELPER = r'''
import hashlib, json, sys, concurrent.futures
from pip._internal.commands import create_command
from pip._internal.index.collector import LinkCollector, parse_links
from pip._internal.models.link import Link

req = json.load(sys.stdin)
cmd = create_command("download")
opts, _ = cmd.parse_args(["--index-url", req["index_url"], "placeholder"])
session = cmd._build_session(opts)
out = {}
if req["mode"] == "project":
    collector = LinkCollector.create(session, opts)
    for name in req["names"]:
        files = []
        found = False
        for url in collector.search_scope.get_index_urls_locations(name):
            content = collector.fetch_response(Link(url))
            if content is None:
                continue
            found = True
            if "json" in content.content_type:
                data = json.loads(content.content)
                for f in data.get("files", []):
                    files.append({
                        "filename": f["filename"], "url": f["url"],
                        "sha256": f.get("hashes", {}).get("sha256"),
                        "requires_python": f.get("requires-python"),
                        "yanked": f.get("yanked") or False,
                        "upload_time": f.get("upload-time"),
                        "core_metadata": bool(f.get("core-metadata") or f.get("data-dist-info-metadata")),
                    })
            else:
                for link in parse_links(content):
                    files.append({
                        "filename": link.filename, "url": link.url_without_fragment,
                        "sha256": link.hash if link.hash_name == "sha256" else None,
                        "requires_python": link.requires_python,
                        "yanked": (link.yanked_reason or True) if link.is_yanked else False,
                        "upload_time": None,
                        "core_metadata": link.metadata_file_data is not None,
                    })
        out[name] = files if found else None
elif req["mode"] == "ziplist":
    # The member names of remote wheels, read from the zip central directory with HTTP
    # range requests (what pip's lazy-wheel support does): a Django wheel is 8 MB, its
    # directory a few kB. Returns {url: [names]}; a server without ranges sends it whole.
    import io, struct, zipfile

    def names_of(url):
        resp = session.get(url, headers={"Range": "bytes=-65536", "Accept-Encoding": "identity"}, timeout=120)
        resp.raise_for_status()
        if resp.status_code == 200:
            return zipfile.ZipFile(io.BytesIO(resp.content)).namelist()
        total = int(resp.headers["Content-Range"].rsplit("/", 1)[1])
        buf = resp.content
        start = total - len(buf)
        eocd = buf.rfind(b"PK\x05\x06")
        if eocd < 0:
            raise SystemExit("no end of central directory in " + url)
        cd_size, cd_offset = struct.unpack("<II", buf[eocd + 12: eocd + 20])
        if cd_offset == 0xFFFFFFFF:
            raise SystemExit("zip64 wheel not supported: " + url)
        if cd_offset < start:
            more = session.get(url, headers={"Range": "bytes=%d-%d" % (cd_offset, start - 1),
                                             "Accept-Encoding": "identity"}, timeout=120)
            more.raise_for_status()
            buf = more.content + buf
            start = cd_offset
        cd = buf[cd_offset - start: cd_offset - start + cd_size]
        names, pos = [], 0
        while pos + 46 <= len(cd) and cd[pos:pos + 4] == b"PK\x01\x02":
            flags = struct.unpack("<H", cd[pos + 8: pos + 10])[0]
            n, e, c = struct.unpack("<HHH", cd[pos + 28: pos + 34])
            raw = cd[pos + 46: pos + 46 + n]
            names.append(raw.decode("utf-8" if flags & 0x800 else "cp437"))
            pos += 46 + n + e + c
        return names

    with concurrent.futures.ThreadPoolExecutor(req.get("workers", 3)) as pool:
        out = dict(zip(req["urls"], pool.map(names_of, req["urls"])))
elif req["mode"] == "download":
    def fetch(item):
        url, sha, dest = item
        resp = session.get(url, timeout=120)
        resp.raise_for_status()
        body = resp.content
        if sha and hashlib.sha256(body).hexdigest() != sha:
            raise SystemExit("hash mismatch for " + url)
        tmp = dest + ".part"
        with open(tmp, "wb") as fh:
            fh.write(body)
        import os
        os.replace(tmp, dest)
        return dest
    with concurrent.futures.ThreadPoolExecutor(req.get("workers", 3)) as pool:
        out = {"done": list(pool.map(fetch, req["items"]))}
json.dump(out, sys.stdout)
'''


def pip_helper(request: Dict[str, Any]) -> Any:
    proc = subprocess.run(
        [sys.executable, "-c", _PIP_HELPER],
        input=json.dumps(request), capture_output=True, text=True, env=pip_env(), check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError("pip helper failed: " + proc.stderr[-2000:])
    return json.loads(proc.stdout)


def pip_index_versions(name: str, index_url: str) -> List[str]:
    """``pip index versions --pre NAME`` -- pip's own list of the versions it would consider."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "--pre", "--index-url", index_url,
         "--ignore-requires-python", name],
        capture_output=True, text=True, env=pip_env(), check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("Available versions:"):
            return [v.strip() for v in line.split(":", 1)[1].split(",") if v.strip()]
    return []


def version_of_file(project: str, filename: str) -> Optional[str]:
    """The version a distribution file name carries (wheel or sdist), or None."""
    base = filename
    if base.endswith(".whl"):
        parts = base[:-4].split("-")
        return parts[1] if len(parts) >= 5 else None
    for suffix in (".tar.gz", ".tgz", ".tar.bz2", ".zip"):
        if base.endswith(suffix):
            stem = base[: -len(suffix)]
            break
    else:
        return None
    want = canonicalize_name(project)
    # The project part may itself contain '-' ("channels-redis-2.0.0").
    pieces = stem.split("-")
    for cut in range(1, len(pieces)):
        if canonicalize_name("-".join(pieces[:cut])) == want:
            return "-".join(pieces[cut:])
    return None


def file_kind(filename: str) -> Optional[str]:
    if filename.endswith(".whl"):
        return "wheel"
    if filename.endswith((".tar.gz", ".tgz", ".tar.bz2", ".zip")):
        return "sdist"
    return None


def releases_from_files(project: str, files: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """Group the index's files by (normalized) version."""
    rel: Dict[str, Dict[str, Any]] = {}
    for f in files:
        kind = file_kind(f["filename"])
        if kind is None:
            continue  # .egg, .exe, .msi, ...
        raw = version_of_file(project, f["filename"])
        if raw is None:
            continue
        try:
            ver = str(Version(raw))
        except InvalidVersion:
            continue
        entry = rel.setdefault(ver, {"files": []})
        entry["files"].append(dict(f, kind=kind))
    for ver, entry in rel.items():
        files_ = sorted(entry["files"], key=lambda f: f["filename"])
        entry["files"] = files_
        entry["yanked"] = all(f["yanked"] not in (False, None) for f in files_)
        reasons = sorted({f["yanked"] for f in files_ if isinstance(f["yanked"], str) and f["yanked"]})
        entry["yanked_reason"] = reasons[0] if (entry["yanked"] and reasons) else None
        times = sorted(f["upload_time"] for f in files_ if f.get("upload_time"))
        entry["uploaded"] = times[0][:10] if times else None
    return rel


def ordered(versions: Iterable[str]) -> List[str]:
    return sorted(versions, key=Version)


def download(files: List[Dict[str, Any]], cache: Path, index_url: str, workers: int) -> None:
    """Download (into ``cache/files``) those of ``files`` not cached yet."""
    target = cache / "files"
    target.mkdir(parents=True, exist_ok=True)
    items = []
    for f in files:
        dest = target / f["filename"]
        if dest.exists():
            if not f.get("sha256") or hashlib.sha256(dest.read_bytes()).hexdigest() == f["sha256"]:
                continue
        items.append([f["url"], f.get("sha256"), str(dest)])
    if items:
        log("downloading %d file(s)" % len(items))
        pip_helper({"mode": "download", "index_url": index_url, "items": items, "workers": workers})


def project_files(names: List[str], cache: Path, index_url: str) -> Dict[str, Optional[List[Dict[str, Any]]]]:
    """The index's file list for each project (fresh every run: releases and yanks change)."""
    res = pip_helper({"mode": "project", "index_url": index_url, "names": names})
    (cache / "index").mkdir(parents=True, exist_ok=True)
    for name, files in res.items():
        (cache / "index" / (canonicalize_name(name) + ".json")).write_text(json.dumps(files, indent=1))
    return res


def log(msg: str) -> None:
    print("[build_knowledge %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# archives
# --------------------------------------------------------------------------

def archive_members(path: Path) -> Dict[str, bytes]:
    """All regular files of an sdist/wheel archive, by member name (read, never extracted)."""
    out: Dict[str, bytes] = {}
    name = path.name
    if name.endswith((".zip", ".whl")):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    out[info.filename] = zf.read(info)
    else:
        with tarfile.open(path) as tf:
            for member in tf.getmembers():
                if member.isfile():
                    fh = tf.extractfile(member)
                    if fh is not None:
                        out[member.name] = fh.read()
    return out


def strip_top(members: Dict[str, bytes], is_wheel: bool) -> Tuple[str, Dict[str, bytes]]:
    """(top directory, members relative to it). Wheels have no top directory."""
    if is_wheel:
        return "", dict(members)
    tops = {m.split("/", 1)[0] for m in members if "/" in m}
    top = sorted(tops)[0] if len(tops) == 1 else ""
    if not top:
        return "", dict(members)
    return top, {m.split("/", 1)[1]: b for m, b in members.items() if m.startswith(top + "/")}


# --------------------------------------------------------------------------
# asgiref API extraction (ast only)
# --------------------------------------------------------------------------

PARAM_KINDS = {
    "posonly": "positional-only",
    "arg": "positional-or-keyword",
    "vararg": "var-positional",
    "kwonly": "keyword-only",
    "kwarg": "var-keyword",
}


def _unparse(node: Optional[ast.AST]) -> Optional[str]:
    if node is None:
        return None
    return ast.unparse(node)


def params_of(args: ast.arguments) -> List[Dict[str, Any]]:
    """Parameters in order: name, kind, default source text (normalised by ``ast.unparse``)."""
    out: List[Dict[str, Any]] = []
    positional = [("posonly", a) for a in args.posonlyargs] + [("arg", a) for a in args.args]
    defaults: List[Optional[ast.AST]] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for (kind, a), d in zip(positional, defaults):
        out.append(_param(a.arg, kind, d))
    if args.vararg is not None:
        out.append(_param(args.vararg.arg, "vararg", None))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append(_param(a.arg, "kwonly", d))
    if args.kwarg is not None:
        out.append(_param(args.kwarg.arg, "kwarg", None))
    return out


def _param(name: str, kind: str, default: Optional[ast.AST]) -> Dict[str, Any]:
    p: Dict[str, Any] = {"name": name, "kind": PARAM_KINDS[kind]}
    if default is not None:
        p["default"] = _unparse(default)
    return p


def _decorator_names(node: ast.AST) -> List[str]:
    names = []
    for d in getattr(node, "decorator_list", []):
        target = d.func if isinstance(d, ast.Call) else d
        names.append(_unparse(target) or "")
    return names


def _walk_block(body: List[ast.stmt], conditional: bool = False):
    """Yield (stmt, conditional) for a block, descending into if/try/with (not def/class)."""
    for stmt in body:
        if isinstance(stmt, ast.If):
            yield from _walk_block(stmt.body, True)
            yield from _walk_block(stmt.orelse, True)
        elif isinstance(stmt, ast.Try) or (hasattr(ast, "TryStar") and isinstance(stmt, getattr(ast, "TryStar"))):
            yield from _walk_block(stmt.body, True)
            for h in stmt.handlers:
                yield from _walk_block(h.body, True)
            yield from _walk_block(stmt.orelse, True)
            yield from _walk_block(stmt.finalbody, conditional)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            yield from _walk_block(stmt.body, conditional)
        else:
            yield stmt, conditional


def _target_names(target: ast.AST) -> List[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        out: List[str] = []
        for elt in target.elts:
            out.extend(_target_names(elt))
        return out
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _resolve_relative(module: str, is_package: bool, level: int, target: Optional[str]) -> str:
    if level == 0:
        return target or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    base = ".".join(parts)
    if target:
        return base + "." + target if base else target
    return base


def module_bindings(tree: ast.Module, module: str, is_package: bool) -> Dict[str, Dict[str, Any]]:
    """Top-level names of a module -> binding description (last unconditional binding wins)."""
    found: Dict[str, List[Tuple[bool, Dict[str, Any], Optional[ast.AST]]]] = {}

    def add(name: str, conditional: bool, binding: Dict[str, Any], node: Optional[ast.AST] = None) -> None:
        found.setdefault(name, []).append((conditional, binding, node))

    for stmt, cond in _walk_block(tree.body):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kind = "async-function" if isinstance(stmt, ast.AsyncFunctionDef) else "function"
            b: Dict[str, Any] = {"kind": kind}
            decos = [d for d in _decorator_names(stmt) if d not in ("overload", "typing.overload")]
            if decos:
                b["decorators"] = decos
            if "overload" in _decorator_names(stmt) or "typing.overload" in _decorator_names(stmt):
                continue  # @overload stubs are not the runtime binding
            add(stmt.name, cond, b, stmt)
        elif isinstance(stmt, ast.ClassDef):
            b = {"kind": "class"}
            bases = [_unparse(x) for x in stmt.bases]
            if bases:
                b["bases"] = bases
            add(stmt.name, cond, b, stmt)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                bound = alias.asname or alias.name.split(".")[0]
                target = alias.name if alias.asname else alias.name.split(".")[0]
                add(bound, cond, {"kind": "import", "from": target})
        elif isinstance(stmt, ast.ImportFrom):
            src = _resolve_relative(module, is_package, stmt.level or 0, stmt.module)
            for alias in stmt.names:
                if alias.name == "*":
                    add("*", cond, {"kind": "import", "from": src, "name": "*"})
                    continue
                add(alias.asname or alias.name, cond, {"kind": "import", "from": src, "name": alias.name})
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = stmt.value
            for t in targets:
                for name in _target_names(t):
                    b = {"kind": "variable"}
                    if isinstance(value, (ast.Name, ast.Attribute)) and isinstance(stmt, ast.Assign):
                        b["alias_of"] = _unparse(value)
                    add(name, cond, b, stmt)
    result: Dict[str, Dict[str, Any]] = {}
    for name, items in found.items():
        uncond = [it for it in items if not it[0]]
        chosen = uncond[-1] if uncond else items[0]
        b = dict(chosen[1])
        if not uncond:
            b["conditional"] = True
        b["_node"] = chosen[2]
        result[name] = b
    return result


def class_members(cls: ast.ClassDef) -> Dict[str, Dict[str, Any]]:
    members: Dict[str, Dict[str, Any]] = {}
    for stmt, cond in _walk_block(cls.body):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decos = _decorator_names(stmt)
            if "overload" in decos or "typing.overload" in decos:
                continue
            kind = "async-method" if isinstance(stmt, ast.AsyncFunctionDef) else "method"
            for special in ("staticmethod", "classmethod", "property", "cached_property",
                            "functools.cached_property"):
                if special in decos:
                    kind = special.split(".")[-1] if not isinstance(stmt, ast.AsyncFunctionDef) else "async-" + special.split(".")[-1]
                    break
            if any(d.endswith(".setter") or d.endswith(".deleter") for d in decos):
                continue  # property accessors re-bind the same member
            members[stmt.name] = {"kind": kind, "_node": stmt}
        elif isinstance(stmt, ast.ClassDef):
            members[stmt.name] = {"kind": "class", "_node": stmt}
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                for name in _target_names(t):
                    members[name] = {"kind": "attribute", "_node": None}
    # instance attributes assigned as self.<name> = ... in methods
    for stmt in cls.body:
        for fn, _ in _walk_block([stmt]):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            positional = list(fn.args.posonlyargs) + list(fn.args.args)
            if not positional or "staticmethod" in _decorator_names(fn):
                continue
            self_name = positional[0].arg
            for node in ast.walk(fn):
                targets: List[ast.AST] = []
                if isinstance(node, ast.Assign):
                    targets = list(node.targets)
                elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                    targets = [node.target]
                for t in targets:
                    if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                            and t.value.id == self_name and t.attr not in members):
                        members[t.attr] = {"kind": "instance-attribute", "_node": None}
    return members


_DEF_RE = re.compile(r"^(?P<indent>[ \t]*)(?:async[ \t]+)?def[ \t]+(?P<name>\w+)", re.M)
_CLASS_RE = re.compile(r"^(?P<indent>[ \t]*)class[ \t]+(?P<name>\w+)", re.M)


def regex_api(text: str) -> Tuple[Dict[str, str], Dict[str, Dict[str, str]]]:
    """Fallback for sources py3 ``ast`` cannot parse: top-level def/class and class methods."""
    top: Dict[str, str] = {}
    members: Dict[str, Dict[str, str]] = {}
    current: Optional[str] = None
    for line in text.splitlines():
        m = _CLASS_RE.match(line) or _DEF_RE.match(line)
        if not m:
            if line.strip() and not line[:1].isspace() and not line.lstrip().startswith(("#", "@")):
                current = None
            continue
        is_class = line.lstrip().startswith("class")
        indent = m.group("indent")
        if not indent:
            top[m.group("name")] = "class" if is_class else "function"
            current = m.group("name") if is_class else None
        elif current is not None and not is_class:
            members.setdefault(current, {})[m.group("name")] = "method"
    return top, members


def decode_source(raw: bytes) -> str:
    try:
        import tokenize
        enc, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        return raw.decode(enc)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return raw.decode("latin-1")


def extract_release_api(members: Dict[str, bytes]) -> Dict[str, Any]:
    """API snapshot of one release: {module: {...}} from the ``asgiref/`` sources."""
    modules: Dict[str, Any] = {}
    for path in sorted(members):
        if not (path.startswith("asgiref/") and path.endswith(".py")):
            continue
        parts = path[:-3].split("/")
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        module = ".".join(parts)
        raw = members[path]
        entry: Dict[str, Any] = {"file": path, "names": {}, "members": {}, "signatures": {}}
        try:
            tree = ast.parse(raw, filename=path)
        except (SyntaxError, ValueError):
            top, regex_members = regex_api(decode_source(raw))
            entry["unparsable"] = True
            for name, kind in top.items():
                entry["names"][name] = {"kind": kind, "source": "regex"}
            for cls, ms in regex_members.items():
                for mname, kind in ms.items():
                    entry["members"][cls + "." + mname] = {"kind": kind, "source": "regex"}
            modules[module] = entry
            continue
        bindings = module_bindings(tree, module, is_package)
        for name, b in bindings.items():
            node = b.pop("_node")
            entry["names"][name] = b
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                entry["signatures"][name] = params_of(node.args)
            elif isinstance(node, ast.ClassDef):
                ms = class_members(node)
                for mname, mb in ms.items():
                    mnode = mb.pop("_node")
                    entry["members"][name + "." + mname] = mb
                    if isinstance(mnode, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        entry["signatures"][name + "." + mname] = params_of(mnode.args)
                init = ms.get("__init__")
                if init is not None and (name + ".__init__") in entry["signatures"]:
                    entry["signatures"][name] = entry["signatures"][name + ".__init__"][1:]
        # aliases: sync_to_async = SyncToAsync -> the constructor signature of SyncToAsync
        for name, b in entry["names"].items():
            target = b.get("alias_of")
            if target and target in entry["signatures"] and name not in entry["signatures"]:
                entry["signatures"][name] = entry["signatures"][target]
        all_node = None
        for stmt, _ in _walk_block(tree.body):
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets):
                all_node = stmt.value
        if all_node is not None:
            try:
                entry["all"] = sorted(ast.literal_eval(all_node))
            except (ValueError, TypeError, SyntaxError):
                entry["all"] = None
        modules[module] = entry
    return modules


def changelog_of(members: Dict[str, bytes]) -> Optional[str]:
    for cand in ("CHANGELOG.txt", "CHANGELOG.rst", "CHANGELOG.md", "CHANGELOG"):
        if cand in members:
            return cand
    return None


# --------------------------------------------------------------------------
# interval compression
# --------------------------------------------------------------------------

def to_intervals(present: Iterable[str], releases: List[str]) -> List[List[str]]:
    """Inclusive [first, last] runs of consecutive releases (in ``releases`` order)."""
    have = set(present)
    runs: List[List[str]] = []
    start: Optional[str] = None
    prev: Optional[str] = None
    for r in releases:
        if r in have:
            if start is None:
                start = r
            prev = r
        elif start is not None:
            runs.append([start, prev])  # type: ignore[list-item]
            start = None
    if start is not None:
        runs.append([start, prev])  # type: ignore[list-item]
    return runs


def epochs(values: Dict[str, Any], releases: List[str], key: str) -> List[Dict[str, Any]]:
    """Group version -> value into epochs [{"versions": intervals, key: value}], by first version."""
    groups: Dict[str, List[str]] = {}
    first: Dict[str, int] = {}
    order = {r: i for i, r in enumerate(releases)}
    canon: Dict[str, Any] = {}
    for ver, val in values.items():
        c = json.dumps(val, sort_keys=True)
        groups.setdefault(c, []).append(ver)
        first[c] = min(first.get(c, 10 ** 9), order[ver])
        canon[c] = val
    out = []
    for c in sorted(groups, key=lambda c: first[c]):
        out.append({"versions": to_intervals(groups[c], releases), key: canon[c]})
    return out


# --------------------------------------------------------------------------
# JSON writer: stable, compact leaves, one key per line above them
# --------------------------------------------------------------------------

def _has_dict(obj: Any) -> bool:
    if isinstance(obj, dict):
        return True
    if isinstance(obj, list):
        return any(_has_dict(x) for x in obj)
    return False


def dumps(obj: Any, indent: int = 0) -> str:
    """JSON with one entry per line down to the leaves; dict-free values stay on one line."""
    if not isinstance(obj, (dict, list)) or not obj:
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, dict) and not any(_has_dict(v) for v in obj.values()) and indent > 0:
        return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))
    if isinstance(obj, list) and not _has_dict(obj):
        return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))
    pad = " " * (indent + 1)
    if isinstance(obj, dict):
        items = [pad + json.dumps(k, ensure_ascii=False) + ": " + dumps(v, indent + 1) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + dumps(v, indent + 1) for v in obj]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(obj) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        log("%s unchanged" % path)
        return
    path.write_text(text, encoding="utf-8")
    log("wrote %s (%d bytes)" % (path, len(text.encode())))


# --------------------------------------------------------------------------
# asgiref
# --------------------------------------------------------------------------

def pick_api_file(entry: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The sdist (it is what the evidence in behaviour.toml cites), else a wheel."""
    sdists = [f for f in entry["files"] if f["kind"] == "sdist"]
    wheels = [f for f in entry["files"] if f["kind"] == "wheel"]
    pref = sorted(sdists, key=lambda f: (not f["filename"].endswith(".tar.gz"), f["filename"]))
    return (pref or sorted(wheels, key=lambda f: f["filename"]) or [None])[0]


def pick_installed_file(entry: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The file pip installs for a release: a pure-Python wheel a Python 3 accepts, else the sdist.

    (Every recorded release has at most one such wheel; ``py3`` tags are preferred
    over ``py2.py3`` ones only to make the choice deterministic.)
    """
    wheels = sorted((f for f in entry["files"] if f["kind"] == "wheel"
                     and re.search(r"-(py3|py2\.py3|py3\.py2|cp3\d+)-", f["filename"])),
                    key=lambda f: ("-py3-" not in f["filename"], f["filename"]))
    if wheels:
        return wheels[0]
    return pick_api_file(entry)


def py_modules(members: Dict[str, bytes], package: str = "asgiref") -> List[str]:
    """Dotted modules of ``package`` among (top-stripped) archive members."""
    out = []
    for path in members:
        if path.startswith(package + "/") and path.endswith(".py"):
            parts = path[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append(".".join(parts))
    return sorted(out)


def build_asgiref(cache: Path, index_url: str, workers: int) -> Dict[str, Any]:
    files = project_files(["asgiref"], cache, index_url)["asgiref"]
    if files is None:
        raise SystemExit("the index does not serve asgiref")
    rel = releases_from_files("asgiref", files)
    releases = ordered(rel)
    cli = pip_index_versions("asgiref", index_url)
    cli_norm = {str(Version(v)) for v in cli}
    if cli and cli_norm - set(releases):
        log("WARNING: pip index versions lists versions with no usable file: %s" % sorted(cli_norm - set(releases)))
    log("asgiref: %d releases (%s .. %s)" % (len(releases), releases[0], releases[-1]))
    # The API is read from what pip installs (the wheel when there is one): the
    # 2.0.0 and 2.0.1 wheels still ship base_layer/inmemory/conformance, which their
    # sdists no longer contain. The sdist is read as well, to record such differences.
    chosen = {v: pick_installed_file(rel[v]) for v in releases}
    sdists = {v: pick_api_file(rel[v]) for v in releases}
    download([f for f in list(chosen.values()) + list(sdists.values()) if f], cache, index_url, workers)
    snapshots: Dict[str, Dict[str, Any]] = {}
    release_info: Dict[str, Any] = {}
    for v in releases:
        f = chosen[v]
        assert f is not None
        members = archive_members(cache / "files" / f["filename"])
        top, rel_members = strip_top(members, f["kind"] == "wheel")
        snapshots[v] = extract_release_api(rel_members)
        meta = read_metadata_from_members(rel_members, f["kind"] == "wheel")
        rp = (meta or {}).get("requires_python")
        if rp is None:
            rps = sorted({x["requires_python"] for x in rel[v]["files"] if x.get("requires_python")})
            rp = rps[0] if rps else None
        info: Dict[str, Any] = {
            "artefact": f["filename"],
            "requires_python": rp,
            "uploaded": rel[v]["uploaded"],
            "yanked": rel[v]["yanked"],
        }
        sd = sdists[v]
        if sd is not None and sd["filename"] != f["filename"]:
            info["sdist"] = sd["filename"]
            sd_top, sd_members = strip_top(archive_members(cache / "files" / sd["filename"]), sd["kind"] == "wheel")
            mine, theirs = set(py_modules(rel_members)), set(py_modules(sd_members))
            if mine - theirs:
                info["modules_not_in_sdist"] = sorted(mine - theirs)
            if theirs - mine:
                info["modules_only_in_sdist"] = sorted(theirs - mine)
            if changelog_of(sd_members):
                info["changelog"] = sd_top + "/" + changelog_of(sd_members)
        if changelog_of(rel_members):  # no asgiref file up to 3.13.0 ships one
            info["changelog"] = top + "/" + changelog_of(rel_members)
        if rel[v]["yanked_reason"]:
            info["yanked_reason"] = rel[v]["yanked_reason"]
        release_info[v] = info
    unparsable = sorted("%s@%s" % (m, v) for v in releases for m, e in snapshots[v].items() if e.get("unparsable"))
    if unparsable:
        log("NOTE: %d module(s) did not parse with this Python's ast (regex fallback used): %s"
            % (len(unparsable), ", ".join(unparsable[:20])))
    return assemble_api(releases, snapshots, release_info)


def assemble_api(releases: List[str], snapshots: Dict[str, Dict[str, Any]],
                 release_info: Dict[str, Any]) -> Dict[str, Any]:
    mod_present: Dict[str, List[str]] = {}
    mod_unparsable: Dict[str, List[str]] = {}
    mod_all: Dict[str, Dict[str, Any]] = {}
    name_bind: Dict[str, Dict[str, Any]] = {}
    member_bind: Dict[str, Dict[str, Any]] = {}
    sigs: Dict[str, Dict[str, Any]] = {}
    for v in releases:
        for module, entry in snapshots[v].items():
            mod_present.setdefault(module, []).append(v)
            if entry.get("unparsable"):
                mod_unparsable.setdefault(module, []).append(v)
            if "all" in entry:
                mod_all.setdefault(module, {})[v] = entry["all"]
            for name, b in entry["names"].items():
                name_bind.setdefault(module + ":" + name, {})[v] = b
            for qual, b in entry["members"].items():
                member_bind.setdefault(module + ":" + qual, {})[v] = b
            for qual, params in entry["signatures"].items():
                sigs.setdefault(module + ":" + qual, {})[v] = params
    modules = {}
    for module in sorted(mod_present):
        m: Dict[str, Any] = {"versions": to_intervals(mod_present[module], releases)}
        if module in mod_unparsable:
            m["unparsable"] = to_intervals(mod_unparsable[module], releases)
        if module in mod_all:
            m["all"] = epochs(mod_all[module], releases, "names")
        modules[module] = m

    def table(src: Dict[str, Dict[str, Any]], key: str) -> Dict[str, Any]:
        out = {}
        for k in sorted(src):
            out[k] = {"versions": to_intervals(src[k], releases), key: epochs(src[k], releases, "binding")}
        return out

    return {
        "schema": SCHEMA_VERSION,
        "generated_by": "scripts/build_knowledge.py",
        "package": "asgiref",
        "releases": releases,
        "release_info": {v: release_info[v] for v in releases},
        "modules": modules,
        "names": table(name_bind, "bindings"),
        "members": table(member_bind, "bindings"),
        "signatures": {k: epochs(sigs[k], releases, "params") for k in sorted(sigs)},
    }


# --------------------------------------------------------------------------
# metadata (ecosystem)
# --------------------------------------------------------------------------

def parse_core_metadata(text: str) -> Dict[str, Any]:
    msg = email.parser.Parser().parsestr(text, headersonly=True)
    return {
        "name": msg.get("Name"),
        "version": msg.get("Version"),
        "requires_dist": msg.get_all("Requires-Dist") or [],
        "requires_python": (msg.get("Requires-Python") or "").strip() or None,
        "metadata_version": msg.get("Metadata-Version"),
        "classifier": msg.get_all("Classifier") or [],
    }


def read_metadata_from_members(members: Dict[str, bytes], is_wheel: bool) -> Optional[Dict[str, Any]]:
    if is_wheel:
        for m in sorted(members):
            if m.count("/") == 1 and m.endswith(".dist-info/METADATA"):
                return parse_core_metadata(members[m].decode("utf-8", "replace"))
        return None
    if "PKG-INFO" in members:
        return parse_core_metadata(members["PKG-INFO"].decode("utf-8", "replace"))
    return None


def _literal_strings(node: ast.AST, env: Dict[str, ast.AST]) -> Optional[List[str]]:
    if isinstance(node, ast.Name) and node.id in env:
        return _literal_strings(env[node.id], env)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = _literal_strings(node.left, env), _literal_strings(node.right, env)
        return None if a is None or b is None else a + b
    try:
        val = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return None
    if isinstance(val, str):
        return [val]
    if isinstance(val, (list, tuple)) and all(isinstance(x, str) for x in val):
        return list(val)
    return None


def requires_from_setup_py(source: bytes) -> Optional[List[str]]:
    """install_requires of setup(...) read with ast (module-level names resolved); never run."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    env: Dict[str, ast.AST] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if isinstance(t, ast.Name):
                    env[t.id] = stmt.value
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fname = _unparse(node.func) or ""
            if fname.split(".")[-1] != "setup":
                continue
            for kw in node.keywords:
                if kw.arg == "install_requires":
                    return _literal_strings(kw.value, env)
            return []
    return None


def requires_from_setup_cfg(text: str) -> Optional[List[str]]:
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read_string(text)
    except configparser.Error:
        return None
    if not cp.has_option("options", "install_requires"):
        return None
    return [x.strip() for x in cp.get("options", "install_requires").splitlines() if x.strip()]


def requires_from_egg_info(text: str) -> List[str]:
    """``requires.txt``: unconditional lines first; ``[extra:marker]`` sections become markers."""
    out: List[str] = []
    section: Optional[str] = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section is None:
            out.append(line)
        else:
            extra, _, marker = section.partition(":")
            conds = []
            if extra:
                conds.append('extra == "%s"' % extra)
            if marker:
                conds.append("(%s)" % marker if extra else marker)
            out.append(line + "; " + " and ".join(conds))
    return out


def sdist_requirements(members: Dict[str, bytes]) -> Tuple[Optional[List[str]], Optional[str], Optional[str]]:
    """(requirements, requires_python, source) read statically from an sdist's files."""
    rp = None
    if "PKG-INFO" in members:
        meta = parse_core_metadata(members["PKG-INFO"].decode("utf-8", "replace"))
        rp = meta["requires_python"]
        if meta["requires_dist"]:
            return meta["requires_dist"], rp, "pkg-info"
    egg = sorted(m for m in members if m.count("/") <= 2 and m.endswith(".egg-info/requires.txt"))
    egg_dirs = sorted(m for m in members if m.count("/") <= 2 and m.endswith(".egg-info/PKG-INFO"))
    if egg:
        return requires_from_egg_info(members[egg[0]].decode("utf-8", "replace")), rp, "egg-info"
    if egg_dirs:
        # setuptools wrote an egg-info without requires.txt: no install_requires
        return [], rp, "egg-info"
    if "setup.cfg" in members:
        reqs = requires_from_setup_cfg(members["setup.cfg"].decode("utf-8", "replace"))
        if reqs is not None:
            return reqs, rp, "setup.cfg"
    if "setup.py" in members:
        src = members["setup.py"]
        reqs = requires_from_setup_py(src)
        if reqs is not None:
            if rp is None:
                m = re.search(rb"python_requires\s*=\s*['\"]([^'\"]+)['\"]", src)
                rp = m.group(1).decode() if m else None
            return reqs, rp, "setup.py"
    if "PKG-INFO" in members:
        return [], rp, "pkg-info"
    return None, rp, None


def summarize_requirements(reqs: List[str]) -> Dict[str, Any]:
    """requires / markers / extras for the RELEVANT names."""
    requires: Dict[str, Optional[str]] = {k: None for k in RELEVANT}
    markers: Dict[str, Any] = {}
    extras: Dict[str, Dict[str, str]] = {}
    raw: Dict[str, List[str]] = {}
    for line in reqs:
        try:
            r = Requirement(line)
        except InvalidRequirement:
            # legacy forms such as "asgiref (>=1.0)" parse fine; anything else is kept raw
            if any(k in line.lower() for k in RELEVANT):
                raw.setdefault("unparsed", []).append(line)
            continue
        name = canonicalize_name(r.name)
        if name not in RELEVANT:
            continue
        spec = str(r.specifier) if str(r.specifier) else ""
        marker = str(r.marker) if r.marker else None
        if marker and "extra" in marker:
            m = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
            extra = m.group(1) if m else marker
            extras.setdefault(extra, {})[name] = spec
            continue
        if marker:
            markers.setdefault(name, []).append({"specifier": spec, "marker": marker})
            if requires[name] is None:
                requires[name] = spec
        else:
            if requires[name] is not None and name not in markers:
                requires[name] = str(SpecifierSet(requires[name] + "," + spec if requires[name] else spec))
            else:
                requires[name] = spec
    out: Dict[str, Any] = {"requires": requires}
    if markers:
        out["markers"] = markers
    if extras:
        out["extras"] = {k: extras[k] for k in sorted(extras)}
    if raw:
        out["unparsed"] = raw["unparsed"]
    return out


def cli_metadata(name: str, version: str, cache: Path, index_url: str) -> Optional[Dict[str, Any]]:
    """Wheel core metadata via ``pip install --dry-run --report`` (PEP 658 when served)."""
    rdir = cache / "reports"
    rdir.mkdir(parents=True, exist_ok=True)
    path = rdir / ("%s-%s.json" % (canonicalize_name(name), version))
    miss = rdir / ("%s-%s.nowheel" % (canonicalize_name(name), version))
    if miss.exists():
        return None
    if not path.exists():
        with tempfile.TemporaryDirectory() as td:
            report = Path(td) / "report.json"
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed",
                 "--only-binary", ":all:", "--ignore-requires-python", "--quiet", "--no-cache-dir",
                 "--index-url", index_url, "--report", str(report), "%s==%s" % (name, version)],
                capture_output=True, text=True, env=pip_env(), check=False,
            )
            if proc.returncode != 0 or not report.exists():
                if "No matching distribution" in proc.stderr or "Could not find a version" in proc.stderr:
                    miss.write_text(proc.stderr[-1000:])
                    return None
                raise RuntimeError("pip failed for %s==%s: %s" % (name, version, proc.stderr[-1500:]))
            data = json.loads(report.read_text())
            inst = data["install"][0]
            slim = {"metadata": {k: inst["metadata"].get(k) for k in ("name", "version", "requires_dist", "requires_python", "metadata_version", "classifier")},
                    "url": inst["download_info"]["url"]}
            path.write_text(json.dumps(slim, indent=1, sort_keys=True))
    return json.loads(path.read_text())


def release_record(name: str, version: str, entry: Dict[str, Any], cache: Path,
                   index_url: str) -> Dict[str, Any]:
    has_wheel = any(f["kind"] == "wheel" for f in entry["files"])
    meta = None
    source = None
    artefact = None
    reqs: Optional[List[str]] = None
    rp = None
    if has_wheel:
        rep = cli_metadata(name, version, cache, index_url)
        if rep is not None:
            if str(Version(rep["metadata"]["version"])) != version:
                raise RuntimeError("pip answered %s for %s==%s" % (rep["metadata"]["version"], name, version))
            reqs = rep["metadata"].get("requires_dist") or []
            rp = rep["metadata"].get("requires_python")
            source = "wheel-metadata"
            artefact = rep["url"].rsplit("/", 1)[-1]
        else:
            # e.g. a py2-only wheel pip will not pick on py3: read METADATA from the file itself
            wheel = sorted((f for f in entry["files"] if f["kind"] == "wheel"), key=lambda f: f["filename"])[0]
            download([wheel], cache, index_url, 1)
            meta = read_metadata_from_members(archive_members(cache / "files" / wheel["filename"]), True)
            if meta is not None:
                reqs, rp, source, artefact = meta["requires_dist"], meta["requires_python"], "wheel-metadata", wheel["filename"]
    if reqs is None:
        sdists = sorted((f for f in entry["files"] if f["kind"] == "sdist"),
                        key=lambda f: (not f["filename"].endswith(".tar.gz"), f["filename"]))
        if sdists:
            sd = sdists[0]
            download([sd], cache, index_url, 1)
            _, members = strip_top(archive_members(cache / "files" / sd["filename"]), False)
            reqs, rp, source = sdist_requirements(members)
            artefact = sd["filename"]
    rec: Dict[str, Any] = {}
    if reqs is None:
        rec["requires"] = {k: None for k in RELEVANT}
        rec["source"] = "unreadable"
    else:
        rec.update(summarize_requirements(reqs))
        rec["source"] = source
    if rp is None:
        idx = sorted({f["requires_python"] for f in entry["files"] if f.get("requires_python")})
        rp = idx[0] if idx else None
    rec["requires_python"] = rp
    rec["yanked"] = entry["yanked"]
    if entry.get("yanked_reason"):
        rec["yanked_reason"] = entry["yanked_reason"]
    rec["uploaded"] = entry["uploaded"]
    rec["artefact"] = artefact
    return rec


def build_ecosystem(cache: Path, index_url: str, workers: int, packages: Optional[List[str]] = None) -> Dict[str, Any]:
    names = packages or list(ECOSYSTEM)
    listing = project_files(names + [n for n in NOT_ON_INDEX if not packages], cache, index_url)
    out_packages: Dict[str, Any] = {}
    notes: Dict[str, Any] = {}
    jobs = []
    rels: Dict[str, Dict[str, Any]] = {}
    for name in names:
        files = listing[name]
        if files is None:
            notes[canonicalize_name(name)] = {"served": False}
            continue
        rel = releases_from_files(name, files)
        minv = ECOSYSTEM.get(name, {}).get("min_version")
        versions = [v for v in ordered(rel) if minv is None or Version(v) >= Version(minv)]
        rels[name] = {v: rel[v] for v in versions}
        cli = {str(Version(v)) for v in pip_index_versions(name, index_url)}
        missing = sorted(cli - set(rel), key=Version)
        note: Dict[str, Any] = {"why": ECOSYSTEM.get(name, {}).get("why", ""), "releases": len(versions)}
        if minv:
            note["min_version"] = minv
        if missing:
            note["listed_without_usable_file"] = missing
        notes[canonicalize_name(name)] = note
        for v in versions:
            jobs.append((name, v))
    log("ecosystem: %d releases of %d packages" % (len(jobs), len(rels)))
    results: Dict[Tuple[str, str], Dict[str, Any]] = {}
    done = 0
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futs = {pool.submit(release_record, n, v, rels[n][v], cache, index_url): (n, v) for n, v in jobs}
        for fut in concurrent.futures.as_completed(futs):
            results[futs[fut]] = fut.result()
            done += 1
            if done % 50 == 0:
                log("  %d/%d" % (done, len(jobs)))
    for name in names:
        if name not in rels:
            continue
        cname = canonicalize_name(name)
        out_packages[cname] = {v: results[(name, v)] for v in ordered(rels[name])}
        depends = [v for v, r in out_packages[cname].items() if r["requires"]["asgiref"] is not None
                   or (r.get("markers") or {}).get("asgiref")]
        notes[cname]["releases_requiring_asgiref"] = len(depends)
    for n in NOT_ON_INDEX:
        if n in listing and listing[n] is None:
            notes[canonicalize_name(n)] = {"served": False, "why": "Named in folklore; the index serves no such project."}
    return {
        "schema": SCHEMA_VERSION,
        "generated_by": "scripts/build_knowledge.py",
        "relevant_requirements": list(RELEVANT),
        "package_notes": {k: notes[k] for k in sorted(notes)},
        "packages": {k: out_packages[k] for k in sorted(out_packages)},
    }


# --------------------------------------------------------------------------
# release facts: Python classifiers, top-level modules, asgiref 1 imports, security fixes
# --------------------------------------------------------------------------

FACTS_FILE = "release_facts.json"

#: Packages whose changelog (from their sdists) is searched for security fixes.
CHANGELOG_PACKAGES = ("asgiref", "channels", "daphne", "channels-redis")

#: Imports that only asgiref 1.x (and the 2.0.x wheels) can satisfy.
ASGIREF_1_IMPORT = re.compile(r"^\s*(?:from\s+asgiref\.(?:base_layer|inmemory|conformance)\s+import\b"
                              r"|import\s+asgiref\.(?:base_layer|inmemory|conformance)\b)")

_PY3_CLASSIFIER = re.compile(r"^Programming Language :: Python :: 3\.(\d+)\s*$")
_CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b")


def python_minors(classifiers: Iterable[str]) -> str:
    """``"3.8 3.9 3.10"``: the ``Python :: 3.X`` classifiers, in order ("" when none)."""
    minors = {int(m.group(1)) for c in classifiers if (m := _PY3_CLASSIFIER.match(c.strip()))}
    return " ".join("3.%d" % n for n in sorted(minors))


def top_level_of_wheel(names: Iterable[str]) -> List[str]:
    """Top-level import names a wheel installs, from its member list (what RECORD lists).

    A directory without its own ``__init__.py`` is a namespace portion that other
    distributions share (``opentelemetry/``, daphne's ``twisted/plugins/``): it is
    written ``~name``.
    """
    mods = set()
    packages = set()
    for name in names:
        if name.endswith("/"):
            continue
        parts = name.split("/")
        if parts[0].endswith(".dist-info"):
            continue
        if parts[0].endswith(".data"):
            if len(parts) > 2 and parts[1] in ("purelib", "platlib"):
                parts = parts[2:]
            else:
                continue  # scripts, headers, data files
        leaf = parts[-1]
        if not leaf.endswith((".py", ".so", ".pyd")):
            continue
        head = parts[0] if len(parts) > 1 else leaf.split(".")[0]
        if head != "__pycache__" and head.isidentifier():
            mods.add(head)
            if len(parts) == 1 or (len(parts) == 2 and leaf == "__init__.py"):
                packages.add(head)
    return sorted(m if m in packages else "~" + m for m in mods)


def top_level_of_sdist(members: Dict[str, bytes]) -> Tuple[List[str], str]:
    """(top-level names, how) for an sdist: setuptools' ``top_level.txt``, else ``SOURCES.txt``."""
    tl = sorted(m for m in members if m.count("/") == 1 and m.endswith(".egg-info/top_level.txt"))
    if tl:
        names = [x.strip() for x in members[tl[0]].decode("utf-8", "replace").splitlines() if x.strip()]
        if any(n.isidentifier() for n in names):
            return sorted(set(n for n in names if n.isidentifier())), "top_level.txt"
    src = sorted(m for m in members if m.count("/") == 1 and m.endswith(".egg-info/SOURCES.txt"))
    if src:
        listed = [x.strip() for x in members[src[0]].decode("utf-8", "replace").splitlines()]
        return ([m.lstrip("~") for m in top_level_of_wheel(x for x in listed if "/" in x
                 and not x.startswith(("tests/", "docs/", "examples/")))], "SOURCES.txt")
    return [], "unknown"


def wheel_listing(files: List[Dict[str, Any]], cache: Path, index_url: str, workers: int) -> Dict[str, List[str]]:
    """Member names of each wheel (cached in ``cache/listings``); downloaded wheels are read locally."""
    ldir = cache / "listings"
    ldir.mkdir(parents=True, exist_ok=True)
    out: Dict[str, List[str]] = {}
    remote = []
    for f in files:
        path = ldir / (f["filename"] + ".json")
        local = cache / "files" / f["filename"]
        if path.exists():
            out[f["filename"]] = json.loads(path.read_text())
        elif local.exists():
            with zipfile.ZipFile(local) as zf:
                out[f["filename"]] = zf.namelist()
        else:
            remote.append(f)
    for i in range(0, len(remote), 200):
        chunk = remote[i: i + 200]
        log("reading the file list of %d wheel(s) (range requests)" % len(chunk))
        res = pip_helper({"mode": "ziplist", "index_url": index_url, "urls": [f["url"] for f in chunk],
                          "workers": workers})
        for f in chunk:
            names = res[f["url"]]
            (ldir / (f["filename"] + ".json")).write_text(json.dumps(names))
            out[f["filename"]] = names
    return out


def installed_file(name: str, version: str, entry: Dict[str, Any], cache: Path) -> Optional[Dict[str, Any]]:
    """The file pip installs: the wheel ``pip install --dry-run`` chose (cached report), else
    a Python 3 wheel, else the sdist."""
    report = cache / "reports" / ("%s-%s.json" % (canonicalize_name(name), version))
    if report.exists():
        fname = json.loads(report.read_text())["url"].rsplit("/", 1)[-1]
        for f in entry["files"]:
            if f["filename"] == fname:
                return f
    return pick_installed_file(entry)


def classifiers_of(name: str, version: str, f: Dict[str, Any], cache: Path, index_url: str) -> List[str]:
    """The release's classifiers: from pip's report (wheel METADATA), else the file's own metadata."""
    report = cache / "reports" / ("%s-%s.json" % (canonicalize_name(name), version))
    if report.exists():
        rep = json.loads(report.read_text())
        if "classifier" in rep["metadata"] and rep["url"].rsplit("/", 1)[-1] == f["filename"]:
            return rep["metadata"]["classifier"] or []
    download([f], cache, index_url, 1)
    _, members = strip_top(archive_members(cache / "files" / f["filename"]), f["kind"] == "wheel")
    meta = read_metadata_from_members(members, f["kind"] == "wheel")
    if meta is None and f["kind"] == "sdist":
        egg = sorted(m for m in members if m.count("/") == 1 and m.endswith(".egg-info/PKG-INFO"))
        if egg:
            meta = parse_core_metadata(members[egg[0]].decode("utf-8", "replace"))
    return (meta or {}).get("classifier") or []


def runs(values: Dict[str, str], releases: List[str]) -> List[List[str]]:
    """``[[first, last, value], ...]``: consecutive releases sharing a value, in release order."""
    out: List[List[str]] = []
    for r in releases:
        if r not in values:
            continue
        if out and out[-1][2] == values[r] and releases.index(out[-1][1]) == releases.index(r) - 1:
            out[-1][1] = r
        else:
            out.append([r, r, values[r]])
    return out


def parse_changelog(text: str) -> List[Tuple[str, Optional[str], int, str]]:
    """``(version, date, line, bullet text)`` for each ``* `` bullet under a ``version (date)`` heading."""
    lines = text.splitlines()
    out: List[Tuple[str, Optional[str], int, str]] = []
    version: Optional[str] = None
    date: Optional[str] = None
    bullet: Optional[List[Any]] = None

    def flush() -> None:
        if bullet is not None and version is not None:
            out.append((version, date, bullet[0], " ".join(bullet[1]).strip()))

    for i, line in enumerate(lines):
        underline = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and re.match(r"^[-=~]{3,}\s*$", underline) and not line.startswith(" "):
            flush()
            bullet = None
            m = re.match(r"^(\S+)\s*(?:\((\d{4}-\d{2}-\d{2})\))?", line.strip())
            version, date = (m.group(1), m.group(2)) if m else (None, None)
            continue
        if line.startswith("* "):
            flush()
            bullet = [i + 1, [line[2:].strip()]]
        elif bullet is not None and line.startswith("  ") and line.strip():
            bullet[1].append(line.strip())
        elif bullet is not None and not line.strip():
            bullet[1].append("")  # paragraph break inside a bullet
        elif bullet is not None:
            flush()
            bullet = None
    flush()
    return out


def security_fixes_from(text: str, where: str) -> List[Dict[str, Any]]:
    """Changelog bullets naming a CVE or a vulnerability, one record each."""
    lines = text.splitlines()
    fixes = []
    for version, date, line, body in parse_changelog(text):
        if not (_CVE.search(body) or re.search(r"vulnerab", body, re.I)):
            continue
        flat = re.sub(r"\s+", " ", body).strip()
        m = re.match(r"(.+?\.)(?:\s|$)", flat)
        summary = m.group(1) if m else flat
        fix: Dict[str, Any] = {"version": version, "cve": sorted(set(_CVE.findall(body))),
                               "summary": summary, "evidence": "%s:L%d  %s" % (where, line, lines[line - 1].strip())}
        if date:
            fix["date"] = date
        fixes.append(fix)
    return fixes


def source_changelog(repo: str) -> Optional[Tuple[str, str]]:
    """``(where, text)`` of ``CHANGELOG.txt``/``.rst``/``.md`` at HEAD of a local clone of a package's
    source repository (``where`` = ``owner/name@commit:CHANGELOG.txt``), or None."""
    def git(*args: str) -> Optional[str]:
        proc = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True)
        return proc.stdout if proc.returncode == 0 else None

    commit = (git("rev-parse", "HEAD") or "").strip()
    if not commit:
        return None
    url = (git("remote", "get-url", "origin") or "").strip()
    m = re.search(r"github\.com[:/]([^/]+/[^/.]+)", url)
    label = m.group(1) if m else Path(repo).resolve().parent.name.replace("+", "/")
    for cand in ("CHANGELOG.txt", "CHANGELOG.rst", "CHANGELOG.md", "CHANGELOG"):
        text = git("show", "%s:%s" % (commit, cand))
        if text:
            return "%s@%s:%s" % (label, commit[:12], cand), text
    return None


def build_security(cache: Path, index_url: str, entries: Dict[str, Dict[str, Any]],
                   changelog_repos: Dict[str, str], workers: int = 3) -> Dict[str, Any]:
    """Security fixes each CHANGELOG_PACKAGES changelog names, by canonical name.

    The changelog is the one the newest sdist ships; when no sdist ships one (asgiref and
    channels do not), the ``CHANGELOG`` at HEAD of the package's source repository given with
    ``--changelog-repo NAME=GITDIR``, and only fixes of versions that were released count.
    """
    security: Dict[str, Any] = {}
    for name in CHANGELOG_PACKAGES:
        rels = entries.get(name, {})
        found = None
        sdists = [sd for sd in (pick_api_file(rels[v]) for v in reversed(ordered(rels)))
                  if sd is not None and sd["kind"] == "sdist"]
        for i, sd in enumerate(sdists):
            if i <= 1:  # the newest first; if it ships no changelog, the others together
                download(sdists[:1] if i == 0 else sdists, cache, index_url, workers)
            top, members = strip_top(archive_members(cache / "files" / sd["filename"]), False)
            cl = changelog_of(members)
            if cl:
                found = (top + "/" + cl, decode_source(members[cl]))
                break
        cname = canonicalize_name(name)
        repo = changelog_repos.get(cname) or changelog_repos.get(name)
        if found is None and repo:
            found = source_changelog(repo)
            if found is not None:
                log("%s: no sdist ships a changelog; read %s" % (name, found[0]))
        if found is None:
            security[cname] = {"changelog": None, "fixes": []}
        else:
            released = {str(Version(v)) for v in rels}
            fixes = [f for f in security_fixes_from(found[1], found[0])
                     if not released or _released(f["version"], released)]
            security[cname] = {"changelog": found[0], "fixes": fixes}
    return security


def _released(version: str, released: set) -> bool:
    try:
        return str(Version(version)) in released
    except InvalidVersion:
        return False


def build_facts(cache: Path, index_url: str, workers: int, out: Optional[Path] = None,
                packages: Optional[List[str]] = None,
                changelog_repos: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    names = packages or list(ECOSYSTEM) + ["asgiref"]
    listing = project_files(names, cache, index_url)
    pythons: Dict[str, Any] = {}
    top_level: Dict[str, Any] = {}
    top_level_how: Dict[str, Any] = {}
    old_imports: Dict[str, Any] = {}
    security: Dict[str, Any] = {}
    plan: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for name in names:
        files = listing.get(name)
        if files is None:
            continue
        rel = releases_from_files(name, files)
        minv = ECOSYSTEM.get(name, {}).get("min_version")
        versions = [v for v in ordered(rel) if minv is None or Version(v) >= Version(minv)]
        plan[name] = {v: {"entry": rel[v], "file": installed_file(name, v, rel[v], cache)} for v in versions}
    wheels = [p["file"] for rels in plan.values() for p in rels.values() if p["file"] and p["file"]["kind"] == "wheel"]
    listings = wheel_listing(wheels, cache, index_url, workers)
    for name, rels in plan.items():
        cname = canonicalize_name(name)
        versions = list(rels)
        py_values: Dict[str, str] = {}
        tl_values: Dict[str, str] = {}
        how: Dict[str, str] = {}
        for v, p in rels.items():
            f = p["file"]
            if f is None:
                continue
            py_values[v] = python_minors(classifiers_of(name, v, f, cache, index_url))
            if f["kind"] == "wheel":
                tl_values[v] = " ".join(top_level_of_wheel(listings[f["filename"]]))
                how[v] = "wheel"
            else:
                download([f], cache, index_url, 1)
                _, members = strip_top(archive_members(cache / "files" / f["filename"]), False)
                mods, how[v] = top_level_of_sdist(members)
                tl_values[v] = " ".join(mods)
        pythons[cname] = runs(py_values, versions)
        top_level[cname] = runs(tl_values, versions)
        not_wheel = {v: h for v, h in how.items() if h != "wheel"}
        if not_wheel:
            top_level_how[cname] = runs(not_wheel, versions)
    # Top-level packages more than one recorded distribution installs: the dotted modules
    # each release puts under them (what an import finds after one overwrote the other).
    owners: Dict[str, List[str]] = {}
    for cname, rows in top_level.items():
        for m in sorted({x for _, _, value in rows for x in value.split() if not x.startswith("~")}):
            owners.setdefault(m, []).append(cname)
    shared: Dict[str, Any] = {}
    by_cname = {canonicalize_name(n): n for n in plan}
    for module, pkgs in sorted(owners.items()):
        if len(pkgs) < 2:
            continue
        shared[module] = {}
        for cname in pkgs:
            name = by_cname[cname]
            values: Dict[str, str] = {}
            for v, p in plan[name].items():
                f = p["file"]
                if f is None:
                    continue
                if f["kind"] == "wheel":
                    paths = listings[f["filename"]]
                else:
                    paths = list(strip_top(archive_members(cache / "files" / f["filename"]), False)[1])
                dotted = set()
                for path in paths:
                    if path.startswith(module + "/") and path.endswith(".py"):
                        parts = path[:-3].split("/")
                        if parts[-1] == "__init__":
                            parts = parts[:-1]
                        if all(x.isidentifier() for x in parts):
                            dotted.add(".".join(parts))
                values[v] = " ".join(sorted(dotted))
            shared[module][cname] = runs(values, list(plan[name]))
    # The last release of each package that requires asgiref 1.x: where it imports asgiref 1 modules.
    eco = json.loads(((out or data_dir()) / ECOSYSTEM_FILE_NAME).read_text(encoding="utf-8"))["packages"]
    for name, rels in plan.items():
        cname = canonicalize_name(name)
        recs = eco.get(cname) or {}
        old = [v for v in rels if (recs.get(v) or {}).get("requires", {}).get("asgiref")
               and not SpecifierSet(recs[v]["requires"]["asgiref"]).contains("2.0.0", prereleases=True)
               and SpecifierSet(recs[v]["requires"]["asgiref"]).contains("1.1.2", prereleases=True)]
        if not old:
            continue
        v = old[-1]
        f = rels[v]["file"]
        download([f], cache, index_url, 1)
        _, members = strip_top(archive_members(cache / "files" / f["filename"]), f["kind"] == "wheel")
        where = f["filename"] if f["kind"] == "wheel" else strip_top(archive_members(cache / "files" / f["filename"]), False)[0]
        hits = []
        for path in sorted(members):
            if not path.endswith(".py"):
                continue
            for n, line in enumerate(decode_source(members[path]).splitlines(), 1):
                if ASGIREF_1_IMPORT.match(line):
                    hits.append("%s/%s:L%d  %s" % (where, path, n, line.strip()))
        old_imports[cname] = {"version": v, "requires": "asgiref" + recs[v]["requires"]["asgiref"], "imports": hits}
    # Security fixes named in changelogs shipped in sdists (the newest sdist that has one).
    security = build_security(cache, index_url, {n: {v: p["entry"] for v, p in rels.items()} for n, rels in plan.items()},
                              changelog_repos or {}, workers)
    return {
        "schema": SCHEMA_VERSION,
        "generated_by": "scripts/build_knowledge.py",
        "pythons": {k: pythons[k] for k in sorted(pythons)},
        "top_level": {k: top_level[k] for k in sorted(top_level)},
        "top_level_from_sdist": {k: top_level_how[k] for k in sorted(top_level_how)},
        "shared_modules": shared,
        "asgiref_1_imports": {k: old_imports[k] for k in sorted(old_imports)},
        "security": {k: security[k] for k in sorted(security)},
    }


ECOSYSTEM_FILE_NAME = "ecosystem.json"


# --------------------------------------------------------------------------
# behaviour.toml evidence check
# --------------------------------------------------------------------------

EVIDENCE_RE = re.compile(r"^(?P<file>[^:\s]+):L(?P<start>\d+)(?:-L(?P<end>\d+))?(?:\s+(?P<text>.*))?$")


def load_toml(path: Path) -> Dict[str, Any]:
    try:
        import tomllib  # type: ignore[import-not-found]
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def check_behaviour(cache: Path, index_url: str, workers: int, path: Optional[Path] = None) -> List[str]:
    """Check every ``evidence`` line of behaviour.toml against the released sdists.

    ``"<top>/<path>:L<n>  <text>"``: the sdist whose top directory is ``<top>``
    must contain ``<path>`` and its line ``n`` must contain ``<text>`` (text
    after three spaces and "(" is commentary; line ranges are only bounds-checked).
    Returns a list of problems (empty = all verified).
    """
    data = load_toml(path or (data_dir() / "behaviour.toml"))
    wanted: Dict[str, Dict[str, List[Tuple[str, str]]]] = {}
    problems: List[str] = []
    for table in ("change", "successor"):
        for entry in data.get(table, []):
            for ev in entry.get("evidence", []):
                m = EVIDENCE_RE.match(ev)
                if not m:
                    problems.append("%s: unparsable evidence %r" % (entry.get("id", entry.get("old")), ev))
                    continue
                top = m.group("file").split("/", 1)[0]
                if top.endswith(".whl"):  # "<wheel file name>/<member>": that wheel, as installed
                    project, version = top.split("-")[:2]
                else:
                    project, _, version = top.rpartition("-")
                wanted.setdefault(project, {}).setdefault(str(Version(version)), []).append((top, ev))
    listing = pip_helper({"mode": "project", "index_url": index_url, "names": sorted(wanted)})
    chosen: Dict[Tuple[str, str, str], Dict[str, Any]] = {}
    for project, versions in wanted.items():
        rel = releases_from_files(project, listing.get(project) or [])
        for v, items in versions.items():
            for kind in sorted({"wheel" if top.endswith(".whl") else "sdist" for top, _ in items}):
                if kind == "wheel":
                    for top in sorted({t for t, _ in items if t.endswith(".whl")}):
                        f = next((x for x in rel.get(v, {}).get("files", []) if x["filename"] == top), None)
                        if f is None:
                            problems.append("no file %s on the index" % top)
                            continue
                        chosen[(project, v, top)] = f
                    continue
                f = pick_api_file(rel[v]) if v in rel else None
                if f is None or f["kind"] != "sdist":
                    problems.append("no sdist for %s %s" % (project, v))
                    continue
                chosen[(project, v, "")] = f
    download(list(chosen.values()), cache, index_url, workers)
    for (project, v, wheel), f in sorted(chosen.items()):
        members = archive_members(cache / "files" / f["filename"])
        if wheel:
            members = {wheel + "/" + k: b for k, b in members.items()}
        for top, ev in wanted[project][v]:
            if top.endswith(".whl") != bool(wheel) or (wheel and top != wheel):
                continue
            m = EVIDENCE_RE.match(ev)
            assert m is not None
            name = m.group("file")
            if name not in members:
                problems.append("%s: %s not in %s" % (ev, name, f["filename"]))
                continue
            lines = decode_source(members[name]).splitlines()
            start = int(m.group("start"))
            end = int(m.group("end") or start)
            if not (1 <= start <= end <= len(lines)):
                problems.append("%s: line out of range (%d lines)" % (ev, len(lines)))
                continue
            text = (m.group("text") or "").split("   (")[0].strip()
            if m.group("end") is None and text and text not in lines[start - 1]:
                problems.append("%s: line %d is %r" % (ev, start, lines[start - 1].strip()))
    return problems


# ==========================================================================
# BEGIN wiring section (Channels / daphne / channels_redis / Django wiring facts, AFX4xx + AFX310)
# Writes rules/data/wiring.toml. Kept apart from the rest of the script: another
# change edits the other sections concurrently.
# ==========================================================================

#: Packages whose every release from ``min`` on is read for wiring facts.
WIRING_PACKAGES = {"channels": "2.0.0", "daphne": "2.0.0", "channels-redis": "2.0.0", "asgiref": "3.0.0"}
#: Django facts are about feature lines: each is checked on the last release of the line
#: before and the first release of the line that changed (Django wheels are large).
WIRING_DJANGO = [
    {"id": "django.core.asgi", "before": "2.2.28", "since": "3.0",
     "description": "django.core.asgi.get_asgi_application exists (Django's own ASGI entry point)."},
    {"id": "django.conf.urls.url", "before": "3.2.25", "since": "4.0", "removed": True,
     "description": "django.conf.urls.url() is gone (it was re_path() under another name)."},
    {"id": "django.asgi_static_files_handler", "before": "2.2.28", "since": "3.0",
     "description": "django.contrib.staticfiles.handlers.ASGIStaticFilesHandler exists."},
]


def _w_tree(members: Dict[str, bytes], name: str) -> Optional[ast.Module]:
    raw = members.get(name)
    if raw is None:
        return None
    try:
        return ast.parse(decode_source(raw))
    except SyntaxError:
        return None


def _w_line(members: Dict[str, bytes], name: str, lineno: int) -> str:
    return decode_source(members[name]).splitlines()[lineno - 1].strip()


def _w_class(tree: Optional[ast.Module], name: str) -> Optional[ast.ClassDef]:
    if tree is None:
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    return None


def _w_method(cls: Optional[ast.ClassDef], name: str) -> Optional[ast.AST]:
    if cls is None:
        return None
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    return None


def _w_function(tree: Optional[ast.Module], name: str) -> Optional[ast.AST]:
    if tree is None:
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    return None


# Each probe: (members, top) -> None (absent) or (line, text) where it is seen, or
# ("", reason) for a fact seen as a file's absence/presence.
def _probe_as_asgi(m):
    node = _w_method(_w_class(_w_tree(m, "channels/consumer.py"), "AsyncConsumer"), "as_asgi")
    return ("channels/consumer.py", node.lineno) if node else None


def _probe_module(path):
    def probe(m):
        return (path, 1) if path in m else None
    return probe


def _probe_auto_http(m):
    # ProtocolTypeRouter.__init__ fills in "http" itself (with AsgiHandler) when it is missing.
    init = _w_method(_w_class(_w_tree(m, "channels/routing.py"), "ProtocolTypeRouter"), "__init__")
    if init is None:
        return None
    for node in ast.walk(init):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) for t in node.targets):
            for t in node.targets:
                if isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant) and t.slice.value == "http":
                    return ("channels/routing.py", node.lineno)
    return None


def _probe_auth_eager(m):
    # channels.auth imports django.contrib.auth.models at module level (needs the app registry).
    tree = _w_tree(m, "channels/auth.py")
    if tree is None:
        return None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "django.contrib.auth.models":
            return ("channels/auth.py", node.lineno)
    return None


def _probe_routers_wrap(m):
    # URLRouter wraps each route's callback with guarantee_single_callable (ASGI 2 apps still run).
    tree = _w_tree(m, "channels/routing.py")
    cls = _w_class(tree, "URLRouter")
    if cls is None:
        return None
    for node in ast.walk(cls):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "guarantee_single_callable":
            return ("channels/routing.py", node.lineno)
    return None


def _probe_asgi3_middleware(m):
    # BaseMiddleware.__call__ takes (scope, receive, send): ASGI 3 middleware.
    node = _w_method(_w_class(_w_tree(m, "channels/middleware.py"), "BaseMiddleware"), "__call__")
    if node is None or len(node.args.args) != 4:
        return None
    return ("channels/middleware.py", node.lineno)


def _probe_get_default_application(m):
    node = _w_function(_w_tree(m, "channels/routing.py"), "get_default_application")
    return ("channels/routing.py", node.lineno) if node else None


def _probe_layer_method(name):
    def probe(m):
        node = _w_method(_w_class(_w_tree(m, "channels/layers.py"), "BaseChannelLayer"), name)
        return ("channels/layers.py", node.lineno) if node else None
    return probe


def _probe_shared_asgi_handler_state(m):
    # The ASGI-3 AsgiHandler keeps the request's scope on the (shared) handler instance:
    # concurrent requests overwrite each other's scope/send (the CVE-2020-35681 advisory).
    call = _w_method(_w_class(_w_tree(m, "channels/http.py"), "AsgiHandler"), "__call__")
    if call is None or not isinstance(call, ast.AsyncFunctionDef) or len(call.args.args) != 4:
        return None
    for node in ast.walk(call):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" \
                        and t.attr == "scope":
                    return ("channels/http.py", node.lineno)
    return None


def _probe_cli_option(option):
    def probe(m):
        tree = _w_tree(m, "daphne/cli.py")
        if tree is None:
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
                if any(isinstance(a, ast.Constant) and a.value == option for a in node.args):
                    return ("daphne/cli.py", node.lineno)
        return None
    return probe


def _probe_daphne_e001(m):
    raw = m.get("daphne/checks.py")
    if raw is None:
        return None
    for number, line in enumerate(decode_source(raw).splitlines(), 1):
        if "daphne.E001" in line:
            return ("daphne/checks.py", number)
    return None


def _probe_lambda_send(m):
    # daphne's server hands the application a lambda as ``send`` (not a coroutine function).
    tree = _w_tree(m, "daphne/server.py")
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "send" and isinstance(node.value, ast.Lambda):
            return ("daphne/server.py", node.value.lineno)
    return None


def _probe_redis_old_name(m):
    # the layer calls BaseChannelLayer.valid_channel_name (renamed in channels 4.2.1)
    raw = m.get("channels_redis/core.py")
    if raw is None:
        return None
    for number, line in enumerate(decode_source(raw).splitlines(), 1):
        if "self.valid_channel_name(" in line:
            return ("channels_redis/core.py", number)
    return None


def _probe_pubsub_tuple_hosts(m):
    # the PubSub layer wraps a (host, port) tuple as {"address": host} and hands it to from_url()
    raw = m.get("channels_redis/pubsub.py")
    if raw is None:
        return None
    text = decode_source(raw)
    if "decode_hosts" in text or 'from_url(self.host["address"])' not in text:
        return None  # 3.x hands the tuple to aioredis, which takes one; 4.1+ decodes hosts
    for number, line in enumerate(text.splitlines(), 1):
        if '{"address": host}' in line:
            return ("channels_redis/pubsub.py", number)
    return None


def _probe_async_to_sync_raises(m):
    # AsyncToSync.__init__ raises TypeError for a callable that is not a coroutine function
    init = _w_method(_w_class(_w_tree(m, "asgiref/sync.py"), "AsyncToSync"), "__init__")
    if init is None:
        return None
    for node in ast.walk(init):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and \
                isinstance(node.exc.func, ast.Name) and node.exc.func.id == "TypeError":
            return ("asgiref/sync.py", node.lineno)
    return None


WIRING_FACTS = [
    ("channels.as_asgi", "channels", _probe_as_asgi,
     "consumer classes have as_asgi() (routing and communicators need the ASGI-3 application it returns)"),
    ("channels.http", "channels", _probe_module("channels/http.py"),
     "the channels.http module (AsgiHandler, AsgiRequest) is shipped"),
    ("channels.staticfiles", "channels", _probe_module("channels/staticfiles.py"),
     "the channels.staticfiles module (StaticFilesWrapper) is shipped"),
    ("channels.runserver", "channels", _probe_module("channels/management/commands/runserver.py"),
     "the channels app provides the ASGI runserver command"),
    ("channels.auto_http", "channels", _probe_auto_http,
     "ProtocolTypeRouter adds an \"http\" application itself when the mapping lacks one"),
    ("channels.auth_eager_models", "channels", _probe_auth_eager,
     "channels.auth imports django.contrib.auth.models when it is imported (before the app registry is ready)"),
    ("channels.routers_wrap_asgi2", "channels", _probe_routers_wrap,
     "URLRouter wraps routed applications with guarantee_single_callable (ASGI-2 double callables still run)"),
    ("channels.asgi3_middleware", "channels", _probe_asgi3_middleware,
     "channels.middleware.BaseMiddleware is ASGI 3: __call__(self, scope, receive, send)"),
    ("channels.get_default_application", "channels", _probe_get_default_application,
     "channels.routing.get_default_application exists"),
    ("channels.layer_valid_channel_name", "channels", _probe_layer_method("valid_channel_name"),
     "BaseChannelLayer.valid_channel_name exists (channel layers call it)"),
    ("channels.layer_require_valid_channel_name", "channels", _probe_layer_method("require_valid_channel_name"),
     "BaseChannelLayer.require_valid_channel_name exists"),
    ("channels.shared_asgi_handler_state", "channels", _probe_shared_asgi_handler_state,
     "the ASGI-3 AsgiHandler stores each request's scope on the shared handler instance"),
    ("daphne.option.--asgi-protocol", "daphne", _probe_cli_option("--asgi-protocol"),
     "the daphne command accepts --asgi-protocol"),
    ("daphne.option.--ws-protocol", "daphne", _probe_cli_option("--ws-protocol"),
     "the daphne command accepts --ws-protocol"),
    ("daphne.runserver", "daphne", _probe_module("daphne/management/commands/runserver.py"),
     "the daphne app provides the ASGI runserver command"),
    ("daphne.E001", "daphne", _probe_daphne_e001,
     "daphne's system check daphne.E001 requires \"daphne\" before django.contrib.staticfiles"),
    ("daphne.lambda_send", "daphne", _probe_lambda_send,
     "daphne passes the application a lambda (not a coroutine function) as send"),
    ("channels-redis.calls_valid_channel_name", "channels-redis", _probe_redis_old_name,
     "the Redis layer calls self.valid_channel_name()"),
    ("channels-redis.pubsub_tuple_hosts", "channels-redis", _probe_pubsub_tuple_hosts,
     "the PubSub layer passes (host, port) tuples to ConnectionPool.from_url() undecoded"),
    ("asgiref.async_to_sync_raises", "asgiref", _probe_async_to_sync_raises,
     "async_to_sync() raises TypeError for a callable that is not a coroutine function"),
]

#: Combinations that install but break, each computed from the facts above.
#: ``when``: fact id -> True (the release has it) / False (it lacks it), per package.
WIRING_COMBINATIONS = [
    {"id": "channels-layer-rename", "severity": "error",
     "summary": "every send fails with AttributeError: 'valid_channel_name'",
     "when": {"channels": {"channels.layer_valid_channel_name": False, "channels.asgi3_middleware": True,
                           "channels.layer_require_valid_channel_name": True},
              "channels-redis": {"channels-redis.calls_valid_channel_name": True}},
     "reason": "this Channels release renamed BaseChannelLayer.valid_channel_name without a fallback, and this "
               "channels-redis still calls it: every send fails with AttributeError",
     "fix": "move channels off the release that lacks the name, or channels-redis to a release that no longer calls it"},
    {"id": "asgi-handler-shared-scope", "severity": "error",
     "summary": "concurrent HTTP requests can get each other's responses (CVE-2020-35681)",
     "when": {"channels": {"channels.shared_asgi_handler_state": True}},
     "reason": "AsgiHandler keeps each request's scope on one shared instance, so concurrent HTTP requests can "
               "get each other's responses (CVE-2020-35681)",
     "fix": "move channels to a later 3.0.x release"},
    {"id": "daphne-lambda-send", "severity": "error",
     "summary": "async_to_sync(send) raises TypeError (sync consumers, AsgiHandler)",
     "when": {"daphne": {"daphne.lambda_send": True}, "asgiref": {"asgiref.async_to_sync_raises": True}},
     "reason": "this daphne passes a lambda as send, and this asgiref's async_to_sync raises TypeError for it "
               "(sync consumers and AsgiHandler break)",
     "fix": "move daphne past the lambda, or asgiref to a release where the check is a warning"},
    {"id": "redis-pubsub-tuple-hosts", "severity": "warning",
     "summary": "the PubSub layer fails on (host, port) hosts: 'tuple' object has no attribute 'decode'",
     "when": {"channels-redis": {"channels-redis.pubsub_tuple_hosts": True}},
     "reason": "the PubSub layer of this channels-redis fails on (host, port) tuples in hosts "
               "('tuple' object has no attribute 'decode')",
     "fix": "move channels-redis to a release that decodes hosts, or write hosts as redis:// URLs",
     # the tuple handling that fails is in channels_redis/pubsub.py: only that layer's users hit it
     "backends": ["channels_redis.pubsub."]},
]


def _wiring_file(entry: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The wheel (what pip installs: daphne 4.1.1's sdist and wheel both lack the runserver command,
    but files can differ between the two), else the sdist, which is only read, never built."""
    wheels = sorted((f for f in entry["files"] if f["kind"] == "wheel"), key=lambda f: f["filename"])
    return wheels[0] if wheels else pick_api_file(entry)


def _wiring_members(path: Path) -> Tuple[str, Dict[str, bytes]]:
    return strip_top(archive_members(path), path.name.endswith(".whl"))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join("%s = %s" % (json.dumps(k), _toml_value(v)) for k, v in value.items()) + "}"
    return json.dumps(value)


def build_wiring(cache: Path, index_url: str, workers: int) -> str:
    names = sorted(WIRING_PACKAGES) + ["django"]
    listing = project_files(names, cache, index_url)
    chosen: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for name, floor in WIRING_PACKAGES.items():
        rel = releases_from_files(name, listing[name] or [])
        for version in ordered(rel):
            if Version(version) >= Version(floor):
                f = _wiring_file(rel[version])
                if f is not None:
                    chosen.setdefault(name, {})[version] = f
    django_rel = releases_from_files("django", listing["django"] or [])
    django_files: Dict[str, Dict[str, Any]] = {}
    for entry in WIRING_DJANGO:
        for version in (entry["before"], entry["since"]):
            wheels = [f for f in django_rel[version]["files"] if f["kind"] == "wheel"]
            django_files[version] = sorted(wheels, key=lambda f: f["filename"])[0]
    download([f for per in chosen.values() for f in per.values()] + list(django_files.values()),
             cache, index_url, workers)
    releases = {name: list(per) for name, per in chosen.items()}
    seen: Dict[str, Dict[str, Tuple[str, int, str]]] = {fid: {} for fid, _, _, _ in WIRING_FACTS}
    tops: Dict[Tuple[str, str], str] = {}
    for name, per in chosen.items():
        for version, f in per.items():
            top, members = _wiring_members(cache / "files" / f["filename"])
            tops[(name, version)] = top or f["filename"][: -len(".whl")].split("-py")[0] + ".whl"
            for fid, package, probe, _ in WIRING_FACTS:
                if package != name:
                    continue
                hit = probe(members)
                if hit is not None:
                    path, line = hit
                    seen[fid][version] = (path, line, _w_line(members, path, line) if line else "")
    out: List[str] = [
        "# Channels / daphne / channels-redis / Django wiring facts (AFX4xx, AFX310).",
        "# GENERATED by scripts/build_knowledge.py --only wiring from the released files (sdists, else",
        "# wheels; read with the standard library, never built, imported or run): do not edit by hand.",
        "# `versions` are inclusive [first, last] runs over [releases]; `evidence` cites",
        "# \"<artefact top dir>/<path>:L<line>  <text>\" in the first and last release having the fact,",
        "# and names the release just before (or after) that lacks it.",
        "",
        "schema = 1",
        "",
        "[releases]",
    ]
    for name in sorted(releases):
        out.append("%s = %s" % (json.dumps(name), _toml_value(releases[name])))
    for fid, package, _, description in WIRING_FACTS:
        have = [v for v in releases.get(package, []) if v in seen[fid]]
        runs = to_intervals(have, releases.get(package, []))
        evidence = []
        for first, last in runs:
            for version in sorted({first, last}, key=Version):
                path, line, text = seen[fid][version]
                evidence.append("%s/%s:L%d  %s" % (tops[(package, version)], path, line, text))
            index = releases[package].index(first)
            if index:
                evidence.append("%s: absent" % tops[(package, releases[package][index - 1])])
            index = releases[package].index(last)
            if index + 1 < len(releases[package]):
                evidence.append("%s: absent" % tops[(package, releases[package][index + 1])])
        out += ["", "[[fact]]", "id = %s" % json.dumps(fid), "package = %s" % json.dumps(package),
                "description = %s" % json.dumps(description), "versions = %s" % _toml_value(runs),
                "evidence = ["] + ["  %s," % json.dumps(e, ensure_ascii=False) for e in evidence] + ["]"]
    for entry in WIRING_DJANGO:
        module, _, name = entry["id"].rpartition(".")
        probes = {
            "django.core.asgi": ("django/core/asgi.py", "def get_asgi_application"),
            "django.conf.urls.url": ("django/conf/urls/__init__.py", "def url("),
            "django.asgi_static_files_handler": ("django/contrib/staticfiles/handlers.py",
                                                 "class ASGIStaticFilesHandler"),
        }
        path, needle = probes[entry["id"]]
        found = {}
        for version in (entry["before"], entry["since"]):
            _, members = _wiring_members(cache / "files" / django_files[version]["filename"])
            text = decode_source(members[path]).splitlines() if path in members else []
            found[version] = next((i for i, line in enumerate(text, 1) if needle in line), None)
        removed = entry.get("removed", False)
        old_has, new_has = found[entry["before"]] is not None, found[entry["since"]] is not None
        if (old_has, new_has) != ((True, False) if removed else (False, True)):
            raise SystemExit("Django %s: the released files disagree with %s" % (entry["id"], entry))
        has = entry["before"] if removed else entry["since"]
        lacks = entry["since"] if removed else entry["before"]
        evidence = ["Django-%s/%s:L%d  %s" % (has, path, found[has], needle), "Django-%s/%s: no %s" % (lacks, path, needle)]
        out += ["", "[[django]]", "id = %s" % json.dumps(entry["id"]),
                "description = %s" % json.dumps(entry["description"]),
                ("removed_in" if removed else "since") + " = %s" % json.dumps(entry["since"]),
                "checked = %s" % _toml_value([entry["before"], entry["since"]]),
                "evidence = %s" % _toml_value(evidence)]
    for combo in WIRING_COMBINATIONS:
        ranges: Dict[str, List[List[str]]] = {}
        for package, wanted in combo["when"].items():
            ok = [v for v in releases[package]
                  if all((v in seen[fid]) == flag for fid, flag in wanted.items())]
            ranges[package] = to_intervals(ok, releases[package])
        out += ["", "[[combination]]", "id = %s" % json.dumps(combo["id"]),
                "severity = %s" % json.dumps(combo["severity"]),
                "summary = %s" % json.dumps(combo["summary"]),
                "reason = %s" % json.dumps(combo["reason"]), "fix = %s" % json.dumps(combo["fix"]),
                "facts = %s" % _toml_value({p: [("" if f else "not ") + fid for fid, f in w.items()]
                                            for p, w in combo["when"].items()})]
        if combo.get("backends"):
            out.append("backends = %s" % _toml_value(combo["backends"]))
        out.append("[combination.versions]")
        for package in sorted(ranges):
            out.append("%s = %s" % (json.dumps(package), _toml_value(ranges[package])))
    return "\n".join(out) + "\n"


def write_text(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        log("%s unchanged" % path)
        return
    path.write_text(text, encoding="utf-8")
    log("wrote %s (%d bytes)" % (path, len(text.encode())))

# ==========================================================================
# END wiring section
# ==========================================================================


# --------------------------------------------------------------------------
# Moves (AFX203/AFX204): which releases define each side of rules/data/moves.toml
# (the codemod helper's section: kept apart from the rest of the script)
# --------------------------------------------------------------------------

def release_defines(members: Dict[str, bytes], module: str, name: str) -> bool:
    """Whether the release's ``module`` (``pkg/mod.py`` or ``pkg/mod/__init__.py``) binds ``name`` at top level."""
    base = module.replace(".", "/")
    for path, is_package in ((base + ".py", False), (base + "/__init__.py", True)):
        raw = members.get(path)
        if raw is None:
            continue
        try:
            tree = ast.parse(raw, filename=path)
        except (SyntaxError, ValueError):
            top, _ = regex_api(decode_source(raw))
            return name in top
        return name in module_bindings(tree, module, is_package)
    return False


def build_moves(cache: Path, index_url: str, workers: int, path: Optional[Path] = None) -> Dict[str, Any]:
    """For every entry of moves.toml, the releases of its packages that define the old and the new name.

    Every release's sdist (else wheel) is read with ``ast``, never imported. A release that does not
    ship the module does not define the name.
    """
    data = load_toml(path or (data_dir() / "moves.toml"))
    moves = data.get("move", [])
    # "python" is the standard library: the install set's Pythons decide (no release list to read).
    moves = [m for m in moves if m["new-package"] != "python"]
    packages = sorted({m["old-package"] for m in moves} | {m["new-package"] for m in moves}
                      | {r["package"] for r in data.get("removed", [])})
    listing = project_files(packages, cache, index_url)
    per_package: Dict[str, List[str]] = {}
    chosen: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for package in packages:
        files = listing.get(package)
        if files is None:
            raise SystemExit("the index does not serve %s" % package)
        rel = releases_from_files(package, files)
        per_package[package] = ordered(rel)
        for v in per_package[package]:
            f = pick_api_file(rel[v])
            if f is not None:
                chosen[(package, v)] = f
        log("moves: %s, %d releases" % (package, len(per_package[package])))
    download(list(chosen.values()), cache, index_url, workers)
    wanted: Dict[str, List[Tuple[str, str]]] = {}
    for m in moves:
        for side in ("old", "new"):
            module, _, name = m[side].partition(":")
            wanted.setdefault(m[side + "-package"], []).append((module, name))
    for r in data.get("removed", []):  # Channels 1 APIs with no successor (AFX205)
        module, _, name = r["target"].partition(":")
        wanted.setdefault(r["package"], []).append((module, name))
    defined: Dict[Tuple[str, str], List[str]] = {}  # ("package", "module:Name") -> releases
    for package in packages:
        for v in per_package[package]:
            f = chosen.get((package, v))
            if f is None:
                continue
            _, members = strip_top(archive_members(cache / "files" / f["filename"]), f["kind"] == "wheel")
            for module, name in sorted(set(wanted.get(package, []))):
                if release_defines(members, module, name):
                    defined.setdefault((package, module + ":" + name), []).append(v)
    out: Dict[str, Any] = {"schema": SCHEMA_VERSION, "generated_by": "scripts/build_knowledge.py --only moves",
                           "releases": {p: per_package[p] for p in packages}, "defined": {}}
    for (package, target), versions in sorted(defined.items()):
        out["defined"].setdefault(package, {})[target] = to_intervals(versions, per_package[package])
    for m in moves:
        for side in ("old", "new"):
            if m[side] not in out["defined"].get(m[side + "-package"], {}):
                log("WARNING: no %s release defines %s" % (m[side + "-package"], m[side]))
    # The settings behaviour AFX204 relies on ([[change]] entries of moves.toml): every evidence line checked.
    problems = check_behaviour(cache, index_url, workers, path or (data_dir() / "moves.toml"))
    for problem in problems:
        print("EVIDENCE: " + problem)
    if problems:
        raise SystemExit("moves.toml: %d evidence problem(s)" % len(problems))
    return out

# -------------------------------------------------------------------------- (end of moves)

# --------------------------------------------------------------------------
# asgiref wrapper checks (AFX206): which releases refuse sync_to_async(async_fn) / async_to_sync(plain def)
# --------------------------------------------------------------------------

#: (id, wrapper, outcome, text): the text of the ``raise TypeError(...)`` or ``warnings.warn(...)`` that
#: asgiref/sync.py of a release carries when it checks the kind of the callable it is given.
WRAPPER_CHECKS = (
    ("sync-to-async-refuses-coroutine-function", "sync_to_async", "raise",
     "sync_to_async can only be applied to sync functions"),
    ("async-to-sync-refuses-sync-function", "async_to_sync", "raise",
     "async_to_sync can only be applied to async functions"),
    ("async-to-sync-warns-sync-function", "async_to_sync", "warn",
     "async_to_sync was passed a non-async-marked callable"),
)


def _constant_texts(node: ast.AST) -> List[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def wrapper_checks_in(source: str) -> Dict[str, int]:
    """check id -> line of the raise/warn in one asgiref/sync.py (read with ``ast``, never imported)."""
    found: Dict[str, int] = {}
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            outcome, texts = "raise", _constant_texts(node.exc)
        elif isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "warn")
                or (isinstance(node.func, ast.Name) and node.func.id == "warn")):
            outcome, texts = "warn", [t for a in node.args for t in _constant_texts(a)]
        else:
            continue
        for check_id, _, wanted, needle in WRAPPER_CHECKS:
            if outcome == wanted and any(needle in t for t in texts):
                found.setdefault(check_id, node.lineno)
    return found


def build_wrapper_checks(cache: Path, index_url: str, workers: int) -> Dict[str, Any]:
    """For each asgiref release (the file pip installs), whether sync_to_async refuses coroutine
    functions and whether async_to_sync refuses or warns about callables that are not coroutine functions."""
    files = project_files(["asgiref"], cache, index_url)["asgiref"]
    if files is None:
        raise SystemExit("the index does not serve asgiref")
    rel = releases_from_files("asgiref", files)
    releases = ordered(rel)
    chosen = {v: pick_installed_file(rel[v]) for v in releases}
    download([f for f in chosen.values() if f], cache, index_url, workers)
    per_check: Dict[str, List[str]] = {c[0]: [] for c in WRAPPER_CHECKS}
    evidence: Dict[str, List[str]] = {c[0]: [] for c in WRAPPER_CHECKS}
    for v in releases:
        f = chosen[v]
        if f is None:
            continue
        top, members = strip_top(archive_members(cache / "files" / f["filename"]), f["kind"] == "wheel")
        raw = members.get("asgiref/sync.py")
        if raw is None:
            continue
        source = decode_source(raw)
        where = (top or f["filename"]) + "/asgiref/sync.py"
        lines = source.splitlines()
        for check_id, line in sorted(wrapper_checks_in(source).items()):
            per_check[check_id].append(v)
            evidence[check_id].append("%s:L%d  %s" % (where, line, lines[line - 1].strip()))
    out: Dict[str, Any] = {"schema": SCHEMA_VERSION,
                           "generated_by": "scripts/build_knowledge.py --only wrapper-checks",
                           "releases": releases, "checks": {}}
    for check_id, wrapper, outcome, needle in WRAPPER_CHECKS:
        found = per_check[check_id]
        shown = evidence[check_id][:1] + evidence[check_id][-1:] if found else []
        out["checks"][check_id] = {"wrapper": wrapper, "outcome": outcome, "text": needle,
                                   "versions": to_intervals(found, releases), "evidence": shown}
        log("wrapper checks: %s in %s" % (check_id, to_intervals(found, releases)))
    return out

# -------------------------------------------------------------------------- (end of wrapper checks)

# --------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default=str(REPO / ".knowledge-cache"), help="download cache directory")
    ap.add_argument("--only", choices=("asgiref", "ecosystem", "facts", "moves", "wiring", "security",
                                       "wrapper-checks"),
                    help="build only one data file (security: only the security section of release_facts.json)")
    ap.add_argument("--changelog-repo", action="append", default=[], metavar="NAME=GITDIR",
                    help="a local clone of NAME's source repository, read for security fixes when no sdist "
                         "of NAME ships a changelog (asgiref, channels)")
    ap.add_argument("--index-url", default=os.environ.get("ASGIFIX_INDEX_URL", DEFAULT_INDEX))
    ap.add_argument("--workers", type=int, default=3, help="parallel pip processes / downloads (2-4)")
    ap.add_argument("--out", default=str(data_dir()), help="output directory (default rules/data)")
    ap.add_argument("--check-behaviour", action="store_true",
                    help="only verify behaviour.toml evidence against the released sdists")
    args = ap.parse_args(argv)
    if sys.version_info < (3, 11):
        log("WARNING: generate with Python >= 3.11: newer asgiref sources use newer syntax, and "
            "ast.unparse output (default values) may differ between Python versions")
    cache = Path(args.cache).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    t0 = time.time()
    if args.check_behaviour:
        problems = check_behaviour(cache, args.index_url, args.workers)
        for p in problems:
            print("EVIDENCE: " + p)
        log("behaviour.toml evidence: %s" % ("OK" if not problems else "%d problem(s)" % len(problems)))
        return 1 if problems else 0
    if args.only in (None, "asgiref"):
        write_json(out / "asgiref_api.json", build_asgiref(cache, args.index_url, args.workers))
    if args.only in (None, "ecosystem"):
        write_json(out / "ecosystem.json", build_ecosystem(cache, args.index_url, args.workers))
    repos = dict(item.split("=", 1) for item in args.changelog_repo if "=" in item)
    if args.only in (None, "facts"):  # reads ecosystem.json: after it
        write_json(out / FACTS_FILE, build_facts(cache, args.index_url, args.workers, out, changelog_repos=repos))
    if args.only == "security":  # the security section alone, the rest of release_facts.json kept
        listing = project_files(list(CHANGELOG_PACKAGES), cache, args.index_url)
        entries = {n: releases_from_files(n, files) for n, files in listing.items() if files is not None}
        facts = json.loads((out / FACTS_FILE).read_text(encoding="utf-8"))
        facts["security"] = dict(sorted(build_security(cache, args.index_url, entries, repos, args.workers).items()))
        write_json(out / FACTS_FILE, facts)
    if args.only in (None, "moves"):
        write_json(out / "moves.json", build_moves(cache, args.index_url, args.workers))
    if args.only in (None, "wrapper-checks"):
        write_json(out / "asgiref_checks.json", build_wrapper_checks(cache, args.index_url, args.workers))
    if args.only in (None, "wiring"):  # wiring section
        write_text(out / "wiring.toml", build_wiring(cache, args.index_url, args.workers))
        # the parsed copy a check loads (asgifix.datafiles), kept in step with the TOML just written
        from asgifix.datafiles import COMPILED as DATA_COMPILED, compiled_data

        write_text(out / DATA_COMPILED, compiled_data(out))
    log("done in %.0f s" % (time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
