"""The fixes of every Django line install with a real resolver (uv), on the set's oldest and newest Python."""

from __future__ import annotations

import pytest

from .conftest import run_uv_validation


@pytest.mark.network
def test_every_fixed_django_project_installs(tmp_path):
    assert run_uv_validation("validate_install_sets", tmp_path) == 0
