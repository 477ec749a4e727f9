"""A one-file check (what pre-commit runs) imports only what it needs.

Heavy modules are imported when a run needs them: libcst never for detection,
rich only on a terminal, pip-requirements-parser never (asgifix judges requirement
lines with its own record of pip's grammar), tempfile only when a fix writes,
difflib only for --diff, and no TOML writer. (tomllib is loaded to read the rule catalogue: asgifix never caches
it on disk, since it writes nothing outside the project it checks.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

HEAVY = ("libcst", "rich", "pip_requirements_parser", "packaging", "tempfile", "difflib", "tomlkit",
         "concurrent.futures.process", "multiprocessing")


def _modules_after(args, cwd):
    """The modules loaded by a run, the second time (the first compiles bytecode)."""
    _run_and_list(args, cwd)
    return _run_and_list(args, cwd)


def _run_and_list(args, cwd):
    code = textwrap.dedent(f"""
        import json, sys
        from asgifix.cli import main
        sys.argv = ["asgifix"] + {args!r}
        try:
            main()
        except SystemExit:
            pass
        sys.stderr.write("MODULES" + json.dumps(sorted(sys.modules)))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd)
    return set(json.loads(result.stderr.rsplit("MODULES", 1)[1]))


def test_one_python_file_check_imports_nothing_heavy(tmp_path):
    (tmp_path / "consumers.py").write_text("from asgiref.sync import async_to_sync\n\nasync def f():\n    pass\n")
    loaded = _modules_after(["check", "--no-color", "consumers.py"], tmp_path)
    assert "asgifix.engine" in loaded
    assert not {name for name in HEAVY if name in loaded}


def test_a_check_that_marks_a_rewrite_does_not_import_the_rewriting_library(tmp_path):
    """AFX203 rewrites an import with libcst: a check shows its [~] marker, and builds the edits only for
    the reports that print them (JSON, SARIF) or for `fix`."""
    (tmp_path / "requirements.txt").write_text("channels==4.3.2\n")
    (tmp_path / "consumers.py").write_text("from asgiref.inmemory import ChannelLayer\n\nlayer = ChannelLayer()\n")
    for output in ("text", "github", "gitlab", "junit"):
        args = ["check", "--no-color", "--format", output, "--output-file", "out.txt", "--statistics", "consumers.py"]
        loaded = _modules_after(args, tmp_path)
        assert "AFX203" in (tmp_path / "out.txt").read_text(), output
        assert "asgifix.matchers.moves" in loaded and "libcst" not in loaded, output
    _run_and_list(["check", "--no-color", "--output-file", "out.txt", "consumers.py"], tmp_path)
    assert "[~]" in (tmp_path / "out.txt").read_text()
    # the JSON report holds the edits: they are built, with the library
    loaded = _run_and_list(["check", "--format", "json", "--output-file", "out.json", "consumers.py"], tmp_path)
    (finding,) = [f for f in json.loads((tmp_path / "out.json").read_text())["findings"] if f["code"] == "AFX203"]
    assert finding["fix"]["edits"] and "libcst" in loaded


def test_a_module_that_does_not_parse_is_reported_without_the_newer_grammar_parser(tmp_path):
    """Only a module holding an f-string can be one a newer Python parses (PEP 701): a plain syntax error is
    reported without loading libcst's parser; one with an f-string still gets the newer grammar's chance."""
    (tmp_path / "broken.py").write_text("from asgiref.sync import async_to_sync\n\ndef f(:\n    pass\n")
    args = ["check", "--no-color", "--output-file", "out.txt", "broken.py"]
    loaded = _modules_after(args, tmp_path)
    assert "broken.py:3" in (tmp_path / "out.txt").read_text() and "libcst" not in loaded
    (tmp_path / "broken.py").write_text("from asgiref.sync import async_to_sync\n\nx = f'{1}'\ndef f(:\n    pass\n")
    loaded = _run_and_list(args, tmp_path)
    assert "broken.py:4" in (tmp_path / "out.txt").read_text()
    if sys.version_info < (3, 12):
        assert "libcst" in loaded
    # a module only a newer Python parses is checked, not reported as broken
    (tmp_path / "broken.py").write_text("from asgiref.sync import async_to_sync\n\nd = {}\nx = f\"{d[\"k\"]}\"\n")
    _run_and_list(args, tmp_path)
    assert "cannot parse" not in (tmp_path / "out.txt").read_text()


def test_one_clean_requirements_file_check_imports_nothing_heavy(tmp_path):
    (tmp_path / "requirements.txt").write_text("Django==4.2.16\nchannels>=4.0,<5\nasgiref~=3.8\n")
    loaded = _modules_after(["check", "--no-color", "requirements.txt"], tmp_path)
    assert "asgifix.sources.requirements" in loaded
    # packaging is needed to judge pins against each other; pip's parser is not.
    assert not {name for name in HEAVY if name in loaded and name != "packaging"}


def test_a_requirements_file_beyond_the_simple_form_imports_no_pip_parser(tmp_path):
    (tmp_path / "requirements.txt").write_text(
        "Django==4.2.16 ; python_version >= '3.10'\nasgiref 3.5.2\nchannels[daphne]~=4.0 --hash=sha256:aa\n"
        "git+https://github.com/django/daphne.git#egg=daphne\n--index-url https://example.org/simple\n")
    loaded = _modules_after(["check", "--no-color", "requirements.txt"], tmp_path)
    assert "asgifix.sources.pip_grammar" in loaded
    assert not {name for name in ("pip_requirements_parser", "pip", "libcst", "rich") if name in loaded}
