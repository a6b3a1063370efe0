"""Convolutional networks and softmax attention against docs/theory.md section 8's tables.

Every expected value is derived by hand in the test's docstring from the section's
rules (input eigenvalue, per-unit cost, readout factor), never read off the engine.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from curse_cli.algebra.scales import Monomial
from curse_cli.engine.api import predict
from curse_cli.spec.load import SpecError, load_spec_text

CNN = """
architecture: {kind: cnn, activation: %(act)s, channels: N, patch: %(S)s, readout: %(readout)s}
target: {kind: hermite, degree: %(k)d}
scaling: %(scaling)s
scales: {N: %(N)s%(S_scale)s}
"""

ATTENTION = """
architecture: {kind: attention, heads: N, length: L}
target: {kind: two-token, degree: %(degree)d}
scaling: standard
scales: {L: %(L)s, N: %(N)s}
"""


def cnn(N="1/2", S="1/2", k=3, readout="per-patch", act="erf", scaling="standard"):
    text = CNN % dict(N=N, S="S", S_scale=f", S: {S}", k=k, readout=readout, act=act, scaling=scaling)
    return load_spec_text(text, "cnn.yaml").problem


def attention(r=1, N="1", L="1"):
    return load_spec_text(ATTENTION % dict(degree=2 * r + 1, N=N, L=L), "attention.yaml").problem


def mono(**powers) -> Monomial:
    return Monomial({k: F(v) for k, v in powers.items()})


def rows(pred):
    return {r.name: r for r in pred.patterns}


def sizes(report):
    return {q.label: q.formula for q in report.layers[0].sizes}


# -- docs/theory.md 8.1: convolutional network -----------------------------------------------------


@pytest.mark.parametrize("N, S", [("1/2", "1/2"), ("1/3", "1/2"), ("3/4", "1/4")])
def test_cnn_per_patch_table(N, S):
    """Per patch, erf, k = 3, standard.  [lambda_z] = -[S]; readout factor d/S.
    GP: a_y = (d/S) (S)^3 = d S^2.
    GFL: N D against (d/S) S^3 / D^3 -> D^4 = d S^2 / N, E = N D = (N^3 d S^2)^(1/4)
    (inside the cap D <= S: d <= N S^2, true at these points).
    Sp: M S q^2 against (d/S) N / (M q^6); at q = 1 (bounded) M^2 = N d / S^2,
    E = (N d)^(1/2), inside 1 < M < N: S^2 < N d and d < N S^2 (true at these points,
    strictly, so no boundary convention is involved)."""
    r = rows(predict(cnn(N, S)))
    assert r["GP"].energy == mono(S=2, d=1)
    assert r["GFL(z)"].energy == mono(N=F(3, 4), S=F(1, 2), d=F(1, 4))
    assert sizes(r["GFL(z)"]) == {"D1": mono(S=F(1, 2), d=F(1, 4), N=F(-1, 4))}
    assert r["Sp(z)"].energy == mono(N=F(1, 2), d=F(1, 2))
    assert r["Sp(z)"].layers[0].corner == "M-Sp"
    assert sizes(r["Sp(z)"])["M1"] == mono(N=F(1, 2), d=F(1, 2), S=-1)


def test_cnn_paper_point():
    """N ∝ S ∝ d^(1/2): Sp (N d)^(1/2) = d^(3/4), GFL (d^(3/2) d d)^(1/4) = d^(7/8),
    GP d S^2 = d^2.  So P* ∝ kappa d^(3/4), via Sp(z)."""
    pred = predict(cnn())
    r = rows(pred)
    assert [w.name for w in pred.winners] == ["Sp(z)"]
    assert pred.p_star_exponent == F(3, 4)
    assert r["GFL(z)"].exponent == F(7, 8)
    assert r["GP"].exponent == 2


def test_cnn_linear_target_paper_example():
    """docs/theory.md 8.1, the paper's appendix example, k = 1 at N ∝ S ∝ d^(1/2).  GP: (d/S) S = d.
    GFL: N D against (d/S) S / D = d/D -> E = (N d)^(1/2).  Sp: M S q^2 against
    (d/S) N / (M q^2) -> only M q^2 fixed, E = (N d)^(1/2).  Both d^(3/4), on par."""
    pred = predict(cnn(k=1))
    r = rows(pred)
    assert r["GP"].energy == mono(d=1)
    assert r["GFL(z)"].energy == mono(N=F(1, 2), d=F(1, 2))
    assert r["Sp(z)"].energy == mono(N=F(1, 2), d=F(1, 2))
    assert sorted(w.name for w in pred.winners) == ["GFL(z)", "Sp(z)"]
    assert pred.p_star_exponent == F(3, 4)


def test_cnn_pooled_readout():
    """Pooled, k = 3: no d/S factor.  GP: S^3 (= d^(3/2) at N ∝ S ∝ d^(1/2)).
    Sp: M S q^2 against N / (M q^6): at q = 1, M = (N/S)^(1/2), E = (N S)^(1/2), which
    needs M >= 1, i.e. N >= S.  At N = S = d^(1/2), [E] = 1/2 (docs/theory.md 8.1's pooled point,
    a corner: M = q = 1); strictly inside, at N = d^(2/3), S = d^(1/3), the formula."""
    r = rows(predict(cnn(readout="pooled")))
    assert r["GP"].energy == mono(S=3)
    assert r["GP"].exponent == F(3, 2)
    assert r["Sp(z)"].exponent == F(1, 2)
    inside = rows(predict(cnn(N="2/3", S="1/3", readout="pooled")))
    assert inside["Sp(z)"].energy == mono(N=F(1, 2), S=F(1, 2))


def test_cnn_mean_field_sets_chi_to_the_channels():
    problem = cnn(scaling="mean-field")
    assert problem.chi == mono(N=1)


ACTIVATIONS = ["erf", "tanh", "relu", "linear", "quadratic", "cubic", "{polynomial: [0, 1, 0, 1]}",
               "{polynomial: [0, 0, 1, 0, 1]}"]


@settings(max_examples=30, deadline=None)
@given(act=st.sampled_from(ACTIVATIONS), k=st.integers(1, 4), n=st.fractions(0, 3, max_denominator=4),
       readout=st.sampled_from(["per-patch", "pooled"]), scaling=st.sampled_from(["standard", "mean-field"]))
def test_cnn_with_one_patch_is_the_two_layer_fcn(act, k, n, readout, scaling):
    """At S = d there is one patch: x_p = x, [lambda_z] = -1 and d/S = 1, so both readouts
    are the two-layer fully connected network, pattern by pattern and formula by formula."""
    text = CNN % dict(N=n, S='"d^1"', S_scale="", k=k, readout=readout, act=act, scaling=scaling)
    conv = predict(load_spec_text(text, "cnn.yaml").problem)
    fcn_text = (f"architecture: {{kind: fcn, activation: {act}, widths: [N]}}\n"
                f"target: {{kind: hermite, degree: {k}}}\nscaling: {scaling}\nscales: {{N: {n}}}\n")
    full = predict(load_spec_text(fcn_text, "fcn.yaml").problem)
    assert conv.patterns == full.patterns
    assert conv.p_star == full.p_star
    assert conv.unreachable == full.unreachable


# -- docs/theory.md 8.2: softmax attention ---------------------------------------------------------


def test_attention_r1_table():
    """r = 1 at N ∝ L ∝ d.  GP: chi L d^(2r+1) = L d^3.
    Sp: M d^2 q^2 against N L d / (M q^2): only M q^2 fixed, M q^2 = (N L/d)^(1/2) = d^(1/2)
    (inside 1 <= M <= N), E = (N L d^3)^(1/2): a face from M-Sp to Mag.
    GFL: N D against L d^3 / D -> D = (L d^3/N)^(1/2) = d^(3/2) <= d^2, the same E: a tie."""
    pred = predict(attention(1))
    r = rows(pred)
    assert r["GP"].energy == mono(L=1, d=3)
    assert r["Sp(uv)"].energy == mono(N=F(1, 2), L=F(1, 2), d=F(3, 2))
    assert sizes(r["Sp(uv)"]) == {"M1 q1^2": mono(N=F(1, 2), L=F(1, 2), d=F(-1, 2))}
    assert r["Sp(uv)"].layers[0].corner.startswith("face M1 q1^2")
    assert r["GFL(uv)"].energy == mono(N=F(1, 2), L=F(1, 2), d=F(3, 2))
    assert sorted(w.name for w in pred.winners) == ["GFL(uv)", "Sp(uv)"]


@pytest.mark.parametrize("r_", [2, 3])
def test_attention_higher_r_table(r_):
    """r >= 2 at N ∝ L ∝ d.  GP: L d^(2r+1).  Sp: M d^2 q^2 against N L d/(M q^(2r)); for a
    fixed M q^2 the readout falls as q grows, so q ∝ 1 (M-Sp), M = (N L/d)^(1/2),
    E = (N L d^3)^(1/2).  GFL: N D against L d^(2r+1)/D^r -> D^(r+1) = L d^(2r+1)/N
    (= d^(2r+1) here, D = d^((2r+1)/(r+1)) <= d^2), E = N^(r/(r+1)) (L d^(2r+1))^(1/(r+1))."""
    r = rows(predict(attention(r_)))
    assert r["GP"].energy == mono(L=1, d=2 * r_ + 1)
    assert r["Sp(uv)"].energy == mono(N=F(1, 2), L=F(1, 2), d=F(3, 2))
    assert r["Sp(uv)"].layers[0].corner == "M-Sp"
    assert sizes(r["Sp(uv)"])["M1"] == mono(N=F(1, 2), L=F(1, 2), d=F(-1, 2))
    assert r["GFL(uv)"].energy == mono(N=F(r_, r_ + 1), L=F(1, r_ + 1), d=F(2 * r_ + 1, r_ + 1))


def test_attention_paper_result_at_fixed_heads():
    """N ∝ 1, L = d^(1/2): M q^2 = (N L/d)^(1/2) = d^(-1/4) < 1, so one head with q^2 =
    d^(-1/4) (partial); still E = (N L d^3)^(1/2) = (L d^3)^(1/2) = d^(7/4), beating GP's
    L d^3 = d^(7/2).  P* ∝ kappa (L d^3)^(1/2)."""
    pred = predict(attention(1, N="0", L="1/2"))
    assert pred.p_star_exponent == F(7, 4)
    assert "GP" not in [w.name for w in pred.winners]


def test_attention_crossover_to_lazy_learning_in_a_sweep():
    """Sp costs (N L d^3)^(1/2), GP L d^3: equal at N = L d^3, i.e. [N] = 4 at L = d."""
    from curse_cli.sweeps.api import parse_axis, sweep

    problem = attention(1, N="0", L="1")
    result = sweep(problem, (parse_axis("N=0:8:9", "--x"),))
    assert result.breakpoints[-1] == 4
    last = result.segments[-1]
    assert (last.start, last.start_closed) == (4, False)
    assert result.regions[last.region].outcome.winners == ("GP",)


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("architecture: {kind: fcn, activation: erf, widths: [N]}\ntarget: {kind: two-token, degree: 3}\n"
     "scaling: standard\nscales: {N: 1}\n", "target.kind: fcn does not take a 'two-token' target"),
    ("architecture: {kind: attention, heads: N, length: L}\ntarget: {kind: hermite, degree: 3}\n"
     "scaling: standard\nscales: {N: 1, L: 1}\n", "attention takes 'two-token'"),
    ("architecture: {kind: attention, heads: N, length: L}\ntarget: {kind: two-token, degree: 4}\n"
     "scaling: standard\nscales: {N: 1, L: 1}\n", "target.degree: a two-token target has odd degree"),
    ("architecture: {kind: cnn, activation: erf, channels: N, patch: S}\ntarget: {kind: hermite, degree: 3}\n"
     "scaling: standard\nscales: {N: 1, S: 3/2}\n",
     "scales.S: S is the patch size, so its exponent must be between 0 and 1"),
    ("architecture: {kind: cnn, activation: erf, channels: N, patch: \"d^(-1)\"}\ntarget: {kind: hermite, degree: 3}\n"
     "scaling: standard\nscales: {N: 1}\n", "architecture.patch: the patch size must be between 1 and d"),
    ("architecture: {kind: cnn, activation: erf, channels: N, patch: S, pooling: max}\n"
     "target: {kind: hermite, degree: 3}\nscaling: standard\nscales: {N: 1, S: 1}\n",
     "architecture: unknown key 'pooling'; allowed keys: kind, activation, channels, patch, readout"),
    ("architecture: {kind: attention, heads: N, length: L}\ntarget: {kind: two-token, degree: 3}\n"
     "scaling: standard\ndata: {target_variance: 1/2}\nscales: {N: 1, L: 1}\n", "data.target_variance: attention"),
])
def test_mismatched_or_out_of_range_specs_are_refused(text, message):
    with pytest.raises(SpecError) as info:
        load_spec_text(text, "x.yaml")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_patch_override_beyond_d_is_refused():
    text = CNN % dict(N="1", S="S", S_scale=", S: 1/2", k=3, readout="per-patch", act="erf", scaling="standard")
    with pytest.raises(SpecError) as info:
        load_spec_text(text, "x.yaml", ["S=2"])
    assert str(info.value).startswith("overrides: S: S is the patch size")


def test_bundled_specs_round_trip_their_documents():
    """The document of a cnn or attention spec reads back into the same problem."""
    for text in (CNN % dict(N="1/2", S="S", S_scale=", S: 1/2", k=3, readout="pooled", act="relu", scaling="standard"),
                 ATTENTION % dict(degree=5, N="1", L="1")):
        loaded = load_spec_text(text, "x.yaml")
        again = load_spec_text(yaml.safe_dump(loaded.document, sort_keys=False), "again")
        assert again.problem == loaded.problem


def test_sweep_axes_respect_the_architecture_limits():
    """A patch is between 1 and d inputs: a sweep of [S] beyond 1 is refused up front."""
    from curse_cli.sweeps.api import SweepError, check_axes, parse_axis

    problem = cnn()
    check_axes(problem, (parse_axis("S=0:1:5"),))
    with pytest.raises(SweepError, match="S is the patch size"):
        check_axes(problem, (parse_axis("S=0:2:5"),))


def test_attention_mean_field_sets_chi_to_the_heads():
    text = (ATTENTION % dict(degree=3, N="1", L="1")).replace("scaling: standard", "scaling: mean-field")
    assert load_spec_text(text, "x.yaml").problem.chi == mono(N=1)


# -- every command, every architecture ---------------------------------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def run(*args):
    from click.testing import CliRunner

    from curse_cli.cli.main import cli

    return CliRunner().invoke(cli, list(args))


def test_explain_speaks_the_architecture_words():
    """The patch kernel and the d/S factor for a cnn; the head's cost d^2 q^2 for attention."""
    conv = run("explain", str(ROOT / "specs" / "cnn_erf.yaml"), "-p", "Sp(z)")
    assert conv.exit_code == 0, conv.output
    assert "patch kernel" in conv.output and "(d/S)" in conv.output and "channels" in conv.output
    att = run("explain", str(ROOT / "specs" / "attention_cubic.yaml"), "-p", "Sp(uv)")
    assert att.exit_code == 0, att.output
    assert "d^2 q^2" in att.output and "heads" in att.output and "L d" in att.output


def test_schema_has_the_three_kinds():
    import json

    schema = json.loads(run("schema").output)
    kinds = {schema["$defs"][ref["$ref"].split("/")[-1]]["properties"]["kind"]["const"]
             for ref in schema["properties"]["architecture"]["oneOf"]}
    assert kinds == {"fcn", "cnn", "attention"}


def test_ldt_refuses_other_kinds_in_one_line():
    result = run("ldt", str(ROOT / "specs" / "attention_cubic.yaml"))
    assert result.exit_code == 2
    assert "kind: fcn" in result.output and len(result.output.strip().splitlines()) == 1


def test_fewer_samples_than_dimensions_is_no_note_for_a_cnn():
    """[P*] = 3/4 < 1 is the paper's convolutional result, not a result outside the
    heuristic's range: the direction to be learned is a filter of S = d^(1/2) entries,
    and 3/4 >= [S] = 1/2."""
    import json

    doc = json.loads(run("predict", str(ROOT / "specs" / "cnn_erf.yaml"), "--format", "json").output)
    assert doc["prediction"]["p_star_exponent"] == "3/4"
    assert "p_star_below_dimension" not in [n["code"] for n in doc["notes"]]
