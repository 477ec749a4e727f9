"""AFX105 package-overwrites-module: packages that install the same top-level module."""

from __future__ import annotations

from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine


def _findings(tree, files):
    root = tree(files)
    report, _, _ = Engine(Settings(), select_rules(load_catalogue(), ["AFX105"], [])).run([str(root)])
    assert not report.errors, report.errors
    return [f for f in report.findings if f.code == "AFX105"]


def test_django_channels_next_to_channels_is_reported_where_it_is_declared(tree):
    (finding,) = _findings(tree, {
        "requirements.txt": "django-channels==0.7.0\nchannels==4.0.0\n",
        "chat/consumers.py": "from channels.generic.websocket import AsyncWebsocketConsumer\n",
    })
    # the code imports Channels' module, so the package to remove is django-channels (line 1)
    assert finding.line == 1 and finding.path.endswith("requirements.txt")
    assert "`django-channels==0.7.0` and `channels==4.0.0` both install `channels/`" in finding.message
    assert "No module named 'channels.generic.websocket'" in finding.notes[0]
    assert "chat/consumers.py:1" in finding.notes[0]
    assert "pip uninstall -y django-channels channels && pip install channels" in finding.hint
    assert finding.fix is None


def test_clash_without_code_is_reported_once_at_the_later_declaration(tree):
    (finding,) = _findings(tree, {"requirements.txt": "channels>=4\ndjango-channels\n"})
    assert finding.line == 2
    assert "the one installed last overwrites the other" in finding.message


def test_django_channels_alone_where_code_uses_channels(tree):
    (finding,) = _findings(tree, {
        "pyproject.toml": '[project]\nname = "chat"\ndependencies = ["Django>=4.2", "django-channels"]\n',
        "chat/layers.py": "from channels.layers import get_channel_layer\n",
    })
    assert finding.path.endswith("pyproject.toml")
    assert "installs its own `channels` package, not the one from channels" in finding.message
    assert "`import channels.layers` at " in finding.notes[0] and "chat/layers.py:1 fails" in finding.notes[0]
    assert "declare channels instead" in finding.hint


def test_channel_layer_backend_counts_as_using_channels(tree):
    (finding,) = _findings(tree, {
        "requirements.txt": "django-channels==0.6.1\n",
        "project/settings.py": 'CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}\n',
    })
    assert "channels.layers" in finding.message


def test_django_channels_used_for_itself_is_fine(tree):
    assert _findings(tree, {
        "requirements.txt": "django-channels==0.7.0\n",
        "notify.py": "from channels.backends.slack import SlackChannel\nimport channels\n",
    }) == []


def test_unrelated_packages_and_impossible_pins_are_fine(tree):
    assert _findings(tree, {
        "requirements.txt": "Django==4.2.7\nchannels==4.0.0\nchannels-redis==4.2.1\ndaphne==4.1.2\n",
        "chat/consumers.py": "from channels.layers import get_channel_layer\n",
    }) == []
    # no release of django-channels satisfies the pin: nothing is installed, nothing is overwritten
    assert _findings(tree, {"requirements.txt": "channels==4.0.0\ndjango-channels>=9\n"}) == []


def test_a_typo_is_not_blamed_on_the_package(tree):
    assert _findings(tree, {
        "requirements.txt": "django-channels==0.7.0\n",
        "notify.py": "from channels.lyaers import x\n",
    }) == []
