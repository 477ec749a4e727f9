"""Skipping statements by their text never changes what the asgiref visitors find."""

from __future__ import annotations

from pathlib import Path

import pytest

from asgifix.catalogue import load_catalogue
from asgifix.matchers.async_usage import AsyncToSyncInCoroutine
from asgifix.matchers.sync_orm import collect_sync_orm
from asgifix.matchers.unawaited import UnawaitedCoroutine
from asgifix.matchers import RuleContext
from asgifix.matchers.undeclared_package import collect_wiring
from asgifix.sources import pruning
from asgifix.sources.python import parse
from asgifix.sources.python_asgiref import asgiref_usage
from asgifix.textio import TextDocument

REPO = Path(__file__).resolve().parent.parent

TRICKY = {
    "decorators": (
        "from asgiref.sync import sync_to_async as s2a, async_to_sync\n"
        "import os\n\n"
        "@s2a\n"
        "def f():\n    return os.getcwd()\n\n"
        "@s2a(thread_sensitive=False)\n"
        "def g():\n    pass\n\n"
        "class C:\n    @staticmethod\n    @s2a\n    def h():\n        pass\n"
    ),
    "alias bound after use": (
        "def early():\n    return later_name.sync_to_async(print)\n\n"
        "import asgiref.sync as later_name\n"
        "x = later_name.async_to_sync\n"
    ),
    "guarded imports": (
        "try:\n    from asgiref.base_layer import BaseChannelLayer\n"
        "except ImportError:\n    BaseChannelLayer = object\n"
        "try:\n    import asgiref.local\nexcept (ModuleNotFoundError, ValueError):\n    pass\n"
    ),
    "semicolons and continuation": (
        "import asgiref; x = asgiref.sync.async_to_sync; y = 1\n"
        "z = \\\n    asgiref.timeout.timeout(\n        1)\n"
    ),
    "lone CR line endings": "import os\rfrom asgiref.sync import async_to_sync\rasync def f():\r    async_to_sync(g)()\r",
    "CRLF": "from asgiref.sync import async_to_sync\r\n\r\nasync def f():\r\n    return async_to_sync(g)(1).x\r\n",
    "non-ascii identifiers": (
        "from asgiref.sync import async_to_sync\n"
        "ｐｒｉｎｔ = 1\n"
        "async def f():\n    ａｓｙｎｃ_ｔｏ_ｓｙｎｃ(g)()  # NFKC makes this async_to_sync\n"
        "    return async_to_sync(h)()\n"
    ),
    "module alias and star": (
        "from asgiref import sync\nfrom asgiref.sync import *\n\n"
        "class K:\n    async def m(self):\n        return sync.async_to_sync(self.n)()\n"
        "    def n(self):\n        lam = lambda: sync.AsyncToSync(self.m)\n        return lam\n"
    ),
    "strings only": "x = 'asgiref.sync.async_to_sync'\n# asgiref\n",
    "django settings": (
        "import os\nfrom pathlib import Path\n\nBASE_DIR = Path(__file__).parent\n"
        "INSTALLED_APPS = [\n    'django.contrib.admin',\n    'channels',\n    'daphne.apps.DaphneConfig',\n]\n"
        "INSTALLED_APPS += ['chat']\nINSTALLED_APPS.append('asgi_redis')\n"
        "if os.environ.get('X'):\n    INSTALLED_APPS.insert(0, 'debug_toolbar')\n"
        "CHANNEL_LAYERS = {\n    'default': {\n        'BACKEND': 'asgi_redis.RedisChannelLayer',\n"
        "        'CONFIG': {'hosts': [('localhost', 6379)]},\n    },\n}\n"
        "def later():\n    import channels_redis.core\n    from . import local\n    return __import__('x')\n"
        "class Settings:\n    INSTALLED_APPS: list = ['channels']\n"
    ),
    "unawaited layer and consumer calls": (
        "from channels.generic.websocket import AsyncWebsocketConsumer as Base, WebsocketConsumer\n"
        "from channels.layers import get_channel_layer as gcl\n"
        "import channels.db\nfrom asgiref import sync as s\n\n"
        "L = gcl()\n\n"
        "class Mid(Base):\n    pass\n\n"
        "class Chat(Mid):\n"
        "    async def connect(self):\n        self.accept()\n"
        "        self.channel_layer.group_add('g', self.channel_name)\n"
        "        s.sync_to_async(print)(1)\n        channels.db.database_sync_to_async(print)()\n"
        "    async def receive(self, text_data=None):\n        self.send_json({})\n        self.close()\n"
        "    async def websocket_disconnect(self, m):\n        L.group_discard('g', 'c')\n\n"
        "class Sync(WebsocketConsumer):\n    def connect(self):\n"
        "        self.channel_layer.group_send('g', {})\n\n"
        "def handler(sender, **kw):\n    layer = gcl()\n    layer.send('c', {})\n"
        "    gcl().group_send('g', {})\n"
    ),
    "sync ORM in coroutines": (
        "from django.contrib.auth import get_user_model\nfrom .models import Room, Message as M\n"
        "from . import models as app_models\nfrom asgiref.sync import sync_to_async\n\n"
        "class Consumer:\n    async def connect(self):\n        qs = Room.objects.filter(x=1)\n"
        "        for room in qs:\n            room.save()\n        n = len(qs)\n"
        "        m = M.objects.get(pk=1)\n        m.delete()\n"
        "        def helper():\n            return Room.objects.all()\n"
        "        async def inner():\n            return list(app_models.Room.objects.all())\n"
        "        user = await sync_to_async(get_user_model().objects.get)(pk=1)\n"
        "        user.save()\n\n"
        "async def unrelated():\n    return 1\n\n"
        "async def other():\n    return get_user_model().objects.first()\n"
    ),
    "nested scopes": (
        "from asgiref.sync import async_to_sync as a2s\n"
        "async def outer():\n    def inner():\n        return a2s(outer)()\n"
        "    return [a2s(outer)() for _ in range(2)]\n"
    ),
}


