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
    assert k.asgiref_release_info("3.3")["artefact"] == "asgiref-3.3.0-py3-none-any.whl"
    assert k.asgiref_release_info("3.3")["sdist"] == "asgiref-3.3.0.tar.gz"
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


def test_base_layer_and_inmemory_removed_in_2_1():
    # asgiref-1.1.2.tar.gz: asgiref/base_layer.py L9 "class BaseChannelLayer(object):"
    assert "1.1.2" in k.versions_having("asgiref.base_layer")
    # asgiref-2.0.0.tar.gz: asgiref.egg-info/SOURCES.txt lists only __init__, server, sync, wsgi, but
    # asgiref-2.0.1-py2.py3-none-any.whl (what pip installs): asgiref/base_layer.py L9, RECORD L2
    assert k.versions_having("asgiref.base_layer", "BaseChannelLayer")[-1] == "2.0.1"
    assert "2.0.0" in k.versions_having("asgiref.base_layer")
    # asgiref-2.1.0-py2.py3-none-any.whl RECORD: __init__, server, sync, testing, wsgi only
    assert "2.1.0" not in k.versions_having("asgiref.base_layer")
    # asgiref-0.13.0.tar.gz: asgiref/base_layer.py L7 (absent from 0.12.1)
    assert k.first_release_with("asgiref.base_layer") == "0.13.0"
    assert k.last_release_with("asgiref.base_layer") == "2.0.1"
    # asgiref 0.8 .. 2.0.1 (wheels): asgiref/inmemory.py (L14 "class ChannelLayer" in 1.1.2 and 2.0.1)
    assert k.first_release_with("asgiref.inmemory") == "0.8"
    assert k.last_release_with("asgiref.inmemory") == "2.0.1"
    assert k.last_release_with("asgiref.conformance") == "2.0.1"
    # the data says where the installed wheel and the sdist differ
    info = k.asgiref_release_info("2.0.0")
    assert info["artefact"] == "asgiref-2.0.0-py2.py3-none-any.whl"
    assert info["sdist"] == "asgiref-2.0.0.tar.gz"
    assert {"asgiref.base_layer", "asgiref.inmemory", "asgiref.conformance"} <= set(info["modules_not_in_sdist"])
    assert "modules_not_in_sdist" not in k.asgiref_release_info("2.1.0")
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
    assert removed[0]["version"] == "2.1.0" and removed[0]["previous"] == "2.0.1"
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
    f = bk.pick_installed_file(rel["3.3.0"])  # what the build reads: the wheel pip installs
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


# ---------------------------------------------------------------------------
# deprecations, hangs (behaviour.toml)
# ---------------------------------------------------------------------------

def test_typing_websocket_names_deprecated_then_removed():
    # asgiref-3.4.0.tar.gz: asgiref/typing.py L258 "__deprecated__ = {", L259 "WebsocketConnectEvent":
    # WebSocketConnectEvent, L270 "def __getattr__", L276 "category=DeprecationWarning"; 3.5.0 has neither
    dep = k.deprecation_of("asgiref.typing", "WebsocketConnectEvent")
    assert dep is not None
    assert (dep["deprecated"], dep["removed"]) == ("3.4.0", "3.5.0")
    assert dep["replacement"] == "asgiref.typing:WebSocketConnectEvent"
    assert k.deprecation_of("asgiref.typing", "WebsocketCloseEvent")["replacement"] == "asgiref.typing:WebSocketCloseEvent"
    # the API data agrees: the class definitions end with 3.3.4, the alias table spans 3.4.0-3.4.1
    assert k.last_release_with("asgiref.typing", "WebsocketConnectEvent") == "3.3.4"
    assert k.versions_having("asgiref.typing", "__deprecated__") == ["3.4.0", "3.4.1"]
    assert k.versions_having("asgiref.typing", "__getattr__") == ["3.4.0", "3.4.1"]
    assert k.first_release_with("asgiref.typing", "WebSocketConnectEvent") == "3.4.0"
    # WebsocketScope was renamed without an alias; names that never warn have no entry
    assert k.deprecation_of("asgiref.typing", "WebsocketScope") is None
    assert k.deprecation_of("asgiref.sync", "sync_to_async") is None


