"""`curse simulate` through click's CliRunner: documents, --out and --resume, refusals.

One tiny run (two d, two P each) is made once per module and reused; everything else
resumes from its --out file without sampling again, or is refused before any work.
"""

from __future__ import annotations

import builtins
import csv
import importlib.util
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from curse_cli.cli.main import cli

pytestmark = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs the simulate extra")

ROOT = Path(__file__).resolve().parent.parent
ERF = str(ROOT / "specs" / "two_layer_erf.yaml")
TINY = ("--d", "8,16", "--p-ratio", "0.75,1", "--particles", "32", "--mutations", "2", "--test-size", "64",
        "--seed", "3")


def run(*args, env=None):
    return CliRunner(env=env).invoke(cli, ["simulate", *args])


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
    assert doc["schema"] == "curse.simulate/2"
    assert doc["predicted"]["p_star_exponent"] == "1"
    # P = round(r d^[P*]) for r in 0.75, 1; N = d.
    assert [(p["d"], p["p"], p["widths"]) for p in doc["points"]] == [
        (8, 6, [8]), (8, 8, [8]), (16, 12, [16]), (16, 16, [16])]
    for p in doc["points"]:
        assert [r["seed"] for r in p["runs"]] == [3000, 3001]   # two runs, seeds 1000 seed + r
        aligns = [r["alignment"] for r in p["runs"]]
        assert p["alignment"] == pytest.approx(sum(aligns) / 2)
        assert p["spread"] == pytest.approx(max(aligns) - min(aligns))
        assert p["equilibrated"] == (p["spread"] <= 0.05)
        for r in p["runs"]:
            assert set(r) >= {"seed", "alignment", "log_evidence", "ess", "stages", "specialists", "seconds"}
            assert 1 <= r["ess"] <= 32 and r["stages"] >= 1
    assert doc["verdict"]["status"] in ("agree", "disagree", "not equilibrated", "inconclusive")
    assert doc["settings"]["seed"] == 3 and doc["settings"]["sampler"] == "smc"


def test_out_file_has_a_header_and_one_line_per_point(tiny):
    out, doc = tiny
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["kind"] == "header" and lines[0]["schema"] == "curse.simulate/2"
    assert [(x["d"], x["p"]) for x in lines[1:]] == [(p["d"], p["p"]) for p in doc["points"]]


