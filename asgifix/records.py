"""``dataclass`` for asgifix's value types, cheaper to create than the standard library's.

The standard library's decorator writes the source of ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` and (frozen) ``__setattr__``/``__delattr__`` and compiles each with ``exec``: about
1.3 ms a class on the benchmark machine, and a check run creates some 70 classes before it
reads a file, a fifth of a one-file run (bench/RESULTS.md). This one lets the standard library
read the fields (so ``dataclasses.fields``, ``replace``, ``is_dataclass`` and ``field(...)`` work
as ever) and adds the methods itself: ``__init__`` is compiled from source as the standard
library's is, but only when the class is first instantiated; the others are closures over
``operator.attrgetter`` (C code), compiled once for all classes. The behaviour is the standard
library's: the same ``__init__`` signature and defaults (``default_factory`` called per
instance), ``repr`` text, equality only between instances of the same class over the compared
fields, a hash of those fields for frozen classes (none for the others: unhashable, as with the
standard library's ``eq=True``), ``FrozenInstanceError`` on assignment. Methods the class body
defines itself are kept. tests/test_records.py holds each behaviour to the standard library's.

Only the options asgifix uses exist: ``frozen``. No ``__post_init__``, ``InitVar``, ``kw_only``,
``order`` or ``slots``.
"""

from __future__ import annotations

import dataclasses
from _thread import get_ident
from dataclasses import MISSING, FrozenInstanceError, field, fields, replace
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable

__all__ = ["dataclass", "field", "fields", "replace", "FrozenInstanceError"]

if TYPE_CHECKING:  # pragma: no cover - type checkers read it as the standard library's
    from dataclasses import dataclass
else:

    def dataclass(cls=None, /, *, frozen=False):
        if cls is None:
            return lambda c: _process(c, frozen)
        return _process(cls, frozen)


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple]:
    if not names:
        return lambda self: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return attrgetter(*names)


def _process(cls: type, frozen: bool) -> type:
    own = cls.__dict__
    # A class without a docstring gets the standard library's kind of one, from the fields
    # (the standard library asks inspect.signature for it: a third of its cost).
    needs_doc = own.get("__doc__") is None
    if needs_doc:
        cls.__doc__ = cls.__name__
    dataclasses.dataclass(cls, init=False, repr=False, eq=False)
    all_fields = fields(cls)
    names = tuple(f.name for f in all_fields)
    if needs_doc:
        cls.__doc__ = f"{cls.__name__}({', '.join(_signature_part(f) for f in all_fields)})"
    if "__init__" not in own:
        cls.__init__ = _lazy_init(cls, frozen)
    if "__repr__" not in own:
        cls.__repr__ = _repr(tuple(f.name for f in all_fields if f.repr))
    compared = tuple(f.name for f in all_fields if f.compare)
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    if "__eq__" not in own:
        cls.__eq__ = _eq(_getter(compared))
    if not explicit_hash:
        if frozen:
            hashed = tuple(f.name for f in all_fields if (f.compare if f.hash is None else f.hash))
            cls.__hash__ = _hash(_getter(hashed))
        else:
            cls.__hash__ = None  # type: ignore[assignment]  # eq without frozen: unhashable
    if frozen:
        if "__setattr__" in own or "__delattr__" in own:
            raise TypeError(f"cannot overwrite __setattr__/__delattr__ in frozen {cls.__name__}")
        cls.__setattr__, cls.__delattr__ = _frozen(cls, frozenset(names))
    return cls


def _signature_part(f: dataclasses.Field) -> str:
    annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", repr(f.type))
    if f.default is not MISSING:
        return f"{f.name}: {annotation} = {f.default!r}"
    if f.default_factory is not MISSING:
        return f"{f.name}: {annotation} = <factory>"
    return f"{f.name}: {annotation}"


def _lazy_init(cls: type, frozen: bool) -> Callable[..., None]:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        real = _build_init(cls, frozen)
        cls.__init__ = real  # type: ignore[misc]
        real(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _build_init(cls: type, frozen: bool) -> Callable[..., None]:
    """The standard library's ``__init__``: positional-or-keyword parameters in field order."""
    namespace: dict[str, Any] = {"__factory__": _FACTORY, "__setter__": object.__setattr__}
    params: list[str] = []
    body: list[str] = []
    for f in fields(cls):
        if not f.init:
            if f.default_factory is not MISSING:
                namespace[f"__factory_{f.name}__"] = f.default_factory
                value = f"__factory_{f.name}__()"
            elif f.default is not MISSING:
                namespace[f"__default_{f.name}__"] = f.default
                value = f"__default_{f.name}__"
            else:
                continue
        else:
            value = f.name
            if f.default_factory is not MISSING:
                namespace[f"__factory_{f.name}__"] = f.default_factory
                params.append(f"{f.name}=__factory__")
                body.append(f"    if {f.name} is __factory__: {f.name} = __factory_{f.name}__()")
            elif f.default is not MISSING:
                namespace[f"__default_{f.name}__"] = f.default
                params.append(f"{f.name}=__default_{f.name}__")
            else:
                params.append(f.name)
        if frozen:
            body.append(f"    __setter__(__self__, {f.name!r}, {value})")
        else:
            body.append(f"    __self__.{f.name} = {value}")
    source = f"def __init__(__self__, {', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, namespace)  # noqa: S102 - our own field names, as the standard library does
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


class _Factory:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        key = (id(self), get_ident())
        if key in _REPR_RUNNING:
            return "..."
        _REPR_RUNNING.add(key)
        try:
            parts = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        finally:
            _REPR_RUNNING.discard(key)
        return f"{self.__class__.__qualname__}({parts})"

    return __repr__


_REPR_RUNNING: set[tuple[int, int]] = set()


def _eq(key: Callable[[Any], tuple]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    return __eq__


def _hash(key: Callable[[Any], tuple]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(key(self))

    return __hash__


def _frozen(cls: type, names: frozenset[str]):
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __setattr__, __delattr__
