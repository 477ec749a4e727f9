"""The pipeline: discover → prefilter → parse once → match → findings → fixes.

Per-file work is a pure function of the file's bytes, so results can be cached
between fix iterations (and spread over processes). Only small facts survive
a file's analysis; a document is kept only when a fix may edit it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from .records import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from .catalogue import Rule
from .config import Settings
from . import sources
from .discovery import SourceFile, discover, display_path
from .includes import PROBLEM_FACT, constraint_marked, follow_includes, root_holding, roots_for
from .matchers import FileFacts, Gate, LazyMatcher, RuleContext, collector, gate, lazy_matcher, rule_needles
from .model import Edit, FileError, Finding, Fix, Report
from .parallel import (Scheduler, can_fork, forked_results, jobs_from_environment, judged_views, make_pool,
                       validate_all)
from .prefilter import Prefilter
from .project import Declaration, ProjectModel
from .textio import DecodeProblem, FileTooBig, TextDocument, WriteRefused, read_bytes, write_within

MAX_FIX_ITERATIONS = 10
# Files bigger than this are reported, not read (no project file is near it; a 200 MB
# generated module is not worth gigabytes of memory). ASGIFIX_MAX_FILE_MB overrides it.
MAX_FILE_BYTES = int(os.environ.get("ASGIFIX_MAX_FILE_MB", "32") or 32) * 1024 * 1024
# File kinds that declare dependencies, or say what is installed on which Python (install sets):
# read whenever a project rule is selected.
DECLARATION_KINDS = ("requirements", "pyproject", "setup-cfg", "setup-py", "pipfile", "lock", "server-config",
                     "python-version")
# Kinds decoded as Python source (PEP 263 coding cookies).
PYTHON_KINDS = ("python", "setup-py")
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


@dataclass
class FileResult:
    source: SourceFile
    findings: list[Finding] = field(default_factory=list)
    error: Optional[FileError] = None
    document: Optional[TextDocument] = None  # kept when a fix may edit this file
    declarations: list[Declaration] = field(default_factory=list)
    facts: list[tuple[str, object]] = field(default_factory=list)


@dataclass
class FixOutcome:
    report: Report
    original: dict[str, TextDocument]  # display path -> document as read
    changed: dict[str, TextDocument]  # display path -> document after fixes

    def diff(self) -> str:
        import difflib  # only --diff needs it

        from .reporters import printable

        chunks = []
        for path in sorted(self.changed):
            before = self.original[path].text.splitlines(keepends=True)
            after = self.changed[path].text.splitlines(keepends=True)
            # A path's control characters are escaped: a header line must not start a forged
            # CI log command or carry a terminal escape.
            shown = printable(path)
            chunks.extend(difflib.unified_diff(before, after, f"a/{shown}", f"b/{shown}"))
            if chunks and not chunks[-1].endswith(("\n", "\r")):
                chunks.append("\n\\ No newline at end of file\n")
        return "".join(chunks)


def noqa_codes(line_text: str) -> Optional[set[str]]:
    """Codes suppressed on a line: None when there is no noqa, an empty set for a bare ``# noqa``."""
    match = _NOQA.search(line_text)
    if not match:
        return None
    codes = match.group("codes")
    return set(re.split(r"[\s,]+", codes.upper().strip())) if codes else set()


def is_suppressed(line_text: Callable[[int], str], finding: Finding) -> bool:
    for line in {finding.span.line, finding.span.end_line}:
        codes = noqa_codes(line_text(line))
        if codes is not None and (not codes or finding.code in codes):
            return True
    return False


# The cyclic garbage collector's first threshold during a run (Python's default: 700 allocations).
# Parsing allocates a syntax tree of many small objects that live until the file is done, so
# with the default every tree is scanned again and again as it is promoted through the
# generations: on Django's tree the collector cost about as much as parsing. A run makes
# little cyclic garbage; collections still happen, every GC_THRESHOLD allocations.
GC_THRESHOLD = 100_000


@contextlib.contextmanager
def few_collections():
    """Collect garbage rarely while a run analyzes files; what start-up built (modules, classes,
    the catalogue) is set aside (``gc.freeze``) so no collection scans it again."""
    import gc

    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def with_source_line(line_text: Callable[[int], str], finding: Finding) -> Finding:
    return dataclasses.replace(finding, source_line=line_text(finding.span.line))