def _sources():
    cases = dict(TRICKY)
    for path in sorted((REPO / "fixtures").rglob("*.py")):
        cases[str(path.relative_to(REPO))] = path.read_text(encoding="utf-8")
    for rule in load_catalogue():
        for index, example in enumerate(rule.examples):
            if example.file.endswith(".py"):
                cases[f"{rule.code} example {index}"] = example.before
    return cases


def _module(text):
    return parse(TextDocument.decode(Path("m.py"), "m.py", text.encode("utf-8"), python=True))


def _both(function, monkeypatch):
    monkeypatch.setattr(pruning, "ENABLED", True)
    pruned = function()
    monkeypatch.setattr(pruning, "ENABLED", False)
    full = function()
    return pruned, full


def _file_matcher(matcher_class, name):
    rule = next(r for r in load_catalogue() if r.matcher == name)
    return matcher_class(rule, RuleContext())


@pytest.mark.parametrize("name, text", sorted(_sources().items()))
def test_pruned_walks_find_what_full_walks_find(name, text, monkeypatch):
    module = _module(text)
    usage, full_usage = _both(lambda: asgiref_usage(module.document, module.tree), monkeypatch)
    assert usage == full_usage
    wiring, full_wiring = _both(lambda: collect_wiring(module), monkeypatch)
    assert wiring == full_wiring
    for matcher in (_file_matcher(AsyncToSyncInCoroutine, "async-to-sync-in-coroutine"),
                    _file_matcher(UnawaitedCoroutine, "unawaited-coroutine")):
        findings, full_findings = _both(lambda: list(matcher.check_file(module)), monkeypatch)
        assert findings == full_findings
    orm, full_orm = _both(lambda: collect_sync_orm(module), monkeypatch)
    assert orm == full_orm


def test_tricky_cases_do_find_something(monkeypatch):
    # (the comparison above would pass trivially if the cases found nothing)
    found = 0
    for text in TRICKY.values():
        module = _module(text)
        usage = asgiref_usage(module.document, module.tree)
        found += bool(usage.references or usage.calls)
    assert found >= len(TRICKY) - 2
    rule = next(r for r in load_catalogue() if r.matcher == "unawaited-coroutine")
    unawaited = list(UnawaitedCoroutine(rule, RuleContext()).check_file(_module(TRICKY["unawaited layer and consumer calls"])))
    assert len(unawaited) == 10, [f.message for f in unawaited]
    orm = collect_sync_orm(_module(TRICKY["sync ORM in coroutines"]))
    assert orm is not None and len(orm[0]) >= 5, orm
    settings = _module(TRICKY["django settings"])
    wiring, _ = collect_wiring(settings)
    assert {w.how for w in wiring} == {"imported", "in INSTALLED_APPS", "as a CHANNEL_LAYERS BACKEND"}


def _lacks_by_slicing(document: TextDocument, node, words) -> bool:
    """What StatementText.lacks means: the statement's full lines, sliced, spell none of the words."""
    import ast

    if not isinstance(node, ast.stmt):
        return False
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
    last = node.end_lineno or node.lineno
    starts = document.line_starts
    segment = document.text[starts[first - 1]:starts[last] if last < len(starts) else len(document.text)]
    return segment.isascii() and not any(word in segment for word in words)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_lacks_answers_as_slicing_the_statement_would(newline):
    import ast
    import random

    rng = random.Random(18)
    words = ("asgiref", "sync", "async", "x", "é", "objects")
    pieces = ["import asgiref", "x = 1", "y = 'é'", "async def f():\n    await g()", "def h():\n    return sync",
              "class C:\n    def m(self):\n        return self.objects", "@deco\ndef d():\n    pass",
              "if x:\n    y = 2\nelse:\n    z = 'async'"]
    for _ in range(200):
        text = newline.join(rng.choice(pieces).replace("\n", newline) for _ in range(rng.randint(1, 8))) + newline
        document = TextDocument.decode(Path("m.py"), "m.py", text.encode("utf-8"), python=True)
        tree = ast.parse(document.text)
        statements = pruning.StatementText(document)
        for node in ast.walk(tree):
            for size in (1, 2):
                chosen = tuple(rng.sample(words, size))
                assert statements.lacks(node, chosen) == _lacks_by_slicing(document, node, chosen), (text, chosen)