def test_timeout_warns_at_run_time_from_3_13():
    # asgiref-3.13.0.tar.gz: asgiref/timeout.py L39-L41 warnings.warn("asgiref.timeout.timeout is
    # deprecated. Use asyncio.timeout() instead.", DeprecationWarning) in __init__
    change = next(c for c in k.behaviour_changes("asgiref.timeout") if c["id"] == "timeout-deprecated")
    assert (change["version"], change["kind"], change["warns"]) == ("3.13.0", "deprecated", "call")
    assert change["replacement"] == "asyncio:timeout"
    # a run-time warning, not an import-time one, and the module is still shipped
    assert k.deprecation_of("asgiref.timeout", "timeout") is None
    assert k.last_release_with("asgiref.timeout") == k.latest_asgiref_release()


def test_async_to_sync_in_running_loop_hangs_before_2_1_5():
    # asgiref-2.1.4.tar.gz: asgiref/sync.py L40 call_soon_threadsafe on the running loop, L49 blocks
    hang = next(c for c in k.behaviour_changes("asgiref.sync", "AsyncToSync")
                if c["id"] == "async-to-sync-hangs-in-running-loop")
    assert (hang["version"], hang["until"], hang["kind"]) == ("2.0.0", "2.1.4", "hangs")
    assert k.first_release_with("asgiref.sync", "AsyncToSync") == hang["version"]
    raises = next(c for c in k.behaviour_changes("asgiref.sync", "AsyncToSync")
                  if c["id"] == "async-to-sync-refuses-running-loop")
    rels = k.asgiref_releases()
    assert rels[rels.index(hang["until"]) + 1] == raises["version"] == "2.1.5"


def test_wheel_evidence_names_the_recorded_artefact():
    # "<wheel>/<path>:L<n>" evidence cites the file the API data was read from
    for c in k.behaviour_changes():
        for ev in c["evidence"]:
            top = ev.split("/", 1)[0]
            if top.startswith("asgiref-") and top.endswith(".whl"):
                version = top.split("-")[1]
                assert k.asgiref_release_info(version)["artefact"] == top, ev


# ---------------------------------------------------------------------------
# release facts: Python support, top-level modules, security fixes
# ---------------------------------------------------------------------------

def test_requires_python():
    # asgiref-3.13.0-py3-none-any.whl METADATA: Requires-Python: >=3.11
    assert k.requires_python("asgiref", "3.13.0") == ">=3.11"
    assert k.requires_python("asgiref", "3.2.3") is None
    # Django-4.2-py3-none-any.whl METADATA: Requires-Python: >=3.8
    assert k.requires_python("Django", "4.2") == ">=3.8"
    assert k.requires_python("django", "9.9.9") is None
    assert k.requires_python("no-such-package", "1.0") is None


def test_supported_pythons_from_classifiers():
    # asgiref-3.2.3: no Requires-Python; classifiers Python :: 3.5 .. 3.8
    assert k.supported_pythons("asgiref", "3.2.3") == ("3.5", "3.6", "3.7", "3.8")
    # asgiref-3.13.0: Requires-Python >=3.11, classifiers 3.11 .. 3.15
    assert k.supported_pythons("asgiref", "3.13.0")[:4] == ("3.11", "3.12", "3.13", "3.14")
    # Django 4.2: classifiers 3.8 .. 3.11, Requires-Python >=3.8
    assert k.supported_pythons("django", "4.2") == ("3.8", "3.9", "3.10", "3.11")
    # channels_redis-4.3.0-py3-none-any.whl has no classifiers: 3.5-3.14 filtered by >=3.9
    assert k.supported_pythons("channels-redis", "4.3.0") == tuple("3.%d" % n for n in range(9, 15))
    # asgi_redis 1.4.3: neither classifiers nor Requires-Python -> nothing known
    assert k.supported_pythons("asgi-redis", "1.4.3") == ()
    assert k.supported_pythons("asgiref", "9.9.9") == ()
    assert k.supported_pythons("no-such-package", "1.0") == ()
    # always ordered by minor version, and admitted by Requires-Python
    from packaging.specifiers import SpecifierSet

    for package in ["asgiref", *k.known_packages()]:
        for version in (k.asgiref_releases() if package == "asgiref" else k.releases_of(package))[-3:]:
            got = k.supported_pythons(package, version)
            assert list(got) == sorted(got, key=lambda m: int(m.split(".")[1])), (package, version)
            spec = k.requires_python(package, version)
            if spec:
                assert all(SpecifierSet(spec).contains(m + ".999") or SpecifierSet(spec).contains(m + ".0")
                           for m in got), (package, version)


