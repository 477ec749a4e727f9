"""The text of ``asgifix explain CODE``: a rule's documentation with its examples."""

from __future__ import annotations

from ._paths import rule_doc_url
from .catalogue import Rule

FIX_AVAILABILITY_NOTE = "(when the intent is evident)"

_FIX_TEXT = {
    "safe": "safe: `asgifix fix` applies it",
    "unsafe": "unsafe: applied only with `asgifix fix --unsafe-fixes`; review the change",
    "none": "none: the finding says what to change by hand",
}


def _indent(text: str) -> str:
    return "".join(f"    {line}" if line.strip() else line for line in text.splitlines(keepends=True))


def render_rule(rule: Rule) -> str:
    lines = [
        f"# {rule.code} ({rule.name})",
        "",
        rule.summary + ".",
        "",
        f"Category: {rule.category}. Severity: {rule.severity}. "
        f"Fix: {_FIX_TEXT[rule.fix_safety]}" + (f" {FIX_AVAILABILITY_NOTE}" if rule.fix_availability == "sometimes" else "") + ".",
        f"Checks: {', '.join(rule.file_kinds)} files.",
        f"Documentation: {rule_doc_url(rule.code)}",
        "",
        rule.explanation,
        "",
        "## Examples",
    ]
    for example in rule.examples:
        title = "Reported" if example.kind == "invalid" else "Not reported"
        if example.description:
            title += f" ({example.description})"
        if example.reported_in:
            # The finding is where the code uses something; the fix changes another file.
            used = example.context.get(example.reported_in, "")
            lines += ["", f"{title}, in {example.reported_in}:", "", _indent(used.lstrip("\n")).rstrip("\n"),
                      "", f"with {example.file}:", "", _indent(example.before.lstrip("\n")).rstrip("\n")]
        else:
            lines += ["", f"{title}, in {example.file}:", "", _indent(example.before.lstrip("\n")).rstrip("\n")]
        if example.kind == "invalid":
            if example.after is not None:
                lines += ["", "After `asgifix fix`:", "", _indent(example.after.lstrip("\n")).rstrip("\n")]
            else:
                lines += ["", "(no automatic fix)"]
    return "\n".join(lines) + "\n"
