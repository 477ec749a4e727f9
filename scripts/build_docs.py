#!/usr/bin/env python3
"""Write docs/rules/AFXnnn.md (one page per rule) and docs/rules/README.md from the catalogue.

Each page is built from the rule's own rules/AFXnnn.toml: summary, category, severity, fix
safety, the explanation (what it does, why it breaks, the fix) and every example, the fixable
ones as a diff. SARIF ``helpUri`` and ``asgifix explain`` link to these pages, and
tests/test_docs.py fails when a committed page differs from what this script writes:

    python scripts/build_docs.py           # rewrite the pages (and rules/catalogue.json, the parsed catalogue,
                                           # and rules/data/toml.json, the parsed knowledge TOML files)
    python scripts/build_docs.py --check   # exit 1 if any page is out of date
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from asgifix.catalogue import COMPILED, Example, Rule, compiled_catalogue, load_catalogue  # noqa: E402
from asgifix.datafiles import COMPILED as DATA_COMPILED, compiled_data  # noqa: E402

DOCS = REPO / "docs" / "rules"
COMPILED_PATH = REPO / "rules" / COMPILED  # the parsed catalogue asgifix loads at start-up
DATA_COMPILED_PATH = REPO / "rules" / "data" / DATA_COMPILED  # the parsed knowledge TOML files (asgifix.datafiles)

FIX_SAFETY = {
    "safe": "**safe**: `asgifix fix` applies it; the result installs on the same Pythons and keeps the code's meaning.",
    "unsafe": "**unsafe**: only `asgifix fix --unsafe-fixes` applies it, because code or settings must change "
              "with it; review the change.",
    "none": "**none**: the finding and its help line say what to change by hand.",
}
LANGUAGES = {".py": "python", ".toml": "toml", ".cfg": "ini", ".lock": "json", ".yml": "yaml", ".yaml": "yaml"}


def _language(name: str) -> str:
    return LANGUAGES.get(Path(name).suffix, "text")


def _block(name: str, text: str, language: str = "") -> list[str]:
    return [f"`{name}`:", "", f"```{language or _language(name)}", text.lstrip("\n").rstrip("\n"), "```", ""]


def _diff(example: Example) -> list[str]:
    before = example.before.lstrip("\n").splitlines(keepends=True)
    after = (example.after or "").lstrip("\n").splitlines(keepends=True)
    lines = list(difflib.unified_diff(before, after, f"a/{example.file}", f"b/{example.file}"))
    return ["```diff", *(line.rstrip("\n") for line in lines), "```", ""]


def _options(example: Example) -> str:
    flags = []
    if example.options.get("target-asgiref"):
        flags.append(f"--target-asgiref {example.options['target-asgiref']}")
    if example.options.get("unsafe-fixes"):
        flags.append("--unsafe-fixes")
    return f" (run with `{' '.join(flags)}`)" if flags else ""


def render_page(rule: Rule) -> str:
    lines = [
        f"# {rule.code}: {rule.name}",
        "",
        f"{rule.summary}.",
        "",
        f"- Category: {rule.category} (AFX{rule.code[3]}xx)",
        f"- Severity: {rule.severity}",
        "- Fix: " + ("only when the intent is evident; " if rule.fix_availability == "sometimes" else "")
        + FIX_SAFETY[rule.fix_safety],
        f"- Checks: {', '.join(rule.file_kinds)} files",
        f"- Defined in: [`rules/{rule.code}.toml`](../../rules/{rule.code}.toml)",
        "",
        rule.explanation.replace("\n## ", "\n## ").strip(),
        "",
        "## Examples",
        "",
    ]
    for number, example in enumerate(rule.examples, 1):
        title = "Reported" if example.kind == "invalid" else "Not reported"
        lines.append(f"### {number}. {title}" + (f": {example.description}" if example.description else "")
                     + _options(example))
        lines.append("")
        for name, content in example.context.items():
            lines += _block(name, content)
        if example.kind == "invalid" and example.after is not None:
            if example.reported_in:
                lines.append(f"Reported in `{example.reported_in}`; `asgifix fix` changes `{example.file}`:")
            else:
                lines.append(f"`asgifix fix` changes `{example.file}`:")
            lines.append("")
            lines += _diff(example)
        else:
            lines += _block(example.file, example.before)
            if example.kind == "invalid":
                where = f" (reported in `{example.reported_in}`)" if example.reported_in else ""
                lines += [f"No automatic fix{where}: the help line says what to change.", ""]
    lines += ["---", "", f"Generated from the catalogue by `scripts/build_docs.py`; `asgifix explain {rule.code}` "
              "prints the same documentation.", ""]
    return "\n".join(lines)


def render_index(rules: tuple[Rule, ...]) -> str:
    marks = {"safe": "[*]", "unsafe": "[~]", "none": ""}
    lines = ["# Rules", "", "One page per rule, generated from `rules/*.toml` by `scripts/build_docs.py`.",
             "`[*]`: `asgifix fix` applies the fix; `[~]`: only `asgifix fix --unsafe-fixes` does.", "",
             "| code | fix | name | summary |", "|---|---|---|---|"]
    for rule in rules:
        lines.append(f"| [{rule.code}]({rule.code}.md) | {marks[rule.fix_safety]} | {rule.name} | {rule.summary} |")
    return "\n".join(lines) + "\n"


def pages() -> dict[str, str]:
    rules = load_catalogue()
    result = {f"{rule.code}.md": render_page(rule) for rule in rules}
    result["README.md"] = render_index(rules)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed page is out of date")
    args = parser.parse_args(argv)
    wanted = pages()
    stale = [name for name, text in wanted.items()
             if not (DOCS / name).is_file() or (DOCS / name).read_text(encoding="utf-8") != text]
    extra = sorted(p.name for p in DOCS.glob("AFX*.md") if p.name not in wanted) if DOCS.is_dir() else []
    compiled = compiled_catalogue(REPO / "rules")
    compiled_stale = not COMPILED_PATH.is_file() or COMPILED_PATH.read_text(encoding="utf-8") != compiled
    data = compiled_data(REPO / "rules" / "data")
    data_stale = not DATA_COMPILED_PATH.is_file() or DATA_COMPILED_PATH.read_text(encoding="utf-8") != data
    if args.check:
        for name in stale + extra:
            print(f"docs/rules/{name} is out of date: run python scripts/build_docs.py", file=sys.stderr)
        if compiled_stale:
            print(f"rules/{COMPILED} is out of date: run python scripts/build_docs.py", file=sys.stderr)
        if data_stale:
            print(f"rules/data/{DATA_COMPILED} is out of date: run python scripts/build_docs.py", file=sys.stderr)
        return 1 if stale or extra or compiled_stale or data_stale else 0
    if compiled_stale:
        COMPILED_PATH.write_text(compiled, encoding="utf-8")
        print(f"wrote rules/{COMPILED}")
    if data_stale:
        DATA_COMPILED_PATH.write_text(data, encoding="utf-8")
        print(f"wrote rules/data/{DATA_COMPILED}")
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (DOCS / name).write_text(wanted[name], encoding="utf-8")
    for name in extra:
        (DOCS / name).unlink()
    print(f"{len(stale)} page(s) written, {len(extra)} removed, {len(wanted)} in docs/rules/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