class Engine:
    def __init__(self, settings: Settings, rules: Iterable[Rule], *, unsafe_fixes: bool = False,
                 base_dir: Optional[Path] = None, jobs: Optional[int] = None, installed=None):
        """``jobs``: processes for per-file analysis (default: ASGIFIX_JOBS, else the usable cores).

        ``installed`` (:class:`asgifix.project.InstalledPins`, from ``asgifix doctor``): judge the
        project against the versions an environment has installed instead of its declarations.
        """
        self.installed = installed
        self.jobs = jobs if jobs is not None else jobs_from_environment()
        self._pool = None
        self._keep_pool = False
        # Per-file results kept between runs (asgifix.cache.ResultsCache), set by the CLI; None: off.
        self.results_cache = None
        self.settings = settings
        self.rules = list(rules)
        self.unsafe_fixes = unsafe_fixes
        # Set by the CLI when files are named (asgifix.named.NamedFiles): which results concern them.
        self.named = None
        self.project: Optional[ProjectModel] = None
        self.base_dir = (base_dir or (settings.config_path.parent if settings.config_path else Path.cwd())).resolve()
        self.context = RuleContext(settings.target_asgiref, settings.pin_strategy)
        # Matchers (and collectors) are imported on their first check, not here.
        self.file_matchers: dict[str, list[LazyMatcher]] = {}
        self.project_matchers: list[LazyMatcher] = []
        # file kind -> [(collector name, function, gate)], each collector once per kind
        self.collectors: dict[str, list[tuple[str, Callable, Gate]]] = {}
        # A collector's needles, and those the rules' data adds to it (modules a rule looks for).
        collector_needles: dict[str, set[bytes]] = {}
        for rule in self.rules:
            matcher = lazy_matcher(rule, self.context)
            if matcher.is_environment:
                continue  # AFX6xx judge an installed environment: `asgifix doctor` runs them, not a check
            if matcher.is_project:
                self.project_matchers.append(matcher)
                for name in matcher.facts:
                    function, needles = collector(name)
                    extra = rule_needles(rule, matcher.spec, name) if needles else ()
                    collector_needles.setdefault(name, set(needles)).update(extra)
                    for kind in rule.file_kinds:
                        registered = self.collectors.setdefault(kind, [])
                        if all(existing[0] != name for existing in registered):
                            registered.append((name, function, needles))
            else:
                for kind in rule.file_kinds:
                    self.file_matchers.setdefault(kind, []).append(matcher)
        for kind, registered in self.collectors.items():
            registered[:] = [(name, function, gate(tuple(sorted(collector_needles[name])) if needles else (), name))
                             for name, function, needles in registered]
        # file kind -> its refined needles, each with the refinements the gates give it (see passes)
        self.refined: dict[str, dict[bytes, tuple]] = {}
        # Declarations feed project rules, so declaration files are read even
        # when no file rule is selected for them.
        self.declaration_kinds = (
            {kind for kind in DECLARATION_KINDS if kind in sources.READERS} if self.project_matchers else set()
        )
        # Of those, the files project fixes may edit (and whose documents are kept).
        self.document_kinds = self.declaration_kinds - {"server-config", "python-version"}
        # The bytes prefilter: a file of a kind is decoded and parsed only when it
        # contains a needle of some matcher or collector that wants it (None: every file).
        self.needles: dict[str, Optional[tuple[bytes, ...]]] = {}
        for kind in set(self.file_matchers) | set(self.collectors):
            gates = [m.gate for m in self.file_matchers.get(kind, ())]
            gates += [g for _, _, g in self.collectors.get(kind, ())]
            if any(not g.needles for g in gates):
                self.needles[kind] = None
            else:
                # A needle that some gate takes as it is admits a file alone; one that every gate
                # wanting it refines admits a file only with a refinement that holds.
                plain = {n for g in gates for n in g.needles if n not in g.refinements}
                refined: dict[bytes, list] = {}
                for g in gates:
                    for needle, refinement in g.refinements.items():
                        if needle in g.needles and needle not in plain:
                            refined.setdefault(needle, []).append(refinement)
                self.needles[kind] = tuple(sorted(plain | set(refined)))
                if refined:
                    self.refined[kind] = {n: tuple(r) for n, r in refined.items()}
        # kind -> its prefilter (asgifix.prefilter); a kind without one is analyzed whole
        self.prefilters = {kind: Prefilter(needles, self.refined.get(kind)) for kind, needles in self.needles.items()
                           if needles is not None}

    # -- analysis -------------------------------------------------------------------
    def wants(self, source: SourceFile) -> bool:
        kind = source.kind
        return kind in self.file_matchers or kind in self.collectors or kind in self.declaration_kinds

    def analyze(self, source: SourceFile, override: Optional[TextDocument] = None) -> FileResult:
        if override is not None:
            return self.analyze_document(source, override)
        raw, result = self.read(source)
        if result is not None:
            return result
        return self.analyze_bytes(source, raw)

    def read(self, source: SourceFile) -> tuple[bytes, Optional[FileResult]]:
        """Read a file and apply the bytes prefilter.

        Returns ``(raw, None)`` when the file needs analysis, or a finished
        result: an unreadable file, or one that the prefilter rules out (it
        is then never decoded or parsed). With the results cache in use, a file unchanged since it
        was cached is not read: its cached result is the finished one (asgifix.cache).
        """
        stored = self.results_cache
        if stored is not None and stored.active:
            hit = stored.unchanged(source)
            if hit is not None:
                return b"", hit
        try:
            raw = read_bytes(source.fspath, MAX_FILE_BYTES)
        except FileTooBig as exc:
            # Parsing is linear, but a 200 MB module would still take gigabytes of memory.
            return b"", FileResult(source, error=FileError(source.display, str(exc), fatal=False))
        except OSError as exc:
            return b"", FileResult(source, error=FileError(source.display, f"cannot read file: {exc.strerror or exc}"))
        prefilter = self.prefilters.get(source.kind)
        # A file named on the command line is always parsed (a syntax error there is news).
        if prefilter is not None and source.kind not in self.declaration_kinds and not source.explicit \
                and not prefilter.admits(raw, source.name):
            if stored is not None and stored.active:
                stored.ruled_out(source)
            return raw, FileResult(source)
        return raw, None

    def admits(self, kind: str, name: str, raw: bytes) -> bool:
        """The bytes prefilter: whether a file of ``kind`` named ``name`` holding ``raw`` is analyzed."""
        prefilter = self.prefilters.get(kind)
        return prefilter is None or prefilter.admits(raw, name)

    def analyze_bytes(self, source: SourceFile, raw: bytes) -> FileResult:
        """Decode and analyze a file's bytes (that passed the prefilter): a pure function of them,
        so the results cache answers for bytes it has seen."""
        cache = self.results_cache
        if cache is None or not cache.active or source.display in cache.expected:
            return self._decode_and_analyze(source, raw)  # (expected: looked up already, settled later)
        token, result = cache.get(source, raw)
        if result is None:
            result = self._decode_and_analyze(source, raw)
            cache.put(token, result)
        return result

    def _decode_and_analyze(self, source: SourceFile, raw: bytes) -> FileResult:
        try:
            document = TextDocument.decode(source.path, source.display, raw, python=source.kind in PYTHON_KINDS,
                                           wide=source.kind == "requirements")
        except DecodeProblem as exc:
            text = str(exc)
            line = None
            if text.startswith("line "):
                number, _, text = text.partition(": ")
                line = int(number.split()[1])
            return FileResult(source, error=FileError(source.display, f"cannot decode file: {text}", line))
        return self.analyze_document(source, document)

    def analyze_document(self, source: SourceFile, document: TextDocument) -> FileResult:
        result = FileResult(source)
        reader = sources.reader(source.kind)
        if reader is None:
            result.error = FileError(source.display, f"asgifix cannot read {source.kind} files yet", fatal=False)
            return result
        if not source.explicit:
            looks_foreign = getattr(reader, "looks_foreign", None)
            if looks_foreign is not None and looks_foreign(document):
                return result  # prose found by its name only: is_foreign() below would say so, at a cost
        try:
            parsed = reader.parse(document)
        except sources.SourceProblem as exc:
            result.error = FileError(source.display, str(exc), exc.line, fatal=False)
            return result
        is_foreign = getattr(reader, "is_foreign", None)
        if not source.explicit and is_foreign is not None and is_foreign(parsed):
            return result  # found by its name only, and its content says it is something else
        try:
            return self._analyze_parsed(source, document, reader, parsed, result)
        except (RecursionError, MemoryError):
            # ast.parse accepts nesting (a long `a + b + ...` chain) deeper than a
            # recursive walk over the tree can follow: report the file, go on.
            return FileResult(source, error=FileError(
                source.display, "too deeply nested to analyze (Python's recursion limit)", fatal=False))

    def _analyze_parsed(self, source: SourceFile, document: TextDocument, reader, parsed,
                        result: FileResult) -> FileResult:
        findings: list[Finding] = []
        for matcher in self.file_matchers.get(source.kind, ()):
            # A matcher's needles say which files it can find something in: the
            # file passed the prefilter for some matcher, maybe not for this one.
            if not matcher.gate.admits(document.raw, source.name):
                continue
            findings.extend(matcher.check_file(parsed))
        result.findings = self._filter(document, findings)
        result.declarations = reader.declarations(parsed)
        # Sources report what only they can see (includes to follow, a project's own name).
        source_facts = getattr(reader, "facts", None)
        if source_facts is not None:
            result.facts.extend(source_facts(parsed))
        for name, function, admitted in self.collectors.get(source.kind, ()):
            if not admitted.admits(document.raw, source.name):
                continue
            collected = function(parsed)
            if collected is not None:
                value, lines = collected
                texts = {line: document.line_text(line) for line in lines}
                result.facts.append((name, FileFacts(source.display, value, texts)))
        if source.kind in self.document_kinds or any(f.fix for f in result.findings) or _wants_document(result):
            result.document = document
        return result

    def results(self, paths: list[str], *, progress: Optional[Callable[[SourceFile], None]] = None,
                cache: Optional[dict[str, FileResult]] = None,
                overrides: Optional[dict[str, TextDocument]] = None) -> Iterator[tuple[SourceFile, FileResult]]:
        """``(source, result)`` for every file to check, in discovery order.

        Files are read and prefiltered here; those that need analysis are
        analyzed here or, in big runs, by a pool of processes (see
        :mod:`asgifix.parallel`): the results and their order are the same.
        """
        scheduler = Scheduler(self, self.jobs)
        stored = self.results_cache
        try:
            for source, result in self._scheduled(scheduler, paths, progress, cache, overrides):
                if cache is not None:
                    cache[source.display] = result
                if stored is not None and stored.expected:  # analyzed by the pool: cache it here
                    stored.settle(source, result)
                yield source, result
        finally:
            scheduler.close()

    def _scheduled(self, scheduler, paths, progress, cache, overrides) -> Iterator[tuple[SourceFile, FileResult]]:
        self.unlisted = []  # directories the walk could not list: reported as errors by run()
        self.skipped = []  # named files that are no file asgifix reads (shown by -v)
        found = discover(paths, self.settings.all_excludes, self.unlisted, self.skipped,
                         respect_gitignore=self.settings.respect_gitignore)
        if overrides:
            found = _with_unsaved(found, paths, overrides)
        if can_fork(self, scheduler.jobs):
            # Linux: walk first, then fork once; each process takes alternate files (asgifix.parallel).
            found = [source for source in found if self.wants(source) or source.explicit]
            ready = forked_results(self, found, progress, cache, overrides, scheduler.jobs)
            if ready is not None:
                yield from ready
                return
        stored = self.results_cache
        for source in found:
            if not self.wants(source) and not source.explicit:
                continue
            if stored is not None and not stored.active:
                stored.count(source)  # (a small run is faster without the cache)
            if progress is not None:
                progress(source)
            override = overrides.get(source.display) if overrides else None
            if override is not None:
                yield from scheduler.analyze(source, override)
            elif cache is not None and source.display in cache:
                yield from scheduler.done(source, cache[source.display])
            elif not scheduler.read_here():
                if scheduler.add_unread(source):  # a worker reads it
                    yield from scheduler.drain()
            else:
                raw, result = self.read(source)
                if result is not None:
                    if scheduler.held:
                        yield from scheduler.done(source, result)
                    else:  # nothing waits before it (the common case): no generator per file
                        yield source, result
                elif stored is not None and stored.active and scheduler.jobs > 1:
                    # (the pool's workers have no cache)
                    hit = stored.lookup(source, raw)
                    if hit is not None:
                        yield from scheduler.done(source, hit)
                    else:
                        yield from scheduler.analyze(source, raw)
                else:
                    yield from scheduler.analyze(source, raw)
        yield from scheduler.finish()

    # -- the process pool (kept for the whole of a fix) ------------------------------
    def acquire_pool(self, jobs: int):
        if self._pool is None:
            self._pool = make_pool(self, jobs)
        return self._pool

    def release_pool(self, pool) -> None:
        if not self._keep_pool:
            self.shutdown_pool()

    def shutdown_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _filter(self, document: TextDocument, findings: list[Finding]) -> list[Finding]:
        ignored = self._per_file_ignores(document.path)
        kept = []
        for finding in findings:
            if any(finding.code.startswith(prefix) for prefix in ignored):
                continue
            if is_suppressed(document.line_text, finding):
                continue
            kept.append(with_source_line(document.line_text, finding))
        return kept

    def _per_file_ignores(self, path: Path) -> list[str]:
        if not self.settings.per_file_ignores:
            return []
        try:
            relative = Path(os.path.relpath(path.resolve(), self.base_dir)).as_posix()
        except ValueError:  # another drive on Windows
            relative = path.as_posix()
        codes: list[str] = []
        for pattern, pattern_codes in self.settings.per_file_ignores.items():
            if fnmatchcase(relative, pattern) or fnmatchcase(path.name, pattern):
                codes.extend(pattern_codes)
        return codes

    # -- whole runs -----------------------------------------------------------------
    def run(self, paths: list[str], *, progress: Optional[Callable[[SourceFile], None]] = None,
            cache: Optional[dict[str, FileResult]] = None,
            overrides: Optional[dict[str, TextDocument]] = None) -> tuple[Report, ProjectModel, list[FileResult]]:
        with few_collections():
            return self._run(paths, progress, cache, overrides)

    def _run(self, paths, progress, cache, overrides) -> tuple[Report, ProjectModel, list[FileResult]]:
        report = Report()
        project = ProjectModel(installed=self.installed, roots=tuple(display_path(p, "") for p in paths))
        kept: list[FileResult] = []
        requirement_results: list[FileResult] = []  # for -r/-c includes
        declared: list[FileResult] = []  # declarations are added once includes say which are constraints

        def analyze_once(source: SourceFile) -> FileResult:
            if progress is not None:
                progress(source)
            override = overrides.get(source.display) if overrides else None
            if cache is not None and source.display in cache and override is None:
                return cache[source.display]
            result = self.analyze(source, override)
            if cache is not None:
                cache[source.display] = result
            return result

        def add(result: FileResult) -> None:
            source = result.source
            report.files_checked += 1
            if result.error:
                report.errors.append(result.error)
            report.findings.extend(result.findings)
            if result.declarations:
                declared.append(result)
            for kind, fact in result.facts:
                project.add_fact(kind, fact)
                if isinstance(fact, FileFacts):
                    project.line_texts.update(((fact.path, line), text) for line, text in fact.lines.items())
            if result.facts or result.declarations or result.document is not None:
                # Only files with facts or declarations can be named by a project finding;
                # not keeping the others keeps memory flat on big trees.
                project.paths[source.display] = source.path
            if result.document is not None:
                kept.append(result)
                if result.declarations or source.kind in self.document_kinds or _wants_document(result):
                    project.documents[source.display] = result.document
                    project.kinds[source.display] = source.kind

        # Results stream through (a big tree is never held in memory); requirements
        # files are kept, as pip reads what their -r/-c lines name.
        for source, result in self.results(paths, progress=progress, cache=cache, overrides=overrides):
            add(result)
            if source.kind == "requirements":
                requirement_results.append(result)
        for directory, reason in getattr(self, "unlisted", ()):
            report.errors.append(FileError(directory, f"cannot list directory: {reason}"))
        # Requirements files that a Dockerfile, script or CI step installs (`pip install -r
        # deps/base.pip`) are read whatever they are called, as pip would.
        for result in self._installed_files(paths, project, requirement_results, analyze_once):
            add(result)
            requirement_results.append(result)
        constraint_only: set[str] = set()
        if requirement_results:
            outcome = follow_includes(requirement_results, roots_for(paths, self.base_dir), analyze_once)
            for problem in outcome.problems:
                project.add_fact(PROBLEM_FACT, problem)
            for result in outcome.extra:
                add(result)
            constraint_only = outcome.constraint_only
        for result in declared:
            project.declarations.extend(constraint_marked(result.declarations, constraint_only))
        first_project_finding = len(report.findings)  # what follows is judged per install set
        # With nothing declared and nothing collected there is nothing to judge
        # (and no project matcher, resolver or release data need be imported).
        project_matchers = self.project_matchers if project.declarations or project.facts else ()
        if project_matchers:
            for finding in self._judge_install_sets(project, project_matchers):
                path = project.paths.get(finding.path)
                if path is not None and any(finding.code.startswith(p) for p in self._per_file_ignores(path)):
                    continue
                line_text = project.line_text_getter(finding.path)
                if not is_suppressed(line_text, finding):
                    report.findings.append(with_source_line(line_text, finding))
        if self.named is not None:
            # Files were named (pre-commit): the project was read, the findings that concern them are shown.
            self.named.keep(report, project, first_project_finding)
        self.project = project  # for `-v`
        report.sort()
        return report, project, kept

    def _installed_files(self, paths: list[str], project: ProjectModel, read: list[FileResult],
                         analyze: Callable[[SourceFile], FileResult]) -> list[FileResult]:
        """Files that install commands name and discovery did not read (by name, they are not requirements)."""
        from .install_sets import INSTALL_FACT

        commands = project.facts.get(INSTALL_FACT, ())
        if not commands:
            return []
        import posixpath

        seen = {os.path.realpath(r.source.fspath) for r in read}
        roots = roots_for(paths, self.base_dir)
        given = [p for p in paths if os.path.isdir(p)]
        extra: list[FileResult] = []
        for command in commands:
            on_disk = project.paths.get(command.path)
            if on_disk is None:
                continue
            for target in command.requirement_files:
                if "$" in target or "://" in target:
                    continue
                candidates = [(os.path.join(os.path.dirname(str(on_disk)), target),
                               posixpath.normpath(posixpath.join(posixpath.dirname(command.path), target)))]
                candidates += [(os.path.join(root, target), posixpath.normpath(posixpath.join(root, target)))
                               for root in given]
                for fspath, display in candidates:
                    real = os.path.realpath(fspath)
                    if real in seen:
                        break
                    if not os.path.isfile(real):
                        continue
                    if not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
                        continue
                    seen.add(real)
                    extra.append(analyze(SourceFile(Path(fspath), display, "requirements", True)))
                    break
        return extra

    def _judge_install_sets(self, project: ProjectModel, matchers) -> list[Finding]:
        """Project rules, judged in each install set (see :mod:`asgifix.install_sets`).

        A finding that several sets make at the same place with the same words is one
        finding naming them all; in a project with several sets every finding names the
        sets it holds in. Sets that propose different fixes for the same place get none.
        """
        from .install_sets import build, view_facts

        # An installed environment (`doctor`) is the one environment judged: no install sets.
        sets = build(project) if project.installed is None else []
        project.install_sets = sets
        if not sets:
            return [finding for matcher in matchers for finding in matcher.check_project(project)]
        views = [project.view(s, facts, peers) for s, facts, peers in zip(sets, view_facts(project.facts, sets),
                                                                          _peers(sets))]
        # place and words -> fix (as edits) -> (the finding, the sets that make it with that fix)
        merged: dict[tuple, dict[Optional[tuple], tuple[Finding, list[str]]]] = {}
        matchers = list(matchers)
        found = judged_views(self, matchers, views, self.jobs)
        for index in range(len(matchers)):
            for view, of_view in zip(views, found):
                for finding in of_view[index]:
                    span = finding.span
                    key = (finding.code, finding.path, span.line, span.column, span.end_line, span.end_column,
                           finding.message)
                    fix_key = finding.fix.identity() if finding.fix else None
                    by_fix = merged.setdefault(key, {})
                    if fix_key not in by_fix:
                        by_fix[fix_key] = (finding, [])
                    names = by_fix[fix_key][1]
                    if view.install_set.name not in names:
                        names.append(view.install_set.name)
        findings = []
        named = len([s for s in sets if not s.copy]) > 1 or any(s.copy for s in sets)
        order = {view.install_set.name: index for index, view in enumerate(views)}
        for by_fix in merged.values():
            by_fix = _by_edits(by_fix, order)
            variants = list(by_fix.values())
            if None in by_fix and len(variants) > 1:
                # Sets that cannot fix it share the finding of one that can.
                unfixed = by_fix[None][1]
                variants = [v for k, v in by_fix.items() if k is not None]
                variants[0][1].extend(name for name in unfixed if name not in variants[0][1])
            edits = [e for finding, _ in variants if finding.fix for e in finding.fix.edits] if len(variants) > 1 else []
            if len(variants) > 1 and any(_overlaps(a, b) for i, a in enumerate(edits) for b in edits[i + 1:]):
                # Sets that want the same place written differently would undo each other's fix.
                finding = variants[0][0]
                names = [name for _, its in variants for name in its]
                variants = [(dataclasses.replace(finding, fix=None, hint=(
                    f"the environments {', '.join(names)} need different fixes here: fix it by hand")), names)]
            for finding, names in variants:
                if named:
                    finding = dataclasses.replace(finding, environments=tuple(names))
                findings.append(finding)
        return findings

    def fix(self, paths: list[str], *, write: bool = True,
            progress: Optional[Callable[[SourceFile], None]] = None,
            start: Optional[dict[str, TextDocument]] = None,
            overrides: Optional[dict[str, TextDocument]] = None) -> FixOutcome:
        """``start``: edited texts of some files (display path -> document) to fix on from, as if a
        first round had made them (``upgrade`` passes its rewritten declarations); they are
        written with the fixes. ``overrides``: texts that replace files' contents (``--stdin-filename``)."""
        self._keep_pool = True  # the re-analysis after each round reuses the workers
        try:
            return self._fix(paths, write=write, progress=progress, start=start or {}, given=overrides or {})
        finally:
            self._keep_pool = False
            self.shutdown_pool()

    def _fix(self, paths: list[str], *, write: bool,
             progress: Optional[Callable[[SourceFile], None]],
             start: dict[str, TextDocument], given: dict[str, TextDocument]) -> FixOutcome:
        cache: dict[str, FileResult] = {}
        overrides: dict[str, TextDocument] = {}
        originals: dict[str, TextDocument] = {}
        sources: dict[str, SourceFile] = {}
        frozen: set[str] = set()  # files whose fix failed validation: left untouched
        fix_errors: list[FileError] = []
        fixed = 0
        fixed_in: dict[str, int] = {}  # display path -> fixes applied to it
        if start:
            # Read the files as they are on disk (the originals), then fix on from the given texts.
            _, _, on_disk = self.run(paths, cache={})
            for result in on_disk:
                if result.document is not None and result.source.display in start:
                    originals[result.source.display] = result.document
                    sources[result.source.display] = result.source
                    overrides[result.source.display] = start[result.source.display]
        report, project, kept = self.run(paths, progress=progress, cache=cache, overrides={**given, **overrides} or None)
        self.initial_report = report  # for --show-fixes
        for _ in range(MAX_FIX_ITERATIONS):
            documents = {r.source.display: (r.source, r.document) for r in kept if r.document is not None}
            documents.update({p: (sources[p], d) for p, d in overrides.items()})
            chosen = self._choose_fixes(report.findings, frozen, documents)
            if not chosen:
                break
            progressed = False
            new_texts = {path: apply_edits(documents[path][1].text, edits) for path, (_, edits, _) in chosen.items()}
            problems = validate_all(self, [(documents[p][0].kind, documents[p][1], new_texts[p], chosen[p][1])
                                           for p in chosen])
            for (path, (fix_count, edits, groups)), problem in zip(chosen.items(), problems):
                source, document = documents[path]
                new_text = new_texts[path]
                if problem:
                    # The edits together fail: keep the fixes that pass one by one (so a
                    # second `fix` has nothing left to apply), refuse the others.
                    fix_count, new_text, refused = _valid_subset(source.kind, document, groups)
                    for reason in refused:
                        error = FileError(path, f"fix not applied: {reason}", fatal=False)
                        if error not in fix_errors:
                            fix_errors.append(error)
                    if new_text is None:
                        frozen.add(path)
                        continue
                    # (a refused fix proposed again next round, alone, freezes the file then)
                originals.setdefault(path, document)
                sources[path] = source
                overrides[path] = document.with_text(new_text)
                cache.pop(path, None)
                fixed += fix_count
                fixed_in[path] = fixed_in.get(path, 0) + fix_count
                progressed = True
            if not progressed:
                break
            report, project, kept = self.run(paths, cache=cache, overrides={**given, **overrides})
        changed = {p: d for p, d in overrides.items() if d.text != originals[p].text}
        if write:
            roots = roots_for(paths, self.base_dir)  # the project roots: what includes may reach, too
            to_write = []
            for path, document in changed.items():
                root = root_holding(os.path.realpath(document.path), roots)
                if root is None:
                    fix_errors.append(FileError(path, "fix not applied: the file is outside the project root"))
                    continue
                to_write.append((path, document, root, originals[path].raw))
            write_errors = _write_all(to_write)
            fix_errors.extend(write_errors)
            written = {item[0] for item in to_write} - {error.path for error in write_errors}
            unwritten = [p for p in changed if p not in written]
            for path in unwritten:  # not written: not fixed
                fixed -= fixed_in.get(path, 0)
                changed.pop(path)
                overrides.pop(path, None)
                cache.pop(path, None)
            if unwritten:
                # The report must describe the files as they are on disk: those left
                # unwritten keep the findings of their original text.
                report, _, _ = self.run(paths, cache=cache, overrides={**given, **overrides})
        report.errors.extend(fix_errors)
        report.fixed = fixed
        report.changed_paths = sorted(changed)
        report.sort()
        return FixOutcome(report, {p: originals[p] for p in changed}, changed)

    def _applicable(self, fix: Fix) -> bool:
        return fix.applicability == "safe" or self.unsafe_fixes

    def _choose_fixes(self, findings: list[Finding], frozen: set[str],
                      documents: dict) -> dict[str, tuple[int, list[Edit], list[tuple[bool, list[Edit]]]]]:
        """Non-overlapping fixes to apply in this round, grouped by file.

        A fix whose edits overlap an already chosen edit waits for the next
        round (after re-analysis), so fixes converge instead of fighting.
        """
        taken: dict[str, list[Edit]] = {}
        counts: dict[str, int] = {}
        groups: dict[str, list[tuple[bool, list[Edit]]]] = {}  # path -> (counted here, this fix's edits)
        # Each file's taken edits in offset order, and their starts: an overlap check looks
        # at the neighbours only (a pass over every taken edit made fixing n lines take n² time).
        starts: dict[str, list[int]] = {}
        for finding in findings:
            fix = finding.fix
            if fix is None or not self._applicable(fix):
                continue
            if any(e.path in frozen or e.path not in documents for e in fix.edits):
                continue
            if any(_overlaps_taken(e, taken.get(e.path), starts.get(e.path)) for e in fix.edits):
                continue
            if all(documents[e.path][1].text[e.span.start:e.span.end] == e.content for e in fix.edits):
                continue  # already in the wanted state
            for edit in fix.edits:
                _take(edit, taken.setdefault(edit.path, []), starts.setdefault(edit.path, []))
            first = fix.edits[0].path
            counts[first] = counts.get(first, 0) + 1
            for path in dict.fromkeys(e.path for e in fix.edits):
                groups.setdefault(path, []).append((path == first, [e for e in fix.edits if e.path == path]))
        return {path: (counts.get(path, 0), edits, groups[path]) for path, edits in taken.items()}


