"""AFX502: coroutines made and dropped (channel layer, consumer sends, sync_to_async wrappers)."""

from __future__ import annotations

import pytest

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine


def _engine() -> Engine:
    return Engine(Settings(), select_rules(load_catalogue(), ["AFX502"], []))


def _fix(tree, source: str):
    root = tree({"m.py": source})
    outcome = _engine().fix([str(root)])
    return (root / "m.py").read_text(), outcome.report.findings, root


ASYNC_HEAD = "from channels.generic.websocket import AsyncWebsocketConsumer\n"


def test_transitive_async_base_and_await_fix(tree):
    source = (ASYNC_HEAD + "class A(AsyncWebsocketConsumer):\n    pass\nclass B(A):\n    pass\nclass C(B):\n"
              "    async def connect(self):\n        self.accept()\n        self.close(code=4000)\n")
    fixed, remaining, root = _fix(tree, source)
    assert fixed == source.replace("self.accept()", "await self.accept()").replace("self.close(", "await self.close(")
    assert remaining == []
    compile(fixed, "m.py", "exec")
    assert _engine().fix([str(root)]).report.fixed == 0  # a second fix changes nothing


def test_two_wrapped_calls_add_the_import_once(tree):
    source = ("from channels.generic.websocket import WebsocketConsumer\n\n"
              "class C(WebsocketConsumer):\n    def connect(self):\n"
              "        self.channel_layer.group_add('g', self.channel_name)\n"
              "        self.channel_layer.group_send('g', {'type': 'x'})\n")
    fixed, remaining, _ = _fix(tree, source)
    assert fixed.count("from asgiref.sync import async_to_sync") == 1
    assert "async_to_sync(self.channel_layer.group_add)('g', self.channel_name)" in fixed
    assert "async_to_sync(self.channel_layer.group_send)('g', {'type': 'x'})" in fixed
    assert remaining == []
    compile(fixed, "m.py", "exec")


def test_existing_alias_is_used(tree):
    source = ("from asgiref.sync import async_to_sync as a2s\nfrom channels.layers import get_channel_layer\n"
              "def notify():\n    get_channel_layer().group_send('g', {})\n")
    fixed, _, _ = _fix(tree, source)
    assert fixed.endswith("    a2s(get_channel_layer().group_send)('g', {})\n")
    assert fixed.count("import") == 2


@pytest.mark.parametrize(
    "source",
    [
        # not a consumer we know
        "from mylib import AsyncWebsocketConsumer\nclass C(AsyncWebsocketConsumer):\n"
        "    async def connect(self):\n        self.accept()\n",
        # the coroutine is used
        ASYNC_HEAD + "import asyncio\nclass C(AsyncWebsocketConsumer):\n    async def connect(self):\n"
        "        t = asyncio.create_task(self.channel_layer.group_send('g', {}))\n        await t\n"
        "        await asyncio.gather(self.send('a'), self.send('b'))\n",
        # a plain helper of an async consumer may run on the loop: no verdict
        ASYNC_HEAD + "class C(AsyncWebsocketConsumer):\n    def helper(self):\n"
        "        self.channel_layer.group_send('g', {})\n",
        # a nested function's coroutine is for its caller to await
        ASYNC_HEAD + "class C(AsyncWebsocketConsumer):\n    async def connect(self):\n"
        "        async def later():\n            return self.send('x')\n        await later()\n",
        # sync consumers' send and accept are plain methods
        "from channels.generic.websocket import JsonWebsocketConsumer\nclass C(JsonWebsocketConsumer):\n"
        "    def connect(self):\n        self.accept()\n        self.send_json({})\n",
        # a sync override of send
        ASYNC_HEAD + "class B(AsyncWebsocketConsumer):\n    def send(self, data):\n        pass\n"
        "class C(B):\n    async def connect(self):\n        self.send('x')\n",
    ],
)
def test_not_reported(tree, source):
    fixed, remaining, _ = _fix(tree, source)
    assert fixed == source
    assert remaining == []


def test_database_sync_to_async_in_any_coroutine(tree):
    source = "from channels.db import database_sync_to_async\nasync def f(save):\n    database_sync_to_async(save)()\n"
    fixed, _, _ = _fix(tree, source)
    assert fixed.endswith("    await database_sync_to_async(save)()\n")
