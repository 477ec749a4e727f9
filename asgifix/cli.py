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


def _output_failed(exc: BaseException) -> bool:
    """An error writing standard output or error (no file named: files asgifix reads or writes
    report their own errors, naming the file)."""
    import errno

    return (isinstance(exc, OSError) and exc.filename is None
            and exc.errno in (errno.ENOSPC, errno.EIO, getattr(errno, "EDQUOT", errno.ENOSPC)))


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
        click.option("-e", "--exit-zero", is_flag=True, help="Exit 0 even when findings remain."),
        click.option("--statistics", is_flag=True, help="Show counts per rule instead of each finding."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Configuration file (default: the nearest pyproject.toml with [tool.asgifix])."),
        click.option("--target-asgiref", metavar="VERSION",
                     help="Check against this asgiref version instead of the project's pins."),
        click.option("--exclude", multiple=True, metavar="PATTERN",
                     help="Glob patterns to exclude, replacing the configured and default ones."),
        click.option("--extend-exclude", multiple=True, metavar="PATTERN",
                     help="Glob patterns to exclude, added to the configured and default ones."),
        click.option("--force-exclude", is_flag=True, default=None,
                     help="Apply the excludes to files named on the command line too (as pre-commit passes them)."),
        click.option("--respect-gitignore/--no-respect-gitignore", default=None,
                     help="Skip the files .gitignore ignores (default: on)."),
        click.option("--stdin-filename", metavar="PATH",
                     help="Read the file's text from standard input (give `-` as the path) and check it as PATH."),
        click.option("--no-cache", is_flag=True, default=False,
                     help="Neither read nor write the results cache (also ASGIFIX_NO_CACHE=1)."),
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=str), metavar="DIR",
                     help="Where the results cache lives (default .asgifix_cache in the project root; "
                          "also ASGIFIX_CACHE_DIR)."),
        click.option("-q", "--quiet", is_flag=True, help="Print the findings and errors, and no summary."),
        click.option("-s", "--silent", is_flag=True, help="Print nothing; the exit code tells the result."),
        click.option("-v", "--verbose", is_flag=True,
                     help="Also say on stderr what was discovered and into which environments it went."),
        click.option("--no-color", is_flag=True, help="Disable colour (also NO_COLOR=1, or output not a TTY)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _note(enabled: bool, text: str) -> None:
    """A ``-v`` line on stderr."""
    if enabled:
        from .reporters import printable

        click.echo(f"asgifix: {printable(text)}", err=True)


class _Run:
    """Everything a check or fix invocation resolved from the command line and configuration."""

    def __init__(self, paths, config_file, select, extend_select, ignore, target_asgiref, exclude,
                 extend_exclude=(), force_exclude=None, respect_gitignore=None, stdin_filename=None,
                 verbose=False):
        from .catalogue import CatalogueError, load_catalogue, select_rules
        from .config import ConfigError, find_config, load_settings, validate_version

        self.verbose = verbose
        self.stdin = None  # (path, text) with --stdin-filename and `-`
        paths = list(paths)
        if stdin_filename is not None:
            if paths not in ([], ["-"]):
                raise UsageProblem("--stdin-filename reads one file from standard input: give `-` or no path")
            paths = [stdin_filename]
            self.stdin = stdin_filename
        elif "-" in paths:
            raise UsageProblem("`-` (standard input) needs --stdin-filename PATH to say which file it is")
        self.paths = paths or ["."]
        for path in self.paths:
            if path == self.stdin:
                continue  # an editor's new buffer need not exist on disk
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
            force_exclude=force_exclude,
            respect_gitignore=respect_gitignore,
        )
        if extend_select:
            self.settings.extend_select = self.settings.extend_select + (_codes(extend_select) or [])
        if exclude:  # as ruff: --exclude replaces, --extend-exclude adds
            self.settings.exclude = list(exclude)
        if extend_exclude:
            self.settings.extend_exclude = self.settings.extend_exclude + list(extend_exclude)
        _note(verbose, f"configuration: {config_path}" if config_path else "configuration: none (defaults)")
        try:
            catalogue = load_catalogue()
        except CatalogueError as exc:
            raise _fail(str(exc)) from None
        self.all_rules = list(catalogue)
        self.rules = select_rules(
            catalogue, self.settings.select + self.settings.extend_select, self.settings.ignore
        )
        self.named = None
        self._named_files()

    def _named_files(self) -> None:
        """Files named on the command line: read the project around them (see asgifix.named)."""
        from .named import NamedFiles, force_excluded

        from .discovery import classify

        files = [p for p in self.paths if p == self.stdin or os.path.isfile(p)]
        if not files:
            return
        readable = []
        for path in files:
            if classify(Path(path), explicit=True) is None:
                # A YAML, Markdown or other file pre-commit hands over: no declaration, never read as one.
                _note(self.verbose, f"{path}: skipped (not a declaration, Python or server-start file)")
            else:
                readable.append(path)
        self.paths = [p for p in self.paths if p in readable or not (p == self.stdin or os.path.isfile(p))]
        files = readable
        if self.settings.force_exclude:
            kept = []
            for path in files:
                if force_excluded(path, self.settings.all_excludes):
                    _note(self.verbose, f"{path}: excluded (--force-exclude)")
                else:
                    kept.append(path)
            files = kept
            self.paths = [p for p in self.paths if p in kept or not (p == self.stdin or os.path.isfile(p))]
        if not files:
            return
        from .engine import DECLARATION_KINDS

        self.named = NamedFiles(files, DECLARATION_KINDS)
        directories = [p for p in self.paths if p not in files]
        self._alone = list(self.paths)  # what to read if no named file can need the project (see engine())
        self.paths = self.named.run_paths(directories)
        for root in self.named.roots:
            _note(self.verbose, f"named files: reading the project at {root} for their verdict")

    def engine(self, unsafe_fixes: bool = False):
        from .engine import Engine
        from .parallel import JobsError

        try:
            engine = Engine(self.settings, self.rules, unsafe_fixes=unsafe_fixes)
        except JobsError as exc:
            raise _fail(str(exc)) from None
        if self.named is not None and not self._needs_project(engine):
            # Every named file is a module that spells nothing any rule looks for (the bytes
            # prefilter): no finding can concern it, so the project around it is not read.
            _note(self.verbose, "named files: none mentions what a rule looks for, so the project around them is not read")
            self.named, self.paths = None, self._alone
        engine.named = self.named
        return engine

    def _needs_project(self, engine) -> bool:
        """Whether a named file can be concerned by a finding: a declaration, a file of a kind some
        rule reads whole, or one that passes the engine's bytes prefilter."""
        from .discovery import classify

        for path in self.named.given:
            kind = classify(Path(path), explicit=True)
            if path == self.stdin or kind not in engine.prefilters or kind in engine.declaration_kinds:
                return True
            try:
                with open(path, "rb") as handle:
                    raw = handle.read()
            except OSError:
                return True  # reported as the file's error by the run
            if engine.admits(kind, Path(path).name, raw):
                return True
        return False

    def overrides(self):
        """The document read from standard input, for --stdin-filename."""
        if self.stdin is None:
            return None
        from .discovery import classify, display_path
        from .engine import PYTHON_KINDS
        from .textio import DecodeProblem, TextDocument

        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        kind = classify(Path(self.stdin), explicit=True)
        display = display_path(self.stdin, "")
        try:
            document = TextDocument.decode(Path(self.stdin), display, raw, python=kind in PYTHON_KINDS,
                                           wide=kind == "requirements")
        except DecodeProblem as exc:
            raise _fail(f"{display}: cannot decode standard input: {exc}") from None
        return {display: document}

    def report_discovery(self, engine, report) -> None:
        """``-v``: the named files skipped, the environments judged, what was read."""
        if not self.verbose:
            return
        from .named import describe_install_sets

        for path in getattr(engine, "skipped", ()):
            _note(True, f"{path}: skipped (not a declaration, Python or server-start file)")
        if self.named is not None:
            for error in self.named.dropped_errors:
                _note(True, f"not reported (not a named file): {error}")
        project = engine.project
        if project is not None:
            lines = describe_install_sets(project)
            for line in lines:
                _note(True, line)
            if not lines and project.declarations:
                _note(True, "environment: every declaration, judged together")
        _note(True, f"{report.files_checked} files read")


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
        except BrokenPipeError:
            # `asgifix check | head`: the reader left. Say nothing more (stdout goes nowhere, so the
            # flush at exit cannot fail again), as a filter in a pipe does.
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            raise SystemExit(1)
        except _Terminated:
            _stopped("terminated", EXIT_TERMINATED)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("ASGIFIX_DEBUG"):
                raise
            if _output_failed(exc):
                # `asgifix check > /dev/full`, a full disk or quota: the machine's problem, not asgifix's
                raise _fail(f"cannot write the output: {exc.strerror}") from None
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


