"""Project-wide rules cost the same however often a monorepo repeats its pins.

A monorepo declares the same pins in every service. Work that depends only on
*what* is declared (a resolver search, a package's release history) must be
done once per distinct declaration, not once per file: a 2,000-file fix once
took 400 s because of it. These tests count that work (never wall time).
"""

from __future__ import annotations

import pytest

from asgifix import environment, resolver
from asgifix.catalogue import load_catalogue, select_rules
from asgifix.config import Settings
from asgifix.engine import Engine
from asgifix.matchers import obsolete_package

# Malformed lines, an obsolete package, pins that conflict over asgiref and Django.
SERVICE = "Django==3.2\nchannels==4.1.0\nasgiref 3.5.2\ndaphne==4.1.2\nasgi_redis==1.4.3\nchannels-redis==4.2.0\n"


def _monorepo(root, services):
    for index in range(services):
        directory = root / f"svc_{index:03d}"
        directory.mkdir(parents=True)
        (directory / "requirements.txt").write_text(SERVICE)
        (directory / "consumers.py").write_text("from asgiref.sync import sync_to_async\nsync_to_async(print)\n")
    return root


def _counted_run(monkeypatch, root):
    counts = {"solve": 0, "generic_row": 0}
    resolver._SOLVED.clear()  # count searches, not answers remembered from an earlier test
    environment.clear_cache()
    real_solve, real_generic_row = resolver.Problem._solve, obsolete_package.generic_row

    def solve(self, *args, **kwargs):
        counts["solve"] += 1
        return real_solve(self, *args, **kwargs)

    def generic_row(declaration):
        counts["generic_row"] += 1
        return real_generic_row(declaration)

    monkeypatch.setattr(resolver.Problem, "_solve", solve)
    monkeypatch.setattr(obsolete_package, "generic_row", generic_row)
    settings = Settings()
    engine = Engine(settings, select_rules(load_catalogue(), settings.select, settings.ignore), jobs=1)
    report, _, _ = engine.run([str(root)])
    monkeypatch.undo()
    return counts, report


@pytest.mark.parametrize("services", [40])
def test_repeated_pins_cost_no_more_project_work(tmp_path, monkeypatch, services):
    few, few_report = _counted_run(monkeypatch, _monorepo(tmp_path / "few", 2))
    many, many_report = _counted_run(monkeypatch, _monorepo(tmp_path / "many", services))
    assert few["solve"] > 0 and few["generic_row"] > 0  # the rules did run
    assert many == few
    # ... while every service's own lines are still reported.
    def per_code(report):
        counts = {}
        for finding in report.findings:
            counts[finding.code] = counts.get(finding.code, 0) + 1
        return counts

    few_codes, many_codes = per_code(few_report), per_code(many_report)
    assert few_codes.keys() == many_codes.keys()
    per_file = [code for code, count in few_codes.items() if count == 2]
    assert {"AFX101", "AFX102"} <= set(per_file)
    assert all(many_codes[code] == services for code in per_file)
