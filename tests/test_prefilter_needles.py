"""The bytes prefilter lets through every file a rule's data looks for (issue 15's asgi_redis bug)."""

from __future__ import annotations

from asgifix.catalogue import load_catalogue
from asgifix.config import load_settings
from asgifix.engine import Engine

from .conftest import run_cli, write_tree


def _engine() -> Engine:
    return Engine(load_settings(None), load_catalogue(), jobs=1)


def test_module_importing_asgi_redis_without_the_word_channels_is_code_to_change(tmp_path):
    write_tree(tmp_path, {
        "requirements.txt": "asgi-redis==1.4.3\nasgiref==3.7.2\n",
        "app/layer.py": "import asgi_redis\n\nLAYER = asgi_redis.RedisChannelLayer\n",
    })
    report = run_cli("check", "--format", "json", "--exit-zero", ".", cwd=tmp_path).json()
    afx102 = [f for f in report["findings"] if f["code"] == "AFX102"]
    assert len(afx102) == 1
    assert "app/layer.py:1 (imports `asgi_redis`)" in afx102[0]["hint"]


def test_every_module_the_rules_data_names_is_a_needle_of_the_collector_that_reads_it():
    engine = _engine()
    needles = {name: set(found.needles) for name, _, found in engine.collectors["python"]}
    rules = {rule.code: rule for rule in load_catalogue()}
    wanted = set()
    for entry in rules["AFX102"].params["obsolete"]:
        wanted.update(m.split(".")[0] for m in entry.get("code-modules", []) + entry.get("code-backends", []))
    for entry in rules["AFX103"].params["packages"]:
        wanted.update(m.split(".")[0] for m in entry.get("modules", []))
    assert {"asgi_redis", "asgi_ipc", "asgi_amqp", "asgi_rabbitmq", "channels_redis"} <= wanted
    assert {w.encode() for w in wanted} <= needles["django-wiring"]
    # and so the file prefilter of Python files
    assert {w.encode() for w in wanted} <= set(engine.needles["python"])


def test_screens_pass_exactly_the_files_holding_a_needle():
    import random

    from asgifix.prefilter import passes, screens

    engine = _engine()
    rng = random.Random(15)
    for kind, needles in engine.needles.items():
        if needles is None:
            continue
        screened = screens(needles)
        assert sum(1 if n is None else len(n) for _, n in screened) < len(needles) or len(needles) < 3
        pieces = list(needles) + [b"asgi", b"channel", b"onsumer", b"sync", b"_APP", b"async", b"Channel",
                                  b"x", b" ", b"\n", b"import ", b"ASGI", b"django.", b"setup"]
        pieces += [n[:-1] for n in needles] + [n[1:] for n in needles]
        for _ in range(3000):
            raw = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
            assert passes(raw, screened) == any(n in raw for n in needles), (kind, raw)


# -- refined needles (asgifix.matchers.REFINEMENTS) ----------------------------------------------
# A file whose only needles are refined ones that do not hold is never parsed, so a syntax error in
# it is not reported; one where a refinement holds is parsed (and its syntax error reported).

def _parse_errors(tmp_path, files: dict[str, str]) -> set[str]:
    broken = {path: text + "\nthis is ( not python\n" for path, text in files.items()}
    write_tree(tmp_path, {"requirements.txt": "channels==4.1.0\n", **broken})
    report = run_cli("check", "--format", "json", "--exit-zero", ".", cwd=tmp_path).json()
    return {error["path"] for error in report["errors"]}


def test_refined_needles_keep_out_files_the_rules_cannot_use(tmp_path):
    assert _parse_errors(tmp_path, {
        "site/settings.py": "INSTALLED_APPS = ['django.contrib.auth']\n",  # names neither channels nor daphne
        "site/middleware.py": "class TimingMiddleware:\n    def __call__(self, request): ...\n",  # no scope
        "scripts/load.py": "import django\ndjango.setup()\n",  # not an asgi*.py
        "site/urls.py": "from django.conf.urls import url\n",  # not a routing module
        "app/views.py": "async def view(request):\n    return 1\n",  # no ORM word
        "app/notes.py": "x = 1  # noqa: E501\n",  # no asgifix code
    }) == set()