def test_classifier_runs_cover_every_recorded_release():
    data = json.loads((data_dir() / "release_facts.json").read_text(encoding="utf-8"))
    for table in ("pythons", "top_level"):
        for package, rows in data[table].items():
            order = k.asgiref_releases() if package == "asgiref" else k.releases_of(package)
            assert order, package
            covered = []
            for first, last, _ in rows:
                covered.extend(order[order.index(first): order.index(last) + 1])
            assert covered == order, (table, package)


def test_top_level_modules():
    # channels-4.0.0-py3-none-any.whl: channels/__init__.py ...; django_channels-0.7.0-py3-none-any.whl:
    # channels/__init__.py, channels/backends/slack.py ... (a notification library)
    assert k.top_level_modules("channels", "4.0.0") == ("channels",)
    assert k.top_level_modules("django-channels", "0.7.0") == ("channels",)
    assert k.top_level_modules("django_channels") == ("channels",)
    assert k.packages_shipping("channels") == ["channels", "django-channels"]
    assert k.packages_shipping("channels.layers") == ["channels", "django-channels"]
    assert k.packages_shipping("django") == ["django"]
    # the Channels 1 layers
    assert k.top_level_modules("asgi-redis", "1.4.3") == ("asgi_redis",)
    assert k.top_level_modules("asgi-ipc", "1.4.2") == ("asgi_ipc",)
    assert k.top_level_modules("asgi-amqp", "1.1.4") == ("asgi_amqp",)
    # daphne-4.1.2-py3-none-any.whl adds twisted/plugins/fd_endpoint.py without owning twisted;
    # daphne-4.2.0's wheel lacks it (4.2.1's changelog: "Fixed a packaging error in 4.2.0")
    assert k.top_level_modules("daphne", "4.1.2") == ("daphne", "twisted")
    assert k.top_level_modules("daphne", "4.1.2", include_namespace=False) == ("daphne",)
    assert k.top_level_modules("daphne", "4.2.0") == ("daphne",)
    assert k.packages_shipping("twisted") == []
    assert k.packages_shipping("twisted", include_namespace=True) == ["daphne"]
    # asgi_redis-0.8.tar.gz ships no code at all (README, setup.py, egg-info)
    assert k.top_level_modules("asgi-redis", "0.8") == ()
    assert k.top_level_modules("no-such-package") == ()


def test_submodules_of_shared_top_level():
    theirs = k.submodules_shipped("django-channels", "channels", "0.7.0")
    assert "channels.backends.slack" in theirs and "channels.layers" not in theirs
    ours = k.submodules_shipped("channels", "channels", "4.0.0")
    assert {"channels.layers", "channels.routing", "channels.generic.websocket"} <= set(ours)
    assert k.submodules_shipped("django", "django") is None  # not a shared top-level name


def test_asgiref_1_imports_rederived_from_the_wheels():
    # channels-1.1.8-py2.py3-none-any.whl: only channels/test/base.py L8 imports an asgiref 1 module
    channels = k.asgiref_1_imports("channels")
    assert (channels["version"], channels["requires"]) == ("1.1.8", "asgiref~=1.1")
    assert channels["imports"] == [
        "channels-1.1.8-py2.py3-none-any.whl/channels/test/base.py:L8  "
        "from asgiref.inmemory import ChannelLayer as InMemoryChannelLayer"]
    # daphne-1.4.2: only its bundled tests import asgiref.inmemory
    daphne = k.asgiref_1_imports("daphne")
    assert daphne["version"] == "1.4.2"
    assert daphne["imports"] and all("/daphne/tests/" in line for line in daphne["imports"])
    redis = k.asgiref_1_imports("asgi-redis")
    assert redis["imports"] == [
        "asgi_redis-1.4.3-py2.py3-none-any.whl/asgi_redis/core.py:L20  from asgiref.base_layer import BaseChannelLayer"]
    assert k.asgiref_1_imports("channels-redis") is None


def test_afx102_evidence_lines_match_the_released_files():
    from asgifix.catalogue import rule_by_code

    rule = rule_by_code("AFX102")
    recorded = {line for entry in json.loads((data_dir() / "release_facts.json").read_text())["asgiref_1_imports"].values()
                for line in entry["imports"]}
    cited = [ev.split("   (")[0] for row in rule.params["obsolete"] for ev in row.get("evidence", [])
             if ".whl/" in ev and ":L" in ev and ("from asgiref." in ev or "import asgiref" in ev)]
    assert cited
    for ev in cited:
        assert ev in recorded, ev


