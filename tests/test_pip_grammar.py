"""AFX101's verdict is pip's: a differential test over the corpus in tests/data/pip_grammar/.

Three sources of truth are compared on every corpus case (lines.txt: one line
each; files/: whole files for continuations and encodings):

* the verdicts of seventeen released pips (22.3 to 26.3), recorded by
  scripts/build_pip_grammar.py running each wheel's own parser (verdicts.json);
* the pip installed in this environment, run here, in-process;
* asgifix: the requirements source and the AFX101 matcher.
"""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path

import pytest

from asgifix.catalogue import load_catalogue
from asgifix.matchers import RuleContext
from asgifix.matchers.malformed_requirement import MalformedRequirement
from asgifix.sources import requirements
from asgifix.sources.pip_grammar import grammar, judge, version_key
from asgifix.textio import TextDocument

from .pip_oracle import VERSION, file_error, recorded_version

CORPUS = Path(__file__).parent / "data" / "pip_grammar"
RECORDED = json.loads((CORPUS / "verdicts.json").read_text(encoding="utf-8"))
VERSIONS = RECORDED["versions"]
NEWEST = VERSIONS[-1]


def _accepted_by(case: dict) -> list[str]:
    accepted = case["accepted_by"]
    return list(VERSIONS) if accepted == "all" else [] if accepted == "none" else accepted


def _raw(key: str) -> bytes:
    return (CORPUS / key).read_bytes() if key.startswith("files/") else (key + "\n").encode("utf-8")


def _document(key: str) -> TextDocument:
    return TextDocument.decode(Path("requirements.txt"), "requirements.txt", _raw(key), wide=True)


@functools.lru_cache(maxsize=None)
def _rejected_by(key: str) -> frozenset[str]:
    """The recorded pips that asgifix says reject the case (any of its logical lines)."""
    rejected: set[str] = set()
    for entry in requirements.parse(_document(key)).entries:
        if entry.kind in ("include", "constraint"):
            continue  # whether the named file exists is AFX104's question
        rejected |= set(entry.rejected_by)
        if entry.kind == "invalid" and not entry.rejected_by:
            rejected |= set(VERSIONS)
    return frozenset(rejected)


_MATCHER = MalformedRequirement(next(r for r in load_catalogue() if r.code == "AFX101"), RuleContext())


def _afx101(key: str) -> list:
    return list(_MATCHER.check_file(requirements.parse(_document(key))))


def test_the_corpus_is_large_and_varied():
    keys = list(RECORDED["cases"])
    assert len(keys) >= 150
    accepted = [k for k in keys if NEWEST in _accepted_by(RECORDED["cases"][k])]
    assert len(accepted) >= 100 and len(keys) - len(accepted) >= 50
    assert sum(1 for k in keys if RECORDED["cases"][k]["accepted_by"] not in ("all", "none")) >= 20


def test_every_recorded_pip_verdict_is_reproduced():
    """For each line and each of the seventeen recorded pips: asgifix's model says what that pip said."""
    wrong = []
    for key, case in RECORDED["cases"].items():
        expected = set(VERSIONS) - set(_accepted_by(case))
        ours = _rejected_by(key)
        if key.startswith("files/"):
            # Encodings are decoded once, as the newest pip does (pip 24.3 and older tried
            # UTF-16 before UTF-32 and misread a UTF-32-LE file).
            expected, ours = expected & {NEWEST}, ours & {NEWEST}
        if ours != expected:
            wrong.append(f"{key!r}: pip rejects in {sorted(expected, key=version_key)}, "
                         f"asgifix says {sorted(ours, key=version_key)}")
    assert not wrong, "\n".join(wrong)


def test_afx101_reports_exactly_what_todays_pip_or_a_pip_in_use_rejects():
    """AFX101 or not, through the real source and matcher: the newest pip's verdict, plus lines pip 24.0+ reject."""
    floor = version_key(grammar().oldest_reported)
    wrong = []
    for key, case in RECORDED["cases"].items():
        accepted = set(_accepted_by(case))
        in_use = [v for v in VERSIONS if version_key(v) >= floor]
        if key.startswith("files/"):
            in_use = [NEWEST]
        rejects = [v for v in in_use if v not in accepted]
        findings = _afx101(key)
        if bool(findings) != bool(rejects):
            wrong.append(f"{key!r}: rejected by {rejects or 'no pip in use'}, AFX101 {[f.message for f in findings]}")
        for finding in findings:
            assert "packaging" not in finding.message and "requirements-parser" not in finding.message
            assert "packaging" not in (finding.hint or "") and "requirements_parser" not in (finding.hint or "")
    assert not wrong, "\n".join(wrong)


