"""Where the shipped catalogue lives.

In a built wheel the repository's top-level ``rules/`` directory is placed at
``asgifix/rules/`` (see ``[tool.hatch.build.targets.wheel.force-include]``).
In a source checkout (editable install, or tests run from the repository) it is
the sibling ``rules/`` directory. Looking in both keeps one layout on disk and
one code path for the catalogue.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent

# The project's repository, as pyproject.toml's [project.urls] Repository names it
# (tests/test_docs.py keeps the two equal): SARIF informationUri/helpUri and `explain` link to it.
REPOSITORY_URL = "https://github.com/asgifix/asgifix"


def rule_doc_url(code: str) -> str:
    """The rule's generated page, docs/rules/CODE.md in the repository (scripts/build_docs.py writes it)."""
    return f"{REPOSITORY_URL}/blob/main/docs/rules/{code}.md"


@lru_cache(maxsize=None)
def rules_dir() -> Path:
    installed = _PACKAGE_DIR / "rules"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / "rules"


def data_dir() -> Path:
    return rules_dir() / "data"
