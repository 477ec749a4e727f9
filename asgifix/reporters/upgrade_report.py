"""How ``asgifix upgrade`` shows its plan: a table per install set, the code changes, the summary."""

from __future__ import annotations

import json

from . import printable

KIND_LABEL = {"move": "", "replace": "replace", "repair": "repair", "remove": "person"}


def render_json(outcome) -> str:
    return json.dumps(outcome.to_json(), indent=2) + "\n"


def render_text(outcome, *, color: bool = False, dry_run: bool = False, width: int = 120) -> str:
    from io import StringIO

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = StringIO()
    console = Console(file=buffer, width=width, color_system="standard" if color else None,
                      force_terminal=color, highlight=False, soft_wrap=True)
    for plan in outcome.plans:
        pythons = " to ".join(plan.pythons) if plan.pythons else "any"
        title = f"{printable(plan.name)} (Python {pythons})"
        if plan.target:
            title += f": asgiref {plan.target}"
        console.print(Text(title, style="bold" if color else ""))
        if plan.python_note and not plan.pythons:
            console.print(f"  {printable(plan.python_note)}", markup=False)
        if plan.target_note and not plan.blocked:
            console.print(f"  {printable(plan.target_note)}", markup=False)
        if plan.blocked:
            console.print(f"  no plan: {printable(plan.blocked)}", markup=False)
            continue
        if not plan.moves and plan.target:
            console.print("  nothing to move: every declared package installs with the target")
        else:
            table = Table(show_edge=False, pad_edge=False, box=None if not color else None, header_style="bold")
            for column in ("package", "from", "to", "why"):
                table.add_column(column, overflow="fold")
            for move in plan.moves:
                why = move.why
                if move.major:
                    why += " [Django major move]"
                for fix in move.security:
                    why += f"; crosses {fix['version']} ({', '.join(fix['cve']) or 'security fix'})"
                label = KIND_LABEL.get(move.kind, "")
                table.add_row(Text(printable(move.package)), Text(printable(move.old)),
                              Text(printable(move.new) + (f" ({label})" if label else "")), Text(printable(why)))
            console.print(table)
        for note in plan.notes:
            console.print(f"  note: {printable(note)}", markup=False)
        for command in plan.lock_commands:
            console.print(f"  lock files are not rewritten: re-run {command}", markup=False)
        console.print("")
    made = [f for f in outcome.changes if f.fix is not None]
    if made:
        console.print("Code changes the new versions require (asgifix makes them):")
        for finding in made:
            console.print(f"  {printable(finding.path)}:{finding.span.line} {finding.code} "
                          f"{printable(finding.fix.message)}", markup=False)
    remaining = outcome.remaining
    if remaining:
        console.print("For a person, after the move:" if not dry_run else
                      "For a person, after the move (as planned):")
        for finding in remaining:
            console.print(f"  {printable(finding.path)}:{finding.span.line} {finding.code} "
                          f"{printable(finding.message)}", markup=False)
    for error in outcome.errors:
        console.print(f"asgifix: error: {printable(str(error))}", markup=False)
    console.print("")
    changed = len(outcome.changed_paths)
    if dry_run:
        console.print(f"Dry run: {changed} file(s) would change; nothing written." if changed else
                      "Dry run: nothing to change.")
    else:
        console.print(f"Changed {changed} file(s)." if changed else "Nothing changed.")
    commands = [c for plan in outcome.plans for c in plan.lock_commands]
    verify = list(dict.fromkeys(commands)) + ["`asgifix check`", "your test suite"]
    if changed:
        console.print("Verify with: " + ", then ".join(verify) + ".", markup=False)
    # (a table pads its cells to the width: no trailing blanks in what is printed)
    return "\n".join(line.rstrip() for line in buffer.getvalue().split("\n"))
