"""AFX4xx (Channels/Django wiring) and AFX310 on small multi-module projects and on the fixtures.

The same code is right on one pin and broken on another, so most tests run one project on two
pins: silence on the pin where the code is right is only worth something next to the finding
on the pin where it breaks.
"""

from __future__ import annotations

import shutil

import pytest

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine

from .conftest import FIXTURES, write_tree


def _run(root, codes=("AFX4",), unsafe=False):
    engine = Engine(Settings(), select_rules(load_catalogue(), list(codes), []), unsafe_fixes=unsafe, jobs=1)
    report, _, _ = engine.run([str(root)])
    assert not report.errors, report.errors
    return report.findings


def _fix(root, codes=("AFX4",), unsafe=False):
    engine = Engine(Settings(), select_rules(load_catalogue(), list(codes), []), unsafe_fixes=unsafe, jobs=1)
    return engine.fix([str(root)])


CONSUMERS = {
    "chat/__init__.py": "from .consumers import ChatConsumer as PublicChat\n",
    "chat/bases.py": (
        "import channels.generic.websocket as ws\n\n\n"
        "class Base(ws.AsyncWebsocketConsumer):\n    pass\n"
    ),
    "chat/consumers.py": (
        "from chat.bases import Base as RoomBase\n\n\n"
        "class ChatConsumer(RoomBase):\n    pass\n\n\n"
        "class NotAConsumer:\n    pass\n"
    ),
    "chat/apps.py": "async def ping(scope, receive, send):\n    pass\n",
}

ROUTING = """
from django.urls import path, re_path as rp

import chat.consumers as cc
from chat import PublicChat
from chat.apps import ping
from chat.consumers import NotAConsumer

websocket_urlpatterns = [
    rp(r"^a/$", cc.ChatConsumer),
    path("b/", PublicChat),
    path("c/", ping),
    path("d/", NotAConsumer),
    path("e/", cc.ChatConsumer.as_asgi()),
]
"""


def _consumer_project(tmp_path, requirements):
    files = dict(CONSUMERS)
    files["chat/routing.py"] = ROUTING.lstrip("\n")
    files["requirements.txt"] = requirements
    return write_tree(tmp_path / "project", files)


def test_consumers_found_through_aliases_module_aliases_and_reexports(tmp_path):
    root = _consumer_project(tmp_path, "channels==4.1.0\nDjango==4.2.7\n")
    findings = [f for f in _run(root) if f.code == "AFX401"]
    assert sorted(f.span.line for f in findings) == [9, 10]  # the module alias and the package re-export
    assert all(f.severity == "error" and f.fix and f.fix.applicability == "safe" for f in findings)
    _fix(root)
    text = (root / "chat/routing.py").read_text()
    assert 'rp(r"^a/$", cc.ChatConsumer.as_asgi())' in text
    assert 'path("b/", PublicChat.as_asgi())' in text
    # the ASGI function, the plain class and the already converted route are untouched
    assert 'path("c/", ping)' in text and 'path("d/", NotAConsumer)' in text
    assert text.count(".as_asgi()") == 3
    assert not [f for f in _run(root) if f.code == "AFX401"]


def test_consumers_on_channels_2_are_right_and_straddling_pins_only_warn(tmp_path):
    root = _consumer_project(tmp_path, "channels==2.4.0\nDjango==2.2.28\n")
    # the classes are right there; the route already converted for Channels 3 is what breaks
    (converted,) = [f for f in _run(root) if f.code == "AFX401"]
    assert converted.span.line == 13 and "does not exist in channels 2.4.0" in converted.message
    (root / "requirements.txt").write_text("channels>=2.4,<3.1\nDjango==3.2.25\n")
    findings = [f for f in _run(root) if f.code == "AFX401"]
    assert len(findings) == 3 and all(f.severity == "warning" and f.fix is None for f in findings)
    before = (root / "chat/routing.py").read_bytes()
    _fix(root, unsafe=True)
    assert (root / "chat/routing.py").read_bytes() == before


def test_undeclared_channels_is_judged_as_what_pip_installs(tmp_path):
    root = _consumer_project(tmp_path, "Django==4.2.7\n")
    findings = [f for f in _run(root) if f.code == "AFX401"]
    assert len(findings) == 2


ASGI_TOP = """
import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
from chat.routing import websocket_urlpatterns
django_asgi_app = get_asgi_application()

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": URLRouter(websocket_urlpatterns)})
"""


