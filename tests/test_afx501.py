"""AFX501 fixes: exact splices that keep every other byte, in every scope shape."""

from __future__ import annotations

import ast

import pytest

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine


def _fix(tree, source: bytes) -> tuple[bytes, list]:
    root = tree({"m.py": source})
    engine = Engine(Settings(), select_rules(load_catalogue(), ["AFX501"], []))
    outcome = engine.fix([str(root)])
    return (root / "m.py").read_bytes(), outcome.report.findings


@pytest.mark.parametrize(
    "before, after",
    [
        (b"from asgiref.sync import async_to_sync as a2s\r\nasync def f(g):\r\n    x = a2s(g)(1)[0]  \r\n",
         b"from asgiref.sync import async_to_sync as a2s\r\nasync def f(g):\r\n    x = (await g(1))[0]  \r\n"),
        (b"import asgiref.sync\nasync def f(g):\n    return asgiref.sync.AsyncToSync(g)()()\n",
         b"import asgiref.sync\nasync def f(g):\n    return (await g())()\n"),
        ("from asgiref.sync import async_to_sync\nasync def f(g):\n    s = 'é'; async_to_sync(g)(s)\n".encode(),
         "from asgiref.sync import async_to_sync\nasync def f(g):\n    s = 'é'; await g(s)\n".encode()),
        (b"from asgiref.sync import async_to_sync\nasync def f(gs):\n    return [async_to_sync(g)() for g in gs]\n",
         b"from asgiref.sync import async_to_sync\nasync def f(gs):\n    return [await g() for g in gs]\n"),
    ],
)
def test_fixes(tree, before, after):
    fixed, remaining = _fix(tree, before)
    assert fixed == after
    assert remaining == []


@pytest.mark.parametrize(
    "source",
    [
        b"from asgiref.sync import async_to_sync\ndef f(g):\n    async_to_sync(g)()\n",
        b"from asgiref.sync import async_to_sync\nasync def f(g):\n    h = lambda: async_to_sync(g)()\n",
        b"from asgiref.sync import async_to_sync\nasync def f(g):\n    class C:\n        x = async_to_sync(g)\n",
        b"from mylib import async_to_sync\nasync def f(g):\n    async_to_sync(g)()\n",
        b"from asgiref.sync import async_to_sync\nasync def f(g):\n    async_to_sync(g)()  # noqa: AFX501\n",
    ],
)
def test_not_reported(tree, source):
    fixed, remaining = _fix(tree, source)
    assert fixed == source
    assert remaining == []


# --- issue 16 B1, B2, B17 (reproducers in ../shared/reliability/b01, b02, b17) -------------------------------

def _compiles(source: bytes) -> None:
    compile(source, "m.py", "exec")


@pytest.mark.parametrize(
    "before, after",
    [
        # B1: a callee that is an expression keeps its precedence.
        (b"from asgiref.sync import async_to_sync\nasync def f(a, b, x):\n    async_to_sync(a or b)(x)\n",
         b"from asgiref.sync import async_to_sync\nasync def f(a, b, x):\n    await (a or b)(x)\n"),
        (b"from asgiref.sync import async_to_sync\nasync def f(a, b, c, x):\n    async_to_sync(a if c else b)(x)\n",
         b"from asgiref.sync import async_to_sync\nasync def f(a, b, c, x):\n    await (a if c else b)(x)\n"),
        (b"from asgiref.sync import async_to_sync\nasync def f(a, b, x):\n    return async_to_sync(a or b,)(x).y\n",
         b"from asgiref.sync import async_to_sync\nasync def f(a, b, x):\n    return (await (a or b)(x)).y\n"),
        (b"from asgiref.sync import async_to_sync\nasync def f(g):\n    async_to_sync(lambda: g())()\n",
         b"from asgiref.sync import async_to_sync\nasync def f(g):\n    await (lambda: g())()\n"),
        # B17: comments inside the call stay.
        (b"from asgiref.sync import async_to_sync\nasync def f(layer, e):\n"
         b"    async_to_sync(  # TODO(alice): INC-4711\n        layer.group_send\n    )('lobby', e)\n",
         b"from asgiref.sync import async_to_sync\nasync def f(layer, e):\n"
         b"    await (  # TODO(alice): INC-4711\n        layer.group_send\n    )('lobby', e)\n"),
        (b"from asgiref.sync import async_to_sync\nasync def f(layer, e):\n"
         b"    async_to_sync(\n        layer.group_send,  # the layer\n    )('lobby', e)\n",
         b"from asgiref.sync import async_to_sync\nasync def f(layer, e):\n"
         b"    await (\n        layer.group_send  # the layer\n    )('lobby', e)\n"),
        # a list comprehension in a coroutine stays a list with `await` in it
        (b"from asgiref.sync import async_to_sync\nasync def f(g, xs):\n    return {async_to_sync(g)(x) for x in xs}\n",
         b"from asgiref.sync import async_to_sync\nasync def f(g, xs):\n    return {await g(x) for x in xs}\n"),
    ],
)
def test_fixes_keep_meaning(tree, before, after):
    fixed, remaining = _fix(tree, before)
    assert fixed == after
    assert remaining == []
    _compiles(fixed)
    # The same expression tree as writing the awaited call by hand.
    assert ast.dump(ast.parse(fixed)) == ast.dump(ast.parse(after))