def _peers(sets: list) -> list[tuple]:
    """For each set, the other sets (not copies) that share one of its homes, in the sets' order."""
    by_home: dict[str, list[int]] = {}
    for index, install_set in enumerate(sets):
        if not install_set.copy:
            for home in set(install_set.homes):
                by_home.setdefault(home, []).append(index)
    peers = []
    for index, install_set in enumerate(sets):
        sharing = {other for home in set(install_set.homes) for other in by_home.get(home, ()) if other != index}
        peers.append(tuple(sets[other] for other in sorted(sharing)))
    return peers


def _by_edits(by_fix: dict, order: dict[str, int]) -> dict:
    """One place's findings keyed by the edits of their fixes (None: no fix), as the sets made them.

    A deferred fix is keyed by its build (:class:`asgifix.model.Deferred`) so that a check builds no
    edits; equal builds make equal edits, so a place with one key needs nothing more. When a place
    has several, they are keyed by their built edits, the sets' names kept in the sets' order, exactly
    as if every fix had been built when it was made.
    """
    if len(by_fix) < 2 or not any(finding.fix is not None and finding.fix.pending for finding, _ in by_fix.values()):
        return by_fix
    regrouped: dict = {}
    for finding, names in by_fix.values():
        key = None
        if finding.fix is not None:
            deferred = finding.fix.pending
            key = finding.fix.edits and finding.fix.identity()  # built here
            if deferred and not key:  # a build that made no edits: the finding has no fix
                key, finding = None, dataclasses.replace(finding, fix=None)
        if key not in regrouped:
            regrouped[key] = (finding, list(names))
        else:
            regrouped[key][1].extend(names)
            regrouped[key][1].sort(key=order.__getitem__)
    return regrouped


