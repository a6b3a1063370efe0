"""`make bench`: whole-process wall times and in-process throughput.

Not a test (pytest does not collect it): numbers depend on the machine, so they are
measured and printed, never asserted.  Its output goes into docs/performance.md.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).parent / "curse"
CURSE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "curse_cli.cli"]
FLOOR = [sys.executable, "-c", "import numpy, scipy.optimize, pydantic, yaml, rich, click"]


def run_once(cmd: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def interleaved(cmds: list[list[str]], repeat: int) -> list[tuple[list[float], list[float]]]:
    """Run the commands in turn, `repeat` rounds, so that drifts in machine speed hit
    all of them alike; per command the wall and CPU times."""
    out: list[tuple[list[float], list[float]]] = [([], []) for _ in cmds]
    for _ in range(repeat):
        for (walls, cpus), cmd in zip(out, cmds):
            w, c = run_once(cmd)
            walls.append(w)
            cpus.append(c)
    return out


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    repeat = 15
    specs = ["specs/three_layer_erf.yaml", "specs/cnn_erf.yaml", "specs/attention_cubic.yaml"]
    cmds = [FLOOR, *([*CURSE, "predict", spec] for spec in specs)]
    interleaved(cmds, 1)  # warm the file cache
    (floor, floor_cpu), *runs = interleaved(cmds, repeat)
    print(f"whole process, {repeat} interleaved runs each (seconds: wall median / wall min / CPU median)")
    label = "imports floor: python -c 'import numpy, scipy.optimize, pydantic, yaml, rich, click'"
    print(f"  {statistics.median(floor):6.3f} / {min(floor):6.3f} / {statistics.median(floor_cpu):6.3f}  {label}")
    for spec, (t, c) in zip(specs, runs):
        print(f"  {statistics.median(t):6.3f} / {min(t):6.3f} / {statistics.median(c):6.3f}  curse predict {spec}")
    for spec, (t, _) in zip(specs, runs):
        ratio = statistics.median(t) / statistics.median(floor)
        ratio_min = min(t) / min(floor)
        print(f"  ratio predict / floor: {ratio:.2f} (medians), {ratio_min:.2f} (minima)  {spec}  (budget 1.25)")

    sys.path.insert(0, str(ROOT))
    from curse_cli.engine.api import predict as run_predict
    from curse_cli.spec.load import load_spec

    four = load_spec(str(ROOT / "specs" / "four_layer_erf.yaml")).problem
    three = load_spec(str(ROOT / "specs" / "three_layer_erf.yaml")).problem
    print("in process (best of 3, seconds)")
    t3 = best_of(lambda: run_predict(three))
    print(f"  {t3:6.3f}  score all 11 patterns, three-layer erf (2 hidden layers), He_3")
    t4 = best_of(lambda: run_predict(four))
    print(f"  {t4:6.3f}  score all 299 patterns, four-hidden-layer erf, He_3  (budget 2 s)")
    print(f"  {299 / t4:6.0f}  patterns per second, four-hidden-layer network")
    sweeps(three)
    deep()


def deep_spec(depth: int, activation: str = "erf", degree: int = 3, scaling: str = "standard",
              width: str = "1") -> str:
    """A network of `depth` hidden layers, every width `d^width`."""
    names = [f"N{i}" for i in range(1, depth + 1)]
    scales = "".join(f"  {n}: {width}\n" for n in names)
    return (f"name: {depth} hidden layers, {activation}, He_{degree}, {scaling}\n"
            f"architecture: {{kind: fcn, activation: {activation}, widths: [{', '.join(names)}]}}\n"
            f"target: {{kind: hermite, degree: {degree}}}\nscaling: {scaling}\nscales:\n{scales}")


def peak(cmd: list[str]) -> tuple[float, float]:
    """Wall time and peak memory (MiB) of one run of `cmd`, in a fresh `time -v`-like way:
    the child's own maximum resident set, read from its rusage."""
    import os

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def spread(cmd: list[str], runs: int = 5) -> str:
    """`runs` whole-process runs of `cmd` (for a case close to its goal: this machine's
    speed drifts by 20-30% between runs, so one run says little): wall median, min and
    max, and the largest peak memory."""
    measured = [peak(cmd) for _ in range(runs)]
    walls = [w for w, _ in measured]
    return (f"{statistics.median(walls):7.2f} s {max(m for _, m in measured):6.0f} MiB  "
            f"(median of {runs}; {min(walls):.2f} - {max(walls):.2f} s)")