def test_b17_generator_expression_reported_not_rewritten(tree):
    source = (b"from asgiref.sync import async_to_sync\n\n\nasync def total(fetch, xs):\n"
              b"    return sum(async_to_sync(fetch)(x) for x in xs)\n")
    fixed, remaining = _fix(tree, source)
    assert fixed == source
    assert [f.code for f in remaining] == ["AFX501"]
    assert remaining[0].fix is None


@pytest.mark.parametrize(
    "source",
    [
        # B2: defaults and decorators of an async def run in the enclosing sync scope.
        b"from asgiref.sync import async_to_sync\nfrom .c import load, deco\n\n\n"
        b"async def handler(settings=async_to_sync(load)('prod')):\n    return settings\n\n\n"
        b"@deco(async_to_sync(load)('x'))\nasync def other(*, k=async_to_sync(load)('k')):\n    return 1\n",
        b"from asgiref.sync import async_to_sync\nclass C:\n    async def m(self, x: async_to_sync(int)(1) = 2):\n"
        b"        return x\n",
    ],
)
def test_b02_scope_of_defaults_and_decorators(tree, source):
    fixed, remaining = _fix(tree, source)
    assert fixed == source
    assert remaining == []


def test_default_of_a_def_nested_in_a_coroutine_runs_in_the_coroutine(tree):
    source = (b"from asgiref.sync import async_to_sync\nasync def outer(load):\n"
              b"    def inner(x=async_to_sync(load)()):\n        return x\n    return inner\n")
    fixed, remaining = _fix(tree, source)
    assert fixed == source.replace(b"async_to_sync(load)()", b"await load()")
    _compiles(fixed)


@pytest.mark.parametrize(
    "source",
    [
        # Channels' and asgiref's own shapes: wrappers built in a coroutine, called from worker threads.
        b"from asgiref.sync import async_to_sync\nclass H:\n    async def __call__(self, scope, receive, send):\n"
        b"        self.base_send = async_to_sync(send)\n        await self.run_in_thread()\n",
        b"from asgiref.sync import AsyncToSync\nasync def app(scope, receive, send):\n"
        b"    sync_send = AsyncToSync(send)\n    return sync_send\n",
        b"from asgiref.sync import async_to_sync, sync_to_async\nasync def f(inner):\n"
        b"    return await sync_to_async(async_to_sync(inner))()\n",
        b"import threading\nfrom asgiref.sync import async_to_sync\nasync def f(inner):\n"
        b"    t = threading.Thread(target=async_to_sync(inner), args=(1,))\n    t.start()\n",
        b"from asgiref.sync import async_to_sync, sync_to_async\nasync def f(send):\n"
        b"    blocking = async_to_sync(send)\n    def work():\n        blocking('x')\n"
        b"    await sync_to_async(work)()\n",
    ],
)
def test_correct_patterns_not_reported(tree, source):
    fixed, remaining = _fix(tree, source)
    assert fixed == source
    assert remaining == []


def test_stored_wrapper_called_in_the_same_coroutine(tree):
    source = (b"from asgiref.sync import async_to_sync\nclass C:\n    async def m(self, send):\n"
              b"        self.sync_send = async_to_sync(send)\n        self.sync_send('x')\n")
    fixed, remaining = _fix(tree, source)
    assert fixed == source
    assert [(f.code, f.span.line) for f in remaining] == [("AFX501", 5)]
    assert "self.sync_send" in remaining[0].message and "await send(...)" in remaining[0].hint


def test_message_states_both_behaviours(tree):
    _, remaining = _fix(tree, b"from asgiref.sync import async_to_sync\nasync def f(g):\n    h = [async_to_sync(g)(x) for x in (async_to_sync(g)(0) for _ in ())]\n")
    assert remaining and all("RuntimeError" in f.message and "2.1.4 hangs" in f.message for f in remaining)
    assert all(len(f.message) <= 120 for f in remaining)


def test_a_call_expected_to_raise_is_not_reported(tree):
    # asgiref's own test of this RuntimeError (tests/test_sync.py, test_async_to_sync_in_async)
    source = (b"import pytest\nfrom asgiref.sync import async_to_sync\nasync def test_it(inner):\n"
              b"    sync_function = async_to_sync(inner)\n    with pytest.raises(RuntimeError):\n"
              b"        sync_function()\n    with pytest.raises(RuntimeError):\n        async_to_sync(inner)()\n"
              b"    sync_function()\n")
    fixed, remaining = _fix(tree, source)
    assert fixed == source
    assert [f.span.line for f in remaining] == [9]