def run() -> None:
    """The ``asgifix`` command and ``python -m asgifix``: :func:`main`, and an exit after a signal that
    stays 130 (Ctrl-C) or 143 (SIGTERM).

    After asgifix has handled a Ctrl-C (workers stopped, "asgifix: interrupted" said), CPython can
    still take the KeyboardInterrupt for unhandled and end by killing itself with SIGINT (seen under
    ``python -m`` on 3.11 in about one run in ten of tests/test_reliability.py's b08: strace shows its
    exit path set SIGINT back to SIG_DFL and signal itself), so the shell saw a death by signal, not
    130. By the time the exit code says "interrupted" the run has cleaned up (every write finished or
    undone), so it leaves at once, its output flushed.

    Every other exit leaves at once too, for speed: when :func:`main` returns, all the run writes is
    written (atomic writes, the results cache, the report) and its worker processes are waited for,
    so the interpreter's teardown (freeing each object and module one by one) would only cost time:
    about 50 ms, a quarter of a one-file check (bench/RESULTS.md). Output is flushed first; a flush
    that fails exits 120, as Python's own exit does.
    """
    try:
        main(prog_name="asgifix")
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            _leave(0 if code is None else code)
        raise


def _leave(code: int) -> None:
    """Flush standard output and error, then end the process with ``code`` (no teardown)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            if stream is sys.stdout and code == 0:
                code = 120  # what Python exits with when it cannot flush standard output
    os._exit(code)


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


def _emit(report, rules, output_format: str, output_file: Optional[Path], no_color: bool, silent: bool,
          **options) -> None:
    """Print the report (not with ``silent``); with ``output_file`` write it there in ``output_format``
    and print it as text."""
    from .reporters import RenderOptions, renderer

    if output_file is not None:
        text = renderer(output_format)(report, rules, RenderOptions(color=False, **options))
        from .textio import atomic_write

        try:
            atomic_write(output_file, text.encode("utf-8", "backslashreplace"))
        except OSError as exc:
            raise _fail(f"{output_file}: cannot write the report: {exc.strerror or exc}") from None
        output_format = "text"
    if silent:
        return
    color = output_format == "text" and _use_color(no_color)
    _write(renderer(output_format)(report, rules, RenderOptions(color=color, **options)), color)


def _cache_setting(run: "_Run", cache_dir: Optional[str]) -> Optional[str]:
    """The cache directory asked for: --cache-dir, else ASGIFIX_CACHE_DIR (both relative to the current
    directory), else the configuration's cache-dir (relative to the project root), else None."""
    given = cache_dir or os.environ.get("ASGIFIX_CACHE_DIR") or None
    return os.path.abspath(given) if given else run.settings.cache_dir