def _with_unsaved(found: Iterable[SourceFile], paths: list[str],
                  overrides: dict[str, TextDocument]) -> Iterator[SourceFile]:
    """Discovery, plus a named file that is not on disk but whose text was given (an editor's new buffer)."""
    from .discovery import classify

    for path in paths:
        document = overrides.get(path)
        if document is not None and not os.path.exists(path):
            kind = classify(Path(path), explicit=True)
            if kind is not None:
                yield SourceFile(path, document.display, kind, True)
    yield from found


def _take(edit: Edit, taken: list[Edit], starts: list[int]) -> None:
    from bisect import bisect_right

    index = bisect_right(starts, edit.span.start)
    starts.insert(index, edit.span.start)
    taken.insert(index, edit)


def _overlaps_taken(edit: Edit, taken: Optional[list[Edit]], starts: Optional[list[int]]) -> bool:
    """Whether ``edit`` overlaps one of ``taken`` (non-overlapping, in offset order)."""
    if not taken:
        return False
    from bisect import bisect_right

    # An overlapping edit starts at or before this one's end; taken edits do not overlap,
    # so their ends grow with their starts: walk back while they can still reach this one.
    index = bisect_right(starts, edit.span.end) - 1
    while index >= 0 and taken[index].span.end >= edit.span.start:
        if _overlaps(edit, taken[index]):
            return True
        index -= 1
    return False


