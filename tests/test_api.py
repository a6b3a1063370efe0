"""The Python API (`curse_cli.predict`, ...): typed results against the theory's values,
`to_dict` as exactly the CLI's JSON, a spec given as a mapping, and a cheap import."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

import curse_cli
from curse_cli.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
TWO_LAYER = {"architecture": {"kind": "fcn", "activation": "erf", "widths": ["N"]},
             "target": {"kind": "hermite", "degree": 3}, "scaling": "standard", "scales": {"N": 1}}


def cli_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_importing_curse_cli_loads_no_engine_and_no_heavy_library():
    code = ("import sys, curse_cli; heavy = ('numpy', 'scipy', 'pydantic', 'jax', 'matplotlib', 'rich', "
            "'curse_cli.engine.api'); print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_predict_gives_the_three_layer_table_and_a_frozen_typed_result():
    """docs/theory.md Table 1 at N1 = N2 = d: every non-lazy winner gives [P*] = 1, GP-Sp(z)
    costs (N2 d)^(1/2), and the lazy GP-GP costs d^3."""
    result = curse_cli.predict(SPECS / "three_layer_erf.yaml", all=True)
    assert result.p_star_exponent == 1 and isinstance(result.p_star_exponent, Fraction)
    assert set(result.winners) == {"GP-Sp(z)", "Sp(z)-GP", "Sp(z)-Sp(sigma1)"}
    by_name = {p.name: p for p in result.patterns}
    assert by_name["GP-GP"].exponent == 3 and str(by_name["GP-Sp(z)"].energy) == "(N2 d)^(1/2)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.p_star = None  # type: ignore[misc]


def test_to_dict_is_what_format_json_prints():
    path = str(SPECS / "three_layer_erf.yaml")
    assert curse_cli.predict(path, top=2).to_dict() == cli_json("predict", path, "--top", "2")
    assert curse_cli.predict(path, all=True, top=3).to_dict() == cli_json("predict", path, "--all", "--top", "3")
    assert curse_cli.compare(path, patterns=["GP-GP", "Sp(z)-GP"]).to_dict() == \
        cli_json("compare", path, "-p", "GP-GP", "-p", "Sp(z)-GP")
    assert curse_cli.explain(path, "Sp(z)-GP").to_dict() == cli_json("explain", path, "-p", "Sp(z)-GP")
    two = str(SPECS / "two_layer_erf.yaml")
    assert curse_cli.sweep(two, "N=4:6:5").to_dict() == cli_json("sweep", two, "--x", "N=4:6:5")
    depth = str(SPECS / "two_layer_erf_depth.yaml")
    assert curse_cli.depth(depth, layers="1-2", set={"N": 2}).to_dict() == \
        cli_json("depth", depth, "--layers", "1-2", "--set", "N=2")


def test_a_mapping_spec_and_set_as_a_mapping():
    """Two-layer erf at N = d^2: specialisation costs (N d)^(1/2) = d^(3/2)."""
    result = curse_cli.predict(TWO_LAYER, set={"N": 2})
    assert result.p_star_exponent == Fraction(3, 2) and result.winners == ("Sp(z)",)
    assert result.p_star == "kappa (N d)^(1/2)"
    assert result.to_dict()["spec"]["origin"] == "<mapping>"


def test_sweep_breakpoint_where_lazy_learning_catches_up():
    """GP costs d^3 and Sp (N d)^(1/2): they meet at [N] = 5, exactly."""
    result = curse_cli.sweep(TWO_LAYER, "N=4:6:5")
    assert result.breakpoints == (Fraction(5),)
    assert [r.outcome.winners for r in result.regions] == [("Sp(z)",), ("GP", "Sp(z)"), ("GP",)]
    # the subsystems the calls load do not shadow the API's functions
    assert curse_cli.sweep is curse_cli.api.sweep and curse_cli.depth is curse_cli.api.depth


def test_depth_and_explain():
    """At N = d^2, [P*] = 3/2 at every depth (docs/theory.md 11.5); Sp(z) of the two-layer
    network has [E] = ([N] + 1)/2."""
    result = curse_cli.depth(TWO_LAYER, layers=[1, 2, 3], set={"N": 2})
    assert result.layers == (1, 2, 3) and result.p_star_exponents == (Fraction(3, 2),) * 3
    explained = curse_cli.explain(TWO_LAYER, "Sp(z)", set={"N": 3})
    assert explained.energy_exponent == 2 and explained.status == "optimal"


def test_a_user_error_is_the_libraries_exception():
    from curse_cli.spec.load import SpecError
    from curse_cli.sweeps.api import SweepError

    with pytest.raises(SpecError, match="scaling"):
        curse_cli.predict({k: v for k, v in TWO_LAYER.items() if k != "scaling"})
    with pytest.raises(SweepError, match="swept"):
        curse_cli.sweep(TWO_LAYER, "N=0:1:2", set={"N": 2})
