"""`make bench`: whole-process wall times and in-process throughput.

Not a test (pytest does not collect it): numbers depend on the machine, so they are
measured and printed, never asserted.  Paste the output into README.md's table.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).parent / "curse"
CURSE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "curse_cli.cli"]
FLOOR = [sys.executable, "-c", "import numpy, scipy.optimize, pydantic, yaml, rich, click"]


def wall(cmd: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    repeat = 9
    wall(FLOOR, 1)  # warm the file cache
    floor = wall(FLOOR, repeat)
    predict = wall([*CURSE, "predict", "specs/three_layer_erf.yaml"], repeat)
    rows = [
        ("imports floor: python -c 'import numpy, scipy.optimize, pydantic, yaml, rich, click'", floor),
        ("curse predict specs/three_layer_erf.yaml", predict),
    ]
    print(f"whole process, {repeat} runs each (median / min, seconds)")
    for label, t in rows:
        print(f"  {statistics.median(t):6.3f} / {min(t):6.3f}  {label}")
    ratio = statistics.median(predict) / statistics.median(floor)
    print(f"  ratio predict / floor (medians): {ratio:.2f}  (budget 1.25)")

    sys.path.insert(0, str(ROOT))
    from curse_cli.engine import predict as run_predict
    from curse_cli.spec import load_spec

    four = load_spec(str(ROOT / "specs" / "four_layer_erf.yaml")).problem
    three = load_spec(str(ROOT / "specs" / "three_layer_erf.yaml")).problem
    print("in process (best of 3, seconds)")
    t3 = best_of(lambda: run_predict(three))
    print(f"  {t3:6.3f}  score all 11 patterns, three-layer erf (2 hidden layers), He_3")
    t4 = best_of(lambda: run_predict(four))
    print(f"  {t4:6.3f}  score all 299 patterns, four-hidden-layer erf, He_3  (budget 2 s)")
    print(f"  {299 / t4:6.0f}  patterns per second, four-hidden-layer network")


if __name__ == "__main__":
    main()