def _wants_document(result: FileResult) -> bool:
    """A collector found a rewrite candidate here (its facts say ``keep_document``, or ``editable``
    for the wiring facts): a project rule's fix may edit this Python file, so its document is kept
    (the codemod layer, AFX2xx; the wiring rules, AFX4xx)."""
    return any(isinstance(fact, FileFacts) and (getattr(fact.value, "keep_document", False)
                                                or getattr(fact.value, "editable", False))
               for _, fact in result.facts)


def _overlaps(a: Edit, b: Edit) -> bool:
    if a.span.start == a.span.end or b.span.start == b.span.end:
        return a.span.start == b.span.start or (b.span.start < a.span.start < b.span.end) or (
            a.span.start < b.span.start < a.span.end
        )
    return a.span.start < b.span.end and b.span.start < a.span.end


def apply_edits(text: str, edits: list[Edit]) -> str:
    pieces = []
    position = 0
    for edit in sorted(edits, key=lambda e: (e.span.start, e.span.end)):
        pieces.append(text[position:edit.span.start])
        pieces.append(edit.content)
        position = edit.span.end
    pieces.append(text[position:])
    return "".join(pieces)


def _write_all(documents: list[tuple[str, TextDocument, str, bytes]]) -> list[FileError]:
    """Write fixed files (each atomically, with an fsync, inside its root, only if unchanged since
    it was read: :func:`~asgifix.textio.write_within`); many at once on threads, as they mostly wait on the disk.

    Each item: display path, fixed document, its project root, the bytes it was fixed from.
    """

    def write(item: tuple[str, TextDocument, str, bytes]) -> Optional[FileError]:
        path, document, root, expected = item
        try:
            write_within(root, document.path, document.raw, expected)
        except WriteRefused as exc:
            return FileError(path, f"fix not applied: {exc}", fatal=exc.fatal)
        except OSError as exc:
            return FileError(path, f"cannot write file: {exc.strerror or exc}")
        return None

    if len(documents) < 16:
        outcomes = [write(item) for item in documents]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=8) as threads:
            outcomes = list(threads.map(write, documents))
    return [error for error in outcomes if error is not None]


