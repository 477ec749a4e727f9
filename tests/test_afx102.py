"""AFX102 obsolete-asgi-package: what is reported, what the fix writes, and what it leaves alone."""

from __future__ import annotations

import pytest

from asgifix import compat
from asgifix.catalogue import load_catalogue, rule_by_code, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine

from .conftest import told


@pytest.fixture(autouse=True)
def committed_release_data(monkeypatch):
    # Versions come from rules/data/release_requirements.toml, so expectations do not
    # move when the generated knowledge data is refreshed.
    monkeypatch.setattr(compat, "_knowledge", lambda: None)


# A pin that needs asgiref 3 (Django 4.2 requires asgiref>=3.6): without one, a lone Channels 1
# layer resolves to a consistent asgiref 1.x environment, which is old but not broken.
EVIDENCE = "Django==4.2.7\n"


def _engine(unsafe=True, target=None, pin_strategy="newest"):
    settings = Settings(target_asgiref=target, pin_strategy=pin_strategy)
    return Engine(settings, select_rules(load_catalogue(), ["AFX102"], []), unsafe_fixes=unsafe)


def _findings(root, **options):
    report, _, _ = _engine(**options).run([str(root)])
    return [f for f in report.findings if f.code == "AFX102"]


def _fixed(root, name, **options):
    _engine(**options).fix([str(root)])
    return (root / name).read_bytes().decode("utf-8")


def test_message_states_the_verified_facts(tree):
    root = tree({"requirements.txt": EVIDENCE + "asgi_redis==1.4.3\n"})
    (finding,) = _findings(root)
    for fact in ("1.4.3", "2017-09-14", "asgiref~=1.1.2", "asgiref.base_layer", "channels_redis", "2018-02-02"):
        assert fact in told(finding)
    assert finding.fix.applicability == "unsafe"
    assert "CHANNEL_LAYERS BACKEND" in finding.fix.message


def test_the_fix_is_unsafe_and_needs_the_flag(tree):
    root = tree({"requirements.txt": EVIDENCE + "asgi_redis==1.4.3\n"})
    assert _fixed(root, "requirements.txt", unsafe=False) == EVIDENCE + "asgi_redis==1.4.3\n"
    assert _fixed(root, "requirements.txt") == EVIDENCE + "channels_redis==4.3.0\n"


@pytest.mark.parametrize("pins, chosen", [
    (EVIDENCE, "4.3.0"),
    ("channels==4.0.0\n", "4.2.1"),  # 4.3.0 requires channels>=4.2.2
    ("asgiref==3.2.3\nchannels==2.4.0\n", "3.1.0"),  # 3.2+ require asgiref>=3.2.10
    ("channels==2.1.0\nasgiref==2.3.2\n", "2.3.3"),
])
def test_successor_version_fits_the_other_pins(tree, pins, chosen):
    root = tree({"requirements.txt": pins + "asgi-redis==1.4.3\n"})
    assert _fixed(root, "requirements.txt").endswith(f"channels-redis=={chosen}\n")


def test_style_spelling_marker_and_comment_are_kept(tree):
    root = tree({"requirements.txt": "Django==4.2.7\r\nASGI_Redis >=1.4 ; python_version >= '3'  # layer\r\n"})
    assert _fixed(root, "requirements.txt") == (
        "Django==4.2.7\r\nchannels_redis >=4.3.0 ; python_version >= '3'  # layer\r\n")


def test_unpin_strategy_and_unpinned_declarations(tree):
    root = tree({"requirements.txt": EVIDENCE + "asgi_redis==1.4.3\nasgi-ipc\n"})
    assert _fixed(root, "requirements.txt", pin_strategy="unpin").startswith(EVIDENCE + "channels_redis\n")


def test_no_successor_no_fix(tree):
    root = tree({"setup.cfg": "[options]\ninstall_requires =\n    Django==4.2.7\n    asgi_ipc\n"})
    (finding,) = _findings(root)
    assert finding.fix is None and "no IPC layer" in finding.hint


