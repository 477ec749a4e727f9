"""`asgifix upgrade` on every upgrade fixture: the rewritten sets install with the target asgiref (uv), on
each Python of the set; the rewritten code compiles; a second upgrade changes nothing."""

from __future__ import annotations

import pytest

from .conftest import run_uv_validation


@pytest.mark.network
def test_every_upgraded_fixture_installs_with_its_target(tmp_path):
    assert run_uv_validation("validate_upgrade", tmp_path) == 0