def _valid_subset(kind: str, document: TextDocument,
                  groups: list[tuple[bool, list[Edit]]]) -> tuple[int, Optional[str], list[str]]:
    """The fixes of one file that validate when added one at a time, in order.

    Returns the number of counted fixes kept, the text with them (None: none kept) and
    the reasons of the refused ones.
    """
    kept: list[Edit] = []
    count = 0
    refused: list[str] = []
    for counted, edits in groups:
        trial = kept + edits
        problem = validate(kind, document, apply_edits(document.text, trial), trial)
        if problem:
            refused.append(problem)
            continue
        kept = trial
        count += counted
    if not kept:
        return 0, None, refused
    return count, apply_edits(document.text, kept), refused


def edited_lines(document: TextDocument, edits: list[Edit]) -> list[tuple[int, int, int]]:
    """Each edit's first and last line in ``document`` and the lines it adds (for the Python guard)."""
    lines = []
    for edit in edits:
        removed = document.text.count("\n", edit.span.start, edit.span.end) + document.text.count(
            "\r", edit.span.start, edit.span.end) - document.text.count("\r\n", edit.span.start, edit.span.end)
        content = edit.content
        added = content.count("\n") + content.count("\r") - content.count("\r\n")
        lines.append((edit.span.line, edit.span.end_line, added - removed))
    return lines


def validate(kind: str, document: TextDocument, new_text: str, edits: Optional[list[Edit]] = None) -> Optional[str]:
    """Why ``new_text`` must not replace ``document`` (it would not parse, or for Python not compile,
    or change code outside ``edits``), or None."""
    reader = sources.reader(kind)
    if reader is None:
        return f"asgifix cannot re-read {kind} files"
    if kind in PYTHON_KINDS:
        from .sources.python import guard

        problem = guard(document, new_text, edited_lines(document, edits) if edits else None)
        if problem:
            return problem
    if not document.round_trips():
        # Encoding the fixed text would re-encode bytes outside the edit too (UTF-7 has
        # several spellings of one text): the file is left as it is.
        return f"its encoding ({document.encoding}) cannot be written back without changing other bytes"
    return reader.validate(document, new_text)
