"""The parsed catalogue is kept between runs and never used stale."""

from __future__ import annotations

import os
import shutil

import pytest

from asgifix import catalogue
from asgifix._paths import rules_dir


def _load(directory):
    return catalogue.load_catalogue.__wrapped__(directory)


@pytest.fixture
def rules(tmp_path):
    directory = tmp_path / "rules"
    shutil.copytree(rules_dir(), directory, ignore=shutil.ignore_patterns("__pycache__"))
    return directory


def _no_parsing(monkeypatch):
    def fail(path):
        raise AssertionError(f"parsed {path} although the cache holds it")

    monkeypatch.setattr(catalogue, "_parse_rule_file", fail)


def test_second_load_uses_the_cache_and_equals_the_first(rules, monkeypatch):
    first = _load(rules)
    assert list((rules / "__pycache__").glob("catalogue.*.marshal"))
    _no_parsing(monkeypatch)
    assert _load(rules) == first


def test_a_changed_rule_file_is_parsed_again(rules, monkeypatch):
    first = _load(rules)
    path = sorted(rules.glob("AFX*.toml"))[0]
    text = path.read_text(encoding="utf-8").replace('summary = "', 'summary = "Changed: ', 1)
    path.write_text(text, encoding="utf-8")
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = _load(rules)
    assert second[0].summary.startswith("Changed: ") and second[1:] == first[1:]


def test_a_removed_or_added_rule_is_seen(rules):
    first = _load(rules)
    last = sorted(rules.glob("AFX*.toml"))[-1]
    last.unlink()
    assert _load(rules) == first[:-1]


def test_a_corrupt_cache_is_ignored_and_replaced(rules):
    first = _load(rules)
    (cache,) = (rules / "__pycache__").glob("catalogue.*.marshal")
    cache.write_bytes(b"\x00garbage")
    assert _load(rules) == first
    assert cache.read_bytes() != b"\x00garbage"


def test_an_unwritable_cache_directory_means_no_cache(rules):
    (rules / "__pycache__").write_text("not a directory")
    first = _load(rules)
    assert _load(rules) == first
    assert (rules / "__pycache__").read_text() == "not a directory"


def test_a_broken_rule_file_is_still_reported(rules):
    _load(rules)
    path = sorted(rules.glob("AFX*.toml"))[0]
    path.write_text("code = ", encoding="utf-8")
    with pytest.raises(catalogue.CatalogueError):
        _load(rules)
