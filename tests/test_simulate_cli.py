"""`curse simulate` through click's CliRunner: documents, resume, errors.

One tiny run (two d, two P each, sharing compiled code per d) is made once per module
and reused; everything else resumes from its --out file without sampling again.  Its
network and sampler shapes are those of test_simulate.py's collapse test, so in one
pytest process it reuses that test's compiled code (JIT compilation is most of the time).
"""

from __future__ import annotations

import builtins
import csv
import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from curse_cli.cli.main import cli

pytestmark = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs the simulate extra")

ROOT = Path(__file__).resolve().parent.parent
ERF = str(ROOT / "specs" / "two_layer_erf.yaml")
TINY = ("--d", "8,16", "--p-ratio", "0.75,1", "--chains", "2", "--warmup", "150", "--samples", "150",
        "--thin", "1", "--test-size", "256", "--seed", "3")


def run(*args):
    return CliRunner().invoke(cli, ["simulate", *args])


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "run.jsonl"
    result = run(ERF, *TINY, "--out", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_json_document(tiny):
    _, doc = tiny
    assert doc["schema"] == "curse.simulate/1"
    assert doc["predicted"]["p_star_exponent"] == "1"
    assert doc["predicted"]["m_formula"] == "(N/d)^(1/2)"
    # P = round(r d^[P*]) for r in 0.75, 1; N = d.
    assert [(p["d"], p["p"], p["widths"]) for p in doc["points"]] == [
        (8, 6, [8]), (8, 8, [8]), (16, 12, [16]), (16, 16, [16])]
    for p in doc["points"]:
        assert len(p["chain_alignment"]) == 4  # 2 chains x 2 starts
        assert p["alignment"] == pytest.approx(sum(p["chain_alignment"]) / 4)
        assert 0 <= p["acceptance"] <= 1 and p["gp_mse"] >= 0
    assert [c["d"] for c in doc["curves"]] == [8, 16]
    assert doc["verdict"]["status"] in ("agree", "disagree", "not equilibrated", "inconclusive")
    assert doc["settings"]["seed"] == 3 and doc["settings"]["spec"]["architecture"]["kind"] == "fcn"


def test_out_file_has_a_header_and_one_line_per_point(tiny):
    out, doc = tiny
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["kind"] == "header" and lines[0]["schema"] == "curse.simulate/1"
    assert [(x["d"], x["p"]) for x in lines[1:]] == [(p["d"], p["p"]) for p in doc["points"]]


def test_resume_skips_finished_points_and_gives_the_same_numbers(tiny, tmp_path):
    out, doc = tiny
    partial = tmp_path / "partial.jsonl"
    lines = out.read_text().splitlines()
    # Two points done, the third cut off mid-line (a killed run).
    partial.write_text("\n".join(lines[:3]) + "\n" + lines[3][: len(lines[3]) // 2])
    result = run(ERF, *TINY, "--out", str(partial), "--resume", "--format", "json")
    assert result.exit_code == 0, result.output
    resumed = json.loads(result.stdout)

    def strip(point):
        return {k: v for k, v in point.items() if k != "seconds"}

    # The recomputed points are the same numbers: the seed fixes them.
    assert [strip(p) for p in resumed["points"]] == [strip(p) for p in doc["points"]]
    kinds = [json.loads(line)["kind"] for line in partial.read_text().splitlines()]
    assert kinds == ["header"] + ["point"] * 4  # the cut line is gone


def test_csv_document(tiny):
    out, doc = tiny
    result = run(ERF, *TINY, "--out", str(out), "--resume", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(int(r["d"]), int(r["p"])) for r in rows] == [(p["d"], p["p"]) for p in doc["points"]]
    assert float(rows[0]["alignment"]) == pytest.approx(doc["points"][0]["alignment"])
    assert rows[0]["widths"] == "8" and rows[0]["equilibrated"] in ("True", "False")


def test_table_shows_the_verdict(tiny):
    out, _ = tiny
    result = run(ERF, *TINY, "--out", str(out), "--resume")
    assert result.exit_code == 0, result.output
    assert "verdict:" in result.stdout and "P_half" in result.stdout


def test_resume_refuses_a_file_of_other_settings(tiny):
    out, _ = tiny
    line = one_line_error(run(ERF, *TINY[:-1], "4", "--out", str(out), "--resume"))
    assert "--resume" in line and "seed" in line


def test_without_the_extra_one_line_with_the_install_hint(monkeypatch):
    real_import = builtins.__import__

    def no_jax(name, *args, **kwargs):
        if name.split(".")[0] in ("jax", "blackjax"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jax)
    line = one_line_error(run(ERF))
    assert "pip install 'curse[simulate]'" in line


def test_predict_does_not_import_jax():
    import subprocess

    code = ("import sys; from click.testing import CliRunner; from curse_cli.cli.main import cli; "
            f"r = CliRunner().invoke(cli, ['predict', {ERF!r}]); assert r.exit_code == 0, r.output; "
            "print('jax' in sys.modules, 'blackjax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


@pytest.mark.parametrize("args, needle", [
    (("--d", "8,x"), "--d"),
    (("--d", "1,8"), "--d"),
    (("--p-ratio", "1"), "--p-ratio"),
    (("--p-ratio", "1,-2"), "--p-ratio"),
    (("--kappa", "0"), "--kappa"),
    (("--chains", "1"), "--chains"),
    (("--sampler", "nuts"), "--sampler"),
    (("--width-factor", "-1"), "--width-factor"),
    (("--resume",), "--out"),
    (("--plot", "x.pdf"), ".png or .svg"),
])
def test_bad_options_are_one_line_errors(args, needle):
    assert needle in one_line_error(run(ERF, *args))


def test_unsimulable_specs_are_refused_in_one_line(tmp_path):
    spec = tmp_path / "custom.yaml"
    spec.write_text("architecture: {kind: fcn, activation: {hermite: [1, 3], taylor: [1, 3], kind: bounded}, "
                    "widths: [N]}\ntarget: {kind: hermite, degree: 3}\nscaling: standard\nscales: {N: 1}\n")
    assert "architecture.activation" in one_line_error(run(str(spec)))
    cnn = tmp_path / "cnn.yaml"
    cnn.write_text("architecture: {kind: cnn, activation: erf, widths: [N]}\ntarget: {kind: hermite, degree: 3}\n"
                   "scaling: standard\nscales: {N: 1}\n")
    assert "kind" in one_line_error(run(str(cnn)))
    assert "missing.yaml" in one_line_error(run(str(tmp_path / "missing.yaml")))
