"""rules/catalogue.json: the parsed rule files asgifix loads at start-up instead of thirty TOML files.

It is only a faster way to the same rules: made from exactly the committed files (digest), and
ignored the moment a rule file differs from what it was made from.
"""

from __future__ import annotations

import json
import shutil

from asgifix import catalogue
from asgifix._paths import rules_dir

from .conftest import REPO


def test_the_committed_compiled_catalogue_is_current():
    committed = (REPO / "rules" / catalogue.COMPILED).read_text(encoding="utf-8")
    assert committed == catalogue.compiled_catalogue(REPO / "rules"), \
        "rules/catalogue.json is stale: run python scripts/build_docs.py"


def _copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(rules_dir(), target, ignore=shutil.ignore_patterns("data"))
    return target


def test_the_compiled_catalogue_gives_the_rules_the_toml_files_give(tmp_path):
    directory = _copy(tmp_path)
    from_json = catalogue.load_catalogue.__wrapped__(directory)
    (directory / catalogue.COMPILED).unlink()
    from_toml = catalogue.load_catalogue.__wrapped__(directory)
    assert [(r.code, r.params, r.examples, r.explanation) for r in from_json] == \
           [(r.code, r.params, r.examples, r.explanation) for r in from_toml]
    # and in the same order (dict equality ignores it; the docs pages show an example's files in it)
    assert [(list(r.params), [list(e.context) for e in r.examples]) for r in from_json] == \
           [(list(r.params), [list(e.context) for e in r.examples]) for r in from_toml]


def test_a_rule_file_edited_after_compiling_is_read_from_its_toml(tmp_path):
    directory = _copy(tmp_path)
    path = directory / "AFX101.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('summary = "', 'summary = "EDITED ', 1), encoding="utf-8")
    rules = {r.code: r for r in catalogue.load_catalogue.__wrapped__(directory)}
    assert rules["AFX101"].summary.startswith("EDITED ")


def test_a_compiled_catalogue_that_does_not_match_is_ignored(tmp_path):
    directory = _copy(tmp_path)
    data = json.loads((directory / catalogue.COMPILED).read_text(encoding="utf-8"))
    data["rules"]["AFX101.toml"]["summary"] = "from a forged JSON"
    (directory / catalogue.COMPILED).write_text(json.dumps(data), encoding="utf-8")  # digest still matches
    rules = {r.code: r for r in catalogue.load_catalogue.__wrapped__(directory)}
    assert rules["AFX101"].summary == "from a forged JSON"  # the digest is of the files, so it is trusted
    data["digest"] = "0" * 64
    (directory / catalogue.COMPILED).write_text(json.dumps(data), encoding="utf-8")
    rules = {r.code: r for r in catalogue.load_catalogue.__wrapped__(directory)}
    assert rules["AFX101"].summary != "from a forged JSON"
    (directory / catalogue.COMPILED).write_text("{not json", encoding="utf-8")
    assert {r.code for r in catalogue.load_catalogue.__wrapped__(directory)} == {r.code for r in rules.values()}