def _open_cache(engine, run: "_Run", no_cache: bool, cache_dir: Optional[str]) -> None:
    """Give the engine the project's results cache (asgifix.cache), unless it is turned off."""
    off = no_cache or os.environ.get("ASGIFIX_NO_CACHE", "").strip().lower() in ("1", "true", "yes")
    if off:
        return
    from .cache import open_cache

    engine.results_cache = open_cache(engine, enabled=True, setting=_cache_setting(run, cache_dir))
    if engine.results_cache is None:
        _note(run.verbose, "results cache: off (the cache directory is outside the project root)")


def _save_cache(engine, run: "_Run") -> None:
    cache = engine.results_cache
    if cache is None:
        return
    root = os.path.realpath(engine.base_dir)
    written = cache.save(whole_root=any(os.path.realpath(p) == root for p in run.paths))
    _note(run.verbose, f"results cache: {cache.hits} hits, {cache.misses} misses"
                       + (f", {cache.not_read} unchanged files not read" if cache.not_read else "")
                       + (f", written to {cache.directory}" if written else ""))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="asgifix", message="%(prog)s %(version)s",
                      help="Show the version and exit.")
def main() -> None:
    """Find and fix what breaks Django/Channels projects when asgiref moves."""


def _warn_nothing_checked(run: "_Run", report, output_format: str, silent: bool) -> None:
    """No file found (or every named file skipped): say so, never "All checks passed"."""
    if report.files_checked == 0 and not silent:
        click.echo("asgifix: warning: no files to check (nothing asgifix reads was found under the given paths)",
                   err=True)


