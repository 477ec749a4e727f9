"""Tests of asgifix.knowledge and of the committed knowledge data.

Every fact asserted here was read from the released artefact named in the
comment next to it (sdists as served by the package index; "L<n>" = line n).
All tests are offline except the one marked ``network`` (which the project's
pytest configuration is expected to register and deselect by default).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from asgifix import knowledge as k
from asgifix._paths import data_dir

REPO = Path(__file__).resolve().parent.parent


def _load_script():
    spec = importlib.util.spec_from_file_location("build_knowledge", REPO / "scripts" / "build_knowledge.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_knowledge", mod)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def _fresh_cache():
    k.clear_cache()
    yield
    k.clear_cache()


# ---------------------------------------------------------------------------
# asgiref releases
# ---------------------------------------------------------------------------

def test_release_list_bounds_and_order():
    rels = k.asgiref_releases()
    # `pip index versions --pre asgiref` oldest/newest (3.7.0 is yanked and hidden there, kept here)
    assert rels[0] == "0.8"
    assert rels[-1] == k.latest_asgiref_release()
    assert "3.13.0" in rels
    assert len(rels) >= 73
    versions = k.asgiref_release_versions()
    assert versions == sorted(versions)
    assert [str(v) for v in versions] == rels


def test_release_info():
    # asgiref-3.2.3.tar.gz: PKG-INFO has no Requires-Python line
    assert k.asgiref_release_info("3.2.3")["requires_python"] is None
    # asgiref-3.2.4.tar.gz: PKG-INFO L220 "Requires-Python: >=3.5"
    assert k.asgiref_release_info("3.2.4")["requires_python"] == ">=3.5"
    # asgiref-3.3.2.tar.gz: PKG-INFO L228 "Requires-Python: >=3.6"
    assert k.asgiref_release_info("3.3.2")["requires_python"] == ">=3.6"
    # asgiref-3.13.0.tar.gz: PKG-INFO L26 "Requires-Python: >=3.11"
    assert k.asgiref_release_info("3.13.0")["requires_python"] == ">=3.11"
    # the index marks 3.7.0's files as yanked ("Broken dependencies that cause installation issues")
    assert k.asgiref_release_info("3.7.0")["yanked"] is True
    assert k.asgiref_release_info("3.7.1")["yanked"] is False
    # "3.3" is the same version as the release "3.3.0"
    assert k.asgiref_release_info("3.3")["artefact"] == "asgiref-3.3.0.tar.gz"
    assert k.asgiref_release_info("9.9.9") is None
    assert k.asgiref_release_info("3.3.0")["uploaded"][:4] == "2020"


# ---------------------------------------------------------------------------
# asgiref API history
# ---------------------------------------------------------------------------

def test_thread_sensitive_context_first_release():
    # asgiref-3.3.2.tar.gz: asgiref/sync.py L30 "class ThreadSensitiveContext:";
    # asgiref-3.3.1.tar.gz: asgiref/sync.py has no such class
    assert k.first_release_with("asgiref.sync", "ThreadSensitiveContext") == "3.3.2"
    assert "3.3.1" not in k.versions_having("asgiref.sync", "ThreadSensitiveContext")
    assert k.last_release_with("asgiref.sync", "ThreadSensitiveContext") == k.latest_asgiref_release()
    assert k.binding_in("asgiref.sync", "ThreadSensitiveContext", "3.3.2") == {"kind": "class"}
    assert k.binding_in("asgiref.sync", "ThreadSensitiveContext", "3.3.1") is None


def test_base_layer_and_inmemory_removed_in_2_0():
    # asgiref-1.1.2.tar.gz: asgiref/base_layer.py L9 "class BaseChannelLayer(object):"
    assert "1.1.2" in k.versions_having("asgiref.base_layer")
    assert k.versions_having("asgiref.base_layer", "BaseChannelLayer")[-1] == "1.1.2"
    # asgiref-2.0.0.tar.gz: asgiref.egg-info/SOURCES.txt lists only __init__, server, sync, wsgi
    assert "2.0.0" not in k.versions_having("asgiref.base_layer")
    # asgiref-0.13.0.tar.gz: asgiref/base_layer.py L7 (absent from 0.12.1)
    assert k.first_release_with("asgiref.base_layer") == "0.13.0"
    assert k.last_release_with("asgiref.base_layer") == "1.1.2"
    # asgiref-0.8.tar.gz .. asgiref-1.1.2.tar.gz: asgiref/inmemory.py (L14 "class ChannelLayer" in 1.1.2)
    assert k.first_release_with("asgiref.inmemory") == "0.8"
    assert k.last_release_with("asgiref.inmemory") == "1.1.2"
    assert k.module_exists_anywhere("asgiref.base_layer")
    assert not k.module_exists_anywhere("asgiref.no_such_module")
    assert k.versions_having("asgiref.no_such_module") == []
    assert k.first_release_with("asgiref.sync", "NoSuchName") is None


def test_other_notable_names():
    # asgiref-3.0.0.tar.gz: asgiref/compatibility.py L39 "def guarantee_single_callable(application):"
    assert k.first_release_with("asgiref.compatibility", "guarantee_single_callable") == "3.0.0"
    assert k.last_release_with("asgiref.compatibility", "guarantee_single_callable") == k.latest_asgiref_release()
    # asgiref-3.1.0.tar.gz: asgiref/local.py introduced (class Local)
    assert k.first_release_with("asgiref.local", "Local") == "3.1.0"
    # asgiref-3.1.3.tar.gz: asgiref/timeout.py introduced; asgiref-3.13.0.tar.gz still ships it
    assert k.first_release_with("asgiref.timeout") == "3.1.3"
    assert k.last_release_with("asgiref.timeout") == k.latest_asgiref_release()
    # asgiref-3.6.0.tar.gz: asgiref/sync.py L36 "def markcoroutinefunction(func: Any) -> Any:"
    assert k.first_release_with("asgiref.sync", "markcoroutinefunction") == "3.6.0"
    # asgiref-3.4.0.tar.gz: asgiref/compatibility.py L53 get_running_loop = ...; gone in 3.5.0
    assert k.versions_having("asgiref.compatibility", "get_running_loop") == ["3.4.0", "3.4.1"]
    # asgiref-3.13.0.tar.gz: asgiref/local.py L108 "def __new__(cls, thread_critical: bool = False)"
    assert k.first_release_with("asgiref.local", "Local", "__new__") == "3.13.0"
    assert k.binding_in("asgiref.local", "Local", "3.13.0", member="__new__") == {"kind": "method"}
    assert k.versions_having("asgiref.local", "Local.__new__") == k.versions_having("asgiref.local", "Local", "__new__")


def test_sync_to_async_binding_history():
    # asgiref-2.0.0.tar.gz: asgiref/sync.py L78 "def sync_to_async(func):"
    assert k.binding_in("asgiref.sync", "sync_to_async", "2.0.0") == {"kind": "function"}
    # asgiref-2.1.4.tar.gz: asgiref/sync.py L114 "sync_to_async = SyncToAsync" (alias, still in 3.2.10 L360)
    assert k.binding_in("asgiref.sync", "sync_to_async", "3.2.10") == {"kind": "variable", "alias_of": "SyncToAsync"}
    # asgiref-3.3.0.tar.gz: asgiref/sync.py L372 "def sync_to_async(func=None, thread_sensitive=True):"
    assert k.binding_in("asgiref.sync", "sync_to_async", "3.3.0") == {"kind": "function"}


def test_thread_sensitive_default_history():
    # asgiref-3.2.0.tar.gz: asgiref/sync.py L185 "def __init__(self, func, thread_sensitive=False):"
    # asgiref-3.2.10.tar.gz: asgiref/sync.py L250 same; asgiref-3.3.0.tar.gz: asgiref/sync.py L258
    # "def __init__(self, func, thread_sensitive=True):" and L372 sync_to_async(..., thread_sensitive=True)
    latest = k.latest_asgiref_release()
    expected = [([["3.2.0", "3.2.10"]], "False"), ([["3.3.0", latest]], "True")]
    assert k.param_default_history("asgiref.sync", "sync_to_async", "thread_sensitive") == expected
    assert k.param_default_history("asgiref.sync", "SyncToAsync", "thread_sensitive") == expected
    assert k.param_default_history("asgiref.sync", "SyncToAsync.__init__", "thread_sensitive") == expected
    assert k.param_default_history("asgiref.sync", "sync_to_async", "no_such_param") == []


def test_signatures():
    # asgiref-3.1.4.tar.gz: asgiref/sync.py L124 "def __init__(self, func):", L192 "sync_to_async = SyncToAsync"
    assert k.signature_in("asgiref.sync", "sync_to_async", "3.1.4") == [k.Param("func", "positional-or-keyword")]
    # asgiref-3.7.1.tar.gz: asgiref/sync.py L580-583: func=None, thread_sensitive=True, executor=None (no "*")
    sig = k.signature_in("asgiref.sync", "sync_to_async", "3.7.1")
    assert [(p.name, p.kind, p.default) for p in sig] == [
        ("func", "positional-or-keyword", "None"),
        ("thread_sensitive", "positional-or-keyword", "True"),
        ("executor", "positional-or-keyword", "None"),
    ]
    # asgiref-3.7.2.tar.gz: asgiref/sync.py L626-630 "def sync_to_async(func=None, *, thread_sensitive=True, executor=None"
    sig = k.signature_in("asgiref.sync", "sync_to_async", "3.7.2")
    assert [(p.name, p.kind) for p in sig] == [
        ("func", "positional-or-keyword"),
        ("thread_sensitive", "keyword-only"),
        ("executor", "keyword-only"),
    ]
    # asgiref-3.7.2.tar.gz: asgiref/sync.py L580-588 "def async_to_sync(awaitable=None, *, force_new_loop=False"
    sig = k.signature_in("asgiref.sync", "async_to_sync", "3.7.2")
    assert [(p.name, p.kind, p.default) for p in sig] == [
        ("awaitable", "positional-or-keyword", "None"),
        ("force_new_loop", "keyword-only", "False"),
    ]
    assert k.signature_in("asgiref.sync", "sync_to_async", "1.1.2") is None
    assert k.signature_in("asgiref.sync", "sync_to_async", "not-a-version") is None
    history = k.signature_history("asgiref.sync", "sync_to_async")
    assert history[0][0][0] == "2.0.0"
    assert sum(len(vs) for vs, _ in history) == len(k.versions_having("asgiref.sync", "sync_to_async"))


def test_versions_accepting_keyword():
    rels = k.asgiref_releases()
    # asgiref-3.3.2.tar.gz: asgiref/sync.py L337 "executor: Optional[\"ThreadPoolExecutor\"] = None," (absent in 3.3.1)
    got = k.versions_accepting_keyword("asgiref.sync", "sync_to_async", "executor")
    assert got == rels[rels.index("3.3.2"):]
    # asgiref-3.2.0.tar.gz: asgiref/sync.py L185 thread_sensitive appears
    got = k.versions_accepting_keyword("asgiref.sync", "sync_to_async", "thread_sensitive")
    assert got == rels[rels.index("3.2.0"):]
    # asgiref-3.11.0.tar.gz: sync_to_async gains context=None
    assert k.versions_accepting_keyword("asgiref.sync", "sync_to_async", "context")[0] == "3.11.0"
    # asgiref-3.1.2.tar.gz: AsyncToSync.__init__(self, awaitable, force_new_loop=False)
    assert k.versions_accepting_keyword("asgiref.sync", "async_to_sync", "force_new_loop")[0] == "3.1.2"
    assert k.versions_accepting_keyword("asgiref.sync", "sync_to_async", "nope") == []


# ---------------------------------------------------------------------------
# ecosystem
# ---------------------------------------------------------------------------

def test_name_normalisation_and_listing():
    assert k.normalize_name("asgi_redis") == "asgi-redis"
    assert k.normalize_name("Channels.Redis") == "channels-redis"
    assert k.releases_of("asgi_redis") == k.releases_of("asgi-redis") != []
    assert k.releases_of("no-such-package") == []
    for name in ("django", "channels", "daphne", "channels-redis", "asgi-redis", "asgi-ipc", "channels-rabbitmq"):
        assert name in k.known_packages()
    with pytest.raises(k.UnknownRelease):
        k.requirements_of("django", "0.0.1")
    with pytest.raises(k.UnknownRelease):
        k.requirements_of("no-such-package", "1.0")


def test_django_asgiref_specifiers():
    # Django-3.0-py3-none-any.whl METADATA: "Requires-Dist: asgiref (~=3.2)"
    assert k.requirements_of("Django", "3.0")["asgiref"] == "~=3.2"
    # Django-3.0a1-py3-none-any.whl METADATA: "Requires-Dist: asgiref" (no version at all)
    assert k.requirements_of("django", "3.0a1")["asgiref"] == ""
    # Django-3.2.tar.gz: setup.cfg L43 "asgiref >= 3.3.2, < 4" (wheel METADATA "asgiref (<4,>=3.3.2)")
    assert k.requirements_of("django", "3.2")["asgiref"] == "<4,>=3.3.2"
    # Django-4.0.tar.gz: setup.cfg L41 "asgiref >= 3.4.1, < 4"
    assert k.requirements_of("django", "4.0")["asgiref"] == "<4,>=3.4.1"
    # Django-4.2.tar.gz: setup.cfg L42 "asgiref >= 3.6.0, < 4"
    assert k.requirements_of("django", "4.2")["asgiref"] == "<4,>=3.6.0"
    # Django-5.0-py3-none-any.whl METADATA: "Requires-Dist: asgiref >=3.7.0" (no upper bound!)
    assert k.requirements_of("django", "5.0")["asgiref"] == ">=3.7.0"
    # Django-5.0.1-py3-none-any.whl METADATA: "Requires-Dist: asgiref (<4,>=3.7.0)"
    assert k.requirements_of("django", "5.0.1")["asgiref"] == "<4,>=3.7.0"
    # Django-5.1-py3-none-any.whl METADATA: "Requires-Dist: asgiref<4,>=3.8.1"
    assert k.requirements_of("django", "5.1")["asgiref"] == "<4,>=3.8.1"
    # Django-2.2.28-py3-none-any.whl METADATA: no asgiref Requires-Dist (pytz, sqlparse only)
    assert k.requirements_of("django", "2.2.28")["asgiref"] is None
    assert k.requirements_of("django", "3.2.0") == k.requirements_of("django", "3.2")
    # Django-4.2.12 is yanked on the index
    assert k.release_record("django", "4.2.12")["yanked"] is True
    assert k.release_record("django", "4.2")["requires_python"] == ">=3.8"


def test_channels_daphne_layers_specifiers():
    # channels-1.1.8.tar.gz: setup.py L16 "'asgiref~=1.1',"
    assert k.requirements_of("channels", "1.1.8")["asgiref"] == "~=1.1"
    # channels-2.0.0.tar.gz (sdist only): channels.egg-info/requires.txt "asgiref~=2.1", "daphne~=2.0";
    # setup.py L16 "'asgiref~=2.1',"
    assert k.requirements_of("channels", "2.0.0") == {
        "asgiref": "~=2.1", "django": ">=1.11", "channels": None, "daphne": "~=2.0"}
    assert k.release_record("channels", "2.0.0")["source"] == "egg-info"
    # channels-3.0.0-py3-none-any.whl METADATA: "asgiref (<4,>=3.2.10)", "daphne (<4,>=3.0)", "Django (>=2.2)"
    assert k.requirements_of("channels", "3.0.0") == {
        "asgiref": "<4,>=3.2.10", "django": ">=2.2", "channels": None, "daphne": "<4,>=3.0"}
    # channels-4.0.0-py3-none-any.whl METADATA: "asgiref (<4,>=3.5.0)", "daphne (>=4.0.0) ; extra == 'daphne'"
    rec = k.release_record("channels", "4.0.0")
    assert rec["requires"]["asgiref"] == "<4,>=3.5.0" and rec["requires"]["daphne"] is None
    assert rec["extras"] == {"daphne": {"daphne": ">=4.0.0"}}
    # daphne-2.0.0-py2.py3-none-any.whl METADATA: "asgiref (~=2.0)"
    assert k.requirements_of("daphne", "2.0.0")["asgiref"] == "~=2.0"
    # daphne-2.2.0-py2.py3-none-any.whl METADATA: no asgiref requirement at all (twisted, autobahn)
    assert k.requirements_of("daphne", "2.2.0")["asgiref"] is None
    # daphne-3.0.0-py3-none-any.whl: "asgiref (<4,>=3.2.10)"; daphne-4.0.0-py3-none-any.whl: "asgiref (<4,>=3.5.2)"
    assert k.requirements_of("daphne", "3.0.0")["asgiref"] == "<4,>=3.2.10"
    assert k.requirements_of("daphne", "4.0.0")["asgiref"] == "<4,>=3.5.2"
    # channels_redis-2.0.0-py2.py3-none-any.whl METADATA: "asgiref (~=2.0.1)", "channels (~=2.0.0)"
    assert k.requirements_of("channels_redis", "2.0.0")["asgiref"] == "~=2.0.1"
    assert k.requirements_of("channels_redis", "2.0.0")["channels"] == "~=2.0.0"
    # channels_redis-3.0.0-py2.py3-none-any.whl METADATA: "asgiref (~=3.0)", "channels (~=2.2)"
    assert k.requirements_of("channels-redis", "3.0.0")["asgiref"] == "~=3.0"
    # channels_redis-4.0.0-py3-none-any.whl METADATA: "asgiref (<4,>=3.2.10)", "channels" (unversioned)
    assert k.requirements_of("channels-redis", "4.0.0")["channels"] == ""
    # asgi_redis-1.4.3.tar.gz: setup.py L45 "'asgiref~=1.1.2',"
    assert k.requirements_of("asgi_redis", "1.4.3")["asgiref"] == "~=1.1.2"
    # asgi_ipc-1.4.2.tar.gz: setup.py L26 "'asgiref~=1.1.2',"
    assert k.requirements_of("asgi-ipc", "1.4.2")["asgiref"] == "~=1.1.2"
    # uvicorn-0.14.0-py3-none-any.whl METADATA: "asgiref (>=3.3.4)"; uvicorn-0.18.0 wheel: none
    assert k.requirements_of("uvicorn", "0.14.0")["asgiref"] == ">=3.3.4"
    assert k.requirements_of("uvicorn", "0.18.0")["asgiref"] is None


def test_asgiref_versions_allowed_by():
    rels = k.asgiref_releases()
    # Django-3.2: asgiref <4,>=3.3.2 (see above)
    allowed = k.asgiref_versions_allowed_by("django", "3.2")
    assert allowed[0] == "3.3.2" and allowed[-1] == rels[-1]
    # Django-2.2.28: no asgiref requirement -> every release
    assert k.asgiref_versions_allowed_by("django", "2.2.28") == rels
    # asgi_redis-1.4.3: asgiref~=1.1.2 -> only 1.1.2
    assert k.asgiref_versions_allowed_by("asgi-redis", "1.4.3") == ["1.1.2"]
    # 3.7.0 is yanked: excluded on request
    assert "3.7.0" in k.asgiref_versions_allowed_by("django", "4.2")
    assert "3.7.0" not in k.asgiref_versions_allowed_by("django", "4.2", include_yanked=False)
    # the Channels 1 Redis layer and Django 3.2 cannot share an asgiref
    assert k.asgiref_versions_allowed_by_all({"asgi_redis": "1.4.3", "django": "3.2"}) == []
    assert k.asgiref_versions_allowed_by_all({"django": "3.2", "asgiref": "3.3.2"}) == ["3.3.2"]
    assert k.asgiref_versions_allowed_by_all({"django": "4.2", "asgiref": "3.3.2"}) == []


# ---------------------------------------------------------------------------
# behaviour.toml
# ---------------------------------------------------------------------------

def test_behaviour_changes():
    changes = k.behaviour_changes("asgiref.sync", "sync_to_async")
    ids = [c["id"] for c in changes]
    assert "sync-to-async-thread-sensitive-default-true" in ids
    flip = next(c for c in changes if c["id"] == "sync-to-async-thread-sensitive-default-true")
    assert flip["version"] == "3.3.0" and flip["kind"] == "default-changed"
    # the flip is consistent with the extracted signatures
    assert ([["3.3.0", k.latest_asgiref_release()]], "True") in k.param_default_history(
        "asgiref.sync", "sync_to_async", "thread_sensitive")
    # "also" targets match too
    assert "sync-to-async-thread-sensitive-default-true" in [c["id"] for c in k.behaviour_changes(name="SyncToAsync")]
    removed = k.behaviour_changes("asgiref.base_layer")
    assert [c["id"] for c in removed] == ["base-layer-removed"]
    assert removed[0]["version"] == "2.0.0"
    everything = k.behaviour_changes()
    assert len(everything) >= 20
    for c in everything:
        assert c["evidence"], c["id"]
        assert set(c) >= {"id", "version", "kind", "target", "description", "evidence"}
        assert c["version"] in k.asgiref_releases(), c["id"]


def test_behaviour_entries_agree_with_api_data():
    # every "added" / "removed" entry's version is where the API data says it appears / disappears
    rels = k.asgiref_releases()
    for c in k.behaviour_changes():
        module, _, name = c["target"].partition(":")
        vs = k.versions_having(module, name or None)
        if "param" in c:
            vs = k.versions_accepting_keyword(module, name, c["param"])
        if c["kind"] == "added":
            assert vs and vs[0] == c["version"], c["id"]
        if c["kind"] == "removed":
            assert vs, c["id"]
            assert rels[rels.index(vs[-1]) + 1] == c["version"], c["id"]


def test_successors():
    succ = k.successors_of("asgiref.base_layer:BaseChannelLayer")
    assert [s["new"] for s in succ] == ["channels.layers:BaseChannelLayer"]
    assert {s["new"] for s in k.successors_of("asgiref.inmemory")} == {
        "channels.layers", "channels.layers:InMemoryChannelLayer"}
    assert [s["new"] for s in k.successors_of("asgi_redis")] == ["channels-redis"]
    assert k.successors_of("asgiref.sync:SyncToAsync") == []


# ---------------------------------------------------------------------------
# data files: deterministic, sorted, complete
# ---------------------------------------------------------------------------

def test_api_data_sorted_and_complete():
    from packaging.version import Version

    raw = json.loads((data_dir() / "asgiref_api.json").read_text(encoding="utf-8"))
    rels = raw["releases"]
    assert rels == sorted(rels, key=Version)
    assert len(set(rels)) == len(rels)
    assert list(raw["release_info"]) == rels
    for section in ("modules", "names", "members", "signatures"):
        assert list(raw[section]) == sorted(raw[section]), section
    # every release has API data: the top-level package exists in each one, and each has asgiref.sync or layers
    assert k.versions_having("asgiref") == rels
    covered = set()
    for m in raw["modules"].values():
        covered.update(k._expand(m["versions"]))
    assert covered == set(rels)
    # intervals are well-formed and ordered
    idx = {v: i for i, v in enumerate(rels)}
    for section in ("modules", "names", "members"):
        for key, entry in raw[section].items():
            ivs = entry["versions"]
            flat = [idx[v] for iv in ivs for v in iv]
            assert flat == sorted(flat) and len(set(flat[1::2])) == len(ivs), key


def test_ecosystem_data_sorted():
    from packaging.version import Version

    raw = json.loads((data_dir() / "ecosystem.json").read_text(encoding="utf-8"))
    assert list(raw["packages"]) == sorted(raw["packages"])
    for name, rels in raw["packages"].items():
        assert list(rels) == sorted(rels, key=Version), name
        for ver, rec in rels.items():
            assert set(rec["requires"]) == {"asgiref", "django", "channels", "daphne"}, (name, ver)
            assert rec["source"] in ("wheel-metadata", "pkg-info", "egg-info", "setup.cfg", "setup.py"), (name, ver)
            assert isinstance(rec["yanked"], bool)


def test_data_files_are_canonical():
    # re-serialising with the generator's writer reproduces the committed bytes
    bk = _load_script()
    for fname in ("asgiref_api.json", "ecosystem.json"):
        text = (data_dir() / fname).read_text(encoding="utf-8")
        assert bk.dumps(json.loads(text)) + "\n" == text, fname


def test_extractor_on_py2_and_py3_sources():
    bk = _load_script()
    py3 = (
        b"from .sync import SyncToAsync as S\n"
        b"import os.path\n"
        b"try:\n    import contextvars\nexcept ImportError:\n    contextvars = None\n"
        b"class A(object):\n    x = 1\n    def __init__(self, a, /, b=2, *c, d, e=None, **f):\n        self.y = a\n"
        b"    @property\n    def p(self):\n        return 1\n"
        b"alias = A\n"
        b"async def g(q=lambda: 1): pass\n"
    )
    py2 = b"class Old(object):\n    def m(self):\n        print 'hi'\n\ndef top():\n    pass\n"
    api = bk.extract_release_api({"asgiref/__init__.py": b"", "asgiref/new.py": py3, "asgiref/old.py": py2,
                                  "README.rst": b"x"})
    assert sorted(api) == ["asgiref", "asgiref.new", "asgiref.old"]
    new = api["asgiref.new"]
    assert new["names"]["S"] == {"kind": "import", "from": "asgiref.sync", "name": "SyncToAsync"}
    assert new["names"]["os"] == {"kind": "import", "from": "os"}
    assert new["names"]["contextvars"]["conditional"] is True
    assert new["names"]["alias"] == {"kind": "variable", "alias_of": "A"}
    assert new["names"]["g"] == {"kind": "async-function"}
    assert new["members"]["A.x"] == {"kind": "attribute"}
    assert new["members"]["A.y"] == {"kind": "instance-attribute"}
    assert new["members"]["A.p"] == {"kind": "property"}
    kinds = [(p["name"], p["kind"], p.get("default")) for p in new["signatures"]["A"]]
    assert kinds == [
        ("a", "positional-only", None), ("b", "positional-or-keyword", "2"), ("c", "var-positional", None),
        ("d", "keyword-only", None), ("e", "keyword-only", "None"), ("f", "var-keyword", None)]
    assert new["signatures"]["alias"] == new["signatures"]["A"]
    old = api["asgiref.old"]
    assert old["unparsable"] is True
    assert old["names"] == {"Old": {"kind": "class", "source": "regex"}, "top": {"kind": "function", "source": "regex"}}
    assert old["members"] == {"Old.m": {"kind": "method", "source": "regex"}}


def test_intervals():
    bk = _load_script()
    rels = ["1", "2", "3", "4", "5"]
    assert bk.to_intervals(["1", "2", "4"], rels) == [["1", "2"], ["4", "4"]]
    assert bk.to_intervals([], rels) == []
    assert bk.to_intervals(rels, rels) == [["1", "5"]]


def test_requirement_summaries():
    bk = _load_script()
    s = bk.summarize_requirements([
        "asgiref (<4,>=3.3.2)", "Django>=3.2", "daphne>=4.0.0; extra == 'daphne'",
        "asgiref>=3.4.0; python_version < '3.8'", "other>=1",
    ])
    assert s["requires"] == {"asgiref": "<4,>=3.3.2", "django": ">=3.2", "channels": None, "daphne": None}
    assert s["extras"] == {"daphne": {"daphne": ">=4.0.0"}}
    assert s["markers"]["asgiref"] == [{"specifier": ">=3.4.0", "marker": 'python_version < "3.8"'}]
    assert bk.requires_from_setup_py(
        b"from setuptools import setup\nREQ = ['asgiref~=1.1.2']\nsetup(name='x', install_requires=REQ + ['six'])\n"
    ) == ["asgiref~=1.1.2", "six"]
    assert bk.requires_from_egg_info("asgiref~=2.1\n\n[tests]\npytest\n") == ["asgiref~=2.1", 'pytest; extra == "tests"']
    assert bk.version_of_file("channels-redis", "channels_redis-2.0.0.tar.gz") == "2.0.0"
    assert bk.version_of_file("channels-redis", "channels-redis-2.0.0.tar.gz") == "2.0.0"
    assert bk.version_of_file("asgiref", "asgiref-3.3.0-py3-none-any.whl") == "3.3.0"


# ---------------------------------------------------------------------------
# network: re-derive a sample with the generator and compare with the data
# ---------------------------------------------------------------------------

@pytest.mark.network
def test_rederive_sample_from_index(tmp_path):
    bk = _load_script()
    index = bk.DEFAULT_INDEX
    # one asgiref release, downloaded and extracted afresh
    files = bk.project_files(["asgiref"], tmp_path, index)["asgiref"]
    rel = bk.releases_from_files("asgiref", files)
    f = bk.pick_api_file(rel["3.3.0"])
    bk.download([f], tmp_path, index, 1)
    _, members = bk.strip_top(bk.archive_members(tmp_path / "files" / f["filename"]), f["kind"] == "wheel")
    snap = bk.extract_release_api(members)
    assert sorted(snap) == sorted(m for m in json.loads((data_dir() / "asgiref_api.json").read_text())["modules"]
                                  if "3.3.0" in k.versions_having(m))
    fresh = [k.Param(p["name"], p["kind"], p.get("default")) for p in snap["asgiref.sync"]["signatures"]["sync_to_async"]]
    assert fresh == k.signature_in("asgiref.sync", "sync_to_async", "3.3.0")
    for name in snap["asgiref.sync"]["names"]:
        assert "3.3.0" in k.versions_having("asgiref.sync", name), name
    # one Django release's metadata, via pip install --dry-run --report (PEP 658)
    dj = bk.releases_from_files("django", bk.project_files(["django"], tmp_path, index)["django"])
    rec = bk.release_record("django", "4.2", dj["4.2"], tmp_path, index)
    assert rec["source"] == "wheel-metadata"
    assert rec["requires"] == k.requirements_of("django", "4.2")
    assert rec["requires_python"] == k.release_record("django", "4.2")["requires_python"]


@pytest.mark.network
@pytest.mark.parametrize("name, versions", [
    # wheel METADATA (PEP 658) incl. a yanked release; extras ([daphne]); egg-info requires.txt from an
    # sdist (channels 0.9 has no wheel); the Channels 1 layer and the Channels 2/3 server.
    ("django", ["4.2", "4.2.12"]), ("channels", ["4.0.0", "0.9"]), ("channels-redis", ["4.1.0"]),
    ("daphne", ["3.0.2"]), ("asgi-redis", ["1.4.3"]),
])
def test_rederive_ecosystem_records_from_index(tmp_path, name, versions):
    bk = _load_script()
    index = bk.DEFAULT_INDEX
    releases = bk.releases_from_files(name, bk.project_files([name], tmp_path, index)[name])
    for version in versions:
        fresh = bk.release_record(name, version, releases[version], tmp_path, index)
        assert fresh == k.release_record(name, version), (name, version)
