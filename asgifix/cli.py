"""The command line: argument parsing and exit codes only; the work is in the engine.

Exit codes (as ruff): 0 clean (or everything fixed), 1 findings remain, 2 usage,
configuration or internal error, or a file that could not be read at all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Optional

import click

from . import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageProblem(click.UsageError):
    exit_code = EXIT_ERROR


def _fail(message: str) -> "click.exceptions.Exit":
    from .reporters import printable

    click.echo(f"asgifix: error: {printable(message)}", err=True)
    return click.exceptions.Exit(EXIT_ERROR)


def _codes(values: tuple[str, ...], option: Optional[str] = None) -> Optional[list[str]]:
    """The codes of an option's values; with ``option`` (--select) an empty list is a usage error."""
    if not values:
        return None
    from .catalogue import is_known_code_or_prefix

    codes = [part.strip().upper() for value in values for part in value.split(",") if part.strip()]
    if option is not None and not codes:
        # `--select "$CODES"` with an empty variable would check nothing and pass.
        raise UsageProblem(f"{option} needs at least one rule code or prefix (ALL selects every rule)")
    for code in codes:
        if not is_known_code_or_prefix(code):
            raise UsageProblem(f"unknown rule code or prefix {code!r} (see `asgifix rules`)")
    return codes


def _use_color(no_color: bool, stream=None) -> bool:
    stream = stream or sys.stdout
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _write(text: str, color: bool) -> None:
    if not text:
        return
    if color:
        from rich.console import Console

        Console(soft_wrap=True, highlight=False).print(text, end="")
    else:
        click.echo(text, nl=False)