@main.command(short_help="Report the findings in PATHS (default: the current directory).")
@_common_options
@_guarded
def check(paths, output_format, output_file, fail_on, select, extend_select, ignore, exit_zero, statistics,
          config_file, target_asgiref, exclude, extend_exclude, force_exclude, respect_gitignore, stdin_filename,
          no_cache, cache_dir, quiet, silent, verbose, no_color):
    """Report the findings in PATHS (default: the current directory).

    Named files (as pre-commit passes them) are judged with the project around them:
    the findings that concern them are reported.
    """
    run = _Run(paths, config_file, select, extend_select, ignore, target_asgiref, exclude, extend_exclude,
               force_exclude, respect_gitignore, stdin_filename, verbose)
    overrides = run.overrides()
    tick, stop = _progress(output_format == "text" and not (quiet or silent))
    engine = run.engine()
    _open_cache(engine, run, no_cache, cache_dir)
    try:
        report, _, _ = engine.run(run.paths, progress=tick, overrides=overrides)
    finally:
        stop()
    _save_cache(engine, run)
    run.report_discovery(engine, report)
    _warn_nothing_checked(run, report, output_format, silent)
    _emit(report, run.rules, output_format, output_file, no_color, silent, quiet=quiet, statistics=statistics,
          mode="check")
    sys.exit(_exit_code(report, exit_zero, fail_on=fail_on))


@main.command(short_help="Apply the safe fixes in PATHS in place, then report what remains.")
@_common_options
@click.option("--diff", is_flag=True, help="Print a unified diff of the fixes and write nothing.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply the fixes marked unsafe.")
@click.option("--show-fixes", is_flag=True, help="List the fixes applied, per file and rule.")
@_guarded
def fix(paths, output_format, output_file, fail_on, select, extend_select, ignore, exit_zero, statistics,
        config_file, target_asgiref, exclude, extend_exclude, force_exclude, respect_gitignore, stdin_filename,
        no_cache, cache_dir, quiet, silent, verbose, no_color, diff, unsafe_fixes, show_fixes):
    """Apply the safe fixes in PATHS in place, then report what remains.

    With --stdin-filename the fixed text goes to standard output and the report to standard error.
    """
    from .reporters import RenderOptions

    if diff and output_file is not None:
        raise UsageProblem("--output-file does not apply to --diff (the diff is written to standard output)")
    run = _Run(paths, config_file, select, extend_select, ignore, target_asgiref, exclude, extend_exclude,
               force_exclude, respect_gitignore, stdin_filename, verbose)
    overrides = run.overrides()
    tick, stop = _progress(output_format == "text" and not (quiet or silent))
    engine = run.engine(unsafe_fixes=unsafe_fixes)
    _open_cache(engine, run, no_cache, cache_dir)
    try:
        outcome = engine.fix(run.paths, write=not diff and overrides is None, progress=tick, overrides=overrides)
    finally:
        stop()
    _save_cache(engine, run)
    report = outcome.report
    run.report_discovery(engine, report)
    if overrides is not None and not diff:
        # An editor's buffer: the fixed text to stdout, the report to stderr (nothing is written).
        (display, document), = overrides.items()
        fixed = outcome.changed.get(display, document)
        sys.stdout.buffer.write(fixed.raw) if hasattr(sys.stdout, "buffer") else click.echo(fixed.text, nl=False)
        sys.stdout.flush()
        if not silent:
            from .reporters import renderer

            options = RenderOptions(quiet=quiet, statistics=statistics, mode="fix", unsafe_fixes=unsafe_fixes)
            click.echo(renderer("text")(report, run.rules, options), err=True, nl=False)
        sys.exit(_exit_code(report, exit_zero, fail_on=fail_on))
    _warn_nothing_checked(run, report, output_format, silent)
    if diff:
        from .reporters import printable

        if not silent:
            click.echo(outcome.diff(), nl=False)
        for error in report.errors:
            click.echo(f"asgifix: error: {printable(str(error))}", err=True)
        would_change = bool(outcome.changed)
        sys.exit(EXIT_ERROR if any(e.fatal for e in report.errors) else
                 (EXIT_FINDINGS if (would_change or _failing(report, fail_on)) and not exit_zero else EXIT_CLEAN))
    if show_fixes and output_format == "text" and not silent:
        _write(_applied_fixes(engine, outcome, run.rules), False)
    _emit(report, run.rules, output_format, output_file, no_color, silent, quiet=quiet, statistics=statistics,
          mode="fix", unsafe_fixes=unsafe_fixes)
    sys.exit(_exit_code(report, exit_zero, fail_on=fail_on))


@main.command(short_help="Move the whole ASGI stack to one asgiref release.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--to", "target", default="latest", show_default=True, metavar="VERSION|latest",
              help="asgiref release to move to (latest: the newest that installs on the set's Pythons).")
