"""rules/data/toml.json: the knowledge TOML files a check reads, parsed, with the digest of their bytes.

Only a faster way to the same data: made from exactly the committed files, and ignored for a file the
moment its bytes differ from what it was made from.
"""

from __future__ import annotations

import shutil

from asgifix import datafiles
from asgifix._paths import data_dir

from .conftest import REPO


def test_the_committed_copy_is_current():
    committed = (REPO / "rules" / "data" / datafiles.COMPILED).read_text(encoding="utf-8")
    assert committed == datafiles.compiled_data(REPO / "rules" / "data"), \
        "rules/data/toml.json is stale: run python scripts/build_docs.py"


def test_every_file_comes_from_the_copy_and_equals_its_toml(tmp_path, monkeypatch):
    parsed = []
    real = datafiles._parse
    monkeypatch.setattr(datafiles, "_parse", lambda raw: parsed.append(raw) or real(raw))
    for name in datafiles.FILES:
        path = data_dir() / name
        assert datafiles.load_toml(path) == real(path.read_bytes()), name
    assert parsed == []  # none was parsed from its TOML


def test_a_file_edited_after_compiling_is_read_from_its_toml(tmp_path):
    directory = tmp_path / "data"
    shutil.copytree(data_dir(), directory)
    path = directory / "moves.toml"
    before = datafiles.load_toml(path)
    path.write_text(path.read_text(encoding="utf-8") + '\n[[extra]]\nnote = "EDITED"\n', encoding="utf-8")
    after = datafiles.load_toml(path)
    assert after["extra"] == [{"note": "EDITED"}] and "extra" not in before
    assert datafiles.load_toml(directory / "wiring.toml") == datafiles._parse((directory / "wiring.toml").read_bytes())


def test_a_broken_or_missing_copy_falls_back_to_the_toml(tmp_path):
    for content in ("{not json", None):
        directory = tmp_path / ("broken" if content else "missing")
        shutil.copytree(data_dir(), directory)
        if content is None:
            (directory / datafiles.COMPILED).unlink()
        else:
            (directory / datafiles.COMPILED).write_text(content, encoding="utf-8")
        for name in datafiles.FILES:
            assert datafiles.load_toml(directory / name) == datafiles._parse((directory / name).read_bytes())
