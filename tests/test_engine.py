"""The engine against docs/theory.md section 7 and hand derivations.

Every expected value below is derived by hand in the test's docstring (or read off
docs/theory.md's tables), never taken from the engine's own output.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from curse_cli.engine.api import Options, predict
from curse_cli.algebra.scales import Monomial
from curse_cli.spec.load import load_spec_text

TWO_LAYER = """
architecture: {kind: fcn, activation: %(act)s, widths: [N]}
target: {kind: hermite, degree: %(k)d}
scaling: %(scaling)s
data: {measure: gaussian, target_variance: %(var)s}
scales: {N: %(N)s, kappa: 0}
"""

THREE_LAYER = """
architecture: {kind: fcn, activation: %(act)s, widths: [N1, N2]}
target: {kind: hermite, degree: 3}
scaling: standard
scales: {N1: %(N1)s, N2: %(N2)s, kappa: 0}
"""


def two_layer(N="1", act="erf", k=3, scaling="standard", var="0"):
    return load_spec_text(TWO_LAYER % dict(N=N, act=act, k=k, scaling=scaling, var=var), "test.yaml").problem


def three_layer(N1="1", N2="1", act="erf"):
    return load_spec_text(THREE_LAYER % dict(N1=N1, N2=N2, act=act), "test.yaml").problem


def mono(**powers) -> Monomial:
    return Monomial({k: F(v) for k, v in powers.items()})


def by_name(pred):
    return {r.name: r for r in pred.patterns}


def sizes(report, layer):
    return {q.label: q.formula for q in report.layers[layer - 1].sizes}


# -- docs/theory.md section 7, two-layer table ------------------------------------------------


def test_two_layer_table_formulas_at_proportional_width():
    """docs/theory.md 7: GP: E = d^3.  GFL: N D vs d^3/D^3 -> D = (d^3/N)^(1/4), E = (N d)^(3/4).
    Sp: M d vs N/M -> M = (N/d)^(1/2), E = (N d)^(1/2).  At N = d, Sp wins: P* ∝ kappa d."""
    pred = predict(two_layer("1"))
    rows = by_name(pred)
    assert rows["GP"].energy == mono(d=3)
    assert rows["GFL(z)"].energy == mono(N="3/4", d="3/4")
    assert sizes(rows["GFL(z)"], 1) == {"D1": mono(d="3/4", N="-1/4")}
    assert rows["Sp(z)"].energy == mono(N="1/2", d="1/2")
    assert sizes(rows["Sp(z)"], 1) == {"M1": mono(N="1/2", d="-1/2"), "q1": Monomial()}
    assert rows["Sp(z)"].layers[0].corner == "M-Sp"
    assert [w.name for w in pred.winners] == ["Sp(z)"]
    assert pred.p_star == mono(kappa=1, N="1/2", d="1/2")
    assert pred.p_star_exponent == 1


@pytest.mark.parametrize(
    "N, gp, gfl, sp",
    [
        # [E]: GP 3; GFL 3([N]+1)/4 while D >= 1 ([N] <= 3); Sp ([N]+1)/2 while M >= 1 ([N] >= 1)
        ("1", F(3), F(3, 2), F(1)),
        ("2", F(3), F(9, 4), F(3, 2)),
        ("3/2", F(3), F(15, 8), F(5, 4)),
        ("5", F(3), None, F(3)),
        ("6", F(3), None, F(7, 2)),
    ],
)
def test_two_layer_exponents_at_several_widths(N, gp, gfl, sp):
    rows = by_name(predict(two_layer(N)))
    assert rows["GP"].exponent == gp
    assert rows["Sp(z)"].exponent == sp
    if gfl is not None:
        assert rows["GFL(z)"].exponent == gfl
        assert rows["GFL(z)"].counts
    else:
        # D = (3 - [N])/4 < 0 is not allowed: the amplification sticks at D ∝ 1, a lazy layer.
        assert rows["GFL(z)"].status == "trivial"


def test_two_layer_winner_changes_at_N_d5():
    """Sp's ([N]+1)/2 reaches the lazy 3 at [N] = 5: a tie there, lazy learning above."""
    assert [w.name for w in predict(two_layer("4")).winners] == ["Sp(z)"]
    tie = predict(two_layer("5"))
    assert {w.name for w in tie.winners} == {"GP", "Sp(z)"} and tie.tied
    assert [w.name for w in predict(two_layer("6")).winners] == ["GP"]


