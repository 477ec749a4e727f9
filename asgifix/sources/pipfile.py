"""Pipfile: ``[packages]``, ``[dev-packages]`` and pipenv's custom package categories.

Values are ``"*"``, a PEP 440 specifier (``"==3.5.2"``, ``">=3.2,<4"``), or a table
(``{version = "...", extras = [...], markers = "..."}``; ``git``/``path``/``file``
entries are kept and not version-checked). Any top-level table other than
``source``, ``requires``, ``pipenv`` and ``scripts`` is a category of packages
(pipenv 2022.10+).
"""

from __future__ import annotations

from ..records import dataclass, field
from typing import Optional

from ..textio import TextDocument
from . import toml_source, no_new_invalid_entries
from .constraints import pipfile_to_pep440
from .declared import DeclaredRequirement
from .toml_spans import TomlSpans

NOT_CATEGORIES = {"source", "requires", "pipenv", "scripts"}


@dataclass
class Pipfile:
    document: TextDocument
    data: dict
    spans: TomlSpans
    entries: list[DeclaredRequirement] = field(default_factory=list)


def parse(document: TextDocument) -> Pipfile:
    data, spans = toml_source.load(document)
    model = Pipfile(document, data, spans)
    for category, value in data.items():
        if category in NOT_CATEGORIES or not isinstance(value, dict):
            continue
        model.entries += toml_source.keyed_entries(document, spans.children(category), category, "pipfile",
                                                   pipfile_to_pep440)
    model.entries.sort(key=lambda e: e.start)
    return model


def declarations(model: Pipfile) -> list:
    return [e.declaration(model.document, "pipfile") for e in model.entries if e.name]


def validate(document: TextDocument, new_text: str) -> Optional[str]:
    problem = toml_source.parses(new_text)
    if problem:
        return problem
    return no_new_invalid_entries(parse, document, new_text, "version")


def add_requirement(model: Pipfile, name: str, specifier: str) -> Optional[tuple[str, list[tuple[int, int, str]]]]:
    from .toml_spans import encode_string

    edit = toml_source.append_to_table(model.document, model.spans, ("packages",),
                                       f"{name} = {encode_string(specifier or '*', chr(34))}")
    return ("[packages]", [edit]) if edit else None
