"""The rule pages in docs/rules/ are generated from the catalogue and committed: they must be current,
and `explain` and SARIF link to them."""

from __future__ import annotations

import importlib.util

from asgifix._paths import REPOSITORY_URL, rule_doc_url
from asgifix.catalogue import load_catalogue

from .conftest import REPO, run_cli


def _build_docs():
    spec = importlib.util.spec_from_file_location("build_docs", REPO / "scripts" / "build_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_rule_pages_are_up_to_date():
    module = _build_docs()
    wanted = module.pages()
    assert set(wanted) == {f"{rule.code}.md" for rule in load_catalogue()} | {"README.md"}
    for name, text in wanted.items():
        page = REPO / "docs" / "rules" / name
        assert page.is_file(), f"docs/rules/{name} is missing: run python scripts/build_docs.py"
        assert page.read_text(encoding="utf-8") == text, f"docs/rules/{name} is stale: run python scripts/build_docs.py"
    committed = {p.name for p in (REPO / "docs" / "rules").glob("AFX*.md")}
    assert committed <= set(wanted), f"pages of no rule: {sorted(committed - set(wanted))}"
    assert module.main(["--check"]) == 0


def test_page_shows_what_why_diff_and_fix_safety():
    module = _build_docs()
    for rule in load_catalogue():
        page = module.render_page(rule)
        assert page.startswith(f"# {rule.code}: {rule.name}\n")
        assert "## What it does" in page and "## Why it breaks" in page and "- Fix: " in page
        fixable = [e for e in rule.examples if e.kind == "invalid" and e.after is not None]
        if fixable:
            assert "```diff\n--- a/" in page and "\n+" in page, rule.code


def test_explain_links_to_the_page():
    for code in ("AFX101", "AFX503"):
        result = run_cli("explain", code)
        assert result.exit_code == 0
        assert f"Documentation: {rule_doc_url(code)}" in result.stdout
        assert rule_doc_url(code).startswith(REPOSITORY_URL + "/blob/main/docs/rules/")
        assert (REPO / "docs" / "rules" / f"{code}.md").is_file()


def test_readme_states_the_bundled_data_date_and_the_pythons():
    from asgifix import knowledge

    text = (REPO / "README.md").read_text(encoding="utf-8")
    uploads = [knowledge.release_record(package, version).get("uploaded", "")
               for package in knowledge.known_packages() for version in knowledge.releases_of(package)]
    newest = max(date for date in uploads if date)
    assert f"up to {newest}" in text, f"README must state the release data's date ({newest})"
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'requires-python = ">=3.9"' in pyproject and "Python 3.9 and newer" in text


def test_license_and_changelog():
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License")
    assert 'license = "MIT"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    from asgifix import __version__

    assert f"## {__version__}" in changelog


def test_readme_links_resolve():
    import re

    text = (REPO / "README.md").read_text(encoding="utf-8")
    targets = {t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in t}
    # docs/upgrade.md is written with the `upgrade` command (another change); every other link must exist.
    missing = sorted(t for t in targets if t and t != "docs/upgrade.md" and not (REPO / t).exists())
    assert not missing, missing


def test_readme_walkthrough_output_is_real():
    import re
    import textwrap

    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"   ```text\n(.*?)   ```", text, re.DOTALL).group(1)
    shown = textwrap.dedent(block)
    output = run_cli("check", "fixtures/legacy-chat", "--no-color", cwd=REPO).stdout
    for paragraph in shown.strip().split("\n\n"):
        assert paragraph in output, paragraph
