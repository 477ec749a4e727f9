"""Human output: ``path:line:col: CODE message``, the offending line, a hint, a summary.

The text is built once; with colour it is rendered through rich markup, without
colour (pipes, CI logs, NO_COLOR, ``--no-color``) rich is never imported.
"""

from __future__ import annotations

from ..catalogue import Rule
from ..model import Finding, Report
from . import RenderOptions, printable, statistics

_SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold blue"}


class _Writer:
    def __init__(self, color: bool):
        self.color = color
        self.lines: list[str] = []
        if color:
            from rich.markup import escape

            # rich's escape() doubles a trailing backslash (in case a tag follows); text
            # passed to plain() ends its line, so a trailing backslash (a continued
            # requirement line) must stay single. The "x" keeps escape() off the end.
            self._escape = lambda text: escape(text + "x")[:-1]
        else:
            self._escape = lambda text: text

    # Both escape what a repository controls (paths, requirement text, hints): no control
    # character or lone surrogate reaches the terminal or the CI log raw.
    def styled(self, text: str, style: str) -> str:
        text = printable(text)
        if not self.color:
            return text
        from rich.markup import escape

        return f"[{style}]{escape(text)}[/]"

    def plain(self, text: str) -> str:
        return self._escape(printable(text))

    def add(self, line: str = "") -> None:
        self.lines.append(line)


def environments_text(names: tuple[str, ...], limit: int = 3) -> str:
    """``in the environment of requirements/prod.txt`` (and of the others, counted past ``limit``)."""
    shown = ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
    return f"in the environment{'s' if len(names) > 1 else ''} of {shown}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _finding_lines(out: _Writer, finding: Finding) -> None:
    span = finding.span
    location = out.styled(f"{finding.path}:{span.line}:{span.column}:", "bold")
    # [*]: `asgifix fix` applies it; [~]: only with --unsafe-fixes (as ruff marks them).
    if finding.fix is None:
        marker = ""
    elif finding.fix.applicability == "safe":
        marker = out.styled(" [*]", "cyan")
    else:
        marker = out.styled(" [~]", "yellow")
    out.add(f"{location} {out.styled(finding.code, _SEVERITY_STYLE[finding.severity])}{marker} "
            f"{out.plain(finding.message)}")
    if finding.source_line is not None:
        gutter = str(span.line)
        pad = " " * len(gutter)
        source = printable(finding.source_line.expandtabs(1))
        out.add(out.styled(f" {pad} |", "blue"))
        out.add(out.styled(f" {gutter} |", "blue") + " " + out.plain(source))
        if span.end_line == span.line:
            width = max(1, span.end_column - span.column)
        else:
            width = max(1, len(source) - span.column + 1)
        underline = " " * (span.column - 1) + "^" * width
        out.add(out.styled(f" {pad} |", "blue") + " " + out.styled(underline, _SEVERITY_STYLE[finding.severity]))
    for note in finding.notes:
        out.add(out.styled("  = note: ", "bold cyan") + out.plain(note))
    if finding.environments:
        out.add(out.styled("  = note: ", "bold cyan") + out.plain(environments_text(finding.environments)))
    if finding.hint:
        out.add(out.styled("  = help: ", "bold cyan") + out.plain(finding.hint))
    out.add()


def render(report: Report, rules: list[Rule], options: RenderOptions) -> str:
    out = _Writer(options.color)
    if options.statistics:
        rows = statistics(report, rules)
        width = max((len(str(row["count"])) for row in rows), default=1)
        safe = {f.code for f in report.findings if f.fix is not None and f.fix.applicability == "safe"}
        for row in rows:
            # [*] some fixes are safe; [~] the fixes are all unsafe (--unsafe-fixes), as the finding lines mark them.
            if not row["fixable"]:
                fixable = "    "
            elif row["code"] in safe:
                fixable = out.styled(" [*]", "cyan")
            else:
                fixable = out.styled(" [~]", "yellow")
            out.add(f"{str(row['count']).rjust(width)}  {out.styled(row['code'], 'bold')}{fixable} {row['name']}")
        if rows:
            out.add()
    else:
        for finding in report.findings:
            _finding_lines(out, finding)
    for error in report.errors:
        out.add(f"{out.styled('error:', 'bold red')} {out.plain(str(error))}")
    if options.quiet:
        # As ruff's -q: the findings (and errors), nothing else.
        while out.lines and not out.lines[-1]:
            out.lines.pop()
        return "\n".join(out.lines) + ("\n" if out.lines else "")
    if options.mode == "fix" and (report.fixed or not options.quiet):
        fixed = f"Fixed {_plural(report.fixed, 'finding')} in {_plural(len(report.changed_paths), 'file')}."
        out.add(out.styled(fixed, "bold green") if report.fixed else fixed)
    count = len(report.findings)
    if count:
        fixable = sum(1 for f in report.findings if f.fix)
        hidden_unsafe = sum(1 for f in report.findings if f.fix and f.fix.applicability == "unsafe")
        summary = f"Found {_plural(count, 'finding')}"
        if options.mode == "fix":
            summary += " remaining"
        summary += "."
        if fixable and options.mode == "check":
            safe = fixable - hidden_unsafe
            parts = []
            if safe:
                parts.append(f"{safe} fixable with `asgifix fix`")
            if hidden_unsafe:
                parts.append(f"{hidden_unsafe} more with `asgifix fix --unsafe-fixes`")
            summary += " [*] " + "; ".join(parts) + "."
        elif options.mode == "fix" and hidden_unsafe and not options.unsafe_fixes:
            summary += f" {hidden_unsafe} fixable with `--unsafe-fixes`."
        out.add(out.styled(summary, "bold"))
    elif not report.errors and options.mode == "check" and not options.quiet and report.files_checked:
        # (no file at all: the CLI warns "no files to check"; nothing passed)
        if report.files_named is not None:
            checked = (f"{_plural(report.files_named, 'named file')} checked; "
                       f"{_plural(report.files_checked, 'file')} read for the project's verdict")
        else:
            checked = f"{_plural(report.files_checked, 'file')} checked"
        out.add(out.styled(f"All checks passed ({checked}).", "bold green"))
    if report.errors:
        verb = "fixed" if options.mode == "fix" else "checked"
        out.add(out.styled(f"{_plural(len(report.errors), 'file')} could not be {verb}.", "bold red"))
    return "\n".join(out.lines) + ("\n" if out.lines else "")