def deep() -> None:
    """Deep networks (issue: best-first search): whole-process `curse predict` (the five
    best patterns) by depth, and at five hidden layers the search against `--all`."""
    import tempfile

    from curse_cli.engine.api import Options, predict as run_predict
    from curse_cli.limits import DEFAULT_HOMOGENEOUS_DEPTH, DEFAULT_MAX_DEPTH as DEFAULT_SEARCH_DEPTH
    from curse_cli.spec.load import load_spec_text

    # ReLU up to five layers (its default limit): its kernels are pruned above their
    # input-scale floors with a complete test (docs/theory.md section 9.4).
    cases = [(4, "erf", 3, "standard"), (5, "erf", 3, "standard"), (6, "erf", 3, "standard"),
             (7, "erf", 3, "standard"), (8, "erf", 3, "standard"), (5, "erf", 5, "standard"),
             (5, "erf", 3, "mean-field"),
             (3, "relu", 3, "standard"), (4, "relu", 3, "standard"), (5, "relu", 3, "standard")]
    print("whole process, curse predict (the search, --top 5), every width d (seconds / peak MiB of either process)")
    with tempfile.TemporaryDirectory() as tmp:
        for depth, act, degree, scaling in cases:
            path = Path(tmp) / f"deep{depth}{act}{degree}{scaling}.yaml"
            path.write_text(deep_spec(depth, act, degree, scaling))
            # the default limits: six hidden layers, five of a ReLU-like activation
            limit = DEFAULT_HOMOGENEOUS_DEPTH if act == "relu" else DEFAULT_SEARCH_DEPTH
            deeper = ["--max-depth", str(depth)] if depth > limit else []
            cmd = [*CURSE, "predict", str(path), *deeper]
            label = f"{depth} hidden layers, {act}, He_{degree}, {scaling}"
            if scaling == "mean-field":   # close to its goal of 10 s
                print(f"  {spread(cmd)}  {label}")
                continue
            if depth == 8:   # the goal: 60 s (about half a minute a run, so three)
                print(f"  {spread(cmd, runs=3)}  {label}  (goal 60 s)")
                continue
            wall, mib = peak(cmd)
            print(f"  {wall:7.2f} s {mib:6.0f} MiB  {label}")
    for extra in ([], ["--set", "N=2"]):
        depth_cmd = ["depth", "specs/two_layer_erf_depth.yaml", *extra]
        wall, mib = peak([*CURSE, *depth_cmd])
        print(f"  {wall:7.2f} s {mib:6.0f} MiB  curse {' '.join(depth_cmd)}  (six searches, 1-6 hidden layers)")
    problem = load_spec_text(deep_spec(5), "deep5.yaml").problem
    start = time.perf_counter()
    searched = run_predict(problem, Options(workers=1), top=5)
    t_search = time.perf_counter() - start
    start = time.perf_counter()
    both = run_predict(problem, Options(workers=2), top=5)
    t_both = time.perf_counter() - start
    start = time.perf_counter()
    full = run_predict(problem, Options(max_patterns=5000))
    t_full = time.perf_counter() - start
    def named(prediction):
        return [(w.name, str(w.energy)) for w in prediction.winners]

    same = named(searched) == named(full) == named(both)
    print("in process, five hidden layers, erf, He_3, every width d (seconds)")
    print(f"  {t_search:6.2f}  the search, one process ({searched.bounded.scored} of "  # type: ignore[union-attr]  # a search reports what it bounded
          f"{full.total_patterns} patterns scored)")
    print(f"  {t_both:6.2f}  the search, two processes ({both.bounded.scored} scored)")  # type: ignore[union-attr]  # a search reports what it bounded
    print(f"  {t_full:6.2f}  --all, every pattern scored (two processes)")
    print(f"  winners and formulas identical (one process, two, --all): {same} ({len(full.winners)} tied winners)")
    if not same:
        raise SystemExit("the search and --all disagree")


SWEEP = ["sweep", "specs/three_layer_erf.yaml", "--x", "N1=0:4:201", "--y", "N2=0:4:201"]


def sweeps(three) -> None:
    """`curse sweep` over a 201 x 201 grid of (N1, N2), whole process, in each format;
    and in process, against one full `predict` per grid point."""
    from curse_cli.engine.api import predict as run_predict
    from curse_cli.sweeps.api import parse_axis, sweep

    repeat = 5
    cmds = [[*CURSE, *SWEEP], [*CURSE, *SWEEP, "--format", "json"], [*CURSE, *SWEEP, "--format", "csv"]]
    print(f"whole process, {repeat} interleaved runs each (seconds: wall median / wall min / CPU median)")
    for cmd, (walls, cpus) in zip(cmds, interleaved(cmds, repeat)):
        label = " ".join(["curse", *cmd[len(CURSE):]])
        times = f"{statistics.median(walls):6.3f} / {min(walls):6.3f} / {statistics.median(cpus):6.3f}"
        print(f"  {times}  {label}  (budget 5 s)")
    axes = (parse_axis("N1=0:4:201"), parse_axis("N2=0:4:201"))
    result = sweep(three, axes)
    t = best_of(lambda: sweep(three, axes))
    one = best_of(lambda: run_predict(three))
    print("in process (best of 3, seconds)")
    print(f"  {t:6.3f}  sweep 201 x 201 = {len(result.points)} points: {result.solves} solves, "
          f"{len(result.regions)} regions")
    print(f"  {one * len(result.points):6.0f}  estimated for one full predict per point ({one:.3f} s each)")
    four = ["sweep", "specs/four_layer_erf.yaml", "--x", "N1=0:3:51", "--y", "N2=0:3:51"]
    print("whole process, four hidden layers (299 patterns; each solve searches, then certifies)")
    print(f"  {spread([*CURSE, *four])}  curse {' '.join(four)}  (goal 10 s)")


if __name__ == "__main__":
    main()
