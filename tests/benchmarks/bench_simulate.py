"""`make bench-simulate`: the physics run of issue 10, and the sampler's throughput.

Two-layer erf network, He_3 target, N = d, standard scaling (specs/two_layer_erf.yaml),
kappa = 0.01: `curse simulate` over d in {8, 16, 32}, then the fitted exponent of P_half
beside the predicted [P*] = 1, the specialist counts beside M ∝ (N/d)^(1/2) (exponent 0
at N = d), the collapse plot, the wall time, and the throughput in chain-steps per second
at d = N = 32, P = 256.  Measured and printed, never asserted (not collected by pytest).

Extra arguments are passed to `curse simulate` (e.g. `--d 8,16,32,64`).  Files go to
build/bench_simulate/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "bench_simulate"
_SCRIPT = Path(sys.executable).parent / "curse"
CURSE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "curse_cli.cli"]
SPEC = "specs/two_layer_erf.yaml"
RUN = ("--d", "8,16,32", "--p-ratio", "2,4,8,16,32", "--chains", "4", "--warmup", "1000", "--samples", "1000",
       "--thin", "5", "--test-size", "512", "--seed", "0")


def throughput(warmup: int = 1000, samples: int = 1000, chains: int = 4, thin: int = 5,
               repeats: int = 3) -> tuple[float, float, float]:
    """Chain-steps per second at d = N = 32, P = 256 (compiled code, compile excluded):
    best and median of `repeats` timed runs, and the compile time.  The machine is shared,
    so the best run is the one least disturbed."""
    import jax

    from curse_cli.simulate import experiment
    from curse_cli.simulate.sampler import SamplerConfig

    setup = experiment.Setup("erf", (), (1.0,), 0.0, 3, "gaussian", 1.0, 0.01, 1.0)
    config = SamplerConfig("mala", warmup, samples, thin=thin)
    settings = experiment.Settings((32,), (8.0,), chains, 512, 0, config)
    x, y, xt, yt = experiment.point_data(setup, settings, 32, 256)
    net = setup.network(32)
    z0 = jax.random.normal(jax.random.PRNGKey(0), (2 * chains, net.n_params))
    keys = jax.random.split(jax.random.PRNGKey(1), 2 * chains)
    args = (net, config, keys, z0, *experiment._padded(x, y), xt, yt)
    start = time.perf_counter()
    jax.block_until_ready(experiment._sample(*args))
    first = time.perf_counter() - start
    walls = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(experiment._sample(*args))
        walls.append(time.perf_counter() - start)
    steps = 2 * chains * (warmup + samples)
    return steps / min(walls), steps / sorted(walls)[len(walls) // 2], first - min(walls)


def main(extra: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    out, plot = OUT / "run.jsonl", OUT / "collapse.png"
    cmd = [*CURSE, "simulate", SPEC, *RUN, *extra, "--out", str(out), "--plot", str(plot), "--format", "json"]
    print("$", " ".join(cmd[len(CURSE) - 1:]).replace(str(ROOT) + "/", ""), flush=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(done.returncode)
    doc = json.loads(done.stdout)
    (OUT / "report.json").write_text(done.stdout)
    pred, fit = doc["predicted"], doc["fit"]
    print(f"wall time: {wall:.0f} s for {len(doc['points'])} points ({os.cpu_count()} cores)")
    print(f"{'d':>4} {'N':>4} {'P':>6} {'align':>14} {'from prior':>14} {'from teacher':>14} {'R-hat':>6} "
          f"{'eq':>3} {'MSE':>6} {'GP':>6} {'spec. prior/teacher':>20}")
    for p in doc["points"]:
        print(f"{p['d']:>4} {p['widths'][0]:>4} {p['p']:>6} {p['alignment']:>8.3f}±{p['alignment_se']:.3f} "
              f"{p['alignment_prior']:>8.3f}±{p['alignment_prior_se']:.3f} "
              f"{p['alignment_teacher']:>8.3f}±{p['alignment_teacher_se']:.3f} {p['rhat'] or float('inf'):>6.2f} "
              f"{'y' if p['equilibrated'] else 'N':>3} {p['mse']:>6.3f} {p['gp_alignment']:>6.3f} "
              f"{p['specialists_prior']:>9.2f}/{p['specialists_teacher']:<9.2f}")

    def num(x, fmt=".1f"):
        return "—" if x is None else format(x, fmt)

    for c in doc["curves"]:
        note = f" {c['p_half_note']}" if c["p_half_note"] else ""
        print(f"d={c['d']}: P_half = {num(c['p_half'])} (prior start {num(c['p_half_prior'])}, teacher start "
              f"{num(c['p_half_teacher'])}, GP {num(c['gp_p_half'])}){note}"
              f"; specialists at the largest P = {c['specialists']:.2f} "
              f"(prior false positives {c['specialists_null']:.2f})")
    b = "undetermined" if fit["b"] is None else f"{fit['b']:.2f} [{num(fit['low'], '.2f')}, {num(fit['high'], '.2f')}]"
    print(f"fitted exponent of P_half: b = {b} (95% bootstrap)  vs predicted [P*] = {pred['p_star_exponent']} "
          f"({pred['p_star']})")
    print(f"  each start alone: b = {num(fit['b_prior'], '.2f')} (prior), {num(fit['b_teacher'], '.2f')} (teacher); "
          f"GP regression: b = {num(fit['gp_b'], '.2f')}")
    print(f"specialists: slope in d {num(fit['specialists_slope'], '.2f')}  vs predicted {pred['m_label']} ∝ "
          f"{pred['m_formula']} (exponent {pred['m_exponent']})")
    print(f"verdict: {doc['verdict']['status']} — {doc['verdict']['reason']}")
    print(f"collapse plot: {plot.relative_to(ROOT)}")
    best, median, compile_s = throughput()
    print(f"throughput (MALA, d = N = 32, P = 256, 8 chains of 2000 steps, compiled): best {best:.0f}, "
          f"median {median:.0f} chain-steps/s of 3 runs (first call's compile overhead {compile_s:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
