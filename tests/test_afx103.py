"""AFX103 undeclared-package: detection from code, what counts as declared, where the fix writes."""

from __future__ import annotations

import pytest

from asgifix import compat
from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine

from .conftest import told, write_tree


@pytest.fixture(autouse=True)
def committed_release_data(monkeypatch):
    monkeypatch.setattr(compat, "_knowledge", lambda: None)


def _engine(unsafe=False, pin_strategy="newest", codes=("AFX103",)):
    return Engine(Settings(pin_strategy=pin_strategy), select_rules(load_catalogue(), list(codes), []),
                  unsafe_fixes=unsafe)


def _findings(root):
    report, _, _ = _engine().run([str(root)])
    return [f for f in report.findings if f.code == "AFX103"]


def _packages(root):
    return sorted(f.message.split("`")[1] for f in _findings(root))


@pytest.mark.parametrize("code, package", [
    ("import channels.layers\n", "channels"),
    ("from channels.db import database_sync_to_async\n", "channels"),
    ("import daphne.server as server\n", "daphne"),
    ("INSTALLED_APPS = ['daphne.apps.DaphneConfig']\n", "daphne"),
    ("INSTALLED_APPS = ('channels',)\n", "channels"),
    ("INSTALLED_APPS = []\nINSTALLED_APPS += ['channels']\n", "channels"),
    ("from django.conf import settings\nsettings.INSTALLED_APPS.append('daphne')\n", "daphne"),
    ("INSTALLED_APPS: list = BASE + ['channels']\n", "channels"),
    ("CHANNEL_LAYERS = {'default': {'BACKEND': 'channels_redis.pubsub.RedisPubSubChannelLayer'}}\n", "channels-redis"),
    ("CHANNEL_LAYERS = {'default': {'BACKEND': 'channels.layers.InMemoryChannelLayer'}}\n", "channels"),
])
def test_uses_are_detected(tree, code, package):
    root = tree({"app/settings.py": code, "requirements.txt": "Django==4.2.7\n"})
    assert _packages(root) == [package]


@pytest.mark.parametrize("code", [
    "from .channels import x\n",  # relative import: the project's own module
    "channels = get_channels()\nprint('channels')\n",  # a word, not a use
    "INSTALLED_APPS = ['channelsx', 'django_channels_panel']\n",
    "OTHER = {'BACKEND': 'channels_redis.core.RedisChannelLayer'}\n",
])
def test_lookalikes_are_not_uses(tree, code):
    root = tree({"app/settings.py": code, "requirements.txt": "Django==4.2.7\n"})
    assert _findings(root) == []


@pytest.mark.parametrize("declared, reported", [
    ("channels[daphne]==4.0.0\n", []),
    ("channels==3.0.5\n", []),  # channels 2.x/3.x require daphne
    ("channels==4.0.0\n", ["daphne"]),  # channels 4 brings daphne only with the [daphne] extra
    ("channels-redis==4.2.1\ndaphne\n", []),  # channels_redis requires channels
])
def test_declared_through_another_package(tree, declared, reported):
    root = tree({"settings.py": "INSTALLED_APPS = ['daphne', 'channels']\n", "requirements.txt": declared})
    assert _packages(root) == reported


def test_lock_files_and_constraints_do_not_declare(tree):
    root = tree({"settings.py": "import channels\n", "requirements.txt": "-c constraints.txt\nDjango\n",
                 "constraints.txt": "channels<5\n",
                 "poetry.lock": '[[package]]\nname = "channels"\nversion = "4.0.0"\n'})
    assert _packages(root) == ["channels"]


def test_nothing_is_reported_without_any_dependency_file(tree):
    root = tree({"settings.py": "import channels\n"})
    assert _findings(root) == []


def test_the_project_itself_is_not_undeclared(tree):
    root = tree({"channels/layers.py": "from channels.exceptions import X\n",
                 "setup.cfg": "[metadata]\nname = channels\n[options]\ninstall_requires =\n    asgiref\n"})
    assert _findings(root) == []


def test_reported_once_at_the_first_use_and_noqa_on_that_line(tree):
    root = tree({"a.py": "import channels  # noqa: AFX103\n", "b.py": "x = 1\nimport channels\n",
                 "c.py": "from channels import layers\n", "requirements.txt": "Django\n"})
    (finding,) = _findings(root)
    assert finding.path.endswith("b.py") and (finding.line, finding.span.column) == (2, 1)
    assert "1 more place" in told(finding)


