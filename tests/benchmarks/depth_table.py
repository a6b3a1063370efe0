"""`make depth-table`: [P*] and the winning patterns against the number of hidden layers.

Every width `N_l = d^w` (w = 1 and 2), erf, `He_3` target, standard scaling.  Each row
is one `predict` by the search for the single best pattern (every tie kept, two
processes as `curse predict` uses them), so the winners are exactly those full
enumeration would find.  Prints a Markdown table for docs/depth.md, with the time each
search took (in process) at each width.

    python tests/benchmarks/depth_table.py [MAX_DEPTH]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

from curse_cli.algebra.scales import format_fraction  # noqa: E402
from curse_cli.engine.api import Options, predict  # noqa: E402
from curse_cli.spec.load import load_spec_text  # noqa: E402
from bench import deep_spec  # noqa: E402


def winners_text(pred) -> str:
    """The winners, compactly: one name, or how many tie and the simplest of them."""
    names = [w.name for w in pred.winners]
    if len(names) == 1:
        return f"`{names[0]}`"
    simplest = min(pred.winners, key=lambda w: (w.order_key, w.name))
    return f"{len(names)} tie, e.g. `{simplest.name}`"


def main() -> None:
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    print("| hidden layers | [P*] at N = d | winners at N = d | [P*] at N = d^2 | winners at N = d^2 "
          "| time (s), N = d / d^2 |")
    print("|---|---|---|---|---|---|")
    for depth in range(1, top + 1):
        cells, spent = [], []
        for width in ("1", "2"):
            problem = load_spec_text(deep_spec(depth, width=width), f"depth{depth}.yaml").problem
            start = time.perf_counter()
            pred = predict(problem, Options(max_depth=max(depth, 6)), top=1)
            spent.append(f"{time.perf_counter() - start:.1f}")
            cells += [format_fraction(pred.p_star_exponent), winners_text(pred)]  # type: ignore[arg-type]  # every depth has a prediction
        print(f"| {depth} | " + " | ".join(cells) + f" | {' / '.join(spent)} |", flush=True)


if __name__ == "__main__":
    main()
