"""can_agree's fast path for plain release pins agrees with packaging."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from asgifix import compat

_version = st.lists(st.integers(0, 4), min_size=1, max_size=4).map(lambda parts: ".".join(map(str, parts)))
_operator = st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "===", "= "])
_clause = st.builds(lambda op, space, version, star: f"{op}{space}{version}{star}", _operator,
                    st.sampled_from(["", " "]), _version, st.sampled_from(["", "", "", ".*"]))
_specifier = st.one_of(st.just(""), st.lists(_clause, min_size=1, max_size=3).map(",".join),
                       st.lists(_clause, min_size=1, max_size=2).map(lambda c: ", ".join(c) + ","))


def _reference(*specifiers):
    sets = []
    for text in specifiers:
        try:
            sets.append(SpecifierSet(text or ""))
        except InvalidSpecifier:
            return True
    return any(all(s.contains(probe, prereleases=True) for s in sets) for probe in compat._probes(*specifiers))


@settings(max_examples=1500, deadline=None)
@given(st.lists(_specifier, min_size=1, max_size=3))
def test_fast_path_agrees_with_packaging(specifiers):
    fast = compat._simple_can_agree(tuple(specifiers))
    if fast is not None:
        assert fast == _reference(*specifiers)
    assert compat.can_agree(*specifiers) == _reference(*specifiers)


def test_fast_path_takes_the_common_pins():
    assert compat._simple_can_agree(("==4.2.16", ">=3.2")) is True
    assert compat._simple_can_agree(("==2.4.0", ">=3")) is False
    assert compat._simple_can_agree((">=3.2,<4", "<3.5")) is True
    assert compat._simple_can_agree(("==1.0", "==1.0.0")) is True
    assert compat._simple_can_agree(("~=3.2",)) is None
    assert compat._simple_can_agree(("==3.*",)) is None
