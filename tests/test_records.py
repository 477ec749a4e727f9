"""asgifix.records.dataclass behaves as the standard library's dataclass, for the options asgifix uses."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import ClassVar, Optional

import pytest

from asgifix import records


def _shapes(decorate):
    """The same class shapes, decorated by ``decorate(frozen)``."""

    @decorate(False)
    class Plain:
        a: int
        b: str = "x"
        c: list = dataclasses.field(default_factory=list)
        d: Optional[int] = dataclasses.field(default=None, compare=False)
        kind: ClassVar[str] = "plain"

    @decorate(True)
    class Frozen:
        """A frozen value."""

        a: int
        b: tuple = ()
        c: tuple = dataclasses.field(default_factory=tuple, repr=False)
        d: int = dataclasses.field(default=0, hash=False)

    @decorate(True)
    class Empty:
        pass

    @decorate(True)
    class Own:
        a: int

        def __repr__(self):
            return "own"

        def __eq__(self, other):
            return True

        __hash__ = object.__hash__

    return Plain, Frozen, Empty, Own


@records.dataclass(frozen=True)
class Point:  # at module level, for pickle
    x: int
    tags: tuple = ()


STDLIB = _shapes(lambda frozen: dataclasses.dataclass(frozen=frozen))
OURS = _shapes(lambda frozen: records.dataclass(frozen=frozen))


def _build(shapes):
    Plain, Frozen, Empty, Own = shapes
    return [Plain(1), Plain(1, "y", [2], 5), Plain(a=1, c=[1]), Frozen(1), Frozen(2, (1,), ("k",), 4),
            Frozen(a=3, d=9), Empty(), Own(1)]


def test_reprs_equality_and_hashes_are_the_standard_librarys():
    theirs, ours = _build(STDLIB), _build(OURS)
    assert [repr(v) for v in ours] == [repr(v) for v in theirs]
    for i, left in enumerate(ours):
        for j, right in enumerate(ours):
            assert (left == right) == (theirs[i] == theirs[j]), (left, right)
            assert (left != right) == (theirs[i] != theirs[j]), (left, right)
    for mine, std in zip(ours, theirs):
        hashable = type(std).__hash__ is not None
        assert (type(mine).__hash__ is not None) == hashable, type(mine)
        if hashable and type(std).__name__ != "Own":
            assert hash(mine) == hash(std)  # the same tuple of the same fields
    # compare=False and hash=False fields take no part
    Plain, Frozen = OURS[0], OURS[1]
    assert Plain(1, d=1) == Plain(1, d=2)
    assert hash(Frozen(1, d=1)) == hash(Frozen(1, d=2)) and Frozen(1, d=1) != Frozen(1, d=2)
    assert Plain(1) != Frozen(1) and Plain(1).__eq__(object()) is NotImplemented


def test_init_signature_defaults_and_factories():
    Plain, Frozen, Empty, _ = OURS
    first, second = Plain(1), Plain(1)
    assert first.c == [] and first.c is not second.c  # a new list each time
    assert Plain(1, c=[5]).c == [5] and Plain(a=2, b="z").b == "z"
    with pytest.raises(TypeError):
        Plain()  # a is required
    with pytest.raises(TypeError):
        Plain(1, "b", [], None, "extra")
    with pytest.raises(TypeError):
        Empty(1)
    assert Plain.kind == "plain" and "kind" not in [f.name for f in dataclasses.fields(Plain)]
    assert Plain.__match_args__ == STDLIB[0].__match_args__ == ("a", "b", "c", "d")
    assert Frozen.__doc__ == "A frozen value." and Plain.__doc__.startswith("Plain(a: int")


def test_frozen_instances_refuse_assignment_and_deletion():
    _, Frozen, _, _ = OURS
    value = Frozen(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.a = 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        del value.a
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.other = 1  # as the standard library: no new attributes either
    plain = OURS[0](1)
    plain.a = 5
    assert plain.a == 5


def test_replace_fields_pickle_and_copy_work():
    Plain, Frozen, _, _ = OURS
    value = Frozen(1, (2,), ("k",), 3)
    assert dataclasses.is_dataclass(value)
    assert [f.name for f in dataclasses.fields(value)] == ["a", "b", "c", "d"]
    changed = dataclasses.replace(value, a=7)
    assert changed == Frozen(7, (2,), ("k",), 3) and value.a == 1
    point = Point(1, ("a",))
    assert pickle.loads(pickle.dumps(point)) == point and copy.copy(point) == point
    assert copy.deepcopy(Plain(1, c=[1])) == Plain(1, c=[1])
    assert dataclasses.asdict(Plain(1)) == {"a": 1, "b": "x", "c": [], "d": None}


def test_recursive_repr_does_not_loop():
    Plain = OURS[0]
    value = Plain(1)
    value.c.append(value)
    assert repr(value).endswith("Plain(a=1, b='x', c=[...], d=None)")
    std = STDLIB[0](1)
    std.c.append(std)
    assert repr(value) == repr(std)


def test_frozen_class_may_not_define_setattr():
    with pytest.raises(TypeError):
        @records.dataclass(frozen=True)
        class Bad:
            a: int

            def __setattr__(self, name, value):
                pass


def test_asgifix_uses_it_everywhere():
    """Every value type of asgifix is created by records.dataclass (the start-up cost it saves)."""
    import pathlib
    import re

    root = pathlib.Path(records.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "records.py" and re.search(r"^from dataclasses import[^\n]*\bdataclass\b|"
                                                         r"@dataclasses\.dataclass", p.read_text(), re.M)]
    assert offenders == []
