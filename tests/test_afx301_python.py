"""AFX301's pin fix and the Python the project declares.

Facts (Requires-Python from the PKG-INFO / METADATA of the released files, recorded in
rules/data/ by scripts/build_knowledge.py): asgiref 3.13.0 ``>=3.11``; 3.12.0 and 3.12.1
``>=3.10``; 3.9.0 ... 3.11.1 ``>=3.9``; 3.8.0 and 3.8.1 ``>=3.8``. Django 4.2.7 ``>=3.8`` and
Requires-Dist ``asgiref<4,>=3.6.0``.

The verdict ignores Requires-Python (tests/test_afx301_resolver.py); the fix uses the oldest
Python the install set declares, and with none declared the oldest Python the pinned Django
release supports (Django 4.2.7: 3.8, so asgiref 3.8.1, never 3.13.0, which 3.8-3.10 cannot install).
"""

from __future__ import annotations

import pytest

from asgifix import knowledge
from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine
from asgifix.pythons import python_floor as _python_floor

CONFLICT = "Django==4.2.7\nasgiref==3.2.10\n"


def test_the_facts():
    info = knowledge.asgiref_release_info
    assert info("3.13.0")["requires_python"] == ">=3.11"
    assert info("3.12.1")["requires_python"] == ">=3.10"
    assert info("3.11.1")["requires_python"] == ">=3.9"
    assert info("3.8.1")["requires_python"] == ">=3.8" and info("3.9.0")["requires_python"] == ">=3.9"
    assert knowledge.release_record("django", "4.2.7")["requires_python"] == ">=3.8"
    assert knowledge.latest_asgiref_release() == "3.13.0"


def _fixed(tmp_path, files: dict) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    engine = Engine(Settings(), select_rules(load_catalogue(), ["AFX301"], []))
    (finding,) = engine.run([str(tmp_path)])[0].findings
    engine.fix([str(tmp_path)])
    assert engine.run([str(tmp_path)])[0].findings == []
    pin = [line for line in (tmp_path / "requirements.txt").read_text().splitlines() if line.startswith("asgiref")]
    return f"{pin[0]} | {finding.hint}"


def test_no_declared_python_pins_for_the_oldest_python_django_supports(tmp_path):
    result = _fixed(tmp_path, {"requirements.txt": CONFLICT})
    assert result.startswith("asgiref==3.8.1 |") and "on Python 3.8" in result and "`django==4.2.7`" in result


@pytest.mark.parametrize("name, text, pin, where", [
    ("pyproject.toml", '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.9"\n',
     "asgiref==3.11.1", "on Python 3.9, the oldest of //pyproject.toml's requires-python `>=3.9`"),
    ("pyproject.toml", '[tool.poetry]\nname = "x"\n[tool.poetry.dependencies]\npython = "^3.10"\n',
     "asgiref==3.12.1", "on Python 3.10"),
    ("setup.cfg", "[metadata]\nname = x\n[options]\npython_requires = >=3.8\n", "asgiref==3.8.1", "on Python 3.8"),
    ("setup.py", 'from setuptools import setup\nsetup(name="x", python_requires=">=3.10")\n',
     "asgiref==3.12.1", "on Python 3.10"),
    ("Pipfile", '[packages]\nrequests = "*"\n[requires]\npython_version = "3.9"\n', "asgiref==3.11.1",
     "Pipfile's [requires] python_version `==3.9.*`"),
    ("pyproject.toml", '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.11"\n',
     "asgiref==3.13.0", "on Python 3.11"),
])
def test_the_pin_installs_on_the_declared_python(tmp_path, name, text, pin, where):
    result = _fixed(tmp_path, {"requirements.txt": CONFLICT, name: text})
    # "//": the display path before the file name
    assert result.startswith(pin + " |") and all(part in result for part in where.split("//")), result


def test_another_packages_python_does_not_decide(tmp_path):
    # svc/ is a package of its own (another install set): its Python is not this set's.
    (tmp_path / "svc").mkdir()
    result = _fixed(tmp_path, {"requirements.txt": CONFLICT,
                               "pyproject.toml": '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.10"\n',
                               "svc/setup.cfg": "[options]\npython_requires = >=3.8\n"})
    assert result.startswith("asgiref==3.12.1 |") and "svc/setup.cfg" not in result


def test_a_python_the_other_pins_cannot_run_on_is_skipped(tmp_path):
    # Django 4.2.7 needs Python >= 3.8: on 3.7 nothing installs, so the pin is chosen for 3.8.
    result = _fixed(tmp_path, {"requirements.txt": CONFLICT,
                               "pyproject.toml": '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.7"\n'})
    assert result.startswith("asgiref==3.8.1 |") and "on Python 3.8, the oldest the other pins install on" in result


@pytest.mark.parametrize("spec, floor", [
    (">=3.9", "3.9"), (">=3.8.1,<4.0", "3.8.1"), (">3.8", "3.9"), ("==3.11.*", "3.11"),
    ("~=3.10", "3.10"), (">=2.7, !=3.0.*, !=3.1.*", "2.7"), ("<3.0", "2.0"), ("not a specifier", None),
    (">=4", "4"),
])
def test_python_floor(spec, floor):
    assert _python_floor(spec) == floor