def test_a_declared_predecessor_leaves_the_fix_to_afx102(tree):
    root = tree({"settings.py": "CHANNEL_LAYERS = {'d': {'BACKEND': 'channels_redis.core.RedisChannelLayer'}}\n",
                 "requirements.txt": "asgi_redis==1.4.3\nchannels==4.0.0\n"})
    (finding,) = _findings(root)
    assert finding.fix is None and "AFX102" in finding.hint
    _engine(unsafe=True, codes=("AFX102", "AFX103")).fix([str(root)])
    assert (root / "requirements.txt").read_text() == "channels_redis==4.2.1\nchannels==4.0.0\n"


def _fix(root, **options):
    _engine(**options).fix([str(root)])


def test_sorted_requirements_get_the_line_in_place_and_two_additions_converge(tree):
    root = tree({"settings.py": "INSTALLED_APPS = ['daphne', 'channels']\n",
                 "requirements.txt": "asgiref==3.7.2\ndjango==4.2.7\npsycopg==3.1\n"})
    _fix(root)
    assert (root / "requirements.txt").read_text() == (
        "asgiref==3.7.2\nchannels==4.2.2\ndaphne==4.2.3\ndjango==4.2.7\npsycopg==3.1\n")
    _fix(root)  # nothing left to do
    assert _findings(root) == []


def test_file_without_final_newline_and_crlf(tree):
    root = tree({"settings.py": "import channels\n", "requirements.txt": "Django>=4.2\r\nasgiref>=3.7,<3.9"})
    _fix(root)
    assert (root / "requirements.txt").read_bytes() == b"Django>=4.2\r\nasgiref>=3.7,<3.9\r\nchannels>=4.2.2\r\n"


@pytest.mark.parametrize("name, before, after", [
    ("pyproject.toml", '[project]\nname = "x"\ndependencies = ["django>=4.2,<5", "asgiref<3.9"]\n',
     '[project]\nname = "x"\ndependencies = ["django>=4.2,<5", "asgiref<3.9", "channels>=4.2.2"]\n'),
    ("pyproject.toml", "[project]\nname = 'x'\ndependencies = [\n  'asgiref<3.9',  # pinned\n]\n",
     "[project]\nname = 'x'\ndependencies = [\n  'asgiref<3.9',  # pinned\n  'channels>=4.2.2',\n]\n"),
    ("pyproject.toml", '[project]\nname = "x"\ndependencies = []\n',
     '[project]\nname = "x"\ndependencies = ["channels>=4.3.2"]\n'),
    ("pyproject.toml", '[tool.poetry.dependencies]\npython = "^3.10"\nasgiref = "<3.9"\n\n[tool.black]\n',
     '[tool.poetry.dependencies]\npython = "^3.10"\nasgiref = "<3.9"\nchannels = "^4.2.2"\n\n[tool.black]\n'),
    ("Pipfile", '[packages]\nasgiref = "<3.9"\n[dev-packages]\n',
     '[packages]\nasgiref = "<3.9"\nchannels = ">=4.2.2"\n[dev-packages]\n'),
    ("setup.py", "from setuptools import setup\nsetup(install_requires=[\n    'asgiref<3.9'\n])\n",
     "from setuptools import setup\nsetup(install_requires=[\n    'asgiref<3.9',\n    'channels>=4.2.2',\n])\n"),
])
def test_the_fix_writes_each_format_in_its_own_layout(tree, name, before, after):
    root = tree({name: before, "app/consumers.py": "import channels\n"})
    _fix(root)
    assert (root / name).read_text() == after


def test_pyproject_dependencies_win_over_a_requirements_file_at_the_same_depth(tree):
    root = tree({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["asgiref<3.9"]\n',
                 "requirements.txt": "asgiref==3.7.2\n", "app.py": "import channels\n"})
    _fix(root)
    assert "channels" in (root / "pyproject.toml").read_text()
    assert (root / "requirements.txt").read_text() == "asgiref==3.7.2\n"


def test_no_fitting_release_means_an_unpinned_unsafe_fix(tree):
    root = tree({"requirements.txt": "Django==1.8.19\n", "app.py": "import channels\n"})
    (finding,) = _findings(root)
    assert finding.fix.applicability == "unsafe" and "unpinned" in finding.fix.message
    _fix(root)
    assert (root / "requirements.txt").read_text() == "Django==1.8.19\n"
    _fix(root, unsafe=True)
    assert (root / "requirements.txt").read_text() == "Django==1.8.19\nchannels\n"