def _asgi_project(tmp_path, consumers_imports_models: str):
    return write_tree(tmp_path / "project", {
        "requirements.txt": "channels==4.1.0\nDjango==4.2.7\n",
        "mysite/__init__.py": "",
        "mysite/settings.py": "INSTALLED_APPS = ['chat']\n",
        "mysite/asgi.py": ASGI_TOP.lstrip("\n"),
        "chat/__init__.py": "",
        "chat/routing.py": "from . import consumers\n\nwebsocket_urlpatterns = []\n",
        "chat/consumers.py": consumers_imports_models,
        "chat/models.py": "from django.db import models\n\n\nclass Room(models.Model):\n    pass\n",
    })


def test_asgi_order_follows_relative_imports_to_the_models(tmp_path):
    root = _asgi_project(tmp_path, "from channels.generic.websocket import WebsocketConsumer\n"
                                   "from .models import Room\n")
    (finding,) = [f for f in _run(root) if f.code == "AFX404"]
    assert finding.span.line == 7 and "chat.routing → chat.consumers → chat.models" in finding.hint
    _fix(root, unsafe=True)
    lines = (root / "mysite/asgi.py").read_text().splitlines()
    assert lines.index("django_asgi_app = get_asgi_application()") < \
        lines.index("from chat.routing import websocket_urlpatterns  # noqa: E402")
    assert not [f for f in _run(root) if f.code == "AFX404"]


def test_models_imported_inside_a_function_do_not_count(tmp_path):
    root = _asgi_project(tmp_path, "from channels.generic.websocket import WebsocketConsumer\n\n\n"
                                   "def rooms():\n    from .models import Room\n    return Room\n")
    assert not [f for f in _run(root) if f.code == "AFX404"]


def test_asgi_order_fix_is_refused_when_code_between_uses_the_import(tmp_path):
    root = _asgi_project(tmp_path, "from channels.generic.websocket import WebsocketConsumer\n"
                                   "from .models import Room\n")
    asgi = root / "mysite/asgi.py"
    asgi.write_text(asgi.read_text().replace(
        "django_asgi_app = get_asgi_application()", "PATTERNS = list(websocket_urlpatterns)\n"
        "django_asgi_app = get_asgi_application()"))
    (finding,) = [f for f in _run(root) if f.code == "AFX404"]
    assert finding.fix is None


@pytest.mark.parametrize("name", ["channels2-chat", "channels3-chat", "channels4-chat"])
def test_channels_fixtures_are_right_for_their_pins(tmp_path, name):
    assert _run(FIXTURES / name, ("AFX4", "AFX310")) == []
    # ... and the same code breaks on pins it was not written for
    project = tmp_path / name
    shutil.copytree(FIXTURES / name, project)
    other = "Django==4.2.7\nchannels==4.1.0\n" if name != "channels4-chat" else "Django==3.2.25\nchannels==2.4.0\n"
    (project / "requirements.txt").write_text(other)
    found = {f.code for f in _run(project)}
    assert found & {"AFX401", "AFX402", "AFX406", "AFX409"}, found


def test_legacy_chat_wiring_and_what_fix_leaves(tmp_path):
    project = tmp_path / "legacy-chat"
    shutil.copytree(FIXTURES / "legacy-chat", project)
    before = {f.code for f in _run(project)}
    assert {"AFX401", "AFX404", "AFX406", "AFX407", "AFX408", "AFX409"} <= before
    _fix(project, codes=("ALL",), unsafe=True)
    after = {f.code for f in _run(project)}
    # what needs a person: the ASGI-2 middleware, the gunicorn worker, a daphne with runserver
    assert after == {"AFX406", "AFX407", "AFX408"}
    assert "consumers.ChatConsumer.as_asgi()" in (project / "chat/routing.py").read_text()


def test_daphne_runserver_fact_comes_from_the_released_files():
    from asgifix.matchers.wiring import having

    runserver = having("daphne.runserver")
    assert "4.0.0" in runserver and "4.1.2" in runserver and "4.1.1" not in runserver
    assert "3.0.2" not in runserver
    from packaging.version import Version

    assert min(having("channels.as_asgi"), key=Version) == "3.0.0"
    assert "3.0.3" in having("channels.auth_eager_models") and "3.0.4" not in having("channels.auth_eager_models")


def test_known_bad_combination_only_when_every_allowed_release_is_in_it(tmp_path):
    root = write_tree(tmp_path / "p", {"requirements.txt": "channels==4.2.1\nchannels-redis==4.2.1\n"})
    (finding,) = _run(root, ("AFX310",))
    assert finding.severity == "error" and "channels 4.2.1" in finding.message
    # A range that merely allows 4.2.1: pip installs 4.2.2, which works (the corpus' false alarms).
    (root / "requirements.txt").write_text("channels>=4.2,<4.3\nchannels-redis==4.2.1\n")
    assert _run(root, ("AFX310",)) == []
    (root / "requirements.txt").write_text("channels==4.2.2\nchannels-redis==4.2.1\n")
    assert _run(root, ("AFX310",)) == []