@click.option("--dry-run", is_flag=True, help="Print the plan and the diff; write nothing (exit 1 if there is work).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--python", "python", metavar="X.Y", help="The Python to plan for, instead of the declared ones.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--exclude", multiple=True, metavar="PATTERN", help="Glob patterns to exclude.")
@click.option("--no-color", is_flag=True, help="Disable colour.")
@_guarded
def upgrade(paths, target, dry_run, output_format, python, config_file, exclude, no_color):
    """Move the ASGI stack of PATHS to one asgiref release: plan, pins, code, re-check."""
    from .upgrade import UpgradeProblem, run_upgrade, validate_request
    from .reporters.upgrade_report import render_json, render_text

    run = _Run(paths, config_file, (), (), (), None, exclude)
    try:
        target, python = validate_request(target, python)
        outcome = run_upgrade(run.paths, run.settings, run.rules, requested=target, python=python,
                              write=not dry_run)
    except UpgradeProblem as exc:
        raise UsageProblem(str(exc)) from None
    color = output_format == "text" and _use_color(no_color)
    if output_format == "json":
        click.echo(render_json(outcome), nl=False)
    else:
        _write(render_text(outcome, color=color, dry_run=dry_run), False)
        if dry_run and outcome.diff:
            click.echo(outcome.diff, nl=False)
    sys.exit(outcome.exit_code(dry_run))


@main.command(short_help="Inspect an installed environment without importing it.")
@click.argument("project", required=False, type=click.Path(exists=True, file_okay=False, path_type=str))
@click.option("--python", "python", metavar="PATH", help="Inspect this interpreter (or virtual environment) instead.")
@click.option("--path", "target_dirs", multiple=True, metavar="DIR", help="Inspect a `pip install --target` folder.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "sarif", "github"]), default="text")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary and errors.")
@click.option("--no-color", is_flag=True, help="Disable colour.")
@_guarded
def doctor(project, python, target_dirs, output_format, exit_zero, quiet, no_color):
    """Inspect an installed environment (and PROJECT's code against it) without importing it."""
    from .doctor import main as doctor_main

    code = doctor_main(project, python, target_dirs, output_format, quiet, _use_color(no_color) and
                       output_format == "text", _fail)
    sys.exit(EXIT_CLEAN if exit_zero and code == EXIT_FINDINGS else code)


def _applied_fixes(engine, outcome, rules) -> str:
    """``--show-fixes``: per changed file, how many findings of each rule the fixes removed."""
    from collections import Counter

    names = {rule.code: rule.name for rule in rules}
    before = getattr(engine, "initial_report", None)
    if before is None or not outcome.changed:
        return ""
    fixable = Counter((f.path, f.code) for f in before.findings
                      if f.fix is not None and engine._applicable(f.fix))
    left = Counter((f.path, f.code) for f in outcome.report.findings if f.fix is not None)
    lines = []
    total = 0
    for path in sorted(outcome.changed):
        rows = [(code, count - left.get((where, code), 0)) for (where, code), count in sorted(fixable.items())
                if where == path]
        rows = [(code, count) for code, count in rows if count > 0]
        if not rows:
            continue
        lines.append(f"- {path}:")
        for code, count in rows:
            total += count
            lines.append(f"    {count} × {code} ({names.get(code, '')})")
    if not lines:
        return ""
    return f"Fixed {total} finding{'' if total == 1 else 's'}:\n" + "\n".join(lines) + "\n\n"


@main.command("rules", short_help="List every rule in the catalogue.")
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


@main.command(short_help="Remove the results cache of the project in PATH (default: here).")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=str))
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=str), metavar="DIR",
              help="The cache directory to remove (default: the configured one, else .asgifix_cache).")
@_guarded
def clean(path, cache_dir):
    """Remove the results cache (.asgifix_cache) of the project in PATH, as `ruff clean` does."""
    from .cache import clean as remove
    from .config import ConfigError, find_config, load_settings

    config_path = find_config(Path(path))
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    root = config_path.parent if config_path else Path(path)
    given = cache_dir or os.environ.get("ASGIFIX_CACHE_DIR") or None
    removed = remove(root.resolve(), os.path.abspath(given) if given else settings.cache_dir)
    if removed is not None:
        click.echo(f"Removing cache at: {removed}")


@main.command(short_help="Print the full documentation of one rule (e.g. AFX101).")
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


@main.command(short_help="Explain an error message, pip output, traceback or CI log.")
@click.argument("source", required=False, type=click.Path(dir_okay=False, allow_dash=True, path_type=str))
@click.option("--project", type=click.Path(exists=True, file_okay=False, path_type=str),
              help="Run the matching rules on this project (default: the current directory if it is one).")
@click.option("--no-project", is_flag=True, help="Explain the error only; read no project.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_guarded
def triage(source, project, no_project, output_format):
    """Explain an error message, pip/uv output, traceback or CI log (FILE, or - / stdin)."""
    from .triage import run_command

    sys.exit(run_command(source, project, no_project, output_format, _fail))


if __name__ == "__main__":  # pragma: no cover
    main()
