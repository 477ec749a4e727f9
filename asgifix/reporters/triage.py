"""Output of `asgifix triage`: text for people, JSON for tools.

The log's own text and the project's lines are escaped with :func:`printable`: a log can carry
terminal escapes and forged CI workflow commands.
"""

from __future__ import annotations

import json
import textwrap

from .. import __version__
from . import json_safe, printable


def _rule_names() -> dict[str, str]:
    from ..catalogue import CatalogueError, load_catalogue

    try:
        return {rule.code: rule.name for rule in load_catalogue()}
    except CatalogueError:
        return {}


def _wrapped(label: str, text: str, width: int = 100) -> list[str]:
    indent = " " * (len(label) + 2)
    return textwrap.wrap(printable(text), width=width, initial_indent=f"  {label}", subsequent_indent=indent,
                         break_on_hyphens=False, break_long_words=False) or [f"  {label}"]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_text(result) -> str:
    out: list[str] = []
    if not result.recognised:
        out.append(f"asgifix triage: no known asgiref, Django or Channels error in this text "
                   f"({_plural(result.lines, 'line')} read).")
        out.append("Run `asgifix check` in the project to look for the breakages asgifix knows before they show.")
        return "\n".join(out) + "\n"
    names = _rule_names()
    out.append(f"asgifix triage: {_plural(len(result.hits), 'known error')} recognised "
               f"({_plural(result.lines, 'line')} read).")
    if result.mentions:
        named = ", ".join(f"{_display(m.package)} {m.version}{' (installed)' if m.installed else ''}"
                          for m in result.mentions)
        out.append("")
        out.extend(_wrapped("versions named in the log: ", named))
        for note in result.version_notes:
            out.extend(_wrapped("- ", note))
    for number, hit in enumerate(result.hits, 1):
        signature = hit.signature
        out.append("")
        out.append(f"[{number}] {printable(signature.title)} ({signature.id})")
        times = f" ({hit.occurrences} times)" if hit.occurrences > 1 else ""
        out.append(f"  line {hit.line}{times}: {printable(hit.text.strip())[:300]}")
        out.extend(_wrapped("cause: ", hit.cause()))
        for note in hit.notes:
            out.extend(_wrapped("note: ", note))
        for line in hit.analysis:
            out.extend(_wrapped("- ", line))
        if signature.folklore:
            out.extend(_wrapped("usual advice: ", hit.folklore()))
        if hit.fix_hint:
            out.extend(_wrapped("fix: ", hit.fix_hint))
            out.extend(_wrapped("also: ", hit.fix()))
        else:
            out.extend(_wrapped("fix: ", hit.fix()))
        rules = ", ".join(f"{code} {names[code]}" if code in names else code for code in signature.rules)
        out.extend(_wrapped("rules: ", rules + f" (`asgifix explain {signature.rules[0]}`)"))
        project = result.by_signature.get(signature.id)
        if project is not None:
            out.extend(_project_lines(project))
    return "\n".join(out) + "\n"


def _display(package: str) -> str:
    from ..triage import display_name

    return display_name(package)


def _project_lines(project) -> list[str]:
    out = []
    where = printable(project.path)
    if project.problem:
        out.append(f"  in {where}: not checked: {printable(project.problem)}")
        return out
    if not project.findings:
        out.append(f"  in {where}: none of these rules finds anything in the project's files; the cause is in "
                   f"the installed environment or in code asgifix does not read.")
    else:
        out.append(f"  in {where}: {_plural(len(project.findings), 'finding')}:")
        for finding in project.findings[:20]:
            out.append(f"    {printable(finding.path)}:{finding.span.line}:{finding.span.column}: "
                       f"{finding.code} {printable(finding.message)}")
            if finding.source_line is not None:
                out.append(f"      | {printable(finding.source_line.strip())}")
            if finding.hint:
                out.append(f"      = {printable(finding.hint)}")
        if len(project.findings) > 20:
            out.append(f"    ... and {len(project.findings) - 20} more (`asgifix check`)")
        if project.fix_command:
            out.append(f"  run: {printable(project.fix_command)}")
    for error in project.errors[:5]:
        out.append(f"    error: {printable(str(error))}")
    return out


def render_json(result) -> str:
    matches = []
    for hit in result.hits:
        entry = {
            "id": hit.signature.id,
            "title": hit.signature.title,
            "line": hit.line,
            "text": hit.text,
            "occurrences": hit.occurrences,
            "groups": hit.groups,
            "cause": hit.cause(),
            "notes": hit.notes,
            "analysis": hit.analysis,
            "folklore": hit.folklore() or None,
            "fix": hit.fix_hint or hit.fix(),
            "fix_general": hit.fix() if hit.fix_hint else None,
            "rules": list(hit.signature.rules),
            "reports": list(hit.signature.reports),
        }
        project = result.by_signature.get(hit.signature.id)
        if project is not None:
            entry["project"] = {
                "path": project.path,
                "findings": [finding.to_json() | {"source_line": finding.source_line} for finding in project.findings],
                "errors": [error.to_json() for error in project.errors],
                "fix_command": project.fix_command,
                "problem": project.problem,
            }
        matches.append(entry)
    data = {
        "asgifix_version": __version__,
        "recognised": result.recognised,
        "lines": result.lines,
        "versions": [{"package": m.package, "version": m.version, "line": m.line, "installed": m.installed}
                     for m in result.mentions],
        "version_notes": result.version_notes,
        "matches": matches,
        "project": result.project,
    }
    return json_safe(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"
