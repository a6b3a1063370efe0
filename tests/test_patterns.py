"""The enumerator: counts, canonical names, availability of features."""

from __future__ import annotations

import pytest

from curse_cli.archs.activations import builtin, custom
from curse_cli.engine.patterns import (
    PatternError, count_patterns, enumerate_patterns, layer_options, parse_pattern, pattern_name,
)

ERF = builtin("erf")


def test_counts_by_hand():
    """Layer 1: GP, GFL(z), Sp(z) = 3.  Two layers: after GP or GFL(z) (2 ways) layer 2 has
    GP, GFL(z), Sp(z) (3); after Sp(z) it also has GFL(sigma1), Sp(sigma1) (5): 2*3 + 5 = 11
    (docs/theory.md's table lists 3 of them).  Four layers, by the same recursion over the number
    of available spikes: 299."""
    assert count_patterns(ERF, 1) == 3
    assert count_patterns(ERF, 2) == 11
    assert count_patterns(ERF, 4) == 299


@pytest.mark.parametrize("act", ["erf", "relu", "quadratic", "cubic", "linear"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_count_matches_enumeration(act, depth):
    a = builtin(act)
    patterns = list(enumerate_patterns(a, depth))
    assert len(patterns) == count_patterns(a, depth)
    assert len(set(patterns)) == len(patterns)


def test_canonical_names_round_trip():
    for p in enumerate_patterns(ERF, 3):
        assert parse_pattern(ERF, 3, pattern_name(p)) == p


def test_quadratic_forgets_z_after_one_layer():
    """v^2 has J = {2}: no linear term, so z is not a component of K_1."""
    quad = builtin("quadratic")
    options = [str(s) for s in layer_options(quad, parse_pattern(quad, 1, "Sp(z)"))]
    assert options == ["GP", "GFL(sigma1)", "Sp(sigma1)"]
    assert [str(s) for s in layer_options(quad, parse_pattern(quad, 1, "GP"))] == ["GP"]


def test_spikes_survive_when_J_has_order_one():
    opts = [str(s) for s in layer_options(ERF, parse_pattern(ERF, 2, "Sp(z)-GP"))]
    assert "Sp(sigma1)" in opts and "Sp(z)" in opts


@pytest.mark.parametrize("name, fragment", [
    ("GP", "has 1 layer(s) but the network has 2"),
    ("GP-Sp(sigma1)", "not a component of its input kernel"),
    ("GP-Foo", "cannot read layer 2"),
    ("GP(z)-GP", "cannot read layer 1"),
])
def test_bad_pattern_names(name, fragment):
    with pytest.raises(PatternError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_pattern(ERF, 2, name)


def test_custom_activation_without_linear_term():
    act = custom([2, 4], [2, 4], "polynomial")
    assert count_patterns(act, 3) == len(list(enumerate_patterns(act, 3)))