def test_resume_recomputes_a_cut_line_with_the_same_numbers(tiny, tmp_path):
    out, doc = tiny
    partial = tmp_path / "partial.jsonl"
    lines = out.read_text().splitlines()
    # Three points done, the fourth cut off mid-line (a killed run).
    partial.write_text("\n".join(lines[:4]) + "\n" + lines[4][: len(lines[4]) // 2])
    result = run(ERF, *TINY, "--out", str(partial), "--resume", "--format", "json")
    assert result.exit_code == 0, result.output

    def strip(point):
        return {**point, "seconds": 0, "runs": [{**r, "seconds": 0} for r in point["runs"]]}

    assert [strip(p) for p in json.loads(result.stdout)["points"]] == [strip(p) for p in doc["points"]]
    kinds = [json.loads(line)["kind"] for line in partial.read_text().splitlines()]
    assert kinds == ["header"] + ["point"] * 4  # the cut line is gone, appended whole


def test_csv_writes_booleans_as_sweep_does(tiny):
    out, doc = tiny
    result = run(ERF, *TINY, "--out", str(out), "--resume", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(int(r["d"]), int(r["p"])) for r in rows] == [(p["d"], p["p"]) for p in doc["points"]]
    assert {r["equilibrated"] for r in rows} <= {"true", "false"}


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_table_fits_the_columns_and_cuts_no_number(tiny, columns):
    out, doc = tiny
    result = run(ERF, *TINY, "--out", str(out), "--resume", env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert max(len(line) for line in text.splitlines()) <= columns
    assert "verdict:" in text and "P_half" in text
    assert text.splitlines()[0] == "two-layer erf network, cubic target"   # the spec header, as predict's
    for p in doc["points"]:   # every run's alignment appears whole
        for r in p["runs"]:
            assert re.search(rf"(?<![\d.]){r['alignment']:.3f}(?![\d])", text), (r["alignment"], text)


def test_resume_refuses_a_file_of_other_settings(tiny):
    out, _ = tiny
    line = one_line_error(run(ERF, *TINY[:-1], "4", "--out", str(out), "--resume"))
    assert "--resume" in line and "seed" in line


def test_out_never_replaces_a_file(tiny, tmp_path):
    out, _ = tiny
    before = out.read_bytes()
    line = one_line_error(run(ERF, *TINY, "--out", str(out)))
    assert "--resume" in line and "run-2.jsonl" in line
    assert out.read_bytes() == before
    spec = tmp_path / "spec.yaml"
    spec.write_text(Path(ERF).read_text())
    assert "spec itself" in one_line_error(run(str(spec), *TINY, "--out", str(spec), "--resume"))
    assert "directory" in one_line_error(run(ERF, *TINY, "--out", str(tmp_path)))
    link = tmp_path / "link.jsonl"
    link.symlink_to(out)
    assert "symbolic link" in one_line_error(run(ERF, *TINY, "--out", str(link), "--resume"))
    assert "regular file" in one_line_error(run(ERF, *TINY, "--out", "/dev/null", "--resume"))
    assert out.read_bytes() == before


@pytest.mark.parametrize("damage, needle", [
    (lambda lines: [lines[0], lines[1].replace('"alignment":', '"alignment":"x","was":', 1)], "line 2"),
    (lambda lines: [lines[0], "{}", lines[1]], "line 2"),
    (lambda lines: ["not json", lines[1]], "line 1"),
])
def test_resume_checks_every_line_before_any_work(tiny, tmp_path, damage, needle):
    out, _ = tiny
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(damage(out.read_text().splitlines())) + "\n")
    before = bad.read_bytes()
    assert needle in one_line_error(run(ERF, *TINY, "--out", str(bad), "--resume"))
    assert bad.read_bytes() == before


def test_without_the_extra_one_line_with_the_install_hint(monkeypatch):
    real_import = builtins.__import__

    def no_jax(name, *args, **kwargs):
        if name.split(".")[0] in ("jax", "blackjax"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jax)
    assert "pip install 'curse[simulate]'" in one_line_error(run(ERF))


def test_predict_does_not_import_jax():
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
    (("--kappa", "nan"), "--kappa"),
    (("--kappa", "inf"), "--kappa"),
    (("--kappa", "1e-300"), "--kappa"),
    (("--particles", "100000000"), "--particles"),
    (("--chains", "100000", "--sampler", "mala"), "--chains"),
    (("--runs", "0"), "--runs"),
    (("--sampler", "nuts"), "--sampler"),
    (("--width-factor", "-1"), "--width-factor"),
    (("--width-factor", "1e9"), "--width-factor"),
    (("--resume",), "--out"),
    (("--plot", "x.pdf"), ".png or .svg"),
])
def test_bad_options_are_one_line_errors(args, needle):
    assert needle in one_line_error(run(ERF, *args))


@pytest.mark.parametrize("args, needle", [
    (("--d", "4000,4096", "--p-ratio", "1,2"), "GiB"),      # memory, estimated before any work
    (("--set", "N=100", "--d", "8,16"), "hidden weights"),   # N = d^100
    (("--p-ratio", "1,9000", "--d", "64,128"), "training points"),
])
def test_what_will_not_fit_is_refused_before_any_work(args, needle, tmp_path):
    out = tmp_path / "never.jsonl"
    line = one_line_error(run(ERF, *args, "--out", str(out)))
    assert needle in line
    assert not out.exists()


def test_rounding_of_a_requested_p_is_said(tiny, tmp_path):
    out, doc = tiny
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(out.read_bytes())
    # 0.76 d is 6.08 at d = 8 and 12.16 at d = 16: run as the finished P = 6 and 12 (no new
    # point; fresh points let --resume change --p-ratio), and a note says so.
    args = [a if a != "0.75,1" else "0.75,0.76,1" for a in TINY]
    result = run(ERF, *args, "--out", str(copy), "--resume", "--format", "json")
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    assert [(p["d"], p["p"]) for p in again["points"]] == [(p["d"], p["p"]) for p in doc["points"]]
    assert any(n.startswith("d=8") and "6.08 -> 6" in n for n in again["notes"]), again["notes"]
    assert any(n.startswith("d=16") and "12.16 -> 12" in n for n in again["notes"]), again["notes"]