def test_a_line_only_older_pips_reject_says_which():
    findings = _afx101("asgiref==3.5.2,")
    assert [f.message for f in findings] == ["Trailing comma in `asgiref==3.5.2,`: pip 24.0 and older reject this line"]
    assert findings[0].notes == ("pip 24.1 and newer accept it",)
    assert findings[0].fix is not None and findings[0].fix.edits[0].content == "asgiref==3.5.2"
    (ephem,) = _afx101("ephem>=4.0.0.2<4.0.1.0")
    assert ephem.message.startswith("Invalid requirement `ephem>=4.0.0.2<4.0.1.0`: pip 24.1 and newer reject this line")
    (option,) = _afx101("asgiref==3.7.2 --all-releases :all:")
    assert "pip 25.3 and older reject this line" in option.message and option.fix is None
    assert _afx101("asgiref==3.7.2 -C key=value") == []  # new in pip 23.1, older than every pip reported for


def test_the_readme_claim_about_a_trailing_comma_holds_for_the_released_wheels():
    """README: rejected by pip 24.0 and older (packaging 21.3), accepted from pip 24.1."""
    pips = json.loads((Path(__file__).parent.parent / "rules" / "data" / "pip_grammar.json").read_text())["pips"]
    accepted = _accepted_by(RECORDED["cases"]["asgiref==3.5.2,"])
    assert accepted == [v for v in VERSIONS if version_key(v) >= (24, 1)]
    assert {pips[v]["packaging"] for v in VERSIONS if version_key(v) <= (24, 0)} == {"21.3"}


def test_the_simple_fast_path_accepts_only_what_every_pip_accepts():
    for key, case in RECORDED["cases"].items():
        if not key.startswith("files/") and requirements.SIMPLE_REQUIREMENT.match(key.strip()):
            assert case["accepted_by"] == "all", key


def test_requirements_files_are_decoded_in_the_newest_pips_byte_order_mark_order():
    from asgifix import textio

    newest = grammar().newest
    record = json.loads((Path(__file__).parent.parent / "rules" / "data" / "pip_grammar.json").read_text())
    boms = record["pips"][newest.version]["boms"]
    assert ["utf-8"] + [encoding for _, encoding in textio._WIDE_BOMS] == boms


# -- the pip installed here, run on the corpus ---------------------------------------------

@pytest.fixture
def pip_tree(tmp_path, monkeypatch):
    """Where the corpus's paths and includes point, as scripts/build_pip_grammar.py lays it out."""
    for where in (tmp_path, tmp_path / "cases"):
        where.mkdir(exist_ok=True)
        (where / "pyproject.toml").write_text('[project]\nname = "root"\nversion = "0"\n')
        (where / "local_pkg").mkdir()
        (where / "local_pkg" / "pyproject.toml").write_text('[project]\nname = "local-pkg"\nversion = "0"\n')
        (where / "base.txt").write_text("")
        (where / "constraints.txt").write_text("")
    for name, value in RECORDED["environment"].items():
        monkeypatch.setenv(name, value)
    return tmp_path


def test_the_installed_pip_agrees_with_asgifix_on_every_case(pip_tree):
    """The differential test proper: this environment's pip, run on each case, against asgifix's verdict for it."""
    as_version = recorded_version()
    wrong = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index, key in enumerate(RECORDED["cases"]):
            path = pip_tree / "cases" / f"case{index}.txt"
            path.write_bytes(_raw(key))
            rejected = file_error(path)
            ours = as_version in _rejected_by(key)
            if key.startswith("files/") and version_key(as_version) < (25, 0):
                continue  # this pip decodes byte order marks in an older order (see above)
            if ours != (rejected is not None):
                wrong.append(f"{key!r}: pip {VERSION} {'rejects: ' + rejected if rejected else 'accepts'}; "
                             f"asgifix says pip {as_version} {'rejects' if ours else 'accepts'}")
    assert not wrong, "\n".join(wrong)


def test_the_recorded_verdicts_are_the_installed_pips_when_it_is_recorded(pip_tree):
    if VERSION not in VERSIONS:
        pytest.skip(f"pip {VERSION} is not one of the recorded releases")  # the test above still ran
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index, (key, case) in enumerate(RECORDED["cases"].items()):
            path = pip_tree / "cases" / f"case{index}.txt"
            path.write_bytes(_raw(key))
            assert (file_error(path) is None) == (VERSION in _accepted_by(case)), key


def test_a_variable_reference_is_judged_for_a_value_it_can_take():
    assert judge("asgiref==${ASGIREF_VERSION}").kind == "requirement"
    assert judge("asgiref ${ASGIREF_VERSION}").kind == "invalid"
    assert judge("asgiref==${lower_case}").kind == "invalid"  # not a reference pip expands
    entry = requirements.parse(_document("asgiref==${ASGIREF_VERSION}")).entries[0]
    assert (entry.name, entry.specifier) == ("asgiref", "")  # the version is known only at install time
