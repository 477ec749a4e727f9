"""Issue 11's precision check: no AFX5 finding on asgiref's, Channels', daphne's and channels_redis' own code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "async_precision.py"


@pytest.mark.network
def test_no_async_findings_on_the_libraries_themselves():
    spec = importlib.util.spec_from_file_location("async_precision", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.run()
    assert {row["package"] for row in rows} == {"asgiref", "channels", "daphne", "channels_redis"}
    assert all(row["python_files"] > 0 for row in rows)
    assert [detail for row in rows for detail in row["details"]] == []
