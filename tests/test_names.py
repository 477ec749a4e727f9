"""asgifix.names: one name resolution for every matcher."""

import ast
import textwrap

from asgifix.names import ProjectIndex, module_names, module_paths


def names_of(source, module=None, is_package=False):
    return module_names(ast.parse(textwrap.dedent(source)), module, is_package)


def expr(source):
    return ast.parse(source, mode="eval").body


def test_aliases_and_module_aliases_resolve():
    names = names_of("""
        import asgiref.base_layer as bl
        import asgiref.inmemory
        from channels.routing import URLRouter as R, ProtocolTypeRouter
    """)
    assert names.resolve(expr("bl.BaseChannelLayer")) == "asgiref.base_layer.BaseChannelLayer"
    assert names.resolve(expr("asgiref.inmemory.ChannelLayer")) == "asgiref.inmemory.ChannelLayer"
    assert names.resolve(expr("R")) == "channels.routing.URLRouter"
    assert names.resolve(expr("ProtocolTypeRouter")) == "channels.routing.ProtocolTypeRouter"
    assert names.resolve(expr("URLRouter")) is None
    assert names.resolve(expr("f().x")) is None
    binding = names.binding("R")
    assert (binding.kind, binding.module, binding.name, binding.asname) == ("from", "channels.routing", "URLRouter", "R")
    assert names.binding("asgiref").module == "asgiref.inmemory"


def test_guarded_fallback_and_type_only_flags():
    names = names_of("""
        from typing import TYPE_CHECKING
        try:
            from channels.generic.websocket import WebsocketConsumer
        except ImportError:
            from channels.generic.websockets import WebsocketConsumer
        try:
            from x import y
        except KeyError:
            from z import y
        if TYPE_CHECKING:
            from asgiref.typing import WebsocketScope
        else:
            import asgiref.sync
    """)
    first, second = names.bindings["WebsocketConsumer"]
    assert first.guarded and not first.fallback
    assert second.fallback and not second.guarded
    assert names.binding("WebsocketConsumer") is first
    assert not any(b.guarded or b.fallback for b in names.bindings["y"])
    assert names.binding("WebsocketScope").type_only
    assert not names.binding("asgiref").type_only
    assert names.binding("WebsocketScope").conditional


def test_star_imports_are_reported_not_bound():
    names = names_of("from channels.generic.websockets import *\n")
    assert [s.module for s in names.stars] == ["channels.generic.websockets"]
    assert names.bindings == {}
    assert names.imports_from("channels.generic.websockets") == names.stars


def test_relative_imports_and_local_scope():
    names = names_of("""
        from .compat import Layer
        from .. import settings
        def f():
            import asgiref.sync as s
    """, module="myproj.chat.consumers")
    assert names.resolve(expr("Layer")) == "myproj.chat.compat.Layer"
    assert names.resolve(expr("settings")) == "myproj.settings"
    assert names.binding("s").local_scope
    package = names_of("from .layers import X\n", module="myproj.chat", is_package=True)
    assert package.resolve(expr("X")) == "myproj.chat.layers.X"
    unknown = names_of("from .layers import X\n")
    assert unknown.resolve(expr("X")) == ".layers.X"


def test_positions_cover_the_whole_statement():
    names = names_of("""
        from channels.generic.websockets import (  # the consumers
            WebsocketConsumer,
            JsonWebsocketConsumer as J,
        )
    """)
    binding = names.binding("J")
    assert (binding.line, binding.column, binding.end_line, binding.end_column) == (2, 0, 5, 1)
    assert [b.local for b in names.imports_from("channels.generic")] == ["WebsocketConsumer", "J"]
    assert names.locals_for("channels.generic.websockets.JsonWebsocketConsumer") == ["J"]


def test_module_paths_are_every_suffix():
    assert module_paths("src/myproj/compat.py") == ["src.myproj.compat", "myproj.compat", "compat"]
    assert module_paths("myproj/__init__.py") == ["myproj"]
    assert module_paths("my-project/app/x.py") == ["app.x", "x"]


def test_project_index_follows_reexports():
    index = ProjectIndex()
    index.add("myproj/compat.py", names_of("""
        try:
            from asgiref.base_layer import BaseChannelLayer
        except ImportError:
            from channels.layers import BaseChannelLayer
        from .more import Deep
    """, module="myproj.compat"))
    index.add("myproj/more.py", names_of("from asgiref.inmemory import ChannelLayer as Deep\n"))
    index.add("myproj/stars.py", names_of("from channels.generic.websockets import *\n"))
    user = names_of("from myproj.compat import BaseChannelLayer, Deep\nfrom myproj.stars import WebsocketConsumer\n")
    assert index.resolve(user.resolve(expr("BaseChannelLayer"))) == "asgiref.base_layer.BaseChannelLayer"
    assert index.resolve(user.resolve(expr("Deep"))) == "asgiref.inmemory.ChannelLayer"
    assert list(index.chain("myproj.compat.Deep")) == [
        "myproj.compat.Deep", "myproj.more.Deep", "asgiref.inmemory.ChannelLayer"]
    assert index.resolve("myproj.stars.WebsocketConsumer") == "channels.generic.websockets.WebsocketConsumer"
    assert index.resolve("channels.layers.X") == "channels.layers.X"
    assert index.resolve("myproj.compat.Unbound") == "myproj.compat.Unbound"


def test_reexport_cycles_end():
    index = ProjectIndex()
    index.add("a.py", names_of("from b import X\n"))
    index.add("b.py", names_of("from a import X\n"))
    assert index.resolve("a.X") in {"a.X", "b.X"}