def test_a_package_the_index_does_not_serve(tree):
    root = tree({"requirements.txt": "asgi_rabbitmq\n"})
    (finding,) = _findings(root)
    assert "pip cannot install it at all" in finding.message
    assert _fixed(root, "requirements.txt") == "channels_rabbitmq\n"


def test_a_consistent_channels_1_environment_is_not_reported(tree):
    # asgi_redis alone resolves with asgiref 1.1.2: nothing in the environment needs asgiref 2+.
    root = tree({"requirements.txt": "asgi_redis==1.4.3\n"})
    assert _findings(root) == []
    (finding,) = _findings(root, target="3.8.1")  # what moving to asgiref 3.8.1 needs: it goes
    assert "asgiref~=1.1.2" in told(finding) and finding.fix is not None
    root = tree({"requirements.txt": "Django==1.11.29\nchannels==1.1.8\ndaphne==1.4.2\nasgi_redis==1.4.3\n"})
    assert _findings(root) == []


def test_channels_1_needs_evidence_of_asgiref_2(tree):
    root = tree({"requirements.txt": "channels==1.1.8\n"})
    assert _findings(root) == []
    (finding,) = _findings(root, target="3.8.1")
    assert "--target-asgiref 3.8.1" in told(finding)
    root = tree({"requirements.txt": "channels<2\nasgiref>=3.2\n"})
    (finding,) = _findings(root)
    assert "`asgiref>=3.2`" in told(finding)
    root = tree({"requirements.txt": "channels>=1.1\nasgiref>=3.2\n"})
    assert _findings(root) == []  # channels 2+ is allowed: nothing is obsolete


def test_generated_and_hashed_lines_are_not_rewritten(tree):
    compiled = ("#    pip-compile requirements/main.in\n"
                "asgi-redis==1.4.3 \\\n    --hash=sha256:abc\n    # via -r requirements/main.in\n")
    root = tree({"requirements/main.txt": EVIDENCE + compiled, "requirements/main.in": EVIDENCE + "asgi-redis\n"})
    findings = {f.path.rsplit("/", 1)[-1]: f for f in _findings(root)}
    assert findings["main.txt"].fix is None
    assert "requirements/main.in" in findings["main.txt"].hint and "pip-compile" in findings["main.txt"].hint
    assert findings["main.in"].fix is not None
    assert _fixed(root, "requirements/main.txt") == EVIDENCE + compiled
    assert (root / "requirements/main.in").read_text() == EVIDENCE + "channels-redis\n"


def test_lock_files_are_evidence_only(tree):
    lock = '[[package]]\nname = "asgi-redis"\nversion = "1.4.3"\n'
    root = tree({"poetry.lock": lock,
                 "pyproject.toml": '[tool.poetry.dependencies]\ndjango = "^4.2"\nasgi-redis = "^1.4"\n'})
    assert [f.path.rsplit("/", 1)[-1] for f in _findings(root)] == ["pyproject.toml"]
    root = tree({"poetry.lock": lock, "pyproject.toml": '[tool.poetry.dependencies]\ndjango = "^4.2"\n'})
    (finding,) = _findings(root)
    assert finding.path.endswith("poetry.lock") and finding.fix is None and "regenerate" in finding.hint


def test_constraints_are_not_declarations(tree):
    root = tree({"constraints.txt": "asgi_redis<2\n", "requirements.txt": "-c constraints.txt\nDjango==4.2.7\n"})
    assert _findings(root) == []


def test_lines_that_cannot_be_rewritten_in_place(tree):
    root = tree({"requirements.txt": EVIDENCE + "asgi_redis\\\n==1.4.3\nasgi_redis @ https://example.com/asgi_redis.zip\n"})
    findings = _findings(root)
    assert len(findings) == 2 and all(f.fix is None for f in findings)