def test_partial_specialisation_below_one_neuron():
    """N = d^0 (a fixed width): M-Sp would need M = (N/d)^(1/2) < 1.  With M = 1 and q free:
    max(2[q] + 1, [N] - 6[q]) -> [q] = ([N] - 1)/8 = -1/8, [E] = ([N] + 3)/4 = 3/4."""
    rows = by_name(predict(two_layer("0")))
    sp = rows["Sp(z)"]
    assert sp.exponent == F(3, 4)
    assert sp.layers[0].corner == "partial"
    assert sizes(sp, 1) == {"M1": Monomial(), "q1": mono(N="1/8", d="-1/8")}


# -- docs/theory.md section 7, three-layer table (the paper's Table 1) -------------------------


@pytest.mark.parametrize("N1, N2", [("1", "1"), ("2", "3/2"), ("3/2", "2"), ("5/2", "5/2")])
def test_three_layer_table_rows(N1, N2):
    """docs/theory.md Table 1: GP-GP d^3; GP-Sp(z) (N2 d)^(1/2) with M2 = (N2/d)^(1/2);
    Sp(z)-Mag(sigma1) (N1 N2 d)^(1/3) with M1 = (N1 N2/d^2)^(1/3) and
    N2 q^2 = (N2^2/(N1 d))^(1/3) at the Mag corner (M2 = N2), i.e. M2 q2^2 fixed.
    The formulas hold where their sizes are legal: M2 >= 1 needs [N2] >= 1, M1 >= 1 needs
    [N1] + [N2] >= 2 and M1 <= N1 needs [N2] <= 2[N1] + 2; all four points qualify."""
    rows = by_name(predict(three_layer(N1, N2)))
    assert rows["GP-GP"].energy == mono(d=3)
    gp_sp = rows["GP-Sp(z)"]
    assert gp_sp.energy == mono(N2="1/2", d="1/2")
    assert sizes(gp_sp, 2)["M2"] == mono(N2="1/2", d="-1/2")
    sp_mag = rows["Sp(z)-Sp(sigma1)"]
    assert sp_mag.energy == mono(N1="1/3", N2="1/3", d="1/3")
    assert sizes(sp_mag, 1)["M1"] == mono(N1="1/3", N2="1/3", d="-2/3")
    assert sizes(sp_mag, 2) == {"M2 q2^2": mono(N2="2/3", N1="-1/3", d="-1/3")}
    assert "Mag" in sp_mag.layers[1].corner and sp_mag.layers[1].corner.startswith("face")
    # Layer costs as in the table: M1 d and N2 q^2 N1/M1 (M2 = N2), readout 1/q^2.
    assert sp_mag.layers[0].cost.label == "M1 d"
    assert sp_mag.layers[1].cost.label == "M2 N1 q2^2/M1"
    assert sp_mag.readout.label == "N2/(M2 q2^2)"


def test_three_layer_proportional_limit_ties():
    """'In the proportional limit all non-GP rows give P* ∝ kappa d'."""
    pred = predict(three_layer())
    assert pred.p_star_exponent == 1
    assert {"GP-Sp(z)", "Sp(z)-Sp(sigma1)"} <= {w.name for w in pred.winners}


@pytest.mark.parametrize(
    "N1, N2, winner, value",
    [
        # GP-Sp: ([N2]+1)/2; Sp(z)-GP: ([N1]+1)/2; Sp-Mag: ([N1]+[N2]+1)/3.
        ("2", "1", "GP-Sp(z)", F(1)),        # 1 < 4/3 < 3/2: GP-Sp does not grow with N1
        ("1", "2", "Sp(z)-GP", F(1)),        # symmetric
        ("3", "3/2", "GP-Sp(z)", F(5, 4)),   # 5/4 < 11/6 < 2
    ],
)
def test_three_layer_winner_moves_with_widths(N1, N2, winner, value):
    pred = predict(three_layer(N1, N2))
    assert [w.name for w in pred.winners] == [winner]
    assert pred.energy_exponent == value
    sp_mag = by_name(pred)["Sp(z)-Sp(sigma1)"]
    assert sp_mag.exponent == (F(N1) + F(N2) + 1) / 3


# -- other hand derivations ----------------------------------------------------------------


def test_mean_field_two_layer():
    """chi = N.  GP: [N] + 3.  GFL: max([N] + [D], [N] + 3 - 3[D]) -> D = d^(3/4), E = N d^(3/4).
    Sp: max([M] + 1, 2[N] - [M]) -> M = (N^2/d)^(1/2), E = (N^2 d)^(1/2)."""
    rows = by_name(predict(two_layer("1", scaling="mean-field")))
    assert rows["GP"].energy == mono(N=1, d=3)
    assert rows["GFL(z)"].energy == mono(N=1, d="3/4")
    assert rows["Sp(z)"].energy == mono(N=1, d="1/2")


