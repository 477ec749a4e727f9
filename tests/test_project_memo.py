"""The project phase's remembered answers equal the definitions they replace."""

from __future__ import annotations

import random
from types import SimpleNamespace

from asgifix.engine import _peers
from asgifix.environment import problem_declarations
from asgifix.project import Declaration, ProjectModel


def _declaration(rng: random.Random, path: str, index: int) -> Declaration:
    name = rng.choice(["django", "channels", "asgiref", "daphne", "redis"])
    return Declaration(name, rng.choice(["", "==4.0", ">=3.0"]), None, path, index, "requirements",
                       constraint=rng.random() < 0.1, locked=rng.random() < 0.1)


def test_declared_in_is_the_filter_in_project_order():
    rng = random.Random(7)
    paths = [f"s{i}/requirements.txt" for i in range(12)]
    project = ProjectModel(declarations=[_declaration(rng, rng.choice(paths), i) for i in range(300)])
    for _ in range(50):
        files = frozenset(rng.sample(paths, rng.randint(0, 5)))
        assert project.declared_in(files) == [d for d in project.declarations if d.path in files]


def test_derived_answers_follow_the_declarations():
    rng = random.Random(3)
    project = ProjectModel(declarations=[_declaration(rng, "requirements.txt", i) for i in range(5)])
    first = problem_declarations(project)
    assert problem_declarations(project) is first  # remembered
    project.declarations.append(Declaration("django", "==4.2", None, "requirements.txt", 9, "requirements"))
    again = problem_declarations(project)
    assert again is not first and again[-1].specifier == "==4.2"  # asked anew once the list grew
    project.declarations = [Declaration("channels", "==4.0", None, "b.txt", 1, "requirements")]
    assert [d.name for d in problem_declarations(project)] == ["channels"]  # a new list: asked anew


def test_peers_are_the_other_sets_sharing_a_home():
    rng = random.Random(11)
    homes = ["", "a", "b", "c", "a/x"]
    for _ in range(30):
        sets = [SimpleNamespace(homes=rng.sample(homes, rng.randint(1, 3)), copy=rng.random() < 0.2)
                for _ in range(rng.randint(1, 12))]
        expected = [tuple(p for p in sets if p is not s and not p.copy and set(p.homes) & set(s.homes))
                    for s in sets]
        assert _peers(sets) == expected