@pytest.mark.parametrize("name, before, after", [
    ("Pipfile", '[packages]\ndjango = "==4.2.7"\nasgi_redis = "==1.4.3"\n',
     '[packages]\ndjango = "==4.2.7"\nchannels_redis = "==4.3.0"\n'),
    ("Pipfile", '[packages]\ndjango = "==4.2.7"\n"asgi-redis" = "*"\n', '[packages]\ndjango = "==4.2.7"\n"channels-redis" = "*"\n'),
    ("setup.py", 'from setuptools import setup\nsetup(install_requires=["Django==4.2.7", "asgi_redis~=1.4"])\n',
     'from setuptools import setup\nsetup(install_requires=["Django==4.2.7", "channels_redis~=4.3.0"])\n'),
    ("pyproject.toml", '[tool.poetry.group.prod.dependencies]\ndjango = "4.2.7"\nasgi-redis = "1.4.3"\n',
     '[tool.poetry.group.prod.dependencies]\ndjango = "4.2.7"\nchannels-redis = "4.3.0"\n'),
    ("pyproject.toml", "[dependency-groups]\nlayers = ['Django==4.2.7', 'asgi_redis==1.4.3']\n",
     "[dependency-groups]\nlayers = ['Django==4.2.7', 'channels_redis==4.3.0']\n"),
])
def test_every_format_is_rewritten_in_its_own_syntax(tree, name, before, after):
    root = tree({name: before})
    assert _fixed(root, name) == after


def test_rule_data_is_complete_and_cites_its_sources():
    rule = rule_by_code("AFX102")
    packages = {row["package"] for row in compat.fallback_table()}
    for row in rule.params["obsolete"]:
        assert row["evidence"], row["package"]
        assert row["breaks"] and row["what"] and row["successor-note"]
        if row["successor"]:
            assert row["successor"] in packages, f"no release data for {row['successor']}"
    for row in compat.fallback_table():
        assert row["evidence"].endswith("METADATA")


# -- the code that has to change with the replacement is named ------------------------------

def test_fix_names_the_code_that_goes_with_it(tree):
    root = tree({
        "requirements.txt": "Django==4.2.7\nchannels==4.0.0\nasgi_redis==1.4.3\n",
        "chat/settings.py": 'CHANNEL_LAYERS = {\n    "default": {"BACKEND": "asgi_redis.RedisChannelLayer"},\n}\n',
        "chat/layers.py": "import channels\nfrom asgiref.base_layer import BaseChannelLayer\n",
        "chat/views.py": "import channels.layers\n",  # nothing to change there
    })
    (finding,) = _findings(root)
    places = finding.fix.message.split("code to change with it: ")[1]
    assert places == (f"{root.as_posix()}/chat/layers.py:2 (`asgiref.base_layer.BaseChannelLayer`, AFX201), "
                      f"{root.as_posix()}/chat/settings.py:2 (CHANNEL_LAYERS BACKEND `asgi_redis.RedisChannelLayer`)")
    assert finding.hint == finding.fix.message


def test_channels_1_names_its_channels_1_imports_and_no_fix_still_lists_them(tree):
    root = tree({
        "requirements.txt": "Django==3.2.25\nchannels==1.1.8\nasgi_ipc==1.4.2\n",
        "chat/consumers.py": "from channels.generic.websockets import WebsocketConsumer\nfrom channels import Group\n",
        "chat/settings.py": 'CHANNEL_LAYERS = {"default": {"BACKEND": "asgi_ipc.IPCChannelLayer"}}\n',
    })
    by_package = {f.message.split("`")[1]: f for f in _findings(root)}
    channels = by_package["channels==1.1.8"]
    assert channels.fix.message.endswith(
        f"code to change with it: {root.as_posix()}/chat/consumers.py:1 (imports `channels.generic.websockets`)")
    ipc = by_package["asgi_ipc==1.4.2"]
    assert ipc.fix is None  # no successor
    assert ipc.hint.endswith(
        f"code to change with it: {root.as_posix()}/chat/settings.py:1 (CHANNEL_LAYERS BACKEND `asgi_ipc.IPCChannelLayer`)")


# -- any other package whose releases need asgiref 1.x (from the release data) -------------