def test_a_one_head_attention_network_is_said_not_to_express_its_target():
    """The spec's fixed head count is one at --width-factor 1 (two heads have no caveat:
    test_simulate_families)."""
    result = run(str(ROOT / "specs" / "attention_cubic.yaml"), "--d", "3", "--p-ratio", "0.5,1", "--particles",
                 "16", "--mutations", "1", "--test-size", "16", "--runs", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert [n for n in notes if "one attention head cannot express" in n] != [], notes


def test_the_bundled_seven_layer_spec_is_not_refused():
    result = run(str(ROOT / "specs" / "seven_layer_erf.yaml"), "--d", "2,3", "--p-ratio", "1,2", "--particles",
                 "16", "--mutations", "1", "--test-size", "16", "--runs", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "--max-patterns" not in result.output


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_ctrl_c_stops_within_seconds_keeping_finished_points(tmp_path):
    out = tmp_path / "run.jsonl"
    cmd = [sys.executable, "-m", "curse_cli.cli", "simulate", ERF, "--d", "8,16", "--p-ratio", "1,64",
           "--particles", "64", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 2):
        time.sleep(0.2)
    assert len(out.read_text().splitlines()) >= 2, "no point finished"
    workers = _children(proc.pid)
    assert len(workers) == 2, "the two runs were not given a worker process each"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - sent < 15
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "a worker outlived the command"
    assert "--resume" in err and "Traceback" not in err
    assert json.loads(out.read_text().splitlines()[1])["kind"] == "point"


def test_unsimulable_specs_are_refused_in_one_line(tmp_path):
    spec = tmp_path / "custom.yaml"
    spec.write_text("architecture: {kind: fcn, activation: {hermite: [1, 3], taylor: [1, 3], kind: bounded}, "
                    "widths: [N]}\ntarget: {kind: hermite, degree: 3}\nscaling: standard\nscales: {N: 1}\n")
    assert "architecture.activation" in one_line_error(run(str(spec)))
    assert "missing.yaml" in one_line_error(run(str(tmp_path / "missing.yaml")))


def test_a_ctrl_c_swallowed_by_a_gc_callback_is_raised_at_the_next_check(capfd):
    """CI lost a Ctrl-C this way: it arrived while JAX's garbage-collector callback ran,
    where Python prints the KeyboardInterrupt and drops it."""
    import gc

    from curse_cli.cli.simulate import CtrlC

    def callback(phase, info):
        if phase == "start":
            signal.raise_signal(signal.SIGINT)

    with CtrlC() as ctrl_c:
        gc.callbacks.append(callback)
        try:
            gc.collect()
        finally:
            gc.callbacks.remove(callback)
        assert ctrl_c.seen
        with pytest.raises(KeyboardInterrupt):
            ctrl_c.check()
    assert "Traceback" not in capfd.readouterr().err
    assert signal.getsignal(signal.SIGINT) != ctrl_c._on_sigint


def test_runs_in_worker_processes_give_the_numbers_of_runs_in_this_process(monkeypatch):
    """The workers compute exactly what the runs compute here, one after the other (same
    seeds, same data), and the points come back whole and in order."""
    from curse_cli.simulate import experiment

    args = (ERF, "--d", "6", "--p-ratio", "2,2.5", "--particles", "32", "--mutations", "2", "--test-size", "64",
            "--format", "json")   # P = 12, 15: one padded shape, compiled once per process
    documents = {}
    for threshold in (float("inf"), 0.0):
        monkeypatch.setattr(experiment, "WORKERS_FROM_SECONDS", threshold)
        result = run(*args)
        assert result.exit_code == 0, result.output
        documents[threshold] = json.loads(result.output)
    here, there = (documents[t]["points"] for t in (float("inf"), 0.0))
    assert [(p["d"], p["p"]) for p in there] == [(p["d"], p["p"]) for p in here] == [(6, 12), (6, 15)]
    for a, b in zip(here, there):
        assert [r["alignment"] for r in a["runs"]] == pytest.approx([r["alignment"] for r in b["runs"]], abs=1e-9)
        assert [r["log_evidence"] for r in a["runs"]] == pytest.approx([r["log_evidence"] for r in b["runs"]],
                                                                       abs=1e-6)