def test_security_fixes():
    # daphne-4.2.3.tar.gz: CHANGELOG.txt L10 "* Fixed a denial of service vulnerability via unbounded
    # WebSocket message sizes." ... (CVE-2026-44545); L23 header injection (CVE-2026-44546); both 4.2.2
    assert k.security_fix_source("daphne") == "daphne-4.2.3/CHANGELOG.txt"
    fixes = k.security_fixes("daphne")
    by_cve = {cve: f for f in fixes for cve in f["cve"]}
    assert by_cve["CVE-2026-44545"]["version"] == "4.2.2"
    assert by_cve["CVE-2026-44545"]["summary"] == "Fixed a denial of service vulnerability via unbounded WebSocket message sizes."
    assert by_cve["CVE-2026-44546"]["version"] == "4.2.2"
    assert by_cve["CVE-2026-44546"]["evidence"].startswith("daphne-4.2.3/CHANGELOG.txt:L23  ")
    # no sdist (or wheel) of asgiref, channels or channels_redis ships a changelog; for asgiref and
    # channels the CHANGELOG.txt of the source repository was read (build_knowledge.py --changelog-repo)
    assert k.security_fix_source("channels-redis") is None and k.security_fixes("channels-redis") == []
    # django/asgiref CHANGELOG.txt L64-67: "3.11.1 (2026-02-03)" ... "* SECURITY FIX CVE-2025-14550: ...WsgiToAsgi"
    assert k.security_fix_source("asgiref").startswith("django/asgiref@")
    (asgiref_fix,) = k.security_fixes("asgiref")
    assert asgiref_fix["version"] == "3.11.1" and asgiref_fix["cve"] == ["CVE-2025-14550"]
    assert "WsgiToAsgi" in asgiref_fix["summary"]
    # django/channels CHANGELOG.txt L136-142: "3.0.3 (2020-12-28)" ... AsgiHandler ... CVE-2020-35681
    (channels_fix,) = k.security_fixes("channels")
    assert channels_fix["version"] == "3.0.3" and channels_fix["cve"] == ["CVE-2020-35681"]
    assert "AsgiHandler" in channels_fix["summary"]


def test_release_facts_stay_small():
    size = (data_dir() / "release_facts.json").stat().st_size
    assert size < 120_000, size


def test_changelog_parser_and_top_level_helpers():
    bk = _load_script()
    text = ("2.0.1 (2020-01-02)\n------------------\n\n* Fixed a vulnerability in the frobnicator.\n"
            "  More words (CVE-2020-1234).\n\n* Unrelated change.\n\n1.0 (2019-01-01)\n----------------\n\n"
            "* Security: nothing here.\n")
    fixes = bk.security_fixes_from(text, "x-2.0.1/CHANGELOG.txt")
    assert fixes == [{"version": "2.0.1", "cve": ["CVE-2020-1234"], "summary": "Fixed a vulnerability in the frobnicator.",
                      "evidence": "x-2.0.1/CHANGELOG.txt:L4  * Fixed a vulnerability in the frobnicator.",
                      "date": "2020-01-02"}]
    assert bk.top_level_of_wheel(["pkg/__init__.py", "pkg/sub/x.py", "mod.py", "ns/plugins/p.py",
                                  "pkg-1.0.dist-info/RECORD", "pkg-1.0.data/purelib/extra/__init__.py",
                                  "pkg-1.0.data/scripts/run"]) == ["extra", "mod", "pkg", "~ns"]
    assert bk.python_minors(["Programming Language :: Python :: 3.10", "Programming Language :: Python :: 3.9",
                             "Programming Language :: Python :: 2.7", "Programming Language :: Python :: 3"]) == "3.9 3.10"
    assert bk.runs({"1": "a", "2": "a", "3": "b", "4": "a"}, ["1", "2", "3", "4"]) == [
        ["1", "2", "a"], ["3", "3", "b"], ["4", "4", "a"]]


@pytest.mark.network
def test_rederive_wheel_listing_and_changelog_from_index(tmp_path):
    bk = _load_script()
    files = bk.project_files(["asgiref"], tmp_path, bk.DEFAULT_INDEX)["asgiref"]
    rel = bk.releases_from_files("asgiref", files)
    wheel = bk.pick_installed_file(rel["2.0.1"])
    names = bk.wheel_listing([wheel], tmp_path, bk.DEFAULT_INDEX, 1)[wheel["filename"]]
    assert "asgiref/base_layer.py" in names
    wheel = bk.pick_installed_file(rel["2.1.0"])
    assert "asgiref/base_layer.py" not in bk.wheel_listing([wheel], tmp_path, bk.DEFAULT_INDEX, 1)[wheel["filename"]]
