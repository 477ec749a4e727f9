"""pyproject.toml: every table that declares dependencies, with the exact span of each string.

Read:

* PEP 621 ``[project] dependencies`` and ``[project.optional-dependencies]``;
* PEP 735 ``[dependency-groups]`` (``{include-group = "..."}`` entries are
  followed for names, not re-declared);
* Poetry ``[tool.poetry.dependencies]``, ``[tool.poetry.dev-dependencies]`` and
  ``[tool.poetry.group.<name>.dependencies]`` (string, table and
  multiple-constraint forms; constraints translated to PEP 440 for checking);
* uv ``[tool.uv] constraint-dependencies`` / ``override-dependencies``
  (constraints: they limit versions and install nothing) and ``dev-dependencies``;
* PDM ``[tool.pdm.dev-dependencies]``.

``[build-system] requires`` is not read: those are build tools, not the project's
dependencies.
"""

from __future__ import annotations

from ..records import dataclass, field
from typing import Optional

from ..textio import TextDocument
from . import toml_source, no_new_invalid_entries
from .constraints import poetry_to_pep440
from .declared import DeclaredRequirement
from .toml_spans import TomlSpans


@dataclass
class PyprojectFile:
    document: TextDocument
    data: dict
    spans: TomlSpans
    entries: list[DeclaredRequirement] = field(default_factory=list)
    # PEP 735 include-group entries: (group, included group, span start, span end)
    group_includes: list[tuple[str, str, int, int]] = field(default_factory=list)

    @property
    def project_name(self) -> Optional[str]:
        project = self.data.get("project")
        if isinstance(project, dict) and isinstance(project.get("name"), str):
            return project["name"]
        poetry = self.data.get("tool", {}).get("poetry", {}) if isinstance(self.data.get("tool"), dict) else {}
        name = poetry.get("name") if isinstance(poetry, dict) else None
        return name if isinstance(name, str) else None

    @property
    def dynamic_dependencies(self) -> bool:
        project = self.data.get("project")
        dynamic = project.get("dynamic", []) if isinstance(project, dict) else []
        return isinstance(dynamic, list) and "dependencies" in dynamic


def parse(document: TextDocument) -> PyprojectFile:
    data, spans = toml_source.load(document)
    model = PyprojectFile(document, data, spans)
    entries = model.entries
    value = lambda *path: spans.get(*path).value if spans.get(*path) else None  # noqa: E731

    entries += toml_source.pep508_strings(document, value("project", "dependencies"), "project.dependencies")
    for pair in spans.children("project", "optional-dependencies"):
        entries += toml_source.pep508_strings(document, pair.value, f"project.optional-dependencies.{pair.key}")
    for pair in spans.children("dependency-groups"):
        group = f"dependency-groups.{pair.key}"
        entries += toml_source.pep508_strings(document, pair.value, group)
        if pair.value.kind == "array":
            for item in pair.value.items:
                if item.kind == "table":
                    for inner in item.entries:
                        if inner.path[-1] == "include-group" and inner.value.is_string:
                            model.group_includes.append(
                                (str(pair.key), inner.value.value, inner.value.start, inner.value.end))

    poetry_tables = [(("tool", "poetry", "dependencies"), "tool.poetry.dependencies"),
                     (("tool", "poetry", "dev-dependencies"), "tool.poetry.dev-dependencies")]
    # Groups are usually sections ([tool.poetry.group.dev.dependencies]), so look at
    # table headers as well as pairs to find their names.
    group_names = sorted({path[3] for path in [*spans.tables, *spans.pairs]
                          if len(path) >= 5 and path[:3] == ("tool", "poetry", "group")
                          and path[4] == "dependencies" and isinstance(path[3], str)})
    for name in group_names:
        poetry_tables.append((("tool", "poetry", "group", name, "dependencies"),
                              f"tool.poetry.group.{name}.dependencies"))
    for path, group in poetry_tables:
        entries += toml_source.keyed_entries(document, spans.children(*path), group, "poetry",
                                             poetry_to_pep440, skip=("python",))

    for key, constraint in (("constraint-dependencies", True), ("override-dependencies", True),
                            ("dev-dependencies", False)):
        entries += toml_source.pep508_strings(document, value("tool", "uv", key), f"tool.uv.{key}",
                                              constraint=constraint)
    for pair in spans.children("tool", "pdm", "dev-dependencies"):
        entries += toml_source.pep508_strings(document, pair.value, f"tool.pdm.dev-dependencies.{pair.key}")
    entries.sort(key=lambda e: e.start)
    return model


def declarations(model: PyprojectFile) -> list:
    return [e.declaration(model.document, "pyproject") for e in model.entries if e.name]


def facts(model: PyprojectFile) -> list:
    found: list = []
    if model.project_name:
        found.append(("project-name", model.project_name))
    groups = {key for key in model.data.get("dependency-groups", {})} if isinstance(
        model.data.get("dependency-groups"), dict) else set()
    for group, included, start, end in model.group_includes:
        if included not in groups and _normalise(included) not in {_normalise(g) for g in groups}:
            from ..includes import IncludeProblem

            found.append(("include-problem", IncludeProblem(
                path=model.document.display, span=model.document.span(start, end), kind="missing-group",
                target=included, detail=f"[dependency-groups] {group} includes group {included!r}, which is not defined")))
    return found


def _normalise(name: str) -> str:
    from .declared import canonical_name

    return canonical_name(name)


def validate(document: TextDocument, new_text: str) -> Optional[str]:
    problem = toml_source.parses(new_text)
    if problem:
        return problem
    return no_new_invalid_entries(parse, document, new_text, "requirement")


def add_requirement(model: PyprojectFile, name: str, specifier: str) -> Optional[tuple[str, list[tuple[int, int, str]]]]:
    """Edits declaring ``name`` (at ``specifier``) where this file declares its main dependencies.

    ``[project] dependencies`` when present (and not dynamic), else Poetry's
    ``[tool.poetry.dependencies]`` table. Returns (where, edits) or None.
    """
    from .constraints import poetry_like

    spans = model.spans
    dependencies = spans.get("project", "dependencies")
    if dependencies is not None and dependencies.value.kind == "array" and not model.dynamic_dependencies:
        edits = toml_source.append_to_array(model.document, dependencies.value, name + specifier)
        if edits:
            return "[project] dependencies", edits
    if spans.tables.get(("tool", "poetry", "dependencies")) is not None:
        # Poetry projects write carets: "^4.2.2" (>=4.2.2,<5).
        version = specifier.lstrip("=<>~!") if specifier else ""
        constraint = poetry_like("^", version) if version else "*"
        from .toml_spans import encode_string

        edit = toml_source.append_to_table(model.document, spans, ("tool", "poetry", "dependencies"),
                                           f"{name} = {encode_string(constraint, chr(34))}")
        if edit:
            return "[tool.poetry.dependencies]", [edit]
    return None
