"""`make bench-simulate`: the paper's experiments as `curse simulate` commands.

Each experiment is one `curse simulate` run with `--out` under build/bench_simulate/ (a
rerun continues it with `--resume`), then its table (verdict, b with its interval against
[P*], specialists against M, the GP baseline), its wall time, the machine's load
(`os.getloadavg`) before and after, and the core count.  Measured and printed, never
asserted (not collected by pytest).

    python tests/benchmarks/bench_simulate.py [NAME ...]     # default: every experiment

Names: two-layer (erf He_3 at N = d, d = 8, 16, 32; budget 30 minutes on two cores),
three-layer, cnn, attention (two heads; budget 10 minutes each).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "bench_simulate"
_SCRIPT = Path(sys.executable).parent / "curse"
CURSE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "curse_cli.cli"]
COMMON = ("--kappa", "0.1", "--runs", "2", "--seed", "0", "--test-size", "512")
EXPERIMENTS = {
    "two-layer": ("specs/two_layer_erf.yaml", "--d", "8,16,32", "--p-ratio", "8,12,16,24,32", "--particles", "128"),
    "three-layer": ("specs/three_layer_erf.yaml", "--d", "8,12,16", "--p-ratio", "2,4,8,16,32", "--particles", "128"),
    "cnn": ("specs/cnn_erf.yaml", "--d", "16,25,36", "--p-ratio", "8,16,32,64", "--particles", "128"),
    # two heads: one cannot express the two-token target (docs/simulate.md)
    "attention": ("specs/attention_cubic.yaml", "--d", "4,6,8", "--p-ratio", "1,2,4,8", "--width-factor", "2",
                  "--particles", "128"),
}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min), {five:.2f} (5 min)"


def experiment(name: str) -> int:
    spec, *args = EXPERIMENTS[name]
    out = OUT / f"{name}.jsonl"
    resume = ("--resume",) if out.exists() else ()
    cmd = [*CURSE, "simulate", spec, *args, *COMMON, "--out", str(out), *resume, "--format", "json"]
    shown = " ".join(["curse", *cmd[len(CURSE):]]).replace(str(ROOT) + "/", "")
    print(f"## {name}\n$ {shown}\n{load()} before, {os.cpu_count()} cores", flush=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    print(f"wall time {wall:.0f} s ({'resumed, ' if resume else ''}exit {done.returncode}); {load()} after",
          flush=True)
    if done.returncode != 0:
        return done.returncode
    table = [*CURSE, "simulate", spec, *args, *COMMON, "--out", str(out), "--resume"]
    subprocess.run(table, cwd=ROOT, env={**os.environ, "COLUMNS": "100"})
    print(flush=True)
    return 0


def main(names: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        sys.exit(f"unknown experiment {', '.join(unknown)}; known: {', '.join(EXPERIMENTS)}")
    codes = [experiment(n) for n in names or list(EXPERIMENTS)]
    sys.exit(max(codes, default=0))


if __name__ == "__main__":
    main(sys.argv[1:])