def test_target_variance_shifts_lambda_z():
    """[lambda_z] = v - 1 with v = 1/2.  GP: 3(1 - v) = 3/2.  Sp: max([M] + 1 - v,
    [N] - [M]) -> [E] = ([N] + 1 - v)/2 = 3/4 at N = d."""
    rows = by_name(predict(two_layer("1", var="1/2")))
    assert rows["GP"].exponent == F(3, 2)
    assert rows["Sp(z)"].exponent == F(3, 4)


def test_relu_cannot_reach_he3_in_two_layers():
    pred = predict(two_layer("1", act="relu"))
    assert pred.winners == () and pred.p_star is None
    assert "no odd Hermite order above 1" in pred.unreachable
    assert all(r.status == "unreachable" for r in pred.patterns)


def test_relu_reaches_he3_lazily_with_two_hidden_layers():
    """K_1 ∋ z ([lambda] = -1) and z^2 = He_2 + 1 ([lambda] = -2); K_2 ∋ z * z^2 ∋ He_3
    with [lambda] = -3: GP-GP gives a_y = d^3."""
    rows = by_name(predict(three_layer(act="relu")))
    assert rows["GP-GP"].energy == mono(d=3)


def test_relu_quadratic_target_is_a_degenerate_face():
    """ReLU is homogeneous: sigma = q relu(z) has He_2 content [q].  Cost [M] + 2[q] + 1,
    readout [N] - [M] - 2[q]: only M q^2 = (N/d)^(1/2) is fixed; E = (N d)^(1/2)."""
    sp = by_name(predict(two_layer("1", act="relu", k=2)))["Sp(z)"]
    assert sp.energy == mono(N="1/2", d="1/2")
    assert sizes(sp, 1) == {"M1 q1^2": mono(N="1/2", d="-1/2")}
    assert "q-Sp" in sp.layers[0].corner  # unbounded magnitude: the face reaches q-Sp


def test_inconsistent_pattern_is_reported_not_scored():
    """Sp(z)-Sp(z): layer 2's spike erf(q2 z) does not involve sigma1 and K_2 holds no
    product of the two spikes, so no readout path uses both layers."""
    rows = by_name(predict(three_layer()))
    assert rows["Sp(z)-Sp(z)"].status == "inconsistent"
    assert rows["Sp(z)-Sp(z)"].exponent is None


def test_truncation_does_not_change_the_answers():
    """Raising the tracked Hermite order from k+1 to k+3 leaves every exponent unchanged."""
    for problem in (three_layer(), three_layer("3/2", "1/2"), two_layer("2")):
        low = {r.name: r.exponent for r in predict(problem, Options(max_order=4)).patterns}
        high = {r.name: r.exponent for r in predict(problem, Options(max_order=6)).patterns}
        assert low == high


def test_exponents_are_exact_fractions():
    pred = predict(three_layer("1/3", "2/7"))
    for r in pred.patterns:
        if r.scored:
            assert isinstance(r.exponent, F)
            assert r.energy.exponent(dict(pred.problem.scales)) == r.exponent


def test_two_processes_give_the_same_reports(monkeypatch):
    """Large pattern spaces are split across two processes; the reports must be exactly
    those of one process (each pattern depends only on its own prefix)."""
    import curse_cli.engine.api as engine

    problem = load_spec_text(THREE_LAYER.replace("[N1, N2]", "[N1, N2, N3]").replace(
        "N2: %(N2)s,", "N2: %(N2)s, N3: 1,") % dict(N1="1", N2="3/2", act="erf"), "t.yaml").problem
    monkeypatch.setattr(engine, "PARALLEL_MIN", 10)
    serial = predict(problem, Options(workers=1))
    parallel = predict(problem, Options(workers=2))
    assert len(serial.patterns) == 51
    assert serial.patterns == parallel.patterns
    assert serial.winners == parallel.winners


def test_ranks_are_competition_ranks_computed_in_one_pass():
    """`Prediction.ranks` (one sort) equals the definition (one plus the number of
    proper optima strictly better) for every pattern, and ranks are 1, 1, ..., then
    jump by the size of each tie group (competition ranking)."""
    for problem in (three_layer("1", "1"), three_layer("2", "1"), two_layer("1")):
        pred = predict(problem)
        ranks = pred.ranks()
        for p in pred.patterns:
            better = sum(1 for o in pred.patterns if o.counts and o.tie_key < p.tie_key)
            assert ranks.get(p.name) == (better + 1 if p.counts else None)
        proper = sorted(r.tie_key for r in pred.patterns if r.counts)
        expected = [proper.index(key) + 1 for key in proper]
        assert sorted(ranks.values()) == expected