def _common_options(function: Callable) -> Callable:
    options = [
        click.argument("paths", nargs=-1, type=click.Path(path_type=str)),
        click.option("--format", "output_format",
                     type=click.Choice(["text", "json", "sarif", "github", "gitlab", "junit"]),
                     default="text", show_default=True,
                     help="Output format (github: workflow annotations; gitlab: Code Quality JSON; junit: XML)."),
        click.option("--output-file", "-o", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                     help="Write the --format report to FILE; the terminal still shows the findings as text."),
        click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="warning",
                     show_default=True, help="Exit 1 only for findings of this severity or worse."),
        click.option("--select", multiple=True, metavar="CODES",
                     help="Rule codes or prefixes to enable (comma-separated; default ALL)."),
        click.option("--extend-select", multiple=True, metavar="CODES",
                     help="Rule codes or prefixes to enable on top of --select."),
        click.option("--ignore", multiple=True, metavar="CODES", help="Rule codes or prefixes to disable."),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain."),
        click.option("--statistics", is_flag=True, help="Show counts per rule instead of each finding."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Configuration file (default: the nearest pyproject.toml with [tool.asgifix])."),
        click.option("--target-asgiref", metavar="VERSION",
                     help="Check against this asgiref version instead of the project's pins."),
        click.option("--exclude", multiple=True, metavar="PATTERN",
                     help="Glob patterns to exclude, added to the configured ones."),
        click.option("-q", "--quiet", is_flag=True, help="Print only the summary and errors."),
        click.option("--no-color", is_flag=True, help="Disable colour (also NO_COLOR=1, or output not a TTY)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


class _Run:
    """Everything a check or fix invocation resolved from the command line and configuration."""

    def __init__(self, paths, config_file, select, extend_select, ignore, target_asgiref, exclude):
        from .catalogue import CatalogueError, load_catalogue, select_rules
        from .config import ConfigError, find_config, load_settings, validate_version

        self.paths = list(paths) or ["."]
        for path in self.paths:
            if not os.path.exists(path):
                raise _fail(f"{path}: no such file or directory")
            if not (os.path.isfile(path) or os.path.isdir(path)):
                raise _fail(f"{path}: not a regular file or directory")
        config_path = config_file or find_config(Path(self.paths[0]))
        try:
            settings = load_settings(config_path)
        except ConfigError as exc:
            raise _fail(str(exc)) from None
        if target_asgiref is not None:
            try:
                validate_version(target_asgiref)
            except ValueError as exc:
                raise UsageProblem(f"--target-asgiref: {exc}") from None
        self.settings = settings.merged(
            select=_codes(select, "--select"),
            ignore=_codes(ignore),
            target_asgiref=target_asgiref,
        )
        if extend_select:
            self.settings.extend_select = self.settings.extend_select + (_codes(extend_select) or [])
        if exclude:
            self.settings.extend_exclude = self.settings.extend_exclude + list(exclude)
        try:
            catalogue = load_catalogue()
        except CatalogueError as exc:
            raise _fail(str(exc)) from None
        self.all_rules = list(catalogue)
        self.rules = select_rules(
            catalogue, self.settings.select + self.settings.extend_select, self.settings.ignore
        )

    def engine(self, unsafe_fixes: bool = False):
        from .engine import Engine
        from .parallel import JobsError

        try:
            return Engine(self.settings, self.rules, unsafe_fixes=unsafe_fixes)
        except JobsError as exc:
            raise _fail(str(exc)) from None


def _progress(enabled: bool):
    """A file counter on stderr for long scans, only on a terminal; None otherwise."""
    if not enabled or not sys.stderr.isatty():
        return None, lambda: None
    state = {"count": 0, "progress": None, "task": None}

    def tick(source) -> None:
        state["count"] += 1
        if state["progress"] is None and state["count"] >= 500:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

            # Files are checked as they are found, so the total is unknown: a pulsing bar and a count.
            progress = Progress(SpinnerColumn(), BarColumn(), TextColumn("Checking {task.completed} files… {task.description}"),
                                console=Console(stderr=True), transient=True)
            progress.start()
            state["progress"] = progress
            state["task"] = progress.add_task("", total=None, completed=state["count"])
        if state["progress"] is not None and state["count"] % 50 == 0:
            state["progress"].update(state["task"], completed=state["count"], description=source.display[-60:])

    def stop() -> None:
        if state["progress"] is not None:
            state["progress"].stop()

    return tick, stop


def _guarded(function: Callable) -> Callable:
    """No traceback reaches the user: an unexpected exception is one line on stderr, exit 2.

    ``ASGIFIX_DEBUG=1`` lets it through (with its traceback) for bug reports.
    """
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        previous = _on_sigterm()
        try:
            return function(*args, **kwargs)
        except KeyboardInterrupt:
            _stopped("interrupted", EXIT_INTERRUPTED)
        except _Terminated:
            _stopped("terminated", EXIT_TERMINATED)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("ASGIFIX_DEBUG"):
                raise
            message = " ".join(str(exc).split()) or "no message"
            raise _fail(f"internal error: {type(exc).__name__}: {message[:300]} "
                        f"(a bug in asgifix; run with ASGIFIX_DEBUG=1 for the traceback)") from None
        finally:
            if previous is not None:
                import signal

                signal.signal(signal.SIGTERM, previous)

    return wrapper


# Exit codes after a signal, as shells report them (128 + the signal's number).
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class _Terminated(BaseException):
    """SIGTERM arrived: unwinds like Ctrl-C (files being written finish or are cleaned up)."""


def _on_sigterm():
    """Make SIGTERM unwind the run; the previous handler, or None when it cannot be set."""
    import signal
    import threading

    if not hasattr(signal, "SIGTERM") or threading.current_thread() is not threading.main_thread():
        return None

    def terminate(signum, frame):
        raise _Terminated()

    try:
        return signal.signal(signal.SIGTERM, terminate)
    except (ValueError, OSError):  # pragma: no cover
        return None


def _stopped(what: str, code: int) -> None:
    """Stop the worker processes, say so in one line, exit with the signal's code."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the cleanup
    from .parallel import terminate_pools

    terminate_pools()
    click.echo(f"asgifix: {what}", err=True)
    raise click.exceptions.Exit(code)


def _failing(report, fail_on: str) -> bool:
    """Whether a finding at ``fail_on`` severity or worse remains (severities run error, warning, info)."""
    from .model import SEVERITIES

    worst = SEVERITIES.index(fail_on)
    return any(SEVERITIES.index(finding.severity) <= worst for finding in report.findings)


def _exit_code(report, exit_zero: bool, *, would_change: bool = False, fail_on: str = "warning") -> int:
    if any(error.fatal for error in report.errors):
        return EXIT_ERROR
    if exit_zero:
        return EXIT_CLEAN
    if _failing(report, fail_on) or report.errors or would_change:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _emit(report, rules, output_format: str, output_file: Optional[Path], no_color: bool, **options) -> None:
    """Print the report; with ``output_file`` write it there in ``output_format`` and print it as text."""
    from .reporters import RenderOptions, renderer

    if output_file is not None:
        text = renderer(output_format)(report, rules, RenderOptions(color=False, **options))
        from .textio import atomic_write

        try:
            atomic_write(output_file, text.encode("utf-8", "backslashreplace"))
        except OSError as exc:
            raise _fail(f"{output_file}: cannot write the report: {exc.strerror or exc}") from None
        output_format = "text"
    color = output_format == "text" and _use_color(no_color)
    _write(renderer(output_format)(report, rules, RenderOptions(color=color, **options)), color)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="asgifix")
def main() -> None:
    """Find and fix what breaks Django/Channels projects when asgiref moves."""


@main.command()
@_common_options
@_guarded
def check(paths, output_format, output_file, fail_on, select, extend_select, ignore, exit_zero, statistics,
          config_file, target_asgiref, exclude, quiet, no_color):
    """Report findings in PATHS (default: the current directory)."""
    run = _Run(paths, config_file, select, extend_select, ignore, target_asgiref, exclude)
    tick, stop = _progress(output_format == "text" and not quiet)
    try:
        report, _, _ = run.engine().run(run.paths, progress=tick)
    finally:
        stop()
    _emit(report, run.rules, output_format, output_file, no_color, quiet=quiet, statistics=statistics, mode="check")
    sys.exit(_exit_code(report, exit_zero, fail_on=fail_on))


@main.command()
@_common_options
@click.option("--diff", is_flag=True, help="Print a unified diff of the fixes and write nothing.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes marked unsafe.")
@_guarded
def fix(paths, output_format, output_file, fail_on, select, extend_select, ignore, exit_zero, statistics,
        config_file, target_asgiref, exclude, quiet, no_color, diff, unsafe_fixes):
    """Apply safe fixes in PATHS in place, then report what remains."""
    if diff and output_file is not None:
        raise UsageProblem("--output-file does not apply to --diff (the diff is written to standard output)")
    run = _Run(paths, config_file, select, extend_select, ignore, target_asgiref, exclude)
    tick, stop = _progress(output_format == "text" and not quiet)
    try:
        outcome = run.engine(unsafe_fixes=unsafe_fixes).fix(run.paths, write=not diff, progress=tick)
    finally:
        stop()
    report = outcome.report
    if diff:
        from .reporters import printable

        click.echo(outcome.diff(), nl=False)
        for error in report.errors:
            click.echo(f"asgifix: error: {printable(str(error))}", err=True)
        would_change = bool(outcome.changed)
        sys.exit(EXIT_ERROR if any(e.fatal for e in report.errors) else
                 (EXIT_FINDINGS if (would_change or _failing(report, fail_on)) and not exit_zero else EXIT_CLEAN))
    _emit(report, run.rules, output_format, output_file, no_color, quiet=quiet, statistics=statistics, mode="fix",
          unsafe_fixes=unsafe_fixes)
    sys.exit(_exit_code(report, exit_zero, fail_on=fail_on))


@main.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_command(output_format):
    """List every rule in the catalogue."""
    from .catalogue import CatalogueError, load_catalogue

    try:
        catalogue = load_catalogue()
    except CatalogueError as exc:
        raise _fail(str(exc)) from None
    if output_format == "json":
        import json

        click.echo(json.dumps([rule.to_json() for rule in catalogue], indent=2))
        return
    width = max(len(rule.name) for rule in catalogue)
    for rule in catalogue:
        fix = {"safe": "[*]", "unsafe": "[~]", "none": "   "}[rule.fix_safety]
        click.echo(f"{rule.code}  {fix}  {rule.name.ljust(width)}  {rule.summary}")
    click.echo("\n[*] safe fix available   [~] fix available with --unsafe-fixes")


@main.command()
@click.argument("code")
def explain(code):
    """Print the full documentation of rule CODE (e.g. AFX101)."""
    from .catalogue import CatalogueError, rule_by_code
    from .explain import render_rule

    try:
        rule = rule_by_code(code)
    except CatalogueError as exc:
        raise _fail(str(exc)) from None
    if rule is None:
        raise _fail(f"unknown rule code {code!r} (see `asgifix rules`)")
    click.echo(render_rule(rule), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