# -- daphne started as the server (Procfile, Dockerfile, compose, scripts, units) ------------

@pytest.mark.parametrize("name, content", [
    ("Procfile", "web: daphne chat.asgi:application --port $PORT --bind 0.0.0.0 -v2\n"),
    ("Procfile.dev", "web: exec daphne -b 0.0.0.0 chat.asgi:application\n"),
    ("Dockerfile", 'FROM python:3.12\nCMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "chat.asgi:application"]\n'),
    ("docker/web.Dockerfile", "ENTRYPOINT daphne chat.asgi:application\n"),
    ("docker-compose.prod.yml", "services:\n  web:\n    command: python -m daphne -b 0.0.0.0 chat.asgi:application\n"),
    ("compose.yaml", "services:\n  web:\n    command: [\"daphne\", \"chat.asgi:application\"]\n"),
    ("bin/start.sh", "#!/bin/sh\nset -e\npython manage.py migrate && /venv/bin/daphne chat.asgi:application\n"),
    ("deploy/chat.service", "[Service]\nExecStart=/srv/venv/bin/daphne -u /run/daphne.sock chat.asgi:application\n"),
    ("deploy/supervisor/daphne.conf",
     "[program:d]\ncommand=/venv/bin/daphne -u /run/daphne/daphne%(process_num)d.sock --fd 0 mysite.asgi:application\n"),
    ("Makefile", "run:\n\tdaphne chat.asgi:application\n"),
])
def test_daphne_run_as_the_server(tree, name, content):
    root = tree({"requirements.txt": "Django==4.2.7\nchannels==4.0.0\n", name: content})
    [finding] = _findings(root)
    assert finding.path.endswith(name)
    assert "run as the server: `daphne " in told(finding) and "daphne: command not found" in told(finding)
    assert finding.source_line is not None and "daphne" in finding.source_line[finding.span.column - 1:]
    assert finding.fix is not None and finding.fix.edits[0].content.strip().startswith("daphne==")


@pytest.mark.parametrize("name, content", [
    ("Dockerfile", "RUN pip install daphne\nCMD [\"uvicorn\", \"chat.asgi:application\"]\n"),
    ("Procfile", "web: gunicorn chat.wsgi:application --name daphne\n"),
    ("run.sh", "echo daphne is not used here\nuv add daphne\n"),
    ("Procfile", "web: daphne\n"),  # no application: not a server start
    ("nginx.conf", "upstream daphne { server daphne:8000; }\n"),  # not a file that starts servers
    ("Procfile", "web: daphne chat.asgi:application  # noqa: AFX103\n"),
    # installed by the file that starts it: the image has it
    ("Dockerfile", 'RUN pip install --no-cache-dir -r requirements.txt "daphne>=4"\nCMD ["daphne", "chat.asgi:application"]\n'),
    ("bin/deploy.sh", "uv pip install -e . daphne[tls]==4.1.0 && exec daphne chat.asgi:application\n"),
])
def test_not_daphne_run_as_the_server(tree, name, content):
    root = tree({"requirements.txt": "Django==4.2.7\nchannels==4.0.0\n", name: content})
    assert _findings(root) == []


def test_daphne_started_and_declared_by_channels_extra(tree):
    root = tree({"requirements.txt": "Django==4.2.7\nchannels[daphne]==4.0.0\n",
                 "Procfile": "web: daphne chat.asgi:application\n"})
    assert _findings(root) == []


def test_an_extra_of_an_unknown_distribution_named_after_the_package_may_bring_it(tmp_path):
    # openwisp-notifications: `openwisp-utils[rest,celery,channels] @ URL` brings channels and channels_redis.
    write_tree(tmp_path, {
        "requirements.txt": "openwisp-utils[rest,celery,channels] @ https://example.org/openwisp-utils-1.3.tar.gz\n",
        "app/consumers.py": "from channels.generic.websocket import WebsocketConsumer\n",
        "site/settings.py": 'CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}\n',
    })
    assert _findings(tmp_path) == []


def test_an_unrelated_extra_of_an_unknown_distribution_brings_nothing(tmp_path):
    write_tree(tmp_path, {
        "requirements.txt": "openwisp-utils[rest,celery] @ https://example.org/openwisp-utils-1.3.tar.gz\n",
        "app/consumers.py": "from channels.generic.websocket import WebsocketConsumer\n",
    })
    assert [f.code for f in _findings(tmp_path)] == ["AFX103"]