@pytest.fixture
def old_layer_releases(monkeypatch):
    """Release data for two made-up packages: one whose every release needs asgiref 1.x, one that moved on."""
    rows = compat.fallback_table() + [
        {"package": "asgi-foo", "version": "0.9", "requires": {"asgiref": "~=1.0"}},
        {"package": "asgi-foo", "version": "1.2", "requires": {"asgiref": "~=1.1"}},
        {"package": "bar-layer", "version": "1.0", "requires": {"asgiref": "~=1.1"}},
        {"package": "bar-layer", "version": "2.0", "requires": {"asgiref": ">=3.2,<4"}},
        {"package": "bar-layer", "version": "2.5", "requires": {"asgiref": ">=3.5,<4"}},
    ]
    monkeypatch.setattr(compat, "fallback_table", lambda: rows)
    monkeypatch.setattr(compat, "_RELEASES", {})


def test_any_package_whose_releases_need_asgiref_1_is_reported(tree, old_layer_releases):
    root = tree({"requirements.txt": "Django==4.2.7\nasgi-foo==1.2\nbar-layer>=1,<2\nbar-other==1.0\n"})
    by_package = {f.message.split("`")[1]: f for f in _findings(root)}
    assert sorted(by_package) == ["asgi-foo==1.2", "bar-layer>=1,<2"]
    foo = by_package["asgi-foo==1.2"]
    assert foo.message == "`asgi-foo==1.2` needs asgiref 1.x, but this project needs asgiref 2+"
    assert "every release of asgi-foo requires asgiref 1.x: the last, 1.2, requires asgiref~=1.1" in foo.notes
    assert "this project needs asgiref 2+ (`Django==4.2.7`" in told(foo)
    assert foo.fix is None and "no release of asgi-foo supports asgiref 2+" in foo.hint
    bar = by_package["bar-layer>=1,<2"]
    assert "bar-layer 1.0 requires asgiref~=1.1; bar-layer 2.0 and newer work with asgiref 2+" in bar.notes
    assert bar.fix.applicability == "unsafe"
    assert _fixed(root, "requirements.txt") == "Django==4.2.7\nasgi-foo==1.2\nbar-layer>=2.5\nbar-other==1.0\n"


def test_such_a_package_is_left_alone_in_a_project_still_on_asgiref_1(tree, old_layer_releases):
    root = tree({"requirements.txt": "Django==1.11.29\nasgi-foo==1.2\n"})
    assert _findings(root) == []


def test_channels_1_next_to_any_package_that_needs_asgiref_2(tree):
    # No asgiref pin, no Django 3: daphne 2.5.0 (asgiref~=3.2) is what moved the project on.
    root = tree({"requirements.txt": "channels==1.1.8\ndaphne==2.5.0\n"})
    (finding,) = _findings(root)
    assert "this project needs asgiref 2+ (`daphne==2.5.0` in" in told(finding)
    assert "which requires asgiref~=3.2" in told(finding)


def test_channels_1_with_its_own_daphne_1_is_consistent(tree):
    root = tree({"requirements.txt": "Django==1.11.29\nchannels==1.1.8\ndaphne==1.4.2\n"})
    assert _findings(root) == []


@pytest.mark.parametrize("pin, quoted", [
    # Django-4.2.7 METADATA: Requires-Dist: asgiref<4,>=3.6.0 (not ~=3.2: only Django 3.0.x says that)
    ("Django==4.2.7", "which requires asgiref<4,>=3.6.0"),
    ("Django==3.0.14", "which requires asgiref~=3.2"),
    # a range: what its oldest and newest allowed releases require
    ("Django>=4.2,<6", "whose releases require asgiref<4,>=3.6.0 (4.2) to asgiref>=3.8.1 (5.2."),
])
def test_django_evidence_quotes_what_the_allowed_releases_require(tree, monkeypatch, pin, quoted):
    from asgifix import knowledge

    monkeypatch.setattr(compat, "_knowledge", lambda: knowledge)
    compat._RELEASES.clear()
    try:
        root = tree({"requirements.txt": f"{pin}\nchannels==1.1.8\n"})
        (finding,) = _findings(root)
    finally:
        compat._RELEASES.clear()
    assert f"this project needs asgiref 2+ (`{pin}` in " in told(finding)
    assert f"requirements.txt, {quoted}" in told(finding)
    assert "~=3.2" not in told(finding) or pin.startswith("Django==3.0")
