"""`asgifix triage`: real error texts (tests/data/triage/cases.toml, each with its source), log cleaning,
the signature data against the knowledge data, and the command."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from asgifix import knowledge
from asgifix.catalogue import load_catalogue
from asgifix.triage import (clean_lines, decode_log, load_signatures, match_signatures, parse_signatures,
                            signatures_path, triage_text, versions_named, SignatureError)

from .conftest import run_cli


CASES = tomllib.loads((Path(__file__).parent / "data" / "triage" / "cases.toml").read_text("utf-8"))["case"]
SIGNATURES = tomllib.loads(signatures_path().read_text("utf-8"))["signature"]


def _ids(result):
    return [hit.signature.id for hit in result.hits]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_real_error_texts(case):
    result = triage_text(case["text"])
    assert _ids(result) == case["expect"], case["source"]
    rules = {code for hit in result.hits for code in hit.signature.rules}
    assert set(case.get("rules", [])) <= rules
    named = {f"{m.package}=={m.version}" for m in result.mentions}
    assert set(case.get("versions", [])) <= named
    analysis = " ".join(line for hit in result.hits for line in hit.analysis)
    for expected in case.get("analysis", []):
        assert expected in analysis
    notes = " ".join(line for hit in result.hits for line in hit.notes)
    for expected in case.get("notes", []):
        assert expected in notes


def test_every_case_names_its_source():
    for case in CASES:
        assert case["source"].startswith(("https://", "local: ", "CHANNELS-MIGRATION.md", "constructed")), case["name"]


def test_every_signature_is_exercised_by_a_case():
    matched = {signature_id for case in CASES for signature_id in case["expect"]}
    assert {entry["id"] for entry in SIGNATURES} - matched == set()


def test_unrelated_errors_stay_unclaimed():
    unclaimed = [case for case in CASES if not case["expect"]]
    assert len(unclaimed) >= 10
    for case in unclaimed:
        assert triage_text(case["text"]).hits == [], case["name"]


def test_the_issue_list_is_covered():
    texts = {
        "Invalid requirement: 'asgiref 3.5.2'": "requirement-missing-operator",
        "No module named 'asgiref.inmemory'": "asgiref-channels1-modules",
        "No module named 'channels'": "channels-not-installed",
        "ModuleNotFoundError: No module named 'daphne'": "channels-not-installed",
        "ImportError: cannot import name 'ThreadSensitiveContext'": "thread-sensitive-context",
        "pkg_resources.ContextualVersionConflict: (asgiref 3.2.10 (/usr/lib/python3/dist-packages), "
        "Requirement.parse('asgiref<4,>=3.3.2'), {'Django'})": "contextual-version-conflict",
    }
    for text, expected in texts.items():
        assert _ids(triage_text(text)) == [expected], text


# --- cleaning ---------------------------------------------------------------------------------


def _as_github_actions_log(text: str) -> str:
    lines = text.strip("\n").split("\n")
    stamped = [f"2024-05-01T10:{i // 60:02d}:{i % 60:02d}.1234567Z \x1b[36;1m{line}\x1b[0m" for i, line in enumerate(lines)]
    return "\n".join(["2024-05-01T09:59:59.0000000Z ##[group]Run pip install -r requirements.txt"] + stamped
                     + ["2024-05-01T11:00:00.0000000Z ##[error]Process completed with exit code 1."])


def _as_gitlab_log(text: str) -> str:
    lines = text.strip("\n").split("\n")
    return "\n".join(["section_start:1714557600:install[collapsed=true]\r\x1b[0K\x1b[0;m$ pip install -r requirements.txt"]
                     + [f"\x1b[0;31m{line}\x1b[0;m" for line in lines]
                     + ["section_end:1714557660:install\r\x1b[0K"])


@pytest.mark.parametrize("wrap", [_as_github_actions_log, _as_gitlab_log])
def test_ci_logs_are_read_like_the_bare_text(wrap):
    for case in CASES:
        bare = triage_text(case["text"])
        wrapped = triage_text(wrap(case["text"]))
        assert _ids(wrapped) == _ids(bare), case["name"]
        assert [h.text for h in wrapped.hits] == [h.text for h in bare.hits], case["name"]
        assert [(m.package, m.version) for m in wrapped.mentions] == [(m.package, m.version) for m in bare.mentions]


def test_cleaning_strips_prefixes_colours_and_progress_bars():
    raw = ("2024-01-01T00:00:00.0000000Z \x1b[31mERROR:\x1b[0m boom\n"
           "#9 7.207 The user requested asgiref==3.2.10\n"
           "web-1  | Exception inside application: x\n"
           "  Downloading x.whl (1 kB)\r   ━━━━ 50%\r   ━━━━━━━━ 100%\n"
           "section_end:1714557660:install\r\x1b[0Kdone\n")
    assert clean_lines(raw) == ["ERROR: boom", "The user requested asgiref==3.2.10", "Exception inside application: x",
                                "   ━━━━━━━━ 100%", "done", ""]


def test_a_log_saved_by_powershell_is_utf16():
    text = "ERROR: Invalid requirement: 'asgiref 3.5.2'\r\n"
    raw = b"\xff\xfe" + text.encode("utf-16-le")
    assert _ids(triage_text(decode_log(raw))) == ["requirement-missing-operator"]


def test_versions_named_prefer_what_is_installed():
    lines = ["The user requested asgiref==3.2.10", "channels 2.1.7 has requirement asgiref~=2.3, but you'll have "
             "asgiref 3.0.0 which is incompatible.", "Successfully installed Django-3.2.6"]
    mentions = {(m.package, m.version): m.installed for m in versions_named(lines)}
    assert mentions == {("asgiref", "3.2.10"): False, ("channels", "2.1.7"): False, ("asgiref", "3.0.0"): True,
                        ("django", "3.2.6"): True}
    result = triage_text("\n".join(lines))
    assert result.versions["asgiref"] == "3.0.0"


def test_versions_named_feed_the_explanation():
    result = triage_text("ImportError: cannot import name 'ThreadSensitiveContext' from 'asgiref.sync'\n"
                         "Successfully installed asgiref-3.5.2 Django-4.0\n")
    (hit,) = result.hits
    # 3.5.2 has the name: the note says another copy is imported, not that asgiref is too old.
    assert any("another asgiref is imported first" in note for note in hit.notes)
    assert "Django 4.0 requires asgiref <4,>=3.4.1: asgiref 3.5.2 satisfies it." in result.version_notes


def test_the_same_error_many_times_is_one_match():
    text = "RuntimeError: You cannot use AsyncToSync in the same thread as an async event loop\n" * 5
    (hit,) = triage_text(text).hits
    assert hit.occurrences == 5 and hit.line == 1


def test_a_specific_signature_replaces_the_general_one_only_on_its_line():
    text = ("ImportError: cannot import name 'ThreadSensitiveContext' from 'asgiref.sync'\n"
            "ModuleNotFoundError: No module named 'asgiref.typing'\n")
    assert _ids(triage_text(text)) == ["thread-sensitive-context", "asgiref-name-missing"]
    assert _ids(triage_text(text.splitlines()[0])) == ["thread-sensitive-context"]


def test_a_name_that_no_asgiref_release_has_is_said_so():
    (hit,) = triage_text("ImportError: cannot import name 'Frobnicate' from 'asgiref.sync'").hits
    assert hit.analysis == ["No asgiref release has `asgiref.sync.Frobnicate`: it is not part of asgiref."]


# --- the signature data -------------------------------------------------------------------------


def test_signatures_load_and_point_to_known_rules():
    codes = {rule.code for rule in load_catalogue()}
    signatures = load_signatures()
    assert len(signatures) == len(SIGNATURES) >= 25
    for signature in signatures:
        assert set(signature.rules) <= codes, signature.id
        for other in signature.supersedes:
            assert other in {s.id for s in signatures}


def test_malformed_signature_data_is_refused():
    with pytest.raises(SignatureError, match="missing cause"):
        parse_signatures({"signature": [{"id": "x", "title": "t", "fix": "f", "patterns": ["a"], "rules": ["AFX101"]}]})
    with pytest.raises(SignatureError, match="bad pattern"):
        parse_signatures({"signature": [{"id": "x", "title": "t", "cause": "c", "fix": "f", "patterns": ["("],
                                         "rules": ["AFX101"]}]})
    with pytest.raises(SignatureError, match="duplicate id"):
        entry = {"id": "x", "title": "t", "cause": "c", "fix": "f", "patterns": ["a"], "rules": ["AFX101"]}
        parse_signatures({"signature": [entry, entry]})


def _wiring() -> dict:
    from asgifix.matchers.wiring import wiring_data

    return wiring_data()


def _wiring_fact(fact_id: str) -> dict:
    raw = tomllib.loads((signatures_path().parent / "wiring.toml").read_text("utf-8"))
    for fact in raw["fact"]:
        if fact["id"] == fact_id:
            return fact
    raise AssertionError(f"no wiring fact {fact_id}")


def _in_runs(version: str, runs, package: str) -> bool:
    order = knowledge.asgiref_releases() if package == "asgiref" else knowledge.releases_of(package)
    position = order.index(version)
    return any(order.index(first) <= position <= order.index(last) for first, last in runs)


def _check_claim(claim: dict) -> None:
    from packaging.specifiers import SpecifierSet

    fact = claim["fact"]
    if fact in ("asgiref-first", "asgiref-last", "asgiref-never-removed"):
        module, _, name = claim["target"].partition(":")
        if fact == "asgiref-first":
            assert knowledge.first_release_with(module, name or None) == claim["version"]
        elif fact == "asgiref-last":
            assert knowledge.last_release_with(module, name or None) == claim["version"]
        else:
            first = knowledge.first_release_with(module, name or None)
            having = knowledge.versions_having(module, name or None)
            releases = knowledge.asgiref_releases()
            assert having == releases[releases.index(first):]
    elif fact == "behaviour":
        (change,) = [c for c in knowledge.behaviour_changes() if c["id"] == claim["id"]]
        assert claim["version"] in (change["version"], change.get("until"))
    elif fact == "requires":
        spec = knowledge.requirements_of(claim["package"], claim["release"])[claim["on"]]
        if claim["spec"] == "":
            assert spec is None
        else:
            assert SpecifierSet(spec) == SpecifierSet(claim["spec"])
    elif fact == "wiring":
        entry = _wiring_fact(claim["id"])
        package = entry["package"]
        runs = entry["versions"]
        if "first" in claim:
            assert runs[0][0] == claim["first"]
        if "last" in claim:
            assert runs[-1][1] == claim["last"] or any(run[1] == claim["last"] for run in runs)
        if "has" in claim:
            assert _in_runs(claim["has"], runs, package)
        if "lacks" in claim:
            assert not _in_runs(claim["lacks"], runs, package)
    elif fact == "django":
        raw = tomllib.loads((signatures_path().parent / "wiring.toml").read_text("utf-8"))
        (entry,) = [d for d in raw["django"] if d["id"] == claim["id"]]
        assert claim["version"] in (entry.get("since"), entry.get("removed_in"))
    elif fact == "source":
        assert re.match(r"\S+-\d[\w.]*/\S+:L\d+  \S", claim["evidence"]), claim
        assert claim["version"] in claim["evidence"]
    else:
        raise AssertionError(f"unknown claim kind {fact}")


@pytest.mark.parametrize("entry", SIGNATURES, ids=[entry["id"] for entry in SIGNATURES])
def test_version_claims_agree_with_the_knowledge_data(entry):
    for claim in entry.get("claims", []):
        _check_claim(claim)


_VERSION_IN_TEXT = re.compile(r"(?<![\w.~=<>])\d+\.\d+(?:\.\d+)?(?![\w.]*\d)")


@pytest.mark.parametrize("entry", SIGNATURES, ids=[entry["id"] for entry in SIGNATURES])
def test_every_version_a_text_states_is_a_checked_claim(entry):
    claimed = set()
    for claim in entry.get("claims", []):
        for key in ("version", "first", "last", "has", "lacks", "release"):
            if key in claim:
                claimed.add(claim[key])
        claimed.update(re.findall(r"\d+(?:\.\d+)+", claim.get("spec", "")))
    texts = [entry.get(key, "") for key in ("cause", "folklore", "fix")]
    texts += [when["say"] for when in entry.get("when", [])]
    thresholds = [when.get("below") or when.get("at_least") for when in entry.get("when", [])]
    stated = {version for text in texts for version in _VERSION_IN_TEXT.findall(text)} | set(thresholds)
    assert stated <= claimed, f"{entry['id']}: versions without a checked claim: {sorted(stated - claimed)}"


def test_a_claim_that_disagrees_with_the_data_fails():
    with pytest.raises(AssertionError):
        _check_claim({"fact": "asgiref-first", "target": "asgiref.sync:ThreadSensitiveContext", "version": "3.3.0"})
    with pytest.raises(AssertionError):
        _check_claim({"fact": "behaviour", "id": "local-refuses-subclass", "version": "3.12.0"})
    with pytest.raises(AssertionError):
        _check_claim({"fact": "wiring", "id": "channels.layer_valid_channel_name", "lacks": "4.2.2"})


# --- the command ------------------------------------------------------------------------------


def test_cli_recognised_exits_zero_and_unknown_exits_one(tmp_path):
    log = tmp_path / "ci.log"
    log.write_text(_as_github_actions_log("ModuleNotFoundError: No module named 'asgiref.base_layer'"))
    result = run_cli("triage", str(log), "--no-project")
    assert result.exit_code == 0, result.stdout
    assert "asgiref 2.0.1" in result.stdout and "AFX102" in result.stdout
    unknown = tmp_path / "other.log"
    unknown.write_text("KeyError: 'user_id'\n")
    result = run_cli("triage", str(unknown), "--no-project")
    assert result.exit_code == 1
    assert "no known asgiref, Django or Channels error" in result.stdout
    assert "asgifix check" in result.stdout


def test_cli_reads_stdin_and_writes_json():
    text = "channels 2.1.7 has requirement asgiref~=2.3, but you'll have asgiref 3.0.0 which is incompatible.\n"
    result = run_cli("triage", "-", "--no-project", "--format", "json", input=text)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["recognised"] is True
    (match,) = data["matches"]
    assert match["id"] == "pip-installed-conflict" and "AFX301" in match["rules"]
    assert {"package": "asgiref", "version": "3.0.0", "line": 1, "installed": True} in data["versions"]
    assert any("channels 2.1.7: asgiref~=2.3, that is asgiref 2.3.0 to 2.3.2" in line for line in match["analysis"])


def test_cli_unreadable_file_is_a_one_line_error(tmp_path):
    result = run_cli("triage", str(tmp_path / "missing.log"))
    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr


def test_cli_inside_a_project_shows_the_lines_and_the_fix_command(tree):
    root = tree({"requirements.txt": "Django==3.2.12\nasgiref==3.2.10\n", "manage.py": ""})
    case = next(c for c in CASES if c["name"] == "event-calendar-resolution-impossible")
    result = run_cli("triage", "-", input=case["text"], cwd=root)
    assert result.exit_code == 0, result.stdout
    assert "requirements.txt:2:1: AFX301" in result.stdout
    assert "| asgiref==3.2.10" in result.stdout
    assert "run: asgifix fix --select AFX301 ." in result.stdout
    data = run_cli("triage", "-", "--format", "json", "--project", str(root), input=case["text"]).json()
    (match,) = data["matches"]
    assert [f["code"] for f in match["project"]["findings"]] == ["AFX301"]
    assert match["project"]["fix_command"].startswith("asgifix fix --select AFX301 ")


def test_cli_inside_a_clean_project_says_the_cause_is_not_in_its_files(tree):
    root = tree({"requirements.txt": "Django==4.2.16\nasgiref>=3.6\n"})
    text = "ImportError: cannot import name 'ThreadSensitiveContext' from 'asgiref.sync'\n"
    result = run_cli("triage", "-", "--project", str(root), input=text)
    assert result.exit_code == 0
    assert "none of these rules finds anything" in result.stdout


def test_no_project_outside_a_project(tmp_path):
    text = "ModuleNotFoundError: No module named 'channels.http'\n"
    data = run_cli("triage", "-", "--format", "json", input=text, cwd=tmp_path).json()
    assert data["project"] is None and "project" not in data["matches"][0]


def test_log_text_is_escaped_in_the_output():
    text = "ERROR: Invalid requirement: 'asgiref 3.5.2'\x07\x1b]0;title\x07 ::set-output\n"
    result = run_cli("triage", "-", "--no-project", input=text)
    assert "\x07" not in result.stdout and "\x1b" not in result.stdout


def test_triage_imports_no_rewriting_or_terminal_library_and_check_does_not_load_it(tmp_path):
    from .test_startup_imports import _modules_after

    (tmp_path / "ci.log").write_text("ERROR: Invalid requirement: 'asgiref 3.5.2'\n")
    loaded = _modules_after(["triage", "--no-project", "ci.log"], tmp_path)
    assert "asgifix.triage" in loaded
    assert not {name for name in ("libcst", "rich", "tomlkit", "multiprocessing") if name in loaded}
    (tmp_path / "requirements.txt").write_text("asgiref==3.7.2\n")
    loaded = _modules_after(["check", "--no-color", "requirements.txt"], tmp_path)
    assert "asgifix.triage" not in loaded and "asgifix.reporters.triage" not in loaded


def test_a_constraint_holding_asgiref_at_1x_is_named_as_channels_1_era():
    from packaging.version import Version

    # What the analysis says ("nothing on Channels 2 or later installs with it") is the data's.
    for release in knowledge.releases_of("channels"):
        if Version(release) >= Version("2.0.0"):
            allowed = knowledge.asgiref_versions_allowed_by("channels", release)
            assert all(Version(v) >= Version("2.0.0") for v in allowed), release
    text = ("ContextualVersionConflict(asgiref 2.0.1 (/usr/lib/python3.6/site-packages), "
            "Requirement.parse('asgiref~=1.1.2'), {'asgi-ipc'})")
    (hit,) = triage_text(text).hits
    assert hit.analysis == [
        "asgi-ipc: asgiref~=1.1.2, that is asgiref 1.1.2; the installed 2.0.1 is not.",
        "asgi-ipc holds asgiref at 1.x, the Channels 1 era: nothing on Channels 2 or later installs with it; "
        "it has to go (AFX102).",
    ]


def test_a_channels_name_the_release_data_does_not_know_is_not_claimed():
    assert triage_text("ImportError: cannot import name 'Foo' from 'channels.layers'").hits == []
    assert triage_text("ModuleNotFoundError: No module named 'channels.nonexistent'").hits == []
    # 'tuple' ... 'decode' is Python's own message: only with channels_redis's PubSub layer around it.
    assert triage_text("AttributeError: 'tuple' object has no attribute 'decode'").hits == []
