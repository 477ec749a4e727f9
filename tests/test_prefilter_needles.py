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
    needles = {name: set(found) for name, _, found in engine.collectors["python"]}
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

    from asgifix.engine import passes, screens

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