def test_refined_needles_let_in_files_where_the_refinement_holds(tmp_path):
    assert _parse_errors(tmp_path, {
        "site/settings.py": "INSTALLED_APPS = ['daphne', 'django.contrib.auth']\n",
        "site/middleware.py": "class TokenMiddleware:\n    def __call__(self, scope): ...\n",
        "site/asgi.py": "import django\ndjango.setup()\n",
        "chat/routing.py": "from django.conf.urls import url\n",
        "app/views.py": "from .models import Room\nasync def view(request):\n    Room.objects.get()\n",
        "app/notes.py": "x = 1  # noqa: afx999\n",
    }) == {"site/settings.py", "site/middleware.py", "site/asgi.py", "chat/routing.py", "app/views.py",
           "app/notes.py"}


def test_gate_admits_a_file_through_an_unrefined_needle_or_a_refinement_that_holds():
    from asgifix.matchers import Gate, Refinement

    gate = Gate((b"Middleware", b"channels"), {b"Middleware": Refinement(all_of=((b"scope",), (b"def", b"class")),
                                                                          name_has="mid")})
    assert gate.admits(b"import channels", "x.py")
    assert not gate.admits(b"class Middleware: scope", "x.py")  # the name lacks "mid"
    assert not gate.admits(b"Middleware def", "middleware.py")  # no scope
    assert gate.admits(b"Middleware def scope", "MyMiddleware.py")
    assert Gate(()).admits(b"", "anything")
    assert Refinement(name_prefix="asgi").holds(b"", "ASGI_prod.py")
    assert not Refinement(name_prefix="asgi").holds(b"", "my_asgi.py")


def test_screens_with_refined_needles_pass_exactly_the_files_a_gate_admits():
    import random

    from asgifix.prefilter import passes, screens

    engine = _engine()
    rng = random.Random(16)
    for kind, refined in engine.refined.items():
        needles = engine.needles[kind]
        screened = screens(needles, refined)
        words = {w for rs in refined.values() for r in rs for g in r.all_of for w in g}
        words |= {r.folded for rs in refined.values() for r in rs if r.folded}
        pieces = list(needles) + sorted(words) + [b"AFX", b"Afx", b"sync", b"x", b" ", b"asgi"]
        names = ["routing.py", "asgi.py", "views.py", "my_routing.py"]
        for _ in range(4000):
            raw = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 5)))
            name = rng.choice(names)
            expected = any(n in raw and (n not in refined or any(r.holds(raw, name) for r in refined[n]))
                           for n in needles)
            assert passes(raw, screened, name, refined) == expected, (kind, raw, name)


def test_the_aho_corasick_prefilter_admits_exactly_the_files_the_scans_admit(monkeypatch):
    import random

    import asgifix.prefilter as prefilter_module
    from asgifix.prefilter import Prefilter

    import ahocorasick_rs  # noqa: F401 (a test extra: the suite runs both implementations)
    engine = _engine()
    rng = random.Random(17)
    for kind, needles in engine.needles.items():
        if needles is None:
            continue
        refined = engine.refined.get(kind)
        fast, slow = Prefilter(needles, refined), Prefilter(needles, refined)
        monkeypatch.setattr(prefilter_module, "ACCELERATED", False)
        assert slow.backend == "scans"
        monkeypatch.setattr(prefilter_module, "ACCELERATED", True)
        assert fast.backend == "aho-corasick"
        words = {w for rs in (refined or {}).values() for r in rs for g in r.all_of for w in g}
        pieces = list(needles) + sorted(words) + [b"afx", b"sync", b"asgi", b"x", b" ", b"\n"]
        pieces += [n[:-1] for n in needles] + [n[1:] for n in needles]
        for _ in range(3000):
            raw = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 5)))
            name = rng.choice(["routing.py", "asgi.py", "views.py"])
            assert fast.admits(raw, name) == slow.admits(raw, name), (kind, raw, name)
